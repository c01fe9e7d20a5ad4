-- accounts.sql - H-9 bank accounts: register, resubmit, read, list, the effective one (accounts.c).

-- name: pay_account_lock
-- $1 org_id: text, the caller's organisation
-- The organisation's lock for its account writes (held to the end of the transaction).
SELECT pg_advisory_xact_lock(hashtext('payment.acct.' || $1));

-- name: pay_account_overlap
-- $1 org_id: uuid, the caller's organisation
-- $2 purpose: text, vaccination | assignment
-- $3 from_month: date, the first month (YYYY-MM-01)
-- $4 to_month: date, the last month of an assignment account, or NULL
-- $5 self_id: uuid, the account being changed, or NULL for a new one
-- Another live account of the purpose in effect in any of the months: a vaccination account
-- starting the same month, an assignment account whose months overlap. No row: none.
SELECT id::text, to_char(effective_from, 'YYYY-MM'), status
FROM payment.bank_accounts
WHERE org_id = $1::uuid
  AND purpose = $2
  AND status IN ('submitted', 'approved')
  AND id IS DISTINCT FROM $5::uuid
  AND CASE
      WHEN $2 = 'vaccination' THEN effective_from = $3::date
      ELSE daterange(effective_from, effective_to, '[]') && daterange($3::date, $4::date, '[]')
      END
LIMIT 1;

-- name: pay_account_insert
-- $1 org_id: uuid, the caller's organisation
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 purpose: text, vaccination | assignment
-- $5 bank_code: text, 4 digits
-- $6 branch_code: text, 3 digits
-- $7 account_type: text, ordinary | current | savings
-- $8 account_number: text, 7 digits
-- $9 holder_name: text, as converted by the Zengin rule
-- $10 holder_name_input: text, as given
-- $11 assignee_name: text, an assignment account's assignee, or NULL
-- $12 assignment_from: date, the assignment's first day, or NULL
-- $13 assignment_to: date, its last day, or NULL
-- $14 effective_from: date, the first claim month
-- $15 effective_to: date, the last claim month, or NULL
-- $16 by: text, the caller (token subject)
-- A new account, submitted, with its first version row; the account as answered (no documents yet).
WITH a AS (
    INSERT INTO payment.bank_accounts (
        org_id, institution_code, pref_code, purpose, bank_code, branch_code, account_type,
        account_number, holder_name, holder_name_input, assignee_name, assignment_from,
        assignment_to, effective_from, effective_to, status, submitted_by, submitted_org_id)
    VALUES (
        $1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::date, $13::date, $14::date,
        $15::date, 'submitted', $16, $1::uuid)
    RETURNING *),
v AS (
    INSERT INTO payment.bank_account_versions (
        account_id, seq, version, event, doc, by_user, by_org_id)
    SELECT a.id, 1, 1, 'submitted',
           payment.account_json(a::payment.bank_accounts), $16, $1::uuid
    FROM a)
SELECT (payment.account_json(a::payment.bank_accounts)
        || jsonb_build_object('documents', '[]'::jsonb))::text
FROM a;

-- name: pay_account_resubmit
-- $1 org_id: uuid, the caller's organisation
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 purpose: text, vaccination | assignment
-- $5 bank_code: text, 4 digits
-- $6 branch_code: text, 3 digits
-- $7 account_type: text, ordinary | current | savings
-- $8 account_number: text, 7 digits
-- $9 holder_name: text, as converted by the Zengin rule
-- $10 holder_name_input: text, as given
-- $11 assignee_name: text, an assignment account's assignee, or NULL
-- $12 assignment_from: date, the assignment's first day, or NULL
-- $13 assignment_to: date, its last day, or NULL
-- $14 effective_from: date, the first claim month
-- $15 effective_to: date, the last claim month, or NULL
-- $16 by: text, the caller (token subject)
-- $17 id: uuid, the bank account
-- A rejected account submitted again (its purpose stays), with its version row. No row: not a
-- rejected account of the organisation with that purpose.
WITH a AS (
    UPDATE payment.bank_accounts x
    SET bank_code = $5, branch_code = $6, account_type = $7,
        account_number = $8, holder_name = $9, holder_name_input = $10,
        assignee_name = $11, assignment_from = $12::date, assignment_to = $13::date,
        effective_from = $14::date, effective_to = $15::date,
        status = 'submitted', version = x.version + 1, submitted_by = $16,
        submitted_at = now(), reviewed_by = NULL, reviewed_org_id = NULL,
        reviewed_at = NULL, review_reason = NULL, updated_at = now()
    WHERE x.id = $17::uuid
      AND x.org_id = $1::uuid
      AND x.status = 'rejected'
      AND x.purpose = $4
      AND $2::text IS NOT NULL
      AND $3::text IS NOT NULL
    RETURNING x.*),
v AS (
    INSERT INTO payment.bank_account_versions (
        account_id, seq, version, event, doc, by_user, by_org_id)
    SELECT a.id,
           (SELECT max(seq) + 1
            FROM payment.bank_account_versions w
            WHERE w.account_id = a.id), a.version, 'resubmitted',
           payment.account_json(a::payment.bank_accounts), $16, $1::uuid
    FROM a)
SELECT (payment.account_json(a::payment.bank_accounts)
        || payment.account_documents_json(a::payment.bank_accounts))::text
FROM a;

-- name: pay_account_get
-- $1 viewer: text, inst | fed
-- $2 org_id: uuid, the caller's organisation
-- $3 pref_code: text, the caller's prefecture
-- $4 id: uuid, the bank account
-- One account with its documents, if the viewer may see it.
SELECT (payment.account_json(a) || payment.account_documents_json(a))::text
FROM payment.bank_accounts a
WHERE a.id = $4::uuid
  AND (($1::text = 'inst' AND a.org_id = $2::uuid) OR ($1::text = 'fed' AND a.pref_code = $3::text));

-- name: pay_account_history
-- $1 viewer: text, inst | fed
-- $2 org_id: uuid, the caller's organisation
-- $3 pref_code: text, the caller's prefecture
-- $4 id: uuid, the bank account
-- Every version of an account the viewer may see, oldest first.
SELECT jsonb_build_object(
    'seq', v.seq,
    'version', v.version,
    'event', v.event,
    'account', v.doc,
    'by', v.by_user,
    'by_org_id', v.by_org_id,
    'at', v.at)::text
FROM payment.bank_account_versions v
JOIN payment.bank_accounts a ON a.id = v.account_id
WHERE a.id = $4::uuid
  AND (($1::text = 'inst' AND a.org_id = $2::uuid) OR ($1::text = 'fed' AND a.pref_code = $3::text))
ORDER BY v.seq;

-- name: pay_account_list
-- $1 viewer: text, inst | fed
-- $2 org_id: uuid, the caller's organisation
-- $3 pref_code: text, the caller's prefecture
-- $4 status: text, submitted | approved | rejected, or NULL
-- $5 purpose: text, vaccination | assignment, or NULL
-- $6 filter_org_id: uuid, an organisation to list, or NULL
-- $7 cursor_created_at: timestamptz, the cursor's key, or NULL
-- $8 cursor_id: uuid, the cursor's id, or NULL
-- $9 limit: int, the page size + 1
-- The accounts the viewer may see, newest first, a page after the cursor (limit + 1 rows).
SELECT (payment.account_json(a) || payment.account_documents_json(a))::text,
       a.created_at::text, a.id::text
FROM payment.bank_accounts a
WHERE (($1::text = 'inst' AND a.org_id = $2::uuid) OR ($1::text = 'fed' AND a.pref_code = $3::text))
  AND ($4::text IS NULL OR a.status = $4)
  AND ($5::text IS NULL OR a.purpose = $5)
  AND ($6::uuid IS NULL OR a.org_id = $6::uuid)
  AND ($7::timestamptz IS NULL OR (a.created_at, a.id) < ($7::timestamptz, $8::uuid))
ORDER BY a.created_at DESC, a.id DESC
LIMIT $9::int;

-- name: pay_account_effective
-- $1 viewer: text, inst | fed
-- $2 org_id: uuid, the caller's organisation
-- $3 pref_code: text, the caller's prefecture
-- $4 account_org_id: uuid, the account's organisation
-- $5 purpose: text, vaccination | assignment
-- $6 month: date, the claim month (YYYY-MM-01)
-- The approved account that pays an organisation's claims of a month for a purpose.
SELECT (payment.account_json(a) || payment.account_documents_json(a))::text
FROM payment.bank_accounts a
WHERE (($1::text = 'inst' AND a.org_id = $2::uuid) OR ($1::text = 'fed' AND a.pref_code = $3::text))
  AND a.org_id = $4::uuid
  AND a.purpose = $5
  AND a.status = 'approved'
  AND a.effective_from <= $6::date
  AND (a.effective_to IS NULL OR a.effective_to >= $6::date)
ORDER BY a.effective_from DESC
LIMIT 1;
