-- fhir.sql - FHIR R4 (JP-Core) reads, searches and the recommendation (fhir.c, fhir_read.c,
-- fhir_recommend.c, fhir_search.c).
--
-- The resources are built here. Immunization (JP_Immunization) of row i, with v the vaccine's and
-- n the institution's name as of the vaccination date; Patient (JP_Patient) of row p; nulls
-- stripped. Code systems: vaccines follow the current JP-Core (jami-fhir-jp-wg/jp-core-v1x,
-- input/fsh/aliases-jpcore.fsh: $JP_MedicationCodeHOT9_CS, ..._HOT13_CS, ..._YJ_CS, bound by
-- JP_Immunization.vaccineCode to JP_MedicationCode_Immunization_VS): the MEDIS / YJ URLs by the
-- code's length (9 HOT9, 13 HOT13, else YJ), with the OIDs of JP-Core 1.1 (urn:oid:...) as a
-- second coding of the same code, which older clients still send and search by. A record's
-- identifier is urn:ietf:rfc:3986 urn:uuid:{id}, a person's urn:sesshu:resident-no:{municipality}.
-- A vaccinee reads itself and the minor children it is guardian of, not under non-disclosure
-- (the "family" subquery, as in self.sql).

-- name: rec_fhir_person_ok
-- $1 person_id: uuid
-- $2 muni_code: text, the caller's municipality
SELECT 1
FROM records.persons
WHERE id = $1::uuid
  AND muni_code = $2;

-- name: rec_fhir_patient_get
-- $1 id: uuid
SELECT json_strip_nulls(json_build_object('resourceType', 'Patient', 'id', p.id, 'meta',
    json_build_object('versionId', p.version::text, 'lastUpdated', p.updated_at, 'profile',
    json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient')), 'identifier',
    json_build_array(json_build_object('system', 'urn:sesshu:resident-no:' || p.muni_code, 'value',
    p.resident_no)), 'active', p.status = 'resident', 'name',
    json_build_array(json_build_object('extension', json_build_array(json_build_object('url',
    'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', 'valueCode', 'IDE')),
    'use', 'official', 'text', p.name), json_build_object('extension',
    json_build_array(json_build_object('url',
    'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', 'valueCode', 'SYL')),
    'use', 'official', 'text', p.name_kana)), 'gender', CASE p.sex WHEN '1' THEN 'male' WHEN '2'
    THEN 'female' ELSE 'unknown' END, 'birthDate', p.birth_date, 'deceasedBoolean', p.status =
    'deceased', 'address', json_build_array(json_build_object('text', p.address, 'postalCode',
    p.postal_code)))), p.version::text
FROM records.persons p
WHERE p.id = $1::uuid
  -- one partition (records migration 052)
  AND p.muni_code = records.person_home($1::uuid);

-- name: rec_fhir_imm_get_self
-- $1 self_id: uuid, the vaccinee (token person)
-- $2 id: uuid
SELECT json_strip_nulls(json_build_object('resourceType', 'Immunization', 'id', i.id, 'meta',
    json_build_object('versionId', i.version::text, 'lastUpdated', i.updated_at, 'profile',
    json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Immunization')),
    'identifier', json_build_array(json_build_object('system', 'urn:ietf:rfc:3986', 'value',
    'urn:uuid:' || i.id)), 'status', CASE WHEN i.status = 'voided' THEN 'entered-in-error' ELSE
    'completed' END, 'vaccineCode', json_build_object('coding',
    json_build_array(json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN
    'http://medis.or.jp/CodeSystem/master-HOT9' WHEN 13 THEN
    'http://medis.or.jp/CodeSystem/master-HOT13' ELSE
    'http://capstandard.jp/iyaku.info/CodeSystem/YJ-code' END, 'code', i.vaccine_code, 'display',
    v.name), json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN
    'urn:oid:1.2.392.200119.4.403.1' WHEN 13 THEN 'urn:oid:1.2.392.200119.4.402.1' ELSE
    'urn:oid:1.2.392.100495.20.1.73' END, 'code', i.vaccine_code, 'display', v.name)), 'text',
    v.name), 'patient', json_build_object('reference', 'Patient/' || i.person_id),
    'occurrenceDateTime', i.vaccinated_on, 'recorded', i.registered_at, 'primarySource', i.source IN
    ('institution', 'api'), 'lotNumber', i.lot_no, 'site', CASE WHEN i.site IS NOT NULL THEN
    json_build_object('text', i.site) END, 'doseQuantity', CASE WHEN i.dose_ml IS NOT NULL THEN
    json_build_object('value', i.dose_ml, 'unit', 'mL', 'system', 'http://unitsofmeasure.org',
    'code', 'mL') END, 'performer', CASE WHEN i.institution_code IS NOT NULL THEN
    json_build_array(json_build_object('actor', json_build_object('identifier',
    json_build_object('system',
    'http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no', 'value',
    i.institution_code), 'display', coalesce(n.name, i.doctor_name)))) WHEN i.doctor_name IS NOT
    NULL THEN json_build_array(json_build_object('actor', json_build_object('display',
    i.doctor_name))) END, 'programEligibility', json_build_array(json_build_object('coding',
    json_build_array(json_build_object('system', 'urn:sesshu:immunization-category', 'code',
    i.category)))), 'protocolApplied', json_build_array(json_build_object('series', i.dose_label,
    'targetDisease', (SELECT json_agg(json_build_object('coding',
    json_build_array(json_build_object('system', 'urn:sesshu:disease', 'code', d))))
          FROM unnest(i.disease_codes) d), 'doseNumberPositiveInt', i.dose_number)))),
              i.version::text, i.person_id::text
FROM records.immunizations i
JOIN records.persons p ON p.id = i.person_id AND p.muni_code = i.person_muni
LEFT JOIN LATERAL (SELECT v.name
  FROM master.vaccines v
  WHERE v.code = i.vaccine_code
    AND v.superseded_at IS NULL
    AND v.valid_from <= i.vaccinated_on
    AND (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
  ORDER BY v.valid_from DESC
  LIMIT 1) AS v(name) ON true
LEFT JOIN LATERAL (SELECT m.name
  FROM master.institutions m
  WHERE m.code = i.institution_code
    AND m.superseded_at IS NULL
    AND m.valid_from <= i.vaccinated_on
    AND (m.valid_to IS NULL OR m.valid_to >= i.vaccinated_on)
  ORDER BY m.valid_from DESC
  LIMIT 1) AS n(name) ON true
WHERE i.id = $2::uuid
  AND i.muni_code = records.immunization_home($2::uuid) -- one partition (records 053)
  AND i.person_id IN (SELECT $1::uuid AS id
  UNION SELECT c.id
  FROM records.guardians g
  JOIN records.persons c ON c.id = g.child_id AND c.muni_code = g.child_muni
  WHERE g.guardian_id = $1::uuid
    AND NOT c.non_disclosure
    AND c.birth_date > (current_date - interval '18 years')::date);

-- name: rec_fhir_imm_get_muni
-- $1 muni_code: text, the caller's municipality
-- $2 id: uuid
SELECT json_strip_nulls(json_build_object('resourceType', 'Immunization', 'id', i.id, 'meta',
    json_build_object('versionId', i.version::text, 'lastUpdated', i.updated_at, 'profile',
    json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Immunization')),
    'identifier', json_build_array(json_build_object('system', 'urn:ietf:rfc:3986', 'value',
    'urn:uuid:' || i.id)), 'status', CASE WHEN i.status = 'voided' THEN 'entered-in-error' ELSE
    'completed' END, 'vaccineCode', json_build_object('coding',
    json_build_array(json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN
    'http://medis.or.jp/CodeSystem/master-HOT9' WHEN 13 THEN
    'http://medis.or.jp/CodeSystem/master-HOT13' ELSE
    'http://capstandard.jp/iyaku.info/CodeSystem/YJ-code' END, 'code', i.vaccine_code, 'display',
    v.name), json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN
    'urn:oid:1.2.392.200119.4.403.1' WHEN 13 THEN 'urn:oid:1.2.392.200119.4.402.1' ELSE
    'urn:oid:1.2.392.100495.20.1.73' END, 'code', i.vaccine_code, 'display', v.name)), 'text',
    v.name), 'patient', json_build_object('reference', 'Patient/' || i.person_id),
    'occurrenceDateTime', i.vaccinated_on, 'recorded', i.registered_at, 'primarySource', i.source IN
    ('institution', 'api'), 'lotNumber', i.lot_no, 'site', CASE WHEN i.site IS NOT NULL THEN
    json_build_object('text', i.site) END, 'doseQuantity', CASE WHEN i.dose_ml IS NOT NULL THEN
    json_build_object('value', i.dose_ml, 'unit', 'mL', 'system', 'http://unitsofmeasure.org',
    'code', 'mL') END, 'performer', CASE WHEN i.institution_code IS NOT NULL THEN
    json_build_array(json_build_object('actor', json_build_object('identifier',
    json_build_object('system',
    'http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no', 'value',
    i.institution_code), 'display', coalesce(n.name, i.doctor_name)))) WHEN i.doctor_name IS NOT
    NULL THEN json_build_array(json_build_object('actor', json_build_object('display',
    i.doctor_name))) END, 'programEligibility', json_build_array(json_build_object('coding',
    json_build_array(json_build_object('system', 'urn:sesshu:immunization-category', 'code',
    i.category)))), 'protocolApplied', json_build_array(json_build_object('series', i.dose_label,
    'targetDisease', (SELECT json_agg(json_build_object('coding',
    json_build_array(json_build_object('system', 'urn:sesshu:disease', 'code', d))))
          FROM unnest(i.disease_codes) d), 'doseNumberPositiveInt', i.dose_number)))),
              i.version::text, i.person_id::text
FROM records.immunizations i
JOIN records.persons p ON p.id = i.person_id AND p.muni_code = i.person_muni
LEFT JOIN LATERAL (SELECT v.name
  FROM master.vaccines v
  WHERE v.code = i.vaccine_code
    AND v.superseded_at IS NULL
    AND v.valid_from <= i.vaccinated_on
    AND (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
  ORDER BY v.valid_from DESC
  LIMIT 1) AS v(name) ON true
LEFT JOIN LATERAL (SELECT m.name
  FROM master.institutions m
  WHERE m.code = i.institution_code
    AND m.superseded_at IS NULL
    AND m.valid_from <= i.vaccinated_on
    AND (m.valid_to IS NULL OR m.valid_to >= i.vaccinated_on)
  ORDER BY m.valid_from DESC
  LIMIT 1) AS n(name) ON true
WHERE i.id = $2::uuid
  AND i.muni_code = records.immunization_home($2::uuid) -- one partition (records 053)
  AND p.muni_code = $1;

-- name: rec_fhir_recommend
-- $1 person_id: uuid
-- Every schedule row in force today that may govern a dose of the person (the check's `sch`:
-- sex, birth cohort, a condition on file today, its evidence date); a row with the 長期療養特例
-- also gives the window after it for a long_term_illness on file (ltc_end, the day the reason
-- ended: the check's ELSE branch), so a dose only the 特例 makes 定期 is proposed too (via).
WITH t AS (SELECT master.today_jp() AS t),
p AS (SELECT id, birth_date, sex, extract(year FROM (birth_date - 1) - interval '3 months')::int AS
    cohort, master.fy_age(birth_date, master.today_jp()) AS fya
  FROM records.persons
  WHERE id = $1::uuid
    AND muni_code = records.person_home($1::uuid)), -- one partition (records migration 052)
s AS (SELECT m.*
  FROM master.schedules m, t, p
  WHERE m.superseded_at IS NULL
    AND m.valid_from <= t.t
    AND (m.valid_to IS NULL OR m.valid_to >= t.t)
    AND m.pregnancy_weeks_from IS NULL
    AND (m.birth_from IS NULL OR p.birth_date >= m.birth_from)
    AND (m.birth_to IS NULL OR p.birth_date <= m.birth_to)
    AND (m.person_conditions IS NULL OR EXISTS (SELECT 1
      FROM records.person_conditions pc
      WHERE pc.person_id = $1::uuid
        AND pc.revoked_at IS NULL
        AND pc.kind = ANY (m.person_conditions)
        AND (pc.disease_codes IS NULL OR m.disease_code = ANY (pc.disease_codes))
        AND pc.valid_from <= t.t
        AND (pc.valid_to IS NULL OR pc.valid_to >= t.t)
        AND (m.condition_evidence_by IS NULL OR pc.evidence_on <= m.condition_evidence_by)))),
lv AS (SELECT master.after_interval(max(i.vaccinated_on), make_interval(days => (SELECT r.param_days
        FROM master.rules r, t
        WHERE r.code = 'R-LIVE-INJ-27D'
          AND r.superseded_at IS NULL
          AND r.valid_from <= t.t
          AND (r.valid_to IS NULL OR r.valid_to >= t.t)
        LIMIT 1))) AS next_live
  FROM records.immunizations i
  JOIN master.vaccines v ON v.code = i.vaccine_code AND v.superseded_at IS NULL AND v.live_injected
  WHERE i.person_id = $1::uuid
    AND i.status <> 'voided'),
d AS (SELECT s.code, s.disease_code, s.vaccine_code, s.category, s.dose_number, s.dose_label,
    s.doses_total, master.age_on(p.birth_date, s.age_from) AS a_from, master.age_on(p.birth_date,
    s.age_to) AS a_to, s.min_interval, s.max_interval, CASE WHEN s.fy_age_step IS NULL THEN
    s.fy_age_from ELSE greatest(s.fy_age_from, s.fy_age_from + ((p.fya - s.fy_age_from +
    s.fy_age_step - 1) / s.fy_age_step) * s.fy_age_step) END AS fy_a, CASE WHEN s.fy_age_step IS
    NULL THEN s.fy_age_to ELSE greatest(s.fy_age_from, s.fy_age_from + ((p.fya - s.fy_age_from +
    s.fy_age_step - 1) / s.fy_age_step) * s.fy_age_step) END AS fy_b, s.fy_age_to AS fy_max,
    s.fy_age_from AS fy_lo, p.cohort, s.valid_from AS s_from, s.valid_to AS s_to, s.rule_code,
    master.age_on(p.birth_date, s.ltc_age_to) AS ltc_age_end, s.ltc_extension, EXISTS (SELECT 1
    FROM master.vaccines v
    WHERE v.superseded_at IS NULL
      AND v.live_injected
      AND s.disease_code = ANY (v.disease_codes)
      AND (s.vaccine_code IS NULL OR v.code = s.vaccine_code)) AS live, (SELECT max(i.vaccinated_on)
    FROM records.immunizations i
    WHERE i.person_id = p.id
      AND i.status <> 'voided'
      AND s.disease_code = ANY (i.disease_codes)
      AND i.dose_number = s.dose_number - 1) AS prev_on, EXISTS (SELECT 1
    FROM records.immunizations i
    WHERE i.person_id = p.id
      AND i.status <> 'voided'
      AND s.disease_code = ANY (i.disease_codes)
      AND i.dose_number >= s.dose_number) AS done, (SELECT coalesce(max(pc.valid_to) FILTER (WHERE
        pc.valid_to <= t.t), min(pc.valid_to))
    FROM records.person_conditions pc, t
    WHERE s.ltc_extension IS NOT NULL
      AND pc.person_id = p.id
      AND pc.revoked_at IS NULL
      AND pc.kind = 'long_term_illness'
      AND s.disease_code = ANY (pc.disease_codes)
      AND pc.valid_to >= master.age_on(p.birth_date, s.age_from)
      AND pc.valid_from <= master.age_on(p.birth_date, s.age_to)
      AND (s.fy_age_to IS NULL OR master.fy_age(p.birth_date, pc.valid_from) <= s.fy_age_to)) AS
    ltc_end
  FROM s, p
  WHERE s.sex IS NULL OR s.sex = p.sex),
-- the window of the row, and the 長期療養特例's after it (the lower ends and intervals still hold)
e AS (SELECT d.*, d.rule_code AS via, greatest(d.a_from, d.s_from, CASE WHEN d.fy_a IS NOT NULL
    THEN make_date(d.cohort + d.fy_a, 4, 1) END, CASE WHEN d.prev_on IS NOT NULL AND d.min_interval
    IS NOT NULL THEN master.after_interval(d.prev_on, d.min_interval) END, CASE WHEN d.live THEN
    lv.next_live END) AS earliest, least(d.a_to, d.s_to, CASE WHEN d.fy_b IS NOT NULL THEN
    make_date(d.cohort + d.fy_b + 1, 3, 31) END, CASE WHEN d.prev_on IS NOT NULL AND d.max_interval
    IS NOT NULL THEN master.within_interval(d.prev_on, d.max_interval) END) AS closes
  FROM d, lv
  WHERE NOT d.done
    AND (d.dose_number = 1 OR d.prev_on IS NOT NULL)
    AND (d.fy_a IS NULL OR d.fy_a <= d.fy_max)
  UNION ALL SELECT d.*, 'R-LONG-TERM-ILLNESS', greatest(d.ltc_end, d.a_from, d.s_from, CASE WHEN
      d.fy_lo IS NOT NULL THEN make_date(d.cohort + d.fy_lo, 4, 1) END, CASE WHEN d.prev_on IS NOT
      NULL AND d.min_interval IS NOT NULL THEN master.after_interval(d.prev_on, d.min_interval) END,
      CASE WHEN d.live THEN lv.next_live END), least(master.age_on(d.ltc_end, d.ltc_extension),
      d.ltc_age_end, d.s_to, CASE WHEN d.prev_on IS NOT NULL AND d.max_interval IS NOT NULL THEN
      master.within_interval(d.prev_on, d.max_interval) END)
  FROM d, lv
  WHERE d.ltc_end IS NOT NULL
    AND NOT d.done
    AND (d.dose_number = 1 OR d.prev_on IS NOT NULL)),
-- one entry per (disease, dose): a window open today before one that closed, then the earliest
f AS (SELECT DISTINCT ON (e.disease_code, e.dose_number) e.*, CASE WHEN t.t > e.closes THEN
    'overdue' ELSE 'due' END AS forecast
  FROM e, t
  WHERE e.earliest <= t.t
    AND e.earliest <= e.closes
    AND e.closes >= t.t - 365
  ORDER BY e.disease_code, e.dose_number, t.t > e.closes, e.earliest, e.code)
SELECT json_strip_nulls(json_build_object('vaccineCode', CASE WHEN f.vaccine_code IS NOT NULL THEN
    json_build_array(json_build_object('coding', json_build_array(json_build_object('system', CASE
    length(f.vaccine_code) WHEN 9 THEN 'http://medis.or.jp/CodeSystem/master-HOT9' WHEN 13 THEN
    'http://medis.or.jp/CodeSystem/master-HOT13' ELSE
    'http://capstandard.jp/iyaku.info/CodeSystem/YJ-code' END, 'code', f.vaccine_code),
    json_build_object('system', CASE length(f.vaccine_code) WHEN 9 THEN
    'urn:oid:1.2.392.200119.4.403.1' WHEN 13 THEN 'urn:oid:1.2.392.200119.4.402.1' ELSE
    'urn:oid:1.2.392.100495.20.1.73' END, 'code', f.vaccine_code)))) END, 'targetDisease',
    json_build_object('coding', json_build_array(json_build_object('system', 'urn:sesshu:disease',
    'code', f.disease_code, 'display', (SELECT x.name
            FROM master.diseases x
            WHERE x.code = f.disease_code
              AND x.superseded_at IS NULL
              AND x.valid_from <= master.today_jp()
              AND (x.valid_to IS NULL OR x.valid_to >= master.today_jp())
            ORDER BY x.valid_from DESC
            LIMIT 1)))), 'forecastStatus', json_build_object('coding',
                json_build_array(json_build_object('system',
                'http://terminology.hl7.org/CodeSystem/immunization-recommendation-status', 'code',
                f.forecast))), 'dateCriterion', json_build_array(json_build_object('code',
                json_build_object('coding', json_build_array(json_build_object('system',
                'http://loinc.org', 'code', '30981-5', 'display', 'Earliest date to give'))),
                'value', f.earliest), json_build_object('code', json_build_object('coding',
                json_build_array(json_build_object('system', 'http://loinc.org', 'code', '59777-3',
                'display', 'Latest date to give'))), 'value', f.closes)), 'description', f.code ||
                ' (' || f.category || coalesce(', ' || f.via, '') || ')', 'series', f.dose_label, 'doseNumberPositiveInt',
                f.dose_number, 'seriesDosesPositiveInt', f.doses_total))
FROM f
ORDER BY f.earliest, f.disease_code, f.dose_number;

-- The two FHIR searches (fhir_search.c), each one fixed statement per scope: every search
-- parameter is a $n that is NULL when absent, so PostgreSQL folds the absent ones away in the
-- plan it makes for the values (custom plans); repeated date parameters are merged into one
-- lower and one upper end by the C code (their AND).

-- name: rec_fhir_search_custom_plans
-- Before a search, in its transaction: plan it for its values (fhir_search.c says why).
SELECT set_config('plan_cache_mode', 'force_custom_plan', true);

-- name: rec_fhir_imm_search_muni
-- $1 muni_code: text, the caller's municipality (its current residents' records)
-- $2 patient: uuid, or NULL
-- $3 date_from: date, vaccinated on or after (the latest of the date parameters' lower ends), or NULL
-- $4 date_before: date, vaccinated before (the earliest of their upper ends), or NULL
-- $5 vaccine_code: text, or NULL
-- $6 vaccine_system: text, the code's system as sent (URL or OID), or NULL
-- $7 lot_no: text, or NULL
-- $8 id: uuid, the record (identifier urn:uuid:...), or NULL
-- $9 identifier_system: text, as sent, or NULL
-- $10 statuses: text[], the record statuses asked for, or NULL for all
-- $11 cursor_on: date, or NULL on the first page
-- $12 cursor_id: uuid, or NULL on the first page
-- $13 limit: int, _count + 1
SELECT json_strip_nulls(json_build_object('resourceType', 'Immunization', 'id', i.id, 'meta',
    json_build_object('versionId', i.version::text, 'lastUpdated', i.updated_at, 'profile',
    json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Immunization')),
    'identifier', json_build_array(json_build_object('system', 'urn:ietf:rfc:3986', 'value',
    'urn:uuid:' || i.id)), 'status', CASE WHEN i.status = 'voided' THEN 'entered-in-error' ELSE
    'completed' END, 'vaccineCode', json_build_object('coding',
    json_build_array(json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN
    'http://medis.or.jp/CodeSystem/master-HOT9' WHEN 13 THEN
    'http://medis.or.jp/CodeSystem/master-HOT13' ELSE
    'http://capstandard.jp/iyaku.info/CodeSystem/YJ-code' END, 'code', i.vaccine_code, 'display',
    v.name), json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN
    'urn:oid:1.2.392.200119.4.403.1' WHEN 13 THEN 'urn:oid:1.2.392.200119.4.402.1' ELSE
    'urn:oid:1.2.392.100495.20.1.73' END, 'code', i.vaccine_code, 'display', v.name)), 'text',
    v.name), 'patient', json_build_object('reference', 'Patient/' || i.person_id),
    'occurrenceDateTime', i.vaccinated_on, 'recorded', i.registered_at, 'primarySource', i.source IN
    ('institution', 'api'), 'lotNumber', i.lot_no, 'site', CASE WHEN i.site IS NOT NULL THEN
    json_build_object('text', i.site) END, 'doseQuantity', CASE WHEN i.dose_ml IS NOT NULL THEN
    json_build_object('value', i.dose_ml, 'unit', 'mL', 'system', 'http://unitsofmeasure.org',
    'code', 'mL') END, 'performer', CASE WHEN i.institution_code IS NOT NULL THEN
    json_build_array(json_build_object('actor', json_build_object('identifier',
    json_build_object('system',
    'http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no', 'value',
    i.institution_code), 'display', coalesce(n.name, i.doctor_name)))) WHEN i.doctor_name IS NOT
    NULL THEN json_build_array(json_build_object('actor', json_build_object('display',
    i.doctor_name))) END, 'programEligibility', json_build_array(json_build_object('coding',
    json_build_array(json_build_object('system', 'urn:sesshu:immunization-category', 'code',
    i.category)))), 'protocolApplied', json_build_array(json_build_object('series', i.dose_label,
    'targetDisease', (SELECT json_agg(json_build_object('coding',
    json_build_array(json_build_object('system', 'urn:sesshu:disease', 'code', d))))
          FROM unnest(i.disease_codes) d), 'doseNumberPositiveInt', i.dose_number)))),
              i.vaccinated_on, i.id, count(*) OVER ()
FROM records.immunizations i
JOIN records.persons p ON p.id = i.person_id AND p.muni_code = i.person_muni
LEFT JOIN LATERAL (SELECT v.name
  FROM master.vaccines v
  WHERE v.code = i.vaccine_code AND v.superseded_at IS NULL AND v.valid_from <= i.vaccinated_on AND
      (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
  ORDER BY v.valid_from DESC
  LIMIT 1) AS v(name) ON true
LEFT JOIN LATERAL (SELECT m.name
  FROM master.institutions m
  WHERE m.code = i.institution_code AND m.superseded_at IS NULL AND m.valid_from <= i.vaccinated_on
      AND (m.valid_to IS NULL OR m.valid_to >= i.vaccinated_on)
  ORDER BY m.valid_from DESC
  LIMIT 1) AS n(name) ON true
WHERE p.muni_code = $1 AND ($2::uuid IS NULL OR i.person_id = $2::uuid) AND ($3::date IS NULL OR
    i.vaccinated_on >= $3::date) AND ($4::date IS NULL OR i.vaccinated_on < $4::date) AND ($5::text
    IS NULL OR i.vaccine_code = $5) AND ($6::text IS NULL OR $6 IN (CASE length(i.vaccine_code) WHEN
    9 THEN 'http://medis.or.jp/CodeSystem/master-HOT9' WHEN 13 THEN
    'http://medis.or.jp/CodeSystem/master-HOT13' ELSE
    'http://capstandard.jp/iyaku.info/CodeSystem/YJ-code' END, CASE length(i.vaccine_code) WHEN 9
    THEN 'urn:oid:1.2.392.200119.4.403.1' WHEN 13 THEN 'urn:oid:1.2.392.200119.4.402.1' ELSE
    'urn:oid:1.2.392.100495.20.1.73' END)) AND ($7::text IS NULL OR i.lot_no = $7) AND ($8::uuid IS
    NULL OR i.id = $8::uuid) AND ($9::text IS NULL OR $9 = 'urn:ietf:rfc:3986') AND ($10::text[] IS
    NULL OR i.status = ANY ($10::text[])) AND ($11::date IS NULL OR (i.vaccinated_on, i.id) >
    ($11::date, $12::uuid))
ORDER BY i.vaccinated_on, i.id
LIMIT $13::int;

-- name: rec_fhir_imm_search_self
-- $1 self_id: uuid, the vaccinee (its own and its minor children's records)
-- $2 patient: uuid, or NULL
-- $3 date_from: date, vaccinated on or after (the latest of the date parameters' lower ends), or NULL
-- $4 date_before: date, vaccinated before (the earliest of their upper ends), or NULL
-- $5 vaccine_code: text, or NULL
-- $6 vaccine_system: text, the code's system as sent (URL or OID), or NULL
-- $7 lot_no: text, or NULL
-- $8 id: uuid, the record (identifier urn:uuid:...), or NULL
-- $9 identifier_system: text, as sent, or NULL
-- $10 statuses: text[], the record statuses asked for, or NULL for all
-- $11 cursor_on: date, or NULL on the first page
-- $12 cursor_id: uuid, or NULL on the first page
-- $13 limit: int, _count + 1
SELECT json_strip_nulls(json_build_object('resourceType', 'Immunization', 'id', i.id, 'meta',
    json_build_object('versionId', i.version::text, 'lastUpdated', i.updated_at, 'profile',
    json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Immunization')),
    'identifier', json_build_array(json_build_object('system', 'urn:ietf:rfc:3986', 'value',
    'urn:uuid:' || i.id)), 'status', CASE WHEN i.status = 'voided' THEN 'entered-in-error' ELSE
    'completed' END, 'vaccineCode', json_build_object('coding',
    json_build_array(json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN
    'http://medis.or.jp/CodeSystem/master-HOT9' WHEN 13 THEN
    'http://medis.or.jp/CodeSystem/master-HOT13' ELSE
    'http://capstandard.jp/iyaku.info/CodeSystem/YJ-code' END, 'code', i.vaccine_code, 'display',
    v.name), json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN
    'urn:oid:1.2.392.200119.4.403.1' WHEN 13 THEN 'urn:oid:1.2.392.200119.4.402.1' ELSE
    'urn:oid:1.2.392.100495.20.1.73' END, 'code', i.vaccine_code, 'display', v.name)), 'text',
    v.name), 'patient', json_build_object('reference', 'Patient/' || i.person_id),
    'occurrenceDateTime', i.vaccinated_on, 'recorded', i.registered_at, 'primarySource', i.source IN
    ('institution', 'api'), 'lotNumber', i.lot_no, 'site', CASE WHEN i.site IS NOT NULL THEN
    json_build_object('text', i.site) END, 'doseQuantity', CASE WHEN i.dose_ml IS NOT NULL THEN
    json_build_object('value', i.dose_ml, 'unit', 'mL', 'system', 'http://unitsofmeasure.org',
    'code', 'mL') END, 'performer', CASE WHEN i.institution_code IS NOT NULL THEN
    json_build_array(json_build_object('actor', json_build_object('identifier',
    json_build_object('system',
    'http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no', 'value',
    i.institution_code), 'display', coalesce(n.name, i.doctor_name)))) WHEN i.doctor_name IS NOT
    NULL THEN json_build_array(json_build_object('actor', json_build_object('display',
    i.doctor_name))) END, 'programEligibility', json_build_array(json_build_object('coding',
    json_build_array(json_build_object('system', 'urn:sesshu:immunization-category', 'code',
    i.category)))), 'protocolApplied', json_build_array(json_build_object('series', i.dose_label,
    'targetDisease', (SELECT json_agg(json_build_object('coding',
    json_build_array(json_build_object('system', 'urn:sesshu:disease', 'code', d))))
          FROM unnest(i.disease_codes) d), 'doseNumberPositiveInt', i.dose_number)))),
              i.vaccinated_on, i.id, count(*) OVER ()
FROM records.immunizations i
JOIN records.persons p ON p.id = i.person_id AND p.muni_code = i.person_muni
LEFT JOIN LATERAL (SELECT v.name
  FROM master.vaccines v
  WHERE v.code = i.vaccine_code AND v.superseded_at IS NULL AND v.valid_from <= i.vaccinated_on AND
      (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
  ORDER BY v.valid_from DESC
  LIMIT 1) AS v(name) ON true
LEFT JOIN LATERAL (SELECT m.name
  FROM master.institutions m
  WHERE m.code = i.institution_code AND m.superseded_at IS NULL AND m.valid_from <= i.vaccinated_on
      AND (m.valid_to IS NULL OR m.valid_to >= i.vaccinated_on)
  ORDER BY m.valid_from DESC
  LIMIT 1) AS n(name) ON true
WHERE i.person_id IN (SELECT $1::uuid AS id
  UNION SELECT c.id
  FROM records.guardians g
  JOIN records.persons c ON c.id = g.child_id AND c.muni_code = g.child_muni
  WHERE g.guardian_id = $1::uuid AND NOT c.non_disclosure AND c.birth_date > (current_date -
      interval '18 years')::date) AND ($2::uuid IS NULL OR i.person_id = $2::uuid) AND ($3::date IS
      NULL OR i.vaccinated_on >= $3::date) AND ($4::date IS NULL OR i.vaccinated_on < $4::date) AND
      ($5::text IS NULL OR i.vaccine_code = $5) AND ($6::text IS NULL OR $6 IN (CASE
      length(i.vaccine_code) WHEN 9 THEN 'http://medis.or.jp/CodeSystem/master-HOT9' WHEN 13 THEN
      'http://medis.or.jp/CodeSystem/master-HOT13' ELSE
      'http://capstandard.jp/iyaku.info/CodeSystem/YJ-code' END, CASE length(i.vaccine_code) WHEN 9
      THEN 'urn:oid:1.2.392.200119.4.403.1' WHEN 13 THEN 'urn:oid:1.2.392.200119.4.402.1' ELSE
      'urn:oid:1.2.392.100495.20.1.73' END)) AND ($7::text IS NULL OR i.lot_no = $7) AND ($8::uuid
      IS NULL OR i.id = $8::uuid) AND ($9::text IS NULL OR $9 = 'urn:ietf:rfc:3986') AND
      ($10::text[] IS NULL OR i.status = ANY ($10::text[])) AND ($11::date IS NULL OR
      (i.vaccinated_on, i.id) > ($11::date, $12::uuid))
ORDER BY i.vaccinated_on, i.id
LIMIT $13::int;

-- name: rec_fhir_patient_search_muni
-- $1 muni_code: text, the caller's municipality
-- $2 id: uuid, _id, or NULL
-- $3 name: text, the start of a name part or of the name without spaces, or NULL
-- $4 family: text, the start of the family name (first part), or NULL
-- $5 given: text, the start of the given name (second part), or NULL
-- $6 birth_from: date, born on or after, or NULL
-- $7 birth_before: date, born before, or NULL
-- $8 gender: text, male, female, unknown or other, or NULL
-- $9 resident_muni: text, the municipality of the identifier's system, or NULL
-- $10 resident_no: text, the identifier's 宛名番号, or NULL
-- $11 cursor_on: date, or NULL on the first page
-- $12 cursor_id: uuid, or NULL on the first page
-- $13 limit: int, _count + 1
SELECT json_strip_nulls(json_build_object('resourceType', 'Patient', 'id', p.id, 'meta',
    json_build_object('versionId', p.version::text, 'lastUpdated', p.updated_at, 'profile',
    json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient')), 'identifier',
    json_build_array(json_build_object('system', 'urn:sesshu:resident-no:' || p.muni_code, 'value',
    p.resident_no)), 'active', p.status = 'resident', 'name',
    json_build_array(json_build_object('extension', json_build_array(json_build_object('url',
    'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', 'valueCode', 'IDE')),
    'use', 'official', 'text', p.name), json_build_object('extension',
    json_build_array(json_build_object('url',
    'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', 'valueCode', 'SYL')),
    'use', 'official', 'text', p.name_kana)), 'gender', CASE p.sex WHEN '1' THEN 'male' WHEN '2'
    THEN 'female' ELSE 'unknown' END, 'birthDate', p.birth_date, 'deceasedBoolean', p.status =
    'deceased', 'address', json_build_array(json_build_object('text', p.address, 'postalCode',
    p.postal_code)))), p.birth_date, p.id, count(*) OVER ()
FROM records.persons p
WHERE p.muni_code = $1 AND ($2::uuid IS NULL OR p.id = $2::uuid) AND ($3::text IS NULL OR (EXISTS
    (SELECT 1
      FROM unnest(regexp_split_to_array(p.name, '[ 　]+') || regexp_split_to_array(p.name_kana,
          '[ 　]+')) w
      WHERE starts_with(w, $3)) OR starts_with(replace(replace(p.name, ' ', ''), '　', ''),
          replace(replace($3, ' ', ''), '　', '')) OR starts_with(replace(replace(p.name_kana, ' ',
          ''), '　', ''), replace(replace($3, ' ', ''), '　', '')))) AND ($4::text IS NULL OR
          (starts_with((regexp_split_to_array(p.name, '[ 　]+'))[1], $4) OR
          starts_with((regexp_split_to_array(p.name_kana, '[ 　]+'))[1], $4))) AND ($5::text IS NULL
          OR (starts_with(coalesce((regexp_split_to_array(p.name, '[ 　]+'))[2], ''), $5) OR
          starts_with(coalesce((regexp_split_to_array(p.name_kana, '[ 　]+'))[2], ''), $5))) AND
          ($6::date IS NULL OR p.birth_date >= $6::date) AND ($7::date IS NULL OR p.birth_date <
          $7::date) AND ($8::text IS NULL OR CASE $8 WHEN 'male' THEN p.sex = '1' WHEN 'female' THEN
          p.sex = '2' WHEN 'unknown' THEN p.sex NOT IN ('1', '2') ELSE false END) AND ($9::text IS
          NULL OR p.muni_code = $9) AND ($10::text IS NULL OR p.resident_no = $10) AND ($11::date IS
          NULL OR (p.birth_date, p.id) > ($11::date, $12::uuid))
ORDER BY p.birth_date, p.id
LIMIT $13::int;

-- name: rec_fhir_patient_search_self
-- $1 self_id: uuid, the vaccinee (itself and its minor children)
-- $2 id: uuid, _id, or NULL
-- $3 name: text, the start of a name part or of the name without spaces, or NULL
-- $4 family: text, the start of the family name (first part), or NULL
-- $5 given: text, the start of the given name (second part), or NULL
-- $6 birth_from: date, born on or after, or NULL
-- $7 birth_before: date, born before, or NULL
-- $8 gender: text, male, female, unknown or other, or NULL
-- $9 resident_muni: text, the municipality of the identifier's system, or NULL
-- $10 resident_no: text, the identifier's 宛名番号, or NULL
-- $11 cursor_on: date, or NULL on the first page
-- $12 cursor_id: uuid, or NULL on the first page
-- $13 limit: int, _count + 1
SELECT json_strip_nulls(json_build_object('resourceType', 'Patient', 'id', p.id, 'meta',
    json_build_object('versionId', p.version::text, 'lastUpdated', p.updated_at, 'profile',
    json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient')), 'identifier',
    json_build_array(json_build_object('system', 'urn:sesshu:resident-no:' || p.muni_code, 'value',
    p.resident_no)), 'active', p.status = 'resident', 'name',
    json_build_array(json_build_object('extension', json_build_array(json_build_object('url',
    'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', 'valueCode', 'IDE')),
    'use', 'official', 'text', p.name), json_build_object('extension',
    json_build_array(json_build_object('url',
    'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', 'valueCode', 'SYL')),
    'use', 'official', 'text', p.name_kana)), 'gender', CASE p.sex WHEN '1' THEN 'male' WHEN '2'
    THEN 'female' ELSE 'unknown' END, 'birthDate', p.birth_date, 'deceasedBoolean', p.status =
    'deceased', 'address', json_build_array(json_build_object('text', p.address, 'postalCode',
    p.postal_code)))), p.birth_date, p.id, count(*) OVER ()
FROM records.persons p
WHERE (p.id, p.muni_code) IN (SELECT h.id, h.muni_code -- one partition a person (records 052)
  FROM records.person_homes h
  WHERE h.id = $1::uuid
  UNION SELECT c.id, c.muni_code
  FROM records.guardians g
  JOIN records.persons c ON c.id = g.child_id AND c.muni_code = g.child_muni
  WHERE g.guardian_id = $1::uuid AND NOT c.non_disclosure AND c.birth_date > (current_date -
      interval '18 years')::date) AND ($2::uuid IS NULL OR p.id = $2::uuid) AND ($3::text IS NULL OR
      (EXISTS (SELECT 1
      FROM unnest(regexp_split_to_array(p.name, '[ 　]+') || regexp_split_to_array(p.name_kana,
          '[ 　]+')) w
      WHERE starts_with(w, $3)) OR starts_with(replace(replace(p.name, ' ', ''), '　', ''),
          replace(replace($3, ' ', ''), '　', '')) OR starts_with(replace(replace(p.name_kana, ' ',
          ''), '　', ''), replace(replace($3, ' ', ''), '　', '')))) AND ($4::text IS NULL OR
          (starts_with((regexp_split_to_array(p.name, '[ 　]+'))[1], $4) OR
          starts_with((regexp_split_to_array(p.name_kana, '[ 　]+'))[1], $4))) AND ($5::text IS NULL
          OR (starts_with(coalesce((regexp_split_to_array(p.name, '[ 　]+'))[2], ''), $5) OR
          starts_with(coalesce((regexp_split_to_array(p.name_kana, '[ 　]+'))[2], ''), $5))) AND
          ($6::date IS NULL OR p.birth_date >= $6::date) AND ($7::date IS NULL OR p.birth_date <
          $7::date) AND ($8::text IS NULL OR CASE $8 WHEN 'male' THEN p.sex = '1' WHEN 'female' THEN
          p.sex = '2' WHEN 'unknown' THEN p.sex NOT IN ('1', '2') ELSE false END) AND ($9::text IS
          NULL OR p.muni_code = $9) AND ($10::text IS NULL OR p.resident_no = $10) AND ($11::date IS
          NULL OR (p.birth_date, p.id) > ($11::date, $12::uuid))
ORDER BY p.birth_date, p.id
LIMIT $13::int;
