-- 009_subtrees.sql - stored subtree hashes of the checkpoints' Merkle tree (logs_tree.c), so an
-- inclusion or consistency proof reads O(log n) stored hashes and the rows of at most two blocks
-- of 256 leaves instead of recomputing the tree from every row.
--
-- A row (level, idx) is the hash of the complete subtree over the leaves
-- [idx * 2^level, (idx + 1) * 2^level) of the tree's order (rows in (xid, chain_pos) order, xid
-- NULL first: the key (coalesce(xid, '0'), chain_pos), no real transaction id being 0). In an
-- RFC 9162 tree every left subtree is such a complete, aligned one, so MTH of any prefix is built
-- from them and the leaves after the last complete one. Levels start at 8 (blocks of 256 leaves;
-- below that the rows are read, which keeps this table at 1/128 of the log). A base block
-- (level 8) also keeps the tree keys of its first and last leaf, so a row's block is found by
-- its key and a block's rows are read by a key range.
--
-- Rows are written only over leaves that a checkpoint's tree size (or a proof's, never past the
-- log's size) covers: those leaves never change order again, so a stored hash never changes.
-- Append-only like the log; verify recomputes every stored hash from the rows.
CREATE INDEX access_log_tree ON audit.access_log ((coalesce(xid, '0'::xid8)), chain_pos);

CREATE TABLE audit.subtrees (
    level     smallint NOT NULL CHECK (level BETWEEN 8 AND 62),
    idx       bigint NOT NULL CHECK (idx >= 0),
    hash      bytea NOT NULL CHECK (length(hash) = 32),
    first_xid xid8,
    first_pos bigint,
    last_xid  xid8,
    last_pos  bigint,
    PRIMARY KEY (level, idx),
    CONSTRAINT subtrees_base_keys CHECK ((level = 8) = (first_pos IS NOT NULL AND
                                                        last_pos IS NOT NULL AND
                                                        first_xid IS NOT NULL AND
                                                        last_xid IS NOT NULL))
);
CREATE INDEX subtrees_base_first ON audit.subtrees (first_xid, first_pos) WHERE level = 8;
CREATE TRIGGER subtrees_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.subtrees
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
REVOKE ALL ON audit.subtrees FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit.subtrees FROM sesshu_audit;

-- The rows after a tree key, in tree order (a block's leaves, a fill's chunk). Always by the
-- index's order: the planner's estimate of a row comparison can be near zero (the rows of one
-- large transaction share their xid), and then it sorts every row after the key for 256 of them
-- (200 ms a proof at 10^5 rows). enable_sort off for this query only, by the function's SET.
CREATE FUNCTION audit.tree_rows(after_xid xid8, after_pos bigint, n bigint)
    RETURNS TABLE (chain_pos bigint, xid text, hash text)
    LANGUAGE sql STABLE SET enable_sort = off
AS $$
    SELECT a.chain_pos, coalesce(a.xid, '0'::xid8)::text, encode(a.hash, 'hex')
      FROM audit.access_log a
     WHERE (coalesce(a.xid, '0'::xid8), a.chain_pos) > (after_xid, after_pos)
     ORDER BY coalesce(a.xid, '0'::xid8), a.chain_pos
     LIMIT n
$$;
REVOKE ALL ON FUNCTION audit.tree_rows(xid8, bigint, bigint) FROM PUBLIC;
