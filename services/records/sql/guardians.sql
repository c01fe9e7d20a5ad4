-- guardians.sql - guardians of a person (persons_guardians.c).

-- name: rec_guardian_cycle_check
-- $1 child: uuid
-- $2 guardian: uuid
-- $3 muni_code: text, the caller's municipality
SELECT pg_advisory_xact_lock(hashtextextended('guardians:' || $3, 0)), EXISTS (WITH RECURSIVE up(id,
    depth) AS (SELECT g.guardian_id, 1
    FROM records.guardians g
    WHERE g.child_id = $2::uuid
    UNION SELECT g.guardian_id, up.depth + 1
    FROM records.guardians g
    JOIN up ON g.child_id = up.id
    WHERE up.depth < 64)
  SELECT 1
  FROM up
  WHERE up.id = $1::uuid);

-- name: rec_guardian_insert
-- $1 child_id: uuid
-- $2 guardian_id: uuid
-- $3 muni_code: text, the caller's municipality
-- $4 relation: text
-- $5 by: text, the caller (token subject)
WITH g AS (INSERT INTO records.guardians(child_id, guardian_id, relation, created_by)
  SELECT ch.id, gp.id, coalesce($4, 'parent'), $5
  FROM records.persons ch, records.persons gp
  WHERE ch.id = $1::uuid
    AND ch.muni_code = $3
    AND gp.id = $2::uuid
    AND gp.muni_code = $3
  RETURNING *)
SELECT jsonb_build_object('child_id', g.child_id, 'guardian_id', g.guardian_id, 'relation',
    g.relation, 'guardian_name', gp.name, 'guardian_name_kana', gp.name_kana, 'created_at',
    g.created_at)::text
FROM g
JOIN records.persons gp ON gp.id = g.guardian_id AND gp.muni_code = g.guardian_muni;

-- name: rec_guardian_list
-- $1 child_id: uuid
-- $2 muni_code: text, the caller's municipality
SELECT p.id, (SELECT coalesce(jsonb_agg(jsonb_build_object('child_id', g.child_id, 'guardian_id',
    g.guardian_id, 'relation', g.relation, 'guardian_name', gp.name, 'guardian_name_kana',
    gp.name_kana, 'created_at', g.created_at)::text::jsonb ORDER BY g.created_at), '[]')
  FROM records.guardians g
  JOIN records.persons gp ON gp.id = g.guardian_id AND gp.muni_code = g.guardian_muni
  WHERE g.child_id = p.id)::text
FROM records.persons p
WHERE p.id = $1::uuid
  AND p.muni_code = $2;

-- name: rec_guardian_delete
-- $1 child_id: uuid
-- $2 guardian_id: uuid
-- $3 muni_code: text, the caller's municipality
DELETE
FROM records.guardians g USING records.persons ch
WHERE g.child_id = $1::uuid
  AND g.guardian_id = $2::uuid
  AND ch.id = g.child_id
  AND ch.muni_code = $3
RETURNING 1;
