-- clients.sql - API clients of an organisation (clients.c; the delete also serves portal.c).
-- Revoking a client generation writes authz.revocations, which every service polls.

-- name: tok_revocation_insert
-- $1 sid: text, the revoked client generation
-- $2 ttl_s: int, as long as a token of it can live
INSERT INTO authz.revocations (sid, expires_at)
VALUES ($1, now() + make_interval(secs => $2::int))
ON CONFLICT (sid) DO NOTHING;

-- name: tok_client_insert
-- $1 org_id: uuid, the caller's organisation
-- $2 org_type: text
-- $3 org_code: text
-- $4 muni_code: text, or NULL
-- $5 pref_code: text, or NULL
-- $6 name: text
-- $7 scopes: text[]
-- $8 allowed_addresses: cidr[]
-- $9 secret_hash: text, SHA-256 hex, or NULL for a private_key_jwt client
-- $10 created_by: uuid, the caller
-- $11 public_key_pem: text, or NULL
WITH c AS (INSERT INTO token.clients (org_id, org_type, org_code, muni_code, pref_code, name,
        scopes, allowed_addresses, secret_hash, created_by, public_key_pem)
  VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::text[], $8::cidr[], $9, $10::uuid, $11)
  RETURNING *)
SELECT json_build_object('id', c.id, 'name', c.name, 'scopes', to_json(c.scopes),
      'allowed_addresses', to_json(c.allowed_addresses::text[]), 'status', c.status,
      'organization_id', c.org_id, 'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL
      THEN json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'secret_rotated_at', c.secret_rotated_at, 'previous_secret_expires_at', CASE
      WHEN c.prev_secret_expires_at > now() THEN c.prev_secret_expires_at END, 'last_used_at',
      c.last_used_at, 'use_count', c.use_count)
FROM c;

-- name: tok_client_list
-- $1 org_id: uuid, the caller's organisation
SELECT json_build_object('id', c.id, 'name', c.name, 'scopes', to_json(c.scopes),
      'allowed_addresses', to_json(c.allowed_addresses::text[]), 'status', c.status,
      'organization_id', c.org_id, 'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL
      THEN json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'secret_rotated_at', c.secret_rotated_at, 'previous_secret_expires_at', CASE
      WHEN c.prev_secret_expires_at > now() THEN c.prev_secret_expires_at END, 'last_used_at',
      c.last_used_at, 'use_count', c.use_count)
FROM token.clients c
WHERE c.org_id = $1::uuid
ORDER BY c.created_at, c.id
LIMIT 1000;

-- name: tok_client_load_own
-- $1 id: uuid, the client
-- $2 org_id: uuid, the caller's organisation
SELECT json_build_object('id', c.id, 'name', c.name, 'scopes', to_json(c.scopes),
      'allowed_addresses', to_json(c.allowed_addresses::text[]), 'status', c.status,
      'organization_id', c.org_id, 'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL
      THEN json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'secret_rotated_at', c.secret_rotated_at, 'previous_secret_expires_at', CASE
      WHEN c.prev_secret_expires_at > now() THEN c.prev_secret_expires_at END, 'last_used_at',
      c.last_used_at, 'use_count', c.use_count), c.gen
FROM token.clients c
WHERE c.id = $1::uuid AND c.org_id = $2::uuid
FOR UPDATE;

-- name: tok_client_delete
-- $1 id: uuid, the client (an API or a portal client)
DELETE FROM token.clients
WHERE id = $1::uuid;

-- name: tok_client_rotate_secret
-- $1 id: uuid, the client
-- $2 secret_hash: text, the new secret's SHA-256 hex
-- $3 grace_s: int, how long the previous secret still works
WITH c AS (UPDATE token.clients
  SET prev_secret_hash = secret_hash, prev_secret_expires_at = now() + make_interval(secs =>
        $3::int), secret_hash = $2, secret_rotated_at = now(), updated_at = now()
  WHERE id = $1::uuid AND public_key_pem IS NULL
  RETURNING *)
SELECT json_build_object('id', c.id, 'name', c.name, 'scopes', to_json(c.scopes),
      'allowed_addresses', to_json(c.allowed_addresses::text[]), 'status', c.status,
      'organization_id', c.org_id, 'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL
      THEN json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'secret_rotated_at', c.secret_rotated_at, 'previous_secret_expires_at', CASE
      WHEN c.prev_secret_expires_at > now() THEN c.prev_secret_expires_at END, 'last_used_at',
      c.last_used_at, 'use_count', c.use_count)
FROM c;

-- name: tok_client_update
-- $1 id: uuid, the client
-- $2 name: text, or NULL (unchanged)
-- $3 scopes: text[], or NULL
-- $4 allowed_addresses: cidr[], or NULL
-- $5 status: text, or NULL
-- $6 new_generation: boolean, true when the change must cut issued tokens
WITH c AS (UPDATE token.clients
  SET name = coalesce($2, name), scopes = coalesce($3::text[], scopes), allowed_addresses =
      coalesce($4::cidr[], allowed_addresses), status = coalesce($5, status), gen = CASE WHEN
      $6::boolean THEN gen_random_uuid() ELSE gen END, updated_at = now()
  WHERE id = $1::uuid
  RETURNING *)
SELECT json_build_object('id', c.id, 'name', c.name, 'scopes', to_json(c.scopes),
      'allowed_addresses', to_json(c.allowed_addresses::text[]), 'status', c.status,
      'organization_id', c.org_id, 'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL
      THEN json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'secret_rotated_at', c.secret_rotated_at, 'previous_secret_expires_at', CASE
      WHEN c.prev_secret_expires_at > now() THEN c.prev_secret_expires_at END, 'last_used_at',
      c.last_used_at, 'use_count', c.use_count)
FROM c;
