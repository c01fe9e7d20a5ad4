-- subtrees.sql - the stored subtree hashes (audit.subtrees, migration 009; logs_tree.c).
-- A row (level, idx) is MTH of the leaves [idx * 2^level, (idx + 1) * 2^level); the base level
-- 8 (blocks of 256 leaves) also keeps the tree keys of its first and last leaf.

-- name: aud_subtree_base_end
-- The stored base blocks: how many, and the tree key of the last leaf of the last one.
SELECT idx + 1, last_xid::text, last_pos
FROM audit.subtrees
WHERE level = 8
ORDER BY idx DESC
LIMIT 1;

-- name: aud_subtree_base_insert
-- A base block hashed from its 256 rows (a concurrent filler stores the same: nothing then).
-- $1 idx: bigint, the block's number
-- $2 hash: text, its hash in hex
-- $3 first_xid: xid8, the tree key of its first leaf
-- $4 first_pos: bigint
-- $5 last_xid: xid8, the tree key of its last leaf
-- $6 last_pos: bigint
INSERT INTO audit.subtrees (level, idx, hash, first_xid, first_pos, last_xid, last_pos)
VALUES (8, $1::bigint, decode($2, 'hex'), $3::xid8, $4::bigint, $5::xid8, $6::bigint)
ON CONFLICT DO NOTHING;

-- name: aud_subtree_fill_level
-- Every parent (level + 1) whose two children of this level are stored and itself is not:
-- SHA-256(0x01 || left || right), RFC 9162 2.1.1.
-- $1 level: smallint, the children's level
INSERT INTO audit.subtrees (level, idx, hash)
SELECT l.level + 1, l.idx / 2, sha256('\x01'::bytea || l.hash || r.hash)
FROM audit.subtrees l
JOIN audit.subtrees r ON r.level = l.level AND r.idx = l.idx + 1
WHERE l.level = $1::smallint
  AND l.idx % 2 = 0
  AND l.idx >= 2 * coalesce((SELECT max(p.idx) + 1 FROM audit.subtrees p
                             WHERE p.level = $1::smallint + 1), 0)
ORDER BY l.idx
ON CONFLICT DO NOTHING;

-- name: aud_subtree_base_last
-- The tree key of the last leaf of one base block (where the next block's rows start).
-- $1 idx: bigint, the block's number
SELECT last_xid::text, last_pos
FROM audit.subtrees
WHERE level = 8 AND idx = $1::bigint;

-- name: aud_subtree_hash
-- One stored hash.
-- $1 level: smallint
-- $2 idx: bigint
SELECT encode(hash, 'hex')
FROM audit.subtrees
WHERE level = $1::smallint AND idx = $2::bigint;

-- name: aud_subtree_block_of_key
-- The base block holding the row with a tree key: the last one starting at or before it, or
-- NULL when the key is past the end of the stored blocks.
-- $1 xid: xid8, the row's key
-- $2 pos: bigint
-- $3 end_xid: xid8, the key of the last stored leaf
-- $4 end_pos: bigint
SELECT CASE WHEN ($1::xid8, $2::bigint) > ($3::xid8, $4::bigint) THEN NULL
            ELSE (SELECT idx FROM audit.subtrees
                  WHERE level = 8 AND (first_xid, first_pos) <= ($1::xid8, $2::bigint)
                  ORDER BY first_xid DESC, first_pos DESC
                  LIMIT 1)
       END;

-- name: aud_subtree_all
-- Every stored hash, for verify to recompute from the rows.
SELECT level, idx, encode(hash, 'hex'), first_pos, last_pos
FROM audit.subtrees
ORDER BY level, idx;
