-- analytics.sql - GET /api/v1/analytics/immunizations (H-6-1, analytics.c): counts for 厚生労働省
-- grouped by any of up to 6 dimensions, filtered by date ranges and one value per dimension.
--
-- One fixed statement, not one composed per request: every dimension is a column, NULL unless it
-- is named in $1, and grouped by; every filter is `($n IS NULL OR <expr> = $n)`. The parameters
-- are bound when the statement is planned (an unnamed statement: a custom plan), so the planner
-- folds the columns not asked for to NULL and the filters not given away: the plan is the one a
-- statement written for that request would get. A disease dimension or filter counts a record
-- once per disease it prevents (the unnest; otherwise one row '-' a record). The columns are the
-- 15 dimensions in the order below, then count, persons (NULL unless asked) and share (count /
-- the filter's total); rows in the dimensions' order; 10001 rows at most (analytics.c refuses
-- more than 10000 groups).
--
-- Dimensions: vaccinated_on, vaccination_month, fiscal_year (April to March),
-- registration_month*, prefecture_code, municipality_code, disease_code, vaccine_code,
-- dose_number, sex, age_band, birth_month*, category, source, institution_type
-- (* only stats.facts has them).

-- name: stat_analytics_facts
-- Over every fact (one row per record in force): distinct persons, registration dates, birth
-- months.
-- $1 group_by: text[], the dimensions asked for (names of the list above)
-- $2 from: date, or NULL: vaccinated on or after
-- $3 to: date, or NULL: vaccinated on or before
-- $4 registered_from: date, or NULL: registered on or after
-- $5 registered_to: date, or NULL: registered on or before
-- $6 vaccinated_on: text, or NULL: only this value
-- $7 vaccination_month: text, or NULL: only this value
-- $8 fiscal_year: text, or NULL: only this value
-- $9 registration_month: text, or NULL: only this value
-- $10 prefecture_code: text, or NULL: only this value
-- $11 municipality_code: text, or NULL: only this value
-- $12 disease_code: text, or NULL: only this value
-- $13 vaccine_code: text, or NULL: only this value
-- $14 dose_number: text, or NULL: only this value
-- $15 sex: text, or NULL: only this value
-- $16 age_band: text, or NULL: only this value
-- $17 birth_month: text, or NULL: only this value
-- $18 category: text, or NULL: only this value
-- $19 source: text, or NULL: only this value
-- $20 institution_type: text, or NULL: only this value
-- $21 persons: boolean, count distinct persons too
WITH g AS (
    SELECT CASE WHEN 'vaccinated_on' = ANY($1::text[]) THEN f.vaccinated_on::text END AS vaccinated_on,
           CASE WHEN 'vaccination_month' = ANY($1::text[]) THEN to_char(f.vaccinated_on, 'YYYY-MM') END AS vaccination_month,
           CASE WHEN 'fiscal_year' = ANY($1::text[]) THEN extract(year FROM f.vaccinated_on - interval '3 months')::int::text END AS fiscal_year,
           CASE WHEN 'registration_month' = ANY($1::text[]) THEN to_char(f.registered_on, 'YYYY-MM') END AS registration_month,
           CASE WHEN 'prefecture_code' = ANY($1::text[]) THEN f.pref_code::text END AS prefecture_code,
           CASE WHEN 'municipality_code' = ANY($1::text[]) THEN f.muni_code::text END AS municipality_code,
           CASE WHEN 'disease_code' = ANY($1::text[]) THEN d END AS disease_code,
           CASE WHEN 'vaccine_code' = ANY($1::text[]) THEN f.vaccine_code END AS vaccine_code,
           CASE WHEN 'dose_number' = ANY($1::text[]) THEN f.dose_number::text END AS dose_number,
           CASE WHEN 'sex' = ANY($1::text[]) THEN f.sex::text END AS sex,
           CASE WHEN 'age_band' = ANY($1::text[]) THEN f.age_band END AS age_band,
           CASE WHEN 'birth_month' = ANY($1::text[]) THEN f.birth_month::text END AS birth_month,
           CASE WHEN 'category' = ANY($1::text[]) THEN f.category END AS category,
           CASE WHEN 'source' = ANY($1::text[]) THEN f.source END AS source,
           CASE WHEN 'institution_type' = ANY($1::text[]) THEN f.institution_type END AS institution_type,
           count(*) AS n, CASE WHEN $21::boolean THEN count(DISTINCT f.person_key) END AS persons
      FROM stats.facts f
     CROSS JOIN LATERAL unnest(CASE WHEN $12::text IS NOT NULL OR 'disease_code' = ANY($1::text[])
                                    THEN f.disease_codes ELSE '{-}'::text[] END) d
     WHERE f.status <> 'voided'
       AND ($2::date IS NULL OR f.vaccinated_on >= $2::date)
       AND ($3::date IS NULL OR f.vaccinated_on <= $3::date)
       AND ($4::date IS NULL OR f.registered_on >= $4::date)
       AND ($5::date IS NULL OR f.registered_on <= $5::date)
       AND ($6::text IS NULL OR f.vaccinated_on::text = $6)
       AND ($7::text IS NULL OR to_char(f.vaccinated_on, 'YYYY-MM') = $7)
       AND ($8::text IS NULL OR extract(year FROM f.vaccinated_on - interval '3 months')::int::text = $8)
       AND ($9::text IS NULL OR to_char(f.registered_on, 'YYYY-MM') = $9)
       AND ($10::text IS NULL OR f.pref_code::text = $10)
       AND ($11::text IS NULL OR f.muni_code::text = $11)
       AND ($12::text IS NULL OR d = $12)
       AND ($13::text IS NULL OR f.vaccine_code = $13)
       AND ($14::text IS NULL OR f.dose_number::text = $14)
       AND ($15::text IS NULL OR f.sex::text = $15)
       AND ($16::text IS NULL OR f.age_band = $16)
       AND ($17::text IS NULL OR f.birth_month::text = $17)
       AND ($18::text IS NULL OR f.category = $18)
       AND ($19::text IS NULL OR f.source = $19)
       AND ($20::text IS NULL OR f.institution_type = $20)
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
)
SELECT g.vaccinated_on, g.vaccination_month, g.fiscal_year, g.registration_month,
       g.prefecture_code, g.municipality_code, g.disease_code, g.vaccine_code, g.dose_number,
       g.sex, g.age_band, g.birth_month, g.category, g.source, g.institution_type,
       g.n::text, g.persons::text, (g.n::numeric / nullif(sum(g.n) OVER (), 0))::text
  FROM g
 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
 LIMIT 10001;

-- name: stat_analytics_cube
-- Over stats.cube (the records' combinations of the dimensions it has, with their counts, kept by
-- stats.apply_page): the same counts as stat_analytics_facts, without persons and the dimensions
-- marked *, from a fraction of the rows (bench/stats.sh (b)).
-- $1 group_by: text[], the dimensions asked for (names of the list above)
-- $2 from: date, or NULL: vaccinated on or after
-- $3 to: date, or NULL: vaccinated on or before
-- $4 vaccinated_on: text, or NULL: only this value
-- $5 vaccination_month: text, or NULL: only this value
-- $6 fiscal_year: text, or NULL: only this value
-- $7 prefecture_code: text, or NULL: only this value
-- $8 municipality_code: text, or NULL: only this value
-- $9 disease_code: text, or NULL: only this value
-- $10 vaccine_code: text, or NULL: only this value
-- $11 dose_number: text, or NULL: only this value
-- $12 sex: text, or NULL: only this value
-- $13 age_band: text, or NULL: only this value
-- $14 category: text, or NULL: only this value
-- $15 source: text, or NULL: only this value
-- $16 institution_type: text, or NULL: only this value
WITH g AS (
    SELECT CASE WHEN 'vaccinated_on' = ANY($1::text[]) THEN f.vaccinated_on::text END AS vaccinated_on,
           CASE WHEN 'vaccination_month' = ANY($1::text[]) THEN to_char(f.vaccinated_on, 'YYYY-MM') END AS vaccination_month,
           CASE WHEN 'fiscal_year' = ANY($1::text[]) THEN extract(year FROM f.vaccinated_on - interval '3 months')::int::text END AS fiscal_year,
           NULL::text AS registration_month,
           CASE WHEN 'prefecture_code' = ANY($1::text[]) THEN f.pref_code::text END AS prefecture_code,
           CASE WHEN 'municipality_code' = ANY($1::text[]) THEN f.muni_code::text END AS municipality_code,
           CASE WHEN 'disease_code' = ANY($1::text[]) THEN d END AS disease_code,
           CASE WHEN 'vaccine_code' = ANY($1::text[]) THEN f.vaccine_code END AS vaccine_code,
           CASE WHEN 'dose_number' = ANY($1::text[]) THEN f.dose_number::text END AS dose_number,
           CASE WHEN 'sex' = ANY($1::text[]) THEN f.sex::text END AS sex,
           CASE WHEN 'age_band' = ANY($1::text[]) THEN f.age_band END AS age_band,
           NULL::text AS birth_month,
           CASE WHEN 'category' = ANY($1::text[]) THEN f.category END AS category,
           CASE WHEN 'source' = ANY($1::text[]) THEN f.source END AS source,
           CASE WHEN 'institution_type' = ANY($1::text[]) THEN f.institution_type END AS institution_type,
           sum(f.n) AS n, NULL::bigint AS persons
      FROM stats.cube f
     CROSS JOIN LATERAL unnest(CASE WHEN $9::text IS NOT NULL OR 'disease_code' = ANY($1::text[])
                                    THEN f.disease_codes ELSE '{-}'::text[] END) d
     WHERE true
       AND ($2::date IS NULL OR f.vaccinated_on >= $2::date)
       AND ($3::date IS NULL OR f.vaccinated_on <= $3::date)
       AND ($4::text IS NULL OR f.vaccinated_on::text = $4)
       AND ($5::text IS NULL OR to_char(f.vaccinated_on, 'YYYY-MM') = $5)
       AND ($6::text IS NULL OR extract(year FROM f.vaccinated_on - interval '3 months')::int::text = $6)
       AND ($7::text IS NULL OR f.pref_code::text = $7)
       AND ($8::text IS NULL OR f.muni_code::text = $8)
       AND ($9::text IS NULL OR d = $9)
       AND ($10::text IS NULL OR f.vaccine_code = $10)
       AND ($11::text IS NULL OR f.dose_number::text = $11)
       AND ($12::text IS NULL OR f.sex::text = $12)
       AND ($13::text IS NULL OR f.age_band = $13)
       AND ($14::text IS NULL OR f.category = $14)
       AND ($15::text IS NULL OR f.source = $15)
       AND ($16::text IS NULL OR f.institution_type = $16)
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
)
SELECT g.vaccinated_on, g.vaccination_month, g.fiscal_year, g.registration_month,
       g.prefecture_code, g.municipality_code, g.disease_code, g.vaccine_code, g.dose_number,
       g.sex, g.age_band, g.birth_month, g.category, g.source, g.institution_type,
       g.n::text, g.persons::text, (g.n::numeric / nullif(sum(g.n) OVER (), 0))::text
  FROM g
 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
 LIMIT 10001;
