-- gateway_log.sql - the gateway's refusals read into the log (gateway_import.c): how far the
-- nginx log file has been read (audit.gateway_log_offset, migration 006), and the partitions.

-- name: aud_gateway_offset_get
-- The file's read offset, locked for the import's transaction.
-- $1 file: text, the log file's path
SELECT inode, byte_offset
FROM audit.gateway_log_offset
WHERE file = $1
FOR UPDATE;

-- name: aud_gateway_offset_put
-- The offset after the lines just logged (in the same transaction as their rows).
-- $1 file: text, the log file's path
-- $2 inode: text, the file's inode (a rotated file starts again at 0)
-- $3 byte_offset: text, bytes read
INSERT INTO audit.gateway_log_offset (file, inode, byte_offset)
VALUES ($1, $2, $3)
ON CONFLICT (file) DO UPDATE
SET inode = EXCLUDED.inode, byte_offset = EXCLUDED.byte_offset, updated_at = now();

-- name: aud_partitions_ensure
-- The month partitions up to two months ahead (migration 008), at start and hourly.
SELECT audit.ensure_partitions(2);
