-- 001_stats.sql - the stats service's own tables (H-6). Run by ss_migrate() as sesshu_stats.
--
-- facts: one row per vaccination record, its latest state as the records service's feed gave
-- it, pseudonymised at the door (a keyed hash of the person, the birth month, an age band; no
-- names, no ids of persons). cells / reg_cells: counts kept up to date incrementally from the
-- facts that change (stats.apply_page), never rebuilt by the service; stats.rebuild_diff()
-- computes what a full rebuild would give and returns the rows where the two differ (the tests
-- and the operator's check). outputs: each published dataset rendered once per refresh, so a
-- read costs one row.

CREATE TABLE stats.feed_state (
    id           integer PRIMARY KEY CHECK (id = 1),
    after        text NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    data_as_of   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stats.facts (
    immunization_id  uuid PRIMARY KEY,
    version          integer NOT NULL,
    status           text NOT NULL,
    vaccinated_on    date NOT NULL,
    registered_on    date NOT NULL,
    muni_code        char(6) NOT NULL,
    pref_code        char(2) NOT NULL,
    vaccine_code     text NOT NULL,
    disease_codes    text[] NOT NULL,
    dose_number      integer NOT NULL,
    category         text NOT NULL,
    source           text NOT NULL,
    institution_type text NOT NULL,
    person_key       text NOT NULL,
    sex              char(1) NOT NULL,
    birth_month      char(7) NOT NULL,
    age_band         text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Counts by vaccination date x municipality x disease x product x dose x sex x age band.
CREATE TABLE stats.cells (
    vaccinated_on date NOT NULL,
    muni_code     char(6) NOT NULL,
    disease_code  text NOT NULL,
    vaccine_code  text NOT NULL,
    dose_number   integer NOT NULL,
    sex           char(1) NOT NULL,
    age_band      text NOT NULL,
    n             bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (vaccinated_on, muni_code, disease_code, vaccine_code, dose_number, sex, age_band)
);

-- Counts by registration date x prefecture x disease x product x dose (the registration lag).
CREATE TABLE stats.reg_cells (
    registered_on date NOT NULL,
    pref_code     char(2) NOT NULL,
    disease_code  text NOT NULL,
    vaccine_code  text NOT NULL,
    dose_number   integer NOT NULL,
    n             bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (registered_on, pref_code, disease_code, vaccine_code, dose_number)
);

CREATE TABLE stats.outputs (
    name         text NOT NULL,
    format       text NOT NULL CHECK (format IN ('ndjson', 'csv')),
    body         text NOT NULL,
    etag         text NOT NULL,
    rows         integer NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, format)
);

-- One page in flight (stats.apply_page): the service role may not create temporary tables
-- (db/roles.sql). Emptied before each page commits; the caller holds the feed_state row lock, so
-- two replicas never fill them at once.
CREATE UNLOGGED TABLE stats.page_new (LIKE stats.facts INCLUDING DEFAULTS);
CREATE UNLOGGED TABLE stats.page_old (LIKE stats.facts INCLUDING DEFAULTS);

-- Age bands of the published tables: single years for infants, then five, then ten years.
CREATE FUNCTION stats.age_band(age integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN age < 0 THEN '0'
        WHEN age < 2 THEN age::text
        WHEN age < 5 THEN '2-4'
        WHEN age < 20 THEN (age / 5 * 5)::text || '-' || (age / 5 * 5 + 4)::text
        WHEN age < 90 THEN (age / 10 * 10)::text || '-' || (age / 10 * 10 + 9)::text
        ELSE '90+'
    END
$$;

-- Apply one page of the feed (items: [{id, version, status, vaccinated_on, registered_on,
-- muni_code, vaccine_code, disease_codes, dose_number, category, source, institution_code,
-- person_key, sex, birth_month, age}]): take out what each record counted for before, store its
-- new state, count what it counts for now. A voided record counts for nothing.
CREATE FUNCTION stats.apply_page(items jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    applied integer;
BEGIN
    DELETE FROM stats.page_new;
    DELETE FROM stats.page_old;
    INSERT INTO stats.page_new (immunization_id, version, status, vaccinated_on, registered_on,
                          muni_code, pref_code, vaccine_code, disease_codes, dose_number, category,
                          source, institution_type, person_key, sex, birth_month, age_band)
    SELECT DISTINCT ON (x.id) x.id, x.version, x.status, x.vaccinated_on, x.registered_on,
           x.muni_code, left(x.muni_code, 2), x.vaccine_code, x.disease_codes, x.dose_number,
           x.category, x.source, coalesce(substr(x.institution_code, 3, 1), '-'), x.person_key,
           x.sex, x.birth_month, stats.age_band(x.age)
      FROM jsonb_to_recordset(items) AS x(id uuid, version int, status text, vaccinated_on date,
           registered_on date, muni_code text, vaccine_code text, disease_codes text[],
           dose_number int, category text, source text, institution_code text,
           person_key text, sex text, birth_month text, age int, ord int)
     ORDER BY x.id, x.ord DESC;
    GET DIAGNOSTICS applied = ROW_COUNT;
    INSERT INTO stats.page_old SELECT f.* FROM stats.facts f JOIN stats.page_new p USING (immunization_id)
     WHERE f.status <> 'voided';

    -- What they counted for is there (they were counted when stored): an UPDATE, never an
    -- INSERT of a negative count (the CHECK would refuse it before ON CONFLICT is looked at).
    UPDATE stats.cells c SET n = c.n - o.n
      FROM (SELECT o.vaccinated_on, o.muni_code, d AS disease_code, o.vaccine_code,
                   o.dose_number, o.sex, o.age_band, count(*) AS n
              FROM stats.page_old o CROSS JOIN LATERAL unnest(o.disease_codes) d
             GROUP BY 1, 2, 3, 4, 5, 6, 7) o
     WHERE c.vaccinated_on = o.vaccinated_on AND c.muni_code = o.muni_code
       AND c.disease_code = o.disease_code AND c.vaccine_code = o.vaccine_code
       AND c.dose_number = o.dose_number AND c.sex = o.sex AND c.age_band = o.age_band;
    UPDATE stats.reg_cells c SET n = c.n - o.n
      FROM (SELECT o.registered_on, o.pref_code, d AS disease_code, o.vaccine_code,
                   o.dose_number, count(*) AS n
              FROM stats.page_old o CROSS JOIN LATERAL unnest(o.disease_codes) d
             GROUP BY 1, 2, 3, 4, 5) o
     WHERE c.registered_on = o.registered_on AND c.pref_code = o.pref_code
       AND c.disease_code = o.disease_code AND c.vaccine_code = o.vaccine_code
       AND c.dose_number = o.dose_number;

    INSERT INTO stats.facts SELECT * FROM stats.page_new
    ON CONFLICT (immunization_id) DO UPDATE SET version = excluded.version,
        status = excluded.status, vaccinated_on = excluded.vaccinated_on,
        registered_on = excluded.registered_on, muni_code = excluded.muni_code,
        pref_code = excluded.pref_code, vaccine_code = excluded.vaccine_code,
        disease_codes = excluded.disease_codes, dose_number = excluded.dose_number,
        category = excluded.category, source = excluded.source,
        institution_type = excluded.institution_type, person_key = excluded.person_key,
        sex = excluded.sex, birth_month = excluded.birth_month, age_band = excluded.age_band,
        updated_at = now();

    INSERT INTO stats.cells AS c
    SELECT p.vaccinated_on, p.muni_code, d, p.vaccine_code, p.dose_number, p.sex, p.age_band,
           count(*)
      FROM stats.page_new p CROSS JOIN LATERAL unnest(p.disease_codes) d
     WHERE p.status <> 'voided'
     GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (vaccinated_on, muni_code, disease_code, vaccine_code, dose_number, sex, age_band)
    DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO stats.reg_cells AS c
    SELECT p.registered_on, p.pref_code, d, p.vaccine_code, p.dose_number, count(*)
      FROM stats.page_new p CROSS JOIN LATERAL unnest(p.disease_codes) d
     WHERE p.status <> 'voided'
     GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (registered_on, pref_code, disease_code, vaccine_code, dose_number)
    DO UPDATE SET n = c.n + excluded.n;

    DELETE FROM stats.cells WHERE n = 0;
    DELETE FROM stats.reg_cells WHERE n = 0;
    DELETE FROM stats.page_new;
    DELETE FROM stats.page_old;
    RETURN applied;
END
$$;

-- What a full rebuild from the facts gives, against what the incremental path kept: the rows
-- where they differ (none, when all is well).
CREATE VIEW stats.rebuild_diff AS
WITH full_cells AS (
    SELECT f.vaccinated_on, f.muni_code, d AS disease_code, f.vaccine_code, f.dose_number, f.sex,
           f.age_band, count(*)::bigint AS n
      FROM stats.facts f CROSS JOIN LATERAL unnest(f.disease_codes) d
     WHERE f.status <> 'voided'
     GROUP BY 1, 2, 3, 4, 5, 6, 7
), full_reg AS (
    SELECT f.registered_on, f.pref_code, d AS disease_code, f.vaccine_code, f.dose_number,
           count(*)::bigint AS n
      FROM stats.facts f CROSS JOIN LATERAL unnest(f.disease_codes) d
     WHERE f.status <> 'voided'
     GROUP BY 1, 2, 3, 4, 5
)
SELECT 'cells' AS tbl, coalesce(a.n, 0) AS incremental, coalesce(b.n, 0) AS rebuilt
  FROM stats.cells a FULL JOIN full_cells b USING (vaccinated_on, muni_code, disease_code,
       vaccine_code, dose_number, sex, age_band)
 WHERE a.n IS DISTINCT FROM b.n
UNION ALL
SELECT 'reg_cells', coalesce(a.n, 0), coalesce(b.n, 0)
  FROM stats.reg_cells a FULL JOIN full_reg b USING (registered_on, pref_code, disease_code,
       vaccine_code, dose_number)
 WHERE a.n IS DISTINCT FROM b.n;
