-- 030_mch_records.sql - maternal/child health and check-up information (母子保健・健診情報, H-7).
--
-- Typed records of a person (records core's persons): infant check-ups
-- (乳幼児健診), pregnancy information (妊娠届・妊婦健診) and other check-up results, each with
-- its source. `data` is the kind's typed payload, checked by the service (mch_check.c; shapes
-- in proto-schemas/mch.yaml). muni_code is the municipality that entered it: it was the
-- person's municipality then. Reads follow the person's current municipality.
-- A sending system's own id (external_id) is unique within the municipality, so a resend of
-- the same record is refused rather than stored twice.

CREATE TABLE records.mch_records (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id      uuid NOT NULL REFERENCES records.persons (id),
    muni_code      char(6) NOT NULL CHECK (muni_code ~ '^[0-9]{6}$'),
    kind           text NOT NULL CHECK (kind IN ('infant_checkup', 'pregnancy', 'checkup')),
    examined_on    date NOT NULL,
    data           jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    source         text NOT NULL CHECK (source IN ('health_system', 'municipality', 'institution',
                                                   'handbook', 'other')),
    source_name    text CHECK (length(source_name) BETWEEN 1 AND 200),
    external_id    text CHECK (length(external_id) BETWEEN 1 AND 100),
    entered_via    text NOT NULL CHECK (entered_via IN ('api', 'staff')),
    entered_by     text NOT NULL,
    entered_org_id uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mch_records_external UNIQUE (muni_code, external_id)
);
CREATE INDEX mch_records_person ON records.mch_records (person_id, examined_on DESC, id DESC);
CREATE INDEX mch_records_muni ON records.mch_records (muni_code, examined_on DESC, id DESC);
