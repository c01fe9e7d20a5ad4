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
           jsonb_build_object(
               'id', a.id,
               'org_id', a.org_id,
               'institution_code', a.institution_code,
               'prefecture_code', a.pref_code,
               'purpose', a.purpose,
               'bank_code', a.bank_code,
               'branch_code', a.branch_code,
               'account_type', a.account_type,
               'account_number', a.account_number,
               'holder_name', a.holder_name,
               'holder_name_input', a.holder_name_input,
               'assignment', CASE
                   WHEN a.purpose = 'assignment' THEN jsonb_build_object(
                       'assignee_name', a.assignee_name,
                       'from', a.assignment_from,
                       'to', a.assignment_to)
                   END,
               'effective_from', to_char(a.effective_from, 'YYYY-MM'),
               'effective_to', to_char(a.effective_to, 'YYYY-MM'),
               'status', a.status,
               'version', a.version,
               'submitted_by', a.submitted_by,
               'submitted_at', a.submitted_at,
               'reviewed_by', a.reviewed_by,
               'reviewed_org_id', a.reviewed_org_id,
               'reviewed_at', a.reviewed_at,
               'review_reason', a.review_reason,
               'created_at', a.created_at,
               'updated_at', a.updated_at), $3, $4::uuid
    FROM a)
SELECT (
    jsonb_build_object(
        'id', a.id,
        'org_id', a.org_id,
        'institution_code', a.institution_code,
        'prefecture_code', a.pref_code,
        'purpose', a.purpose,
        'bank_code', a.bank_code,
        'branch_code', a.branch_code,
        'account_type', a.account_type,
        'account_number', a.account_number,
        'holder_name', a.holder_name,
        'holder_name_input', a.holder_name_input,
        'assignment', CASE
            WHEN a.purpose = 'assignment' THEN jsonb_build_object(
                'assignee_name', a.assignee_name,
                'from', a.assignment_from,
                'to', a.assignment_to)
            END,
        'effective_from', to_char(a.effective_from, 'YYYY-MM'),
        'effective_to', to_char(a.effective_to, 'YYYY-MM'),
        'status', a.status,
        'version', a.version,
        'submitted_by', a.submitted_by,
        'submitted_at', a.submitted_at,
        'reviewed_by', a.reviewed_by,
        'reviewed_org_id', a.reviewed_org_id,
        'reviewed_at', a.reviewed_at,
        'review_reason', a.review_reason,
        'created_at', a.created_at,
        'updated_at', a.updated_at) || jsonb_build_object(
            'documents', (SELECT coalesce(
                              jsonb_agg(
                                  jsonb_build_object(
                                      'id', d.id,
                                      'version', d.version,
                                      'kind', d.kind,
                                      'content_type', d.content_type,
                                      'size_bytes', d.size_bytes,
                                      'sha256', d.sha256,
                                      'uploaded_by', d.uploaded_by,
                                      'uploaded_at', d.uploaded_at) ORDER BY d.uploaded_at, d.id),
                              '[]'::jsonb)
                          FROM payment.bank_account_documents d
                          WHERE d.account_id = a.id)))::text
FROM a;
