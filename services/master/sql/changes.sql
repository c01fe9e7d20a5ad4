-- changes.sql - the change numbers of the masters (apply.c, write.c, service.c): one sequence for
-- every write, table_state.last_change per master for ETags and the change feed, and the import's
-- stage_diff (005_stage.sql). The statements of each master's own table are in masters.sql.

-- name: mst_stage_diff_counts
SELECT op, count(*)::text
FROM master.stage_diff
GROUP BY op;

-- name: mst_stage_diff_not_added
-- The lines an insert-only import refuses.
SELECT line
FROM master.stage_diff
WHERE op <> 'added'
ORDER BY line;

-- name: mst_stage_diff_added
-- The lines an update-only import refuses.
SELECT line
FROM master.stage_diff
WHERE op = 'added'
ORDER BY line;

-- name: mst_change_next
SELECT nextval('master.change_seq')::text;

-- name: mst_table_state_touch
-- $1 master: text, the master's name (its table in schema master)
UPDATE master.table_state
SET last_change = nextval('master.change_seq')
WHERE name = $1;

-- name: mst_stage_diff_clear
DELETE FROM master.stage_diff;

-- name: mst_table_state_last_change
-- $1 master: text, the master's name (its table in schema master)
SELECT last_change::text
FROM master.table_state
WHERE name = $1;
