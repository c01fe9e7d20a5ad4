-- templates.sql - H-4 予診票 templates (template.c, questionnaire.c).

-- name: rec_q_template_exists
-- $1 id: uuid
SELECT 1
FROM records.q_templates
WHERE id = $1::uuid;

-- name: rec_q_template_insert
-- $1 code: text
-- $2 title: text
-- $3 diseases: jsonb
-- $4 vaccines: jsonb
-- $5 questions: jsonb
-- $6 by: text, the caller (token subject)
WITH t AS (INSERT INTO records.q_templates(code, version, title, disease_codes, vaccine_codes,
    questions, created_by, updated_by)
  SELECT $1, coalesce(max(version), 0) + 1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)),
      ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), $5::jsonb, $6, $6
  FROM records.q_templates
  WHERE code = $1
  RETURNING *)
SELECT jsonb_build_object('id', t.id, 'code', t.code, 'version', t.version, 'title', t.title,
    'disease_codes', to_jsonb(t.disease_codes), 'vaccine_codes', to_jsonb(t.vaccine_codes),
    'in_use', false, 'latest', true, 'created_at', t.created_at, 'updated_at', t.updated_at,
    'questions', t.questions)::text
FROM t;

-- name: rec_q_template_update
-- $1 id: uuid
-- $2 title: text
-- $3 diseases: jsonb
-- $4 vaccines: jsonb
-- $5 questions: jsonb
-- $6 by: text, the caller (token subject)
UPDATE records.q_templates t
SET title = $2, disease_codes = ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), vaccine_codes =
    ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), questions = $5::jsonb, revision = t.revision
    + 1, updated_at = now(), updated_by = $6
WHERE t.id = $1::uuid
  AND NOT EXISTS (SELECT 1
  FROM records.q_answers a
  WHERE a.template_id = t.id)
RETURNING jsonb_build_object('id', t.id, 'code', t.code, 'version', t.version, 'title', t.title,
    'disease_codes', to_jsonb(t.disease_codes), 'vaccine_codes', to_jsonb(t.vaccine_codes),
    'in_use', EXISTS (SELECT 1
    FROM records.q_answers a
    WHERE a.template_id = t.id), 'latest', NOT EXISTS (SELECT 1
    FROM records.q_templates t2
    WHERE t2.code = t.code
      AND t2.version > t.version), 'created_at', t.created_at, 'updated_at', t.updated_at,
          'questions', t.questions)::text;

-- name: rec_q_template_get
-- $1 id: uuid
SELECT jsonb_build_object('id', t.id, 'code', t.code, 'version', t.version, 'title', t.title,
    'disease_codes', to_jsonb(t.disease_codes), 'vaccine_codes', to_jsonb(t.vaccine_codes),
    'in_use', EXISTS (SELECT 1
    FROM records.q_answers a
    WHERE a.template_id = t.id), 'latest', NOT EXISTS (SELECT 1
    FROM records.q_templates t2
    WHERE t2.code = t.code
      AND t2.version > t.version), 'created_at', t.created_at, 'updated_at', t.updated_at,
          'questions', t.questions)::text
FROM records.q_templates t
WHERE t.id = $1::uuid;

-- name: rec_q_template_list
-- $1 code: text
-- $2 dis: text
-- $3 vac: text
-- $4 all_versions: boolean, true: every version, false: the current ones
-- $5 code_2: text
-- $6 version: int
-- $7 limit: int, page size + 1
SELECT jsonb_build_object('id', t.id, 'code', t.code, 'version', t.version, 'title', t.title,
    'disease_codes', to_jsonb(t.disease_codes), 'vaccine_codes', to_jsonb(t.vaccine_codes),
    'in_use', EXISTS (SELECT 1
    FROM records.q_answers a
    WHERE a.template_id = t.id), 'latest', NOT EXISTS (SELECT 1
    FROM records.q_templates t2
    WHERE t2.code = t.code
      AND t2.version > t.version), 'created_at', t.created_at, 'updated_at', t.updated_at,
          'question_count', jsonb_array_length(t.questions))::text, t.code, t.version::text
FROM records.q_templates t
WHERE ($1::text IS NULL OR t.code = $1)
  AND ($2::text IS NULL OR $2 = ANY (t.disease_codes))
  AND ($3::text IS NULL OR ($3 = ANY (t.vaccine_codes) OR EXISTS (SELECT 1
      FROM master.vaccines mv
      WHERE mv.code = $3
        AND mv.disease_codes && t.disease_codes)))
  AND ($4::boolean OR NOT EXISTS (SELECT 1
    FROM records.q_templates t2
    WHERE t2.code = t.code
      AND t2.version > t.version))
  AND ($5::text IS NULL OR t.code COLLATE "C" > $5 OR (t.code = $5 AND t.version < $6::int))
ORDER BY t.code COLLATE "C", t.version DESC
LIMIT $7::int;
