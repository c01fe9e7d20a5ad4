-- notices.sql - the author side of notices (notices.c). Every edit writes the new version into
-- notice.notice_versions in the same statement; the audience lists arrive as JSON arrays.

-- name: ntc_notice_insert
-- $1 who.org_id: uuid
-- $2 ss_org_type_name(r->who.org_type): text
-- $3 who.sub: text
-- $4 title: text
-- $5 body: text
-- $6 importance: text
-- $7 publish_from: timestamptz
-- $8 publish_until: timestamptz
-- $9 a.types: jsonb
-- $10 a.prefs: jsonb
-- $11 a.orgs: jsonb
-- $12 a.roles: jsonb
WITH n AS (INSERT INTO notice.notices (author_org_id, author_org_type, author_user_id, title, body,
        importance, publish_from, publish_until, aud_org_types, aud_prefs, aud_orgs, aud_roles,
        updated_by)
  VALUES ($1::uuid, $2, $3, $4, $5, coalesce($6, 'info'), coalesce($7::timestamptz, now()),
        $8::timestamptz, ARRAY(SELECT jsonb_array_elements_text($9::jsonb)), ARRAY(SELECT
          jsonb_array_elements_text($10::jsonb)), ARRAY(SELECT
          jsonb_array_elements_text($11::jsonb)::uuid), ARRAY(SELECT
          jsonb_array_elements_text($12::jsonb)), $3)
  RETURNING *), v AS (INSERT INTO notice.notice_versions (notice_id, version, title, body,
        importance, publish_from, publish_until, aud_org_types, aud_prefs, aud_orgs, aud_roles,
        edited_by, edited_at)
  SELECT id, version, title, body, importance, publish_from, publish_until, aud_org_types,
      aud_prefs, aud_orgs, aud_roles, updated_by, updated_at
  FROM n)
SELECT json_build_object('id', n.id, 'title', n.title, 'body', n.body, 'importance', n.importance,
      'publish_from', n.publish_from, 'publish_until', n.publish_until, 'audience',
      json_build_object('org_types', n.aud_org_types, 'prefectures', n.aud_prefs, 'organizations',
        n.aud_orgs, 'roles', n.aud_roles), 'author_org_id', n.author_org_id, 'author_org_type',
      n.author_org_type, 'version', n.version, 'status', CASE WHEN n.withdrawn_at IS NOT NULL THEN
      'withdrawn' WHEN n.publish_from > now() THEN 'scheduled' WHEN n.publish_until IS NOT NULL
     AND n.publish_until <= now() THEN 'expired' ELSE 'published' END, 'withdrawn_at',
      n.withdrawn_at, 'created_at', n.created_at, 'updated_at', n.updated_at, 'updated_by',
      n.updated_by, 'read_count', (SELECT count(*)
    FROM notice.reads rd
    WHERE rd.notice_id = n.id))::text
FROM n;

-- name: ntc_notice_of_org
-- $1 id: uuid
-- $2 who.org_id: uuid
SELECT json_build_object('id', n.id, 'title', n.title, 'body', n.body, 'importance', n.importance,
      'publish_from', n.publish_from, 'publish_until', n.publish_until, 'audience',
      json_build_object('org_types', n.aud_org_types, 'prefectures', n.aud_prefs, 'organizations',
        n.aud_orgs, 'roles', n.aud_roles), 'author_org_id', n.author_org_id, 'author_org_type',
      n.author_org_type, 'version', n.version, 'status', CASE WHEN n.withdrawn_at IS NOT NULL THEN
      'withdrawn' WHEN n.publish_from > now() THEN 'scheduled' WHEN n.publish_until IS NOT NULL
     AND n.publish_until <= now() THEN 'expired' ELSE 'published' END, 'withdrawn_at',
      n.withdrawn_at, 'created_at', n.created_at, 'updated_at', n.updated_at, 'updated_by',
      n.updated_by, 'read_count', (SELECT count(*)
    FROM notice.reads rd
    WHERE rd.notice_id = n.id))::text
FROM notice.notices n
WHERE n.id = $1::uuid AND n.author_org_id = $2::uuid;

-- name: ntc_notice_update
-- $1 id: uuid
-- $2 who.org_id: uuid
-- $3 who.sub: text
-- $4 title: text
-- $5 body: text
-- $6 importance: text
-- $7 publish_from: timestamptz
-- $8 json_object_get(r->body, "publish_until") != NULL ? "true" : "false": boolean
-- $9 publish_until: timestamptz
-- $10 audience_member(r->body, &a, 0): jsonb
-- $11 audience_member(r->body, &a, 1): jsonb
-- $12 audience_member(r->body, &a, 2): jsonb
-- $13 audience_member(r->body, &a, 3): jsonb
WITH n AS (UPDATE notice.notices n
  SET title = coalesce($4, n.title), body = coalesce($5, n.body), importance = coalesce($6,
        n.importance), publish_from = coalesce($7::timestamptz, n.publish_from), publish_until =
      CASE WHEN $8::boolean THEN $9::timestamptz ELSE n.publish_until END, aud_org_types = CASE WHEN
      $10::jsonb IS NULL THEN n.aud_org_types ELSE ARRAY(SELECT
        jsonb_array_elements_text($10::jsonb)) END, aud_prefs = CASE WHEN $11::jsonb IS NULL THEN
      n.aud_prefs ELSE ARRAY(SELECT jsonb_array_elements_text($11::jsonb)) END, aud_orgs = CASE WHEN
      $12::jsonb IS NULL THEN n.aud_orgs ELSE ARRAY(SELECT
        jsonb_array_elements_text($12::jsonb)::uuid) END, aud_roles = CASE WHEN $13::jsonb IS NULL
      THEN n.aud_roles ELSE ARRAY(SELECT jsonb_array_elements_text($13::jsonb)) END, version =
      n.version + 1, updated_at = now(), updated_by = $3
  WHERE n.id = $1::uuid AND n.author_org_id = $2::uuid AND n.withdrawn_at IS NULL
  RETURNING n.*), v AS (INSERT INTO notice.notice_versions (notice_id, version, title, body,
        importance, publish_from, publish_until, aud_org_types, aud_prefs, aud_orgs, aud_roles,
        edited_by, edited_at)
  SELECT id, version, title, body, importance, publish_from, publish_until, aud_org_types,
      aud_prefs, aud_orgs, aud_roles, updated_by, updated_at
  FROM n)
SELECT json_build_object('id', n.id, 'title', n.title, 'body', n.body, 'importance', n.importance,
      'publish_from', n.publish_from, 'publish_until', n.publish_until, 'audience',
      json_build_object('org_types', n.aud_org_types, 'prefectures', n.aud_prefs, 'organizations',
        n.aud_orgs, 'roles', n.aud_roles), 'author_org_id', n.author_org_id, 'author_org_type',
      n.author_org_type, 'version', n.version, 'status', CASE WHEN n.withdrawn_at IS NOT NULL THEN
      'withdrawn' WHEN n.publish_from > now() THEN 'scheduled' WHEN n.publish_until IS NOT NULL
     AND n.publish_until <= now() THEN 'expired' ELSE 'published' END, 'withdrawn_at',
      n.withdrawn_at, 'created_at', n.created_at, 'updated_at', n.updated_at, 'updated_by',
      n.updated_by, 'read_count', (SELECT count(*)
    FROM notice.reads rd
    WHERE rd.notice_id = n.id))::text
FROM n;

-- name: ntc_notice_withdraw
-- $1 id: uuid
-- $2 who.org_id: uuid
-- $3 who.sub: text
UPDATE notice.notices n
SET withdrawn_at = now(), updated_at = now(), updated_by = $3
WHERE n.id = $1::uuid AND n.author_org_id = $2::uuid AND n.withdrawn_at IS NULL
RETURNING json_build_object('id', n.id, 'title', n.title, 'body', n.body, 'importance',
      n.importance, 'publish_from', n.publish_from, 'publish_until', n.publish_until, 'audience',
      json_build_object('org_types', n.aud_org_types, 'prefectures', n.aud_prefs, 'organizations',
        n.aud_orgs, 'roles', n.aud_roles), 'author_org_id', n.author_org_id, 'author_org_type',
      n.author_org_type, 'version', n.version, 'status', CASE WHEN n.withdrawn_at IS NOT NULL THEN
      'withdrawn' WHEN n.publish_from > now() THEN 'scheduled' WHEN n.publish_until IS NOT NULL
     AND n.publish_until <= now() THEN 'expired' ELSE 'published' END, 'withdrawn_at',
      n.withdrawn_at, 'created_at', n.created_at, 'updated_at', n.updated_at, 'updated_by',
      n.updated_by, 'read_count', (SELECT count(*)
    FROM notice.reads rd
    WHERE rd.notice_id = n.id))::text;

-- name: ntc_notices_authored
-- $1 who.org_id: uuid
-- $2 keys[0][0] ? keys[0] : NULL: timestamptz
-- $3 keys[1][0] ? keys[1] : NULL: uuid
-- $4 lim: int
SELECT json_build_object('id', n.id, 'title', n.title, 'body', n.body, 'importance', n.importance,
      'publish_from', n.publish_from, 'publish_until', n.publish_until, 'audience',
      json_build_object('org_types', n.aud_org_types, 'prefectures', n.aud_prefs, 'organizations',
        n.aud_orgs, 'roles', n.aud_roles), 'author_org_id', n.author_org_id, 'author_org_type',
      n.author_org_type, 'version', n.version, 'status', CASE WHEN n.withdrawn_at IS NOT NULL THEN
      'withdrawn' WHEN n.publish_from > now() THEN 'scheduled' WHEN n.publish_until IS NOT NULL
     AND n.publish_until <= now() THEN 'expired' ELSE 'published' END, 'withdrawn_at',
      n.withdrawn_at, 'created_at', n.created_at, 'updated_at', n.updated_at, 'updated_by',
      n.updated_by, 'read_count', (SELECT count(*)
    FROM notice.reads rd
    WHERE rd.notice_id = n.id))::text, n.created_at::text, n.id::text
FROM notice.notices n
WHERE n.author_org_id = $1::uuid AND ($2::timestamptz IS NULL OR (n.created_at, n.id) <
      ($2::timestamptz, $3::uuid))
ORDER BY n.created_at DESC, n.id DESC
LIMIT $4::int;

-- name: ntc_notice_versions
-- $1 id: uuid
-- $2 who.org_id: uuid
SELECT json_build_object('version', v.version, 'title', v.title, 'body', v.body, 'importance',
      v.importance, 'publish_from', v.publish_from, 'publish_until', v.publish_until, 'audience',
      json_build_object('org_types', v.aud_org_types, 'prefectures', v.aud_prefs, 'organizations',
        v.aud_orgs, 'roles', v.aud_roles), 'edited_by', v.edited_by, 'edited_at', v.edited_at)::text
FROM notice.notice_versions v
JOIN notice.notices n ON n.id = v.notice_id
WHERE n.id = $1::uuid AND n.author_org_id = $2::uuid
ORDER BY v.version DESC;
