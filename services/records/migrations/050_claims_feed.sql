-- 050_claims_feed.sql - the payment service's change feed (claims_feed.c): an institution's
-- records of one vaccination month, new, corrected or voided, in (txid, seq) order. The month is
-- the key, so a collect of one month reads that month's records and no other of the
-- institution's history.
CREATE INDEX immunizations_claims_feed ON records.immunizations
    (institution_code, date_trunc('month', vaccinated_on::timestamp), txid, seq);
