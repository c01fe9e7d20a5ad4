-- sessions.sql - sessions and refresh tokens (sessions.c); revoking writes authz.revocations
-- rows that live as long as an access token of the session can.

-- name: acct_revoke_session
-- $1 session_id: uuid
-- $2 ttl_s: int, how long the revocation row is kept (access TTL + leeway)
WITH s AS (UPDATE account.sessions
  SET revoked_at = now()
  WHERE id = $1::uuid AND revoked_at IS NULL
  RETURNING id)
INSERT INTO authz.revocations (sid, expires_at)
SELECT id::text, now() + make_interval(secs => $2::int)
FROM s
ON CONFLICT (sid) DO NOTHING
RETURNING sid, extract(epoch
  FROM expires_at)::bigint;

-- name: acct_revoke_user
-- $1 user_id: uuid
-- $2 ttl_s: int, how long the revocation rows are kept (access TTL + leeway)
WITH s AS (UPDATE account.sessions
  SET revoked_at = now()
  WHERE user_id = $1::uuid AND revoked_at IS NULL AND expires_at > now()
  RETURNING id)
INSERT INTO authz.revocations (sid, expires_at)
SELECT id::text, now() + make_interval(secs => $2::int)
FROM s
ON CONFLICT (sid) DO NOTHING
RETURNING sid, extract(epoch
  FROM expires_at)::bigint;

-- name: acct_revoke_org
-- $1 org_id: uuid
-- $2 ttl_s: int, how long the revocation rows are kept (access TTL + leeway)
WITH s AS (UPDATE account.sessions
  SET revoked_at = now()
  WHERE user_id IN (SELECT id
    FROM account.users
    WHERE org_id = $1::uuid) AND revoked_at IS NULL AND expires_at > now()
  RETURNING id)
INSERT INTO authz.revocations (sid, expires_at)
SELECT id::text, now() + make_interval(secs => $2::int)
FROM s
ON CONFLICT (sid) DO NOTHING
RETURNING sid, extract(epoch
  FROM expires_at)::bigint;

-- name: acct_revoke_inactive
-- $1 status: text, users of any other status lose their sessions ('active')
-- $2 ttl_s: int, how long the revocation rows are kept (access TTL + leeway)
WITH s AS (UPDATE account.sessions
  SET revoked_at = now()
  WHERE user_id IN (SELECT id
    FROM account.users
    WHERE status <> $1) AND revoked_at IS NULL AND expires_at > now()
  RETURNING id)
INSERT INTO authz.revocations (sid, expires_at)
SELECT id::text, now() + make_interval(secs => $2::int)
FROM s
ON CONFLICT (sid) DO NOTHING
RETURNING sid, extract(epoch
  FROM expires_at)::bigint;

-- name: acct_principal_load
-- $1 user_id: uuid
SELECT u.login_id, u.org_id, o.type, o.code, coalesce(o.prefecture_code, ''), u.role, u.pw_temporary
FROM account.users u
JOIN account.organizations o ON o.id = u.org_id
WHERE u.id = $1::uuid AND u.status = 'active' AND o.status = 'active';

-- name: acct_session_extend
-- $1 session_id: uuid
-- $2 user_id: uuid
-- $3 refresh_ttl_s: int, from the configuration
UPDATE account.sessions
SET expires_at = now() + make_interval(secs => $3::int)
WHERE id = $1::uuid AND user_id = $2::uuid AND revoked_at IS NULL
RETURNING id;

-- name: acct_session_insert
-- $1 session_id: uuid, new
-- $2 user_id: uuid
-- $3 refresh_ttl_s: int, from the configuration
INSERT INTO account.sessions (id, user_id, expires_at)
VALUES ($1::uuid, $2::uuid, now() + make_interval(secs => $3::int));

-- name: acct_refresh_insert
-- $1 token_hash: text, SHA-256 hex of the token
-- $2 session_id: uuid
-- $3 refresh_ttl_s: int, from the configuration
INSERT INTO account.refresh_tokens (token_hash, session_id, expires_at)
VALUES ($1, $2::uuid, now() + make_interval(secs => $3::int));

-- name: acct_refresh_consume
-- $1 token_hash: text, SHA-256 hex of the token
UPDATE account.refresh_tokens t
SET used_at = now()
FROM account.sessions s
WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now() AND s.id = t.session_id
   AND s.revoked_at IS NULL AND s.expires_at > now()
RETURNING s.id, s.user_id;

-- name: acct_refresh_reused
-- $1 token_hash: text, SHA-256 hex of the token
SELECT session_id
FROM account.refresh_tokens
WHERE token_hash = $1 AND used_at IS NOT NULL;
