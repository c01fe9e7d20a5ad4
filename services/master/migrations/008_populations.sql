-- 008_populations.sql - the population master (人口, H-6): residents by municipality × sex ×
-- age band (the age bands of the published statistics), the denominators of the coverage the
-- stats service publishes. Edited by 厚生労働省 (every row) and by a municipality (its own rows),
-- through the master API and its CSV import like every master. Demo figures for the demo
-- municipalities (渋谷区, 新宿区, 札幌市), not real census counts.
CREATE TABLE master.populations (
    municipality_code char(6) NOT NULL CHECK (master.muni_code_ok(municipality_code)),
    sex               text NOT NULL CHECK (sex IN ('1', '2')),
    age_band          text NOT NULL CHECK (age_band IN ('0', '1', '2-4', '5-9', '10-14', '15-19',
                      '20-29', '30-39', '40-49', '50-59', '60-69', '70-79', '80-89', '90+')),
    population        int NOT NULL CHECK (population BETWEEN 0 AND 100000000),
    valid_from        date NOT NULL,
    valid_to          date,
    version           bigint NOT NULL DEFAULT nextval('master.change_seq') PRIMARY KEY,
    source            master.source_t NOT NULL,
    superseded_at     timestamptz,
    superseded_version bigint,
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL DEFAULT 'seed',
    CONSTRAINT populations_dates CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT populations_superseded CHECK ((superseded_at IS NULL) = (superseded_version IS NULL))
);
CREATE INDEX populations_key ON master.populations (municipality_code, sex, age_band, valid_from)
    WHERE superseded_at IS NULL;
CREATE INDEX populations_sup ON master.populations (superseded_version)
    WHERE superseded_version IS NOT NULL;
CREATE UNLOGGED TABLE master.stage_populations AS
    SELECT 0::int AS line, * FROM master.populations WITH NO DATA;
GRANT SELECT ON master.populations TO sesshu_master_reader;

INSERT INTO master.populations (municipality_code, sex, age_band, population, valid_from, source)
SELECT m.code, s.sex, b.band, round(m.total * b.share * s.share)::int, '2024-01-01', 'MHLW'
  FROM (VALUES ('131130', 230000), ('131041', 350000), ('011002', 1960000)) AS m (code, total)
 CROSS JOIN (VALUES ('1', 0.48), ('2', 0.52)) AS s (sex, share)
 CROSS JOIN (VALUES ('0', 0.006), ('1', 0.006), ('2-4', 0.02), ('5-9', 0.037), ('10-14', 0.04),
                    ('15-19', 0.043), ('20-29', 0.10), ('30-39', 0.11), ('40-49', 0.14),
                    ('50-59', 0.15), ('60-69', 0.12), ('70-79', 0.13), ('80-89', 0.08),
                    ('90+', 0.018)) AS b (band, share);
INSERT INTO master.table_state (name, last_change)
VALUES ('populations', (SELECT last_value FROM master.change_seq));
