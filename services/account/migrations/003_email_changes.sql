-- 003_email_changes.sql - a change of a user's e-mail address waits here until the new address
-- confirms it with the token mailed to it (me_email.c). Only the token's SHA-256 is kept.
CREATE TABLE account.email_changes (
    token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    user_id    uuid NOT NULL REFERENCES account.users (id) ON DELETE CASCADE,
    new_email  text NOT NULL CHECK (new_email ~ '^[^@\s]+@[^@\s]+$' AND length(new_email) <= 254),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_changes_pending ON account.email_changes (user_id) WHERE used_at IS NULL;
