-- 044_certificate_person_changes.sql - persons in the certificate service's change feed
-- (cert_changes.c): a corrected name or birth date supersedes the certificates printed with the
-- old one. Partial, like 042: a person never changed (version 1) does not enter it.
CREATE INDEX persons_cert_changes ON records.persons (txid, seq) WHERE version > 1;
