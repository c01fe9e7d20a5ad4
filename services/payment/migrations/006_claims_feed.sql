-- 006_claims_feed.sql - collecting from the records service's claims feed (claims.c; records'
-- GET /internal/v1/claims-feed, its migrations/050_claims_feed.sql), issue 12's speed aim.
--
-- The feed is read per institution and vaccination month after a stored cursor, in pages of
-- thousands; each page is priced here in the transaction that moves the cursor, so a page is
-- never priced twice and a collect that stopped carries on where it stopped.
-- The SQL functions below read master's prices: their bodies are checked at their first call, not
-- here (as records 041 and 049 do), so that payment may migrate before master has (the HA and
-- container stacks start the services side by side).
SET LOCAL check_function_bodies = off;
CREATE TABLE payment.feed_cursors (
    institution_code text NOT NULL,
    month            date NOT NULL CHECK (payment.month_ok(month)),
    after            text NOT NULL DEFAULT '0-0',
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (institution_code, month)
);

-- A month of a large prefecture writes each line four times: priced (insert), reviewed, invoiced
-- and paid (updates). Room on each page lets the three updates be HOT (no indexed column
-- changes), without a new entry in each of the table's seven indexes: the index on invoice_id
-- goes (the payment run finds an invoice's lines through the month's batches of the prefecture,
-- sql/payment_runs.sql pay_run_insert), and the unique reclaim_of keeps no entry for the lines
-- that reclaim nothing (nearly all).
ALTER TABLE payment.claim_lines SET (fillfactor = 50);
ALTER TABLE payment.claim_lines DROP CONSTRAINT claim_lines_reclaim_of_key;
CREATE UNIQUE INDEX claim_lines_reclaim_of_key ON payment.claim_lines (reclaim_of)
    WHERE reclaim_of IS NOT NULL;
DROP INDEX payment.claim_lines_invoice;

-- The price and the eligibility as single SELECTs: the planner inlines them into collect_page's
-- one INSERT ... SELECT (index lookups per line instead of a PL/pgSQL call with its own queries
-- per line). The rules are 002's, unchanged; collect_record and reclaim_line read the one row.
DROP FUNCTION payment.price_of(text, text, text, int, date);
CREATE FUNCTION payment.price_of(muni text, inst text, vaccine text, dose int, on_day date)
RETURNS TABLE (basis text, contract_code text, price_yen int, self_pay_yen int)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN cc.contract_code IS NOT NULL THEN 'collective_contract'
                WHEN up.price_yen IS NOT NULL THEN 'unit_price' END,
           cc.contract_code,
           CASE WHEN cc.contract_code IS NOT NULL THEN cc.price_yen ELSE up.price_yen END,
           CASE WHEN cc.contract_code IS NOT NULL THEN coalesce(up.self_pay_yen, 0)
                WHEN up.price_yen IS NOT NULL THEN up.self_pay_yen END
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (
            SELECT u.price_yen, u.self_pay_yen FROM master.unit_prices u
             WHERE u.municipality_code = muni AND u.vaccine_code = vaccine AND u.dose_number = dose
               AND u.superseded_at IS NULL AND u.valid_from <= on_day
               AND (u.valid_to IS NULL OR u.valid_to >= on_day)
             ORDER BY u.valid_from DESC LIMIT 1) up ON true
      LEFT JOIN LATERAL (
            SELECT c.contract_code, c.price_yen FROM master.collective_contracts c
             WHERE c.institution_code = inst AND c.vaccine_code = vaccine
               AND c.superseded_at IS NULL AND c.valid_from <= on_day
               AND (c.valid_to IS NULL OR c.valid_to >= on_day)
             ORDER BY c.valid_from DESC, c.contract_code LIMIT 1) cc ON true
$$;

DROP FUNCTION payment.eligibility_of(text, text, uuid, text, date, text);
CREATE FUNCTION payment.eligibility_of(muni text, inst text, person uuid, vaccine text,
                                       on_day date, contract text)
RETURNS TABLE (eligibility text, referral_id uuid)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN substr(muni, 1, 2) = substr(inst, 1, 2) THEN 'in_area'
                WHEN contract IS NOT NULL THEN 'collective_contract'
                WHEN rf.id IS NULL THEN 'out_of_area'
                ELSE 'referral' END,
           rf.id
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (
            SELECT f.id FROM payment.referrals f
             WHERE substr(muni, 1, 2) <> substr(inst, 1, 2) AND contract IS NULL
               AND f.person_id = person AND f.muni_code = muni AND f.institution_code = inst
               AND (f.vaccine_code IS NULL OR f.vaccine_code = vaccine)
               AND f.valid_from <= on_day AND f.valid_to >= on_day
             ORDER BY f.created_at LIMIT 1) rf ON true
$$;

-- 005's collect_page for pages of thousands: the duplicate flag within a page by a window over
-- the page (it was a scan of the page per line, quadratic in the page), the price once per
-- municipality, product, dose and day of the page, the open month once.
CREATE OR REPLACE FUNCTION payment.collect_page(org uuid, inst text, pref text, close_day int,
                                                recs jsonb)
RETURNS TABLE (outcome text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
    outs  text[] := '{}';
    e     jsonb;
    added bigint;
    om    date := payment.open_month(close_day); -- once a page, not once a record
BEGIN
    -- Records already on a line (or of another institution, or without id), in order.
    FOR e IN SELECT t.e FROM jsonb_array_elements(recs) WITH ORDINALITY AS t (e, ord)
              WHERE t.e->>'institution_code' IS DISTINCT FROM inst OR t.e->>'id' IS NULL
                 OR t.e->>'version' IS NULL
                 OR EXISTS (SELECT 1 FROM payment.claim_lines l
                             WHERE l.record_id = (t.e->>'id')::uuid)
              ORDER BY t.ord LOOP
        outs := outs || payment.collect_record(org, inst, pref, close_day, e);
    END LOOP;
    -- New records that are not claimable (voided, or not 定期): nothing to claim.
    SELECT outs || array_agg('not_claimable'::text) INTO outs
      FROM jsonb_array_elements(recs) t (e)
     WHERE t.e->>'institution_code' = inst AND t.e->>'id' IS NOT NULL AND t.e->>'version' IS NOT NULL
       AND NOT (coalesce(t.e->>'status', '') <> 'voided' AND coalesce((t.e->>'claimable')::boolean, false))
       AND NOT EXISTS (SELECT 1 FROM payment.claim_lines l WHERE l.record_id = (t.e->>'id')::uuid);
    -- New claimable records: one statement. A day's claim month is the first month from its own
    -- (or the first open one) whose batch is not closed; each month's batch is made once.
    WITH f AS (
        SELECT t.ord, (t.e->>'id')::uuid AS rid, (t.e->>'version')::int AS ver,
               t.e->>'status' AS rstatus, (t.e->>'person_id')::uuid AS person,
               t.e->>'muni_code' AS muni, t.e->>'vaccine_code' AS vac,
               (t.e->>'dose_number')::int AS dose, (t.e->>'vaccinated_on')::date AS day,
               greatest(date_trunc('month', (t.e->>'vaccinated_on')::date)::date, om) AS m0
          FROM jsonb_array_elements(recs) WITH ORDINALITY AS t (e, ord)
         WHERE t.e->>'institution_code' = inst AND t.e->>'id' IS NOT NULL
           AND t.e->>'version' IS NOT NULL AND coalesce(t.e->>'status', '') <> 'voided'
           AND coalesce((t.e->>'claimable')::boolean, false)
           AND NOT EXISTS (SELECT 1 FROM payment.claim_lines l
                            WHERE l.record_id = (t.e->>'id')::uuid)),
    m AS MATERIALIZED (
        SELECT d.m0, payment.batch_for(org, inst, pref, payment.claim_month_for(inst, d.m0)) AS bid
          FROM (SELECT DISTINCT f.m0 FROM f) d),
    -- A price per municipality, product, dose and day of the page (a page of thousands has a
    -- few hundred), not per record.
    k AS MATERIALIZED (
        SELECT d.muni, d.vac, d.dose, d.day, pr.*
          FROM (SELECT DISTINCT f.muni, f.vac, f.dose, f.day FROM f) d
          CROSS JOIN LATERAL payment.price_of(d.muni, inst, d.vac, d.dose, d.day) pr),
    s AS MATERIALIZED (
        SELECT f.*, m.bid, pr.basis, pr.contract_code, pr.price_yen, pr.self_pay_yen,
               el.eligibility, el.referral_id,
               CASE WHEN el.eligibility = 'out_of_area' OR pr.price_yen IS NULL THEN 'returned'
                    ELSE 'claimed' END AS st
          FROM f
          JOIN m ON m.m0 = f.m0
          JOIN k pr ON pr.muni = f.muni AND pr.vac = f.vac AND pr.dose IS NOT DISTINCT FROM f.dose
                   AND pr.day = f.day
          CROSS JOIN LATERAL payment.eligibility_of(f.muni, inst, f.person, f.vac, f.day,
                                                    pr.contract_code) el),
    -- Lines not returned earlier in the page of the same person, product and dose.
    w AS (
        SELECT s.*, count(*) FILTER (WHERE s.st <> 'returned') OVER (
                   PARTITION BY s.person, s.vac, s.dose ORDER BY s.ord
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
          FROM s),
    ins AS (
        INSERT INTO payment.claim_lines (batch_id, kind, record_id, record_version, record_status,
               person_id, muni_code, institution_code, pref_code, vaccinated_on, vaccine_code,
               dose_number, basis, contract_code, price_yen, self_pay_yen, claim_yen, eligibility,
               referral_id, status, return_reason, flags)
        SELECT w.bid, 'claim', w.rid, w.ver, w.rstatus, w.person, w.muni, inst, pref, w.day, w.vac,
               w.dose, w.basis, w.contract_code, w.price_yen, w.self_pay_yen,
               CASE WHEN w.st = 'returned' THEN 0 ELSE greatest(w.price_yen - w.self_pay_yen, 0) END,
               w.eligibility, w.referral_id, w.st,
               CASE WHEN w.eligibility = 'out_of_area' THEN
                        '住所地外接種: the institution is outside the municipality''s area (prefecture '
                        || substr(w.muni, 1, 2) || '), takes part in no 集合契約 for the product and the '
                        || 'municipality registered no 依頼書 for this person'
                    WHEN w.price_yen IS NULL THEN
                        'no unit price (委託単価) of municipality ' || w.muni || ' for product ' || w.vac
                        || ' dose ' || coalesce(w.dose::text, '-') || ' on ' || w.day
               END,
               -- Another claim line (not returned) of the same person, product and dose, before
               -- this page or earlier in it: flagged for the reviewer.
               CASE WHEN w.earlier > 0
                      OR EXISTS (SELECT 1 FROM payment.claim_lines l WHERE l.person_id = w.person
                                    AND l.vaccine_code = w.vac AND l.dose_number = w.dose
                                    AND l.record_id <> w.rid AND l.kind = 'claim'
                                    AND l.status <> 'returned')
                    THEN '{duplicate}'::text[] ELSE '{}' END
          FROM w ORDER BY w.ord
        RETURNING 1)
    SELECT count(*) INTO added FROM ins;
    outs := outs || array_fill('added'::text, ARRAY[added::int]);
    RETURN QUERY SELECT o, count(*) FROM unnest(outs) o GROUP BY o;
END
$$;
