-- verify.sql - what verification and the issuer's public documents read of the log (verify.c):
-- a card's status by its rid, and each key's revocation list.

-- name: cert_status_by_rid
-- $1 rid: text, the card's revocation id
-- $2 kid: text, the key that signed it
SELECT status, coalesce(status_reason, '')
  FROM certificate.certificates
 WHERE rid = $1 AND kid = $2;

-- name: cert_revoked_count
-- $1 kid: text
-- The key's crlVersion: how many of its cards are no longer valid.
SELECT count(*) FROM certificate.certificates WHERE kid = $1 AND status <> 'valid';

-- name: cert_crl_rids
-- $1 kid: text
SELECT rid FROM certificate.certificates WHERE kid = $1 AND status <> 'valid'
 ORDER BY status_at, rid;
