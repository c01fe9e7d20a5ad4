-- holidays.sql - the holiday calendar a pay day is dated by (payruns.c).

-- name: pay_holidays_delete
-- $1 year: int
-- A year of the calendar, dropped before it is loaded again.
DELETE FROM payment.holidays
WHERE extract(year FROM day) = $1::int;

-- name: pay_holidays_insert
-- $1 year: text, YYYY (only checked to be given)
-- $2 source: text, where the calendar comes from
-- $3 days: jsonb, a JSON array of {date, name}
-- The year's holidays as given.
INSERT INTO payment.holidays (day, name, source)
SELECT (e->>'date')::date, e->>'name', $2
FROM jsonb_array_elements($3::jsonb) e
WHERE $1::text IS NOT NULL;

-- name: pay_holiday_year_upsert
-- $1 year: int
-- $2 source: text, where the calendar comes from
-- $3 days: jsonb, a JSON array of {date, name}
-- $4 by: text, the caller (token subject)
-- The year's source and count; the year as answered.
INSERT INTO payment.holiday_years (year, source, days, loaded_by)
VALUES ($1::int, $2, jsonb_array_length($3::jsonb), $4)
ON CONFLICT (year)
DO UPDATE SET source = EXCLUDED.source, days = EXCLUDED.days,
              loaded_by = EXCLUDED.loaded_by, loaded_at = now()
RETURNING jsonb_build_object(
    'year', year,
    'source', source,
    'days', (SELECT coalesce(
                 jsonb_agg(jsonb_build_object('date', h.day, 'name', h.name) ORDER BY h.day), '[]')
             FROM payment.holidays h
             WHERE extract(year FROM h.day) = $1::int))::text;

-- name: pay_holidays_get
-- $1 year: int
-- A year of the calendar as imported.
SELECT jsonb_build_object(
    'year', y.year,
    'source', y.source,
    'days', (SELECT coalesce(
                 jsonb_agg(jsonb_build_object('date', h.day, 'name', h.name) ORDER BY h.day), '[]')
             FROM payment.holidays h
             WHERE extract(year FROM h.day) = y.year))::text
FROM payment.holiday_years y
WHERE y.year = $1::int;
