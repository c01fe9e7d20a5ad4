-- verify.sql - the walk of the hash chains (logs_verify.c; audit.verify_chain, migration 007).

-- name: aud_verify_chain
-- At most max_rows rows from from_pos in chain_pos order, each against its predecessor in its
-- own writer stream; at the end every stream's head against its last row.
-- $1 from_pos: bigint
-- $2 max_rows: bigint
SELECT v.checked, v.last_pos, v.broken_pos, v.broken_seq, v.reason, v.head_pos,
       encode(v.head_hash, 'hex'), v.complete
FROM audit.verify_chain($1::bigint, $2::bigint) v;
