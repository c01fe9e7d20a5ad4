-- rules.sql - the vaccination rules (issue 17, docs/rules.md): the rules in force on a date
-- (records_rules.c) and the check of later doses after a correction or void (records_later.c).
--
-- THE RULE CHECK is one SQL function, records.rule_check (records migration 049, whose header
-- explains it), which PostgreSQL inlines into each statement that calls it: rec_imm_insert,
-- rec_imm_correct, rec_imm_check (immunizations.sql), rec_import_commit_immunizations
-- (linkage.sql) and rec_rules_later_doses (below).

-- name: rec_rules_later_doses
-- $1 person_id: uuid
-- $2 changed_id: uuid, the record corrected or voided
WITH inp AS (SELECT row_number() OVER (ORDER BY im.vaccinated_on, im.dose_number, im.id) AS ln,
    im.person_id, im.vaccinated_on, im.vaccine_code, im.disease_codes, im.dose_number, im.lot_no,
    im.institution_code, coalesce(im.requested_category, im.category) AS category,
    im.pregnancy_weeks, im.id AS exclude_id, im.source
  FROM records.immunizations im
  WHERE im.person_id = $1::uuid
    AND im.id <> $2::uuid
    AND im.status <> 'voided'),
-- the rule check (records.rule_check, records migration 049) of every line of inp
chk AS (SELECT c.*
  FROM (SELECT array_agg(ROW(i.ln, i.person_id, i.vaccinated_on, i.vaccine_code, i.disease_codes,
      i.dose_number, i.lot_no, i.institution_code, i.category, i.pregnancy_weeks, i.exclude_id,
      i.source)::records.rule_line) AS lines
    FROM inp i) l, records.rule_check(l.lines) c),
rr AS (SELECT r.field
  FROM master.rules r
  WHERE r.code = 'R-CORRECTION-LATER'
    AND r.effect = 'refuse'
    AND r.superseded_at IS NULL
    AND r.valid_from <= master.today_jp()
    AND (r.valid_to IS NULL OR r.valid_to >= master.today_jp())
  LIMIT 1)
SELECT rr.field, format('would make the record %s (%s, dose %s of %s) break %s: %s', im.id,
    im.vaccinated_on, im.dose_number, array_to_string(im.disease_codes, ','), e->> 'rule', e->>
    'reason')
FROM chk
JOIN inp ON inp.ln = chk.ln
JOIN records.immunizations im ON im.id = inp.exclude_id
CROSS JOIN LATERAL jsonb_array_elements(chk.rules) e, rr
WHERE e->> 'rule' IN ('R-DOSE-ORDER', 'R-DUPLICATE', 'R-ONCE-FY', 'R-ONCE-PREGNANCY',
    'R-INTERVAL-MIN', 'R-INTERVAL-FIRST', 'R-INTERVAL-MAX', 'R-LIVE-INJ-27D')
  AND (e->> 'effect' IN ('refuse', 'duplicate') OR (e->> 'effect' = 'voluntary' AND im.category IN
      ('routine', 'temporary')))
  AND NOT (e->> 'rule' = ANY (coalesce(im.flags, '{}')))
ORDER BY im.vaccinated_on, im.id
LIMIT 20;

-- name: rec_rules_markdown
-- $1 as_of: date
SELECT records.rules_markdown(coalesce($1::date, master.today_jp()));

-- name: rec_rules_list
-- $1 as_of: date
SELECT jsonb_build_object('as_of', d.d, 'items', x.items)::text
FROM (SELECT coalesce($1::date, master.today_jp()) AS d) d, LATERAL (SELECT
    coalesce(jsonb_agg(jsonb_build_object('code', r.code, 'effect', r.effect, 'field', r.field,
    'statement_ja', r.statement_ja, 'statement_en', r.statement_en, 'source_ref', r.source_ref,
    'param_days', r.param_days, 'valid_from', r.valid_from, 'valid_to', r.valid_to, 'version',
    r.version) ORDER BY r.code), '[]')
  FROM master.rules r
  WHERE r.superseded_at IS NULL
    AND r.valid_from <= d.d
    AND (r.valid_to IS NULL OR r.valid_to >= d.d)) x(items);
