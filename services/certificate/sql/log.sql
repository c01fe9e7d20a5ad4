-- log.sql - the issuance log (log.c): one certificate as its caller may see it, and a page of
-- the log with its filters. $2 (staff) is the caller's municipality; a vaccinee's family is a
-- JSON array of person ids. The vaccinee side never sees the identity check or who revoked.

-- name: cert_load
-- $1 id: uuid, the certificate
-- $2 muni: text, the staff caller's municipality (NULL for a vaccinee)
-- $3 family: jsonb, the vaccinee's family (array of person ids; NULL for staff)
SELECT (CASE WHEN $2::text IS NULL
             THEN certificate.cert_json(c) - 'identity_check' - 'status_by'
             ELSE certificate.cert_json(c) END)::text,
       c.jws, c.person_id::text, c.muni_code
  FROM certificate.certificates c
 WHERE c.id = $1::uuid
   AND (c.muni_code = $2 OR c.person_id IN (SELECT jsonb_array_elements_text($3::jsonb)::uuid));

-- name: cert_list
-- $1 muni: text, the staff caller's municipality (NULL for a vaccinee)
-- $2 family: jsonb, the vaccinee's family (array of person ids; [] for staff)
-- $3 person_id: uuid, filter
-- $4 status: text, filter
-- $5 channel: text, filter
-- $6 issued_from: date, filter (JST)
-- $7 issued_to: date, filter (JST, inclusive)
-- $8 cursor_issued_at: timestamptz, the keyset cursor
-- $9 cursor_id: uuid, the keyset cursor
-- $10 limit: int, page size + 1
SELECT (CASE WHEN $1::text IS NULL
             THEN certificate.cert_json(c) - 'identity_check' - 'status_by'
             ELSE certificate.cert_json(c) END)::text,
       c.issued_at::text, c.id::text
  FROM certificate.certificates c
 WHERE (c.muni_code = $1 OR c.person_id IN (SELECT jsonb_array_elements_text($2::jsonb)::uuid))
   AND ($3::uuid IS NULL OR c.person_id = $3)
   AND ($4::text IS NULL OR c.status = $4)
   AND ($5::text IS NULL OR c.channel = $5)
   AND ($6::date IS NULL OR c.issued_at >= $6::date::timestamp AT TIME ZONE 'Asia/Tokyo')
   AND ($7::date IS NULL OR c.issued_at < ($7::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')
   AND ($8::timestamptz IS NULL OR (c.issued_at, c.id) < ($8::timestamptz, $9::uuid))
 ORDER BY c.issued_at DESC, c.id DESC
 LIMIT $10::int;
