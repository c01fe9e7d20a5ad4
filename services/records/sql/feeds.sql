-- feeds.sql - change feeds read by the certificate and statistics services (cert_changes.c, stats_feed.c).

-- name: rec_cert_changes_head
WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT coalesce((SELECT h.txid::text || '-' || h.seq
    FROM ((SELECT im.txid, im.seq
        FROM records.immunizations im, s
        WHERE (im.version > 1 OR im.status = 'voided')
          AND im.txid < s.xmin
        ORDER BY im.txid DESC, im.seq DESC
        LIMIT 1) UNION ALL (SELECT p.txid, p.seq
        FROM records.persons p, s
        WHERE p.version > 1
          AND p.txid < s.xmin
        ORDER BY p.txid DESC, p.seq DESC
        LIMIT 1)) h
    ORDER BY h.txid DESC, h.seq DESC
    LIMIT 1), '0-0');

-- name: rec_cert_changes_page
-- $1 txid: xid8
-- $2 seq: bigint
-- $3 limit: int, page size
-- Changed records and persons after the cursor, in feed order. A person's item carries
-- `identity`: SHA-256 of name and birth date, what a card prints of the person (the certificate
-- service compares it with its own snapshot and needs nothing else of the person).
WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT x.kind, x.id, x.version, x.status, x.identity, x.txid::text || '-' || x.seq
FROM ((SELECT 'immunization' AS kind, im.id::text AS id, im.version, im.status, NULL::text AS
    identity, im.txid, im.seq
    FROM records.immunizations im, s
    WHERE (im.version > 1 OR im.status = 'voided')
      AND (im.txid, im.seq) > ($1::xid8, $2::bigint)
      AND im.txid < s.xmin
    ORDER BY im.txid, im.seq
    LIMIT $3::int) UNION ALL (SELECT 'person', p.id::text, p.version, p.status,
        encode(sha256(convert_to(p.name || E'\n' || to_char(p.birth_date, 'YYYY-MM-DD'), 'UTF8')),
        'hex'), p.txid, p.seq
    FROM records.persons p, s
    WHERE p.version > 1
      AND (p.txid, p.seq) > ($1::xid8, $2::bigint)
      AND p.txid < s.xmin
    ORDER BY p.txid, p.seq
    LIMIT $3::int)) x
ORDER BY x.txid, x.seq
LIMIT $3::int;

-- name: rec_stats_feed
-- $1 txid: xid8
-- $2 seq: bigint
-- $3 limit: int, page size
SELECT json_build_object('id', im.id, 'version', im.version, 'status', im.status, 'vaccinated_on',
    im.vaccinated_on, 'registered_on', (im.registered_at AT TIME ZONE 'Asia/Tokyo')::date,
    'registered_at', to_char(im.registered_at AT TIME ZONE 'Asia/Tokyo',
    'YYYY-MM-DD"T"HH24:MI:SS"+09:00"'), 'muni_code', im.muni_code, 'vaccine_code', im.vaccine_code,
    'disease_codes', im.disease_codes, 'dose_number', im.dose_number, 'category', im.category,
    'source', im.source, 'institution_code', im.institution_code, 'person_id', im.person_id, 'sex',
    p.sex, 'birth_month', to_char(p.birth_date, 'YYYY-MM'), 'age', extract(year FROM
    age(im.vaccinated_on, p.birth_date))::int)::text, im.txid::text || '-' || im.seq
FROM records.immunizations im
JOIN records.persons p ON p.id = im.person_id AND p.muni_code = im.person_muni
WHERE (im.txid, im.seq) > ($1::xid8, $2::bigint)
  AND im.txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY im.txid, im.seq
LIMIT $3::int;

-- name: rec_claims_feed
-- $1 institution_code: text, ten digits
-- $2 month: date, the first day of the vaccination month
-- $3 txid: xid8, the cursor's transaction
-- $4 seq: bigint, the cursor's sequence number
-- $5 limit: int, page size
-- The institution's records of the month written after the cursor, only from transactions older
-- than every running one, in feed order, as one page: {items: [...], next_after}; the cursor is
-- unchanged when nothing is new. What a claim line needs of a record and no more: no names, no
-- lot, no doctor (the payment service prices from its own masters).
WITH p AS (
    SELECT im.txid, im.seq, json_build_object('id', im.id, 'version', im.version, 'status',
        im.status, 'claimable', im.claimable, 'institution_code', im.institution_code,
        'muni_code', im.muni_code, 'person_id', im.person_id, 'vaccine_code', im.vaccine_code,
        'dose_number', im.dose_number, 'vaccinated_on', im.vaccinated_on) AS doc
    FROM records.immunizations im
    WHERE im.institution_code = $1::bpchar
      AND date_trunc('month', im.vaccinated_on::timestamp) = $2::date::timestamp
      AND (im.txid, im.seq) > ($3::xid8, $4::bigint)
      AND im.txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY im.txid, im.seq
    LIMIT $5::int)
SELECT json_build_object('items', coalesce(json_agg(p.doc ORDER BY p.txid, p.seq), '[]'::json),
    'next_after', coalesce((SELECT x.txid::text || '-' || x.seq
        FROM p x
        ORDER BY x.txid DESC, x.seq DESC
        LIMIT 1), $3::xid8::text || '-' || $4::bigint))::text
FROM p;
