-- assertions.sql - private_key_jwt client assertions (assertion.c): the client's public key, and
-- each assertion's jti spent once (RFC 7523 §3).

-- name: tok_assertion_client_key
-- $1 client_id: uuid
-- $2 address: inet, the caller's address (allowed_addresses)
SELECT c.public_key_pem
FROM token.clients c
WHERE c.id = $1::uuid AND c.status = 'active' AND (cardinality(c.allowed_addresses) = 0 OR $2::inet
      <<= ANY (c.allowed_addresses)) AND EXISTS (SELECT 1
  FROM authz.active_organizations o
  WHERE o.org_id = c.org_id);

-- name: tok_assertion_jti_spend
-- $1 client_id: uuid
-- $2 jti: text, of the client assertion
-- $3 exp: bigint, its expiry (epoch seconds)
WITH j AS (INSERT INTO token.assertion_jtis (client_id, jti, expires_at)
  VALUES ($1::uuid, $2, to_timestamp($3::bigint) + interval '1 minute')
  RETURNING client_id), d AS (DELETE
  FROM token.assertion_jtis
  WHERE expires_at < now() - interval '1 minute')
UPDATE token.clients c
SET last_used_at = now(), use_count = use_count + 1
FROM j
WHERE c.id = j.client_id
RETURNING c.org_id, c.org_type, c.org_code, coalesce(c.muni_code, ''), coalesce(c.pref_code, ''),
    c.gen, array_to_string(c.scopes, ' '), c.kind;
