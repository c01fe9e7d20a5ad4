-- 000_schema.sql - the records schema exists (db/roles.sql creates it); numbering of the
-- migrations that follow: 001-019 persons and records (H-3), 020-039 questionnaires and
-- maternal/child health (H-4, H-7), 040-059 vaccinee self-view and FHIR.
SELECT 1;
