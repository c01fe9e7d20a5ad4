-- 001_accounts.sql - organisations, users, credentials, sessions and the mail outbox (schema
-- account), and the list of revoked session ids every service polls (schema authz, jwt.h).
-- Integrity lives here: unique login IDs (case-insensitive), unique codes per organisation type,
-- enumerations as CHECKs, tokens stored only as SHA-256 hex.

CREATE TABLE account.organizations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type            text NOT NULL CHECK (type IN ('chuokai', 'kokuhoren', 'municipality',
                        'medical_institution', 'non_insurance_medical_institution', 'mhlw', 'operator')),
    code            text NOT NULL CHECK (code ~ '^[A-Z0-9-]{1,16}$'),
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    name_kana       text NOT NULL CHECK (char_length(name_kana) BETWEEN 1 AND 200),
    prefecture_code text CHECK (prefecture_code ~ '^(0[1-9]|[1-3][0-9]|4[0-7])$'),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_type_code_key UNIQUE (type, code)
);
CREATE INDEX organizations_page ON account.organizations (created_at, id);

CREATE TABLE account.users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    login_id       text NOT NULL CHECK (login_id ~ '^[A-Za-z0-9._@-]{3,64}$'),
    org_id         uuid NOT NULL REFERENCES account.organizations (id),
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    name_kana      text NOT NULL CHECK (char_length(name_kana) BETWEEN 1 AND 100),
    email          text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'),
    role           text NOT NULL CHECK (role IN ('admin', 'user')),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'disabled')),
    pw_hash        text NOT NULL CHECK (pw_hash LIKE '$argon2id$%'),
    pw_temporary   boolean NOT NULL,
    pw_set_at      timestamptz NOT NULL DEFAULT now(),
    pw_expires_at  timestamptz,
    failed_count   integer NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
    locked_until   timestamptz,
    last_login_at  timestamptz,
    warned_at      timestamptz,      -- inactivity warning sent (H-1-8); cleared by a login
    reactivated_at timestamptz,      -- re-enabled by an admin: restarts the inactivity clock
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT pw_temporary OR pw_expires_at IS NOT NULL)
);
CREATE UNIQUE INDEX users_login_id_key ON account.users (lower(login_id));
CREATE INDEX users_org_page ON account.users (org_id, created_at, id);
CREATE INDEX users_email ON account.users (lower(email));
CREATE INDEX users_active ON account.users (status) WHERE status = 'active';

-- User-chosen passwords, newest last (policy: not one of the last N).
CREATE TABLE account.password_history (
    id      bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES account.users (id) ON DELETE CASCADE,
    pw_hash text NOT NULL,
    set_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_history_user ON account.password_history (user_id, id DESC);

-- A session is one login; its id is the JWT `sid` claim.
CREATE TABLE account.sessions (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES account.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user_live ON account.sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE account.refresh_tokens (
    token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    session_id uuid NOT NULL REFERENCES account.sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON account.refresh_tokens (session_id);

CREATE TABLE account.reset_tokens (
    token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    user_id    uuid NOT NULL REFERENCES account.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX reset_tokens_user ON account.reset_tokens (user_id, created_at);

-- Mail is queued in the same transaction as the change that causes it and sent after commit by
-- the sender thread (mailout.c); the body is wiped once sent, since it may hold a reset token.
CREATE TABLE account.outbox (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL,
    to_addr    text NOT NULL,
    subject    text NOT NULL,
    body       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    next_at    timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    attempts   integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX outbox_due ON account.outbox (next_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_recent ON account.outbox (kind, lower(to_addr), created_at);

-- Revoked sessions: read by every service's revocation poller (libs/common revoke.c).
CREATE TABLE authz.revocations (
    sid        text PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX revocations_revoked_at ON authz.revocations (revoked_at);
GRANT USAGE ON SCHEMA authz TO sesshu_services;
GRANT SELECT ON authz.revocations TO sesshu_services;
