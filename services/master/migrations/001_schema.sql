-- 001_schema.sql - the master tables (H-8): every row is one immutable version of one
-- business key, effective-dated and numbered from one sequence.
--
-- Run by ss_migrate() as sesshu_master (owner of schema master), in one transaction.
-- Read contract (HELPER-BRIEF / services/master/README.md):
--   valid_from date NOT NULL, valid_to date (NULL = open-ended, inclusive last day),
--   version bigint from master.change_seq (also the change-feed cursor),
--   superseded_at timestamptz (NULL = current knowledge; set once, together with
--   superseded_version, when a newer version replaces or retires the row),
--   source text (MHLW, MUNI, INST, KOKUHOREN, CHUOKAI, OPERATOR, ONSHI, SHUGO, SEED).
-- "As of D" = superseded_at IS NULL AND valid_from <= D AND (valid_to IS NULL OR valid_to >= D).
-- The current versions of one key never overlap in dates: the service writes each master under
-- LOCK TABLE ... SHARE ROW EXCLUSIVE and trims the versions a new one overlaps.

CREATE SEQUENCE master.change_seq;

-- Check digits (docs/domain.md §2), as constraints: the same rules as libs/common codes.c.
CREATE FUNCTION master.muni_code_ok(c text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT c ~ '^[0-9]{6}$'
       AND substr(c, 1, 2)::int BETWEEN 1 AND 47
       AND ((11 - (substr(c,1,1)::int*6 + substr(c,2,1)::int*5 + substr(c,3,1)::int*4
                 + substr(c,4,1)::int*3 + substr(c,5,1)::int*2) % 11) % 10) = substr(c,6,1)::int
$$;

-- Luhn over all digits but the last, checked against the last.
CREATE FUNCTION master.luhn_ok(c text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT c ~ '^[0-9]{2,}$' AND (
        SELECT (10 - sum(CASE WHEN i % 2 = 1
                              THEN (d * 2) / 10 + (d * 2) % 10 ELSE d END) % 10) % 10
          FROM (SELECT i, substr(c, length(c) - i, 1)::int AS d
                  FROM generate_series(1, length(c) - 1) AS i) AS x
    ) = substr(c, length(c), 1)::int
$$;

-- 医療機関コード: 10 digits, digit 3 in {1,3,4} (insurance) or 9 (non-insurance pseudo-code).
CREATE FUNCTION master.inst_code_ok(c text, kind text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT c ~ '^[0-9]{10}$' AND substr(c, 1, 2)::int BETWEEN 1 AND 47 AND master.luhn_ok(c)
       AND CASE kind WHEN 'insurance' THEN substr(c, 3, 1) IN ('1', '3', '4')
                     WHEN 'non_insurance' THEN substr(c, 3, 1) = '9' ELSE false END
$$;

CREATE DOMAIN master.source_t AS text
    CHECK (VALUE IN ('MHLW', 'MUNI', 'INST', 'KOKUHOREN', 'CHUOKAI', 'OPERATOR', 'ONSHI', 'SHUGO', 'SEED'));
CREATE DOMAIN master.pref_t AS char(2) CHECK (VALUE ~ '^(0[1-9]|[1-3][0-9]|4[0-7])$');
CREATE DOMAIN master.text_t AS text CHECK (length(VALUE) BETWEEN 1 AND 200);
CREATE DOMAIN master.code_t AS text CHECK (VALUE ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$');

-- The columns every master shares, as a template other tables copy (LIKE ... INCLUDING ALL).
CREATE TABLE master.version_cols (
    version            bigint NOT NULL DEFAULT nextval('master.change_seq') PRIMARY KEY,
    valid_from         date NOT NULL,
    valid_to           date,
    source             master.source_t NOT NULL,
    superseded_at      timestamptz,
    superseded_version bigint,
    created_at         timestamptz NOT NULL DEFAULT now(),
    created_by         text NOT NULL DEFAULT 'seed',
    CONSTRAINT version_dates CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT version_superseded CHECK ((superseded_at IS NULL) = (superseded_version IS NULL))
);

CREATE TABLE master.prefectures (
    code      master.pref_t NOT NULL,
    name      master.text_t NOT NULL,
    name_kana master.text_t NOT NULL,
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

CREATE TABLE master.kokuhoren (
    prefecture_code master.pref_t NOT NULL,
    name            master.text_t NOT NULL,
    name_kana       text,
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

CREATE TABLE master.municipalities (
    code            char(6) NOT NULL CHECK (master.muni_code_ok(code)),
    name            master.text_t NOT NULL,
    name_kana       master.text_t NOT NULL,
    prefecture_code master.pref_t NOT NULL CHECK (prefecture_code = substr(code, 1, 2)),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

CREATE TABLE master.institutions (
    code            char(10) NOT NULL,
    name            master.text_t NOT NULL,
    name_kana       text CHECK (length(name_kana) <= 200),
    kind            text NOT NULL CHECK (kind IN ('insurance', 'non_insurance')),
    prefecture_code master.pref_t NOT NULL CHECK (prefecture_code = substr(code, 1, 2)),
    address         text CHECK (length(address) <= 400),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version),
    CONSTRAINT institutions_code CHECK (master.inst_code_ok(code, kind))
);

CREATE TABLE master.diseases (
    code      master.code_t NOT NULL,
    name      master.text_t NOT NULL,
    category  text NOT NULL CHECK (category IN ('A', 'B')),
    name_en   text CHECK (length(name_en) <= 200),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

-- code: HOT9 / HOT13 (9 or 13 digits) or a YJ code (12 characters); code_kind says which.
CREATE TABLE master.vaccines (
    code          text NOT NULL CHECK (code ~ '^([0-9]{9}|[0-9]{13}|[0-9]{7}[A-Z0-9]{5})$'),
    code_kind     text NOT NULL DEFAULT 'HOT9' CHECK (code_kind IN ('HOT9', 'HOT13', 'YJ')),
    name          master.text_t NOT NULL,
    manufacturer  master.text_t NOT NULL,
    live          boolean NOT NULL,
    route         text NOT NULL CHECK (route IN ('injection', 'oral', 'percutaneous', 'intranasal')),
    disease_codes text[] NOT NULL CHECK (cardinality(disease_codes) BETWEEN 1 AND 8),
    dose_ml       numeric(5, 2) CHECK (dose_ml > 0),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

-- A dose date D of a person born B is inside the window when
-- B + age_from <= D AND D < B + age_to; dose n needs D >= previous dose + min_interval (and,
-- when set, D >= first dose + min_interval_from_first). A row with vaccine_code applies to that
-- vaccine; a row with vaccine_code NULL to any vaccine against the disease that has no row of
-- its own for that disease. pregnancy weeks are completed weeks, inclusive (28..36 = 28w0d..36w6d).
CREATE TABLE master.schedules (
    code                    master.code_t NOT NULL,
    disease_code            master.code_t NOT NULL,
    vaccine_code            text,
    category                text NOT NULL CHECK (category IN ('A', 'B')),
    dose_number             int NOT NULL CHECK (dose_number BETWEEN 1 AND 20),
    dose_label              master.text_t NOT NULL,
    doses_total             int NOT NULL CHECK (doses_total BETWEEN 1 AND 20),
    age_from                interval NOT NULL,
    age_to                  interval NOT NULL,
    min_interval            interval,
    max_interval            interval,
    min_interval_from_first interval,
    sex                     text CHECK (sex IN ('1', '2')),
    pregnancy_weeks_from    int CHECK (pregnancy_weeks_from BETWEEN 0 AND 45),
    pregnancy_weeks_to      int CHECK (pregnancy_weeks_to BETWEEN 0 AND 45),
    note                    text CHECK (length(note) <= 400),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version),
    CONSTRAINT schedules_dose CHECK (dose_number <= doses_total)
);

CREATE TABLE master.lots (
    vaccine_code text NOT NULL,
    lot_no       text NOT NULL CHECK (lot_no ~ '^[A-Za-z0-9-]{1,20}$'),
    expiry_on    date NOT NULL,
    certified_on date,
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

CREATE TABLE master.unit_prices (
    municipality_code char(6) NOT NULL CHECK (master.muni_code_ok(municipality_code)),
    vaccine_code      text NOT NULL,
    dose_number       int NOT NULL CHECK (dose_number BETWEEN 1 AND 20),
    price_yen         int NOT NULL CHECK (price_yen BETWEEN 0 AND 10000000),
    self_pay_yen      int NOT NULL DEFAULT 0 CHECK (self_pay_yen BETWEEN 0 AND 10000000),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

CREATE TABLE master.collective_contracts (
    contract_code    master.code_t NOT NULL,
    institution_code char(10) NOT NULL CHECK (master.luhn_ok(institution_code)),
    vaccine_code     text NOT NULL,
    price_yen        int NOT NULL CHECK (price_yen BETWEEN 0 AND 10000000),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

-- Zengin codes; name_kana is the half-width kana of the 全銀協 files.
CREATE TABLE master.banks (
    code      char(4) NOT NULL CHECK (code ~ '^[0-9]{4}$'),
    name      master.text_t NOT NULL,
    name_kana text NOT NULL CHECK (length(name_kana) BETWEEN 1 AND 30),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

CREATE TABLE master.bank_branches (
    bank_code char(4) NOT NULL CHECK (bank_code ~ '^[0-9]{4}$'),
    code      char(3) NOT NULL CHECK (code ~ '^[0-9]{3}$'),
    name      master.text_t NOT NULL,
    name_kana text NOT NULL CHECK (length(name_kana) BETWEEN 1 AND 30),
    LIKE master.version_cols INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (version)
);

DROP TABLE master.version_cols;

-- Per table: the current versions by key and start date (as-of reads), and the feed.
CREATE INDEX prefectures_key ON master.prefectures (code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX kokuhoren_key ON master.kokuhoren (prefecture_code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX municipalities_key ON master.municipalities (code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX institutions_key ON master.institutions (code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX diseases_key ON master.diseases (code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX vaccines_key ON master.vaccines (code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX schedules_key ON master.schedules (code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX schedules_disease ON master.schedules (disease_code) WHERE superseded_at IS NULL;
CREATE INDEX lots_key ON master.lots (vaccine_code, lot_no, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX unit_prices_key ON master.unit_prices (municipality_code, vaccine_code, dose_number, valid_from)
    WHERE superseded_at IS NULL;
CREATE INDEX collective_contracts_key ON master.collective_contracts (contract_code, institution_code, vaccine_code, valid_from)
    WHERE superseded_at IS NULL;
CREATE INDEX banks_key ON master.banks (code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX bank_branches_key ON master.bank_branches (bank_code, code, valid_from) WHERE superseded_at IS NULL;
-- History reads by key (all versions) and the feed (version > N, superseded_version > N).
CREATE INDEX institutions_sup ON master.institutions (superseded_version) WHERE superseded_version IS NOT NULL;

-- Every service reads the masters through sesshu_master_reader.
GRANT USAGE ON SCHEMA master TO sesshu_master_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA master TO sesshu_master_reader;
GRANT SELECT ON SEQUENCE master.change_seq TO sesshu_master_reader;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA master TO sesshu_master_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA master GRANT SELECT ON TABLES TO sesshu_master_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA master GRANT EXECUTE ON FUNCTIONS TO sesshu_master_reader;
