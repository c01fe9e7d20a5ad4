-- 003_imports.sql - bulk import jobs from health-management systems (H-3-1).
--
-- A job is opened, fed NDJSON in chunks (each a request within the 1 MiB body limit, streamed
-- into an UNLOGGED staging table with COPY), then committed: one set-based check over the
-- staged lines (the same rules as a single registration), per-line errors kept, and either
-- every line or none (all_or_nothing) or the good lines (good_lines) written.
CREATE TABLE records.import_jobs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL,
    muni_code   char(6) NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('immunizations', 'persons')),
    mode        text NOT NULL CHECK (mode IN ('all_or_nothing', 'good_lines')),
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'committed', 'rejected')),
    lines       bigint NOT NULL DEFAULT 0,
    imported    bigint NOT NULL DEFAULT 0,
    rejected    bigint NOT NULL DEFAULT 0,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX import_jobs_org ON records.import_jobs (org_id, created_at DESC);

-- Lines as typed columns (the service parsed and type-checked each line while streaming).
CREATE UNLOGGED TABLE records.import_imm_lines (
    job_id           uuid NOT NULL,
    ln               bigint NOT NULL,
    resident_no      text,
    person_id        uuid,
    vaccinated_on    date,
    vaccine_code     text,
    disease_codes    text[],
    dose_number      int,
    dose_label       text,
    lot_no           text,
    institution_code text,
    doctor_name      text,
    dose_ml          numeric(5, 2),
    site             text,
    category         text,
    pregnancy_weeks  int,
    note             text
);
CREATE INDEX import_imm_lines_job ON records.import_imm_lines (job_id, ln);

CREATE UNLOGGED TABLE records.import_person_lines (
    job_id           uuid NOT NULL,
    ln               bigint NOT NULL,
    id               uuid NOT NULL,
    resident_no      text,
    name             text,
    name_kana        text,
    name_romaji      text,
    former_name      text,
    birth_date       date,
    sex              text,
    postal_code      text,
    address          text,
    non_disclosure   boolean,
    my_number_sealed bytea,
    my_number_hash   text
);
CREATE INDEX import_person_lines_job ON records.import_person_lines (job_id, ln);

-- The per-line error report.
CREATE TABLE records.import_errors (
    job_id uuid NOT NULL REFERENCES records.import_jobs (id),
    ln     bigint NOT NULL,
    errors jsonb NOT NULL,
    PRIMARY KEY (job_id, ln)
);
