-- 006_active_organizations.sql - whether an organisation is active, in the shared authz schema
-- (docs/architecture.md §8), as 005 does for live sessions: the token service issues a token only
-- while the client's organisation is active, and now reads that here instead of account's own
-- table (issue 16 §2: no service reads another's tables). A view with the account service's
-- rights: a reader sees the ids of active organisations and nothing else.
CREATE VIEW authz.active_organizations AS
    SELECT o.id AS org_id
    FROM account.organizations o
    WHERE o.status = 'active';
GRANT SELECT ON authz.active_organizations TO sesshu_services;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sesshu_token') THEN
        REVOKE SELECT (id, status) ON account.organizations FROM sesshu_token;
        REVOKE USAGE ON SCHEMA account FROM sesshu_token;
    END IF;
END
$$;
