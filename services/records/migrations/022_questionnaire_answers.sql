-- 022_questionnaire_answers.sql - answers to a questionnaire template version (予診票, H-4).
--
-- An answer set belongs to a person (records core's persons)
-- and to the institution of the visit (医療機関コード). It is submitted through the portal
-- before the visit or by the institution at the visit, validated against its template version
-- (template_check.c) and then never edited. The doctor's judgement (可 = ok / 見合わせ =
-- postpone), the explanation and the consent are recorded once; the record the vaccination
-- produced is linked once, and only to an answer judged ok with consent given.

CREATE TABLE records.q_answers (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id        uuid NOT NULL REFERENCES records.persons (id),
    template_id      uuid NOT NULL REFERENCES records.q_templates (id),
    visit_on      date NOT NULL,
    age_months       integer NOT NULL CHECK (age_months BETWEEN 0 AND 1800),
    vaccine_code     text CHECK (vaccine_code ~ '^[0-9A-Za-z_-]{1,20}$'),
    answers          jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    submitted_via    text NOT NULL CHECK (submitted_via IN ('portal', 'institution')),
    submitted_by     text NOT NULL,
    institution_code text NOT NULL CHECK (institution_code ~ '^[0-9]{10}$'),
    judgement        text CHECK (judgement IN ('ok', 'postpone')),
    judgement_note   text CHECK (length(judgement_note) <= 1000),
    doctor_name      text CHECK (length(doctor_name) BETWEEN 1 AND 100),
    explained        boolean,
    consent          text CHECK (consent IN ('agree', 'disagree')),
    consent_signer   text CHECK (consent_signer IN ('self', 'guardian', 'proxy')),
    judged_at        timestamptz,
    judged_by        text,
    record_id        uuid UNIQUE REFERENCES records.immunizations (id),
    linked_at        timestamptz,
    linked_by        text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT q_answers_judged CHECK (
        (judgement IS NULL) = (judged_at IS NULL)
        AND (judgement IS NULL OR (doctor_name IS NOT NULL AND explained IS NOT NULL
                                   AND judged_by IS NOT NULL))
        AND (judgement IS DISTINCT FROM 'ok' OR (consent IS NOT NULL AND consent_signer IS NOT NULL))),
    CONSTRAINT q_answers_linked CHECK (
        (record_id IS NULL) = (linked_at IS NULL)
        AND (record_id IS NULL OR (judgement = 'ok' AND consent = 'agree')))
);
CREATE INDEX q_answers_person ON records.q_answers (person_id, visit_on DESC, id DESC);
CREATE INDEX q_answers_inst ON records.q_answers (institution_code, visit_on DESC, id DESC);
CREATE INDEX q_answers_template ON records.q_answers (template_id);

-- The answers themselves never change after submission.
CREATE FUNCTION records.q_answers_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.answers IS DISTINCT FROM OLD.answers OR NEW.person_id <> OLD.person_id
       OR NEW.template_id <> OLD.template_id OR NEW.visit_on <> OLD.visit_on
       OR NEW.institution_code <> OLD.institution_code THEN
        RAISE EXCEPTION 'submitted answers cannot change' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER q_answers_frozen BEFORE UPDATE ON records.q_answers
    FOR EACH ROW EXECUTE FUNCTION records.q_answers_frozen();

-- A template version that answers use cannot change (a new version is made instead). The
-- handler answers 409 first; this is the guarantee under concurrency (unique_violation -> 409).
CREATE FUNCTION records.q_templates_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM records.q_answers a WHERE a.template_id = OLD.id) THEN
        RAISE EXCEPTION 'template version % is in use', OLD.id USING ERRCODE = 'unique_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER q_templates_in_use BEFORE UPDATE OR DELETE ON records.q_templates
    FOR EACH ROW EXECUTE FUNCTION records.q_templates_in_use();
