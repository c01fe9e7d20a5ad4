-- linkage.sql - H-3-1 linkage: change feeds for municipal systems (linkage.c) and bulk import jobs (linkage_import.c, linkage_copy.c, linkage_commit.c).

-- name: rec_feed_immunizations
-- $1 muni_code: text, the caller's municipality
-- $2 after_txid: xid8, the cursor
-- $3 after_seq: bigint, the cursor
-- $4 limit: int, page size
SELECT jsonb_build_object('change', im.status, 'cursor', im.txid::text || '-' || im.seq,
    'immunization', records.immunization_json(im))::text, im.txid::text || '-' || im.seq,
    im.person_id::text
FROM records.immunizations im
WHERE im.muni_code = $1
  AND (im.txid, im.seq) > ($2::xid8, $3::bigint)
  AND im.txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY im.txid, im.seq
LIMIT $4::int;

-- name: rec_feed_persons
-- $1 muni_code: text, the caller's municipality
-- $2 after_txid: xid8, the cursor
-- $3 after_seq: bigint, the cursor
-- $4 limit: int, page size
SELECT doc::text, cur, pid
FROM (SELECT jsonb_build_object('change', CASE WHEN p.version = 1 THEN 'created' ELSE 'updated' END,
    'cursor', p.txid::text || '-' || p.seq, 'person', records.person_json(p, NULL)) AS doc,
    p.txid::text || '-' || p.seq AS cur, p.id::text AS pid, p.txid, p.seq
  FROM records.persons p
  WHERE p.muni_code = $1
    AND (p.txid, p.seq) > ($2::xid8, $3::bigint)
    AND p.txid < pg_snapshot_xmin(pg_current_snapshot())
  UNION ALL SELECT jsonb_build_object('change', 'moved_out', 'cursor', rs.txid::text || '-' ||
      rs.seq, 'person', records.person_json(p, $1)), rs.txid::text || '-' || rs.seq, p.id::text,
      rs.txid, rs.seq
  FROM records.residences rs
  JOIN records.persons p ON p.id = rs.person_id
  WHERE rs.muni_code = $1
    AND rs.until_on IS NOT NULL
    AND (rs.txid, rs.seq) > ($2::xid8, $3::bigint)
    AND rs.txid < pg_snapshot_xmin(pg_current_snapshot())) f
ORDER BY txid, seq
LIMIT $4::int;

-- name: rec_import_commit_settings
SELECT set_config('work_mem', '1GB', true), set_config('jit', 'off', true),
    set_config('join_collapse_limit', '1', true);

-- name: rec_import_commit_persons
-- $1 job_id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 mode: text, all_or_nothing or good_lines
-- $4 org_id: uuid, the caller's organisation
-- $5 by: text, the caller (token subject)
WITH inp AS (SELECT s.*, row_number() OVER (PARTITION BY s.resident_no ORDER BY s.ln) AS rn,
    row_number() OVER (PARTITION BY s.my_number_hash ORDER BY s.ln) AS mn
  FROM records.import_person_lines s
  WHERE s.job_id = $1::uuid),
errs AS (SELECT ln, 'resident_no' AS f, 'is already registered in your municipality' AS r
  FROM inp s
  WHERE s.rn > 1 OR EXISTS (SELECT 1
    FROM records.persons p
    WHERE p.muni_code = $2
      AND p.resident_no = s.resident_no)
  UNION ALL SELECT ln, 'my_number', 'is already registered to a person'
  FROM inp s
  WHERE s.my_number_hash IS NOT NULL
    AND (s.mn > 1 OR EXISTS (SELECT 1
      FROM records.person_my_numbers m
      WHERE m.my_number_hash = s.my_number_hash))
  UNION ALL SELECT ln, 'birth_date', 'must be between 1890-01-01 and today'
  FROM inp s
  WHERE s.birth_date > master.today_jp() OR s.birth_date < '1890-01-01'),
bad AS (SELECT ln, jsonb_agg(jsonb_build_object('field', f, 'reason', r)) AS errors
  FROM errs
  GROUP BY ln),
e AS (INSERT INTO records.import_errors(job_id, ln, errors)
  SELECT $1::uuid, ln, errors
  FROM bad
  RETURNING 1),
go AS (SELECT $3 = 'good_lines' OR (NOT EXISTS (SELECT 1
      FROM bad) AND NOT EXISTS (SELECT 1
      FROM records.import_errors x
      WHERE x.job_id = $1::uuid)) AS ok),
p AS (INSERT INTO records.persons(id, muni_code, resident_no, name, name_kana, name_romaji,
    former_name, birth_date, sex, postal_code, address, non_disclosure, my_number_sealed,
    my_number_hash, created_by, updated_by)
  SELECT s.id, $2, s.resident_no, s.name, s.name_kana, s.name_romaji, s.former_name, s.birth_date,
      s.sex, s.postal_code, s.address, coalesce(s.non_disclosure, false), s.my_number_sealed,
      s.my_number_hash, $5, $5
  FROM inp s, go
  WHERE go.ok
    AND s.ln NOT IN (SELECT ln
    FROM bad)
  RETURNING *),
r AS (INSERT INTO records.residences(person_id, person_muni, muni_code, resident_no)
  SELECT id, muni_code, muni_code, resident_no
  FROM p),
v AS (INSERT INTO records.person_versions(person_id, person_muni, version, change, doc, changed_by)
  SELECT p.id, p.muni_code, 1, 'imported', records.person_json(p, NULL), $5
  FROM p)
SELECT (SELECT count(*)
  FROM p), (SELECT ok
  FROM go)
WHERE $4::uuid IS NOT NULL;

-- name: rec_import_commit_immunizations
-- $1 job_id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 mode: text, all_or_nothing or good_lines
-- $4 org_id: uuid, the caller's organisation
-- $5 by: text, the caller (token subject)
WITH inp AS (SELECT s.ln, coalesce(p1.id, p2.id) AS person_id, s.vaccinated_on, s.vaccine_code,
    s.disease_codes, s.dose_number, s.lot_no, s.institution_code, s.category, s.pregnancy_weeks,
    NULL::uuid AS exclude_id, 'health_system'::text AS source, s.dose_label, s.doctor_name,
    s.dose_ml, s.site, s.note
  FROM records.import_imm_lines s
  LEFT JOIN records.persons p1 ON p1.id = s.person_id AND p1.muni_code = $2
  LEFT JOIN records.persons p2 ON s.person_id IS NULL AND p2.muni_code = $2 AND p2.resident_no =
      s.resident_no
  WHERE s.job_id = $1::uuid),
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
  , bad AS (SELECT ln, coalesce(errors, '[]'::jsonb) || CASE WHEN duplicate THEN
      jsonb_build_array(jsonb_build_object('field', '(line)', 'reason',
      'this vaccination is already recorded', 'rule', dup_rule)) ELSE '[]'::jsonb END AS errors
  FROM chk
  WHERE errors IS NOT NULL OR duplicate),
e AS (INSERT INTO records.import_errors(job_id, ln, errors)
  SELECT $1::uuid, ln, errors
  FROM bad
  RETURNING 1),
go AS (SELECT $3 = 'good_lines' OR (NOT EXISTS (SELECT 1
      FROM bad) AND NOT EXISTS (SELECT 1
      FROM records.import_errors x
      WHERE x.job_id = $1::uuid)) AS ok),
ins AS (INSERT INTO records.immunizations(person_id, muni_code, person_muni, vaccinated_on,
    vaccine_code, disease_codes, dose_number, dose_label, lot_no, institution_code, doctor_name,
    dose_ml, site, category, requested_category, source, schedule_code, claimable, flags,
    pregnancy_weeks, note, registered_org_id, registered_by, updated_by)
  SELECT i.person_id, chk.muni_code, chk.muni_code, i.vaccinated_on, i.vaccine_code, chk.diseases, i.dose_number,
      coalesce(i.dose_label, chk.dose_label), i.lot_no, i.institution_code, i.doctor_name,
      i.dose_ml, i.site, CASE WHEN (i.category IN ('routine', 'temporary')) AND NOT chk.routine THEN
      'voluntary' ELSE i.category END, i.category, i.source, CASE WHEN chk.routine THEN
      chk.schedule_code END, ((i.category IN ('routine', 'temporary')) AND chk.routine AND NOT
      chk.unclaimable), (CASE WHEN (i.category IN ('routine', 'temporary')) AND NOT chk.routine THEN
      ARRAY[ 'outside_schedule' ] || chk.flags_v WHEN (i.category IN ('routine', 'temporary')) THEN
      chk.flags_u ELSE '{}'::text[] END || chk.flags_o), coalesce(i.pregnancy_weeks,
      chk.pregnancy_weeks), i.note, $4::uuid, $5, $5
  FROM chk
  JOIN inp i ON i.ln = chk.ln, go
  WHERE go.ok
    AND chk.errors IS NULL
    AND NOT chk.duplicate
  RETURNING 1)
SELECT (SELECT count(*)
  FROM ins), (SELECT ok
  FROM go);

-- name: rec_import_job_finish
-- $1 job_id: uuid
-- $2 imported: bigint, lines written
-- $3 status: text, committed or rejected
WITH j AS (UPDATE records.import_jobs
  SET status = $3, imported = $2::bigint, rejected = (SELECT count(*)
    FROM records.import_errors e
    WHERE e.job_id = $1::uuid), finished_at = now()
  WHERE id = $1::uuid
  RETURNING *),
d1 AS (DELETE
  FROM records.import_imm_lines
  WHERE job_id = $1::uuid),
d2 AS (DELETE
  FROM records.import_person_lines
  WHERE job_id = $1::uuid)
SELECT jsonb_build_object('id', j.id, 'kind', j.kind, 'mode', j.mode, 'status', j.status, 'lines',
    j.lines, 'imported', j.imported, 'rejected', j.rejected, 'errors', j.rejected, 'created_at',
    j.created_at, 'finished_at', j.finished_at)::text
FROM j;

-- name: rec_import_copy_persons
COPY records.import_person_lines(job_id, ln, id, resident_no, name, name_kana, name_romaji,
    former_name, birth_date, sex, postal_code, address, non_disclosure, my_number_sealed,
    my_number_hash)
FROM STDIN;

-- name: rec_import_copy_immunizations
COPY records.import_imm_lines(job_id, ln, resident_no, person_id, vaccinated_on, vaccine_code,
    disease_codes, dose_number, dose_label, lot_no, institution_code, doctor_name, dose_ml, site,
    category, pregnancy_weeks, note)
FROM STDIN;

-- name: rec_import_create
-- $1 org_id: uuid, the caller's organisation
-- $2 muni_code: text, the caller's municipality
-- $3 kind: text
-- $4 mode: text
-- $5 by: text, the caller (token subject)
WITH j AS (INSERT INTO records.import_jobs(org_id, muni_code, kind, mode, created_by)
  VALUES ($1::uuid, $2, $3, $4, $5)
  RETURNING *)
SELECT jsonb_build_object('id', j.id, 'kind', j.kind, 'mode', j.mode, 'status', j.status, 'lines',
    j.lines, 'imported', j.imported, 'rejected', j.rejected, 'errors', (SELECT count(*)
    FROM records.import_errors e
    WHERE e.job_id = j.id), 'created_at', j.created_at, 'finished_at', j.finished_at)::text
FROM j;

-- name: rec_import_get
-- $1 id: uuid
-- $2 org_id: uuid, the caller's organisation
SELECT jsonb_build_object('id', j.id, 'kind', j.kind, 'mode', j.mode, 'status', j.status, 'lines',
    j.lines, 'imported', j.imported, 'rejected', j.rejected, 'errors', (SELECT count(*)
    FROM records.import_errors e
    WHERE e.job_id = j.id), 'created_at', j.created_at, 'finished_at', j.finished_at)::text
FROM records.import_jobs j
WHERE j.id = $1::uuid
  AND j.org_id = $2::uuid;

-- name: rec_import_errors
-- $1 job_id: uuid
-- $2 org_id: uuid, the caller's organisation
-- $3 after_ln: bigint, the cursor, 0 on the first page
-- $4 limit: int, page size + 1
SELECT jsonb_build_object('line', e.ln, 'errors', e.errors)::text, e.ln::text
FROM records.import_errors e
JOIN records.import_jobs j ON j.id = e.job_id
WHERE j.id = $1::uuid
  AND j.org_id = $2::uuid
  AND e.ln > $3::bigint
ORDER BY e.ln
LIMIT $4::int;

-- name: rec_import_lock
-- $1 id: uuid
-- $2 org_id: uuid, the caller's organisation
SELECT kind, mode, lines, status
FROM records.import_jobs
WHERE id = $1::uuid
  AND org_id = $2::uuid FOR UPDATE;

-- name: rec_import_line_errors
-- $1 job_id: uuid
-- $2 errors: jsonb, JSON array of {ln, errors}
INSERT INTO records.import_errors(job_id, ln, errors)
SELECT $1::uuid, x.ln, x.errors
FROM jsonb_to_recordset($2::jsonb) AS x(ln bigint, errors jsonb);

-- name: rec_import_chunk
-- $1 job_id: uuid
-- $2 lines: bigint, lines added
WITH j AS (UPDATE records.import_jobs
  SET lines = lines + $2::bigint
  WHERE id = $1::uuid
  RETURNING *)
SELECT jsonb_build_object('id', j.id, 'kind', j.kind, 'mode', j.mode, 'status', j.status, 'lines',
    j.lines, 'imported', j.imported, 'rejected', j.rejected, 'errors', (SELECT count(*)
    FROM records.import_errors e
    WHERE e.job_id = j.id), 'created_at', j.created_at, 'finished_at', j.finished_at)::text
FROM j;
