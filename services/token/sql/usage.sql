-- usage.sql - client use counts, flushed once a second from memory (usage.c).

-- name: tok_usage_add
-- $1 client_ids: uuid[]
-- $2 counts: bigint[], uses since the last flush, one per client
UPDATE token.clients c
SET use_count = c.use_count + v.n, last_used_at = now()
FROM unnest($1::uuid[], $2::bigint[]) AS v(id, n)
WHERE c.id = v.id;
