-- lines.sql - claim lines (claims_read.c, claims_review.c): read, review (事務点検), reclaim.

-- name: pay_line_list
-- $1 viewer: text, inst | fed | muni
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 muni_code: text, the caller's municipality
-- $5 claim_month: date, or NULL
-- $6 batch_id: uuid, or NULL
-- $7 status: text, claimed | returned | accepted | adjusted, or NULL
-- $8 kind: text, claim | adjustment, or NULL
-- $9 filter_muni_code: text, a municipality to list, or NULL
-- $10 filter_institution_code: text, an institution to list, or NULL
-- $11 record_id: uuid, or NULL
-- $12 cursor_seq: bigint, the cursor's line number, or NULL
-- $13 limit: int, the page size + 1
-- The lines the viewer may see, in the order they were made, a page after the cursor (limit + 1
-- rows).
SELECT payment.line_json(l, b)::text, l.seq::text
FROM payment.claim_lines l
JOIN payment.claim_batches b ON b.id = l.batch_id
WHERE (($1::text = 'inst' AND l.institution_code = $2)
       OR ($1::text = 'fed' AND l.pref_code = $3)
       OR ($1::text = 'muni' AND l.muni_code = $4 AND b.status <> 'open'))
  AND ($5::date IS NULL OR b.claim_month = $5::date)
  AND ($6::uuid IS NULL OR l.batch_id = $6::uuid)
  AND ($7::text IS NULL OR l.status = $7)
  AND ($8::text IS NULL OR l.kind = $8)
  AND ($9::text IS NULL OR l.muni_code = $9)
  AND ($10::text IS NULL OR l.institution_code = $10)
  AND ($11::uuid IS NULL OR l.record_id = $11::uuid)
  AND ($12::bigint IS NULL OR l.seq > $12::bigint)
ORDER BY l.seq
LIMIT $13::int;

-- name: pay_line_get
-- $1 viewer: text, inst | fed | muni
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 muni_code: text, the caller's municipality
-- $5 id: uuid, the claim line
-- A line the viewer may see.
SELECT payment.line_json(l, b)::text
FROM payment.claim_lines l
JOIN payment.claim_batches b ON b.id = l.batch_id
WHERE l.id = $5::uuid
  AND (($1::text = 'inst' AND l.institution_code = $2)
       OR ($1::text = 'fed' AND l.pref_code = $3)
       OR ($1::text = 'muni' AND l.muni_code = $4 AND b.status <> 'open'));

-- name: pay_line_review_guard
-- $1 id: uuid, the claim line
-- $2 pref_code: text, the caller's prefecture
-- The line under review and its batch, locked.
SELECT b.status, l.status, b.org_id::text, l.claim_yen::text, l.kind
FROM payment.claim_lines l
JOIN payment.claim_batches b ON b.id = l.batch_id
WHERE l.id = $1::uuid
  AND l.pref_code = $2
FOR UPDATE OF l, b;

-- name: pay_line_decide
-- $1 id: uuid, the claim line
-- $2 decision: text, accept | return | adjust
-- $3 approved_yen: int, adjust: the amount, else NULL
-- $4 reason: text, or NULL
-- $5 by: text, the caller (token subject)
-- $6 by_org_id: uuid, the caller's organisation
-- The decision on a line, and its batch reviewed when no other line is left undecided.
WITH u AS (
    UPDATE payment.claim_lines l
    SET status = CASE
        $2
        WHEN 'accept' THEN 'accepted'
        WHEN 'return' THEN 'returned'
        ELSE 'adjusted'
        END, approved_yen = CASE $2 WHEN 'accept' THEN l.claim_yen WHEN 'adjust' THEN $3::int END,
        return_reason = CASE WHEN $2 = 'return' THEN $4 END,
        review_reason = $4, reviewed_by = $5, reviewed_org_id = $6::uuid,
        reviewed_at = now(), updated_at = now()
    WHERE l.id = $1::uuid
    RETURNING l.*),
b AS (
    UPDATE payment.claim_batches x
    SET status = 'reviewed', reviewed_at = now()
    FROM u
    WHERE x.id = u.batch_id
      AND NOT EXISTS (SELECT 1
                      FROM payment.claim_lines o
                      WHERE o.batch_id = x.id
                        AND o.status = 'claimed'
                        AND o.id <> u.id)
    RETURNING x.id)
SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM b);

-- name: pay_line_by_id
-- $1 id: uuid, the claim line
-- A line (after a write that checked who may see it).
SELECT payment.line_json(l, b)::text
FROM payment.claim_lines l
JOIN payment.claim_batches b ON b.id = l.batch_id
WHERE l.id = $1::uuid;

-- name: pay_line_reclaim_guard
-- $1 id: uuid, the claim line
-- $2 institution_code: text, the caller's institution code
-- A line of the institution: status, kind, and whether a later line of its record exists.
SELECT l.status, l.kind,
       EXISTS (SELECT 1
               FROM payment.claim_lines n
               WHERE n.record_id = l.record_id
                 AND n.seq > l.seq)
FROM payment.claim_lines l
WHERE l.id = $1::uuid
  AND l.institution_code = $2;

-- name: pay_line_reclaim
-- $1 id: uuid, the claim line
-- $2 close_day: int, the day of the following month a claim month closes on
-- A returned line priced and judged again into the first open month (migrations/002_claims.sql):
-- the new line's id.
SELECT payment.reclaim_line($1::uuid, $2::int)::text;
