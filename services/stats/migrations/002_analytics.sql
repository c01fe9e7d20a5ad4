-- 002_analytics.sql - the analytics schema for BI tools (H-6-1: Tableau, Power BI, Metabase,
-- Superset over the PostgreSQL protocol): pseudonymised views over the facts the feed keeps up
-- to date incrementally (stats.facts, stats.cells), never rebuilt. (The population figures are the master's, which
-- services may read and the BI role may not: the coverage dataset carries them.) Read by the group role
-- sesshu_stats_bi (db/roles.sql), which may read these views and nothing else: the views run
-- with their owner's rights, so the role needs no right on the stats schema.

-- One row per vaccination in force: no names, no ids; the person is a keyed hash, the birth a
-- month; the record's id stays behind.
CREATE VIEW analytics.immunizations AS
SELECT f.person_key, f.birth_month, f.sex, f.age_band, f.pref_code AS prefecture_code,
       f.muni_code AS municipality_code, f.vaccinated_on,
       extract(year FROM f.vaccinated_on - interval '3 months')::int AS fiscal_year,
       f.registered_on, to_char(f.registered_on, 'YYYY-MM') AS registration_month,
       f.registered_on - f.vaccinated_on AS registration_lag_days, f.vaccine_code,
       f.disease_codes, f.dose_number, f.category, f.source, f.institution_type
  FROM stats.facts f
 WHERE f.status <> 'voided';

-- The counts by vaccination date x municipality x disease x product x dose x sex x age band.
CREATE VIEW analytics.daily_counts AS
SELECT c.vaccinated_on, left(c.muni_code, 2) AS prefecture_code, c.muni_code AS municipality_code,
       c.disease_code, c.vaccine_code, c.dose_number, c.sex, c.age_band, c.n AS count
  FROM stats.cells c;

GRANT USAGE ON SCHEMA analytics TO sesshu_stats_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO sesshu_stats_bi;
