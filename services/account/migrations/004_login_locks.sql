-- 004_login_locks.sql - failed logins are counted per account AND source address (as Keycloak's
-- users ask for): a stranger's guesses lock that stranger out of the account, not its owner, so
-- nobody can lock chuokai-admin out from afar. A ceiling over all sources together
-- (SESSHU_LOGIN_MAX_FAILURES_ALL, users.failed_count) still locks the account itself against
-- a guess spread over many addresses. auth_login.c keeps both.
CREATE TABLE account.login_locks (
    user_id      uuid NOT NULL REFERENCES account.users (id) ON DELETE CASCADE,
    source       text NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
    failed_count int NOT NULL DEFAULT 0,
    locked_until timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, source)
);
CREATE INDEX login_locks_active ON account.login_locks (user_id) WHERE locked_until IS NOT NULL;
