-- batches.sql - monthly claim batches (claims.c, claims_read.c, claims_review.c): close, read, accept.
-- A batch's JSON: id, codes, month, status, and totals over its lines.

-- name: pay_batch_close
-- $1 org_id: uuid, the caller's organisation
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 claim_month: date, YYYY-MM-01
-- $5 by: text, the caller (token subject)
-- The institution's batch of the month (made when missing) closed unless it is: its id.
WITH b AS (
    SELECT payment.batch_for($1::uuid, $2, $3, $4::date) AS id),
u AS (
    UPDATE payment.claim_batches x
    SET status = 'closed', closed_how = 'institution', closed_by = $5, closed_at = now()
    FROM b
    WHERE x.id = b.id
      AND x.status = 'open'
    RETURNING x.id)
SELECT b.id::text
FROM b;

-- name: pay_batch_by_id
-- $1 id: uuid, the batch
-- A batch with its totals (after a write that checked who may see it).
SELECT payment.batch_json(x)::text
FROM payment.claim_batches x
WHERE x.id = $1::uuid;

-- name: pay_batch_list
-- $1 viewer: text, inst | fed
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 muni_code: text, the caller's municipality
-- $5 claim_month: date, or NULL
-- $6 status: text, open | closed | reviewed, or NULL
-- $7 filter_institution_code: text, an institution to list, or NULL
-- $8 cursor_month: date, the cursor's claim month, or NULL
-- $9 cursor_id: uuid, the cursor's id, or NULL
-- $10 limit: int, the page size + 1
-- The batches the viewer may see, newest month first, a page after the cursor (limit + 1 rows).
SELECT payment.batch_json(b)::text, b.claim_month::text,
       b.id::text
FROM payment.claim_batches b
WHERE (($1::text = 'inst' AND b.institution_code = $2) OR ($1::text = 'fed' AND b.pref_code = $3))
  AND ($4::text IS NOT NULL OR true)
  AND ($5::date IS NULL OR b.claim_month = $5::date)
  AND ($6::text IS NULL OR b.status = $6)
  AND ($7::text IS NULL OR b.institution_code = $7)
  AND ($8::date IS NULL OR (b.claim_month, b.id) < ($8::date, $9::uuid))
ORDER BY b.claim_month DESC, b.id DESC
LIMIT $10::int;

-- name: pay_batch_get
-- $1 viewer: text, inst | fed
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 muni_code: text, the caller's municipality
-- $5 id: uuid, the batch
-- A batch the viewer may see.
SELECT payment.batch_json(b)::text
FROM payment.claim_batches b
WHERE b.id = $5::uuid
  AND (($1::text = 'inst' AND b.institution_code = $2) OR ($1::text = 'fed' AND b.pref_code = $3))
  AND $4::text IS NOT NULL;

-- name: pay_batch_accept_guard
-- $1 id: uuid, the batch
-- $2 pref_code: text, the caller's prefecture
-- The batch to accept, locked: status and claiming organisation.
SELECT b.status, b.org_id::text
FROM payment.claim_batches b
WHERE b.id = $1::uuid
  AND b.pref_code = $2
FOR UPDATE;

-- name: pay_batch_accept
-- $1 id: uuid, the batch
-- $2 by: text, the caller (token subject)
-- $3 by_org_id: uuid, the caller's organisation
-- Every undecided line of a batch accepted, and the batch reviewed.
WITH u AS (
    UPDATE payment.claim_lines l
    SET status = 'accepted', approved_yen = l.claim_yen, review_reason = NULL,
        reviewed_by = $2, reviewed_org_id = $3::uuid, reviewed_at = now(),
        updated_at = now()
    WHERE l.batch_id = $1::uuid
      AND l.status = 'claimed'
    RETURNING 1)
UPDATE payment.claim_batches x
SET status = 'reviewed', reviewed_at = now()
WHERE x.id = $1::uuid;
