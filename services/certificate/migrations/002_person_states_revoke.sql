-- 002_person_states_revoke.sql - person corrections supersede certificates, and staff revoke.
--
-- The records service's change feed also names changed persons, with `identity`: SHA-256 of
-- name and birth date (records/cert_changes.c). A valid certificate whose person snapshot gives
-- another digest was printed with the old name or birth date: superseded, person-corrected.
-- A move (address, municipality) changes no digest and supersedes nothing: the card does not
-- print the address, and a paper certificate's address was true when it was issued.
CREATE TABLE certificate.person_states (
    person_id uuid PRIMARY KEY,
    version   integer NOT NULL,
    identity  text NOT NULL CHECK (identity ~ '^[0-9a-f]{64}$'),
    seen_at   timestamptz NOT NULL DEFAULT now()
);

-- The same digest over a certificate's person snapshot (as the records service computes it).
CREATE FUNCTION certificate.person_identity(person jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to((person->>'name') || E'\n' || (person->>'birth_date'), 'UTF8')), 'hex')
$$;

-- Mark every valid certificate of these persons printed with another identity as superseded.
CREATE FUNCTION certificate.apply_person_states(ids uuid[]) RETURNS integer
LANGUAGE sql AS $$
    WITH upd AS (
        UPDATE certificate.certificates c SET status = 'superseded',
               status_reason = 'person-corrected', status_at = now()
          FROM certificate.person_states s
         WHERE s.person_id = c.person_id AND c.person_id = ANY (ids) AND c.status = 'valid'
           AND certificate.person_identity(c.person) IS DISTINCT FROM s.identity
        RETURNING 1)
    SELECT count(*)::integer FROM upd
$$;

-- Who revoked a certificate by hand (staff), and their note; status_reason is the reason code.
ALTER TABLE certificate.certificates
    ADD COLUMN status_by text CHECK (length(status_by) BETWEEN 1 AND 100),
    ADD COLUMN status_by_org_id uuid,
    ADD COLUMN status_note text CHECK (length(status_note) BETWEEN 1 AND 400);

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
        'records', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', cr.immunization_id,
                        'version', cr.version) ORDER BY cr.immunization_id), '[]'::jsonb)
                      FROM certificate.certificate_records cr WHERE cr.certificate_id = c.id),
        'kid', c.kid, 'reissue_of', c.reissue_of)
$$;

-- Right after an issuance: the new certificate alone against the states already known (a
-- correction told by the feed while it was being issued). By primary key, so an issuance does
-- not scan every certificate that carries the same record (apply_record_states does).
CREATE FUNCTION certificate.apply_states_to(cert uuid) RETURNS integer
LANGUAGE sql AS $$
    WITH r AS (
        SELECT count(*) AS n, coalesce(bool_or(s.status = 'voided'), false) AS voided
          FROM certificate.certificate_records cr
          JOIN certificate.record_states s ON s.immunization_id = cr.immunization_id
         WHERE cr.certificate_id = cert AND (s.version > cr.version OR s.status = 'voided')),
    p AS (
        SELECT count(*) AS n
          FROM certificate.certificates c
          JOIN certificate.person_states ps ON ps.person_id = c.person_id
         WHERE c.id = cert AND certificate.person_identity(c.person) IS DISTINCT FROM ps.identity),
    upd AS (
        UPDATE certificate.certificates c
           SET status = CASE WHEN r.voided THEN 'revoked' ELSE 'superseded' END,
               status_reason = CASE WHEN r.voided THEN 'record-voided'
                                    WHEN r.n > 0 THEN 'record-corrected'
                                    ELSE 'person-corrected' END,
               status_at = now()
          FROM r, p
         WHERE c.id = cert AND c.status = 'valid' AND (r.n > 0 OR p.n > 0)
        RETURNING 1)
    SELECT count(*)::integer FROM upd
$$;
