-- 011_special_cohorts.sql - the 特例 that make a dose 定期 for a birth cohort outside the usual
-- window (issue 17, docs/rules.md §7b), as schedule rows of their own:
--   * schedules.birth_from / birth_to: the row governs only persons born in that range
--     (inclusive); schedules.condition_evidence_by: a person condition the row names counts only
--     when its evidence_on (the date of the test or decision) is on or before this date;
--     schedules.rule_code: the rule (master.rules) that names the doses this row makes 定期
--     (flagged with that code);
--   * 日本脳炎 特例 (予防接種法施行令 附則; SCHEDULE.md §2.9): born 1995-04-02 .. 2007-04-01, the
--     missing doses (up to 4) from 4歳 to 20歳未満; remaining 1期 doses 6日以上 apart, 2期 from 9歳 and
--     6日以上 after 1期 (R-JE-SPECIAL). The last cohort reaches 20 on 2027-04-01;
--   * MR 特例 (supply shortage, 2025-04-01 .. 2027-03-31; SCHEDULE.md §2.7): the FY2024 1期
--     targets (born 2022-04-02 .. 2023-04-01) and 2期 targets (born 2018-04-02 .. 2019-04-01)
--     whom the 市町村長 recognised as unable to be vaccinated because of the shortage - a person
--     condition 'mr_shortage' (records.person_conditions) - for 麻しん and 風しん (R-MR-SHORTAGE);
--   * 風しん第5期 (経過措置, 2025-04-01 .. 2027-03-31): men born 1962-04-02 .. 1979-04-01 with an
--     antibody test by 2025-03-31 showing too little antibody - a person condition
--     'rubella_low_antibody' whose evidence_on is the test date (R-RUBELLA-5).
-- The rows carry no 長期療養特例 (ltc_extension NULL): they are extensions already.

ALTER TABLE master.schedules ADD COLUMN birth_from date, ADD COLUMN birth_to date,
    ADD COLUMN condition_evidence_by date,
    ADD COLUMN rule_code text CHECK (rule_code ~ '^R-[A-Z0-9-]{2,40}$'),
    ADD CONSTRAINT schedules_birth CHECK (birth_to IS NULL OR birth_from IS NULL OR birth_to >= birth_from);
ALTER TABLE master.stage_schedules ADD COLUMN birth_from date, ADD COLUMN birth_to date,
    ADD COLUMN condition_evidence_by date, ADD COLUMN rule_code text;
COMMENT ON COLUMN master.schedules.birth_from IS
    'the row governs only persons born on or after this date (a 特例 cohort; NULL: no lower end)';
COMMENT ON COLUMN master.schedules.birth_to IS
    'the row governs only persons born on or before this date (a 特例 cohort; NULL: no upper end)';
COMMENT ON COLUMN master.schedules.condition_evidence_by IS
    'a person condition named by person_conditions counts only when its evidence_on is on or before this date';
COMMENT ON COLUMN master.schedules.rule_code IS
    'the rule (master.rules.code) that names the doses this row makes 定期 (a 特例); flagged with it';

INSERT INTO master.schedules (code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total,
    age_from, age_to, min_interval, sex, once_per, note, valid_from, valid_to, source,
    person_conditions, birth_from, birth_to, condition_evidence_by, rule_code)
VALUES
    -- 日本脳炎 特例: the 施行 of the 附則 (2011-05-20 [A: date as restated]) has no end; the cohort
    -- and 20歳未満 bound it
    ('jev-t-1', 'jev', NULL, 'A', 1, '第1期初回1回目（特例）', 4, '4 years', '20 years', NULL, NULL, NULL,
     '特例: 1995-04-02～2007-04-01生まれ, 4歳以上20歳未満', '2011-05-20', NULL, 'MHLW', NULL,
     '1995-04-02', '2007-04-01', NULL, 'R-JE-SPECIAL'),
    ('jev-t-2', 'jev', NULL, 'A', 2, '第1期初回2回目（特例）', 4, '4 years', '20 years', '6 days', NULL, NULL,
     '特例: 6日以上（標準6～28日）', '2011-05-20', NULL, 'MHLW', NULL, '1995-04-02', '2007-04-01', NULL,
     'R-JE-SPECIAL'),
    ('jev-t-3', 'jev', NULL, 'A', 3, '第1期追加（特例）', 4, '4 years', '20 years', '6 days', NULL, NULL,
     '特例: 1期の残りの回は6日以上（未接種者の追加は標準おおむね1年）', '2011-05-20', NULL, 'MHLW', NULL,
     '1995-04-02', '2007-04-01', NULL, 'R-JE-SPECIAL'),
    ('jev-t-4', 'jev', NULL, 'A', 4, '第2期（特例）', 4, '9 years', '20 years', '6 days', NULL, NULL,
     '特例: 9歳以上20歳未満, 1期終了後6日以上（標準おおむね5年）', '2011-05-20', NULL, 'MHLW', NULL,
     '1995-04-02', '2007-04-01', NULL, 'R-JE-SPECIAL'),
    -- MR 特例 (供給不足): the FY2024 1期 and 2期 cohorts, recognised by the 市町村長
    ('measles-1-mr', 'measles', NULL, 'A', 1, '第1期（供給不足の特例）', 2, '12 mons', '150 years', NULL, NULL, NULL,
     'FY2024の1期対象者（2022-04-02～2023-04-01生まれ）で市町村長が認めた者; 2027-03-31まで', '2025-04-01',
     '2027-03-31', 'MHLW', ARRAY['mr_shortage'], '2022-04-02', '2023-04-01', NULL, 'R-MR-SHORTAGE'),
    ('rubella-1-mr', 'rubella', NULL, 'A', 1, '第1期（供給不足の特例）', 2, '12 mons', '150 years', NULL, NULL, NULL,
     'FY2024の1期対象者（2022-04-02～2023-04-01生まれ）で市町村長が認めた者; 2027-03-31まで', '2025-04-01',
     '2027-03-31', 'MHLW', ARRAY['mr_shortage'], '2022-04-02', '2023-04-01', NULL, 'R-MR-SHORTAGE'),
    ('measles-2-mr', 'measles', NULL, 'A', 2, '第2期（供給不足の特例）', 2, '5 years', '150 years', NULL, NULL, NULL,
     'FY2024の2期対象者（2018-04-02～2019-04-01生まれ）で市町村長が認めた者; 2027-03-31まで', '2025-04-01',
     '2027-03-31', 'MHLW', ARRAY['mr_shortage'], '2018-04-02', '2019-04-01', NULL, 'R-MR-SHORTAGE'),
    ('rubella-2-mr', 'rubella', NULL, 'A', 2, '第2期（供給不足の特例）', 2, '5 years', '150 years', NULL, NULL, NULL,
     'FY2024の2期対象者（2018-04-02～2019-04-01生まれ）で市町村長が認めた者; 2027-03-31まで', '2025-04-01',
     '2027-03-31', 'MHLW', ARRAY['mr_shortage'], '2018-04-02', '2019-04-01', NULL, 'R-MR-SHORTAGE'),
    -- 風しん第5期 (経過措置): men of the cohort with a low antibody test by 2025-03-31
    ('rubella-5', 'rubella', NULL, 'A', 1, '第5期', 1, '0 days', '150 years', NULL, '1', NULL,
     '1962-04-02～1979-04-01生まれの男性, 2025-03-31までの抗体検査で抗体不十分; 2027-03-31まで', '2025-04-01',
     '2027-03-31', 'MHLW', ARRAY['rubella_low_antibody'], '1962-04-02', '1979-04-01', '2025-03-31',
     'R-RUBELLA-5');

INSERT INTO master.rules (code, effect, field, statement_ja, statement_en, source_ref, param_days, valid_from, valid_to, source) VALUES
 ('R-JE-SPECIAL', 'flag', 'vaccinated_on', '1995年4月2日から2007年4月1日までに生まれた者は、日本脳炎の不足分（計4回まで）を4歳以上20歳未満の間に定期接種として受けられる（1期の残りは6日以上、2期は9歳以上で1期終了後6日以上の間隔）。特例による接種を注記する。', 'A person born 1995-04-02 to 2007-04-01 may receive the missing Japanese encephalitis doses (4 in all) as 定期 from age 4 to under 20 (remaining 1期 doses 6 days or more apart, 2期 from age 9, 6 days or more after 1期); such a dose is flagged.', '予防接種法施行令 附則 (日本脳炎の特例); SCHEDULE.md §2.9', NULL, '2011-05-20', NULL, 'MHLW'),
 ('R-MR-SHORTAGE', 'flag', 'person_id', 'FY2024の麻しん風しん1期（2022年4月2日～2023年4月1日生まれ）又は2期（2018年4月2日～2019年4月1日生まれ）の対象者で、MRワクチンの供給不足により接種できなかったと市町村長が認めた者（市町村が記録）は、2025年4月1日から2027年3月31日まで定期接種の対象。その接種を注記する。', 'A FY2024 MR 1期 target (born 2022-04-02 to 2023-04-01) or 2期 target (born 2018-04-02 to 2019-04-01) whom the mayor recognised, on file, as unable to be vaccinated because of the MR shortage is a 定期 target from 2025-04-01 to 2027-03-31; such a dose is flagged.', '厚生労働省 MRワクチン供給不足に伴う定期接種の対象者の特例 (2025-04-01～2027-03-31); SCHEDULE.md §2.7 [S]', NULL, '2025-04-01', '2027-03-31', 'MHLW'),
 ('R-RUBELLA-5', 'flag', 'person_id', '1962年4月2日～1979年4月1日生まれの男性で、2025年3月31日までの抗体検査で十分な抗体がないとされた者（市町村が記録、検査日を証拠日とする）は、2027年3月31日まで風しん第5期の定期接種の対象。その接種を注記する。', 'A man born 1962-04-02 to 1979-04-01 whose antibody test by 2025-03-31 (on file, the test date as evidence_on) showed too little rubella antibody is a 第5期 target until 2027-03-31; such a dose is flagged.', '予防接種法施行令 附則 (風しん第5期の経過措置, 2025-04-01～2027-03-31); SCHEDULE.md §2.7 [S]', NULL, '2025-04-01', '2027-03-31', 'MHLW');

UPDATE master.table_state SET last_change = (SELECT last_value FROM master.change_seq)
 WHERE name IN ('schedules', 'rules');
