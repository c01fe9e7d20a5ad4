-- referrals.sql - a municipality's 依頼書 for vaccination outside its area (referrals.c).

-- name: pay_referral_insert
-- $1 muni_code: text, the caller's municipality (the payer)
-- $2 person_id: uuid
-- $3 institution_code: text, the institution asked to vaccinate
-- $4 vaccine_code: text, or NULL
-- $5 valid_from: date
-- $6 valid_to: date
-- $7 note: text, or NULL
-- $8 by: text, the caller (token subject)
-- $9 by_org_id: uuid, the caller's organisation
-- A 依頼書, when the institution and the product are in the master. No row: either is unknown.
WITH f AS (
    INSERT INTO payment.referrals (
        muni_code, person_id, institution_code, vaccine_code, valid_from, valid_to, note,
        created_by, created_org_id)
    SELECT $1, $2::uuid, $3::text, $4::text, $5::date, $6::date, $7, $8, $9::uuid
    WHERE EXISTS (SELECT 1
                  FROM master.institutions i
                  WHERE i.code = $3::text
                    AND i.superseded_at IS NULL)
      AND ($4::text IS NULL
           OR EXISTS (SELECT 1
                      FROM master.vaccines v
                      WHERE v.code = $4))
    RETURNING *)
SELECT payment.referral_json(f::payment.referrals)::text
FROM f;

-- name: pay_referral_list
-- $1 muni_code: text, the caller's municipality
-- $2 person_id: uuid, or NULL
-- $3 institution_code: text, or NULL
-- The municipality's 依頼書, newest first (at most 500).
SELECT payment.referral_json(f)::text
FROM payment.referrals f
WHERE f.muni_code = $1
  AND ($2::uuid IS NULL OR f.person_id = $2::uuid)
  AND ($3::text IS NULL OR f.institution_code = $3)
ORDER BY f.created_at DESC
LIMIT 500;
