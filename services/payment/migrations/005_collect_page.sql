-- 005_collect_page.sql - a page of records into an institution's claims in a few set-based
-- statements (issue 12's speed aim: a month of a large prefecture, a million records).
--
-- Records seen for the first time that are claimable (the common case: nearly every record of a
-- month) are priced, judged and inserted by one INSERT ... SELECT; the others (a record already
-- on a line: re-priced, 過誤調整, unchanged) still go through payment.collect_record, one by one
-- and first, so that their lines exist when the new ones are checked for duplicates. The
-- outcomes are collect_record's, counted.

CREATE FUNCTION payment.collect_page(org uuid, inst text, pref text, close_day int, recs jsonb)
RETURNS TABLE (outcome text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
    outs  text[] := '{}';
    e     jsonb;
    added bigint;
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
               greatest(date_trunc('month', (t.e->>'vaccinated_on')::date)::date,
                        payment.open_month(close_day)) AS m0
          FROM jsonb_array_elements(recs) WITH ORDINALITY AS t (e, ord)
         WHERE t.e->>'institution_code' = inst AND t.e->>'id' IS NOT NULL
           AND t.e->>'version' IS NOT NULL AND coalesce(t.e->>'status', '') <> 'voided'
           AND coalesce((t.e->>'claimable')::boolean, false)
           AND NOT EXISTS (SELECT 1 FROM payment.claim_lines l
                            WHERE l.record_id = (t.e->>'id')::uuid)),
    m AS MATERIALIZED (
        SELECT d.m0, payment.batch_for(org, inst, pref, payment.claim_month_for(inst, d.m0)) AS bid
          FROM (SELECT DISTINCT f.m0 FROM f) d),
    s AS MATERIALIZED (
        SELECT f.*, m.bid, pr.basis, pr.contract_code, pr.price_yen, pr.self_pay_yen,
               el.eligibility, el.referral_id,
               CASE WHEN el.eligibility = 'out_of_area' OR pr.price_yen IS NULL THEN 'returned'
                    ELSE 'claimed' END AS st
          FROM f
          JOIN m ON m.m0 = f.m0
          CROSS JOIN LATERAL payment.price_of(f.muni, inst, f.vac, f.dose, f.day) pr
          CROSS JOIN LATERAL payment.eligibility_of(f.muni, inst, f.person, f.vac, f.day,
                                                    pr.contract_code) el),
    ins AS (
        INSERT INTO payment.claim_lines (batch_id, kind, record_id, record_version, record_status,
               person_id, muni_code, institution_code, pref_code, vaccinated_on, vaccine_code,
               dose_number, basis, contract_code, price_yen, self_pay_yen, claim_yen, eligibility,
               referral_id, status, return_reason, flags)
        SELECT s.bid, 'claim', s.rid, s.ver, s.rstatus, s.person, s.muni, inst, pref, s.day, s.vac,
               s.dose, s.basis, s.contract_code, s.price_yen, s.self_pay_yen,
               CASE WHEN s.st = 'returned' THEN 0 ELSE greatest(s.price_yen - s.self_pay_yen, 0) END,
               s.eligibility, s.referral_id, s.st,
               CASE WHEN s.eligibility = 'out_of_area' THEN
                        '住所地外接種: the institution is outside the municipality''s area (prefecture '
                        || substr(s.muni, 1, 2) || '), takes part in no 集合契約 for the product and the '
                        || 'municipality registered no 依頼書 for this person'
                    WHEN s.price_yen IS NULL THEN
                        'no unit price (委託単価) of municipality ' || s.muni || ' for product ' || s.vac
                        || ' dose ' || coalesce(s.dose::text, '-') || ' on ' || s.day
               END,
               -- Another claim line (not returned) of the same person, product and dose, before
               -- this page or earlier in it: flagged for the reviewer.
               CASE WHEN EXISTS (SELECT 1 FROM payment.claim_lines l WHERE l.person_id = s.person
                                    AND l.vaccine_code = s.vac AND l.dose_number = s.dose
                                    AND l.record_id <> s.rid AND l.kind = 'claim'
                                    AND l.status <> 'returned')
                      OR EXISTS (SELECT 1 FROM s o WHERE o.person = s.person AND o.vac = s.vac
                                    AND o.dose = s.dose AND o.ord < s.ord AND o.st <> 'returned')
                    THEN '{duplicate}'::text[] ELSE '{}' END
          FROM s ORDER BY s.ord
        RETURNING 1)
    SELECT count(*) INTO added FROM ins;
    outs := outs || array_fill('added'::text, ARRAY[added::int]);
    RETURN QUERY SELECT o, count(*) FROM unnest(outs) o GROUP BY o;
END
$$;
