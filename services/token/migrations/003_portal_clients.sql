-- 003_portal_clients.sql - portal clients (H-3-3): the Mynaportal-style front ends that exchange
-- a subject token (a JWT they sign, asserting a person verified by the マイナンバーカード) for a
-- vaccinee access token (RFC 8693). Registered by the admins of the 国保中央会 and the operator,
-- they live in token.clients beside the API clients (kind 'portal'), so that client
-- authentication (secret or private_key_jwt), generations and revocation are the same code.
-- A portal client holds no scope and must register the key that signs its subject tokens.
ALTER TABLE token.clients ADD COLUMN kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'portal'));
ALTER TABLE token.clients ADD COLUMN subject_key_pem text CHECK (char_length(subject_key_pem) <= 4096);
ALTER TABLE token.clients DROP CONSTRAINT clients_org_type_check;
ALTER TABLE token.clients DROP CONSTRAINT clients_scopes_check;
ALTER TABLE token.clients ADD CONSTRAINT clients_kind_shape CHECK (
    (kind = 'api' AND org_type IN ('municipality', 'non_insurance_medical_institution')
        AND cardinality(scopes) BETWEEN 1 AND 7 AND subject_key_pem IS NULL)
    OR (kind = 'portal' AND org_type IN ('chuokai', 'operator')
        AND cardinality(scopes) = 0 AND subject_key_pem IS NOT NULL));
CREATE INDEX clients_portal ON token.clients (org_id, created_at, id) WHERE kind = 'portal';
