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
        AND vp.muni_code = im.person_muni -- the person's partition (048's copy)
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
      AND sp.muni_code = im.person_muni
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
  AND p.muni_code = records.person_home($1::uuid) -- one partition (records migration 052)
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
-- the rule check (records.rule_check, records migration 049) of the one line
WITH chk AS (SELECT c.*
  FROM records.rule_check(ARRAY[ ROW(1, $1::uuid, $2::date, $3::text,
      records.jsonb_texts($4::jsonb), $5::int, $6::text, $7::text, $8::text, $9::int, $10::uuid,
      $11::text)::records.rule_line ]) c),
ins AS (INSERT INTO records.immunizations(person_id, muni_code, person_muni, vaccinated_on,
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
care AS (INSERT INTO records.care_links(org_id, person_id, person_muni, until)
  SELECT $18::uuid, ins.person_id, ins.person_muni, now() + interval '90 days'
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
  AND im.muni_code = records.immunization_home($1::uuid) -- one partition (records 053)
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
-- the rule check (records.rule_check, records migration 049) of the one line
WITH chk AS (SELECT c.*
  FROM records.rule_check(ARRAY[ ROW(1, $1::uuid, $2::date, $3::text,
      records.jsonb_texts($4::jsonb), $5::int, $6::text, $7::text, $8::text, $9::int, $10::uuid,
      $11::text)::records.rule_line ]) c),
v AS (INSERT INTO records.immunization_versions(immunization_id, version, doc, replaced_by,
      reason)
  SELECT im.id, im.version, records.immunization_json(im), $19, $18
  FROM records.immunizations im, chk
  WHERE im.id = $10::uuid
    AND im.muni_code = records.immunization_home($10::uuid)
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
    AND im.muni_code = records.immunization_home($10::uuid)
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
-- the rule check (records.rule_check, records migration 049) of the one line
WITH chk AS (SELECT c.*
  FROM records.rule_check(ARRAY[ ROW(1, $1::uuid, $2::date, $3::text,
      records.jsonb_texts($4::jsonb), $5::int, $6::text, $7::text, $8::text, $9::int, $10::uuid,
      $11::text)::records.rule_line ]) c)
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
  AND im.muni_code = records.immunization_home($1::uuid) -- one partition (records 053)
  AND EXISTS (SELECT 1
  FROM records.persons vp
  WHERE vp.id = im.person_id
    AND vp.muni_code = im.person_muni
    AND (vp.muni_code = $2 OR (im.muni_code = $2 AND records.person_visible(vp, $2))));

-- name: rec_imm_get_inst
-- $1 id: uuid
-- $2 org_id: uuid, the caller's organisation
SELECT (records.immunization_json(im))::text, im.id::text, im.person_id::text
FROM records.immunizations im
WHERE im.id = $1::uuid
  AND im.muni_code = records.immunization_home($1::uuid) -- one partition (records 053)
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
  AND im.muni_code = records.immunization_home($1::uuid) -- one partition (records 053)
  AND (im.claimable AND left(im.institution_code, 2) = $2);

-- name: rec_imm_get_mhlw
-- $1 id: uuid
SELECT (records.immunization_json(im) || jsonb_build_object('person_id', NULL))::text, im.id::text,
    NULL::text
FROM records.immunizations im
WHERE im.id = $1::uuid
  AND im.muni_code = records.immunization_home($1::uuid) -- one partition (records 053)
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
  AND im.muni_code = records.immunization_home($5::uuid) -- one partition (records 053)
  AND
  -- ---- who sees the record: begin (rec.h; the same text in every statement that serves all viewers)
  (CASE $1
    WHEN 'muni' THEN EXISTS (SELECT 1 FROM records.persons vp WHERE vp.id = im.person_id
        AND vp.muni_code = im.person_muni -- the person's partition (048's copy)
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
  AND p.muni_code = records.person_home($5::uuid) -- one partition (records migration 052)
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
        AND vp.muni_code = im.person_muni -- the person's partition (048's copy)
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
        AND vp.muni_code = im.person_muni -- the person's partition (048's copy)
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
  AND im.muni_code = records.immunization_home($1::uuid) -- one partition (records 053)
  AND (im.muni_code = $2 OR im.registered_org_id = $3::uuid) FOR UPDATE;

-- name: rec_imm_void
-- $1 id: uuid
-- $2 reason: text
-- $3 by: text, the caller (token subject)
WITH cur AS (SELECT *
  FROM records.immunizations im
  WHERE im.id = $1::uuid
    AND im.muni_code = records.immunization_home($1::uuid)),
v AS (INSERT INTO records.immunization_versions(immunization_id, version, doc, replaced_by, reason)
  SELECT cur.id, cur.version, records.immunization_json(cur), $3, $2
  FROM cur),
up AS (UPDATE records.immunizations im
  SET status = 'voided', void_reason = $2, claimable = false, version = im.version + 1, updated_by =
      $3, updated_at = now(), txid = pg_current_xact_id(), seq = nextval('records.change_seq')
  FROM cur
  WHERE im.id = cur.id
    AND im.muni_code = cur.muni_code
  RETURNING im.*)
SELECT records.immunization_json(up)::text
FROM up;
