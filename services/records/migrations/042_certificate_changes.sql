-- 042_certificate_changes.sql - the certificate service's change feed (cert_changes.c): every
-- corrected or voided record in (txid, seq) order, across municipalities. A partial index: new
-- registrations (version 1, not voided) never enter it, so it stays small and cheap to keep.
CREATE INDEX immunizations_cert_changes ON records.immunizations (txid, seq)
    WHERE version > 1 OR status = 'voided';
