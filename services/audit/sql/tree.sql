-- tree.sql - the checkpoints' Merkle tree over the log (logs_tree.c, logs_proof.c): its leaves
-- are the rows in tree order, the key (coalesce(xid, '0'), chain_pos) (index access_log_tree),
-- and audit.subtrees keeps the hashes of its complete subtrees from 256 leaves up (migration 009).

-- name: aud_tree_rows
-- The rows after a tree key, in tree order: the leaves of a block, or the first n ("0", 0).
-- (audit.tree_rows, migration 009: always by the index's order.)
-- $1 xid: xid8, the key's transaction id ('0' for the rows before the writer streams)
-- $2 pos: bigint, the key's chain position
-- $3 n: bigint, rows wanted
SELECT chain_pos, xid, hash
FROM audit.tree_rows($1::xid8, $2::bigint, $3::bigint);

-- name: aud_tree_tail_count
-- The rows after a tree key (the last stored base block's last leaf) whose transaction ended
-- before the oldest one running: with the stored blocks, the log's tree size. The key's xid is
-- repeated as a plain lower bound so that the planner sees a range of one column (a row
-- comparison alone is estimated at a third of the table, which would make it a scan).
-- $1 xid: xid8, the key's transaction id ('0' when nothing is stored)
-- $2 pos: bigint, the key's chain position (0 when nothing is stored)
SELECT count(*)
FROM audit.access_log a
WHERE (coalesce(a.xid, '0'::xid8), a.chain_pos) > ($1::xid8, $2::bigint)
  AND coalesce(a.xid, '0'::xid8) >= $1::xid8
  AND coalesce(a.xid, '0'::xid8) < pg_snapshot_xmin(pg_current_snapshot());

-- name: aud_tree_row_key
-- A row's tree key by its chain position.
-- $1 chain_pos: bigint
SELECT coalesce(xid, '0'::xid8)::text, chain_pos
FROM audit.access_log
WHERE chain_pos = $1::bigint
LIMIT 1;
