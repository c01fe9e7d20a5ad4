-- 041_rules_markdown.sql - the rule list as the Markdown table of README.md ("Rules"), made from
-- master.rules as of a date: GET /api/v1/immunizations/rules?format=markdown answers it, and
-- tests/integration/records_rules_test.c fails when README.md's copy is stale.
SET LOCAL check_function_bodies = off;
CREATE FUNCTION records.rules_markdown(as_of date) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT '| code | effect | field | 規則 | rule | source | parameter |' || E'\n'
        || '|---|---|---|---|---|---|---|' || E'\n'
        || coalesce(string_agg(format('| %s | %s | %s | %s | %s | %s | %s |', r.code, r.effect,
               r.field, r.statement_ja, r.statement_en, r.source_ref,
               coalesce(r.param_days || ' days', '')), E'\n' ORDER BY r.code COLLATE "C"), '') || E'\n'
      FROM master.rules r
     WHERE r.superseded_at IS NULL AND r.valid_from <= as_of
       AND (r.valid_to IS NULL OR r.valid_to >= as_of)
$$;
