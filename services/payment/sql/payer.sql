-- payer.sql - H-10: the federation's source accounts and their destination bank codes (payer.c).

-- name: pay_payer_lock
-- $1 pref_code: text, the caller's prefecture
-- The federation's lock for its source-account writes.
SELECT pg_advisory_xact_lock(hashtext('payment.payer.' || $1));

-- name: pay_payer_links_check
-- $1 pref_code: text, the caller's prefecture
-- $2 bank_codes: jsonb, a JSON array of destination bank codes
-- $3 self_id: uuid, the account being changed, or NULL for a new one
-- $4 day: date, today (Japan)
-- $5 is_default: boolean, whether the account is to be the default
-- Problems of a write's destination banks: unknown in the bank master on the day, already linked
-- to another account, or another default. No row: none.
SELECT 'unknown', x.ord::text, x.code, NULL
FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS x(code, ord)
WHERE NOT EXISTS (SELECT 1
                  FROM master.banks b
                  WHERE b.code = x.code
                    AND b.superseded_at IS NULL
                    AND b.valid_from <= $4::date
                    AND (b.valid_to IS NULL OR b.valid_to >= $4::date))
UNION ALL
SELECT 'linked', x.ord::text, x.code, l.account_id::text
FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS x(code, ord)
JOIN payment.payer_links l ON l.pref_code = $1
    AND l.bank_code = x.code
WHERE l.account_id IS DISTINCT FROM $3::uuid
UNION ALL
SELECT 'default', '0', NULL, p.id::text
FROM payment.payer_accounts p
WHERE $5::boolean
  AND p.pref_code = $1
  AND p.is_default
  AND p.status = 'active'
  AND p.id IS DISTINCT FROM $3::uuid;

-- name: pay_payer_insert
-- $1 org_id: uuid, the caller's organisation
-- $2 pref_code: text, the caller's prefecture
-- $3 bank_code: text, 4 digits
-- $4 branch_code: text, 3 digits
-- $5 account_type: text, ordinary | current | savings
-- $6 account_number: text, 7 digits
-- $7 holder_name: text, the 依頼人名, Zengin characters
-- $8 client_code: text, the 依頼人コード
-- $9 bank_codes: jsonb, a JSON array of destination bank codes
-- $10 is_default: boolean, whether it pays every bank not linked elsewhere
-- $11 by: text, the caller (token subject)
-- A new source account with its links and first version; the account as answered.
WITH p AS (
    INSERT INTO payment.payer_accounts (
        org_id, pref_code, bank_code, branch_code, account_type, account_number, holder_name,
        client_code, bank_codes, is_default, updated_by)
    VALUES (
        $1::uuid, $2, $3, $4, $5, $6, $7, $8,
        ARRAY(SELECT jsonb_array_elements_text($9::jsonb)
              ORDER BY 1), $10::boolean, $11)
    RETURNING *),
l AS (
    INSERT INTO payment.payer_links (pref_code, bank_code, account_id)
    SELECT p.pref_code, x, p.id
    FROM p, unnest(p.bank_codes) AS x),
v AS (
    INSERT INTO payment.payer_account_versions (account_id, version, doc, by_user)
    SELECT p.id, p.version,
           payment.payer_json(p::payment.payer_accounts), p.updated_by
    FROM p)
SELECT payment.payer_json(p::payment.payer_accounts)::text
FROM p;

-- name: pay_payer_links_delete
-- $1 id: uuid, the source account
-- $2 pref_code: text, the caller's prefecture
-- An account's links, dropped before its update writes them anew.
DELETE FROM payment.payer_links
WHERE account_id = $1::uuid
  AND pref_code = $2;

-- name: pay_payer_update
-- $1 org_id: uuid, the caller's organisation
-- $2 pref_code: text, the caller's prefecture
-- $3 bank_code: text, 4 digits
-- $4 branch_code: text, 3 digits
-- $5 account_type: text, ordinary | current | savings
-- $6 account_number: text, 7 digits
-- $7 holder_name: text, the 依頼人名, Zengin characters
-- $8 client_code: text, the 依頼人コード
-- $9 bank_codes: jsonb, a JSON array of destination bank codes
-- $10 is_default: boolean, whether it pays every bank not linked elsewhere
-- $11 by: text, the caller (token subject)
-- $12 id: uuid, the source account
-- An active source account changed, with its links and version row. No row: no such active
-- account of the federation.
WITH p AS (
    UPDATE payment.payer_accounts x
    SET bank_code = $3, branch_code = $4, account_type = $5,
        account_number = $6, holder_name = $7, client_code = $8,
        bank_codes = ARRAY(SELECT jsonb_array_elements_text($9::jsonb)
                           ORDER BY 1), is_default = $10::boolean,
        version = x.version + 1, updated_by = $11, updated_at = now()
    WHERE x.id = $12::uuid
      AND x.pref_code = $2
      AND x.status = 'active'
      AND $1::uuid IS NOT NULL
    RETURNING x.*),
l AS (
    INSERT INTO payment.payer_links (pref_code, bank_code, account_id)
    SELECT p.pref_code, x, p.id
    FROM p, unnest(p.bank_codes) AS x),
v AS (
    INSERT INTO payment.payer_account_versions (account_id, version, doc, by_user)
    SELECT p.id, p.version,
           payment.payer_json(p::payment.payer_accounts), p.updated_by
    FROM p)
SELECT payment.payer_json(p::payment.payer_accounts)::text
FROM p;

-- name: pay_payer_retire
-- $1 id: uuid, the source account
-- $2 pref_code: text, the caller's prefecture
-- $3 by: text, the caller (token subject)
-- An active account retired (its links dropped), with its version row.
WITH d AS (
    DELETE FROM payment.payer_links
    WHERE account_id = $1::uuid
      AND pref_code = $2),
p AS (
    UPDATE payment.payer_accounts x
    SET status = 'retired', is_default = false, version = x.version + 1,
        updated_by = $3, updated_at = now()
    WHERE x.id = $1::uuid
      AND x.pref_code = $2
      AND x.status = 'active'
    RETURNING x.*),
v AS (
    INSERT INTO payment.payer_account_versions (account_id, version, doc, by_user)
    SELECT p.id, p.version,
           payment.payer_json(p::payment.payer_accounts), $3
    FROM p)
SELECT payment.payer_json(p::payment.payer_accounts)::text
FROM p;

-- name: pay_payer_get
-- $1 id: uuid, the source account
-- $2 pref_code: text, the caller's prefecture
-- A source account of the federation.
SELECT payment.payer_json(p)::text
FROM payment.payer_accounts p
WHERE p.id = $1::uuid
  AND p.pref_code = $2;

-- name: pay_payer_history
-- $1 id: uuid, the source account
-- $2 pref_code: text, the caller's prefecture
-- Every version of a source account, oldest first.
SELECT jsonb_build_object('version', v.version, 'account', v.doc, 'by', v.by_user, 'at', v.at)::text
FROM payment.payer_account_versions v
JOIN payment.payer_accounts p ON p.id = v.account_id
WHERE p.id = $1::uuid
  AND p.pref_code = $2
ORDER BY v.version;

-- name: pay_payer_list
-- $1 pref_code: text, the caller's prefecture
-- $2 status: text, active | retired, or NULL
-- The federation's source accounts, oldest first.
SELECT payment.payer_json(p)::text
FROM payment.payer_accounts p
WHERE p.pref_code = $1
  AND ($2::text IS NULL OR p.status = $2)
ORDER BY p.created_at, p.id;

-- name: pay_payer_route
-- $1 pref_code: text, the caller's prefecture
-- $2 bank_code: text, the destination bank
-- The active account that pays a destination bank: its link, else the default.
SELECT (
    payment.payer_json(p) || jsonb_build_object(
            'matched', CASE WHEN l.bank_code IS NULL THEN 'default' ELSE 'bank_code' END))::text
FROM payment.payer_accounts p
LEFT JOIN payment.payer_links l ON l.account_id = p.id
    AND l.bank_code = $2
WHERE p.pref_code = $1
  AND p.status = 'active'
  AND (l.bank_code IS NOT NULL OR p.is_default)
ORDER BY l.bank_code IS NULL
LIMIT 1;
