-- datasets.sql - the published datasets (H-6-2), one statement each, rendered at every refresh
-- that changed something (render.c) into stats.outputs. Each takes $1 = k, the small-cell
-- threshold (SESSHU_STATS_K; the datasets without suppression take it too, `$1::int > 0`, so
-- that every dataset is run the same way), and returns its columns in the order of its row of
-- stat_datasets[] (datasets.c), every value as text.
--
-- The denominators are the population master as of today (master.populations, in force), per
-- municipality that has figures (`pop`); the suppression rules are in datasets.c's header.

-- name: stat_ds_by_municipality
-- $1 k: int, a count below k is suppressed
-- The suppression group (every published total is a sum of whole groups): vaccination date,
-- prefecture, disease, product, dose, age band and whether the municipality has population
-- figures (hp). prim: below k. Within a group of total >= k with a suppressed cell, the smallest
-- cell at or above k is suppressed too (rk = nsup + 1); a group below k is not listed at all.
WITH pop AS (
    SELECT municipality_code AS m, sum(population) AS n
      FROM master.populations
     WHERE superseded_at IS NULL AND valid_from <= current_date
       AND (valid_to IS NULL OR valid_to >= current_date)
     GROUP BY 1
), c AS (
    SELECT x.*, left(x.muni_code, 2) AS pref_code, x.n < $1::int AS prim,
           x.muni_code IN (SELECT m FROM pop) AS hp
      FROM stats.cells x
), g AS (
    SELECT c.*, count(*) FILTER (WHERE c.prim) OVER w AS nsup, sum(c.n) OVER w AS total,
           row_number() OVER (w ORDER BY c.prim DESC, c.n, c.muni_code, c.sex, c.age_band) AS rk
      FROM c
    WINDOW w AS (PARTITION BY c.vaccinated_on, c.pref_code, c.disease_code, c.vaccine_code,
                              c.dose_number, c.age_band, c.hp)
)
SELECT g.vaccinated_on::text, g.pref_code, g.muni_code, g.disease_code, g.vaccine_code,
       g.dose_number::text, g.sex, g.age_band,
       CASE WHEN g.prim OR (g.nsup > 0 AND g.rk = g.nsup + 1) THEN NULL ELSE g.n::text END,
       (g.prim OR (g.nsup > 0 AND g.rk = g.nsup + 1))::text
  FROM g
 WHERE g.total >= $1::int
 ORDER BY 1, 3, 4, 5, 6, 7, 8;

-- name: stat_ds_by_prefecture
-- $1 k: int, unused here (no cell is small at prefecture level)
SELECT d::text, p, dc, vc, dn::text, n::text,
       (sum(n) OVER (PARTITION BY p, dc, vc, dn ORDER BY d))::text
  FROM (SELECT vaccinated_on AS d, left(muni_code, 2) AS p, disease_code AS dc,
               vaccine_code AS vc, dose_number AS dn, sum(n) AS n
          FROM stats.cells
         WHERE $1::int > 0
         GROUP BY 1, 2, 3, 4, 5) s
 ORDER BY 1, 2, 3, 4, 5;

-- name: stat_ds_registrations
-- $1 k: int, unused here
-- By registration date (Japan time): the registration lag of late entries shows against the
-- table by vaccination date.
SELECT registered_on::text, pref_code, disease_code, vaccine_code, dose_number::text, n::text,
       (sum(n) OVER (PARTITION BY pref_code, disease_code, vaccine_code, dose_number
                     ORDER BY registered_on))::text
  FROM stats.reg_cells
 WHERE $1::int > 0
 ORDER BY 1, 2, 3, 4, 5;

-- name: stat_ds_coverage
-- $1 k: int, unused here
-- Cumulative counts of the municipalities with population figures over their population (pp:
-- per prefecture); the municipalities without figures are in neither.
WITH pop AS (
    SELECT municipality_code AS m, sum(population) AS n
      FROM master.populations
     WHERE superseded_at IS NULL AND valid_from <= current_date
       AND (valid_to IS NULL OR valid_to >= current_date)
     GROUP BY 1
), pp AS (
    SELECT left(m, 2) AS p, sum(n) AS n FROM pop GROUP BY 1
), s AS (
    SELECT c.vaccinated_on AS d, left(c.muni_code, 2) AS p, c.disease_code AS dc,
           c.vaccine_code AS vc, c.dose_number AS dn, sum(c.n) AS n
      FROM stats.cells c JOIN pop ON pop.m = c.muni_code
     GROUP BY 1, 2, 3, 4, 5
), x AS (
    SELECT s.*, sum(s.n) OVER (PARTITION BY s.p, s.dc, s.vc, s.dn ORDER BY s.d) AS cum FROM s
)
SELECT x.d::text, x.p, x.dc, x.vc, x.dn::text, x.n::text, x.cum::text, pp.n::text,
       CASE WHEN pp.n > 0 THEN round(x.cum / pp.n, 6)::text END
  FROM x JOIN pp ON pp.p = x.p
 WHERE $1::int > 0
 ORDER BY 1, 2, 3, 4, 5;

-- name: stat_ds_coverage_by_age_band
-- $1 k: int, unused here
-- The target ages of each disease x dose (the schedules master in force: docs/rules.md §5, the
-- 実施要領 windows; pregnancy rows have no population and are left out) against the population
-- master's age bands (bands: years lo..hi). share: the part of a band's population of target
-- age, the band's years taken as equally populous. An age window (age_from..age_to, in years) is
-- one span, the widest of the rows of that disease x dose; a 年度末年齢 window (fy_age_from..
-- fy_age_to every fy_age_step years) is one birth cohort per age n, counted as ages n-1..n, the
-- cohorts of every row counted once. sx: '2' when every row is for women (HPV). The rows of a
-- 特例 for a birth cohort (birth_from/birth_to: 日本脳炎, MR, 風しん第5期) are not a target age.
WITH pop AS (
    SELECT municipality_code AS m, sum(population) AS n
      FROM master.populations
     WHERE superseded_at IS NULL AND valid_from <= current_date
       AND (valid_to IS NULL OR valid_to >= current_date)
     GROUP BY 1
), bands (b, lo, hi) AS (
    VALUES ('0', 0, 1), ('1', 1, 2), ('2-4', 2, 5), ('5-9', 5, 10), ('10-14', 10, 15),
           ('15-19', 15, 20), ('20-29', 20, 30), ('30-39', 30, 40), ('40-49', 40, 50),
           ('50-59', 50, 60), ('60-69', 60, 70), ('70-79', 70, 80), ('80-89', 80, 90),
           ('90+', 90, 150)
), win AS (
    SELECT disease_code AS dc, dose_number AS dn, sex, false AS fy,
           (extract(year FROM age_from) + extract(month FROM age_from) / 12.0
            + extract(day FROM age_from) / 365.25) AS lo,
           (extract(year FROM age_to) + extract(month FROM age_to) / 12.0
            + extract(day FROM age_to) / 365.25) AS hi
      FROM master.schedules
     WHERE fy_age_from IS NULL
       AND superseded_at IS NULL AND valid_from <= current_date
       AND (valid_to IS NULL OR valid_to >= current_date) AND pregnancy_weeks_from IS NULL
       AND birth_from IS NULL AND birth_to IS NULL
    UNION
    SELECT disease_code, dose_number, sex, true, n - 1, n
      FROM master.schedules
     CROSS JOIN LATERAL generate_series(fy_age_from, least(fy_age_to, 150),
                                        coalesce(fy_age_step, 1)) n
     WHERE fy_age_from IS NOT NULL
       AND superseded_at IS NULL AND valid_from <= current_date
       AND (valid_to IS NULL OR valid_to >= current_date) AND pregnancy_weeks_from IS NULL
       AND birth_from IS NULL AND birth_to IS NULL
), ov AS (
    SELECT w.dc, w.dn, w.sex, w.fy, b.b, b.hi - b.lo AS width,
           greatest(0, least(w.hi, b.hi) - greatest(w.lo, b.lo)) AS y
      FROM win w CROSS JOIN bands b
), tgt AS (
    SELECT dc, dn, b,
           least(1, greatest(max(y) FILTER (WHERE NOT fy), sum(y) FILTER (WHERE fy))
                    / min(width)) AS share,
           CASE WHEN bool_and(coalesce(sex, '') = '2') THEN '2' END AS sx
      FROM ov
     GROUP BY 1, 2, 3
    HAVING max(y) > 0
), popb AS (
    SELECT left(municipality_code, 2) AS p, sex, age_band AS b, sum(population) AS n
      FROM master.populations
     WHERE superseded_at IS NULL AND valid_from <= current_date
       AND (valid_to IS NULL OR valid_to >= current_date)
     GROUP BY 1, 2, 3
), den AS (
    SELECT t.dc, t.dn, t.b, pb.p, round(sum(pb.n) * t.share) AS n
      FROM tgt t JOIN popb pb ON pb.b = t.b AND (t.sx IS NULL OR pb.sex = t.sx)
     GROUP BY t.dc, t.dn, t.b, pb.p, t.share
), s AS (
    SELECT c.vaccinated_on AS d, left(c.muni_code, 2) AS p, c.disease_code AS dc,
           c.vaccine_code AS vc, c.dose_number AS dn, c.age_band AS b, sum(c.n) AS n
      FROM stats.cells c JOIN pop ON pop.m = c.muni_code
     GROUP BY 1, 2, 3, 4, 5, 6
), x AS (
    SELECT s.*, sum(s.n) OVER (PARTITION BY s.p, s.dc, s.vc, s.dn, s.b ORDER BY s.d) AS cum
      FROM s
)
SELECT x.d::text, x.p, x.dc, x.vc, x.dn::text, x.b, x.n::text, x.cum::text, den.n::text,
       CASE WHEN den.n > 0 THEN round(x.cum / den.n, 6)::text END
  FROM x JOIN den ON den.dc = x.dc AND den.dn = x.dn AND den.b = x.b AND den.p = x.p
 WHERE $1::int > 0
 ORDER BY 1, 2, 3, 4, 5, 6;
