-- 010_person_conditions.sql - rules that depend on the person (issue 17, docs/rules.md §7a):
--   * schedules.person_conditions: a row that is 定期 only for a person with one of these
--     conditions on file (records.person_conditions, entered by the municipality with its
--     evidence and period): 60歳以上65歳未満 with a disability of about 身体障害者1級 of heart,
--     kidney or respiratory function ('disability_crh') or of the immune function by HIV
--     ('disability_hiv') for インフルエンザ, 新型コロナ, 高齢者肺炎球菌, and (HIV only) 帯状疱疹
--     (予防接種法施行令 §3 表; SCHEDULE.md §3);
--   * schedules.ltc_extension / ltc_age_to: the 長期療養特例 (施行令 §3②, 施行規則 §2の9): a
--     person who could not be vaccinated in the window because of a long-term illness
--     ('long_term_illness' on file, its period ending on the day the reason ended) stays a 定期
--     target until ltc_extension after that day (2 years; 高齢者肺炎球菌 1 year), and no later than
--     the upper age ltc_age_to (ジフテリア・百日せき・破傷風・ポリオ and 5種混合 15歳, BCG 4歳, Hib
--     alone 10歳, 小児肺炎球菌 6歳);
--   * the rules that name those doses (R-PERSON-CONDITION, R-LONG-TERM-ILLNESS), the pregnancy
--     record of H-7 for RSV (R-RSV-PREGNANCY-RECORD), and corrections that would break a later
--     dose (R-CORRECTION-LATER).
-- The shipped schedule rows are re-issued as new versions (the old ones superseded, not edited).

ALTER TABLE master.schedules ADD COLUMN person_conditions text[],
    ADD COLUMN ltc_extension interval, ADD COLUMN ltc_age_to interval;
ALTER TABLE master.stage_schedules ADD COLUMN person_conditions text[],
    ADD COLUMN ltc_extension interval, ADD COLUMN ltc_age_to interval;
COMMENT ON COLUMN master.schedules.person_conditions IS
    'the row is 定期 only for a person with one of these conditions on the date (records.person_conditions.kind)';
COMMENT ON COLUMN master.schedules.ltc_extension IS
    '長期療養特例: how long after the reason ended the dose stays 定期 (NULL: no 特例)';
COMMENT ON COLUMN master.schedules.ltc_age_to IS
    '長期療養特例: the upper age (inclusive, master.age_on) of the extension (NULL: none)';

CREATE TABLE master.s_new AS SELECT * FROM master.schedules WITH NO DATA;

-- 長期療養特例 on every A類 row but RSV (妊婦) and ロタ (its window is bounded by the risk of
-- intussusception, not by the schedule [uncertain: a master value]), and on 高齢者肺炎球菌 (1 year).
INSERT INTO master.s_new
SELECT s.* FROM master.schedules s
 WHERE s.superseded_at IS NULL AND ((s.category = 'A' AND s.disease_code NOT IN ('rsv', 'rota'))
       OR s.disease_code = 'pneumo_elderly');
UPDATE master.s_new SET ltc_extension = CASE WHEN disease_code = 'pneumo_elderly'
                                             THEN interval '1 year' ELSE interval '2 years' END,
       ltc_age_to = CASE WHEN disease_code IN ('diphtheria', 'pertussis', 'tetanus', 'polio')
                         THEN interval '15 years'
                         WHEN disease_code = 'hib' AND vaccine_code IN ('631300101', '631300201')
                         THEN interval '15 years'
                         WHEN disease_code = 'hib' THEN interval '10 years'
                         WHEN disease_code = 'tb' THEN interval '4 years'
                         WHEN disease_code = 'pneumo_child' THEN interval '6 years' END;

-- 60歳以上65歳未満 with the disability: rows of their own, by age on the day (Y(60) .. Y(65)).
INSERT INTO master.s_new (code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total,
    age_from, age_to, min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from, pregnancy_weeks_to,
    fy_age_from, fy_age_to, fy_age_step, once_per, note, valid_from, valid_to, source, person_conditions)
SELECT x.code, x.disease, x.vaccine, 'B', x.dose, x.label, x.total, interval '60 years', interval '65 years',
       x.min_iv, NULL::interval, NULL::interval, NULL::text, NULL::int, NULL::int, NULL::int, NULL::int, NULL::int,
       x.once, x.note, x.since, x.until, 'MHLW', x.conds
  FROM (VALUES
    ('flu-1-60', 'flu', NULL::text, 1, '年度1回（60～64歳 障害1級相当）', 1, NULL::interval, 'fiscal_year',
     '60歳以上65歳未満で心臓・腎臓・呼吸器又はHIVによる免疫の機能に障害（身体障害者1級相当）', DATE '2001-11-07', NULL::date,
     ARRAY['disability_crh', 'disability_hiv']),
    ('covid19-1-60', 'covid19', NULL, 1, '年度1回（60～64歳 障害1級相当）', 1, NULL, 'fiscal_year',
     '60歳以上65歳未満で心臓・腎臓・呼吸器又はHIVによる免疫の機能に障害（身体障害者1級相当）', '2024-04-01', NULL,
     ARRAY['disability_crh', 'disability_hiv']),
    ('pneumo_elderly-1-60', 'pneumo_elderly', '631302401', 1, '1回（60～64歳 障害1級相当）', 1, NULL, 'life',
     'PPSV23: 60歳以上65歳未満の障害1級相当; 2026-03-31まで', '2014-10-01', '2026-03-31',
     ARRAY['disability_crh', 'disability_hiv']),
    ('pneumo_elderly-pcv20-1-60', 'pneumo_elderly', '631301001', 1, '1回（60～64歳 障害1級相当）', 1, NULL, 'life',
     'PCV20: 60歳以上65歳未満の障害1級相当; 2026-04-01から', '2026-04-01', NULL,
     ARRAY['disability_crh', 'disability_hiv']),
    ('zoster-live-1-60', 'zoster', '631301601', 1, '生ワクチン1回（60～64歳 HIV障害1級相当）', 1, NULL, 'life',
     '60歳以上65歳未満でHIVによる免疫の機能に障害（1級相当）', '2025-04-01', NULL, ARRAY['disability_hiv']),
    ('zoster-rzv-1-60', 'zoster', '631302701', 1, '組換え1回目（60～64歳 HIV障害1級相当）', 2, NULL, 'life',
     '60歳以上65歳未満でHIVによる免疫の機能に障害（1級相当）', '2025-04-01', NULL, ARRAY['disability_hiv']),
    ('zoster-rzv-2-60', 'zoster', '631302701', 2, '組換え2回目（60～64歳 HIV障害1級相当）', 2, interval '2 mons', 'life',
     '2月以上', '2025-04-01', NULL, ARRAY['disability_hiv'])
  ) AS x (code, disease, vaccine, dose, label, total, min_iv, once, note, since, until, conds);

WITH old AS (SELECT s.version FROM master.schedules s JOIN master.s_new n ON n.code = s.code
              WHERE s.superseded_at IS NULL),
     ins AS (INSERT INTO master.schedules (code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total,
                 age_from, age_to, min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from,
                 pregnancy_weeks_to, fy_age_from, fy_age_to, fy_age_step, once_per, note, valid_from, valid_to, source,
                 person_conditions, ltc_extension, ltc_age_to)
             SELECT code, disease_code, vaccine_code, category, dose_number, dose_label, doses_total, age_from, age_to,
                    min_interval, max_interval, min_interval_from_first, sex, pregnancy_weeks_from, pregnancy_weeks_to,
                    fy_age_from, fy_age_to, fy_age_step, once_per, note, valid_from, valid_to, source,
                    person_conditions, ltc_extension, ltc_age_to
               FROM master.s_new RETURNING version)
UPDATE master.schedules s SET superseded_at = now(), superseded_version = (SELECT min(version) FROM ins)
 WHERE s.version IN (SELECT version FROM old);
DROP TABLE master.s_new;

INSERT INTO master.rules (code, effect, field, statement_ja, statement_en, source_ref, param_days, valid_from, source) VALUES
 ('R-PERSON-CONDITION', 'flag', 'person_id', '60歳以上65歳未満で心臓・腎臓・呼吸器又はHIVによる免疫の機能に身体障害者1級相当の障害がある者は、市町村が記録した本人の状態（証拠・期間）により B類の定期接種の対象となる（その接種を注記する）。', 'A person aged 60-64 with a disability of heart, kidney or respiratory function or of immune function by HIV (about 身体障害者1級) is a B類 target through the condition the municipality recorded with its evidence and period; such a dose is flagged.', '予防接種法施行令 §3 表 (B類: 60歳以上65歳未満の省令で定める者); 定期接種実施要領 (インフルエンザ Q&A: 身体障害者1級相当)', NULL, '1900-01-01', 'MHLW'),
 ('R-LONG-TERM-ILLNESS', 'flag', 'vaccinated_on', '長期療養を要する疾病等のため対象期間中に接種できなかった者は、その事情がなくなった日から2年（高齢者肺炎球菌は1年）を経過する日まで定期接種の対象（上限: ジフテリア等・5種混合15歳、BCG 4歳、Hib 10歳、小児肺炎球菌6歳）。市町村が記録した特例により対象となった接種を注記する。', 'A person who could not be vaccinated in the window because of a long-term illness stays a target until 2 years (高齢者肺炎球菌: 1 year) after the reason ended, within the upper ages (DPT-IPV and 5種 15, BCG 4, Hib 10, PCV 6); a dose 定期 only through the 特例 on file is flagged.', '予防接種法施行令 §3②; 予防接種法施行規則 §2の9; 定期接種実施要領 (長期療養特例)', NULL, '1900-01-01', 'MHLW'),
 ('R-RSV-PREGNANCY-RECORD', 'flag', 'pregnancy_weeks', 'H-7 の妊娠記録（分娩予定日）がある場合、妊娠週数と同じ妊娠かどうかはそれから定める（妊娠28週0日～36週6日 = 予定日の84日前～22日前）。接種記録の週数が異なれば注記する。', 'Where the H-7 pregnancy record (expected delivery date) covers the date, the weeks of pregnancy and the pregnancy itself come from it (28w0d-36w6d = 84 to 22 days before the due date); weeks on the dose that differ are flagged.', '第64回予防接種・ワクチン分科会 資料2; SCHEDULE.md §2.11 [A]', NULL, '2026-04-01', 'MHLW'),
 ('R-CORRECTION-LATER', 'refuse', 'vaccinated_on', '訂正・取消により後の接種が間隔・回数・順序の要件を満たさなくなる（定期でなくなる又は登録できなくなる）場合、その訂正・取消はできない。後の接種を先に訂正する。', 'A correction or void that would make a later dose break its interval, number or order (no longer 定期, or not registrable) is refused; correct the later dose first.', '予防接種法施行令 §3; 予防接種基本方針部会 第52回 資料5 p.20; docs/rules.md §7 [A]', NULL, '1900-01-01', 'MHLW');

UPDATE master.table_state SET last_change = (SELECT last_value FROM master.change_seq)
 WHERE name IN ('schedules', 'rules');
