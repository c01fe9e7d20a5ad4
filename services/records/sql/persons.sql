-- persons.sql - H-3 persons: register, read, change, list, look up by 個人番号, move-in, history (persons.c, persons_search.c).

-- name: rec_person_insert
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 resident_no: text
-- $4 name: text
-- $5 name_kana: text
-- $6 name_romaji: text
-- $7 former_name: text
-- $8 birth_date: date
-- $9 sex: text
-- $10 postal_code: text
-- $11 address: text
-- $12 status: text
-- $13 status_on: date
-- $14 non_disclosure: boolean
-- $15 my_number_sealed: bytea, or NULL
-- $16 my_number_hash: text, or NULL
-- $17 by: text, the caller (token subject)
WITH p AS (INSERT INTO records.persons(id, muni_code, resident_no, name, name_kana, name_romaji,
    former_name, birth_date, sex, postal_code, address, status, status_on, non_disclosure,
    my_number_sealed, my_number_hash, created_by, updated_by)
  VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8::date, $9, $10, $11, coalesce($12, 'resident'),
      $13::date, $14::boolean, $15::bytea, $16, $17, $17)
  RETURNING *),
-- person_muni named: the map (records migration 052) has the person only when the statement ends
r AS (INSERT INTO records.residences(person_id, person_muni, muni_code, resident_no, from_on)
  SELECT id, muni_code, muni_code, resident_no, NULL
  FROM p),
v AS (INSERT INTO records.person_versions(person_id, person_muni, version, change, doc, changed_by)
  SELECT p.id, p.muni_code, p.version, 'created', records.person_json(p, NULL), p.updated_by
  FROM p)
SELECT records.person_json(p, NULL)::text
FROM p;

-- name: rec_person_my_number_sealed
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
SELECT my_number_sealed::text
FROM records.persons
WHERE id = $1::uuid
  AND muni_code = $2;

-- name: rec_person_get
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
SELECT records.person_json(p, $2)::text
FROM records.persons p
WHERE p.id = $1::uuid
  AND p.muni_code = records.person_home($1::uuid) -- one partition (records migration 052)
  AND records.person_visible(p, $2);

-- name: rec_person_get_records
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 limit: int, records at most + 1
-- The person as rec_person_get shows it, and its records as the person's listing shows them to
-- the municipality (rec_imm_person_list, viewer muni: every record of a current resident; of a
-- former resident, those the municipality made), oldest first, $3 at most: one read for a
-- caller that needs both (persons_records.c). The person being visible to $2, the listing's
-- condition comes down to the two municipality codes.
SELECT records.person_json(p, $2)::text, (SELECT coalesce(jsonb_agg(records.immunization_json(x.im)
      ORDER BY (x.im).vaccinated_on, (x.im).id), '[]'::jsonb)
    FROM (SELECT im
      FROM records.immunizations im
      WHERE im.person_id = p.id
        AND (p.muni_code = $2 OR im.muni_code = $2)
      ORDER BY im.vaccinated_on, im.id
      LIMIT $3::int) x)::text
FROM records.persons p
WHERE p.id = $1::uuid
  AND p.muni_code = records.person_home($1::uuid) -- one partition (records migration 052)
  AND records.person_visible(p, $2);

-- name: rec_person_update
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 resident_no: text
-- $4 name: text
-- $5 name_kana: text
-- $6 has_name_romaji: boolean, whether the body names it
-- $7 name_romaji: text
-- $8 has_former_name: boolean, whether the body names it
-- $9 former_name: text
-- $10 birth_date: date
-- $11 sex: text
-- $12 has_postal_code: boolean, whether the body names it
-- $13 postal_code: text
-- $14 address: text
-- $15 status: text
-- $16 has_status_on: boolean, whether the body names it
-- $17 status_on: date
-- $18 non_disclosure: boolean
-- $19 my_number_sealed: bytea, or NULL: unchanged
-- $20 my_number_hash: text, or NULL: unchanged
-- $21 by: text, the caller (token subject)
WITH p AS (UPDATE records.persons p
  SET resident_no = coalesce($3, p.resident_no), name = coalesce($4, p.name), name_kana =
      coalesce($5, p.name_kana), name_romaji = CASE WHEN $6::boolean THEN $7 ELSE p.name_romaji END,
      former_name = CASE WHEN $8::boolean THEN $9 ELSE p.former_name END, birth_date =
      coalesce($10::date, p.birth_date), sex = coalesce($11, p.sex), postal_code = CASE WHEN
      $12::boolean THEN $13 ELSE p.postal_code END, address = coalesce($14, p.address), status =
      coalesce($15, p.status), status_on = CASE WHEN $16::boolean THEN $17::date ELSE p.status_on
      END, non_disclosure = coalesce($18::boolean, p.non_disclosure), my_number_sealed =
      coalesce($19::bytea, p.my_number_sealed), my_number_hash = coalesce($20, p.my_number_hash),
      version = p.version + 1, updated_at = now(), updated_by = $21, txid = pg_current_xact_id(),
      seq = nextval('records.change_seq')
  WHERE p.id = $1::uuid
    AND p.muni_code = $2
  RETURNING p.*),
r AS (UPDATE records.residences r
  SET resident_no = p.resident_no
  FROM p
  WHERE r.person_id = p.id
    AND r.until_on IS NULL),
v AS (INSERT INTO records.person_versions(person_id, person_muni, version, change, doc, changed_by)
  SELECT p.id, p.muni_code, p.version, 'updated', records.person_json(p, NULL), p.updated_by
  FROM p)
SELECT records.person_json(p, NULL)::text
FROM p;

-- name: rec_person_list
-- $1 muni_code: text, the caller's municipality
-- $2 resident_no: text
-- $3 name_kana: text
-- $4 birth_date: date, or NULL
-- $5 status: text
-- $6 my_number_hash: text, or NULL
-- $7 cursor_id: uuid, or NULL
-- $8 limit: int, page size + 1
-- Driven from the two sets a municipality sees: its current residents (one partition of persons,
-- persons_kana) and its former residents (residences); $1 is compared as bpchar (the columns
-- are char(6)): compared as text, the column is cast and neither the partition nor the index
-- can be chosen by it (docs/operations.md, "Records partitioned by municipality").
SELECT records.person_json(p, $1)::text, p.id::text
FROM records.persons p
WHERE (p.id, p.muni_code) IN (SELECT q.id, q.muni_code
    FROM records.persons q
    WHERE q.muni_code = $1::bpchar
      AND ($3::text IS NULL OR q.name_kana_key = translate($3, ' 　', ''))
      AND ($4::date IS NULL OR q.birth_date = $4::date)
    UNION
    SELECT rs.person_id, rs.person_muni
    FROM records.residences rs
    WHERE rs.muni_code = $1::bpchar
      AND rs.until_on IS NOT NULL)
  AND records.person_visible(p, $1)
  AND ($2::text IS NULL OR p.resident_no = $2 OR EXISTS (SELECT 1
    FROM records.residences rs
    WHERE rs.person_id = p.id
      AND rs.muni_code = $1::bpchar
      AND rs.resident_no = $2))
  AND ($3::text IS NULL OR p.name_kana_key = translate($3, ' 　', ''))
  AND ($4::date IS NULL OR p.birth_date = $4::date)
  AND ($5::text IS NULL OR p.status = $5)
  AND ($6::text IS NULL OR p.my_number_hash = $6)
  AND ($7::uuid IS NULL OR p.id > $7::uuid)
ORDER BY p.id
LIMIT $8::int;

-- name: rec_person_list_by_resident_no
-- The same list when a 宛名番号 is given: driven from the persons and residences that carry it
-- in the caller's municipality (two index lookups; $1 as bpchar: one partition of persons), so
-- its cost does not grow with the table (rec_person_list's OR with a subquery left the planner
-- a scan in id order: bench/scale.sh).
-- $1 muni_code: text, the caller's municipality
-- $2 resident_no: text
-- $3 name_kana: text
-- $4 birth_date: date, or NULL
-- $5 status: text
-- $6 my_number_hash: text, or NULL
-- $7 cursor_id: uuid, or NULL
-- $8 limit: int, page size + 1
SELECT records.person_json(p, $1)::text, p.id::text
FROM records.persons p
WHERE (p.id, p.muni_code) IN (SELECT q.id, q.muni_code
    FROM records.persons q
    WHERE q.muni_code = $1::bpchar
      AND q.resident_no = $2
    UNION
    SELECT rs.person_id, rs.person_muni
    FROM records.residences rs
    WHERE rs.muni_code = $1::bpchar
      AND rs.resident_no = $2)
  AND records.person_visible(p, $1)
  AND ($3::text IS NULL OR p.name_kana_key = translate($3, ' 　', ''))
  AND ($4::date IS NULL OR p.birth_date = $4::date)
  AND ($5::text IS NULL OR p.status = $5)
  AND ($6::text IS NULL OR p.my_number_hash = $6)
  AND ($7::uuid IS NULL OR p.id > $7::uuid)
ORDER BY p.id
LIMIT $8::int;

-- name: rec_person_lookup
-- $1 my_number_hash: text
-- $2 birth_date: date
-- $3 org_id: uuid, the caller's organisation
-- An institution that identifies a person may read their past doses for 90 days (care link).
WITH p AS (SELECT *
  FROM records.persons
  WHERE my_number_hash = $1
    AND muni_code = records.my_number_home($1) -- one partition: the number's person (records 048, 052)
    AND birth_date = $2::date
    AND status <> 'deceased'),
l AS (INSERT INTO records.care_links(org_id, person_id, person_muni, until)
  SELECT $3::uuid, p.id, p.muni_code, now() + interval '90 days'
  FROM p
  ON CONFLICT(org_id, person_id) DO UPDATE
  SET until = excluded.until)
SELECT jsonb_build_object('id', p.id, 'name', p.name, 'name_kana', p.name_kana, 'birth_date',
    p.birth_date, 'sex', p.sex, 'muni_code', p.muni_code, 'care_until', now() + interval
    '90 days')::text
FROM p;

-- name: rec_person_move_in
-- $1 my_number_hash: text
-- $2 birth_date: date
-- $3 muni_code: text, the caller's municipality
-- $4 resident_no: text
-- $5 address: text
-- $6 postal_code: text
-- $7 moved_on: date
-- $8 by: text, the caller (token subject)
-- home: the number's person and their partition (records 048, 052); compared as scalars, they
-- prune the read and the update to one partition and one row (joined with old alone, the update
-- read every partition: the planner cannot know old has one row).
WITH home AS (SELECT h.id, h.muni_code
  FROM records.person_my_numbers m
  JOIN records.person_homes h ON h.id = m.person_id
  WHERE m.my_number_hash = $1),
old AS (SELECT id, muni_code
  FROM records.persons
  WHERE id = (SELECT id
    FROM home)
    AND muni_code = (SELECT muni_code
    FROM home)
    AND my_number_hash = $1
    AND birth_date = $2::date
    AND muni_code <> $3
    AND status <> 'deceased' FOR UPDATE),
closed AS (UPDATE records.residences r
  SET until_on = $7::date, txid = pg_current_xact_id(), seq = nextval('records.change_seq')
  FROM old
  WHERE r.person_id = old.id
    AND r.until_on IS NULL
  RETURNING r.person_id),
p AS (UPDATE records.persons p
  SET muni_code = $3, resident_no = $4, address = $5, postal_code = $6, status = 'resident',
      status_on = NULL, version = p.version + 1, updated_at = now(), updated_by = $8, txid =
      pg_current_xact_id(), seq = nextval('records.change_seq')
  FROM old
  WHERE p.id = (SELECT id
    FROM home)
    AND p.muni_code = (SELECT muni_code
    FROM home)
    AND p.id = old.id
  RETURNING p.*),
-- person_muni named: the map (records migration 052) follows the move when the statement ends
n AS (INSERT INTO records.residences(person_id, person_muni, muni_code, resident_no, from_on)
  SELECT id, muni_code, $3, $4, $7::date
  FROM p
  WHERE EXISTS (SELECT 1
    FROM closed)),
v AS (INSERT INTO records.person_versions(person_id, person_muni, version, change, doc, changed_by)
  SELECT p.id, p.muni_code, p.version, 'moved_in', records.person_json(p, NULL), p.updated_by
  FROM p)
SELECT records.person_json(p, NULL)::text
FROM p;

-- name: rec_person_history
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
SELECT jsonb_build_object('version', v.version, 'change', v.change, 'person', v.doc, 'changed_by',
    v.changed_by, 'changed_at', v.changed_at)::text
FROM records.person_versions v
JOIN records.persons p ON p.id = v.person_id AND p.muni_code = v.person_muni
WHERE p.id = $1::uuid
  AND p.muni_code = $2
ORDER BY v.version DESC;
