-- 005_live_sessions.sql - the sessions every service may check a user token against (jwt.h):
-- a token signed by the account service's key is a session only if its sid names a live session
-- of that user, organisation and role. A view in the shared authz schema: services read it with
-- the account service's rights, and see no more than these five columns of live sessions.
CREATE VIEW authz.live_sessions AS
    SELECT s.id AS sid, s.user_id, u.org_id, u.role, s.expires_at
    FROM account.sessions s
    JOIN account.users u ON u.id = s.user_id
    WHERE s.revoked_at IS NULL;
GRANT SELECT ON authz.live_sessions TO sesshu_services;
