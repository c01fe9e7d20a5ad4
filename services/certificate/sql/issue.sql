-- issue.sql - issuing a certificate (issue.c): the doses as certified, with names and makers
-- from the masters as of each dose's date, and the certificate filed in the log in one
-- statement (its status already set against the corrections the feed told of).

-- name: cert_doses
-- $1 records: jsonb, the chosen records as the records service answered them
-- $2 channel: text, portal | paper
-- $3 issuer_muni: text, the municipality whose records count as held (paper: the staff's)
-- $4 muni_code: text, the person's municipality (for 首長名)
-- The doses oldest first; `held` says whether the issuing municipality holds the record (paper:
-- its own records only; portal: all). And the municipality (name, prefecture name) of $4.
SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('immunization_id', x.id,
            'version', x.version, 'vaccinated_on', x.vaccinated_on,
            'vaccine_code', x.vaccine_code, 'vaccine_name', v.name,
            'manufacturer', v.manufacturer, 'lot_no', x.lot_no, 'dose_number', x.dose_number,
            'dose_label', x.dose_label, 'institution_code', x.institution_code,
            'institution_name', coalesce(i.name, x.institution_name), 'source', x.source,
            'paper', coalesce(x.source = 'paper', false), 'record_municipality_code', x.muni_code,
            'held', ($2 = 'portal' OR x.muni_code IS NULL OR x.muni_code = $3))
          ORDER BY x.vaccinated_on, x.id), '[]'::jsonb)
          FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, version int, vaccinated_on date,
                   vaccine_code text, lot_no text, dose_number int, dose_label text,
                   institution_code text, institution_name text, source text, muni_code text)
          LEFT JOIN LATERAL (SELECT mv.name, mv.manufacturer FROM master.vaccines mv
                              WHERE mv.code = x.vaccine_code AND mv.superseded_at IS NULL
                                AND mv.valid_from <= x.vaccinated_on
                                AND (mv.valid_to IS NULL OR mv.valid_to >= x.vaccinated_on)
                              ORDER BY mv.valid_from DESC LIMIT 1) v ON true
          LEFT JOIN LATERAL (SELECT mi.name FROM master.institutions mi
                              WHERE mi.code = x.institution_code AND mi.superseded_at IS NULL
                                AND mi.valid_from <= x.vaccinated_on
                                AND (mi.valid_to IS NULL OR mi.valid_to >= x.vaccinated_on)
                              ORDER BY mi.valid_from DESC LIMIT 1) i ON true)::text,
       jsonb_build_object('code', $4::text,
           'name', (SELECT m.name FROM master.municipalities m
                     WHERE m.code = $4 AND m.superseded_at IS NULL AND m.valid_from <= current_date
                       AND (m.valid_to IS NULL OR m.valid_to >= current_date)
                     ORDER BY m.valid_from DESC LIMIT 1),
           'prefecture_name', (SELECT p.name FROM master.prefectures p
                     WHERE p.code = substr($4, 1, 2) AND p.superseded_at IS NULL
                       AND p.valid_from <= current_date
                       AND (p.valid_to IS NULL OR p.valid_to >= current_date)
                     ORDER BY p.valid_from DESC LIMIT 1))::text;

-- name: cert_issue
-- $1 id: uuid, the new certificate
-- $2 certificate_no: text, 16 digits
-- $3 person_id: uuid
-- $4 muni_code: text, the person's municipality (whose residents' log it is in)
-- $5 channel: text, portal | paper
-- $6 kind: text, certificate | receipt
-- $7 issued_by_kind: text, vaccinee | user
-- $8 issued_by: text, the vaccinee token's person or the user's login id
-- $9 issued_by_org_id: uuid, the user's organisation (NULL for a vaccinee)
-- $10 identity_check: jsonb, paper: how the applicant's identity was checked
-- $11 person: jsonb, the person as certified
-- $12 doses: jsonb, as cert_doses made them
-- $13 kid: text, the signing key
-- $14 rid: text, the card's revocation id
-- $15 jws: text, the card
-- $16 reissue_of: uuid, an earlier certificate of the same person, or NULL
-- The certificate, the records it carries at their versions, and its status against the states
-- the feed has told of (a correction made while it was being issued supersedes it at once).
-- No row when reissue_of names no certificate of the person.
WITH h AS (
    SELECT (d->>'immunization_id')::uuid AS id, (d->>'version')::int AS version
      FROM jsonb_array_elements($12::jsonb) d
     WHERE (d->>'held')::bool),
s AS (
    SELECT count(*) AS n, coalesce(bool_or(rs.status = 'voided'), false) AS voided
      FROM h JOIN certificate.record_states rs ON rs.immunization_id = h.id
     WHERE rs.version > h.version OR rs.status = 'voided'),
p AS (
    SELECT count(*) AS n
      FROM certificate.person_states ps
     WHERE ps.person_id = $3::uuid
       AND ps.identity IS DISTINCT FROM certificate.person_identity($11::jsonb)),
c AS (
    INSERT INTO certificate.certificates (id, certificate_no, person_id, muni_code, channel, kind,
        issued_by_kind, issued_by, issued_by_org_id, identity_check, person, doses, records, kid,
        rid, jws, reissue_of, status, status_reason, status_at)
    SELECT $1::uuid, $2, $3::uuid, $4, $5, $6, $7, $8, $9::uuid, $10::jsonb, $11::jsonb,
           $12::jsonb,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('id', h.id, 'version', h.version)
                                      ORDER BY h.id), '[]'::jsonb) FROM h),
           $13, $14, $15, o.id,
           CASE WHEN s.voided THEN 'revoked' WHEN s.n > 0 OR p.n > 0 THEN 'superseded'
                ELSE 'valid' END,
           CASE WHEN s.voided THEN 'record-voided' WHEN s.n > 0 THEN 'record-corrected'
                WHEN p.n > 0 THEN 'person-corrected' END,
           CASE WHEN s.n > 0 OR p.n > 0 THEN now() END
      FROM s CROSS JOIN p
      LEFT JOIN certificate.certificates o ON o.id = $16::uuid AND o.person_id = $3::uuid
     WHERE $16::uuid IS NULL OR o.id IS NOT NULL
    RETURNING *),
r AS (
    INSERT INTO certificate.certificate_records (certificate_id, immunization_id, version)
    SELECT c.id, h.id, h.version FROM c CROSS JOIN h)
SELECT (certificate.cert_json(c) || jsonb_build_object('jws', c.jws))::text FROM c;
