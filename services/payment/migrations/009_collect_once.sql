-- 009_collect_once.sql - 006's collect_page with the page's records already on a line found
-- once, before any line of the page is written (issue 12's speed aim; pg_stat_statements at a
-- million records: the per-record probe of claim_lines_record ran three times a page, ~40 ms of
-- a page of 5,000 each). Unchanged otherwise: the records already on a line go through
-- collect_record first and in order, the new ones that are not claimable are counted, the new
-- claimable ones are priced and inserted by one INSERT ... SELECT. A record whose line
-- collect_record deletes (voided in an open month) is now counted once ('updated'), not also
-- 'not_claimable' as 006 counted it after the delete.
SET LOCAL check_function_bodies = off;
CREATE OR REPLACE FUNCTION payment.collect_page(org uuid, inst text, pref text, close_day int,
                                                recs jsonb)
RETURNS TABLE (outcome text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
    outs  text[] := '{}';
    e     jsonb;
    added bigint;
    om    date := payment.open_month(close_day); -- once a page, not once a record
    known uuid[];
BEGIN
    -- The page's records already on a line, found once (one probe of claim_lines_record a
    -- record; 006 probed three times). Taken before any line of the page is written, so a
    -- record is counted once, by collect_record, even when collect_record deletes its line.
    SELECT coalesce(array_agg(DISTINCT l.record_id), '{}') INTO known
      FROM jsonb_array_elements(recs) t (e)
      JOIN payment.claim_lines l ON l.record_id = (t.e->>'id')::uuid
     WHERE t.e->>'id' ~ '^[0-9a-fA-F-]{36}$';
    -- Records already on a line (or of another institution, or without id), in order.
    FOR e IN SELECT t.e FROM jsonb_array_elements(recs) WITH ORDINALITY AS t (e, ord)
              WHERE t.e->>'institution_code' IS DISTINCT FROM inst OR t.e->>'id' IS NULL
                 OR t.e->>'version' IS NULL
                 OR (cardinality(known) > 0 AND (t.e->>'id')::uuid = ANY (known))
              ORDER BY t.ord LOOP
        outs := outs || payment.collect_record(org, inst, pref, close_day, e);
    END LOOP;
    -- New records that are not claimable (voided, or not 定期): nothing to claim.
    SELECT outs || array_agg('not_claimable'::text) INTO outs
      FROM jsonb_array_elements(recs) t (e)
     WHERE t.e->>'institution_code' = inst AND t.e->>'id' IS NOT NULL AND t.e->>'version' IS NOT NULL
       AND NOT (coalesce(t.e->>'status', '') <> 'voided' AND coalesce((t.e->>'claimable')::boolean, false))
       AND NOT (cardinality(known) > 0 AND (t.e->>'id')::uuid = ANY (known));
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
           AND NOT (cardinality(known) > 0 AND (t.e->>'id')::uuid = ANY (known))),
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
