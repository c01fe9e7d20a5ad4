-- me.sql - the caller's own profile (me.c) and e-mail address change (me_email.c).

-- name: acct_me_get
-- $1 user_id: uuid, the caller
SELECT json_build_object('id', u.id, 'user_id', u.login_id, 'organization_id', u.org_id, 'name',
      u.name, 'name_kana', u.name_kana, 'email', u.email, 'role', u.role, 'status', u.status,
      'password_change_required', u.pw_temporary, 'password_expires_at', u.pw_expires_at,
      'last_login_at', u.last_login_at, 'locked_until', CASE WHEN u.locked_until > now() THEN
      u.locked_until ELSE (SELECT max(l.locked_until)
    FROM account.login_locks l
    WHERE l.user_id = u.id AND l.locked_until > now()) END, 'created_at', u.created_at,
      'updated_at', u.updated_at), json_build_object('id', o.id, 'type', o.type, 'code', o.code,
      'name', o.name, 'name_kana', o.name_kana, 'prefecture_code', o.prefecture_code, 'status',
      o.status, 'created_at', o.created_at)
FROM account.users u
JOIN account.organizations o ON o.id = u.org_id
WHERE u.id = $1::uuid;

-- name: acct_me_update
-- $1 user_id: uuid, the caller
-- $2 name: text
-- $3 name_kana: text
UPDATE account.users u
SET name = coalesce($2, u.name), name_kana = coalesce($3, u.name_kana), updated_at = now()
WHERE u.id = $1::uuid
RETURNING json_build_object('id', u.id, 'user_id', u.login_id, 'organization_id', u.org_id, 'name',
      u.name, 'name_kana', u.name_kana, 'email', u.email, 'role', u.role, 'status', u.status,
      'password_change_required', u.pw_temporary, 'password_expires_at', u.pw_expires_at,
      'last_login_at', u.last_login_at, 'locked_until', CASE WHEN u.locked_until > now() THEN
      u.locked_until ELSE (SELECT max(l.locked_until)
    FROM account.login_locks l
    WHERE l.user_id = u.id AND l.locked_until > now()) END, 'created_at', u.created_at,
      'updated_at', u.updated_at), lower(u.email);

-- name: acct_email_change_start
-- $1 user_id: uuid, the caller
-- $2 token_hash: text, SHA-256 hex of the token
-- $3 new_email: text
-- $4 reset_ttl_min: int, from the configuration
-- $5 mail_text: text, a fixed text of the C code (subject or opening lines)
-- $6 body: text
-- $7 mail_text: text, a fixed text of the C code (subject or opening lines)
WITH u AS (SELECT id, email
  FROM account.users
  WHERE id = $1::uuid), old AS (UPDATE account.email_changes
  SET used_at = now()
  WHERE user_id = $1::uuid AND used_at IS NULL), ch AS (INSERT INTO account.email_changes
      (token_hash, user_id, new_email, expires_at)
  SELECT $2, u.id, $3, now() + make_interval(mins => $4::int)
  FROM u
  RETURNING new_email, expires_at), m AS (INSERT INTO account.outbox (kind, to_addr, subject, body)
  SELECT 'email-change-confirm', $3, $5, $6
  FROM u
  UNION ALL
  SELECT 'email-change-notice', u.email, split_part($7, E'\n', 1), 'あなたのアカウントのメールアドレスを ' || $3 ||
      ' に変更する依頼がありました。変更は新しいアドレスで確認されるまで行われません。\n\n心当たりがない場合は、パスワードを変更し、所属組織の管理者に連絡してください。\n'
  FROM u)
SELECT json_build_object('new_email', new_email, 'expires_at', expires_at)::text
FROM ch;

-- name: acct_email_change_confirm
-- $1 token_hash: text, SHA-256 hex of the token
WITH ch AS (UPDATE account.email_changes
  SET used_at = now()
  WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
  RETURNING user_id, new_email)
UPDATE account.users u
SET email = ch.new_email, updated_at = now()
FROM ch
WHERE u.id = ch.user_id
RETURNING u.id::text;
