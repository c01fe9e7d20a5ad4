-- portal.sql - portal clients of the vaccinee token exchange (portal.c, H-3-3).

-- name: tok_portal_insert
-- $1 org_id: uuid, the caller's organisation
-- $2 org_type: text
-- $3 org_code: text
-- $4 name: text
-- $5 secret_hash: text, or NULL for a private_key_jwt client
-- $6 created_by: uuid, the caller
-- $7 public_key_pem: text, or NULL
-- $8 subject_key_pem: text, the key that signs subject tokens
WITH c AS (INSERT INTO token.clients (kind, org_id, org_type, org_code, name, scopes, secret_hash,
        created_by, public_key_pem, subject_key_pem)
  VALUES ('portal', $1::uuid, $2, $3, $4, '{}', $5, $6::uuid, $7, $8)
  RETURNING *)
SELECT json_build_object('id', c.id, 'name', c.name, 'kind', c.kind, 'status', c.status,
      'organization_id', c.org_id, 'grant_types',
      json_build_array('urn:ietf:params:oauth:grant-type:token-exchange'),
      'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL THEN
      json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'last_used_at', c.last_used_at, 'use_count', c.use_count)
FROM c;

-- name: tok_portal_list
-- $1 org_id: uuid, the caller's organisation
SELECT json_build_object('id', c.id, 'name', c.name, 'kind', c.kind, 'status', c.status,
      'organization_id', c.org_id, 'grant_types',
      json_build_array('urn:ietf:params:oauth:grant-type:token-exchange'),
      'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL THEN
      json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'last_used_at', c.last_used_at, 'use_count', c.use_count)
FROM token.clients c
WHERE c.org_id = $1::uuid AND c.kind = 'portal'
ORDER BY c.created_at, c.id
LIMIT 1000;

-- name: tok_portal_load_own
-- $1 id: uuid, the portal client
-- $2 org_id: uuid, the caller's organisation
SELECT json_build_object('id', c.id, 'name', c.name, 'kind', c.kind, 'status', c.status,
      'organization_id', c.org_id, 'grant_types',
      json_build_array('urn:ietf:params:oauth:grant-type:token-exchange'),
      'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL THEN
      json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'last_used_at', c.last_used_at, 'use_count', c.use_count), c.gen
FROM token.clients c
WHERE c.id = $1::uuid AND c.org_id = $2::uuid AND c.kind = 'portal'
FOR UPDATE;

-- name: tok_portal_update
-- $1 id: uuid, the portal client
-- $2 name: text, or NULL (unchanged)
-- $3 status: text, or NULL
-- $4 new_generation: boolean, true when the change must cut issued tokens
WITH c AS (UPDATE token.clients
  SET name = coalesce($2, name), status = coalesce($3, status), gen = CASE WHEN $4::boolean THEN
      gen_random_uuid() ELSE gen END, updated_at = now()
  WHERE id = $1::uuid
  RETURNING *)
SELECT json_build_object('id', c.id, 'name', c.name, 'kind', c.kind, 'status', c.status,
      'organization_id', c.org_id, 'grant_types',
      json_build_array('urn:ietf:params:oauth:grant-type:token-exchange'),
      'token_endpoint_auth_methods', CASE WHEN c.public_key_pem IS NULL THEN
      json_build_array('client_secret_basic', 'client_secret_post') ELSE
      json_build_array('private_key_jwt') END, 'created_at', c.created_at, 'updated_at',
      c.updated_at, 'last_used_at', c.last_used_at, 'use_count', c.use_count)
FROM c;
