-- 002_token_grants.sql - the token service (H-2) writes revocations of client tokens into
-- authz.revocations (owned here) and reads whether an organisation is active when it issues
-- a token. The role exists only where the token service is deployed.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sesshu_token') THEN
        GRANT INSERT, SELECT ON authz.revocations TO sesshu_token;
        GRANT USAGE ON SCHEMA account TO sesshu_token;
        GRANT SELECT (id, status) ON account.organizations TO sesshu_token;
    END IF;
END
$$;
