-- feed.sql - the cursor of the records feed and the applying of one page (feed.c). The page is
-- applied by stats.apply_page (migrations/003_refresh.sql) in the transaction that moves the
-- cursor, so a page is counted once even with two replicas refreshing.

-- name: stat_feed_cursor
-- The stored cursor, made on first use.
INSERT INTO stats.feed_state (id, after) VALUES (1, '0-0')
ON CONFLICT (id) DO UPDATE SET id = 1
RETURNING after;

-- name: stat_feed_advance
-- $1 next: text, the cursor after the page (the feed's next_after)
-- $2 after: text, the cursor the page was read after (no row when another replica moved it)
UPDATE stats.feed_state SET after = $1, refreshed_at = now(), data_as_of = now()
WHERE id = 1 AND after = $2;

-- name: stat_feed_apply
-- $1 items: jsonb, the page's items, pseudonymised (person_key, no person_id) and numbered (ord)
SELECT stats.apply_page($1::jsonb);

-- name: stat_feed_touch
-- Nothing new is news too: the figures are as of now.
UPDATE stats.feed_state SET refreshed_at = now();

-- name: stat_feed_inputs
-- What the datasets read besides the counts: the population master and the schedules master in
-- force today (the coverage denominators and target ages). A new, corrected or retired row
-- takes a new version from master.change_seq (a retired one as its superseded_version), and a
-- row comes into or goes out of force with the date: so the date and the two masters' highest
-- versions change whenever the datasets' other inputs do (feed.c renders again then). Index
-- lookups only (the primary keys, populations_sup).
SELECT concat_ws(' ', current_date,
       (SELECT greatest(max(version), max(superseded_version)) FROM master.populations),
       (SELECT greatest(max(version), max(superseded_version)) FROM master.schedules));
