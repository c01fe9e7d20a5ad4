-- documents.sql - an account's supporting documents, 委任状 and passbook copies (accounts_review.c).

-- name: pay_document_insert
-- $1 account_id: uuid, the bank account
-- $2 org_id: uuid, the caller's organisation (the account's)
-- $3 kind: text, power_of_attorney | passbook | other
-- $4 content_type: text, the checked media type
-- $5 size_bytes: int
-- $6 sha256: text, hex
-- $7 content: bytea, the file, hex bytea
-- $8 by: text, the caller (token subject)
-- A document for an open request of the organisation (not approved, at most 5 documents). No row:
-- no such open account with room.
WITH a AS (
    SELECT x.*
    FROM payment.bank_accounts x
    WHERE x.id = $1::uuid
      AND x.org_id = $2::uuid
      AND x.status <> 'approved'
      AND (SELECT count(*)
           FROM payment.bank_account_documents d
           WHERE d.account_id = x.id) < 5),
d AS (
    INSERT INTO payment.bank_account_documents (
        account_id, version, kind, content_type, size_bytes, sha256, content, uploaded_by)
    SELECT a.id, a.version, $3, $4, $5::int, $6, $7::bytea, $8
    FROM a
    RETURNING *)
SELECT jsonb_build_object(
    'id', d.id,
    'account_id', d.account_id,
    'version', d.version,
    'kind', d.kind,
    'content_type', d.content_type,
    'size_bytes', d.size_bytes,
    'sha256', d.sha256,
    'uploaded_by', d.uploaded_by,
    'uploaded_at', d.uploaded_at)::text
FROM d;

-- name: pay_document_get
-- $1 viewer: text, inst | fed
-- $2 org_id: uuid, the caller's organisation
-- $3 pref_code: text, the caller's prefecture
-- $4 account_id: uuid, the bank account
-- $5 id: uuid, the document
-- A document's type and content, if the viewer may see its account.
SELECT d.content_type, d.content
FROM payment.bank_account_documents d
JOIN payment.bank_accounts a ON a.id = d.account_id
WHERE a.id = $4::uuid
  AND d.id = $5::uuid
  AND (($1::text = 'inst' AND a.org_id = $2::uuid) OR ($1::text = 'fed' AND a.pref_code = $3::text));
