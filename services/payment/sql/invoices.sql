-- invoices.sql - invoices to municipalities and their payment (invoices.c).

-- name: pay_invoice_issue_guard
-- $1 pref_code: text, the caller's prefecture
-- $2 claim_month: date, YYYY-MM-01
-- The prefecture's invoice lock, and how many batches of the month are not reviewed.
SELECT pg_advisory_xact_lock(hashtext('invoices:' || $1)),
       (SELECT count(*)
        FROM payment.claim_batches b
        WHERE b.pref_code = $1
          AND b.claim_month = $2::date
          AND b.status <> 'reviewed');

-- name: pay_invoice_issue
-- $1 pref_code: text, the caller's prefecture
-- $2 claim_month: date, YYYY-MM-01
-- $3 fee_per_line_yen: int, the 委託事務手数料 per line
-- $4 by: text, the caller (token subject)
-- $5 by_org_id: uuid, the caller's organisation
-- One invoice per municipality of the month's approved lines not yet billed, and a part per batch
-- and municipality saying which invoice bills those lines (migrations/008_invoice_parts.sql:
-- the lines themselves are not written). A batch is billed whole, once reviewed, and once.
WITH g AS (
    SELECT l.batch_id, l.muni_code, b.institution_code, count(*) AS n, sum(l.approved_yen) AS amt
    FROM payment.claim_batches b
    JOIN payment.claim_lines l ON l.batch_id = b.id
    WHERE b.pref_code = $1
      AND b.claim_month = $2::date
      AND b.status = 'reviewed'
      AND l.status IN ('accepted', 'adjusted')
      AND NOT EXISTS (SELECT 1
                      FROM payment.invoice_parts p
                      WHERE p.batch_id = b.id)
    GROUP BY l.batch_id, l.muni_code, b.institution_code),
i AS (
    INSERT INTO payment.invoices (
        pref_code, fed_org_id, muni_code, claim_month, lines, amount_yen, fee_per_line_yen, fee_yen,
        total_yen, issued_by)
    SELECT $1, $5::uuid, muni_code, $2::date, sum(n), sum(amt),
           $3::int, sum(n) * $3::int, sum(amt) + sum(n) * $3::int,
           $4
    FROM g
    GROUP BY muni_code
    RETURNING id, muni_code)
INSERT INTO payment.invoice_parts (batch_id, muni_code, invoice_id, institution_code, lines, amount_yen)
SELECT g.batch_id, g.muni_code, i.id, g.institution_code, g.n, g.amt
FROM g
JOIN i ON i.muni_code = g.muni_code;

-- name: pay_invoice_month
-- $1 viewer: text, fed | muni
-- $2 pref_code: text, the caller's prefecture
-- $3 muni_code: text, the caller's municipality
-- $4 claim_month: date, YYYY-MM-01
-- The invoices of a month the viewer may see, by municipality.
SELECT jsonb_build_object(
    'claim_month', to_char($4::date, 'YYYY-MM'),
    'items', coalesce(
        jsonb_agg(payment.invoice_json(i) ORDER BY i.muni_code), '[]'))::text
FROM payment.invoices i
WHERE (($1::text = 'fed' AND i.pref_code = $2) OR ($1::text = 'muni' AND i.muni_code = $3))
  AND i.claim_month = $4::date;

-- name: pay_invoice_list
-- $1 viewer: text, fed | muni
-- $2 pref_code: text, the caller's prefecture
-- $3 muni_code: text, the caller's municipality
-- $4 claim_month: date, or NULL
-- $5 status: text, issued | paid, or NULL
-- The invoices the viewer may see, newest month first (at most 500).
SELECT payment.invoice_json(i)::text
FROM payment.invoices i
WHERE (($1::text = 'fed' AND i.pref_code = $2) OR ($1::text = 'muni' AND i.muni_code = $3))
  AND ($4::date IS NULL OR i.claim_month = $4::date)
  AND ($5::text IS NULL OR i.status = $5)
ORDER BY i.claim_month DESC, i.muni_code
LIMIT 500;

-- name: pay_invoice_get
-- $1 viewer: text, fed | muni
-- $2 pref_code: text, the caller's prefecture
-- $3 muni_code: text, the caller's municipality
-- $4 id: uuid, the invoice
-- An invoice the viewer may see.
SELECT payment.invoice_json(i)::text
FROM payment.invoices i
WHERE i.id = $4::uuid
  AND (($1::text = 'fed' AND i.pref_code = $2) OR ($1::text = 'muni' AND i.muni_code = $3));

-- name: pay_invoice_pay_guard
-- $1 id: uuid, the invoice
-- $2 muni_code: text, the caller's municipality
-- $3 paid_on: date, the day paid
-- $4 amount_yen: bigint, the amount paid
-- The municipality's invoice, locked: status, total, whether the day is after today (Japan), and
-- whether the amount is the total.
SELECT i.status, i.total_yen::text, $3::date > (now() AT TIME ZONE 'Asia/Tokyo')::date,
       $4::bigint = i.total_yen
FROM payment.invoices i
WHERE i.id = $1::uuid
  AND i.muni_code = $2
FOR UPDATE;

-- name: pay_invoice_pay
-- $1 id: uuid, the invoice
-- $2 muni_code: text, the caller's municipality
-- $3 paid_on: date, the day paid
-- $4 amount_yen: bigint, the amount paid
-- $5 by: text, the caller (token subject)
-- The payment recorded; the invoice as answered. No row: not an issued invoice of the municipality.
WITH i AS (
    UPDATE payment.invoices x
    SET status = 'paid', paid_on = $3::date, paid_amount_yen = $4::bigint,
        paid_recorded_by = $5, paid_recorded_at = now()
    WHERE x.id = $1::uuid
      AND x.muni_code = $2
      AND x.status = 'issued'
    RETURNING x.*)
SELECT payment.invoice_json(i::payment.invoices)::text
FROM i;
