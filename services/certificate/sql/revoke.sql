-- revoke.sql - staff revoke a certificate of their residents' log by hand (revoke.c).

-- name: cert_revoke
-- $1 id: uuid, the certificate
-- $2 muni: text, the caller's municipality
-- $3 reason: text, the reason code
-- $4 by: text, the caller's login id
-- $5 by_org_id: uuid, the caller's organisation
-- $6 note: text, optional
-- No row when it is not the municipality's or revoked already.
UPDATE certificate.certificates c
   SET status = 'revoked', status_reason = $3, status_at = now(), status_by = $4,
       status_by_org_id = $5::uuid, status_note = $6
 WHERE c.id = $1::uuid AND c.muni_code = $2 AND c.status <> 'revoked'
RETURNING certificate.cert_json(c)::text;
