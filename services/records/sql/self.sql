-- self.sql - H-3-3 the vaccinee's own view and family (self.c, self_resolve.c).

-- name: rec_self_may_read
-- $1 self_id: uuid, the vaccinee (token person)
-- $2 person_id: uuid
SELECT 1
FROM (SELECT $1::uuid AS id
  UNION SELECT c.id
  FROM records.guardians g
  JOIN records.persons c ON c.id = g.child_id AND c.muni_code = g.child_muni
  WHERE g.guardian_id = $1::uuid
    AND c.muni_code = records.person_home($2::uuid) -- one partition (records migration 052): the child asked for
    AND NOT c.non_disclosure
    AND c.birth_date > (current_date - interval '18 years')::date) f
WHERE f.id = $2::uuid;

-- name: rec_self_get
-- $1 self_id: uuid, the vaccinee (token person)
SELECT json_build_object('id', p.id, 'name', p.name, 'name_kana', p.name_kana, 'name_romaji',
    p.name_romaji, 'birth_date', p.birth_date, 'sex', p.sex, 'address', p.address,
    'municipality_code', p.muni_code, 'status', p.status, 'relationship', CASE WHEN p.id = $1::uuid
    THEN 'self' ELSE 'child' END), p.id = $1::uuid
FROM records.persons p
WHERE (p.id, p.muni_code) IN (SELECT h.id, h.muni_code -- one partition a person (records 052)
  FROM records.person_homes h
  WHERE h.id = $1::uuid
  UNION SELECT c.id, c.muni_code
  FROM records.guardians g
  JOIN records.persons c ON c.id = g.child_id AND c.muni_code = g.child_muni
  WHERE g.guardian_id = $1::uuid
    AND NOT c.non_disclosure
    AND c.birth_date > (current_date - interval '18 years')::date)
ORDER BY p.id <> $1::uuid, p.birth_date, p.id;

-- name: rec_self_records
-- $1 person_id: uuid
-- $2 limit: int, page size
SELECT json_build_object('id', i.id, 'person_id', i.person_id, 'version', i.version, 'status',
    i.status, 'vaccinated_on', i.vaccinated_on, 'vaccine_code', i.vaccine_code, 'vaccine_name',
    (SELECT v.name
    FROM master.vaccines v
    WHERE v.code = i.vaccine_code
      AND v.superseded_at IS NULL
      AND v.valid_from <= i.vaccinated_on
      AND (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
    ORDER BY v.valid_from DESC
    LIMIT 1), 'disease_codes', to_json(i.disease_codes), 'dose_number', i.dose_number, 'dose_label',
        i.dose_label, 'lot_no', i.lot_no, 'institution_code', i.institution_code,
        'institution_name', (SELECT m.name
    FROM master.institutions m
    WHERE m.code = i.institution_code
      AND m.superseded_at IS NULL
      AND m.valid_from <= i.vaccinated_on
      AND (m.valid_to IS NULL OR m.valid_to >= i.vaccinated_on)
    ORDER BY m.valid_from DESC
    LIMIT 1), 'doctor_name', i.doctor_name, 'dose_ml', i.dose_ml, 'site', i.site, 'category',
        i.category, 'registered_at', i.registered_at)
FROM records.immunizations i
WHERE i.person_id = $1::uuid
  AND i.status <> 'voided'
ORDER BY i.vaccinated_on, i.id
LIMIT $2::int;

-- name: rec_self_child_get
-- $1 id: uuid
SELECT json_build_object('id', p.id, 'name', p.name, 'name_kana', p.name_kana, 'name_romaji',
    p.name_romaji, 'birth_date', p.birth_date, 'sex', p.sex, 'address', p.address,
    'municipality_code', p.muni_code, 'status', p.status, 'relationship', 'child')
FROM records.persons p
WHERE p.id = $1::uuid
  -- one partition (records migration 052)
  AND p.muni_code = records.person_home($1::uuid);

-- name: rec_self_by_my_number
-- $1 my_number_hash: text
SELECT id
FROM records.persons
WHERE my_number_hash = $1
  AND muni_code = records.my_number_home($1) -- one partition: the number's person (records 048, 052)
  AND status <> 'deceased';

-- name: rec_self_by_resident_no
-- $1 muni_code: text
-- $2 resident_no: text
SELECT id
FROM records.persons
WHERE muni_code = $1
  AND resident_no = $2
  AND status <> 'deceased';
