-- stats-profile.sql - for bench/stats.sh (SESSHU_BENCH_PROFILE=1): where one page of the
-- refresh goes, statement by statement, on the bench's loaded stack (psql as the superuser,
-- after (c)). 250 new records (50 persons, five doses each) are read as the
-- records service reads a feed page (services/records/feeds/stats_feed.c's statement, EXPLAIN
-- ANALYZE), made into the page stats.apply_page gets (the person key the bench's SHA-256, as
-- in the load), and applied three times, each in a transaction rolled back, with auto_explain
-- logging every statement inside the function (ANALYZE, BUFFERS) to this client (the second
-- run; the first warms the caches, the third is timed without auto_explain). stats.sh then
-- EXPLAIN ANALYZEs each dataset statement of the render (services/stats/sql/datasets.sql, k =
-- 10). Run after (c): the 250 records stay behind the feed cursor, read by no later figure.
\set ON_ERROR_STOP on
\pset pager off
SELECT public.bench_persons('P', 50);
SELECT public.bench_records('P');
VACUUM ANALYZE records.immunizations;
\echo '== the feed page (records service, stats_feed.c)'
SELECT split_part(after, '-', 1) AS ftx, split_part(after, '-', 2) AS fseq FROM stats.feed_state \gset
EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, SUMMARY ON)
SELECT json_build_object('id', im.id, 'version', im.version, 'status', im.status,
       'vaccinated_on', im.vaccinated_on,
       'registered_on', (im.registered_at AT TIME ZONE 'Asia/Tokyo')::date,
       'registered_at', to_char(im.registered_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"'),
       'muni_code', im.muni_code, 'vaccine_code', im.vaccine_code, 'disease_codes', im.disease_codes,
       'dose_number', im.dose_number, 'category', im.category, 'source', im.source,
       'institution_code', im.institution_code, 'person_id', im.person_id, 'sex', p.sex,
       'birth_month', to_char(p.birth_date, 'YYYY-MM'),
       'age', extract(year FROM age(im.vaccinated_on, p.birth_date))::int)::text,
       im.txid::text || '-' || im.seq
  FROM records.immunizations im JOIN records.persons p ON p.id = im.person_id
 WHERE (im.txid, im.seq) > (:'ftx'::xid8, :'fseq'::bigint)
   AND im.txid < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY im.txid, im.seq LIMIT 250;
CREATE TEMP TABLE profile_page AS
SELECT jsonb_agg(jsonb_build_object('id', im.id, 'version', im.version, 'status', im.status,
       'vaccinated_on', im.vaccinated_on,
       'registered_on', (im.registered_at AT TIME ZONE 'Asia/Tokyo')::date,
       'muni_code', im.muni_code, 'vaccine_code', im.vaccine_code, 'disease_codes', im.disease_codes,
       'dose_number', im.dose_number, 'category', im.category, 'source', im.source,
       'institution_code', im.institution_code,
       'person_key', encode(sha256(convert_to(im.person_id::text, 'UTF8')), 'hex'), 'sex', p.sex,
       'birth_month', to_char(p.birth_date, 'YYYY-MM'),
       'age', extract(year FROM age(im.vaccinated_on, p.birth_date))::int, 'ord', im.seq)) AS items
  FROM records.immunizations im JOIN records.persons p ON p.id = im.person_id
 WHERE p.resident_no LIKE 'P%';
SELECT jsonb_array_length(items) AS page_items, length(items::text) AS page_bytes FROM profile_page;
\echo '== stats.apply_page, three times (each rolled back); every inner statement through auto_explain'
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_timing = on;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_format = text;
\timing on
BEGIN;
SELECT stats.apply_page(items) FROM profile_page;
ROLLBACK;
SET client_min_messages = log;
BEGIN;
SELECT stats.apply_page(items) FROM profile_page;
ROLLBACK;
SET client_min_messages = notice;
SET auto_explain.log_min_duration = -1;
\echo '== stats.apply_page without the instrumentation (its Time is what a page costs)'
BEGIN;
SELECT stats.apply_page(items) FROM profile_page;
ROLLBACK;
