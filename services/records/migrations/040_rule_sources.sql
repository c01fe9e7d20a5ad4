-- 040_rule_sources.sql - history from before the system (issue 17): a municipality registers
-- doses from a 母子健康手帳 (handbook) or another municipality's records with their source; the
-- rules judge them against the masters as they were on the vaccination date.
ALTER TABLE records.immunizations DROP CONSTRAINT immunizations_source_check;
ALTER TABLE records.immunizations ADD CONSTRAINT immunizations_source_check
    CHECK (source IN ('institution', 'paper', 'health_system', 'api', 'foreign', 'handbook',
                      'other_municipality'));
