-- immunizations.sql - H-3 vaccination records: register, check, correct, void, read, history, staff search (records.c, records_read.c, query.c).

-- name: rec_imm_search
-- $1 viewer: text, muni, inst, kokuhoren or mhlw (rec_viewer)
-- $2 muni_code: text, the caller's municipality (muni)
-- $3 org_id: uuid, the caller's organisation (inst)
-- $4 pref_code: text, the caller's prefecture (kokuhoren)
-- $5 resident_no: text
-- $6 name_kana: text
-- $7 birth_date: date
-- $8 person_id: uuid
-- $9 vaccine_code: text
-- $10 disease: text
-- $11 from: date
-- $12 to: date
-- $13 institution_code: text, compared as bpchar (the column is char(10)), so immunizations_institution serves
-- $14 lot_no: text
-- $15 status: text
-- $16 cursor_on: date, or NULL
-- $17 cursor_id: uuid, or NULL
-- $18 limit: int, page size + 1
SELECT (CASE WHEN $1 = 'mhlw' THEN records.immunization_json(im) || jsonb_build_object('person_id',
    NULL) ELSE records.immunization_json(im) END)::text, im.vaccinated_on::text, im.id::text,
    im.person_id::text
FROM records.immunizations im
WHERE
  -- ---- who sees the record: begin (rec.h; the same text in every statement that serves all viewers)
  (CASE $1
    WHEN 'muni' THEN EXISTS (SELECT 1 FROM records.persons vp WHERE vp.id = im.person_id
        AND (vp.muni_code = $2 OR (im.muni_code = $2 AND records.person_visible(vp, $2))))
    WHEN 'inst' THEN (im.registered_org_id = $3::uuid OR EXISTS (SELECT 1
        FROM records.care_links cl
        WHERE cl.org_id = $3::uuid AND cl.person_id = im.person_id AND cl.until > now()))
    WHEN 'kokuhoren' THEN (im.claimable AND left(im.institution_code, 2) = $4)
    WHEN 'mhlw' THEN true
    ELSE false END)
  -- ---- who sees the record: end
  
  AND ($5::text IS NULL AND $6::text IS NULL OR EXISTS (SELECT 1
    FROM records.persons sp
    WHERE sp.id = im.person_id
      AND ($5::text IS NULL OR sp.resident_no = $5 OR EXISTS (SELECT 1
        FROM records.residences rs
        WHERE rs.person_id = sp.id
          AND rs.muni_code = $2
          AND rs.resident_no = $5))
      AND ($6::text IS NULL OR (sp.name_kana_key = translate($6, ' 　', '') AND sp.birth_date =
          $7::date))))
  AND ($8::uuid IS NULL OR im.person_id = $8::uuid)
  AND ($9::text IS NULL OR im.vaccine_code = $9)
  AND ($10::text IS NULL OR $10 = ANY (im.disease_codes))
  AND ($11::date IS NULL OR im.vaccinated_on >= $11::date)
  AND ($12::date IS NULL OR im.vaccinated_on <= $12::date)
  AND ($13::text IS NULL OR im.institution_code = $13::bpchar)
  AND ($14::text IS NULL OR im.lot_no = $14)
  AND ($15::text IS NULL OR im.status = $15)
  AND ($16::date IS NULL OR (im.vaccinated_on, im.id) > ($16::date, $17::uuid))
ORDER BY im.vaccinated_on, im.id
LIMIT $18::int;

-- name: rec_imm_person_for_write
-- $1 person_id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 org_id: uuid, the caller's organisation
SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('jit', 'off', true),
    pg_advisory_xact_lock(hashtextextended($1, 0)), p.id
FROM records.persons p
WHERE p.id = $1::uuid
  AND (p.muni_code = $2 OR EXISTS (SELECT 1
    FROM records.care_links l
    WHERE l.org_id = $3::uuid
      AND l.person_id = p.id
      AND l.until > now()));

-- name: rec_imm_insert
-- $1 person_id: uuid
-- $2 vaccinated_on: date
-- $3 vaccine_code: text
-- $4 disease_codes: jsonb, JSON array or NULL (the product's)
-- $5 dose_number: int
-- $6 lot_no: text
-- $7 institution_code: text
-- $8 category: text
-- $9 pregnancy_weeks: int
-- $10 exclude_id: uuid, NULL here
-- $11 source: text
-- $12 dose_label: text
-- $13 doctor_name: text
-- $14 dose_ml: numeric, numeric text or NULL
-- $15 site: text
-- $16 questionnaire_id: uuid
-- $17 note: text
-- $18 org_id: uuid, the caller's organisation
-- $19 by: text, the caller (token subject)
WITH inp AS (SELECT 1::bigint AS ln, $1::uuid AS person_id, $2::date AS vaccinated_on, $3::text AS
    vaccine_code, CASE WHEN $4::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT
    jsonb_array_elements_text($4::jsonb)) END AS disease_codes, $5::int AS dose_number, $6::text AS
    lot_no, $7::text AS institution_code, $8::text AS category, $9::int AS pregnancy_weeks,
    $10::uuid AS exclude_id, $11::text AS source),
-- ---- the rule check: begin (the same text in every statement that checks; scripts/check-sql.py compares them) ----
b AS (SELECT i.*, i.vaccinated_on AS d, p.id IS NOT NULL AS p_ok, p.birth_date, p.sex, p.status AS
    p_status, p.status_on AS p_status_on, p.muni_code AS p_muni, v.code IS NOT NULL AS v_ok,
    coalesce(v.live_injected, false) AS live_inj, coalesce(i.disease_codes, v.disease_codes, '{}')
    AS cand, (i.disease_codes IS NULL OR i.disease_codes <@ v.disease_codes) AS dis_ok, l.lot_no IS
    NOT NULL AS lot_ok, l.expiry_on, l.certified_on, ins.code IS NOT NULL AS ins_ok,
    coalesce(i.source IN ('handbook', 'other_municipality', 'foreign'), false) AS hist_src, pr.edd,
    CASE WHEN pr.edd IS NOT NULL THEN (280 - (pr.edd - i.vaccinated_on)) / 7 ELSE i.pregnancy_weeks
    END AS pw
  FROM inp i
  LEFT JOIN records.persons p ON p.id = i.person_id
  LEFT JOIN master.vaccines v ON v.code = i.vaccine_code AND v.superseded_at IS NULL AND
      v.valid_from <= i.vaccinated_on AND (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
  LEFT JOIN master.lots l ON l.vaccine_code = i.vaccine_code AND l.lot_no = i.lot_no AND
      l.superseded_at IS NULL AND l.valid_from <= i.vaccinated_on AND (l.valid_to IS NULL OR
      l.valid_to >= i.vaccinated_on)
  LEFT JOIN master.institutions ins ON ins.code = i.institution_code AND ins.superseded_at IS NULL
      AND ins.valid_from <= i.vaccinated_on AND (ins.valid_to IS NULL OR ins.valid_to >=
      i.vaccinated_on)
  -- the H-7 pregnancy record covering the date, only for a once-per-pregnancy disease
  LEFT JOIN LATERAL (SELECT (m.data->> 'expected_delivery_date')::date AS edd
    FROM records.mch_records m
    WHERE coalesce(i.disease_codes, v.disease_codes) && (SELECT array_agg(x.disease_code::text)
      FROM master.schedules x
      WHERE x.superseded_at IS NULL
        AND x.once_per = 'pregnancy')
      AND m.person_id = i.person_id
      AND m.kind = 'pregnancy'
      AND i.vaccinated_on BETWEEN (m.data->> 'expected_delivery_date')::date - 280
      AND (m.data->> 'expected_delivery_date')::date + 14
    ORDER BY m.examined_on DESC, m.created_at DESC
    LIMIT 1) pr ON true),
-- products with schedule rows of their own, per disease
own AS MATERIALIZED (SELECT DISTINCT disease_code, vaccine_code
  FROM master.schedules
  WHERE superseded_at IS NULL
    AND vaccine_code IS NOT NULL),
-- once-per keys of each disease: per fiscal year (B類 influenza, COVID), per pregnancy (RSV)
dop AS MATERIALIZED (SELECT disease_code, bool_or(once_per = 'fiscal_year') AS per_fy,
    bool_or(once_per = 'pregnancy') AS per_preg
  FROM master.schedules
  WHERE superseded_at IS NULL
  GROUP BY disease_code),
-- every schedule row that may govern this dose, and whether its window holds the date
sch AS (SELECT b.ln, dz AS disease, s.code, s.dose_label, s.min_interval, s.max_interval,
    s.min_interval_from_first, s.pregnancy_weeks_from IS NOT NULL AS preg, s.person_conditions AS
    conds, s.ltc_extension AS ltc_ext, s.age_to, s.fy_age_to, s.rule_code AS special, CASE WHEN
    (master.age_on(b.birth_date, s.age_from) <= b.d AND b.d <= master.age_on(b.birth_date, s.age_to) AND (s.fy_age_from IS NULL
    OR (master.fy_age(b.birth_date, b.d) BETWEEN s.fy_age_from AND s.fy_age_to AND
    (master.fy_age(b.birth_date, b.d) - s.fy_age_from) % coalesce(s.fy_age_step, 1) = 0)) AND (s.sex
    IS NULL OR s.sex = b.sex) AND (s.pregnancy_weeks_from IS NULL OR b.pw BETWEEN
    s.pregnancy_weeks_from AND s.pregnancy_weeks_to)) THEN s.person_conditions IS NULL OR EXISTS
    (SELECT 1
    FROM records.person_conditions pc
    WHERE pc.person_id = b.person_id
      AND pc.revoked_at IS NULL
      AND pc.kind = ANY (s.person_conditions)
      AND (pc.disease_codes IS NULL OR dz = ANY (pc.disease_codes))
      AND pc.valid_from <= b.d
      AND (pc.valid_to IS NULL OR b.d <= pc.valid_to)
      AND (s.condition_evidence_by IS NULL OR pc.evidence_on <= s.condition_evidence_by)) ELSE
          (s.ltc_extension IS NOT NULL AND
          s.pregnancy_weeks_from IS NULL AND master.age_on(b.birth_date, s.age_from) <= b.d AND
          (s.sex IS NULL OR s.sex = b.sex) AND (s.fy_age_from IS NULL OR master.fy_age(b.birth_date,
          b.d) >= s.fy_age_from) AND (s.ltc_age_to IS NULL OR b.d <= master.age_on(b.birth_date,
          s.ltc_age_to)) AND EXISTS (SELECT 1
      FROM records.person_conditions pc
      WHERE pc.person_id = b.person_id
        AND pc.revoked_at IS NULL
        AND pc.kind = 'long_term_illness'
        AND dz = ANY (pc.disease_codes)
        AND pc.valid_to <= b.d
        AND b.d <= master.age_on(pc.valid_to, s.ltc_extension)
        AND pc.valid_to >= master.age_on(b.birth_date, s.age_from)
        AND pc.valid_from <= master.age_on(b.birth_date, s.age_to)
        AND (s.fy_age_to IS NULL OR master.fy_age(b.birth_date, pc.valid_from) <= s.fy_age_to))) END
            AS in_window
  FROM b
  CROSS JOIN LATERAL unnest(b.cand) dz
  JOIN master.schedules s ON s.disease_code = dz AND s.dose_number = b.dose_number AND
      s.superseded_at IS NULL AND s.valid_from <= b.d AND (s.valid_to IS NULL OR s.valid_to >= b.d)
      AND (s.birth_from IS NULL OR b.birth_date >= s.birth_from) AND (s.birth_to IS NULL OR
      b.birth_date <= s.birth_to) AND (s.vaccine_code = b.vaccine_code OR (s.vaccine_code IS NULL
      AND NOT EXISTS (SELECT 1
        FROM own o
        WHERE o.disease_code = dz
          AND o.vaccine_code = b.vaccine_code)))
  WHERE b.p_ok),
inw AS (SELECT x.ln, array_agg(x.disease ORDER BY x.pos) AS diseases
  FROM (SELECT DISTINCT s.ln, s.disease, array_position(b.cand, s.disease) AS pos
    FROM sch s
    JOIN b ON b.ln = s.ln
    WHERE s.in_window) x
  GROUP BY x.ln),
res AS (SELECT b.ln, CASE WHEN b.disease_codes IS NOT NULL THEN b.disease_codes ELSE
    coalesce(inw.diseases, b.cand) END AS diseases
  FROM b
  LEFT JOIN inw ON inw.ln = b.ln),
-- every dose of the persons concerned, one row per disease: recorded ones and the input;
-- k: the once-per key (the fiscal year, or the date for per-pregnancy diseases)
hist AS (SELECT h.*, coalesce(dp.per_fy, false) AS per_fy, coalesce(dp.per_preg, false) AS per_preg,
    CASE WHEN dp.per_fy THEN master.fiscal_year(h.d) WHEN dp.per_preg THEN h.d - DATE '2000-01-01'
    END AS k
  FROM (SELECT im.person_id, dz AS disease, im.dose_number, im.vaccinated_on AS d, im.vaccine_code,
      im.pregnancy_weeks AS pw, NULL::bigint AS ln
    FROM records.immunizations im, unnest(im.disease_codes) dz
    WHERE im.status <> 'voided'
      AND im.person_id IN (SELECT person_id
      FROM inp)
      AND im.id NOT IN (SELECT exclude_id
      FROM inp
      WHERE exclude_id IS NOT NULL)
    UNION ALL SELECT b.person_id, dz, b.dose_number, b.d, b.vaccine_code, b.pw, b.ln
    FROM b
    JOIN res ON res.ln = b.ln, unnest(res.diseases) dz
    WHERE b.p_ok) h
  LEFT JOIN dop dp ON dp.disease_code = h.disease),
-- one pass of windows per (person, disease) instead of a self-join: a duplicate is a dose
-- recorded before (or on an earlier line); prev/first/later doses by dose number
w AS (SELECT h.*, count(*) OVER (PARTITION BY h.person_id, h.disease, h.dose_number, h.k ORDER BY
    coalesce(h.ln, 0) ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup1, count(*) OVER
    (PARTITION BY h.person_id, h.disease, h.vaccine_code, h.d ORDER BY coalesce(h.ln, 0) ROWS
    BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup2, max(h.d) OVER (PARTITION BY h.person_id,
    h.disease ORDER BY h.dose_number RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING) AS prev_d, min(h.d)
    FILTER (WHERE h.dose_number = 1) OVER (PARTITION BY h.person_id, h.disease) AS first_d, min(h.d)
    OVER (PARTITION BY h.person_id, h.disease ORDER BY h.dose_number DESC RANGE BETWEEN UNBOUNDED
    PRECEDING AND 1 PRECEDING) AS later_min
  FROM hist h),
seqc AS (SELECT w.ln, w.disease, w.dose_number, w.d, (w.dup1 > 0 OR w.dup2 > 0) AS dup, w.per_fy,
    w.prev_d, w.first_d, coalesce(w.later_min <= w.d, false) AS later_earlier
  FROM w
  WHERE w.ln IS NOT NULL),
-- the intervals of each candidate row; the row the dose satisfies best governs it, and of
-- rows it satisfies alike the most demanding (HPV 9価 at +5月: the 2-dose track)
pk AS (SELECT DISTINCT ON (s.ln, s.disease) s.ln, s.disease, s.code, s.dose_label, q.dose_number,
    s.in_window, q.prev_d, q.first_d, s.min_interval, s.max_interval, s.min_interval_from_first AS
    from_first, s.conds, s.ltc_ext, s.age_to, s.fy_age_to, s.special, x.min_ok, x.first_ok, x.max_ok
  FROM sch s
  JOIN seqc q ON q.ln = s.ln AND q.disease = s.disease
  CROSS JOIN LATERAL (SELECT (s.min_interval IS NULL OR q.prev_d IS NULL OR q.prev_d >= q.d OR q.d
      >= master.after_interval(q.prev_d, s.min_interval)) AS min_ok, (s.min_interval_from_first IS
      NULL OR q.first_d IS NULL OR q.first_d >= q.d OR q.d >= master.after_interval(q.first_d,
      s.min_interval_from_first)) AS first_ok, (s.max_interval IS NULL OR q.prev_d IS NULL OR q.d <=
      master.within_interval(q.prev_d, s.max_interval)) AS max_ok) x
  ORDER BY s.ln, s.disease, (s.in_window AND x.min_ok AND x.first_ok AND x.max_ok) DESC, s.in_window
      DESC, (s.special IS NULL) DESC, s.min_interval DESC NULLS LAST, s.code),
-- injected live vaccines of other products on earlier days within the rule's days
live AS (SELECT DISTINCT ON (b.ln) b.ln, h.d AS other_d, r.param_days AS days
  FROM b
  JOIN master.rules r ON r.code = 'R-LIVE-INJ-27D' AND r.superseded_at IS NULL AND r.valid_from <=
      b.d AND (r.valid_to IS NULL OR r.valid_to >= b.d)
  JOIN hist h ON h.person_id = b.person_id AND h.vaccine_code <> b.vaccine_code AND h.d < b.d AND
      b.d < master.after_interval(h.d, make_interval(days => r.param_days)) AND h.ln IS DISTINCT
      FROM b.ln
  WHERE b.live_inj
    AND EXISTS (SELECT 1
    FROM master.vaccines v2
    WHERE v2.code = h.vaccine_code
      AND v2.superseded_at IS NULL
      AND v2.live_injected)
  ORDER BY b.ln, h.d DESC),
hits AS (SELECT ln, 'R-PERSON' AS rule, 'is not a person of yours' AS reason
  FROM b
  WHERE NOT p_ok
  UNION ALL SELECT ln, 'R-DATE-FUTURE', 'is in the future (today in Japan is ' || master.today_jp()
      || ')'
  FROM b
  WHERE d > master.today_jp()
  UNION ALL SELECT ln, 'R-DATE-BIRTH', 'is before the birth date (' || birth_date || ')'
  FROM b
  WHERE p_ok
    AND d < birth_date
  UNION ALL SELECT ln, 'R-DATE-DEATH', 'is after the date of death (' || p_status_on || ')'
  FROM b
  WHERE p_status = 'deceased'
    AND d > p_status_on
  UNION ALL SELECT ln, 'R-MOVED-OUT', 'is after the move-out (' || p_status_on ||
      '): this municipality is not the payer'
  FROM b
  WHERE p_status = 'moved_out'
    AND d > p_status_on
  UNION ALL SELECT ln, 'R-VACCINE-MASTER',
      'is not a product of the vaccine master on the vaccination date'
  FROM b
  WHERE NOT v_ok
  UNION ALL SELECT ln, 'R-DISEASE-PRODUCT', 'names a disease the product does not prevent'
  FROM b
  WHERE v_ok
    AND NOT dis_ok
  UNION ALL SELECT ln, 'R-LOT-REQUIRED', 'is required'
  FROM b
  WHERE lot_no IS NULL
    AND NOT hist_src
  UNION ALL SELECT ln, 'R-LOT-PRODUCT', 'is not a lot of this product in the lot master'
  FROM b
  WHERE v_ok
    AND lot_no IS NOT NULL
    AND NOT lot_ok
    AND NOT hist_src
  UNION ALL SELECT ln, 'R-LOT-UNVERIFIED', 'is not in the lot master (history dose)'
  FROM b
  WHERE v_ok
    AND lot_no IS NOT NULL
    AND NOT lot_ok
    AND hist_src
  UNION ALL SELECT ln, 'R-LOT-EXPIRED', 'had expired on the vaccination date (expiry ' || expiry_on
      || ')'
  FROM b
  WHERE lot_ok
    AND expiry_on < d
  UNION ALL SELECT ln, 'R-LOT-CERTIFIED', 'had not passed 国家検定 on the vaccination date (certified '
      || certified_on || ')'
  FROM b
  WHERE lot_ok
    AND certified_on > d
  UNION ALL SELECT ln, 'R-INSTITUTION-MASTER',
      'is not a medical institution of the master on the vaccination date'
  FROM b
  WHERE institution_code IS NOT NULL
    AND NOT ins_ok
  UNION ALL SELECT ln, 'R-DOSE-ORDER', format('is not after dose %s of %s (%s)', dose_number - 1,
      disease, prev_d)
  FROM seqc
  WHERE prev_d >= d
  UNION ALL SELECT ln, 'R-DOSE-ORDER',
      format('a later dose of %s is recorded on or before this date', disease)
  FROM seqc
  WHERE later_earlier
  UNION ALL SELECT ln, 'R-DOSE-PREV-MISSING', format('dose %s of %s is not recorded', dose_number -
      1, disease)
  FROM seqc
  WHERE dose_number > 1
    AND prev_d IS NULL
  UNION ALL SELECT ln, CASE WHEN per_fy THEN 'R-ONCE-FY' ELSE 'R-DUPLICATE' END,
      format('dose %s of %s is already recorded', dose_number, disease)
  FROM seqc
  WHERE dup
  UNION ALL SELECT DISTINCT b.ln, 'R-ONCE-PREGNANCY',
      format('%s was given in this pregnancy already (%s)', h.disease, h.d)
  FROM b
  JOIN hist h ON h.person_id = b.person_id AND h.per_preg AND h.ln IS DISTINCT FROM b.ln AND
      h.disease = ANY (b.cand)
  JOIN master.rules r ON r.code = 'R-ONCE-PREGNANCY' AND r.superseded_at IS NULL AND r.valid_from <=
      b.d AND (r.valid_to IS NULL OR r.valid_to >= b.d)
  WHERE b.pw IS NOT NULL
    AND CASE WHEN b.edd IS NOT NULL THEN h.d BETWEEN b.edd - 280
    AND b.edd + 14 ELSE abs((b.d - 7 * b.pw) - (h.d - 7 * coalesce(h.pw, 0))) < r.param_days END
  UNION ALL SELECT DISTINCT s.ln, 'R-RSV-PREGNANCY',
      'a vaccination in pregnancy needs a female person and the weeks of pregnancy'
  FROM sch s
  JOIN b ON b.ln = s.ln
  WHERE s.preg
    AND (b.sex IS DISTINCT FROM '2' OR b.pw IS NULL)
  UNION ALL SELECT ln, 'R-WINDOW', format('is outside the 定期 window of %s dose %s (%s)', disease,
      dose_number, code)
  FROM pk
  WHERE NOT in_window
  UNION ALL SELECT b.ln, 'R-PRODUCT-ROUTINE',
      format('has no 定期 schedule for %s dose %s with this product on this date', dz, b.dose_number)
  FROM b
  JOIN res ON res.ln = b.ln, unnest(res.diseases) dz
  WHERE b.p_ok
    AND NOT EXISTS (SELECT 1
    FROM sch s
    WHERE s.ln = b.ln
      AND s.disease = dz)
  UNION ALL SELECT ln, 'R-INTERVAL-MIN',
      format('is before %s, the minimum interval %s after dose %s of %s (%s)',
      master.after_interval(prev_d, min_interval), min_interval, dose_number - 1, disease, prev_d)
  FROM pk
  WHERE in_window
    AND NOT min_ok
  UNION ALL SELECT ln, 'R-INTERVAL-FIRST',
      format('is before %s, %s after the first dose of %s (%s)', master.after_interval(first_d,
      from_first), from_first, disease, first_d)
  FROM pk
  WHERE in_window
    AND NOT first_ok
  UNION ALL SELECT ln, 'R-INTERVAL-MAX',
      format('is after %s, the longest interval %s after dose %s of %s',
      master.within_interval(prev_d, max_interval), max_interval, dose_number - 1, disease)
  FROM pk
  WHERE in_window
    AND NOT max_ok
  UNION ALL SELECT ln, 'R-LIVE-INJ-27D',
      format('is less than %s days after another injected live vaccine (%s); the same day is allowed',
      days, other_d)
  FROM live
  UNION ALL SELECT ln, 'R-RSV-PREGNANCY-RECORD',
      format('differ from the H-7 pregnancy record: %s weeks on %s (due %s)', pw, d, edd)
  FROM b
  WHERE edd IS NOT NULL
    AND pregnancy_weeks IS NOT NULL
    AND pregnancy_weeks <> pw
  UNION ALL SELECT ln, 'R-PERSON-CONDITION',
      format('is 定期 for %s through a condition of the person on file (%s)', disease,
      array_to_string(conds, ', '))
  FROM pk
  WHERE in_window
    AND conds IS NOT NULL
    AND special IS NULL
  UNION ALL SELECT ln, special, format('is 定期 for %s through a 特例 (%s)%s', disease, code, CASE WHEN
      conds IS NOT NULL THEN ' and a condition of the person on file (' || array_to_string(conds,
      ', ') || ')' ELSE '' END)
  FROM pk
  WHERE in_window
    AND special IS NOT NULL
  UNION ALL SELECT pk.ln, 'R-LONG-TERM-ILLNESS',
      format('is after the window of %s dose %s (%s): 定期 through the 長期療養特例 on file', pk.disease,
      pk.dose_number, pk.code)
  FROM pk
  JOIN b ON b.ln = pk.ln
  WHERE pk.in_window
    AND pk.ltc_ext IS NOT NULL
    AND (b.d > master.age_on(b.birth_date, pk.age_to) OR master.fy_age(b.birth_date, b.d) >
        pk.fy_age_to)),
-- what each hit does: the rule's effect and field on the vaccination date
eff AS (SELECT h.ln, h.rule, h.reason, r.effect, r.field
  FROM hits h
  JOIN b ON b.ln = h.ln
  JOIN master.rules r ON r.code = h.rule AND r.superseded_at IS NULL AND r.valid_from <= b.d AND
      (r.valid_to IS NULL OR r.valid_to >= b.d)),
ea AS (SELECT ln, jsonb_agg(DISTINCT jsonb_build_object('field', field, 'reason', reason, 'rule',
    rule)) FILTER (WHERE effect = 'refuse') AS errors, bool_or(effect = 'duplicate') AS dup,
    min(rule) FILTER (WHERE effect = 'duplicate') AS dup_rule, bool_or(effect = 'voluntary') AS vol,
    bool_or(effect = 'unclaimable') AS uncl, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect
    = 'voluntary'), '{}') AS flags_v, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect =
    'unclaimable'), '{}') AS flags_u, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect =
    'flag'), '{}') AS flags_o, jsonb_agg(DISTINCT jsonb_build_object('rule', rule, 'effect', effect,
    'field', field, 'reason', reason)) AS rules
  FROM eff
  GROUP BY ln),
sa AS (SELECT p.ln, count(*) AS n, min(p.code) AS code, min(p.dose_label) AS label
  FROM pk p
  JOIN res ON res.ln = p.ln
  WHERE p.disease = ANY (res.diseases)
  GROUP BY p.ln),
chk AS (SELECT b.ln, ea.errors, coalesce(ea.dup, false) AS duplicate, ea.dup_rule, res.diseases,
    sa.code AS schedule_code, sa.label AS dose_label, (b.p_ok AND coalesce(sa.n, 0) > 0 AND NOT
    coalesce(ea.vol, false)) AS routine, coalesce(ea.uncl, false) AS unclaimable,
    coalesce(ea.flags_v, '{}') AS flags_v, coalesce(ea.flags_u, '{}') AS flags_u,
    coalesce(ea.flags_o, '{}') AS flags_o, coalesce(ea.rules, '[]') AS rules, b.p_muni AS muni_code,
    b.pw AS pregnancy_weeks
  FROM b
  JOIN res ON res.ln = b.ln
  LEFT JOIN ea ON ea.ln = b.ln
  LEFT JOIN sa ON sa.ln = b.ln)
-- ---- the rule check: end ----
  , ins AS (INSERT INTO records.immunizations(person_id, muni_code, person_muni, vaccinated_on,
      vaccine_code, disease_codes, dose_number, dose_label, lot_no, institution_code, doctor_name,
      dose_ml, site, category, requested_category, source, schedule_code, claimable, flags,
      pregnancy_weeks, questionnaire_id, note, registered_org_id, registered_by, updated_by)
  SELECT $1::uuid, chk.muni_code, chk.muni_code, $2::date, $3, chk.diseases, $5::int, coalesce($12,
      chk.dose_label), $6, $7, $13, $14::numeric, $15, CASE WHEN ($8 IN ('routine', 'temporary'))
      AND NOT chk.routine THEN 'voluntary' ELSE $8 END, $8, $11, CASE WHEN chk.routine THEN
      chk.schedule_code END, (($8 IN ('routine', 'temporary')) AND chk.routine AND NOT
      chk.unclaimable), (CASE WHEN ($8 IN ('routine', 'temporary')) AND NOT chk.routine THEN ARRAY[
      'outside_schedule' ] || chk.flags_v WHEN ($8 IN ('routine', 'temporary')) THEN chk.flags_u
      ELSE '{}'::text[] END || chk.flags_o), coalesce($9::int, chk.pregnancy_weeks), $16::uuid, $17,
      $18::uuid, $19, $19
  FROM chk
  WHERE chk.errors IS NULL
    AND NOT chk.duplicate
  RETURNING *),
care AS (INSERT INTO records.care_links(org_id, person_id, until)
  SELECT $18::uuid, ins.person_id, now() + interval '90 days'
  FROM ins
  WHERE EXISTS (SELECT 1
    FROM records.care_links l
    WHERE l.org_id = $18::uuid
      AND l.person_id = ins.person_id)
  ON CONFLICT(org_id, person_id) DO UPDATE
  SET until = excluded.until)
SELECT chk.errors::text, chk.duplicate, (SELECT records.immunization_json(ins)::text
  FROM ins), chk.dup_rule
FROM chk;

-- name: rec_imm_for_correction
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 org_id: uuid, the caller's organisation
SELECT records.immunization_json(im)::text
FROM records.immunizations im
WHERE im.id = $1::uuid
  AND (im.muni_code = $2 OR im.registered_org_id = $3::uuid) FOR UPDATE;

-- name: rec_imm_correct
-- $1 person_id: uuid
-- $2 vaccinated_on: date
-- $3 vaccine_code: text
-- $4 disease_codes: jsonb, JSON array or NULL (the product's)
-- $5 dose_number: int
-- $6 lot_no: text
-- $7 institution_code: text
-- $8 category: text
-- $9 pregnancy_weeks: int
-- $10 exclude_id: uuid, the record corrected (excluded from its own check)
-- $11 source: text
-- $12 dose_label: text
-- $13 doctor_name: text
-- $14 dose_ml: numeric, numeric text or NULL
-- $15 site: text
-- $16 questionnaire_id: uuid
-- $17 note: text
-- $18 reason: text
-- $19 by: text, the caller (token subject)
WITH inp AS (SELECT 1::bigint AS ln, $1::uuid AS person_id, $2::date AS vaccinated_on, $3::text AS
    vaccine_code, CASE WHEN $4::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT
    jsonb_array_elements_text($4::jsonb)) END AS disease_codes, $5::int AS dose_number, $6::text AS
    lot_no, $7::text AS institution_code, $8::text AS category, $9::int AS pregnancy_weeks,
    $10::uuid AS exclude_id, $11::text AS source),
-- ---- the rule check: begin (the same text in every statement that checks; scripts/check-sql.py compares them) ----
b AS (SELECT i.*, i.vaccinated_on AS d, p.id IS NOT NULL AS p_ok, p.birth_date, p.sex, p.status AS
    p_status, p.status_on AS p_status_on, p.muni_code AS p_muni, v.code IS NOT NULL AS v_ok,
    coalesce(v.live_injected, false) AS live_inj, coalesce(i.disease_codes, v.disease_codes, '{}')
    AS cand, (i.disease_codes IS NULL OR i.disease_codes <@ v.disease_codes) AS dis_ok, l.lot_no IS
    NOT NULL AS lot_ok, l.expiry_on, l.certified_on, ins.code IS NOT NULL AS ins_ok,
    coalesce(i.source IN ('handbook', 'other_municipality', 'foreign'), false) AS hist_src, pr.edd,
    CASE WHEN pr.edd IS NOT NULL THEN (280 - (pr.edd - i.vaccinated_on)) / 7 ELSE i.pregnancy_weeks
    END AS pw
  FROM inp i
  LEFT JOIN records.persons p ON p.id = i.person_id
  LEFT JOIN master.vaccines v ON v.code = i.vaccine_code AND v.superseded_at IS NULL AND
      v.valid_from <= i.vaccinated_on AND (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
  LEFT JOIN master.lots l ON l.vaccine_code = i.vaccine_code AND l.lot_no = i.lot_no AND
      l.superseded_at IS NULL AND l.valid_from <= i.vaccinated_on AND (l.valid_to IS NULL OR
      l.valid_to >= i.vaccinated_on)
  LEFT JOIN master.institutions ins ON ins.code = i.institution_code AND ins.superseded_at IS NULL
      AND ins.valid_from <= i.vaccinated_on AND (ins.valid_to IS NULL OR ins.valid_to >=
      i.vaccinated_on)
  -- the H-7 pregnancy record covering the date, only for a once-per-pregnancy disease
  LEFT JOIN LATERAL (SELECT (m.data->> 'expected_delivery_date')::date AS edd
    FROM records.mch_records m
    WHERE coalesce(i.disease_codes, v.disease_codes) && (SELECT array_agg(x.disease_code::text)
      FROM master.schedules x
      WHERE x.superseded_at IS NULL
        AND x.once_per = 'pregnancy')
      AND m.person_id = i.person_id
      AND m.kind = 'pregnancy'
      AND i.vaccinated_on BETWEEN (m.data->> 'expected_delivery_date')::date - 280
      AND (m.data->> 'expected_delivery_date')::date + 14
    ORDER BY m.examined_on DESC, m.created_at DESC
    LIMIT 1) pr ON true),
-- products with schedule rows of their own, per disease
own AS MATERIALIZED (SELECT DISTINCT disease_code, vaccine_code
  FROM master.schedules
  WHERE superseded_at IS NULL
    AND vaccine_code IS NOT NULL),
-- once-per keys of each disease: per fiscal year (B類 influenza, COVID), per pregnancy (RSV)
dop AS MATERIALIZED (SELECT disease_code, bool_or(once_per = 'fiscal_year') AS per_fy,
    bool_or(once_per = 'pregnancy') AS per_preg
  FROM master.schedules
  WHERE superseded_at IS NULL
  GROUP BY disease_code),
-- every schedule row that may govern this dose, and whether its window holds the date
sch AS (SELECT b.ln, dz AS disease, s.code, s.dose_label, s.min_interval, s.max_interval,
    s.min_interval_from_first, s.pregnancy_weeks_from IS NOT NULL AS preg, s.person_conditions AS
    conds, s.ltc_extension AS ltc_ext, s.age_to, s.fy_age_to, s.rule_code AS special, CASE WHEN
    (master.age_on(b.birth_date, s.age_from) <= b.d AND b.d <= master.age_on(b.birth_date, s.age_to) AND (s.fy_age_from IS NULL
    OR (master.fy_age(b.birth_date, b.d) BETWEEN s.fy_age_from AND s.fy_age_to AND
    (master.fy_age(b.birth_date, b.d) - s.fy_age_from) % coalesce(s.fy_age_step, 1) = 0)) AND (s.sex
    IS NULL OR s.sex = b.sex) AND (s.pregnancy_weeks_from IS NULL OR b.pw BETWEEN
    s.pregnancy_weeks_from AND s.pregnancy_weeks_to)) THEN s.person_conditions IS NULL OR EXISTS
    (SELECT 1
    FROM records.person_conditions pc
    WHERE pc.person_id = b.person_id
      AND pc.revoked_at IS NULL
      AND pc.kind = ANY (s.person_conditions)
      AND (pc.disease_codes IS NULL OR dz = ANY (pc.disease_codes))
      AND pc.valid_from <= b.d
      AND (pc.valid_to IS NULL OR b.d <= pc.valid_to)
      AND (s.condition_evidence_by IS NULL OR pc.evidence_on <= s.condition_evidence_by)) ELSE
          (s.ltc_extension IS NOT NULL AND
          s.pregnancy_weeks_from IS NULL AND master.age_on(b.birth_date, s.age_from) <= b.d AND
          (s.sex IS NULL OR s.sex = b.sex) AND (s.fy_age_from IS NULL OR master.fy_age(b.birth_date,
          b.d) >= s.fy_age_from) AND (s.ltc_age_to IS NULL OR b.d <= master.age_on(b.birth_date,
          s.ltc_age_to)) AND EXISTS (SELECT 1
      FROM records.person_conditions pc
      WHERE pc.person_id = b.person_id
        AND pc.revoked_at IS NULL
        AND pc.kind = 'long_term_illness'
        AND dz = ANY (pc.disease_codes)
        AND pc.valid_to <= b.d
        AND b.d <= master.age_on(pc.valid_to, s.ltc_extension)
        AND pc.valid_to >= master.age_on(b.birth_date, s.age_from)
        AND pc.valid_from <= master.age_on(b.birth_date, s.age_to)
        AND (s.fy_age_to IS NULL OR master.fy_age(b.birth_date, pc.valid_from) <= s.fy_age_to))) END
            AS in_window
  FROM b
  CROSS JOIN LATERAL unnest(b.cand) dz
  JOIN master.schedules s ON s.disease_code = dz AND s.dose_number = b.dose_number AND
      s.superseded_at IS NULL AND s.valid_from <= b.d AND (s.valid_to IS NULL OR s.valid_to >= b.d)
      AND (s.birth_from IS NULL OR b.birth_date >= s.birth_from) AND (s.birth_to IS NULL OR
      b.birth_date <= s.birth_to) AND (s.vaccine_code = b.vaccine_code OR (s.vaccine_code IS NULL
      AND NOT EXISTS (SELECT 1
        FROM own o
        WHERE o.disease_code = dz
          AND o.vaccine_code = b.vaccine_code)))
  WHERE b.p_ok),
inw AS (SELECT x.ln, array_agg(x.disease ORDER BY x.pos) AS diseases
  FROM (SELECT DISTINCT s.ln, s.disease, array_position(b.cand, s.disease) AS pos
    FROM sch s
    JOIN b ON b.ln = s.ln
    WHERE s.in_window) x
  GROUP BY x.ln),
res AS (SELECT b.ln, CASE WHEN b.disease_codes IS NOT NULL THEN b.disease_codes ELSE
    coalesce(inw.diseases, b.cand) END AS diseases
  FROM b
  LEFT JOIN inw ON inw.ln = b.ln),
-- every dose of the persons concerned, one row per disease: recorded ones and the input;
-- k: the once-per key (the fiscal year, or the date for per-pregnancy diseases)
hist AS (SELECT h.*, coalesce(dp.per_fy, false) AS per_fy, coalesce(dp.per_preg, false) AS per_preg,
    CASE WHEN dp.per_fy THEN master.fiscal_year(h.d) WHEN dp.per_preg THEN h.d - DATE '2000-01-01'
    END AS k
  FROM (SELECT im.person_id, dz AS disease, im.dose_number, im.vaccinated_on AS d, im.vaccine_code,
      im.pregnancy_weeks AS pw, NULL::bigint AS ln
    FROM records.immunizations im, unnest(im.disease_codes) dz
    WHERE im.status <> 'voided'
      AND im.person_id IN (SELECT person_id
      FROM inp)
      AND im.id NOT IN (SELECT exclude_id
      FROM inp
      WHERE exclude_id IS NOT NULL)
    UNION ALL SELECT b.person_id, dz, b.dose_number, b.d, b.vaccine_code, b.pw, b.ln
    FROM b
    JOIN res ON res.ln = b.ln, unnest(res.diseases) dz
    WHERE b.p_ok) h
  LEFT JOIN dop dp ON dp.disease_code = h.disease),
-- one pass of windows per (person, disease) instead of a self-join: a duplicate is a dose
-- recorded before (or on an earlier line); prev/first/later doses by dose number
w AS (SELECT h.*, count(*) OVER (PARTITION BY h.person_id, h.disease, h.dose_number, h.k ORDER BY
    coalesce(h.ln, 0) ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup1, count(*) OVER
    (PARTITION BY h.person_id, h.disease, h.vaccine_code, h.d ORDER BY coalesce(h.ln, 0) ROWS
    BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup2, max(h.d) OVER (PARTITION BY h.person_id,
    h.disease ORDER BY h.dose_number RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING) AS prev_d, min(h.d)
    FILTER (WHERE h.dose_number = 1) OVER (PARTITION BY h.person_id, h.disease) AS first_d, min(h.d)
    OVER (PARTITION BY h.person_id, h.disease ORDER BY h.dose_number DESC RANGE BETWEEN UNBOUNDED
    PRECEDING AND 1 PRECEDING) AS later_min
  FROM hist h),
seqc AS (SELECT w.ln, w.disease, w.dose_number, w.d, (w.dup1 > 0 OR w.dup2 > 0) AS dup, w.per_fy,
    w.prev_d, w.first_d, coalesce(w.later_min <= w.d, false) AS later_earlier
  FROM w
  WHERE w.ln IS NOT NULL),
-- the intervals of each candidate row; the row the dose satisfies best governs it, and of
-- rows it satisfies alike the most demanding (HPV 9価 at +5月: the 2-dose track)
pk AS (SELECT DISTINCT ON (s.ln, s.disease) s.ln, s.disease, s.code, s.dose_label, q.dose_number,
    s.in_window, q.prev_d, q.first_d, s.min_interval, s.max_interval, s.min_interval_from_first AS
    from_first, s.conds, s.ltc_ext, s.age_to, s.fy_age_to, s.special, x.min_ok, x.first_ok, x.max_ok
  FROM sch s
  JOIN seqc q ON q.ln = s.ln AND q.disease = s.disease
  CROSS JOIN LATERAL (SELECT (s.min_interval IS NULL OR q.prev_d IS NULL OR q.prev_d >= q.d OR q.d
      >= master.after_interval(q.prev_d, s.min_interval)) AS min_ok, (s.min_interval_from_first IS
      NULL OR q.first_d IS NULL OR q.first_d >= q.d OR q.d >= master.after_interval(q.first_d,
      s.min_interval_from_first)) AS first_ok, (s.max_interval IS NULL OR q.prev_d IS NULL OR q.d <=
      master.within_interval(q.prev_d, s.max_interval)) AS max_ok) x
  ORDER BY s.ln, s.disease, (s.in_window AND x.min_ok AND x.first_ok AND x.max_ok) DESC, s.in_window
      DESC, (s.special IS NULL) DESC, s.min_interval DESC NULLS LAST, s.code),
-- injected live vaccines of other products on earlier days within the rule's days
live AS (SELECT DISTINCT ON (b.ln) b.ln, h.d AS other_d, r.param_days AS days
  FROM b
  JOIN master.rules r ON r.code = 'R-LIVE-INJ-27D' AND r.superseded_at IS NULL AND r.valid_from <=
      b.d AND (r.valid_to IS NULL OR r.valid_to >= b.d)
  JOIN hist h ON h.person_id = b.person_id AND h.vaccine_code <> b.vaccine_code AND h.d < b.d AND
      b.d < master.after_interval(h.d, make_interval(days => r.param_days)) AND h.ln IS DISTINCT
      FROM b.ln
  WHERE b.live_inj
    AND EXISTS (SELECT 1
    FROM master.vaccines v2
    WHERE v2.code = h.vaccine_code
      AND v2.superseded_at IS NULL
      AND v2.live_injected)
  ORDER BY b.ln, h.d DESC),
hits AS (SELECT ln, 'R-PERSON' AS rule, 'is not a person of yours' AS reason
  FROM b
  WHERE NOT p_ok
  UNION ALL SELECT ln, 'R-DATE-FUTURE', 'is in the future (today in Japan is ' || master.today_jp()
      || ')'
  FROM b
  WHERE d > master.today_jp()
  UNION ALL SELECT ln, 'R-DATE-BIRTH', 'is before the birth date (' || birth_date || ')'
  FROM b
  WHERE p_ok
    AND d < birth_date
  UNION ALL SELECT ln, 'R-DATE-DEATH', 'is after the date of death (' || p_status_on || ')'
  FROM b
  WHERE p_status = 'deceased'
    AND d > p_status_on
  UNION ALL SELECT ln, 'R-MOVED-OUT', 'is after the move-out (' || p_status_on ||
      '): this municipality is not the payer'
  FROM b
  WHERE p_status = 'moved_out'
    AND d > p_status_on
  UNION ALL SELECT ln, 'R-VACCINE-MASTER',
      'is not a product of the vaccine master on the vaccination date'
  FROM b
  WHERE NOT v_ok
  UNION ALL SELECT ln, 'R-DISEASE-PRODUCT', 'names a disease the product does not prevent'
  FROM b
  WHERE v_ok
    AND NOT dis_ok
  UNION ALL SELECT ln, 'R-LOT-REQUIRED', 'is required'
  FROM b
  WHERE lot_no IS NULL
    AND NOT hist_src
  UNION ALL SELECT ln, 'R-LOT-PRODUCT', 'is not a lot of this product in the lot master'
  FROM b
  WHERE v_ok
    AND lot_no IS NOT NULL
    AND NOT lot_ok
    AND NOT hist_src
  UNION ALL SELECT ln, 'R-LOT-UNVERIFIED', 'is not in the lot master (history dose)'
  FROM b
  WHERE v_ok
    AND lot_no IS NOT NULL
    AND NOT lot_ok
    AND hist_src
  UNION ALL SELECT ln, 'R-LOT-EXPIRED', 'had expired on the vaccination date (expiry ' || expiry_on
      || ')'
  FROM b
  WHERE lot_ok
    AND expiry_on < d
  UNION ALL SELECT ln, 'R-LOT-CERTIFIED', 'had not passed 国家検定 on the vaccination date (certified '
      || certified_on || ')'
  FROM b
  WHERE lot_ok
    AND certified_on > d
  UNION ALL SELECT ln, 'R-INSTITUTION-MASTER',
      'is not a medical institution of the master on the vaccination date'
  FROM b
  WHERE institution_code IS NOT NULL
    AND NOT ins_ok
  UNION ALL SELECT ln, 'R-DOSE-ORDER', format('is not after dose %s of %s (%s)', dose_number - 1,
      disease, prev_d)
  FROM seqc
  WHERE prev_d >= d
  UNION ALL SELECT ln, 'R-DOSE-ORDER',
      format('a later dose of %s is recorded on or before this date', disease)
  FROM seqc
  WHERE later_earlier
  UNION ALL SELECT ln, 'R-DOSE-PREV-MISSING', format('dose %s of %s is not recorded', dose_number -
      1, disease)
  FROM seqc
  WHERE dose_number > 1
    AND prev_d IS NULL
  UNION ALL SELECT ln, CASE WHEN per_fy THEN 'R-ONCE-FY' ELSE 'R-DUPLICATE' END,
      format('dose %s of %s is already recorded', dose_number, disease)
  FROM seqc
  WHERE dup
  UNION ALL SELECT DISTINCT b.ln, 'R-ONCE-PREGNANCY',
      format('%s was given in this pregnancy already (%s)', h.disease, h.d)
  FROM b
  JOIN hist h ON h.person_id = b.person_id AND h.per_preg AND h.ln IS DISTINCT FROM b.ln AND
      h.disease = ANY (b.cand)
  JOIN master.rules r ON r.code = 'R-ONCE-PREGNANCY' AND r.superseded_at IS NULL AND r.valid_from <=
      b.d AND (r.valid_to IS NULL OR r.valid_to >= b.d)
  WHERE b.pw IS NOT NULL
    AND CASE WHEN b.edd IS NOT NULL THEN h.d BETWEEN b.edd - 280
    AND b.edd + 14 ELSE abs((b.d - 7 * b.pw) - (h.d - 7 * coalesce(h.pw, 0))) < r.param_days END
  UNION ALL SELECT DISTINCT s.ln, 'R-RSV-PREGNANCY',
      'a vaccination in pregnancy needs a female person and the weeks of pregnancy'
  FROM sch s
  JOIN b ON b.ln = s.ln
  WHERE s.preg
    AND (b.sex IS DISTINCT FROM '2' OR b.pw IS NULL)
  UNION ALL SELECT ln, 'R-WINDOW', format('is outside the 定期 window of %s dose %s (%s)', disease,
      dose_number, code)
  FROM pk
  WHERE NOT in_window
  UNION ALL SELECT b.ln, 'R-PRODUCT-ROUTINE',
      format('has no 定期 schedule for %s dose %s with this product on this date', dz, b.dose_number)
  FROM b
  JOIN res ON res.ln = b.ln, unnest(res.diseases) dz
  WHERE b.p_ok
    AND NOT EXISTS (SELECT 1
    FROM sch s
    WHERE s.ln = b.ln
      AND s.disease = dz)
  UNION ALL SELECT ln, 'R-INTERVAL-MIN',
      format('is before %s, the minimum interval %s after dose %s of %s (%s)',
      master.after_interval(prev_d, min_interval), min_interval, dose_number - 1, disease, prev_d)
  FROM pk
  WHERE in_window
    AND NOT min_ok
  UNION ALL SELECT ln, 'R-INTERVAL-FIRST',
      format('is before %s, %s after the first dose of %s (%s)', master.after_interval(first_d,
      from_first), from_first, disease, first_d)
  FROM pk
  WHERE in_window
    AND NOT first_ok
  UNION ALL SELECT ln, 'R-INTERVAL-MAX',
      format('is after %s, the longest interval %s after dose %s of %s',
      master.within_interval(prev_d, max_interval), max_interval, dose_number - 1, disease)
  FROM pk
  WHERE in_window
    AND NOT max_ok
  UNION ALL SELECT ln, 'R-LIVE-INJ-27D',
      format('is less than %s days after another injected live vaccine (%s); the same day is allowed',
      days, other_d)
  FROM live
  UNION ALL SELECT ln, 'R-RSV-PREGNANCY-RECORD',
      format('differ from the H-7 pregnancy record: %s weeks on %s (due %s)', pw, d, edd)
  FROM b
  WHERE edd IS NOT NULL
    AND pregnancy_weeks IS NOT NULL
    AND pregnancy_weeks <> pw
  UNION ALL SELECT ln, 'R-PERSON-CONDITION',
      format('is 定期 for %s through a condition of the person on file (%s)', disease,
      array_to_string(conds, ', '))
  FROM pk
  WHERE in_window
    AND conds IS NOT NULL
    AND special IS NULL
  UNION ALL SELECT ln, special, format('is 定期 for %s through a 特例 (%s)%s', disease, code, CASE WHEN
      conds IS NOT NULL THEN ' and a condition of the person on file (' || array_to_string(conds,
      ', ') || ')' ELSE '' END)
  FROM pk
  WHERE in_window
    AND special IS NOT NULL
  UNION ALL SELECT pk.ln, 'R-LONG-TERM-ILLNESS',
      format('is after the window of %s dose %s (%s): 定期 through the 長期療養特例 on file', pk.disease,
      pk.dose_number, pk.code)
  FROM pk
  JOIN b ON b.ln = pk.ln
  WHERE pk.in_window
    AND pk.ltc_ext IS NOT NULL
    AND (b.d > master.age_on(b.birth_date, pk.age_to) OR master.fy_age(b.birth_date, b.d) >
        pk.fy_age_to)),
-- what each hit does: the rule's effect and field on the vaccination date
eff AS (SELECT h.ln, h.rule, h.reason, r.effect, r.field
  FROM hits h
  JOIN b ON b.ln = h.ln
  JOIN master.rules r ON r.code = h.rule AND r.superseded_at IS NULL AND r.valid_from <= b.d AND
      (r.valid_to IS NULL OR r.valid_to >= b.d)),
ea AS (SELECT ln, jsonb_agg(DISTINCT jsonb_build_object('field', field, 'reason', reason, 'rule',
    rule)) FILTER (WHERE effect = 'refuse') AS errors, bool_or(effect = 'duplicate') AS dup,
    min(rule) FILTER (WHERE effect = 'duplicate') AS dup_rule, bool_or(effect = 'voluntary') AS vol,
    bool_or(effect = 'unclaimable') AS uncl, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect
    = 'voluntary'), '{}') AS flags_v, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect =
    'unclaimable'), '{}') AS flags_u, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect =
    'flag'), '{}') AS flags_o, jsonb_agg(DISTINCT jsonb_build_object('rule', rule, 'effect', effect,
    'field', field, 'reason', reason)) AS rules
  FROM eff
  GROUP BY ln),
sa AS (SELECT p.ln, count(*) AS n, min(p.code) AS code, min(p.dose_label) AS label
  FROM pk p
  JOIN res ON res.ln = p.ln
  WHERE p.disease = ANY (res.diseases)
  GROUP BY p.ln),
chk AS (SELECT b.ln, ea.errors, coalesce(ea.dup, false) AS duplicate, ea.dup_rule, res.diseases,
    sa.code AS schedule_code, sa.label AS dose_label, (b.p_ok AND coalesce(sa.n, 0) > 0 AND NOT
    coalesce(ea.vol, false)) AS routine, coalesce(ea.uncl, false) AS unclaimable,
    coalesce(ea.flags_v, '{}') AS flags_v, coalesce(ea.flags_u, '{}') AS flags_u,
    coalesce(ea.flags_o, '{}') AS flags_o, coalesce(ea.rules, '[]') AS rules, b.p_muni AS muni_code,
    b.pw AS pregnancy_weeks
  FROM b
  JOIN res ON res.ln = b.ln
  LEFT JOIN ea ON ea.ln = b.ln
  LEFT JOIN sa ON sa.ln = b.ln)
-- ---- the rule check: end ----
  , v AS (INSERT INTO records.immunization_versions(immunization_id, version, doc, replaced_by,
      reason)
  SELECT im.id, im.version, records.immunization_json(im), $19, $18
  FROM records.immunizations im, chk
  WHERE im.id = $10::uuid
    AND chk.errors IS NULL
    AND NOT chk.duplicate),
up AS (UPDATE records.immunizations im
  SET vaccinated_on = $2::date, vaccine_code = $3, disease_codes = chk.diseases, dose_number =
      $5::int, dose_label = coalesce($12, chk.dose_label), lot_no = $6, institution_code = $7,
      doctor_name = $13, dose_ml = $14::numeric, site = $15, category = CASE WHEN ($8 IN ('routine',
      'temporary')) AND NOT chk.routine THEN 'voluntary' ELSE $8 END, requested_category = $8,
      source = $11, schedule_code = CASE WHEN chk.routine THEN chk.schedule_code END, claimable =
      (($8 IN ('routine', 'temporary')) AND chk.routine AND NOT chk.unclaimable), flags = (CASE WHEN
      ($8 IN ('routine', 'temporary')) AND NOT chk.routine THEN ARRAY[ 'outside_schedule' ] ||
      chk.flags_v WHEN ($8 IN ('routine', 'temporary')) THEN chk.flags_u ELSE '{}'::text[] END ||
      chk.flags_o), pregnancy_weeks = coalesce($9::int, chk.pregnancy_weeks), questionnaire_id =
      $16::uuid, note = $17, status = 'corrected', version = im.version + 1, updated_by = $19,
      updated_at = now(), txid = pg_current_xact_id(), seq = nextval('records.change_seq')
  FROM chk
  WHERE im.id = $10::uuid
    AND chk.errors IS NULL
    AND NOT chk.duplicate
  RETURNING im.*)
SELECT chk.errors::text, chk.duplicate, (SELECT records.immunization_json(up)::text
  FROM up), chk.dup_rule
FROM chk;

-- name: rec_imm_check
-- $1 person_id: uuid
-- $2 vaccinated_on: date
-- $3 vaccine_code: text
-- $4 disease_codes: jsonb, JSON array or NULL (the product's)
-- $5 dose_number: int
-- $6 lot_no: text
-- $7 institution_code: text
-- $8 category: text
-- $9 pregnancy_weeks: int
-- $10 exclude_id: uuid, NULL: no record is excluded
-- $11 source: text
-- $12 dose_label: text
WITH inp AS (SELECT 1::bigint AS ln, $1::uuid AS person_id, $2::date AS vaccinated_on, $3::text AS
    vaccine_code, CASE WHEN $4::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT
    jsonb_array_elements_text($4::jsonb)) END AS disease_codes, $5::int AS dose_number, $6::text AS
    lot_no, $7::text AS institution_code, $8::text AS category, $9::int AS pregnancy_weeks,
    $10::uuid AS exclude_id, $11::text AS source),
-- ---- the rule check: begin (the same text in every statement that checks; scripts/check-sql.py compares them) ----
b AS (SELECT i.*, i.vaccinated_on AS d, p.id IS NOT NULL AS p_ok, p.birth_date, p.sex, p.status AS
    p_status, p.status_on AS p_status_on, p.muni_code AS p_muni, v.code IS NOT NULL AS v_ok,
    coalesce(v.live_injected, false) AS live_inj, coalesce(i.disease_codes, v.disease_codes, '{}')
    AS cand, (i.disease_codes IS NULL OR i.disease_codes <@ v.disease_codes) AS dis_ok, l.lot_no IS
    NOT NULL AS lot_ok, l.expiry_on, l.certified_on, ins.code IS NOT NULL AS ins_ok,
    coalesce(i.source IN ('handbook', 'other_municipality', 'foreign'), false) AS hist_src, pr.edd,
    CASE WHEN pr.edd IS NOT NULL THEN (280 - (pr.edd - i.vaccinated_on)) / 7 ELSE i.pregnancy_weeks
    END AS pw
  FROM inp i
  LEFT JOIN records.persons p ON p.id = i.person_id
  LEFT JOIN master.vaccines v ON v.code = i.vaccine_code AND v.superseded_at IS NULL AND
      v.valid_from <= i.vaccinated_on AND (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
  LEFT JOIN master.lots l ON l.vaccine_code = i.vaccine_code AND l.lot_no = i.lot_no AND
      l.superseded_at IS NULL AND l.valid_from <= i.vaccinated_on AND (l.valid_to IS NULL OR
      l.valid_to >= i.vaccinated_on)
  LEFT JOIN master.institutions ins ON ins.code = i.institution_code AND ins.superseded_at IS NULL
      AND ins.valid_from <= i.vaccinated_on AND (ins.valid_to IS NULL OR ins.valid_to >=
      i.vaccinated_on)
  -- the H-7 pregnancy record covering the date, only for a once-per-pregnancy disease
  LEFT JOIN LATERAL (SELECT (m.data->> 'expected_delivery_date')::date AS edd
    FROM records.mch_records m
    WHERE coalesce(i.disease_codes, v.disease_codes) && (SELECT array_agg(x.disease_code::text)
      FROM master.schedules x
      WHERE x.superseded_at IS NULL
        AND x.once_per = 'pregnancy')
      AND m.person_id = i.person_id
      AND m.kind = 'pregnancy'
      AND i.vaccinated_on BETWEEN (m.data->> 'expected_delivery_date')::date - 280
      AND (m.data->> 'expected_delivery_date')::date + 14
    ORDER BY m.examined_on DESC, m.created_at DESC
    LIMIT 1) pr ON true),
-- products with schedule rows of their own, per disease
own AS MATERIALIZED (SELECT DISTINCT disease_code, vaccine_code
  FROM master.schedules
  WHERE superseded_at IS NULL
    AND vaccine_code IS NOT NULL),
-- once-per keys of each disease: per fiscal year (B類 influenza, COVID), per pregnancy (RSV)
dop AS MATERIALIZED (SELECT disease_code, bool_or(once_per = 'fiscal_year') AS per_fy,
    bool_or(once_per = 'pregnancy') AS per_preg
  FROM master.schedules
  WHERE superseded_at IS NULL
  GROUP BY disease_code),
-- every schedule row that may govern this dose, and whether its window holds the date
sch AS (SELECT b.ln, dz AS disease, s.code, s.dose_label, s.min_interval, s.max_interval,
    s.min_interval_from_first, s.pregnancy_weeks_from IS NOT NULL AS preg, s.person_conditions AS
    conds, s.ltc_extension AS ltc_ext, s.age_to, s.fy_age_to, s.rule_code AS special, CASE WHEN
    (master.age_on(b.birth_date, s.age_from) <= b.d AND b.d <= master.age_on(b.birth_date, s.age_to) AND (s.fy_age_from IS NULL
    OR (master.fy_age(b.birth_date, b.d) BETWEEN s.fy_age_from AND s.fy_age_to AND
    (master.fy_age(b.birth_date, b.d) - s.fy_age_from) % coalesce(s.fy_age_step, 1) = 0)) AND (s.sex
    IS NULL OR s.sex = b.sex) AND (s.pregnancy_weeks_from IS NULL OR b.pw BETWEEN
    s.pregnancy_weeks_from AND s.pregnancy_weeks_to)) THEN s.person_conditions IS NULL OR EXISTS
    (SELECT 1
    FROM records.person_conditions pc
    WHERE pc.person_id = b.person_id
      AND pc.revoked_at IS NULL
      AND pc.kind = ANY (s.person_conditions)
      AND (pc.disease_codes IS NULL OR dz = ANY (pc.disease_codes))
      AND pc.valid_from <= b.d
      AND (pc.valid_to IS NULL OR b.d <= pc.valid_to)
      AND (s.condition_evidence_by IS NULL OR pc.evidence_on <= s.condition_evidence_by)) ELSE
          (s.ltc_extension IS NOT NULL AND
          s.pregnancy_weeks_from IS NULL AND master.age_on(b.birth_date, s.age_from) <= b.d AND
          (s.sex IS NULL OR s.sex = b.sex) AND (s.fy_age_from IS NULL OR master.fy_age(b.birth_date,
          b.d) >= s.fy_age_from) AND (s.ltc_age_to IS NULL OR b.d <= master.age_on(b.birth_date,
          s.ltc_age_to)) AND EXISTS (SELECT 1
      FROM records.person_conditions pc
      WHERE pc.person_id = b.person_id
        AND pc.revoked_at IS NULL
        AND pc.kind = 'long_term_illness'
        AND dz = ANY (pc.disease_codes)
        AND pc.valid_to <= b.d
        AND b.d <= master.age_on(pc.valid_to, s.ltc_extension)
        AND pc.valid_to >= master.age_on(b.birth_date, s.age_from)
        AND pc.valid_from <= master.age_on(b.birth_date, s.age_to)
        AND (s.fy_age_to IS NULL OR master.fy_age(b.birth_date, pc.valid_from) <= s.fy_age_to))) END
            AS in_window
  FROM b
  CROSS JOIN LATERAL unnest(b.cand) dz
  JOIN master.schedules s ON s.disease_code = dz AND s.dose_number = b.dose_number AND
      s.superseded_at IS NULL AND s.valid_from <= b.d AND (s.valid_to IS NULL OR s.valid_to >= b.d)
      AND (s.birth_from IS NULL OR b.birth_date >= s.birth_from) AND (s.birth_to IS NULL OR
      b.birth_date <= s.birth_to) AND (s.vaccine_code = b.vaccine_code OR (s.vaccine_code IS NULL
      AND NOT EXISTS (SELECT 1
        FROM own o
        WHERE o.disease_code = dz
          AND o.vaccine_code = b.vaccine_code)))
  WHERE b.p_ok),
inw AS (SELECT x.ln, array_agg(x.disease ORDER BY x.pos) AS diseases
  FROM (SELECT DISTINCT s.ln, s.disease, array_position(b.cand, s.disease) AS pos
    FROM sch s
    JOIN b ON b.ln = s.ln
    WHERE s.in_window) x
  GROUP BY x.ln),
res AS (SELECT b.ln, CASE WHEN b.disease_codes IS NOT NULL THEN b.disease_codes ELSE
    coalesce(inw.diseases, b.cand) END AS diseases
  FROM b
  LEFT JOIN inw ON inw.ln = b.ln),
-- every dose of the persons concerned, one row per disease: recorded ones and the input;
-- k: the once-per key (the fiscal year, or the date for per-pregnancy diseases)
hist AS (SELECT h.*, coalesce(dp.per_fy, false) AS per_fy, coalesce(dp.per_preg, false) AS per_preg,
    CASE WHEN dp.per_fy THEN master.fiscal_year(h.d) WHEN dp.per_preg THEN h.d - DATE '2000-01-01'
    END AS k
  FROM (SELECT im.person_id, dz AS disease, im.dose_number, im.vaccinated_on AS d, im.vaccine_code,
      im.pregnancy_weeks AS pw, NULL::bigint AS ln
    FROM records.immunizations im, unnest(im.disease_codes) dz
    WHERE im.status <> 'voided'
      AND im.person_id IN (SELECT person_id
      FROM inp)
      AND im.id NOT IN (SELECT exclude_id
      FROM inp
      WHERE exclude_id IS NOT NULL)
    UNION ALL SELECT b.person_id, dz, b.dose_number, b.d, b.vaccine_code, b.pw, b.ln
    FROM b
    JOIN res ON res.ln = b.ln, unnest(res.diseases) dz
    WHERE b.p_ok) h
  LEFT JOIN dop dp ON dp.disease_code = h.disease),
-- one pass of windows per (person, disease) instead of a self-join: a duplicate is a dose
-- recorded before (or on an earlier line); prev/first/later doses by dose number
w AS (SELECT h.*, count(*) OVER (PARTITION BY h.person_id, h.disease, h.dose_number, h.k ORDER BY
    coalesce(h.ln, 0) ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup1, count(*) OVER
    (PARTITION BY h.person_id, h.disease, h.vaccine_code, h.d ORDER BY coalesce(h.ln, 0) ROWS
    BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup2, max(h.d) OVER (PARTITION BY h.person_id,
    h.disease ORDER BY h.dose_number RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING) AS prev_d, min(h.d)
    FILTER (WHERE h.dose_number = 1) OVER (PARTITION BY h.person_id, h.disease) AS first_d, min(h.d)
    OVER (PARTITION BY h.person_id, h.disease ORDER BY h.dose_number DESC RANGE BETWEEN UNBOUNDED
    PRECEDING AND 1 PRECEDING) AS later_min
  FROM hist h),
seqc AS (SELECT w.ln, w.disease, w.dose_number, w.d, (w.dup1 > 0 OR w.dup2 > 0) AS dup, w.per_fy,
    w.prev_d, w.first_d, coalesce(w.later_min <= w.d, false) AS later_earlier
  FROM w
  WHERE w.ln IS NOT NULL),
-- the intervals of each candidate row; the row the dose satisfies best governs it, and of
-- rows it satisfies alike the most demanding (HPV 9価 at +5月: the 2-dose track)
pk AS (SELECT DISTINCT ON (s.ln, s.disease) s.ln, s.disease, s.code, s.dose_label, q.dose_number,
    s.in_window, q.prev_d, q.first_d, s.min_interval, s.max_interval, s.min_interval_from_first AS
    from_first, s.conds, s.ltc_ext, s.age_to, s.fy_age_to, s.special, x.min_ok, x.first_ok, x.max_ok
  FROM sch s
  JOIN seqc q ON q.ln = s.ln AND q.disease = s.disease
  CROSS JOIN LATERAL (SELECT (s.min_interval IS NULL OR q.prev_d IS NULL OR q.prev_d >= q.d OR q.d
      >= master.after_interval(q.prev_d, s.min_interval)) AS min_ok, (s.min_interval_from_first IS
      NULL OR q.first_d IS NULL OR q.first_d >= q.d OR q.d >= master.after_interval(q.first_d,
      s.min_interval_from_first)) AS first_ok, (s.max_interval IS NULL OR q.prev_d IS NULL OR q.d <=
      master.within_interval(q.prev_d, s.max_interval)) AS max_ok) x
  ORDER BY s.ln, s.disease, (s.in_window AND x.min_ok AND x.first_ok AND x.max_ok) DESC, s.in_window
      DESC, (s.special IS NULL) DESC, s.min_interval DESC NULLS LAST, s.code),
-- injected live vaccines of other products on earlier days within the rule's days
live AS (SELECT DISTINCT ON (b.ln) b.ln, h.d AS other_d, r.param_days AS days
  FROM b
  JOIN master.rules r ON r.code = 'R-LIVE-INJ-27D' AND r.superseded_at IS NULL AND r.valid_from <=
      b.d AND (r.valid_to IS NULL OR r.valid_to >= b.d)
  JOIN hist h ON h.person_id = b.person_id AND h.vaccine_code <> b.vaccine_code AND h.d < b.d AND
      b.d < master.after_interval(h.d, make_interval(days => r.param_days)) AND h.ln IS DISTINCT
      FROM b.ln
  WHERE b.live_inj
    AND EXISTS (SELECT 1
    FROM master.vaccines v2
    WHERE v2.code = h.vaccine_code
      AND v2.superseded_at IS NULL
      AND v2.live_injected)
  ORDER BY b.ln, h.d DESC),
hits AS (SELECT ln, 'R-PERSON' AS rule, 'is not a person of yours' AS reason
  FROM b
  WHERE NOT p_ok
  UNION ALL SELECT ln, 'R-DATE-FUTURE', 'is in the future (today in Japan is ' || master.today_jp()
      || ')'
  FROM b
  WHERE d > master.today_jp()
  UNION ALL SELECT ln, 'R-DATE-BIRTH', 'is before the birth date (' || birth_date || ')'
  FROM b
  WHERE p_ok
    AND d < birth_date
  UNION ALL SELECT ln, 'R-DATE-DEATH', 'is after the date of death (' || p_status_on || ')'
  FROM b
  WHERE p_status = 'deceased'
    AND d > p_status_on
  UNION ALL SELECT ln, 'R-MOVED-OUT', 'is after the move-out (' || p_status_on ||
      '): this municipality is not the payer'
  FROM b
  WHERE p_status = 'moved_out'
    AND d > p_status_on
  UNION ALL SELECT ln, 'R-VACCINE-MASTER',
      'is not a product of the vaccine master on the vaccination date'
  FROM b
  WHERE NOT v_ok
  UNION ALL SELECT ln, 'R-DISEASE-PRODUCT', 'names a disease the product does not prevent'
  FROM b
  WHERE v_ok
    AND NOT dis_ok
  UNION ALL SELECT ln, 'R-LOT-REQUIRED', 'is required'
  FROM b
  WHERE lot_no IS NULL
    AND NOT hist_src
  UNION ALL SELECT ln, 'R-LOT-PRODUCT', 'is not a lot of this product in the lot master'
  FROM b
  WHERE v_ok
    AND lot_no IS NOT NULL
    AND NOT lot_ok
    AND NOT hist_src
  UNION ALL SELECT ln, 'R-LOT-UNVERIFIED', 'is not in the lot master (history dose)'
  FROM b
  WHERE v_ok
    AND lot_no IS NOT NULL
    AND NOT lot_ok
    AND hist_src
  UNION ALL SELECT ln, 'R-LOT-EXPIRED', 'had expired on the vaccination date (expiry ' || expiry_on
      || ')'
  FROM b
  WHERE lot_ok
    AND expiry_on < d
  UNION ALL SELECT ln, 'R-LOT-CERTIFIED', 'had not passed 国家検定 on the vaccination date (certified '
      || certified_on || ')'
  FROM b
  WHERE lot_ok
    AND certified_on > d
  UNION ALL SELECT ln, 'R-INSTITUTION-MASTER',
      'is not a medical institution of the master on the vaccination date'
  FROM b
  WHERE institution_code IS NOT NULL
    AND NOT ins_ok
  UNION ALL SELECT ln, 'R-DOSE-ORDER', format('is not after dose %s of %s (%s)', dose_number - 1,
      disease, prev_d)
  FROM seqc
  WHERE prev_d >= d
  UNION ALL SELECT ln, 'R-DOSE-ORDER',
      format('a later dose of %s is recorded on or before this date', disease)
  FROM seqc
  WHERE later_earlier
  UNION ALL SELECT ln, 'R-DOSE-PREV-MISSING', format('dose %s of %s is not recorded', dose_number -
      1, disease)
  FROM seqc
  WHERE dose_number > 1
    AND prev_d IS NULL
  UNION ALL SELECT ln, CASE WHEN per_fy THEN 'R-ONCE-FY' ELSE 'R-DUPLICATE' END,
      format('dose %s of %s is already recorded', dose_number, disease)
  FROM seqc
  WHERE dup
  UNION ALL SELECT DISTINCT b.ln, 'R-ONCE-PREGNANCY',
      format('%s was given in this pregnancy already (%s)', h.disease, h.d)
  FROM b
  JOIN hist h ON h.person_id = b.person_id AND h.per_preg AND h.ln IS DISTINCT FROM b.ln AND
      h.disease = ANY (b.cand)
  JOIN master.rules r ON r.code = 'R-ONCE-PREGNANCY' AND r.superseded_at IS NULL AND r.valid_from <=
      b.d AND (r.valid_to IS NULL OR r.valid_to >= b.d)
  WHERE b.pw IS NOT NULL
    AND CASE WHEN b.edd IS NOT NULL THEN h.d BETWEEN b.edd - 280
    AND b.edd + 14 ELSE abs((b.d - 7 * b.pw) - (h.d - 7 * coalesce(h.pw, 0))) < r.param_days END
  UNION ALL SELECT DISTINCT s.ln, 'R-RSV-PREGNANCY',
      'a vaccination in pregnancy needs a female person and the weeks of pregnancy'
  FROM sch s
  JOIN b ON b.ln = s.ln
  WHERE s.preg
    AND (b.sex IS DISTINCT FROM '2' OR b.pw IS NULL)
  UNION ALL SELECT ln, 'R-WINDOW', format('is outside the 定期 window of %s dose %s (%s)', disease,
      dose_number, code)
  FROM pk
  WHERE NOT in_window
  UNION ALL SELECT b.ln, 'R-PRODUCT-ROUTINE',
      format('has no 定期 schedule for %s dose %s with this product on this date', dz, b.dose_number)
  FROM b
  JOIN res ON res.ln = b.ln, unnest(res.diseases) dz
  WHERE b.p_ok
    AND NOT EXISTS (SELECT 1
    FROM sch s
    WHERE s.ln = b.ln
      AND s.disease = dz)
  UNION ALL SELECT ln, 'R-INTERVAL-MIN',
      format('is before %s, the minimum interval %s after dose %s of %s (%s)',
      master.after_interval(prev_d, min_interval), min_interval, dose_number - 1, disease, prev_d)
  FROM pk
  WHERE in_window
    AND NOT min_ok
  UNION ALL SELECT ln, 'R-INTERVAL-FIRST',
      format('is before %s, %s after the first dose of %s (%s)', master.after_interval(first_d,
      from_first), from_first, disease, first_d)
  FROM pk
  WHERE in_window
    AND NOT first_ok
  UNION ALL SELECT ln, 'R-INTERVAL-MAX',
      format('is after %s, the longest interval %s after dose %s of %s',
      master.within_interval(prev_d, max_interval), max_interval, dose_number - 1, disease)
  FROM pk
  WHERE in_window
    AND NOT max_ok
  UNION ALL SELECT ln, 'R-LIVE-INJ-27D',
      format('is less than %s days after another injected live vaccine (%s); the same day is allowed',
      days, other_d)
  FROM live
  UNION ALL SELECT ln, 'R-RSV-PREGNANCY-RECORD',
      format('differ from the H-7 pregnancy record: %s weeks on %s (due %s)', pw, d, edd)
  FROM b
  WHERE edd IS NOT NULL
    AND pregnancy_weeks IS NOT NULL
    AND pregnancy_weeks <> pw
  UNION ALL SELECT ln, 'R-PERSON-CONDITION',
      format('is 定期 for %s through a condition of the person on file (%s)', disease,
      array_to_string(conds, ', '))
  FROM pk
  WHERE in_window
    AND conds IS NOT NULL
    AND special IS NULL
  UNION ALL SELECT ln, special, format('is 定期 for %s through a 特例 (%s)%s', disease, code, CASE WHEN
      conds IS NOT NULL THEN ' and a condition of the person on file (' || array_to_string(conds,
      ', ') || ')' ELSE '' END)
  FROM pk
  WHERE in_window
    AND special IS NOT NULL
  UNION ALL SELECT pk.ln, 'R-LONG-TERM-ILLNESS',
      format('is after the window of %s dose %s (%s): 定期 through the 長期療養特例 on file', pk.disease,
      pk.dose_number, pk.code)
  FROM pk
  JOIN b ON b.ln = pk.ln
  WHERE pk.in_window
    AND pk.ltc_ext IS NOT NULL
    AND (b.d > master.age_on(b.birth_date, pk.age_to) OR master.fy_age(b.birth_date, b.d) >
        pk.fy_age_to)),
-- what each hit does: the rule's effect and field on the vaccination date
eff AS (SELECT h.ln, h.rule, h.reason, r.effect, r.field
  FROM hits h
  JOIN b ON b.ln = h.ln
  JOIN master.rules r ON r.code = h.rule AND r.superseded_at IS NULL AND r.valid_from <= b.d AND
      (r.valid_to IS NULL OR r.valid_to >= b.d)),
ea AS (SELECT ln, jsonb_agg(DISTINCT jsonb_build_object('field', field, 'reason', reason, 'rule',
    rule)) FILTER (WHERE effect = 'refuse') AS errors, bool_or(effect = 'duplicate') AS dup,
    min(rule) FILTER (WHERE effect = 'duplicate') AS dup_rule, bool_or(effect = 'voluntary') AS vol,
    bool_or(effect = 'unclaimable') AS uncl, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect
    = 'voluntary'), '{}') AS flags_v, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect =
    'unclaimable'), '{}') AS flags_u, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect =
    'flag'), '{}') AS flags_o, jsonb_agg(DISTINCT jsonb_build_object('rule', rule, 'effect', effect,
    'field', field, 'reason', reason)) AS rules
  FROM eff
  GROUP BY ln),
sa AS (SELECT p.ln, count(*) AS n, min(p.code) AS code, min(p.dose_label) AS label
  FROM pk p
  JOIN res ON res.ln = p.ln
  WHERE p.disease = ANY (res.diseases)
  GROUP BY p.ln),
chk AS (SELECT b.ln, ea.errors, coalesce(ea.dup, false) AS duplicate, ea.dup_rule, res.diseases,
    sa.code AS schedule_code, sa.label AS dose_label, (b.p_ok AND coalesce(sa.n, 0) > 0 AND NOT
    coalesce(ea.vol, false)) AS routine, coalesce(ea.uncl, false) AS unclaimable,
    coalesce(ea.flags_v, '{}') AS flags_v, coalesce(ea.flags_u, '{}') AS flags_u,
    coalesce(ea.flags_o, '{}') AS flags_o, coalesce(ea.rules, '[]') AS rules, b.p_muni AS muni_code,
    b.pw AS pregnancy_weeks
  FROM b
  JOIN res ON res.ln = b.ln
  LEFT JOIN ea ON ea.ln = b.ln
  LEFT JOIN sa ON sa.ln = b.ln)
-- ---- the rule check: end ----
  , nop AS (SELECT 1)
SELECT jsonb_build_object('outcome', CASE WHEN chk.errors IS NOT NULL THEN 'refused' WHEN
    chk.duplicate THEN 'duplicate' ELSE 'recorded' END, 'person_id', $1::uuid, 'vaccinated_on',
    $2::date, 'vaccine_code', $3, 'dose_number', $5::int, 'category', CASE WHEN ($8 IN ('routine',
    'temporary')) AND NOT chk.routine THEN 'voluntary' ELSE $8 END, 'requested_category', $8,
    'claimable', (($8 IN ('routine', 'temporary')) AND chk.routine AND NOT chk.unclaimable),
    'schedule_code', CASE WHEN chk.routine THEN chk.schedule_code END, 'dose_label', coalesce($12,
    chk.dose_label), 'disease_codes', to_jsonb(chk.diseases), 'flags', to_jsonb((CASE WHEN ($8 IN
    ('routine', 'temporary')) AND NOT chk.routine THEN ARRAY[ 'outside_schedule' ] || chk.flags_v
    WHEN ($8 IN ('routine', 'temporary')) THEN chk.flags_u ELSE '{}'::text[] END || chk.flags_o)),
    'duplicate_rule', chk.dup_rule, 'errors', coalesce(chk.errors, '[]'), 'rules', chk.rules)::text
FROM chk;

-- name: rec_imm_get_muni
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
SELECT (records.immunization_json(im))::text, im.id::text, im.person_id::text
FROM records.immunizations im
WHERE im.id = $1::uuid
  AND EXISTS (SELECT 1
  FROM records.persons vp
  WHERE vp.id = im.person_id
    AND (vp.muni_code = $2 OR (im.muni_code = $2 AND records.person_visible(vp, $2))));

-- name: rec_imm_get_inst
-- $1 id: uuid
-- $2 org_id: uuid, the caller's organisation
SELECT (records.immunization_json(im))::text, im.id::text, im.person_id::text
FROM records.immunizations im
WHERE im.id = $1::uuid
  AND (im.registered_org_id = $2::uuid OR EXISTS (SELECT 1
    FROM records.care_links cl
    WHERE cl.org_id = $2::uuid
      AND cl.person_id = im.person_id
      AND cl.until > now()));

-- name: rec_imm_get_kokuhoren
-- $1 id: uuid
-- $2 pref_code: text, the caller's prefecture
SELECT (records.immunization_json(im))::text, im.id::text, im.person_id::text
FROM records.immunizations im
WHERE im.id = $1::uuid
  AND (im.claimable AND left(im.institution_code, 2) = $2);

-- name: rec_imm_get_mhlw
-- $1 id: uuid
SELECT (records.immunization_json(im) || jsonb_build_object('person_id', NULL))::text, im.id::text,
    NULL::text
FROM records.immunizations im
WHERE im.id = $1::uuid
  AND true;

-- name: rec_imm_history
-- $1 viewer: text, muni, inst, kokuhoren or mhlw (rec_viewer)
-- $2 muni_code: text, the caller's municipality (muni)
-- $3 org_id: uuid, the caller's organisation (inst)
-- $4 pref_code: text, the caller's prefecture (kokuhoren)
-- $5 id: uuid
SELECT (CASE WHEN $1 = 'mhlw' THEN records.immunization_json(im) || jsonb_build_object('person_id',
    NULL) ELSE records.immunization_json(im) END)::text, (SELECT
    coalesce(jsonb_agg(jsonb_build_object('version', v.version, 'record', CASE WHEN $1 = 'mhlw' THEN
    v.doc || jsonb_build_object('person_id', NULL) ELSE v.doc END, 'replaced_by', v.replaced_by,
    'replaced_at', v.replaced_at, 'reason', v.reason) ORDER BY v.version DESC), '[]')
  FROM records.immunization_versions v
  WHERE v.immunization_id = im.id)::text
FROM records.immunizations im
WHERE im.id = $5::uuid
  AND
  -- ---- who sees the record: begin (rec.h; the same text in every statement that serves all viewers)
  (CASE $1
    WHEN 'muni' THEN EXISTS (SELECT 1 FROM records.persons vp WHERE vp.id = im.person_id
        AND (vp.muni_code = $2 OR (im.muni_code = $2 AND records.person_visible(vp, $2))))
    WHEN 'inst' THEN (im.registered_org_id = $3::uuid OR EXISTS (SELECT 1
        FROM records.care_links cl
        WHERE cl.org_id = $3::uuid AND cl.person_id = im.person_id AND cl.until > now()))
    WHEN 'kokuhoren' THEN (im.claimable AND left(im.institution_code, 2) = $4)
    WHEN 'mhlw' THEN true
    ELSE false END)
  -- ---- who sees the record: end
;

-- name: rec_imm_person_known
-- $1 viewer: text, muni, inst, kokuhoren or mhlw (rec_viewer)
-- $2 muni_code: text, the caller's municipality (muni)
-- $3 org_id: uuid, the caller's organisation (inst)
-- $4 pref_code: text, the caller's prefecture (kokuhoren)
-- $5 person_id: uuid
SELECT 1
FROM records.persons p
WHERE p.id = $5::uuid
  AND (($1 = 'muni' AND records.person_visible(p, $2)) OR ($1 = 'inst' AND EXISTS (SELECT 1
      FROM records.care_links cl
      WHERE cl.org_id = $3::uuid
        AND cl.person_id = p.id
        AND cl.until > now())) OR EXISTS (SELECT 1
    FROM records.immunizations im
    WHERE im.person_id = p.id
      AND
  -- ---- who sees the record: begin (rec.h; the same text in every statement that serves all viewers)
  (CASE $1
    WHEN 'muni' THEN EXISTS (SELECT 1 FROM records.persons vp WHERE vp.id = im.person_id
        AND (vp.muni_code = $2 OR (im.muni_code = $2 AND records.person_visible(vp, $2))))
    WHEN 'inst' THEN (im.registered_org_id = $3::uuid OR EXISTS (SELECT 1
        FROM records.care_links cl
        WHERE cl.org_id = $3::uuid AND cl.person_id = im.person_id AND cl.until > now()))
    WHEN 'kokuhoren' THEN (im.claimable AND left(im.institution_code, 2) = $4)
    WHEN 'mhlw' THEN true
    ELSE false END)
  -- ---- who sees the record: end
));

-- name: rec_imm_person_list
-- $1 viewer: text, muni, inst, kokuhoren or mhlw (rec_viewer)
-- $2 muni_code: text, the caller's municipality (muni)
-- $3 org_id: uuid, the caller's organisation (inst)
-- $4 pref_code: text, the caller's prefecture (kokuhoren)
-- $5 person_id: uuid
-- $6 cursor_on: date, or NULL
-- $7 cursor_id: uuid, or NULL
-- $8 limit: int, page size + 1
SELECT (CASE WHEN $1 = 'mhlw' THEN records.immunization_json(im) || jsonb_build_object('person_id',
    NULL) ELSE records.immunization_json(im) END)::text, im.vaccinated_on::text, im.id::text
FROM records.immunizations im
WHERE im.person_id = $5::uuid
  AND
  -- ---- who sees the record: begin (rec.h; the same text in every statement that serves all viewers)
  (CASE $1
    WHEN 'muni' THEN EXISTS (SELECT 1 FROM records.persons vp WHERE vp.id = im.person_id
        AND (vp.muni_code = $2 OR (im.muni_code = $2 AND records.person_visible(vp, $2))))
    WHEN 'inst' THEN (im.registered_org_id = $3::uuid OR EXISTS (SELECT 1
        FROM records.care_links cl
        WHERE cl.org_id = $3::uuid AND cl.person_id = im.person_id AND cl.until > now()))
    WHEN 'kokuhoren' THEN (im.claimable AND left(im.institution_code, 2) = $4)
    WHEN 'mhlw' THEN true
    ELSE false END)
  -- ---- who sees the record: end
  
  AND ($6::date IS NULL OR (im.vaccinated_on, im.id) > ($6::date, $7::uuid))
ORDER BY im.vaccinated_on, im.id
LIMIT $8::int;

-- name: rec_imm_void_lock
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 org_id: uuid, the caller's organisation
SELECT im.status, im.version::text
FROM records.immunizations im
WHERE im.id = $1::uuid
  AND (im.muni_code = $2 OR im.registered_org_id = $3::uuid) FOR UPDATE;

-- name: rec_imm_void
-- $1 id: uuid
-- $2 reason: text
-- $3 by: text, the caller (token subject)
WITH cur AS (SELECT *
  FROM records.immunizations im
  WHERE im.id = $1::uuid),
v AS (INSERT INTO records.immunization_versions(immunization_id, version, doc, replaced_by, reason)
  SELECT cur.id, cur.version, records.immunization_json(cur), $3, $2
  FROM cur),
up AS (UPDATE records.immunizations im
  SET status = 'voided', void_reason = $2, claimable = false, version = im.version + 1, updated_by =
      $3, updated_at = now(), txid = pg_current_xact_id(), seq = nextval('records.change_seq')
  FROM cur
  WHERE im.id = cur.id
  RETURNING im.*)
SELECT records.immunization_json(up)::text
FROM up;
