-- account_reviews.sql - H-9 approval by the 国保連合会 (accounts_review.c): the guard and the decision.

-- name: pay_account_review_guard
-- $1 id: uuid, the bank account
-- $2 pref_code: text, the caller's prefecture
-- The account under review, locked: status, submitter, purpose, and whether its current version
-- has a document.
SELECT a.status, a.submitted_by, a.submitted_org_id::text, a.purpose,
       EXISTS (SELECT 1
               FROM payment.bank_account_documents d
               WHERE d.account_id = a.id
                 AND d.version = a.version)
FROM payment.bank_accounts a
WHERE a.id = $1::uuid
  AND a.pref_code = $2
FOR UPDATE;

-- name: pay_account_decide
-- $1 id: uuid, the bank account
-- $2 status: text, approved | rejected
-- $3 by: text, the caller (token subject)
-- $4 by_org_id: uuid, the caller's organisation
-- $5 reason: text, or NULL
-- The decision, with its version row; the account as answered.
WITH a AS (
    UPDATE payment.bank_accounts x
    SET status = $2, reviewed_by = $3, reviewed_org_id = $4::uuid,
        reviewed_at = now(), review_reason = $5, updated_at = now()
    WHERE x.id = $1::uuid
    RETURNING x.*),
v AS (
    INSERT INTO payment.bank_account_versions (
        account_id, seq, version, event, doc, by_user, by_org_id)
    SELECT a.id,
           (SELECT max(seq) + 1
            FROM payment.bank_account_versions w
            WHERE w.account_id = a.id), a.version, $2,
           payment.account_json(a::payment.bank_accounts), $3, $4::uuid
    FROM a)
SELECT (payment.account_json(a::payment.bank_accounts)
        || payment.account_documents_json(a::payment.bank_accounts))::text
FROM a;
