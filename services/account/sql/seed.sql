-- seed.sql - the first start (service.c): the 国民健康保険中央会 organisation and its
-- administrator chuokai-admin.

-- name: acct_seed_chuokai_org
INSERT INTO account.organizations (type, code, name, name_kana)
VALUES ('chuokai', 'CHUOKAI', '国民健康保険中央会', 'コクミンケンコウホケンチュウオウカイ')
ON CONFLICT (type, code) DO NOTHING;

-- name: acct_seed_chuokai_state
SELECT o.id, EXISTS (SELECT 1
  FROM account.users u
  WHERE lower(u.login_id) = 'chuokai-admin')
FROM account.organizations o
WHERE o.type = 'chuokai' AND o.code = 'CHUOKAI';

-- name: acct_seed_admin
-- $1 org_id: uuid, the 中央会
-- $2 email: text, SESSHU_ADMIN_EMAIL
-- $3 pw_hash: text
-- $4 temporary: boolean
-- $5 temp_pw_ttl_h: int, from the configuration
WITH u AS (INSERT INTO account.users (login_id, org_id, name, name_kana, email, role, pw_hash,
        pw_temporary, pw_expires_at)
  VALUES ('chuokai-admin', $1::uuid, '国保中央会 管理者', 'コクホチュウオウカイ カンリシャ', $2, 'admin', $3, $4::boolean,
        CASE WHEN $4::boolean THEN now() + make_interval(hours => $5::int) END)
  ON CONFLICT DO NOTHING
  RETURNING id, pw_hash, pw_temporary), h AS (INSERT INTO account.password_history (user_id,
        pw_hash)
  SELECT id, pw_hash
  FROM u
  WHERE NOT pw_temporary)
SELECT count(*)
FROM u;
