-- 043_stats_feed.sql - the stats service's change feed (stats_feed.c): every record, new,
-- corrected or voided, in (txid, seq) order across municipalities.
CREATE INDEX immunizations_stats_feed ON records.immunizations (txid, seq);
