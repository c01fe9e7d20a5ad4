-- logins.sql - sign-in (auth_login.c): the user by login ID, failure counting and locks per
-- user and client address, and what a successful login resets.

-- name: acct_login_lock_failure
-- $1 user_id: uuid
-- $2 login_max_failures: int, from the configuration
-- $3 lock_minutes: int, from the configuration
-- $4 source: text
-- $5 login_max_failures_all: int, from the configuration
WITH s AS (INSERT INTO account.login_locks AS l (user_id, source, failed_count, locked_until)
  VALUES ($1::uuid, $4, CASE WHEN $2::int <= 1 THEN 0 ELSE 1 END, CASE WHEN $2::int <= 1 THEN now()
        + make_interval(mins => $3::int) END)
  ON CONFLICT (user_id, source)
  DO UPDATE
  SET failed_count = CASE WHEN l.locked_until > now() THEN l.failed_count WHEN l.failed_count + 1 >=
      $2::int THEN 0 ELSE l.failed_count + 1 END, locked_until = CASE WHEN l.locked_until > now()
      THEN l.locked_until WHEN l.failed_count + 1 >= $2::int THEN now() + make_interval(mins =>
        $3::int) ELSE l.locked_until END, updated_at = now())
UPDATE account.users
SET failed_count = CASE WHEN failed_count + 1 >= $5::int THEN 0 ELSE failed_count + 1 END,
    locked_until = CASE WHEN failed_count + 1 >= $5::int THEN now() + make_interval(mins => $3::int)
    ELSE locked_until END
WHERE id = $1::uuid AND (locked_until IS NULL OR locked_until <= now());

-- name: acct_login_success
-- $1 user_id: uuid
-- $2 source: text, the client address (lock key)
WITH s AS (DELETE
  FROM account.login_locks
  WHERE user_id = $1::uuid AND source = $2 AND (locked_until IS NULL OR locked_until <= now()))
UPDATE account.users
SET failed_count = 0, locked_until = NULL, last_login_at = now(), warned_at = NULL
WHERE id = $1::uuid AND (locked_until IS NULL OR locked_until <= now())
   AND NOT EXISTS (SELECT 1
  FROM account.login_locks l
  WHERE l.user_id = $1::uuid AND l.source = $2 AND l.locked_until > now())
RETURNING id;

-- name: acct_login_user
-- $1 login_id: text
-- $2 source: text, the client address (lock key)
SELECT u.id, u.pw_hash, u.status, o.status, (u.pw_temporary AND u.pw_expires_at <= now()),
    (u.locked_until IS NOT NULL AND u.locked_until > now()) OR EXISTS (SELECT 1
  FROM account.login_locks l
  WHERE l.user_id = u.id AND l.source = $2 AND l.locked_until > now())
FROM account.users u
JOIN account.organizations o ON o.id = u.org_id
WHERE lower(u.login_id) = lower($1);
