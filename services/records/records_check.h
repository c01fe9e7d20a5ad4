/* records_check.h - the validation rules of a vaccination record (DOMAIN.md 8.2), written once
 * as set-based SQL over an input relation, so one registration and a million-line import run
 * the same rules.
 *
 * The caller defines the CTE `inp` with the columns
 *   ln bigint, person_id uuid, vaccinated_on date, vaccine_code text, disease_codes text[]
 *   (NULL = the product's), dose_number int, lot_no text, institution_code text,
 *   category text, pregnancy_weeks int, exclude_id uuid (the record being corrected), source text
 * and appends REC_CHECK_CTES, which defines `chk`:
 *   ln, errors jsonb (array of {field, reason}, NULL when none), duplicate boolean,
 *   diseases text[], schedule_code text, dose_label text, in_window boolean, muni_code text.
 *
 * Master rows count "as of" the vaccination date (the master read contract). When the body
 * names no diseases, a product against several (乾燥弱毒生水痘ワクチン: varicella and zoster)
 * counts for those whose schedule window holds the date, or for all of them when none does. */
#ifndef RECORDS_CHECK_H
#define RECORDS_CHECK_H

/* The SQL is kept as written: clang-format would re-flow the string pieces on every run. */
/* clang-format off */
#define REC_ASOF(t, d) \
    t ".superseded_at IS NULL AND " t ".valid_from <= " d " AND (" t ".valid_to IS NULL OR " t ".valid_to >= " d ")"

/* Fiscal year (April to March) of a date: B類 doses count once per year. */
#define REC_FY(d) "extract(year FROM (" d ") - interval '3 months')"

#define REC_CHECK_CTES \
    "b AS (SELECT i.*, i.vaccinated_on AS d, p.id IS NOT NULL AS p_ok, p.birth_date, p.sex, " \
    "  p.muni_code AS p_muni, v.code IS NOT NULL AS v_ok, " \
    "  coalesce(v.live AND v.route = 'injection', false) AS live_inj, " \
    "  coalesce(i.disease_codes, v.disease_codes, '{}') AS cand, " \
    "  (i.disease_codes IS NULL OR i.disease_codes <@ v.disease_codes) AS dis_ok, " \
    "  l.lot_no IS NOT NULL AS lot_ok, l.expiry_on, ins.code IS NOT NULL AS ins_ok " \
    "  FROM inp i LEFT JOIN records.persons p ON p.id = i.person_id " \
    "  LEFT JOIN master.vaccines v ON v.code = i.vaccine_code AND " REC_ASOF("v", "i.vaccinated_on") \
    "  LEFT JOIN master.lots l ON l.vaccine_code = i.vaccine_code AND l.lot_no = i.lot_no AND " \
         REC_ASOF("l", "i.vaccinated_on") \
    "  LEFT JOIN master.institutions ins ON ins.code = i.institution_code AND " \
         REC_ASOF("ins", "i.vaccinated_on") "), " \
    /* the schedule row of each candidate disease for this dose, and whether the date fits */ \
    "sch AS (SELECT DISTINCT ON (b.ln, dz) b.ln, dz AS disease, s.code, s.dose_label, " \
    "  s.min_interval, s.min_interval_from_first, (b.birth_date + s.age_from <= b.d " \
    "  AND b.d < b.birth_date + s.age_to AND (s.sex IS NULL OR s.sex = b.sex) " \
    "  AND (s.pregnancy_weeks_from IS NULL OR b.pregnancy_weeks BETWEEN s.pregnancy_weeks_from " \
    "  AND coalesce(s.pregnancy_weeks_to, 99))) AS in_window " \
    "  FROM b CROSS JOIN LATERAL unnest(b.cand) dz JOIN master.schedules s ON s.disease_code = dz " \
    "  AND s.dose_number = b.dose_number AND " REC_ASOF("s", "b.d") \
    "  AND (s.vaccine_code = b.vaccine_code OR (s.vaccine_code IS NULL AND NOT EXISTS (SELECT 1 " \
    "  FROM master.schedules s2 WHERE s2.disease_code = dz AND s2.vaccine_code = b.vaccine_code " \
    "  AND s2.superseded_at IS NULL))) WHERE b.p_ok ORDER BY b.ln, dz, 7 DESC), " \
    "inw AS (SELECT s.ln, array_agg(s.disease ORDER BY array_position(b.cand, s.disease)) " \
    "  AS diseases FROM sch s JOIN b ON b.ln = s.ln WHERE s.in_window GROUP BY s.ln), " \
    "res AS (SELECT b.ln, CASE WHEN b.disease_codes IS NOT NULL THEN b.disease_codes ELSE " \
    "  coalesce(inw.diseases, b.cand) END AS diseases FROM b LEFT JOIN inw ON inw.ln = b.ln), " \
    /* every dose of the persons concerned, one row per disease: recorded ones and the input; */ \
    /* fy: the fiscal year for B類 diseases (their doses count once a year), else NULL */ \
    "dcat AS (SELECT code, min(category) AS cat FROM master.diseases WHERE superseded_at IS NULL " \
    "  GROUP BY code), " \
    "hist AS (SELECT h.*, CASE WHEN dc.cat = 'B' THEN " REC_FY("h.d") " END AS fy FROM (" \
    "  SELECT im.person_id, dz AS disease, im.dose_number, im.vaccinated_on AS d, " \
    "  im.vaccine_code, NULL::bigint AS ln FROM records.immunizations im, " \
    "  unnest(im.disease_codes) dz WHERE im.status <> 'voided' " \
    "  AND im.person_id IN (SELECT person_id FROM inp) " \
    "  AND im.id NOT IN (SELECT exclude_id FROM inp WHERE exclude_id IS NOT NULL) " \
    "  UNION ALL SELECT b.person_id, dz, b.dose_number, b.d, b.vaccine_code, b.ln " \
    "  FROM b JOIN res ON res.ln = b.ln, unnest(res.diseases) dz WHERE b.p_ok) h " \
    "  LEFT JOIN dcat dc ON dc.code = h.disease), " \
    /* one pass of windows per (person, disease) instead of a self-join: a duplicate is a dose */ \
    /* recorded before (or on an earlier line); prev/first/later doses by dose number */ \
    "w AS (SELECT h.*, " \
    "  count(*) OVER (PARTITION BY h.person_id, h.disease, h.dose_number, h.fy " \
    "    ORDER BY coalesce(h.ln, 0) ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup1, " \
    "  count(*) OVER (PARTITION BY h.person_id, h.disease, h.vaccine_code, h.d " \
    "    ORDER BY coalesce(h.ln, 0) ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup2, " \
    "  max(h.d) OVER (PARTITION BY h.person_id, h.disease ORDER BY h.dose_number " \
    "    RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING) AS prev_d, " \
    "  min(h.d) FILTER (WHERE h.dose_number = 1) OVER (PARTITION BY h.person_id, h.disease) " \
    "    AS first_d, " \
    "  min(h.d) OVER (PARTITION BY h.person_id, h.disease ORDER BY h.dose_number DESC " \
    "    RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS later_min FROM hist h), " \
    "seqc AS (SELECT w.ln, w.disease, w.dose_number, w.d, (w.dup1 > 0 OR w.dup2 > 0) AS dup, " \
    "  w.prev_d, w.first_d, coalesce(w.later_min <= w.d, false) AS later_earlier, " \
    "  s.min_interval, s.min_interval_from_first FROM w LEFT JOIN sch s ON s.ln = w.ln " \
    "  AND s.disease = w.disease WHERE w.ln IS NOT NULL), " \
    "live AS (SELECT DISTINCT b.ln, h.d FROM b JOIN hist h ON h.person_id = b.person_id " \
    "  AND h.vaccine_code <> b.vaccine_code AND abs(h.d - b.d) < 28 AND h.ln IS DISTINCT FROM b.ln " \
    "  WHERE b.live_inj AND EXISTS (SELECT 1 FROM master.vaccines v2 WHERE v2.code = h.vaccine_code " \
    "  AND v2.superseded_at IS NULL AND v2.live AND v2.route = 'injection')), " \
    "errs AS (" \
    "  SELECT ln, 'person_id' AS f, 'is not a person of yours' AS r FROM b WHERE NOT p_ok " \
    "  UNION ALL SELECT ln, 'vaccinated_on', 'is in the future' FROM b WHERE d > current_date " \
    "  UNION ALL SELECT ln, 'vaccinated_on', 'is before the birth date (' || birth_date || ')' " \
    "    FROM b WHERE p_ok AND d < birth_date " \
    "  UNION ALL SELECT ln, 'vaccine_code', 'is not a product of the vaccine master on the " \
    "vaccination date' FROM b WHERE NOT v_ok " \
    "  UNION ALL SELECT ln, 'disease_codes', 'names a disease the product does not prevent' " \
    "    FROM b WHERE v_ok AND NOT dis_ok " \
    "  UNION ALL SELECT ln, 'lot_no', 'is not a lot of this product in the lot master' " \
    "    FROM b WHERE v_ok AND lot_no IS NOT NULL AND NOT lot_ok " \
    "  UNION ALL SELECT ln, 'lot_no', 'had expired on the vaccination date (expiry ' || " \
    "    expiry_on || ')' FROM b WHERE lot_ok AND expiry_on < d " \
    "  UNION ALL SELECT ln, 'lot_no', 'is required' FROM b WHERE lot_no IS NULL " \
    "    AND source <> 'foreign' " \
    "  UNION ALL SELECT ln, 'institution_code', 'is not a medical institution of the master on " \
    "the vaccination date' FROM b WHERE institution_code IS NOT NULL AND NOT ins_ok " \
    "  UNION ALL SELECT ln, 'dose_number', format('dose %s of %s is not recorded', " \
    "    dose_number - 1, disease) FROM seqc WHERE dose_number > 1 AND prev_d IS NULL " \
    "  UNION ALL SELECT ln, 'vaccinated_on', format('is not after dose %s of %s (%s)', " \
    "    dose_number - 1, disease, prev_d) FROM seqc WHERE prev_d >= d " \
    "  UNION ALL SELECT ln, 'dose_number', format('a later dose of %s is recorded on or before " \
    "this date', disease) FROM seqc WHERE later_earlier " \
    "  UNION ALL SELECT ln, 'vaccinated_on', format('is less than the minimum interval %s " \
    "after dose %s of %s (%s)', min_interval, dose_number - 1, disease, prev_d) " \
    "    FROM seqc WHERE prev_d < d AND d < prev_d + min_interval " \
    "  UNION ALL SELECT ln, 'vaccinated_on', format('is less than %s after the first dose of " \
    "%s (%s)', min_interval_from_first, disease, first_d) FROM seqc " \
    "    WHERE d < first_d + min_interval_from_first " \
    "  UNION ALL SELECT ln, 'vaccinated_on', format('is less than 27 days from another injected " \
    "live vaccine (%s)', d) FROM live), " \
    "ea AS (SELECT ln, jsonb_agg(DISTINCT jsonb_build_object('field', f, 'reason', r)) AS errors " \
    "  FROM errs GROUP BY ln), " \
    "da AS (SELECT ln, bool_or(dup) AS dup FROM seqc GROUP BY ln), " \
    "sa AS (SELECT s.ln, count(*) AS n, bool_and(s.in_window) AS all_in, min(s.code) AS code, " \
    "  min(s.dose_label) AS label FROM sch s JOIN res ON res.ln = s.ln " \
    "  WHERE s.disease = ANY (res.diseases) GROUP BY s.ln), " \
    "chk AS (SELECT b.ln, ea.errors, coalesce(da.dup, false) AS duplicate, res.diseases, " \
    "  sa.code AS schedule_code, sa.label AS dose_label, " \
    "  coalesce(sa.n = cardinality(res.diseases) AND sa.all_in, false) AS in_window, " \
    "  b.p_muni AS muni_code FROM b JOIN res ON res.ln = b.ln LEFT JOIN ea ON ea.ln = b.ln " \
    "  LEFT JOIN da ON da.ln = b.ln LEFT JOIN sa ON sa.ln = b.ln) "
/* clang-format on */

#endif
