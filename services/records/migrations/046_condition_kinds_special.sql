-- 046_condition_kinds_special.sql - two more per-person conditions the rules read (issue 17,
-- docs/rules.md §7a, §7b), recorded by the municipality with their evidence like the others:
--   mr_shortage           MR 特例: a FY2024 1期 or 2期 target whom the 市町村長 recognised as
--                         unable to be vaccinated because of the MR supply shortage (the
--                         decision is the evidence; evidence_on its date)
--   rubella_low_antibody  風しん第5期: an antibody test showing too little rubella antibody;
--                         evidence_on is the date of the test (the schedule row says by when)
ALTER TABLE records.person_conditions DROP CONSTRAINT person_conditions_kind_check,
    ADD CONSTRAINT person_conditions_kind_check CHECK (kind IN ('disability_crh', 'disability_hiv',
        'long_term_illness', 'mr_shortage', 'rubella_low_antibody')),
    ADD CONSTRAINT person_conditions_antibody CHECK (kind <> 'rubella_low_antibody'
        OR evidence_on IS NOT NULL);
