-- 002_private_key_jwt.sql - clients that hold a key instead of a secret (RFC 7523
-- private_key_jwt, ES256): the public key, and the assertion ids seen (no replay).
ALTER TABLE token.clients ALTER COLUMN secret_hash DROP NOT NULL;
ALTER TABLE token.clients ADD COLUMN public_key_pem text CHECK (char_length(public_key_pem) <= 4096);
ALTER TABLE token.clients ADD CONSTRAINT clients_one_credential
    CHECK ((secret_hash IS NULL) <> (public_key_pem IS NULL));

CREATE TABLE token.assertion_jtis (
    client_id  uuid NOT NULL REFERENCES token.clients (id) ON DELETE CASCADE,
    jti        text NOT NULL CHECK (char_length(jti) BETWEEN 1 AND 200),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX assertion_jtis_expires ON token.assertion_jtis (expires_at);
