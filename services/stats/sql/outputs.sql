-- outputs.sql - the rendered datasets (stats.outputs): stored once per refresh (render.c), read
-- by the two public routes (datasets.c). Times are published in Japan time (RFC 3339) and in
-- HTTP-date form for Last-Modified.

-- name: stat_output_store
-- $1 name: text, the dataset
-- $2 format: text, ndjson or csv
-- $3 body: text, the rendered body (UTF-8)
-- $4 etag: text, a hash of the body
-- $5 rows: int, the rows in it
-- An unchanged body keeps its row, and so its ETag and Last-Modified.
INSERT INTO stats.outputs AS o (name, format, body, etag, rows)
VALUES ($1, $2, $3, $4, $5::int)
ON CONFLICT (name, format) DO UPDATE
   SET body = excluded.body, etag = excluded.etag, rows = excluded.rows, generated_at = now()
 WHERE o.etag <> excluded.etag;

-- name: stat_output_index
-- Every rendered dataset and format, with when its content changed and as of when it holds.
SELECT o.name, o.format, o.etag, o.rows,
       to_char(o.generated_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"'),
       to_char(coalesce(f.refreshed_at, o.generated_at) AT TIME ZONE 'Asia/Tokyo',
               'YYYY-MM-DD"T"HH24:MI:SS"+09:00"')
  FROM stats.outputs o
  LEFT JOIN stats.feed_state f ON f.id = 1
 ORDER BY o.name, o.format;

-- name: stat_output_get
-- $1 name: text, the dataset
-- $2 format: text, ndjson or csv
SELECT body, etag,
       to_char(generated_at AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS "GMT"')
  FROM stats.outputs
 WHERE name = $1 AND format = $2;

-- name: stat_render_memory
-- For the render's transaction only: room for its sorts (the window and ORDER BY of ~130,000
-- cells spilled to disk at the default 4 MB, bench/stats.sh's profile). The render is single
-- flight, so this is at most one render's worth on the server.
SELECT set_config('work_mem', '32MB', true);
