-- exchange.sql - the vaccinee token exchange (exchange.c, H-3-3): the portal's subject key and
-- each subject token's jti spent once.

-- name: tok_exchange_subject_key
-- $1 client_id: uuid, the portal client
SELECT subject_key_pem
FROM token.clients
WHERE id = $1::uuid AND kind = 'portal' AND subject_key_pem IS NOT NULL;

-- name: tok_exchange_jti_spend
-- $1 client_id: uuid, the portal client
-- $2 jti: text, of the subject token
-- $3 exp: bigint, its expiry (epoch seconds)
INSERT INTO token.assertion_jtis (client_id, jti, expires_at)
VALUES ($1::uuid, $2, to_timestamp($3::bigint) + interval '1 minute');
