-- 044_person_conditions.sql - per-person conditions the vaccination rules read (issue 17,
-- docs/rules.md §7a). The municipality records them with their evidence and period
-- (POST /api/v1/persons/:id/conditions, logged like every write):
--   disability_crh     60歳以上65歳未満, 心臓・腎臓・呼吸器の機能の障害 (身体障害者1級相当):
--                      B類 インフルエンザ, 新型コロナ, 高齢者肺炎球菌
--   disability_hiv     60歳以上65歳未満, HIVによる免疫の機能の障害 (1級相当): the same and 帯状疱疹
--   long_term_illness  長期療養特例 (施行令 §3②): the diseases whose window was missed, the period
--                      of the illness; valid_to is the day the reason ended (特別の事情がなくなった日)
-- A condition is never edited: a wrong one is revoked (with a reason) and entered again.
CREATE TABLE records.person_conditions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id      uuid NOT NULL REFERENCES records.persons (id),
    muni_code      char(6) NOT NULL CHECK (muni_code ~ '^[0-9]{6}$'),
    kind           text NOT NULL CHECK (kind IN ('disability_crh', 'disability_hiv',
                                                 'long_term_illness')),
    disease_codes  text[] CHECK (cardinality(disease_codes) BETWEEN 1 AND 16),
    evidence       text NOT NULL CHECK (length(evidence) BETWEEN 1 AND 500),
    evidence_on    date,
    valid_from     date NOT NULL,
    valid_to       date,
    note           text CHECK (length(note) <= 1000),
    created_by     text NOT NULL,
    created_org_id uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_by     text,
    revoke_reason  text CHECK (length(revoke_reason) BETWEEN 1 AND 500),
    CONSTRAINT person_conditions_dates CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT person_conditions_ltc CHECK (kind <> 'long_term_illness'
                                            OR (disease_codes IS NOT NULL AND valid_to IS NOT NULL)),
    CONSTRAINT person_conditions_revoked CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX person_conditions_person ON records.person_conditions (person_id)
    WHERE revoked_at IS NULL;
