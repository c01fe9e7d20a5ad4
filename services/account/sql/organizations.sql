-- organizations.sql - organisations (orgs.c); disabling one revokes its sessions through an
-- "org:" row in authz.revocations.

-- name: acct_org_insert
-- $1 type: text, the organisation type (ss_org_type_name)
-- $2 code: text
-- $3 name: text
-- $4 name_kana: text
-- $5 prefecture_code: text, or NULL
INSERT INTO account.organizations AS o (type, code, name, name_kana, prefecture_code)
VALUES ($1, $2, $3, $4, $5)
RETURNING json_build_object('id', o.id, 'type', o.type, 'code', o.code, 'name', o.name, 'name_kana',
      o.name_kana, 'prefecture_code', o.prefecture_code, 'status', o.status, 'created_at',
      o.created_at);

-- name: acct_org_list
-- $1 org_id: uuid, the caller's organisation, or NULL for a national caller (all)
-- $2 type: text, the type filter, or NULL
-- $3 cursor_created_at: timestamptz, or NULL on the first page
-- $4 cursor_id: uuid, or NULL on the first page
-- $5 limit: int, page size + 1
SELECT json_build_object('id', o.id, 'type', o.type, 'code', o.code, 'name', o.name, 'name_kana',
      o.name_kana, 'prefecture_code', o.prefecture_code, 'status', o.status, 'created_at',
      o.created_at)
FROM account.organizations o
WHERE ($1::uuid IS NULL OR o.id = $1::uuid) AND ($2::text IS NULL OR o.type = $2)
   AND ($3::timestamptz IS NULL OR (o.created_at, o.id) > ($3::timestamptz, $4::uuid))
ORDER BY o.created_at, o.id
LIMIT $5::int;

-- name: acct_org_get
-- $1 id: uuid, the organisation
SELECT json_build_object('id', o.id, 'type', o.type, 'code', o.code, 'name', o.name, 'name_kana',
      o.name_kana, 'prefecture_code', o.prefecture_code, 'status', o.status, 'created_at',
      o.created_at)
FROM account.organizations o
WHERE o.id = $1::uuid;

-- name: acct_org_update
-- $1 id: uuid
-- $2 name: text
-- $3 name_kana: text
-- $4 status: text
UPDATE account.organizations o
SET name = coalesce($2, o.name), name_kana = coalesce($3, o.name_kana), status = coalesce($4,
      o.status), updated_at = now()
WHERE o.id = $1::uuid
RETURNING json_build_object('id', o.id, 'type', o.type, 'code', o.code, 'name', o.name, 'name_kana',
      o.name_kana, 'prefecture_code', o.prefecture_code, 'status', o.status, 'created_at',
      o.created_at);

-- name: acct_org_revoke
-- $1 id: text
INSERT INTO authz.revocations (sid, expires_at)
VALUES ('org:' || $1, now() + interval '1 hour')
ON CONFLICT (sid)
DO UPDATE
SET revoked_at = now(), expires_at = EXCLUDED.expires_at;
