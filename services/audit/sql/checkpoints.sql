-- checkpoints.sql - the signed checkpoints (audit.checkpoints, migration 005; logs_proof.c,
-- logs_verify.c).

-- name: aud_checkpoint_latest
-- The latest checkpoint, and whether it is younger than a second (then no new one is made).
SELECT tree_size, root_hash, signed_at_ms, jws, signed_at > now() - interval '1 second'
FROM audit.checkpoints
ORDER BY tree_size DESC
LIMIT 1;

-- name: aud_checkpoint_insert
-- A checkpoint made and signed (another instance may have stored the same size first).
-- $1 tree_size: bigint
-- $2 root_hash: text, hex
-- $3 signed_at_ms: bigint, milliseconds since the epoch
-- $4 jws: text, the compact JWS
INSERT INTO audit.checkpoints (tree_size, root_hash, signed_at_ms, jws)
VALUES ($1::bigint, $2, $3::bigint, $4)
ON CONFLICT DO NOTHING;

-- name: aud_checkpoint_last
-- The last checkpoint's size and root (verify holds the log against it).
SELECT tree_size, root_hash
FROM audit.checkpoints
ORDER BY tree_size DESC
LIMIT 1;
