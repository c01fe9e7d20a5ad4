-- 009_inline_dates.sql - the date arithmetic of 007 (docs/rules.md §4), unchanged in what it
-- computes, made inlinable.
--
-- PostgreSQL inlines a one-expression SQL function into the query that calls it (no function
-- call, no executor start per call) unless, among other things, it is STRICT with a body it
-- cannot prove strict: a CASE is not. age_on and after_interval (a CASE each) ran as separate
-- executions, ten to twenty per registration and about twenty per line of a bulk import (seen
-- in pg_stat_statements with track = all: bench/records.sh with SESSHU_BENCH_STATEMENTS=1).
-- Without STRICT, a NULL argument still gives NULL: every branch is NULL when b, d, age or iv
-- is (extract, +, make_interval and the casts are strict).
CREATE OR REPLACE FUNCTION master.same_day_later(d date, n int) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((d + make_interval(months => n))::date
            + (extract(day FROM d + make_interval(months => n)) < extract(day FROM d))::int)
$$;

CREATE OR REPLACE FUNCTION master.age_on(b date, age interval) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN extract(year FROM age) * 12 + extract(month FROM age) = 0
                THEN b + extract(day FROM age)::int
                ELSE master.same_day_later(b, (extract(year FROM age) * 12
                     + extract(month FROM age))::int) - 1 + extract(day FROM age)::int END
$$;

CREATE OR REPLACE FUNCTION master.after_interval(d date, iv interval) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN extract(year FROM iv) * 12 + extract(month FROM iv) = 0
                THEN d + extract(day FROM iv)::int + 1
                ELSE master.same_day_later(d, (extract(year FROM iv) * 12
                     + extract(month FROM iv))::int) + extract(day FROM iv)::int END
$$;

CREATE OR REPLACE FUNCTION master.within_interval(d date, iv interval) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT master.after_interval(d, iv) - 1
$$;
