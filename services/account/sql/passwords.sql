-- passwords.sql - passwords (policy.c, auth_password.c): re-authentication, reset tokens, the
-- user ID reminder, storing a new hash and the history of the last 24.

-- name: acct_reauth_user
-- $1 user_id: uuid, the caller
-- $2 source: text, the client address (lock key)
SELECT pw_hash, login_id, coalesce(locked_until > now(), false) OR EXISTS (SELECT 1
  FROM account.login_locks l
  WHERE l.user_id = u.id AND l.source = $2 AND l.locked_until > now())
FROM account.users u
WHERE id = $1::uuid;

-- name: acct_reset_token_issue
-- $1 user_id: text
-- $2 token_hash: text, SHA-256 hex of the token
-- $3 reset_ttl_min: int, from the configuration
-- $4 mail_text: text, a fixed text of the C code (subject or opening lines)
-- $5 body: text
WITH u AS (SELECT u.id, u.email
  FROM account.users u
  JOIN account.organizations o ON o.id = u.org_id
  WHERE lower(u.login_id) = lower($1) AND u.status = 'active' AND o.status = 'active'
     AND NOT EXISTS (SELECT 1
    FROM account.reset_tokens t
    WHERE t.user_id = u.id AND t.created_at > now() - interval '1 minute')), t AS (INSERT INTO
      account.reset_tokens (token_hash, user_id, expires_at)
  SELECT $2, id, now() + make_interval(mins => $3::int)
  FROM u
  RETURNING user_id)
INSERT INTO account.outbox (kind, to_addr, subject, body)
SELECT 'password-reset', u.email, $4, $5
FROM u
JOIN t ON t.user_id = u.id;

-- name: acct_reset_token_use
-- $1 token_hash: text, SHA-256 hex of the token
UPDATE account.reset_tokens
SET used_at = now()
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING user_id;

-- name: acct_reset_token_peek
-- $1 token_hash: text, SHA-256 hex of the token
SELECT t.user_id, u.login_id
FROM account.reset_tokens t
JOIN account.users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now();

-- name: acct_reminder_outbox
-- $1 email: text
-- $2 mail_text: text, a fixed text of the C code (subject or opening lines)
-- $3 mail_text: text, a fixed text of the C code (subject or opening lines)
INSERT INTO account.outbox (kind, to_addr, subject, body)
SELECT 'user-id-reminder', min(u.email), $2, $3 || string_agg(u.login_id, E'\n'
  ORDER BY u.login_id) || E'\n\n心当たりがない場合は、このメールを破棄してください。\n'
FROM account.users u
JOIN account.organizations o ON o.id = u.org_id
WHERE lower(u.email) = lower($1) AND u.status <> 'disabled' AND o.status = 'active'
   AND NOT EXISTS (SELECT 1
  FROM account.outbox b
  WHERE b.kind = 'user-id-reminder' AND lower(b.to_addr) = lower($1) AND b.created_at > now() -
      interval '1 minute')
HAVING count(*) > 0;

-- name: acct_pw_recent_hashes
-- $1 user_id: uuid
-- $2 pw_history: int, from the configuration
SELECT pw_hash
FROM account.users
WHERE id = $1::uuid UNION
SELECT pw_hash
FROM (SELECT pw_hash
  FROM account.password_history
  WHERE user_id = $1::uuid
  ORDER BY id DESC
  LIMIT $2::int) h;

-- name: acct_pw_set
-- $1 user_id: uuid
-- $2 pw_hash: text, argon2id PHC string
-- $3 temporary: boolean
-- $4 temp_ttl_h: int, hours a temporary password lives
UPDATE account.users
SET pw_hash = $2, pw_temporary = $3::boolean, pw_set_at = now(), pw_expires_at = CASE WHEN
    $3::boolean THEN now() + make_interval(hours => $4::int) END, failed_count = 0, locked_until =
    NULL, updated_at = now()
WHERE id = $1::uuid
RETURNING coalesce(to_json(pw_expires_at) #>> '{}', '');

-- name: acct_pw_tokens_void
-- $1 user_id: uuid
WITH e AS (UPDATE account.email_changes
  SET used_at = now()
  WHERE user_id = $1::uuid AND used_at IS NULL)
UPDATE account.reset_tokens
SET used_at = now()
WHERE user_id = $1::uuid AND used_at IS NULL;

-- name: acct_pw_history_add
-- $1 user_id: text
-- $2 pw_hash: text
INSERT INTO account.password_history (user_id, pw_hash)
VALUES ($1, $2);

-- name: acct_pw_history_trim
-- $1 user_id: uuid
DELETE FROM account.password_history
WHERE user_id = $1::uuid AND id NOT IN (SELECT id
  FROM account.password_history
  WHERE user_id = $1::uuid
  ORDER BY id DESC
  LIMIT 24);
