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
  JOIN records.persons p ON p.id = rs.person_id AND p.muni_code = rs.person_muni
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
-- the rule check (records.rule_check, records migration 049) of every line of inp
chk AS (SELECT c.*
  FROM (SELECT array_agg(ROW(i.ln, i.person_id, i.vaccinated_on, i.vaccine_code, i.disease_codes,
      i.dose_number, i.lot_no, i.institution_code, i.category, i.pregnancy_weeks, i.exclude_id,
      i.source)::records.rule_line) AS lines
    FROM inp i) l, records.rule_check(l.lines) c),
bad AS (SELECT ln, coalesce(errors, '[]'::jsonb) || CASE WHEN duplicate THEN
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
