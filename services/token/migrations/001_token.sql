-- 001_token.sql - API clients of external systems (H-2). The schema `token` is owned by
-- sesshu_token (db/roles.sql). Revocations go to authz.revocations (owned by the account
-- service, which grants sesshu_token INSERT/SELECT in its migration 002_token_grants.sql).
CREATE TABLE token.clients (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id               uuid NOT NULL,
    org_type             text NOT NULL CHECK (org_type IN ('municipality', 'non_insurance_medical_institution')),
    org_code             text NOT NULL DEFAULT '',
    muni_code            text,
    pref_code            text,
    name                 text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    scopes               text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 7),
    allowed_addresses    cidr[] NOT NULL DEFAULT '{}' CHECK (cardinality(allowed_addresses) <= 32),
    -- SHA-256 hex of 32 random bytes: a fast hash is enough for a high-entropy secret.
    secret_hash          text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    prev_secret_hash     text CHECK (prev_secret_hash ~ '^[0-9a-f]{64}$'),
    prev_secret_expires_at timestamptz,
    -- Every token carries the generation; revoking it (authz.revocations) refuses them all.
    gen                  uuid NOT NULL DEFAULT gen_random_uuid(),
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_by           uuid NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    secret_rotated_at    timestamptz,
    last_used_at         timestamptz,
    use_count            bigint NOT NULL DEFAULT 0 CHECK (use_count >= 0),
    UNIQUE (org_id, name)
);
CREATE INDEX clients_org ON token.clients (org_id, created_at, id);
