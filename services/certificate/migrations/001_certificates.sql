-- 001_certificates.sql - the issuance log (H-5-4) and what keeps it current.
--
-- Run by ss_migrate() as sesshu_certificate (owner of schema certificate), in one transaction.
-- Persons and records are the records service's: their ids are stored as given (no foreign
-- keys across services). What a certificate certified (the person as printed, every dose) is
-- kept as it was issued: the log answers "what did we certify", whatever changed since.
CREATE TABLE certificate.certificates (
    id                uuid PRIMARY KEY,
    certificate_no    text NOT NULL UNIQUE CHECK (certificate_no ~ '^[0-9]{16}$'),
    person_id         uuid NOT NULL,
    -- The person's municipality when the certificate was issued (whose residents' log it is in).
    muni_code         char(6) NOT NULL CHECK (muni_code ~ '^[0-9]{6}$'),
    channel           text NOT NULL CHECK (channel IN ('portal', 'paper')),
    kind              text NOT NULL DEFAULT 'certificate' CHECK (kind IN ('certificate', 'receipt')),
    issued_by_kind    text NOT NULL CHECK (issued_by_kind IN ('vaccinee', 'user')),
    -- A user's login id, or the vaccinee token's person id (the holder or the guardian).
    issued_by         text NOT NULL CHECK (length(issued_by) BETWEEN 1 AND 100),
    issued_by_org_id  uuid,
    identity_check    jsonb,
    person            jsonb NOT NULL,
    doses             jsonb NOT NULL CHECK (jsonb_typeof(doses) = 'array'),
    kid               text NOT NULL,
    rid               text NOT NULL UNIQUE,
    jws               text NOT NULL,
    status            text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'superseded', 'revoked')),
    status_reason     text,
    status_at         timestamptz,
    reissue_of        uuid REFERENCES certificate.certificates (id),
    issued_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT certificates_status CHECK ((status = 'valid') = (status_at IS NULL))
);
CREATE INDEX certificates_muni ON certificate.certificates (muni_code, issued_at DESC, id DESC);
CREATE INDEX certificates_person ON certificate.certificates (person_id, issued_at DESC, id DESC);
CREATE INDEX certificates_kid_revoked ON certificate.certificates (kid) WHERE status <> 'valid';

-- Which record at which version each certificate carries.
CREATE TABLE certificate.certificate_records (
    certificate_id  uuid NOT NULL REFERENCES certificate.certificates (id),
    immunization_id uuid NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    PRIMARY KEY (certificate_id, immunization_id)
);
CREATE INDEX certificate_records_imm ON certificate.certificate_records (immunization_id);

-- The latest state of every corrected or voided record, as the records service's change feed
-- (GET /internal/v1/immunization-changes) told it; `after` is where the feed goes on.
CREATE TABLE certificate.record_states (
    immunization_id uuid PRIMARY KEY,
    version         integer NOT NULL,
    status          text NOT NULL,
    seen_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE certificate.feed_state (
    id    integer PRIMARY KEY CHECK (id = 1),
    after text NOT NULL
);

-- Idempotency-Key (the library's idem.c).
CREATE TABLE certificate.idempotency_keys (
    actor        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer,
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);

-- Mark every valid certificate carrying an older version of a record in record_states as
-- superseded (corrected) or revoked (voided). Returns how many changed.
CREATE FUNCTION certificate.apply_record_states(ids uuid[]) RETURNS integer
LANGUAGE sql AS $$
    WITH hit AS (
        SELECT DISTINCT ON (c.id) c.id,
               CASE WHEN s.status = 'voided' THEN 'revoked' ELSE 'superseded' END AS st,
               CASE WHEN s.status = 'voided' THEN 'record-voided' ELSE 'record-corrected' END AS why
          FROM certificate.certificate_records cr
          JOIN certificate.record_states s ON s.immunization_id = cr.immunization_id
          JOIN certificate.certificates c ON c.id = cr.certificate_id
         WHERE cr.immunization_id = ANY (ids) AND c.status = 'valid'
           AND (s.version > cr.version OR s.status = 'voided')
         ORDER BY c.id, (s.status = 'voided') DESC),
    upd AS (
        UPDATE certificate.certificates c SET status = hit.st, status_reason = hit.why,
               status_at = now()
          FROM hit WHERE c.id = hit.id RETURNING 1)
    SELECT count(*)::integer FROM upd
$$;

-- The certificate as the API shows it (no card, no identity-check note for the vaccinee side).
CREATE FUNCTION certificate.cert_json(c certificate.certificates) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'certificate_no', c.certificate_no,
        'person_id', c.person_id, 'municipality_code', c.muni_code, 'channel', c.channel,
        'kind', c.kind, 'status', c.status, 'status_reason', c.status_reason,
        'status_at', c.status_at, 'issued_at', c.issued_at,
        'issued_by', jsonb_build_object('kind', c.issued_by_kind, 'id', c.issued_by,
                                        'organization_id', c.issued_by_org_id),
        'identity_check', c.identity_check, 'person', c.person, 'doses', c.doses,
        'records', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', cr.immunization_id,
                        'version', cr.version) ORDER BY cr.immunization_id), '[]'::jsonb)
                      FROM certificate.certificate_records cr WHERE cr.certificate_id = c.id),
        'kid', c.kid, 'reissue_of', c.reissue_of)
$$;
