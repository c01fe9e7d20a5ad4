-- users.sql - users of an organisation (users.c).

-- name: acct_user_insert
-- $1 user_id: text
-- $2 org_id: uuid
-- $3 name: text
-- $4 name_kana: text
-- $5 email: text
-- $6 role: text
-- $7 pw_hash: text
-- $8 temp_pw_ttl_h: int, from the configuration
INSERT INTO account.users AS u (login_id, org_id, name, name_kana, email, role, pw_hash,
      pw_temporary, pw_expires_at)
VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, true, now() + make_interval(hours => $8::int))
RETURNING json_build_object('id', u.id, 'user_id', u.login_id, 'organization_id', u.org_id, 'name',
      u.name, 'name_kana', u.name_kana, 'email', u.email, 'role', u.role, 'status', u.status,
      'password_change_required', u.pw_temporary, 'password_expires_at', u.pw_expires_at,
      'last_login_at', u.last_login_at, 'locked_until', CASE WHEN u.locked_until > now() THEN
      u.locked_until ELSE (SELECT max(l.locked_until)
    FROM account.login_locks l
    WHERE l.user_id = u.id AND l.locked_until > now()) END, 'created_at', u.created_at,
      'updated_at', u.updated_at);

-- name: acct_user_org_role
-- $1 id: uuid
SELECT org_id, role
FROM account.users
WHERE id = $1::uuid;

-- name: acct_user_get
-- $1 id: uuid
SELECT json_build_object('id', u.id, 'user_id', u.login_id, 'organization_id', u.org_id, 'name',
      u.name, 'name_kana', u.name_kana, 'email', u.email, 'role', u.role, 'status', u.status,
      'password_change_required', u.pw_temporary, 'password_expires_at', u.pw_expires_at,
      'last_login_at', u.last_login_at, 'locked_until', CASE WHEN u.locked_until > now() THEN
      u.locked_until ELSE (SELECT max(l.locked_until)
    FROM account.login_locks l
    WHERE l.user_id = u.id AND l.locked_until > now()) END, 'created_at', u.created_at,
      'updated_at', u.updated_at)
FROM account.users u
WHERE u.id = $1::uuid;

-- name: acct_user_list
-- $1 org_id: uuid
-- $2 status: text, filter or NULL
-- $3 role: text, filter or NULL
-- $4 cursor_created_at: timestamptz, or NULL on the first page
-- $5 cursor_id: uuid, or NULL on the first page
-- $6 limit: int, page size + 1
SELECT json_build_object('id', u.id, 'user_id', u.login_id, 'organization_id', u.org_id, 'name',
      u.name, 'name_kana', u.name_kana, 'email', u.email, 'role', u.role, 'status', u.status,
      'password_change_required', u.pw_temporary, 'password_expires_at', u.pw_expires_at,
      'last_login_at', u.last_login_at, 'locked_until', CASE WHEN u.locked_until > now() THEN
      u.locked_until ELSE (SELECT max(l.locked_until)
    FROM account.login_locks l
    WHERE l.user_id = u.id AND l.locked_until > now()) END, 'created_at', u.created_at,
      'updated_at', u.updated_at)
FROM account.users u
WHERE u.org_id = $1::uuid AND ($2::text IS NULL OR u.status = $2) AND ($3::text IS NULL OR u.role =
      $3) AND ($4::timestamptz IS NULL OR (u.created_at, u.id) > ($4::timestamptz, $5::uuid))
ORDER BY u.created_at, u.id
LIMIT $6::int;

-- name: acct_user_unlock
-- $1 id: uuid
DELETE FROM account.login_locks
WHERE user_id = $1::uuid;

-- name: acct_user_update
-- $1 id: uuid
-- $2 name: text
-- $3 name_kana: text
-- $4 email: text
-- $5 role: text
-- $6 status: text
UPDATE account.users u
SET name = coalesce($2, u.name), name_kana = coalesce($3, u.name_kana), email = coalesce($4,
      u.email), role = coalesce($5, u.role), status = coalesce($6, u.status), failed_count = CASE
    WHEN $6 = 'active' THEN 0 ELSE u.failed_count END, locked_until = CASE WHEN $6 = 'active' THEN
    NULL ELSE u.locked_until END, warned_at = CASE WHEN $6 = 'active' THEN NULL ELSE u.warned_at
    END, reactivated_at = CASE WHEN $6 = 'active' AND u.status <> 'active' THEN now() ELSE
    u.reactivated_at END, updated_at = now()
WHERE u.id = $1::uuid
RETURNING json_build_object('id', u.id, 'user_id', u.login_id, 'organization_id', u.org_id, 'name',
      u.name, 'name_kana', u.name_kana, 'email', u.email, 'role', u.role, 'status', u.status,
      'password_change_required', u.pw_temporary, 'password_expires_at', u.pw_expires_at,
      'last_login_at', u.last_login_at, 'locked_until', CASE WHEN u.locked_until > now() THEN
      u.locked_until ELSE (SELECT max(l.locked_until)
    FROM account.login_locks l
    WHERE l.user_id = u.id AND l.locked_until > now()) END, 'created_at', u.created_at,
      'updated_at', u.updated_at);
