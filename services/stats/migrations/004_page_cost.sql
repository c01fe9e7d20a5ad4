-- 004_page_cost.sql - stats.apply_page again, after profiling one feed page statement by
-- statement (bench/stats.sh SESSHU_BENCH_PROFILE=1, services/stats/README.md "What a refresh
-- costs"): the three DELETEs of emptied cells each scanned the whole count table (a seq scan
-- filtered on n = 0, estimated one row, chosen over looking up the page's keys, which the
-- planner guessed at 2000 for the never-analysed stats.page_old), even when the page changed no
-- record it had counted before (new records: page_old empty, the usual case). Now what a page
-- takes out (the three UPDATEs and the three DELETEs) runs only when it holds records counted
-- before, and page_old is analysed first (a few rows), so those statements use the keys. And
-- the two page tables are truncated once a page, not twice.
CREATE OR REPLACE FUNCTION stats.apply_page(items jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    applied integer;
    changed integer;
BEGIN
    -- TRUNCATE, not DELETE: deleted rows stay until a vacuum, and every statement below scans
    -- these tables, so a refresh of N pages cost N² (bench/stats.sh, 400 pages).
    TRUNCATE stats.page_new, stats.page_old;
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
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        -- Its true size, so that the statements below look the page's keys up in the count
        -- tables' primary keys; the default guess for a table never analysed (ten pages' worth)
        -- made a scan of every cell the cheaper plan.
        ANALYZE stats.page_old;
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

        UPDATE stats.cube c SET n = c.n - o.n
          FROM (SELECT vaccinated_on, muni_code, vaccine_code, disease_codes, dose_number, sex,
                       age_band, category, source, institution_type, count(*) AS n
                  FROM stats.page_old GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10) o
         WHERE (c.vaccinated_on, c.muni_code, c.vaccine_code, c.disease_codes, c.dose_number, c.sex,
                c.age_band, c.category, c.source, c.institution_type)
             = (o.vaccinated_on, o.muni_code, o.vaccine_code, o.disease_codes, o.dose_number, o.sex,
                o.age_band, o.category, o.source, o.institution_type);
    END IF;

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

    INSERT INTO stats.cube AS c
    SELECT vaccinated_on, muni_code, pref_code, vaccine_code, disease_codes, dose_number, sex,
           age_band, category, source, institution_type, count(*)
      FROM stats.page_new WHERE status <> 'voided'
     GROUP BY vaccinated_on, muni_code, pref_code, vaccine_code, disease_codes, dose_number, sex,
              age_band, category, source, institution_type
    ON CONFLICT (vaccinated_on, muni_code, vaccine_code, disease_codes, dose_number, sex, age_band,
                 category, source, institution_type)
    DO UPDATE SET n = c.n + excluded.n;

    IF changed > 0 THEN
        -- Only the keys this page took from can have come to zero: look those up, never scan.
        DELETE FROM stats.cells c
         USING (SELECT DISTINCT o.vaccinated_on, o.muni_code, d AS disease_code, o.vaccine_code,
                       o.dose_number, o.sex, o.age_band
                  FROM stats.page_old o CROSS JOIN LATERAL unnest(o.disease_codes) d) o
         WHERE c.n = 0 AND c.vaccinated_on = o.vaccinated_on AND c.muni_code = o.muni_code
           AND c.disease_code = o.disease_code AND c.vaccine_code = o.vaccine_code
           AND c.dose_number = o.dose_number AND c.sex = o.sex AND c.age_band = o.age_band;
        DELETE FROM stats.reg_cells c
         USING (SELECT DISTINCT o.registered_on, o.pref_code, d AS disease_code, o.vaccine_code,
                       o.dose_number
                  FROM stats.page_old o CROSS JOIN LATERAL unnest(o.disease_codes) d) o
         WHERE c.n = 0 AND c.registered_on = o.registered_on AND c.pref_code = o.pref_code
           AND c.disease_code = o.disease_code AND c.vaccine_code = o.vaccine_code
           AND c.dose_number = o.dose_number;
        DELETE FROM stats.cube c USING (SELECT DISTINCT vaccinated_on, muni_code, vaccine_code, disease_codes, dose_number, sex, age_band, category, source, institution_type FROM stats.page_old) o
         WHERE c.n = 0 AND (c.vaccinated_on, c.muni_code, c.vaccine_code, c.disease_codes,
                            c.dose_number, c.sex, c.age_band, c.category, c.source, c.institution_type)
             = (o.vaccinated_on, o.muni_code, o.vaccine_code, o.disease_codes, o.dose_number, o.sex,
                o.age_band, o.category, o.source, o.institution_type);
    END IF;
    -- No TRUNCATE here as well: the next page's clears them, and each TRUNCATE of an unlogged
    -- table costs a new file and an fsync of its init fork. The rows left are this page's.
    RETURN applied;
END
$$;
