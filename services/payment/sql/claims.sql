-- claims.sql - an institution's claims (claims.c, claims_read.c): its lock, the close day, the
-- collection of records into lines, and the totals of a month.

-- name: pay_claims_lock
-- $1 institution_code: text, the institution code
-- $2 close_day: int, the day of the following month a claim month closes on
-- The institution's lock for its claims, then its batches past their close day closed.
SELECT pg_advisory_xact_lock(hashtext('claims:' || $1)), payment.close_due($1, $2::int);

-- name: pay_close_due_pref
-- $1 pref_code: text, the caller's prefecture
-- $2 close_day: int, the day of the following month a claim month closes on
-- The prefecture's batches past their close day closed.
SELECT payment.close_due_pref($1, $2::int);

-- name: pay_feed_cursor
-- $1 institution_code: text, the caller's institution code
-- $2 month: date, the vaccination month's first day
-- The stored cursor of the records service's claims feed for the institution and month (made at
-- the start, '0-0', when missing), and the database's clock now (what this collect changes is
-- newer: pay_collect_unchanged).
WITH i AS (
    INSERT INTO payment.feed_cursors (institution_code, month)
    VALUES ($1, $2::date)
    ON CONFLICT DO NOTHING
    RETURNING after)
SELECT coalesce((SELECT i.after FROM i), (SELECT c.after
                                          FROM payment.feed_cursors c
                                          WHERE c.institution_code = $1
                                            AND c.month = $2::date)), clock_timestamp()::text;

-- name: pay_feed_advance
-- $1 next: text, the page's next_after
-- $2 after: text, the cursor the page was read after
-- $3 institution_code: text, the caller's institution code
-- $4 month: date, the vaccination month's first day
-- The cursor moved past a page, in the page's transaction (sesshu/feed.h): one row, or none when
-- another collect of the institution moved it first (its page stands, this one rolls back).
UPDATE payment.feed_cursors
SET after = $1, updated_at = now()
WHERE institution_code = $3
  AND month = $4::date
  AND after = $2;

-- name: pay_collect_unchanged
-- $1 institution_code: text, the caller's institution code
-- $2 month: date, the vaccination month's first day
-- $3 since: timestamptz, when this collect started (the database's clock)
-- The month's records on the institution's lines that no line written since `since` touched
-- (a record's lines are in batches of its month or later).
SELECT count(*)
FROM (SELECT l.record_id
    FROM payment.claim_batches b
    JOIN payment.claim_lines l ON l.batch_id = b.id
    WHERE b.institution_code = $1
      AND b.claim_month >= $2::date
      AND l.vaccinated_on >= $2::date
      AND l.vaccinated_on < ($2::date + interval '1 month')
    GROUP BY l.record_id
    HAVING max(greatest(l.created_at, l.updated_at)) < $3::timestamptz) x;

-- name: pay_collect_page
-- $1 org_id: uuid, the caller's organisation
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 close_day: int, the day of the following month a claim month closes on
-- $5 records: jsonb, a page of the records service's claims feed (its items)
-- A page of records priced into claim lines (migrations/005_collect_page.sql): counts by outcome.
SELECT outcome, n
FROM payment.collect_page($1::uuid, $2, $3, $4::int, $5::jsonb);

-- name: pay_claims_totals
-- $1 viewer: text, inst | fed | muni | chuo (chuo: every line)
-- $2 institution_code: text, the caller's institution code
-- $3 pref_code: text, the caller's prefecture
-- $4 muni_code: text, the caller's municipality
-- $5 claim_month: date, YYYY-MM-01
-- A month's lines summed per prefecture (the 国保中央会: every line) or per institution (what the
-- viewer may see), with the grand total.
WITH l AS (
    SELECT l.*, CASE WHEN $1::text = 'chuo' THEN l.pref_code ELSE l.institution_code END AS k
    FROM payment.claim_lines l
    JOIN payment.claim_batches b ON b.id = l.batch_id
    WHERE b.claim_month = $5::date
      AND ($1::text = 'chuo'
           OR (($1::text = 'inst' AND l.institution_code = $2)
               OR ($1::text = 'fed' AND l.pref_code = $3)
               OR ($1::text = 'muni' AND l.muni_code = $4 AND b.status <> 'open')))),
g AS (
    SELECT k, count(DISTINCT institution_code) AS institutions, count(*) AS lines,
           sum(claim_yen) AS claimed_yen, coalesce(sum(approved_yen), 0) AS approved_yen,
           count(*) FILTER (WHERE status = 'returned') AS returned_lines
    FROM l
    GROUP BY k)
SELECT jsonb_build_object(
    'claim_month', to_char($5::date, 'YYYY-MM'),
    'group_by', CASE WHEN $1::text = 'chuo' THEN 'prefecture_code' ELSE 'institution_code' END,
    'items', (SELECT coalesce(
                  jsonb_agg(
                      jsonb_build_object(
                          'key', k,
                          'institutions', institutions,
                          'lines', lines,
                          'claimed_yen', claimed_yen,
                          'approved_yen', approved_yen,
                          'returned_lines', returned_lines) ORDER BY k), '[]')
              FROM g),
    'total', (SELECT jsonb_build_object(
                  'institutions', count(DISTINCT institution_code),
                  'lines', count(*),
                  'claimed_yen', coalesce(sum(claim_yen), 0),
                  'approved_yen', coalesce(sum(approved_yen), 0),
                  'returned_lines', count(*) FILTER (WHERE status = 'returned'))
              FROM l))::text;
