-- oauth.sql - the token endpoint (form.c, oauth.c): a client by id, address and secret, only
-- while its organisation is active, and token revocation (RFC 7009).

-- name: tok_oauth_client_load
-- $1 client_id: uuid
-- $2 address: inet, the caller's address (allowed_addresses)
-- $3 secret_hash: text, SHA-256 hex of the presented client secret (current or previous)
SELECT c.org_id, c.org_type, c.org_code, coalesce(c.muni_code, ''), coalesce(c.pref_code, ''),
    c.gen, array_to_string(c.scopes, ' '), c.kind,
    cardinality(c.allowed_addresses) = 0 AND c.secret_hash = $3 -- may be kept (cache.c)
FROM token.clients c
WHERE c.id = $1::uuid AND c.status = 'active' AND (cardinality(c.allowed_addresses) = 0 OR $2::inet
      <<= ANY (c.allowed_addresses)) AND EXISTS (SELECT 1
  FROM authz.active_organizations o
  WHERE o.org_id = c.org_id) AND (c.secret_hash = $3 OR (c.prev_secret_hash = $3
       AND c.prev_secret_expires_at > now()));

-- name: tok_oauth_revocation_insert
-- $1 sid: text, the token's jti
-- $2 exp: bigint, its expiry (epoch seconds)
INSERT INTO authz.revocations (sid, expires_at)
VALUES ($1, to_timestamp($2::bigint) + interval '1 minute')
ON CONFLICT (sid) DO NOTHING;
