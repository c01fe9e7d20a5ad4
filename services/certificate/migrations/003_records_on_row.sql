-- 003_records_on_row.sql - the records a certificate carries kept on its row too, so that
-- certificate.cert_json() is a plain expression PostgreSQL inlines into each statement: with
-- a subquery in its body it was run as a separate SQL function, planned anew in every statement
-- that called it (every issuance, every log page). certificate_records stays: it is the index
-- the feed's corrections are matched by (apply_record_states).
-- An issuance now sets its status against the known record and person states in its own
-- insert (sql/issue.sql cert_issue), so apply_states_to goes.
ALTER TABLE certificate.certificates
    ADD COLUMN records jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(records) = 'array');

UPDATE certificate.certificates c
   SET records = (SELECT coalesce(jsonb_agg(jsonb_build_object('id', cr.immunization_id,
                                  'version', cr.version) ORDER BY cr.immunization_id), '[]'::jsonb)
                    FROM certificate.certificate_records cr WHERE cr.certificate_id = c.id);

CREATE OR REPLACE FUNCTION certificate.cert_json(c certificate.certificates) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'certificate_no', c.certificate_no,
        'person_id', c.person_id, 'municipality_code', c.muni_code, 'channel', c.channel,
        'kind', c.kind, 'status', c.status, 'status_reason', c.status_reason,
        'status_at', c.status_at,
        'status_by', CASE WHEN c.status_by IS NULL THEN NULL ELSE jsonb_build_object(
                         'id', c.status_by, 'organization_id', c.status_by_org_id,
                         'note', c.status_note) END,
        'issued_at', c.issued_at,
        'issued_by', jsonb_build_object('kind', c.issued_by_kind, 'id', c.issued_by,
                                        'organization_id', c.issued_by_org_id),
        'identity_check', c.identity_check, 'person', c.person, 'doses', c.doses,
        'records', c.records, 'kid', c.kid, 'reissue_of', c.reissue_of)
$$;

DROP FUNCTION certificate.apply_states_to(uuid);
