-- mch.sql - H-7 母子保健・健診情報 (mch.c, mch_query.c).

-- name: rec_mch_person_rules
-- $1 person_id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 examined_on: date
SELECT $3::date >= p.birth_date, $3::date <= (now() AT TIME ZONE 'Asia/Tokyo')::date, p.sex,
    (extract(year FROM age($3::date, p.birth_date)) * 12 + extract(month FROM age($3::date,
    p.birth_date)))::int::text
FROM records.persons p
WHERE p.id = $1::uuid
  AND p.muni_code = $2;

-- name: rec_mch_insert
-- $1 person_id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 kind: text
-- $4 examined_on: date
-- $5 data: jsonb
-- $6 source: text
-- $7 source_name: text
-- $8 external_id: text
-- $9 entered_via: text, api or staff
-- $10 by: text, the caller (token subject)
-- $11 org_id: uuid, the caller's organisation
WITH m AS (INSERT INTO records.mch_records(person_id, muni_code, kind, examined_on, data, source,
    source_name, external_id, entered_via, entered_by, entered_org_id)
  VALUES ($1::uuid, $2, $3, $4::date, $5::jsonb, $6, $7, $8, $9, $10, $11::uuid)
  ON CONFLICT(muni_code, external_id) DO NOTHING
  RETURNING *)
SELECT jsonb_build_object('id', m.id, 'person_id', m.person_id, 'municipality_code', m.muni_code,
    'kind', m.kind, 'examined_on', m.examined_on, 'data', m.data, 'source', m.source, 'source_name',
    m.source_name, 'external_id', m.external_id, 'entered_via', m.entered_via, 'created_at',
    m.created_at)::text, m.id::text
FROM m;

-- name: rec_mch_list_self
-- $1 self_id: uuid, the vaccinee (token person)
-- $2 muni_code: text, NULL here
-- $3 person_id: uuid
-- $4 kind: text
-- $5 from: date
-- $6 to: date
-- $7 cursor_on: date, or NULL
-- $8 cursor_id: uuid, or NULL
-- $9 limit: int, page size + 1
SELECT jsonb_build_object('id', m.id, 'person_id', m.person_id, 'municipality_code', m.muni_code,
    'kind', m.kind, 'examined_on', m.examined_on, 'data', m.data, 'source', m.source, 'source_name',
    m.source_name, 'external_id', m.external_id, 'entered_via', m.entered_via, 'created_at',
    m.created_at)::text, m.examined_on::text, m.id::text
FROM records.mch_records m
JOIN records.persons ps ON ps.id = m.person_id AND ps.muni_code = m.person_muni
WHERE m.person_id IN (SELECT $1::uuid AS id
  UNION SELECT c.id
  FROM records.guardians g
  JOIN records.persons c ON c.id = g.child_id AND c.muni_code = g.child_muni
  WHERE g.guardian_id = $1::uuid
    AND NOT c.non_disclosure
    AND c.birth_date > (current_date - interval '18 years')::date)
  AND $2::text IS NULL
  AND ($3::uuid IS NULL OR m.person_id = $3::uuid)
  AND ($4::text IS NULL OR m.kind = $4)
  AND ($5::date IS NULL OR m.examined_on >= $5::date)
  AND ($6::date IS NULL OR m.examined_on <= $6::date)
  AND ($7::date IS NULL OR (m.examined_on, m.id) < ($7::date, $8::uuid))
ORDER BY m.examined_on DESC, m.id DESC
LIMIT $9::int;

-- name: rec_mch_list_muni
-- $1 self_id: uuid, NULL here
-- $2 muni_code: text, the caller's municipality
-- $3 person_id: uuid
-- $4 kind: text
-- $5 from: date
-- $6 to: date
-- $7 cursor_on: date, or NULL
-- $8 cursor_id: uuid, or NULL
-- $9 limit: int, page size + 1
SELECT jsonb_build_object('id', m.id, 'person_id', m.person_id, 'municipality_code', m.muni_code,
    'kind', m.kind, 'examined_on', m.examined_on, 'data', m.data, 'source', m.source, 'source_name',
    m.source_name, 'external_id', m.external_id, 'entered_via', m.entered_via, 'created_at',
    m.created_at)::text, m.examined_on::text, m.id::text
FROM records.mch_records m
JOIN records.persons ps ON ps.id = m.person_id AND ps.muni_code = m.person_muni
WHERE ps.muni_code = $2::text
  AND $1::uuid IS NULL
  AND ($3::uuid IS NULL OR m.person_id = $3::uuid)
  AND ($4::text IS NULL OR m.kind = $4)
  AND ($5::date IS NULL OR m.examined_on >= $5::date)
  AND ($6::date IS NULL OR m.examined_on <= $6::date)
  AND ($7::date IS NULL OR (m.examined_on, m.id) < ($7::date, $8::uuid))
ORDER BY m.examined_on DESC, m.id DESC
LIMIT $9::int;

-- name: rec_mch_get
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
SELECT jsonb_build_object('id', m.id, 'person_id', m.person_id, 'municipality_code', m.muni_code,
    'kind', m.kind, 'examined_on', m.examined_on, 'data', m.data, 'source', m.source, 'source_name',
    m.source_name, 'external_id', m.external_id, 'entered_via', m.entered_via, 'created_at',
    m.created_at)::text, m.person_id::text
FROM records.mch_records m
JOIN records.persons ps ON ps.id = m.person_id AND ps.muni_code = m.person_muni
WHERE m.id = $1::uuid
  AND ps.muni_code = $2;
