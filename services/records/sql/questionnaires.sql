-- questionnaires.sql - H-4 予診票 answers: submit, read, list, judge, link to a record (questionnaire*.c).

-- name: rec_q_subject
-- $1 template_id: uuid
-- $2 person_id: uuid
-- $3 visit: date
-- $4 care_org: uuid
SELECT t.questions::text, t.revision::text, p.sex, (extract(year FROM age(v.d, p.birth_date)) * 12 +
    extract(month FROM age(v.d, p.birth_date)))::int::text, v.d::text, v.d >= p.birth_date AND v.d
    BETWEEN (now() AT TIME ZONE 'Asia/Tokyo')::date - 31 AND (now() AT TIME ZONE 'Asia/Tokyo')::date
    + 92
FROM records.q_templates t, records.persons p, (SELECT coalesce($3::date, (now() AT TIME ZONE
    'Asia/Tokyo')::date) AS d) v
WHERE t.id = $1::uuid
  AND p.id = $2::uuid
  AND p.muni_code = records.person_home($2::uuid) -- one partition (records migration 052)
  AND ($4::uuid IS NULL OR EXISTS (SELECT 1
    FROM records.care_links l
    WHERE l.org_id = $4::uuid
      AND l.person_id = p.id
      AND l.until > now())) FOR SHARE OF t;

-- name: rec_q_answer_insert
-- $1 person_id: uuid
-- $2 template_id: uuid
-- $3 visit_on: date
-- $4 age_months: int
-- $5 vaccine_code: text
-- $6 answers: jsonb
-- $7 via: text
-- $8 submitted_by: text, the vaccinee or the staff subject
-- $9 institution_code: text, or NULL
WITH a AS (INSERT INTO records.q_answers(person_id, template_id, visit_on, age_months, vaccine_code,
    answers, submitted_via, submitted_by, institution_code)
  VALUES ($1::uuid, $2::uuid, $3::date, $4::int, $5, $6::jsonb, $7, $8, $9)
  RETURNING *)
SELECT jsonb_build_object('id', a.id, 'person_id', a.person_id, 'template', jsonb_build_object('id',
    t.id, 'code', t.code, 'version', t.version, 'title', t.title), 'visit_on', a.visit_on,
    'age_months', a.age_months, 'vaccine_code', a.vaccine_code, 'institution_code',
    a.institution_code, 'submitted_via', a.submitted_via, 'answers', a.answers, 'judgement', CASE
    WHEN a.judgement IS NULL THEN NULL ELSE jsonb_build_object('result', a.judgement, 'note',
    a.judgement_note, 'doctor_name', a.doctor_name, 'explained', a.explained, 'consent', a.consent,
    'consent_signer', a.consent_signer, 'judged_at', a.judged_at) END, 'record_id', a.record_id,
    'linked_at', a.linked_at, 'created_at', a.created_at)::text
FROM a
JOIN records.q_templates t ON t.id = a.template_id;

-- name: rec_q_answer_get
-- $1 id: uuid
-- $2 muni_code: text, the caller's municipality
-- $3 institution_code: text, the caller's institution code
SELECT jsonb_build_object('id', a.id, 'person_id', a.person_id, 'template', jsonb_build_object('id',
    t.id, 'code', t.code, 'version', t.version, 'title', t.title), 'visit_on', a.visit_on,
    'age_months', a.age_months, 'vaccine_code', a.vaccine_code, 'institution_code',
    a.institution_code, 'submitted_via', a.submitted_via, 'answers', a.answers, 'judgement', CASE
    WHEN a.judgement IS NULL THEN NULL ELSE jsonb_build_object('result', a.judgement, 'note',
    a.judgement_note, 'doctor_name', a.doctor_name, 'explained', a.explained, 'consent', a.consent,
    'consent_signer', a.consent_signer, 'judged_at', a.judged_at) END, 'record_id', a.record_id,
    'linked_at', a.linked_at, 'created_at', a.created_at)::text, a.person_id::text
FROM records.q_answers a
JOIN records.q_templates t ON t.id = a.template_id
JOIN records.persons ps ON ps.id = a.person_id AND ps.muni_code = a.person_muni
WHERE a.id = $1::uuid
  AND ($2::text IS NULL OR ps.muni_code = $2)
  AND ($3::text IS NULL OR a.institution_code = $3);

-- name: rec_q_answer_list
-- $1 muni_code: text, the caller's municipality, or NULL
-- $2 institution_code: text, the caller's institution, or NULL
-- $3 person_id: uuid
-- $4 template_code: text
-- $5 vaccine_code: text
-- $6 disease_code: text
-- $7 from: date
-- $8 to: date
-- $9 judgement: text
-- $10 cursor_on: date, or NULL
-- $11 cursor_id: uuid, or NULL
-- $12 limit: int, page size + 1
SELECT jsonb_build_object('id', a.id, 'person_id', a.person_id, 'template', jsonb_build_object('id',
    t.id, 'code', t.code, 'version', t.version, 'title', t.title), 'visit_on', a.visit_on,
    'age_months', a.age_months, 'vaccine_code', a.vaccine_code, 'institution_code',
    a.institution_code, 'submitted_via', a.submitted_via, 'answers', a.answers, 'judgement', CASE
    WHEN a.judgement IS NULL THEN NULL ELSE jsonb_build_object('result', a.judgement, 'note',
    a.judgement_note, 'doctor_name', a.doctor_name, 'explained', a.explained, 'consent', a.consent,
    'consent_signer', a.consent_signer, 'judged_at', a.judged_at) END, 'record_id', a.record_id,
    'linked_at', a.linked_at, 'created_at', a.created_at)::text, a.visit_on::text, a.id::text
FROM records.q_answers a
JOIN records.q_templates t ON t.id = a.template_id
JOIN records.persons ps ON ps.id = a.person_id AND ps.muni_code = a.person_muni
WHERE ($1::text IS NULL OR ps.muni_code = $1)
  AND ($2::text IS NULL OR a.institution_code = $2)
  AND ($3::uuid IS NULL OR a.person_id = $3::uuid)
  AND ($4::text IS NULL OR t.code = $4)
  AND ($5::text IS NULL OR coalesce(a.vaccine_code = $5, ($5 = ANY (t.vaccine_codes) OR EXISTS
      (SELECT 1
        FROM master.vaccines mv
        WHERE mv.code = $5
          AND mv.disease_codes && t.disease_codes))))
  AND ($6::text IS NULL OR $6 = ANY (t.disease_codes))
  AND ($7::date IS NULL OR a.visit_on >= $7::date)
  AND ($8::date IS NULL OR a.visit_on <= $8::date)
  AND ($9::text IS NULL OR coalesce(a.judgement, 'pending') = $9)
  AND ($10::date IS NULL OR (a.visit_on, a.id) < ($10::date, $11::uuid))
ORDER BY a.visit_on DESC, a.id DESC
LIMIT $12::int;

-- name: rec_q_self_answer_get
-- $1 self_id: uuid, the vaccinee (token person)
-- $2 id: uuid
SELECT jsonb_build_object('id', a.id, 'person_id', a.person_id, 'template', jsonb_build_object('id',
    t.id, 'code', t.code, 'version', t.version, 'title', t.title), 'visit_on', a.visit_on,
    'age_months', a.age_months, 'vaccine_code', a.vaccine_code, 'institution_code',
    a.institution_code, 'submitted_via', a.submitted_via, 'answers', a.answers, 'judgement', CASE
    WHEN a.judgement IS NULL THEN NULL ELSE jsonb_build_object('result', a.judgement, 'note',
    a.judgement_note, 'doctor_name', a.doctor_name, 'explained', a.explained, 'consent', a.consent,
    'consent_signer', a.consent_signer, 'judged_at', a.judged_at) END, 'record_id', a.record_id,
    'linked_at', a.linked_at, 'created_at', a.created_at)::text, a.person_id::text
FROM records.q_answers a
JOIN records.q_templates t ON t.id = a.template_id
WHERE a.id = $2::uuid
  AND a.person_id IN (SELECT $1::uuid AS id
  UNION SELECT c.id
  FROM records.guardians g
  JOIN records.persons c ON c.id = g.child_id AND c.muni_code = g.child_muni
  WHERE g.guardian_id = $1::uuid
    AND NOT c.non_disclosure
    AND c.birth_date > (current_date - interval '18 years')::date);

-- name: rec_q_self_answer_list
-- $1 self_id: uuid, the vaccinee (token person)
-- $2 pid: uuid
-- $3 cursor_on: date, or NULL
-- $4 cursor_id: uuid, or NULL
-- $5 limit: int, page size + 1
SELECT jsonb_build_object('id', a.id, 'person_id', a.person_id, 'template', jsonb_build_object('id',
    t.id, 'code', t.code, 'version', t.version, 'title', t.title), 'visit_on', a.visit_on,
    'age_months', a.age_months, 'vaccine_code', a.vaccine_code, 'institution_code',
    a.institution_code, 'submitted_via', a.submitted_via, 'answers', a.answers, 'judgement', CASE
    WHEN a.judgement IS NULL THEN NULL ELSE jsonb_build_object('result', a.judgement, 'note',
    a.judgement_note, 'doctor_name', a.doctor_name, 'explained', a.explained, 'consent', a.consent,
    'consent_signer', a.consent_signer, 'judged_at', a.judged_at) END, 'record_id', a.record_id,
    'linked_at', a.linked_at, 'created_at', a.created_at)::text, a.visit_on::text, a.id::text
FROM records.q_answers a
JOIN records.q_templates t ON t.id = a.template_id
WHERE a.person_id IN (SELECT $1::uuid AS id
  UNION SELECT c.id
  FROM records.guardians g
  JOIN records.persons c ON c.id = g.child_id AND c.muni_code = g.child_muni
  WHERE g.guardian_id = $1::uuid
    AND NOT c.non_disclosure
    AND c.birth_date > (current_date - interval '18 years')::date)
  AND ($2::uuid IS NULL OR a.person_id = $2::uuid)
  AND ($3::date IS NULL OR (a.visit_on, a.id) < ($3::date, $4::uuid))
ORDER BY a.visit_on DESC, a.id DESC
LIMIT $5::int;

-- name: rec_q_answer_link_state
-- $1 id: uuid
-- $2 institution_code: text, the caller's institution code
SELECT judgement IS NOT NULL, record_id IS NOT NULL, age_months::text, person_id::text,
    coalesce(judgement = 'ok' AND consent = 'agree', false)
FROM records.q_answers
WHERE id = $1::uuid
  AND institution_code = $2;

-- name: rec_q_answer_judge
-- $1 id: uuid
-- $2 institution_code: text, the caller's institution code
-- $3 result: text
-- $4 note: text
-- $5 doctor_name: text
-- $6 explained: boolean
-- $7 consent: text
-- $8 consent_signer: text
-- $9 by: text, the caller (token subject)
WITH a AS (UPDATE records.q_answers a
  SET judgement = $3, judgement_note = $4, doctor_name = $5, explained = $6::boolean, consent = $7,
      consent_signer = $8, judged_at = now(), judged_by = $9
  WHERE a.id = $1::uuid
    AND a.institution_code = $2
    AND a.judgement IS NULL
  RETURNING *)
SELECT jsonb_build_object('id', a.id, 'person_id', a.person_id, 'template', jsonb_build_object('id',
    t.id, 'code', t.code, 'version', t.version, 'title', t.title), 'visit_on', a.visit_on,
    'age_months', a.age_months, 'vaccine_code', a.vaccine_code, 'institution_code',
    a.institution_code, 'submitted_via', a.submitted_via, 'answers', a.answers, 'judgement', CASE
    WHEN a.judgement IS NULL THEN NULL ELSE jsonb_build_object('result', a.judgement, 'note',
    a.judgement_note, 'doctor_name', a.doctor_name, 'explained', a.explained, 'consent', a.consent,
    'consent_signer', a.consent_signer, 'judged_at', a.judged_at) END, 'record_id', a.record_id,
    'linked_at', a.linked_at, 'created_at', a.created_at)::text
FROM a
JOIN records.q_templates t ON t.id = a.template_id;

-- name: rec_q_answer_link
-- $1 id: uuid
-- $2 institution_code: text, the caller's institution code
-- $3 record_id: uuid
-- $4 by: text, the caller (token subject)
WITH a AS (UPDATE records.q_answers a
  SET record_id = $3::uuid, linked_at = now(), linked_by = $4
  WHERE a.id = $1::uuid
    AND a.institution_code = $2
    AND a.record_id IS NULL
    AND EXISTS (SELECT 1
    FROM records.immunizations i
    WHERE i.id = $3::uuid
      AND i.muni_code = records.immunization_home($3::uuid)
      AND i.person_id = a.person_id
      AND i.institution_code = $2
      AND i.status <> 'voided'
      AND (i.questionnaire_id IS NULL OR i.questionnaire_id = a.id))
  RETURNING *)
SELECT jsonb_build_object('id', a.id, 'person_id', a.person_id, 'template', jsonb_build_object('id',
    t.id, 'code', t.code, 'version', t.version, 'title', t.title), 'visit_on', a.visit_on,
    'age_months', a.age_months, 'vaccine_code', a.vaccine_code, 'institution_code',
    a.institution_code, 'submitted_via', a.submitted_via, 'answers', a.answers, 'judgement', CASE
    WHEN a.judgement IS NULL THEN NULL ELSE jsonb_build_object('result', a.judgement, 'note',
    a.judgement_note, 'doctor_name', a.doctor_name, 'explained', a.explained, 'consent', a.consent,
    'consent_signer', a.consent_signer, 'judged_at', a.judged_at) END, 'record_id', a.record_id,
    'linked_at', a.linked_at, 'created_at', a.created_at)::text
FROM a
JOIN records.q_templates t ON t.id = a.template_id;
