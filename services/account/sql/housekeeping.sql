-- housekeeping.sql - the nightly jobs (suspend.c): suspending inactive users and warning them
-- first (運用: 長期未使用アカウントの停止), and deleting expired tokens, revocations and sent mail.

-- name: acct_suspend_lock
SELECT pg_advisory_xact_lock(hashtext('sesshu.account.suspend'));

-- name: acct_suspend_inactive
-- $1 inactive_days: int, from the configuration
UPDATE account.users u
SET status = 'suspended', updated_at = now()
WHERE u.status = 'active' AND u.login_id <> 'chuokai-admin' AND greatest(u.last_login_at,
      u.created_at, u.reactivated_at) < now() - make_interval(days => $1::int);

-- name: acct_suspend_warn
-- $1 inactive_days: int, from the configuration
-- $2 inactive_warn_days: int, from the configuration
-- $3 mail_text: text, a fixed text of the C code (subject or opening lines)
-- $4 mail_text: text, a fixed text of the C code (subject or opening lines)
WITH w AS (UPDATE account.users u
  SET warned_at = now()
  WHERE u.status = 'active' AND u.warned_at IS NULL AND $2::int > 0 AND greatest(u.last_login_at,
        u.created_at, u.reactivated_at) < now() - make_interval(days => $1::int - $2::int)
  RETURNING u.email, u.login_id, greatest(u.last_login_at, u.created_at, u.reactivated_at) +
      make_interval(days => $1::int) AS due)
INSERT INTO account.outbox (kind, to_addr, subject, body)
SELECT 'inactivity-warning', email, $3, format($4, login_id, to_char(due, 'YYYY-MM-DD'))
FROM w;

-- name: acct_housekeep_sessions
DELETE FROM account.sessions
WHERE expires_at < now() - interval '1 day';

-- name: acct_housekeep_refresh_tokens
DELETE FROM account.refresh_tokens
WHERE expires_at < now() - interval '1 day';

-- name: acct_housekeep_reset_tokens
DELETE FROM account.reset_tokens
WHERE expires_at < now() - interval '1 day';

-- name: acct_housekeep_revocations
DELETE FROM authz.revocations
WHERE expires_at < now() - interval '1 hour';

-- name: acct_housekeep_outbox
DELETE FROM account.outbox
WHERE (sent_at IS NOT NULL OR body IS NULL) AND created_at < now() - interval '30 days';
