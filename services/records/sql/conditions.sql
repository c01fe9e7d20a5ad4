-- conditions.sql - per-person conditions the rules read: 60-64 disability, 長期療養特例 (persons_conditions.c).

-- name: rec_condition_insert
-- $1 person_id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 kind: text
-- $4 disease_codes: jsonb, JSON array or NULL
-- $5 evidence: text
-- $6 evidence_on: date
-- $7 valid_from: date
-- $8 valid_to: date
-- $9 note: text
-- $10 by: text, the caller (token subject)
-- $11 org_id: uuid, the caller's organisation
WITH p AS (SELECT id
  FROM records.persons
  WHERE id = $1::uuid
    AND muni_code = $2),
dz AS (SELECT CASE WHEN $4::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT DISTINCT
    jsonb_array_elements_text($4::jsonb)) END AS codes),
ok AS (SELECT NOT EXISTS (SELECT 1
    FROM dz, unnest(dz.codes) x
    WHERE NOT EXISTS (SELECT 1
      FROM master.diseases d
      WHERE d.code = x
        AND d.superseded_at IS NULL)) AS ok),
c AS (INSERT INTO records.person_conditions(person_id, muni_code, kind, disease_codes, evidence,
    evidence_on, valid_from, valid_to, note, created_by, created_org_id)
  SELECT p.id, $2, $3, dz.codes, $5, $6::date, $7::date, $8::date, $9, $10, $11::uuid
  FROM p, dz, ok
  WHERE ok.ok
  RETURNING *)
SELECT (SELECT jsonb_build_object('id', c.id, 'person_id', c.person_id, 'kind', c.kind,
    'disease_codes', c.disease_codes, 'evidence', c.evidence, 'evidence_on', c.evidence_on,
    'valid_from', c.valid_from, 'valid_to', c.valid_to, 'note', c.note, 'muni_code', c.muni_code,
    'created_by', c.created_by, 'created_at', c.created_at, 'revoked_at', c.revoked_at,
    'revoked_by', c.revoked_by, 'revoke_reason', c.revoke_reason)::text
  FROM c), (SELECT count(*)
  FROM p), (SELECT ok
  FROM ok);

-- name: rec_condition_list
-- $1 person_id: uuid
-- $2 muni_code: text, the caller's municipality
SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'person_id', c.person_id, 'kind',
    c.kind, 'disease_codes', c.disease_codes, 'evidence', c.evidence, 'evidence_on', c.evidence_on,
    'valid_from', c.valid_from, 'valid_to', c.valid_to, 'note', c.note, 'muni_code', c.muni_code,
    'created_by', c.created_by, 'created_at', c.created_at, 'revoked_at', c.revoked_at,
    'revoked_by', c.revoked_by, 'revoke_reason', c.revoke_reason) ORDER BY c.valid_from,
    c.created_at), '[]')
  FROM records.person_conditions c
  WHERE c.person_id = p.id)::text
FROM records.persons p
WHERE p.id = $1::uuid
  AND p.muni_code = $2;

-- name: rec_condition_revoke
-- $1 person_id: uuid
-- $2 id: uuid
-- $3 muni_code: text, the caller's municipality
-- $4 reason: text
-- $5 by: text, the caller (token subject)
WITH cur AS (SELECT c.id, c.revoked_at
  FROM records.person_conditions c
  JOIN records.persons p ON p.id = c.person_id AND p.muni_code = $3
  WHERE c.id = $2::uuid
    AND c.person_id = $1::uuid FOR UPDATE OF c),
c AS (UPDATE records.person_conditions c
  SET revoked_at = now(), revoked_by = $5, revoke_reason = $4
  FROM cur
  WHERE c.id = cur.id
    AND cur.revoked_at IS NULL
  RETURNING c.*)
SELECT (SELECT jsonb_build_object('id', c.id, 'person_id', c.person_id, 'kind', c.kind,
    'disease_codes', c.disease_codes, 'evidence', c.evidence, 'evidence_on', c.evidence_on,
    'valid_from', c.valid_from, 'valid_to', c.valid_to, 'note', c.note, 'muni_code', c.muni_code,
    'created_by', c.created_by, 'created_at', c.created_at, 'revoked_at', c.revoked_at,
    'revoked_by', c.revoked_by, 'revoke_reason', c.revoke_reason)::text
  FROM c), (SELECT count(*)
  FROM cur);
