-- bench/log-rows.sql - the access-log rows of the benchmarks (bench/scale.sh, bench/audit-size.sh),
-- run by psql as the superuser with -v muni=<the bench's municipality code>:
--   public.bench_munis   the master's current municipalities but the bench's, numbered from 0;
--   public.bench_people  person number g -> id and municipality (filled by the caller);
--   public.bench_log     log rows through audit.append, the shape of a municipality's traffic.
CREATE TABLE public.bench_munis AS
SELECT (row_number() OVER (ORDER BY code) - 1)::int AS i, code::char(6) AS code
  FROM master.municipalities WHERE superseded_at IS NULL AND code <> :'muni';
CREATE TABLE public.bench_people (g bigint PRIMARY KEY, id uuid NOT NULL, muni char(6) NOT NULL);
-- Access-log rows r0 .. r0+n-1 through audit.append on stream s, each naming one person of
-- g in [lo, lo+span): 7 in 10 a staff read of the person, 3 a registration, 1 in 50 refused.
CREATE FUNCTION public.bench_log(s text, r0 bigint, n int, lo bigint, span bigint) RETURNS bigint
LANGUAGE sql AS $$
    SELECT audit.append(s,
        array_agg('bench-' || x.r ORDER BY x.r), array_agg('records'::text ORDER BY x.r),
        array_agg('user'::text ORDER BY x.r), array_agg(md5(x.muni || x.r % 20)::uuid::text ORDER BY x.r),
        array_agg('staff' || x.r % 20 || '-' || x.muni ORDER BY x.r),
        array_agg(md5('org' || x.muni)::uuid::text ORDER BY x.r), array_agg('municipality'::text ORDER BY x.r),
        array_agg(x.muni::text ORDER BY x.r), array_agg('user'::text ORDER BY x.r),
        array_agg(CASE WHEN x.k < 7 THEN 'GET' ELSE 'POST' END ORDER BY x.r),
        array_agg(CASE WHEN x.k < 7 THEN '/api/v1/persons/{id}' ELSE '/api/v1/immunizations' END ORDER BY x.r),
        array_agg(CASE WHEN x.k < 7 THEN '/api/v1/persons/' || x.id ELSE '/api/v1/immunizations' END ORDER BY x.r),
        array_agg(CASE WHEN x.k < 7 THEN 'person' ELSE 'immunization' END ORDER BY x.r),
        array_agg(CASE WHEN x.k < 7 THEN x.id::text ELSE md5(x.r::text)::uuid::text END ORDER BY x.r),
        array_agg(x.id::text ORDER BY x.r), array_agg(NULL::text ORDER BY x.r),
        array_agg(x.muni::text ORDER BY x.r), array_agg('10.' || x.r % 200 || '.' || x.r % 250 || '.1' ORDER BY x.r),
        array_agg(CASE WHEN x.r % 50 = 0 THEN 403 WHEN x.k < 7 THEN 200 ELSE 201 END ORDER BY x.r),
        array_agg((800 + x.r % 5000)::bigint ORDER BY x.r))
      FROM (SELECT r, r % 10 AS k, b.id, b.muni
              FROM generate_series(r0, r0 + n - 1) r
              JOIN public.bench_people b ON b.g = lo + (r * 7919) % span) x
$$;
