-- 020_questionnaire_templates.sql - screening-questionnaire templates (予診票様式, H-4).
--
-- One row per version of a template. A template is named by a stable code (e.g. 'mr') and
-- applies to diseases and vaccine products of the master (codes kept as given: the master
-- schema is another service's, read-only). A version is immutable once any answer uses it
-- (trigger in 022); a change after that is a new version (version = previous + 1).
-- `questions` is a JSON array checked by the service (template_check.c); the shape is in
-- proto-schemas/questionnaires.yaml (Question).

CREATE TABLE records.q_templates (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code          text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    version       integer NOT NULL CHECK (version >= 1),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    disease_codes text[] NOT NULL DEFAULT '{}',
    vaccine_codes text[] NOT NULL DEFAULT '{}',
    questions     jsonb NOT NULL CHECK (jsonb_typeof(questions) = 'array'
                                        AND jsonb_array_length(questions) BETWEEN 1 AND 200),
    revision      integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL,
    UNIQUE (code, version)
);
CREATE INDEX q_templates_diseases ON records.q_templates USING gin (disease_codes);
