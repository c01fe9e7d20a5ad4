-- 007_rules.sql - the vaccination rules as law-shaped master data (issue 17,
-- docs/rules.md):
--   * master.rules: one row per named rule (code, effect, field, statement in Japanese and English,
--     source, parameter), effective-dated like every master and edited by 厚生労働省 through H-8;
--   * the date arithmetic of docs/rules.md §4 as SQL functions, the one place every check, the
--     forecast and the tests use (生後n月に至った日, 翌日起算 day intervals, 翌月同日 month
--     intervals, 年度末年齢);
--   * vaccines.live_injected: which products count as 注射生ワクチン (BCG does, although
--     percutaneous), a master attribute instead of a route string;
--   * schedules: windows inclusive at both ends (`age_on(B, age_from) <= D <= age_on(B, age_to)`),
--     fiscal-year windows by 年度末年齢 (fy_age_from/to/step), once-per rules (once_per);
--   * the shipped rows re-issued as new versions (the old ones superseded, not edited): products
--     effective from their approval, schedules from when each became 定期, FY2026 changes
--     (高齢者肺炎球菌 PCV20 from 2026-04-01, HPV 2価/4価 until 2026-03-31, 帯状疱疹 経過措置).
-- Dates of approval are approximate (month of approval or launch, [A]); the ministry corrects them
-- through H-8 from the 添付文書.

-- ---- date arithmetic (docs/rules.md §4) ---------------------------------------------------------

-- The same day n months after d; when that day does not exist, the 1st of the following month
-- (PostgreSQL clamps to the month's last day: one day more is the 1st of the next month).
CREATE FUNCTION master.same_day_later(d date, n int) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ((d + make_interval(months => n))::date
            + (extract(day FROM d + make_interval(months => n)) < extract(day FROM d))::int)
$$;

-- The day a person born b reaches an age written as an interval: months or years (生後n月に至った
-- 日 = the day before the same date n months later, n歳に達した日 = the day before the birthday),
-- plus any days; weeks and days alone count from birth (出生n週0日後 = b + 7n).
CREATE FUNCTION master.age_on(b date, age interval) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN extract(year FROM age) * 12 + extract(month FROM age) = 0
                THEN b + extract(day FROM age)::int
                ELSE master.same_day_later(b, (extract(year FROM age) * 12
                     + extract(month FROM age))::int) - 1 + extract(day FROM age)::int END
$$;

-- The earliest day of the next dose after a dose on d with "iv以上の間隔": N日 counts from the
-- next day (中N日, 翌日起算: d + N + 1); N月 is the same date N months later (or the 1st of the
-- following month); N月 and M日 together (月半) add the days to that.
CREATE FUNCTION master.after_interval(d date, iv interval) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN extract(year FROM iv) * 12 + extract(month FROM iv) = 0
                THEN d + extract(day FROM iv)::int + 1
                ELSE master.same_day_later(d, (extract(year FROM iv) * 12
                     + extract(month FROM iv))::int) + extract(day FROM iv)::int END
$$;

-- The latest day of a dose that must come within iv after d (inclusive).
CREATE FUNCTION master.within_interval(d date, iv interval) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT master.after_interval(d, iv) - 1
$$;

-- 年度末年齢: the age on 31 March of the fiscal year of t for a person born b. The school year of
-- b (学年) is b's year, or the year before for 1 January .. 1 April (born 04-01: earlier year).
CREATE FUNCTION master.fy_age(b date, t date) RETURNS int
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (extract(year FROM t - interval '3 months')
            - extract(year FROM (b - 1) - interval '3 months'))::int
$$;

-- The fiscal year (April to March) of a date.
CREATE FUNCTION master.fiscal_year(t date) RETURNS int
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT extract(year FROM t - interval '3 months')::int
$$;

-- Today in Japan: every "today", default and "as of" of the rules (not the server's time zone).
CREATE FUNCTION master.today_jp() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (now() AT TIME ZONE 'Asia/Tokyo')::date
$$;

-- ---- the rules --------------------------------------------------------------------------------

-- effect: refuse (422, nothing written), duplicate (409), voluntary (recorded, but not 定期: 任意,
-- not claimable, flagged), unclaimable (定期 but not claimed by this municipality, flagged), flag
-- (recorded as asked, flagged for review). param_days / param_interval: the rule's number, when it
-- has one (the schedules hold the per-dose numbers).
CREATE TABLE master.rules (
    code           text NOT NULL CHECK (code ~ '^R-[A-Z0-9-]{2,40}$'),
    effect         text NOT NULL CHECK (effect IN ('refuse', 'duplicate', 'voluntary', 'unclaimable', 'flag')),
    field          text NOT NULL CHECK (length(field) BETWEEN 1 AND 40),
    statement_ja   text NOT NULL CHECK (length(statement_ja) BETWEEN 1 AND 400),
    statement_en   text NOT NULL CHECK (length(statement_en) BETWEEN 1 AND 400),
    source_ref     text NOT NULL CHECK (length(source_ref) BETWEEN 1 AND 400),
    param_days     int CHECK (param_days BETWEEN 0 AND 36500),
    valid_from     date NOT NULL,
    valid_to       date,
    version        bigint NOT NULL DEFAULT nextval('master.change_seq') PRIMARY KEY,
    source         master.source_t NOT NULL,
    superseded_at  timestamptz,
    superseded_version bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL DEFAULT 'seed',
    CONSTRAINT rules_dates CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT rules_superseded CHECK ((superseded_at IS NULL) = (superseded_version IS NULL))
);
CREATE INDEX rules_key ON master.rules (code, valid_from) WHERE superseded_at IS NULL;
CREATE INDEX rules_sup ON master.rules (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE UNLOGGED TABLE master.stage_rules AS SELECT 0::int AS line, * FROM master.rules WITH NO DATA;
REVOKE ALL ON master.stage_rules FROM sesshu_master_reader;

INSERT INTO master.rules (code, effect, field, statement_ja, statement_en, source_ref, param_days, valid_from, source) VALUES
 ('R-PERSON', 'refuse', 'person_id', '記録は自らの住民、又は本人確認をした受診者についてのみ登録できる。', 'A record is registered only for a resident of yours or a patient you identified.', 'H-3 (運用)', NULL, '1900-01-01', 'MHLW'),
 ('R-DATE-FUTURE', 'refuse', 'vaccinated_on', '接種日は日本時間の今日以前でなければならない。', 'The vaccination date is not after today in Japan (Asia/Tokyo).', 'SCHEDULE.md §6 [A]', NULL, '1900-01-01', 'MHLW'),
 ('R-DATE-BIRTH', 'refuse', 'vaccinated_on', '接種日は出生日以後でなければならない。', 'The vaccination date is not before the date of birth.', 'SCHEDULE.md §6 [A]', NULL, '1900-01-01', 'MHLW'),
 ('R-DATE-DEATH', 'refuse', 'vaccinated_on', '死亡日より後の日付の接種は登録できない。', 'Nothing is dated after the person''s death.', 'SCHEDULE.md §6 [A]', NULL, '1900-01-01', 'MHLW'),
 ('R-VACCINE-MASTER', 'refuse', 'vaccine_code', 'ワクチンは接種日に有効な（承認済みの）製剤でなければならない。', 'The product is one of the vaccine master on the vaccination date (approved by then).', 'H-8 ワクチンマスタ', NULL, '1900-01-01', 'MHLW'),
 ('R-DISEASE-PRODUCT', 'refuse', 'disease_codes', '対象疾病は当該製剤が予防するものに限る。', 'The diseases named are ones the product prevents.', 'H-8 ワクチンマスタ', NULL, '1900-01-01', 'MHLW'),
 ('R-LOT-REQUIRED', 'refuse', 'lot_no', 'ロット番号は必須（海外での接種、母子健康手帳・他自治体からの履歴を除く）。', 'The lot number is required (except doses abroad and history from a handbook or another municipality).', '予防接種法施行規則 §3', NULL, '1900-01-01', 'MHLW'),
 ('R-LOT-PRODUCT', 'refuse', 'lot_no', 'ロットは当該製剤のロットマスタに存在しなければならない（履歴は不明なロットを注記して受け付ける）。', 'The lot is a lot of this product in the lot master (history with an unknown lot is recorded and flagged).', 'H-8 ロットマスタ', NULL, '1900-01-01', 'MHLW'),
 ('R-LOT-EXPIRED', 'refuse', 'lot_no', '有効期限を過ぎたロットは使用できない（期限日当日までは可）。', 'A lot is used up to and including its expiry date.', '医薬品医療機器等法', NULL, '1900-01-01', 'MHLW'),
 ('R-LOT-CERTIFIED', 'refuse', 'lot_no', '国家検定合格日より前にロットは使用できない。', 'A lot is not used before it passed the national lot release (国家検定).', '医薬品医療機器等法 §43', NULL, '1900-01-01', 'MHLW'),
 ('R-LOT-UNVERIFIED', 'flag', 'lot_no', '履歴のロットがロットマスタにない場合は注記する。', 'A history dose whose lot is not in the lot master is flagged.', 'SCHEDULE.md §5 [A]', NULL, '1900-01-01', 'MHLW'),
 ('R-INSTITUTION-MASTER', 'refuse', 'institution_code', '医療機関は接種日に医療機関マスタに存在しなければならない。', 'The institution is one of the institution master on the vaccination date.', 'H-8 医療機関マスタ', NULL, '1900-01-01', 'MHLW'),
 ('R-DOSE-ORDER', 'refuse', 'vaccinated_on', '第n回は第n-1回より後の日、第n+1回より前の日でなければならない。', 'Dose n is dated after dose n-1 and before dose n+1 of the same disease.', 'SCHEDULE.md §5', NULL, '1900-01-01', 'MHLW'),
 ('R-DOSE-PREV-MISSING', 'flag', 'dose_number', '前の回・期が記録されていなくても、年齢で定まる期の接種は定期接種となる（未記録を注記する）。', 'A missing earlier dose or 期 does not block a dose whose 期 the law defines by age; it is flagged.', '予防接種法施行令 §3; SCHEDULE.md §5', NULL, '1900-01-01', 'MHLW'),
 ('R-DUPLICATE', 'duplicate', 'dose_number', '同じ疾病の同じ回、又は同じ製剤の同日の接種は重複。', 'The same dose of the same disease, or the same product on the same day, is a duplicate.', 'SCHEDULE.md §6', NULL, '1900-01-01', 'MHLW'),
 ('R-ONCE-FY', 'duplicate', 'dose_number', 'インフルエンザ・新型コロナ（B類）は年度に1回。', 'Influenza and COVID-19 (B類) count once per fiscal year.', '予防接種法施行令 §3; SCHEDULE.md §6', NULL, '1900-01-01', 'MHLW'),
 ('R-ONCE-PREGNANCY', 'duplicate', 'pregnancy_weeks', 'RSウイルス（妊婦）は妊娠ごとに1回（生涯1回ではない）。', 'RSV for pregnant women counts once per pregnancy, not once per life.', '第64回予防接種・ワクチン分科会 資料2', 280, '2026-04-01', 'MHLW'),
 ('R-RSV-PREGNANCY', 'refuse', 'pregnancy_weeks', 'RSウイルス（妊婦）の接種には女性であることと妊娠週数が必要。', 'An RSV vaccination of a pregnant woman needs a female person and the weeks of pregnancy.', 'SCHEDULE.md §2.11, §6 [A]', NULL, '2026-04-01', 'MHLW'),
 ('R-WINDOW', 'voluntary', 'vaccinated_on', '対象年齢・年度・性別・妊娠週数の範囲外の接種は定期接種ではない（任意接種として記録）。範囲は両端を含む。', 'A dose outside the age, fiscal-year, sex or pregnancy window is not 定期 (recorded as 任意); windows include both ends.', '予防接種法施行令 §3; 事務連絡 2014-03-11', NULL, '1900-01-01', 'MHLW'),
 ('R-PRODUCT-ROUTINE', 'voluntary', 'vaccine_code', '接種日に当該製剤・回数の定期接種のスケジュールがなければ定期接種ではない（例: 2026-04-01以後の PPSV23、B型肝炎4回目）。', 'Without a 定期 schedule row for the product and dose on the vaccination date the dose is 任意 (e.g. PPSV23 from 2026-04-01, a 4th HepB dose).', '予防接種法施行規則; 第64回分科会 資料2', NULL, '1900-01-01', 'MHLW'),
 ('R-INTERVAL-MIN', 'voluntary', 'vaccinated_on', '「N日以上の間隔」は翌日起算（次回は d+N+1 日から）、「N月以上」は翌月同日（ない場合は翌月1日）から。不足すれば定期接種ではない。', '"N days or more" counts from the next day (next dose from d+N+1); "N months or more" from the same date N months later (or the 1st of the next month). A dose short of it is not 定期.', '予防接種基本方針部会 第52回 資料5 p.20', NULL, '1900-01-01', 'MHLW'),
 ('R-INTERVAL-FIRST', 'voluntary', 'vaccinated_on', '初回接種からの最短間隔（B型肝炎3回目: 1回目から139日以上）に満たなければ定期接種ではない。', 'A dose short of its minimum interval from dose 1 (HepB dose 3: 139 days after dose 1) is not 定期.', '予防接種法施行令 §3; 実施要領', NULL, '1900-01-01', 'MHLW'),
 ('R-INTERVAL-MAX', 'voluntary', 'vaccinated_on', 'スケジュールに最長間隔がある場合、それを超えた接種は定期接種ではない。', 'Where a schedule row sets a longest interval, a dose after it is not 定期.', 'H-8 接種スケジュール max_interval', NULL, '1900-01-01', 'MHLW'),
 ('R-LIVE-INJ-27D', 'voluntary', 'vaccinated_on', '注射生ワクチンの接種後、異なる注射生ワクチンは27日以上の間隔をおく（翌日起算）。同日接種は可。', 'After an injected live vaccine, another injected live vaccine waits 27 days or more (from the next day); the same day is allowed.', '定期接種実施要領 (2020-10-01 改正)', 27, '1900-01-01', 'MHLW'),
 ('R-MOVED-OUT', 'unclaimable', 'vaccinated_on', '転出後の接種について、転出元の市町村は費用負担者とならない。', 'After a move-out, the former municipality is not the payer.', '予防接種法 §5 (市町村長が行う)', NULL, '1900-01-01', 'MHLW');

-- ---- vaccines: 注射生ワクチン as an attribute; products from their approval --------------------

ALTER TABLE master.vaccines ADD COLUMN live_injected boolean;
ALTER TABLE master.stage_vaccines ADD COLUMN live_injected boolean;
COMMENT ON COLUMN master.vaccines.live_injected IS
    '注射生ワクチン for the 27-day rule (MR, 麻しん, 風しん, 水痘, BCG, おたふくかぜ, 黄熱); NULL = false';

-- Re-issue every shipped product as a new version, then supersede the old one.
CREATE TABLE master.v_new AS SELECT * FROM master.vaccines WITH NO DATA;
INSERT INTO master.v_new (code, code_kind, name, manufacturer, live, route, disease_codes, dose_ml, live_injected, valid_from, valid_to, source)
SELECT v.code, v.code_kind, v.name, v.manufacturer, v.live, v.route,
       coalesce(x.diseases, v.disease_codes), v.dose_ml,
       v.live AND (v.route = 'injection' OR v.code = '631300801'),
       x.approved, NULL, v.source
  FROM master.vaccines v
  JOIN (VALUES ('631300101', DATE '2023-03-27', NULL::text[]), ('631300201', '2023-03-27', NULL),
               ('631300301', '2012-07-27', NULL), ('631300401', '2015-03-26', NULL),
               ('631300501', '1968-01-01', NULL), ('631300601', '2005-10-01', NULL),
               ('631300701', '2005-10-01', NULL), ('631300801', '1949-01-01', NULL),
               ('631300901', '2007-01-26', NULL),
               ('631301001', '2022-09-26', ARRAY['pneumo_child', 'pneumo_elderly']),
               ('631301101', '2022-09-26', NULL), ('631301201', '1988-01-01', NULL),
               ('631301301', '1985-01-01', NULL), ('631301401', '2011-07-01', NULL),
               ('631301501', '2012-01-18', NULL), ('631301601', '1986-01-01', NULL),
               ('631301701', '2009-02-23', NULL), ('631301801', '2011-01-21', NULL),
               ('631301901', '2020-07-21', NULL), ('631302001', '2009-10-16', NULL),
               ('631302101', '2024-01-18', NULL), ('631302201', '1972-01-01', NULL),
               ('631302301', '1972-01-01', NULL), ('631302401', '1988-01-01', NULL),
               ('182110901', '2021-02-14', NULL), ('631302501', '2021-05-21', NULL),
               ('631302601', '2023-08-02', NULL), ('631302701', '2018-03-23', NULL))
       AS x (code, approved, diseases) ON x.code = v.code
 WHERE v.superseded_at IS NULL AND v.created_by = 'seed';
INSERT INTO master.v_new (code, code_kind, name, manufacturer, live, route, disease_codes, dose_ml, live_injected, valid_from, valid_to, source) VALUES
    ('631302801', 'HOT9', 'ガーダシル水性懸濁筋注シリンジ', 'MSD', false, 'injection', ARRAY['hpv'], 0.5, false, '2011-07-01', NULL, 'MHLW'),
    ('631302901', 'HOT9', '乾燥弱毒生おたふくかぜワクチン「第一三共」', '第一三共', true, 'injection', ARRAY['mumps'], 0.5, true, '1989-01-01', NULL, 'MHLW');
INSERT INTO master.diseases (code, name, category, name_en, valid_from, source) VALUES
    ('mumps', 'おたふくかぜ（任意）', 'B', 'Mumps (voluntary only)', '1989-01-01', 'MHLW');
WITH old AS (SELECT v.version FROM master.vaccines v JOIN master.v_new n ON n.code = v.code
              WHERE v.superseded_at IS NULL),
     ins AS (INSERT INTO master.vaccines (code, code_kind, name, manufacturer, live, route, disease_codes, dose_ml, live_injected, valid_from, valid_to, source)
             SELECT code, code_kind, name, manufacturer, live, route, disease_codes, dose_ml, live_injected, valid_from, valid_to, source
               FROM master.v_new RETURNING code, version)
UPDATE master.vaccines v SET superseded_at = now(), superseded_version = ins.version
  FROM ins WHERE ins.code = v.code AND v.version IN (SELECT version FROM old);

-- ---- lots: dates of the shipped sample lots are theirs; nothing to re-issue -------------------

-- ---- schedules ----------------------------------------------------------------------------------

ALTER TABLE master.schedules ADD COLUMN fy_age_from int CHECK (fy_age_from BETWEEN 0 AND 150),
    ADD COLUMN fy_age_to int CHECK (fy_age_to BETWEEN 0 AND 150),
    ADD COLUMN fy_age_step int CHECK (fy_age_step BETWEEN 1 AND 50),
    ADD COLUMN once_per text CHECK (once_per IN ('life', 'fiscal_year', 'pregnancy')),
    ADD CONSTRAINT schedules_fy CHECK ((fy_age_from IS NULL) = (fy_age_to IS NULL));
ALTER TABLE master.stage_schedules ADD COLUMN fy_age_from int, ADD COLUMN fy_age_to int,
    ADD COLUMN fy_age_step int, ADD COLUMN once_per text;
COMMENT ON COLUMN master.schedules.age_from IS
    'first day of the window: master.age_on(birth, age_from) (生後n月に至った日, n歳に達した日, 出生n週0日後)';
COMMENT ON COLUMN master.schedules.age_to IS 'last day of the window, inclusive: master.age_on(birth, age_to)';
COMMENT ON COLUMN master.schedules.fy_age_from IS
    '年度末年齢 window: fy_age_from <= master.fy_age(birth, D) <= fy_age_to, every fy_age_step years';
COMMENT ON COLUMN master.schedules.max_interval IS
    'latest day after the previous dose (master.within_interval); later is not 定期 (R-INTERVAL-MAX)';

-- Every shipped schedule row is superseded and re-issued below (windows are now inclusive at both
-- ends, computed by master.age_on).
CREATE TABLE master.s_new AS SELECT * FROM master.schedules WITH NO DATA;
INSERT INTO master.s_new (code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total,
    age_from, age_to, min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from, pregnancy_weeks_to,
    fy_age_from, fy_age_to, fy_age_step, once_per, note, valid_from, valid_to, source) VALUES
    -- ジフテリア・百日せき・破傷風・ポリオ 1期 (5種/4種), DT 2期 (docs/rules.md §5)
    ('diphtheria-1', 'diphtheria', NULL, 'A', 1, '第1期初回1回目', 5, '2 mons', '90 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後2月から90月に至るまで（標準: 生後2月から7月）', '1994-10-01', NULL, 'MHLW'),
    ('diphtheria-2', 'diphtheria', NULL, 'A', 2, '第1期初回2回目', 5, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '20日以上（標準20～56日）', '1994-10-01', NULL, 'MHLW'),
    ('diphtheria-3', 'diphtheria', NULL, 'A', 3, '第1期初回3回目', 5, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '20日以上（標準20～56日）', '1994-10-01', NULL, 'MHLW'),
    ('diphtheria-4', 'diphtheria', NULL, 'A', 4, '第1期追加', 5, '2 mons', '90 mons', '6 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '初回3回目から6月以上（標準6～18月）', '1994-10-01', NULL, 'MHLW'),
    ('diphtheria-5', 'diphtheria', '631300501', 'A', 5, '第2期', 5, '11 years', '13 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'DT 2期: 11歳以上13歳未満（標準11歳）; 1期の記録は不要', '1994-10-01', NULL, 'MHLW'),
    ('pertussis-1', 'pertussis', NULL, 'A', 1, '第1期初回1回目', 4, '2 mons', '90 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後2月から90月に至るまで', '1994-10-01', NULL, 'MHLW'),
    ('pertussis-2', 'pertussis', NULL, 'A', 2, '第1期初回2回目', 4, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '20日以上（標準20～56日）', '1994-10-01', NULL, 'MHLW'),
    ('pertussis-3', 'pertussis', NULL, 'A', 3, '第1期初回3回目', 4, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '20日以上（標準20～56日）', '1994-10-01', NULL, 'MHLW'),
    ('pertussis-4', 'pertussis', NULL, 'A', 4, '第1期追加', 4, '2 mons', '90 mons', '6 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '初回3回目から6月以上', '1994-10-01', NULL, 'MHLW'),
    ('tetanus-1', 'tetanus', NULL, 'A', 1, '第1期初回1回目', 5, '2 mons', '90 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後2月から90月に至るまで', '1994-10-01', NULL, 'MHLW'),
    ('tetanus-2', 'tetanus', NULL, 'A', 2, '第1期初回2回目', 5, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '20日以上（標準20～56日）', '1994-10-01', NULL, 'MHLW'),
    ('tetanus-3', 'tetanus', NULL, 'A', 3, '第1期初回3回目', 5, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '20日以上（標準20～56日）', '1994-10-01', NULL, 'MHLW'),
    ('tetanus-4', 'tetanus', NULL, 'A', 4, '第1期追加', 5, '2 mons', '90 mons', '6 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '初回3回目から6月以上', '1994-10-01', NULL, 'MHLW'),
    ('tetanus-5', 'tetanus', '631300501', 'A', 5, '第2期', 5, '11 years', '13 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'DT 2期: 11歳以上13歳未満（標準11歳）', '1994-10-01', NULL, 'MHLW'),
    ('polio-1', 'polio', NULL, 'A', 1, '第1期初回1回目', 4, '2 mons', '90 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後2月から90月に至るまで', '2012-09-01', NULL, 'MHLW'),
    ('polio-2', 'polio', NULL, 'A', 2, '第1期初回2回目', 4, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '20日以上（標準20～56日）', '2012-09-01', NULL, 'MHLW'),
    ('polio-3', 'polio', NULL, 'A', 3, '第1期初回3回目', 4, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '20日以上（標準20～56日）', '2012-09-01', NULL, 'MHLW'),
    ('polio-4', 'polio', NULL, 'A', 4, '第1期追加', 4, '2 mons', '90 mons', '6 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '初回3回目から6月以上', '2012-09-01', NULL, 'MHLW'),
    -- Hib: as part of 5種 up to 生後90月 [uncertain wording], alone up to 生後60月 (§2.2)
    ('hib-gobik-1', 'hib', '631300101', 'A', 1, '初回1回目', 4, '2 mons', '90 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5種混合として接種', '2024-04-01', NULL, 'MHLW'),
    ('hib-gobik-2', 'hib', '631300101', 'A', 2, '初回2回目', 4, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5種混合として接種', '2024-04-01', NULL, 'MHLW'),
    ('hib-gobik-3', 'hib', '631300101', 'A', 3, '初回3回目', 4, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5種混合として接種', '2024-04-01', NULL, 'MHLW'),
    ('hib-gobik-4', 'hib', '631300101', 'A', 4, '追加', 4, '2 mons', '90 mons', '6 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5種混合として接種', '2024-04-01', NULL, 'MHLW'),
    ('hib-quinto-1', 'hib', '631300201', 'A', 1, '初回1回目', 4, '2 mons', '90 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5種混合として接種', '2024-04-01', NULL, 'MHLW'),
    ('hib-quinto-2', 'hib', '631300201', 'A', 2, '初回2回目', 4, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5種混合として接種', '2024-04-01', NULL, 'MHLW'),
    ('hib-quinto-3', 'hib', '631300201', 'A', 3, '初回3回目', 4, '2 mons', '90 mons', '20 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5種混合として接種', '2024-04-01', NULL, 'MHLW'),
    ('hib-quinto-4', 'hib', '631300201', 'A', 4, '追加', 4, '2 mons', '90 mons', '6 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5種混合として接種', '2024-04-01', NULL, 'MHLW'),
    ('hib-1', 'hib', '631300901', 'A', 1, '初回1回目', 4, '2 mons', '60 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '単独Hib', '2013-04-01', NULL, 'MHLW'),
    ('hib-2', 'hib', '631300901', 'A', 2, '初回2回目', 4, '2 mons', '12 mons', '27 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '27日以上（標準27～56日）; 初回2回目・3回目は生後12月に至るまで', '2013-04-01', NULL, 'MHLW'),
    ('hib-3', 'hib', '631300901', 'A', 3, '初回3回目', 4, '2 mons', '12 mons', '27 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '27日以上; 生後12月に至るまで', '2013-04-01', NULL, 'MHLW'),
    ('hib-4', 'hib', '631300901', 'A', 4, '追加', 4, '2 mons', '60 mons', '7 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '初回終了後7月以上（標準7～13月）', '2013-04-01', NULL, 'MHLW'),
    -- 結核 BCG (§2.6)
    ('tb-1', 'tb', NULL, 'A', 1, '1回', 1, '0 days', '12 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '1歳に至るまで（標準: 生後5月から8月）', '2013-04-01', NULL, 'MHLW'),
    -- 麻しん・風しん (§2.7): 2期 = 5歳以上7歳未満 and the year before primary school (年度末年齢 6)
    ('measles-1', 'measles', NULL, 'A', 1, '第1期', 2, '12 mons', '24 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後12月から24月に至るまで', '2006-04-01', NULL, 'MHLW'),
    ('measles-2', 'measles', NULL, 'A', 2, '第2期', 2, '5 years', '7 years', NULL, NULL, NULL, NULL, NULL, NULL, 6, 6, NULL, NULL, '小学校就学前の1年間（年長）; 1期の記録は不要', '2006-04-01', NULL, 'MHLW'),
    ('rubella-1', 'rubella', NULL, 'A', 1, '第1期', 2, '12 mons', '24 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後12月から24月に至るまで', '2006-04-01', NULL, 'MHLW'),
    ('rubella-2', 'rubella', NULL, 'A', 2, '第2期', 2, '5 years', '7 years', NULL, NULL, NULL, NULL, NULL, NULL, 6, 6, NULL, NULL, '小学校就学前の1年間（年長）; 1期の記録は不要', '2006-04-01', NULL, 'MHLW'),
    -- 小児の肺炎球菌 (§2.3; PCV20 basic from 2024-10-01, PCV15 stays)
    ('pneumo_child-1', 'pneumo_child', NULL, 'A', 1, '初回1回目', 4, '2 mons', '60 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後2月から60月に至るまで', '2013-04-01', NULL, 'MHLW'),
    ('pneumo_child-2', 'pneumo_child', NULL, 'A', 2, '初回2回目', 4, '2 mons', '24 mons', '27 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '27日以上; 初回は生後24月に至るまで', '2013-04-01', NULL, 'MHLW'),
    ('pneumo_child-3', 'pneumo_child', NULL, 'A', 3, '初回3回目', 4, '2 mons', '24 mons', '27 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '27日以上; 初回は生後24月に至るまで', '2013-04-01', NULL, 'MHLW'),
    ('pneumo_child-4', 'pneumo_child', NULL, 'A', 4, '追加', 4, '12 mons', '60 mons', '60 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '初回終了後60日以上かつ生後12月以降', '2013-04-01', NULL, 'MHLW'),
    -- B型肝炎 (§2.4)
    ('hepb-1', 'hepb', NULL, 'A', 1, '1回目', 3, '0 days', '12 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '1歳に至るまで（標準: 生後2月から9月）', '2016-10-01', NULL, 'MHLW'),
    ('hepb-2', 'hepb', NULL, 'A', 2, '2回目', 3, '0 days', '12 mons', '27 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '27日以上', '2016-10-01', NULL, 'MHLW'),
    ('hepb-3', 'hepb', NULL, 'A', 3, '3回目', 3, '0 days', '12 mons', NULL, NULL, '139 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '1回目から139日以上', '2016-10-01', NULL, 'MHLW'),
    -- ロタ (§2.5): 出生6週0日後から24週0日後（1価）/32週0日後（5価）まで
    ('rota-rotarix-1', 'rota', '631301401', 'A', 1, '1回目', 2, '6 weeks', '24 weeks', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '出生6週0日後から24週0日後まで', '2020-10-01', NULL, 'MHLW'),
    ('rota-rotarix-2', 'rota', '631301401', 'A', 2, '2回目', 2, '6 weeks', '24 weeks', '27 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '27日以上', '2020-10-01', NULL, 'MHLW'),
    ('rota-rotateq-1', 'rota', '631301501', 'A', 1, '1回目', 3, '6 weeks', '32 weeks', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '出生6週0日後から32週0日後まで', '2020-10-01', NULL, 'MHLW'),
    ('rota-rotateq-2', 'rota', '631301501', 'A', 2, '2回目', 3, '6 weeks', '32 weeks', '27 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '27日以上', '2020-10-01', NULL, 'MHLW'),
    ('rota-rotateq-3', 'rota', '631301501', 'A', 3, '3回目', 3, '6 weeks', '32 weeks', '27 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '27日以上', '2020-10-01', NULL, 'MHLW'),
    -- 水痘 (§2.8)
    ('varicella-1', 'varicella', NULL, 'A', 1, '1回目', 2, '12 mons', '36 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後12月から36月に至るまで', '2014-10-01', NULL, 'MHLW'),
    ('varicella-2', 'varicella', NULL, 'A', 2, '2回目', 2, '12 mons', '36 mons', '3 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '3月以上（標準6～12月）', '2014-10-01', NULL, 'MHLW'),
    -- 日本脳炎 (§2.9); the 特例 for those born 1995-04-02 … 2007-04-01: 4歳以上20歳未満 until 2027-03-31
    ('jev-1', 'jev', NULL, 'A', 1, '第1期初回1回目', 4, '6 mons', '90 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '生後6月から90月に至るまで（標準3歳）', '1994-10-01', NULL, 'MHLW'),
    ('jev-2', 'jev', NULL, 'A', 2, '第1期初回2回目', 4, '6 mons', '90 mons', '6 days', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '6日以上（標準6～28日）', '1994-10-01', NULL, 'MHLW'),
    ('jev-3', 'jev', NULL, 'A', 3, '第1期追加', 4, '6 mons', '90 mons', '6 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '初回2回目から6月以上（標準おおむね1年）', '1994-10-01', NULL, 'MHLW'),
    ('jev-4', 'jev', NULL, 'A', 4, '第2期', 4, '9 years', '13 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '9歳以上13歳未満; 1期の記録は不要', '1994-10-01', NULL, 'MHLW'),
    -- HPV (§2.10), females, 小6～高1相当 = 年度末年齢 12..16. The generic rows apply to every HPV
    -- product; 9価 adds its 2-dose track (dose 1 by 15歳に至るまで, dose 2 from 5月).
    ('hpv-1', 'hpv', NULL, 'A', 1, '1回目', 3, '0 days', '150 years', NULL, NULL, NULL, '2', NULL, NULL, 12, 16, NULL, NULL, '小学校6年～高校1年相当の女子（年度）', '2013-04-01', NULL, 'MHLW'),
    ('hpv-2', 'hpv', NULL, 'A', 2, '2回目', 3, '0 days', '150 years', '1 mons', NULL, NULL, '2', NULL, NULL, 12, 16, NULL, NULL, '1月以上', '2013-04-01', NULL, 'MHLW'),
    ('hpv-3', 'hpv', NULL, 'A', 3, '3回目', 3, '0 days', '150 years', '3 mons', NULL, NULL, '2', NULL, NULL, 12, 16, NULL, NULL, '2回目から3月以上', '2013-04-01', NULL, 'MHLW'),
    ('hpv-9v2-2', 'hpv', '631301901', 'A', 2, '2回目（2回接種）', 2, '0 days', '150 years', '5 mons', NULL, NULL, '2', NULL, NULL, 12, 16, NULL, NULL, 'シルガード9: 15歳に至るまでに1回目なら2回（5月以上）', '2023-04-01', NULL, 'MHLW'),
    -- RSV (妊婦, §2.11): 28週0日～36週6日, once per pregnancy
    ('rsv-1', 'rsv', '631302101', 'A', 1, '妊娠中1回', 1, '0 days', '150 years', NULL, NULL, NULL, '2', 28, 36, NULL, NULL, NULL, 'pregnancy', '妊娠28週0日～36週6日, 妊娠ごとに1回', '2026-04-01', NULL, 'MHLW'),
    -- B類 (§3)
    ('flu-1', 'flu', NULL, 'B', 1, '年度1回', 1, '65 years', '150 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'fiscal_year', '65歳以上（60～64歳の障害者1級相当は別途）; 年度に1回', '2001-11-07', NULL, 'MHLW'),
    ('covid19-1', 'covid19', NULL, 'B', 1, '年度1回', 1, '65 years', '150 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'fiscal_year', '65歳以上; 年度に1回', '2024-04-01', NULL, 'MHLW'),
    ('pneumo_elderly-1', 'pneumo_elderly', '631302401', 'B', 1, '1回', 1, '65 years', '66 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'life', 'PPSV23: 65歳の者; 2026-03-31まで', '2014-10-01', '2026-03-31', 'MHLW'),
    ('pneumo_elderly-pcv20-1', 'pneumo_elderly', '631301001', 'B', 1, '1回', 1, '65 years', '66 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'life', 'PCV20: 65歳の者; 2026-04-01から', '2026-04-01', NULL, 'MHLW'),
    ('zoster-live-1', 'zoster', '631301601', 'B', 1, '生ワクチン1回', 1, '0 days', '150 years', NULL, NULL, NULL, NULL, NULL, NULL, 65, 65, NULL, 'life', '65歳となる年度', '2025-04-01', NULL, 'MHLW'),
    ('zoster-live-1-k', 'zoster', '631301601', 'B', 1, '生ワクチン1回（経過措置）', 1, '0 days', '150 years', NULL, NULL, NULL, NULL, NULL, NULL, 70, 100, 5, 'life', '経過措置: 70,75,…,100歳となる年度（FY2025～FY2029）', '2025-04-01', '2030-03-31', 'MHLW'),
    ('zoster-live-1-100', 'zoster', '631301601', 'B', 1, '生ワクチン1回（100歳以上）', 1, '0 days', '150 years', NULL, NULL, NULL, NULL, NULL, NULL, 100, 150, NULL, 'life', '経過措置: FY2025 のみ 100歳以上', '2025-04-01', '2026-03-31', 'MHLW'),
    ('zoster-rzv-1', 'zoster', '631302701', 'B', 1, '組換え1回目', 2, '0 days', '150 years', NULL, NULL, NULL, NULL, NULL, NULL, 65, 65, NULL, 'life', '65歳となる年度; 2回とも同じ年度に', '2025-04-01', NULL, 'MHLW'),
    ('zoster-rzv-2', 'zoster', '631302701', 'B', 2, '組換え2回目', 2, '0 days', '150 years', '2 mons', NULL, NULL, NULL, NULL, NULL, 65, 65, NULL, 'life', '2月以上; 同じ年度に', '2025-04-01', NULL, 'MHLW'),
    ('zoster-rzv-1-k', 'zoster', '631302701', 'B', 1, '組換え1回目（経過措置）', 2, '0 days', '150 years', NULL, NULL, NULL, NULL, NULL, NULL, 70, 100, 5, 'life', '経過措置: 70,75,…,100歳となる年度', '2025-04-01', '2030-03-31', 'MHLW'),
    ('zoster-rzv-2-k', 'zoster', '631302701', 'B', 2, '組換え2回目（経過措置）', 2, '0 days', '150 years', '2 mons', NULL, NULL, NULL, NULL, NULL, 70, 100, 5, 'life', '2月以上; 同じ年度に', '2025-04-01', '2030-03-31', 'MHLW'),
    ('zoster-rzv-1-100', 'zoster', '631302701', 'B', 1, '組換え1回目（100歳以上）', 2, '0 days', '150 years', NULL, NULL, NULL, NULL, NULL, NULL, 100, 150, NULL, 'life', 'FY2025 のみ 100歳以上', '2025-04-01', '2026-03-31', 'MHLW'),
    ('zoster-rzv-2-100', 'zoster', '631302701', 'B', 2, '組換え2回目（100歳以上）', 2, '0 days', '150 years', '2 mons', NULL, NULL, NULL, NULL, NULL, 100, 150, NULL, 'life', 'FY2025 のみ 100歳以上', '2025-04-01', '2026-03-31', 'MHLW');
-- HPV 2価/4価 leave the 定期 on 2026-03-31 [uncertain 施行日: docs/rules.md §5]: product rows
-- that carry the generic rows' windows until then; after it a 2価/4価 dose is R-PRODUCT-ROUTINE.
INSERT INTO master.s_new (code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total,
    age_from, age_to, min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from, pregnancy_weeks_to,
    fy_age_from, fy_age_to, fy_age_step, once_per, note, valid_from, valid_to, source)
SELECT 'hpv-' || p.k || '-' || s.dose_number, 'hpv', p.code, 'A', s.dose_number, s.dose_label, 3,
       interval '0 days', interval '150 years', s.min_interval, NULL::interval, CASE WHEN p.k = '2v' AND s.dose_number = 3 THEN interval '5 mons' END,
       '2', NULL::int, NULL::int, 12, 16, NULL::int, NULL::text, p.k || ' (2026-03-31まで定期)', p.since, DATE '2026-03-31', 'MHLW'
  FROM (VALUES ('2v', '631302001', DATE '2013-04-01'), ('4v', '631302801', DATE '2013-04-01')) AS p (k, code, since),
       (VALUES (1, '1回目', NULL::interval), (2, '2回目', interval '1 mons'), (3, '3回目', interval '2 mons 15 days')) AS s (dose_number, dose_label, min_interval)
 WHERE NOT (p.k = '4v' AND s.dose_number = 3)
UNION ALL SELECT 'hpv-4v-3', 'hpv', '631302801', 'A', 3, '3回目', 3, interval '0 days', interval '150 years', interval '3 mons', NULL::interval, NULL::interval, '2',
       NULL::int, NULL::int, 12, 16, NULL::int, NULL::text, '4v (2026-03-31まで定期)', DATE '2013-04-01', DATE '2026-03-31', 'MHLW';
-- シルガード9 (定期 from 2023-04-01) has rows of its own for both tracks, so the generic rows (for
-- products without rows of their own) are not hidden: 3-dose track (1月, 3月) and the 2-dose track
-- (dose 2 from 5月, hpv-9v2-2). A product with rows of its own is 定期 only through them.
INSERT INTO master.s_new (code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total,
    age_from, age_to, min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from, pregnancy_weeks_to,
    fy_age_from, fy_age_to, fy_age_step, once_per, note, valid_from, valid_to, source)
SELECT replace(code, 'hpv-', 'hpv-9v-'), disease_code, '631301901', category, dose_number, dose_label, doses_total,
       age_from, age_to, min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from, pregnancy_weeks_to,
       fy_age_from, fy_age_to, fy_age_step, once_per, 'シルガード9 3回接種: ' || note, DATE '2023-04-01', valid_to, source
  FROM master.s_new WHERE code IN ('hpv-1', 'hpv-2', 'hpv-3');

WITH old AS (SELECT version FROM master.schedules WHERE superseded_at IS NULL AND created_by = 'seed'),
     ins AS (INSERT INTO master.schedules (code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total,
                 age_from, age_to, min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from,
                 pregnancy_weeks_to, fy_age_from, fy_age_to, fy_age_step, once_per, note, valid_from, valid_to, source)
             SELECT code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total, age_from, age_to,
                    min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from, pregnancy_weeks_to,
                    fy_age_from, fy_age_to, fy_age_step, once_per, note, valid_from, valid_to, source
               FROM master.s_new RETURNING version)
UPDATE master.schedules s SET superseded_at = now(), superseded_version = (SELECT min(version) FROM ins)
 WHERE s.version IN (SELECT version FROM old);

INSERT INTO master.table_state (name, last_change) VALUES ('rules', (SELECT last_value FROM master.change_seq))
    ON CONFLICT (name) DO NOTHING;
UPDATE master.table_state SET last_change = (SELECT last_value FROM master.change_seq)
 WHERE name IN ('vaccines', 'schedules', 'diseases', 'rules');

DROP TABLE master.v_new;
DROP TABLE master.s_new;
GRANT SELECT ON master.rules TO sesshu_master_reader;
