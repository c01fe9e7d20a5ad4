-- 052_person_homes.sql - a person's partition found from their id (issue 15 §3, issue 11's
-- records read; the same fix as 051 for records).
--
-- records.persons is partitioned by muni_code (048), the person's *current* municipality, so a
-- read by id alone opens all 16 partitions (an index probe in each). A small unpartitioned table
-- maps each person's id to their municipality, and the reads by id name the partition with
-- `p.muni_code = records.person_home($1)`. The function is STABLE, so PostgreSQL evaluates it
-- once when the executor starts and prunes the other 15 partitions before they are even set up
-- (EXPLAIN: "Subplans Removed: 15"). 051's form, a subquery `(SELECT muni_code FROM ... WHERE
-- id = $1)`, is an InitPlan, known only after the start: its 15 partitions are set up and then
-- "never executed", which at this size cost as much as the probes it saved (bench figures in
-- docs/operations.md §10). It is plpgsql so that its query is planned once a session (a SQL
-- function with a FROM is not inlined and would be planned at every call). Joins from a table
-- that carries the person's municipality (person_muni, child_muni, guardian_muni: kept by 048's
-- ON UPDATE CASCADE) name it instead; the planner prunes those per row of the join.
--
-- Unlike a record's 記録主体, a person's municipality changes (転入, rec_person_move_in, moves
-- the row to another partition), so the map is kept by statement triggers with transition
-- tables on every INSERT, UPDATE and DELETE of persons: in the statement's own transaction, so
-- a read never sees the person in one municipality and the map in another. PostgreSQL refuses
-- transition tables on a trigger with a column list (UPDATE OF muni_code), so the update
-- trigger fires with every update and changes only the rows whose municipality changed (an
-- ordinary correction joins one row of new_rows with the map and writes nothing). A move of a
-- partitioned table's row reaches the root's transition tables as one UPDATE (048's
-- person_my_numbers relies on the same).
CREATE TABLE records.person_homes (
    id        uuid PRIMARY KEY,
    muni_code char(6) NOT NULL
);
INSERT INTO records.person_homes (id, muni_code)
SELECT id, muni_code FROM records.persons;

CREATE FUNCTION records.person_homes_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO records.person_homes (id, muni_code) SELECT n.id, n.muni_code FROM new_rows n;
    RETURN NULL;
END
$$;
-- A move: the rows whose municipality changed (a person's id is never rewritten: nothing in
-- the service updates it).
CREATE FUNCTION records.person_homes_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE records.person_homes h SET muni_code = n.muni_code
      FROM new_rows n
     WHERE h.id = n.id AND h.muni_code <> n.muni_code;
    RETURN NULL;
END
$$;
-- The service deletes no person; a maintenance DELETE (bench/lookup.sh's clean-up) drops the
-- map's row with it.
CREATE FUNCTION records.person_homes_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM records.person_homes h USING old_rows o WHERE h.id = o.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_homes_insert AFTER INSERT ON records.persons
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION records.person_homes_insert();
CREATE TRIGGER persons_homes_update AFTER UPDATE ON records.persons
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION records.person_homes_update();
CREATE TRIGGER persons_homes_delete AFTER DELETE ON records.persons
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION records.person_homes_delete();

-- The municipality, and so the partition, of a person (NULL: no such person).
CREATE FUNCTION records.person_home(person uuid) RETURNS char(6)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT h.muni_code FROM records.person_homes h WHERE h.id = person);
END
$$;
-- ... of the person a 個人番号 (its keyed hash) belongs to (048's person_my_numbers).
CREATE FUNCTION records.my_number_home(hash text) RETURNS char(6)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT h.muni_code
              FROM records.person_my_numbers m
              JOIN records.person_homes h ON h.id = m.person_id
             WHERE m.my_number_hash = hash);
END
$$;

-- A person's municipality by id for the fills below, one partition: the map, checked against
-- the person's row. The map is written when a statement ends, so a dependent written by the
-- same statement as its person (a CTE after the person's INSERT or move) finds it behind (no
-- row, or the old municipality); then the person is read by id alone, as 048 did. The
-- service's statements that write both name person_muni themselves (rec_person_insert,
-- rec_person_move_in).
CREATE FUNCTION records.person_muni_of(person uuid) RETURNS char(6)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT p.muni_code FROM records.persons p
                      WHERE p.id = person AND p.muni_code = records.person_home(person)),
                    (SELECT p.muni_code FROM records.persons p WHERE p.id = person));
END
$$;

-- 048's fills of a dependent's copy of the person's municipality read the person by id alone
-- (16 partitions a row: every care link, answer, condition and residence a writer leaves it to).
CREATE OR REPLACE FUNCTION records.person_muni_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.person_muni := records.person_muni_of(NEW.person_id);
    RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION records.guardian_muni_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.child_muni := coalesce(NEW.child_muni, records.person_muni_of(NEW.child_id));
    NEW.guardian_muni := coalesce(NEW.guardian_muni, records.person_muni_of(NEW.guardian_id));
    RETURN NEW;
END
$$;

-- The rule check (049) read the line's person by id alone: registration's check, the import's
-- lines and the later doses after a correction each opened every partition. Its text is 049's
-- but for the person's join, which now goes through the map (a nested loop whose parameters
-- prune the persons' Append to one partition a line). The body reads master's tables, which may
-- migrate after this on a fresh start (as 049).
SET LOCAL check_function_bodies = off;
CREATE OR REPLACE FUNCTION records.rule_check(rule_lines records.rule_line[])
RETURNS TABLE (ln bigint, errors jsonb, duplicate boolean, dup_rule text, diseases text[],
    schedule_code text, dose_label text, routine boolean, unclaimable boolean, flags_v text[],
    flags_u text[], flags_o text[], rules jsonb, muni_code text, pregnancy_weeks int)
LANGUAGE sql STABLE AS $$
WITH inp AS (SELECT * FROM unnest(rule_lines)),
b AS (SELECT i.*, i.vaccinated_on AS d, p.id IS NOT NULL AS p_ok, p.birth_date, p.sex, p.status AS
    p_status, p.status_on AS p_status_on, p.muni_code AS p_muni, v.code IS NOT NULL AS v_ok,
    coalesce(v.live_injected, false) AS live_inj, coalesce(i.disease_codes, v.disease_codes, '{}')
    AS cand, (i.disease_codes IS NULL OR i.disease_codes <@ v.disease_codes) AS dis_ok, l.lot_no IS
    NOT NULL AS lot_ok, l.expiry_on, l.certified_on, ins.code IS NOT NULL AS ins_ok,
    coalesce(i.source IN ('handbook', 'other_municipality', 'foreign'), false) AS hist_src, pr.edd,
    CASE WHEN pr.edd IS NOT NULL THEN (280 - (pr.edd - i.vaccinated_on)) / 7 ELSE i.pregnancy_weeks
    END AS pw
  FROM inp i
  -- the person's partition from the map (records migration 052)
  LEFT JOIN records.person_homes ph ON ph.id = i.person_id
  LEFT JOIN records.persons p ON p.id = ph.id AND p.muni_code = ph.muni_code
  LEFT JOIN master.vaccines v ON v.code = i.vaccine_code AND v.superseded_at IS NULL AND
      v.valid_from <= i.vaccinated_on AND (v.valid_to IS NULL OR v.valid_to >= i.vaccinated_on)
  LEFT JOIN master.lots l ON l.vaccine_code = i.vaccine_code AND l.lot_no = i.lot_no AND
      l.superseded_at IS NULL AND l.valid_from <= i.vaccinated_on AND (l.valid_to IS NULL OR
      l.valid_to >= i.vaccinated_on)
  LEFT JOIN master.institutions ins ON ins.code = i.institution_code AND ins.superseded_at IS NULL
      AND ins.valid_from <= i.vaccinated_on AND (ins.valid_to IS NULL OR ins.valid_to >=
      i.vaccinated_on)
  -- the H-7 pregnancy record covering the date, only for a once-per-pregnancy disease
  LEFT JOIN LATERAL (SELECT (m.data->> 'expected_delivery_date')::date AS edd
    FROM records.mch_records m
    WHERE coalesce(i.disease_codes, v.disease_codes) && (SELECT array_agg(x.disease_code::text)
      FROM master.schedules x
      WHERE x.superseded_at IS NULL
        AND x.once_per = 'pregnancy')
      AND m.person_id = i.person_id
      AND m.kind = 'pregnancy'
      AND i.vaccinated_on BETWEEN (m.data->> 'expected_delivery_date')::date - 280
      AND (m.data->> 'expected_delivery_date')::date + 14
    ORDER BY m.examined_on DESC, m.created_at DESC
    LIMIT 1) pr ON true),
-- products with schedule rows of their own, per disease
own AS MATERIALIZED (SELECT DISTINCT disease_code, vaccine_code
  FROM master.schedules
  WHERE superseded_at IS NULL
    AND vaccine_code IS NOT NULL),
-- once-per keys of each disease: per fiscal year (B類 influenza, COVID), per pregnancy (RSV)
dop AS MATERIALIZED (SELECT disease_code, bool_or(once_per = 'fiscal_year') AS per_fy,
    bool_or(once_per = 'pregnancy') AS per_preg
  FROM master.schedules
  WHERE superseded_at IS NULL
  GROUP BY disease_code),
-- every schedule row that may govern this dose, and whether its window holds the date
sch AS (SELECT b.ln, dz AS disease, s.code, s.dose_label, s.min_interval, s.max_interval,
    s.min_interval_from_first, s.pregnancy_weeks_from IS NOT NULL AS preg, s.person_conditions AS
    conds, s.ltc_extension AS ltc_ext, s.age_to, s.fy_age_to, s.rule_code AS special, CASE WHEN
    (master.age_on(b.birth_date, s.age_from) <= b.d AND b.d <= master.age_on(b.birth_date, s.age_to) AND (s.fy_age_from IS NULL
    OR (master.fy_age(b.birth_date, b.d) BETWEEN s.fy_age_from AND s.fy_age_to AND
    (master.fy_age(b.birth_date, b.d) - s.fy_age_from) % coalesce(s.fy_age_step, 1) = 0)) AND (s.sex
    IS NULL OR s.sex = b.sex) AND (s.pregnancy_weeks_from IS NULL OR b.pw BETWEEN
    s.pregnancy_weeks_from AND s.pregnancy_weeks_to)) THEN s.person_conditions IS NULL OR EXISTS
    (SELECT 1
    FROM records.person_conditions pc
    WHERE pc.person_id = b.person_id
      AND pc.revoked_at IS NULL
      AND pc.kind = ANY (s.person_conditions)
      AND (pc.disease_codes IS NULL OR dz = ANY (pc.disease_codes))
      AND pc.valid_from <= b.d
      AND (pc.valid_to IS NULL OR b.d <= pc.valid_to)
      AND (s.condition_evidence_by IS NULL OR pc.evidence_on <= s.condition_evidence_by)) ELSE
          (s.ltc_extension IS NOT NULL AND
          s.pregnancy_weeks_from IS NULL AND master.age_on(b.birth_date, s.age_from) <= b.d AND
          (s.sex IS NULL OR s.sex = b.sex) AND (s.fy_age_from IS NULL OR master.fy_age(b.birth_date,
          b.d) >= s.fy_age_from) AND (s.ltc_age_to IS NULL OR b.d <= master.age_on(b.birth_date,
          s.ltc_age_to)) AND EXISTS (SELECT 1
      FROM records.person_conditions pc
      WHERE pc.person_id = b.person_id
        AND pc.revoked_at IS NULL
        AND pc.kind = 'long_term_illness'
        AND dz = ANY (pc.disease_codes)
        AND pc.valid_to <= b.d
        AND b.d <= master.age_on(pc.valid_to, s.ltc_extension)
        AND pc.valid_to >= master.age_on(b.birth_date, s.age_from)
        AND pc.valid_from <= master.age_on(b.birth_date, s.age_to)
        AND (s.fy_age_to IS NULL OR master.fy_age(b.birth_date, pc.valid_from) <= s.fy_age_to))) END
            AS in_window
  FROM b
  CROSS JOIN LATERAL unnest(b.cand) dz
  JOIN master.schedules s ON s.disease_code = dz AND s.dose_number = b.dose_number AND
      s.superseded_at IS NULL AND s.valid_from <= b.d AND (s.valid_to IS NULL OR s.valid_to >= b.d)
      AND (s.birth_from IS NULL OR b.birth_date >= s.birth_from) AND (s.birth_to IS NULL OR
      b.birth_date <= s.birth_to) AND (s.vaccine_code = b.vaccine_code OR (s.vaccine_code IS NULL
      AND NOT EXISTS (SELECT 1
        FROM own o
        WHERE o.disease_code = dz
          AND o.vaccine_code = b.vaccine_code)))
  WHERE b.p_ok),
inw AS (SELECT x.ln, array_agg(x.disease ORDER BY x.pos) AS diseases
  FROM (SELECT DISTINCT s.ln, s.disease, array_position(b.cand, s.disease) AS pos
    FROM sch s
    JOIN b ON b.ln = s.ln
    WHERE s.in_window) x
  GROUP BY x.ln),
res AS (SELECT b.ln, CASE WHEN b.disease_codes IS NOT NULL THEN b.disease_codes ELSE
    coalesce(inw.diseases, b.cand) END AS diseases
  FROM b
  LEFT JOIN inw ON inw.ln = b.ln),
-- every dose of the persons concerned, one row per disease: recorded ones and the input;
-- k: the once-per key (the fiscal year, or the date for per-pregnancy diseases)
hist AS (SELECT h.*, coalesce(dp.per_fy, false) AS per_fy, coalesce(dp.per_preg, false) AS per_preg,
    CASE WHEN dp.per_fy THEN master.fiscal_year(h.d) WHEN dp.per_preg THEN h.d - DATE '2000-01-01'
    END AS k
  FROM (SELECT im.person_id, dz AS disease, im.dose_number, im.vaccinated_on AS d, im.vaccine_code,
      im.pregnancy_weeks AS pw, NULL::bigint AS ln
    FROM records.immunizations im, unnest(im.disease_codes) dz
    WHERE im.status <> 'voided'
      AND im.person_id IN (SELECT person_id
      FROM inp)
      AND im.id NOT IN (SELECT exclude_id
      FROM inp
      WHERE exclude_id IS NOT NULL)
    UNION ALL SELECT b.person_id, dz, b.dose_number, b.d, b.vaccine_code, b.pw, b.ln
    FROM b
    JOIN res ON res.ln = b.ln, unnest(res.diseases) dz
    WHERE b.p_ok) h
  LEFT JOIN dop dp ON dp.disease_code = h.disease),
-- one pass of windows per (person, disease) instead of a self-join: a duplicate is a dose
-- recorded before (or on an earlier line); prev/first/later doses by dose number
w AS (SELECT h.*, count(*) OVER (PARTITION BY h.person_id, h.disease, h.dose_number, h.k ORDER BY
    coalesce(h.ln, 0) ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup1, count(*) OVER
    (PARTITION BY h.person_id, h.disease, h.vaccine_code, h.d ORDER BY coalesce(h.ln, 0) ROWS
    BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS dup2, max(h.d) OVER (PARTITION BY h.person_id,
    h.disease ORDER BY h.dose_number RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING) AS prev_d, min(h.d)
    FILTER (WHERE h.dose_number = 1) OVER (PARTITION BY h.person_id, h.disease) AS first_d, min(h.d)
    OVER (PARTITION BY h.person_id, h.disease ORDER BY h.dose_number DESC RANGE BETWEEN UNBOUNDED
    PRECEDING AND 1 PRECEDING) AS later_min
  FROM hist h),
seqc AS (SELECT w.ln, w.disease, w.dose_number, w.d, (w.dup1 > 0 OR w.dup2 > 0) AS dup, w.per_fy,
    w.prev_d, w.first_d, coalesce(w.later_min <= w.d, false) AS later_earlier
  FROM w
  WHERE w.ln IS NOT NULL),
-- the intervals of each candidate row; the row the dose satisfies best governs it, and of
-- rows it satisfies alike the most demanding (HPV 9価 at +5月: the 2-dose track)
pk AS (SELECT DISTINCT ON (s.ln, s.disease) s.ln, s.disease, s.code, s.dose_label, q.dose_number,
    s.in_window, q.prev_d, q.first_d, s.min_interval, s.max_interval, s.min_interval_from_first AS
    from_first, s.conds, s.ltc_ext, s.age_to, s.fy_age_to, s.special, x.min_ok, x.first_ok, x.max_ok
  FROM sch s
  JOIN seqc q ON q.ln = s.ln AND q.disease = s.disease
  CROSS JOIN LATERAL (SELECT (s.min_interval IS NULL OR q.prev_d IS NULL OR q.prev_d >= q.d OR q.d
      >= master.after_interval(q.prev_d, s.min_interval)) AS min_ok, (s.min_interval_from_first IS
      NULL OR q.first_d IS NULL OR q.first_d >= q.d OR q.d >= master.after_interval(q.first_d,
      s.min_interval_from_first)) AS first_ok, (s.max_interval IS NULL OR q.prev_d IS NULL OR q.d <=
      master.within_interval(q.prev_d, s.max_interval)) AS max_ok) x
  ORDER BY s.ln, s.disease, (s.in_window AND x.min_ok AND x.first_ok AND x.max_ok) DESC, s.in_window
      DESC, (s.special IS NULL) DESC, s.min_interval DESC NULLS LAST, s.code),
-- injected live vaccines of other products on earlier days within the rule's days
live AS (SELECT DISTINCT ON (b.ln) b.ln, h.d AS other_d, r.param_days AS days
  FROM b
  JOIN master.rules r ON r.code = 'R-LIVE-INJ-27D' AND r.superseded_at IS NULL AND r.valid_from <=
      b.d AND (r.valid_to IS NULL OR r.valid_to >= b.d)
  JOIN hist h ON h.person_id = b.person_id AND h.vaccine_code <> b.vaccine_code AND h.d < b.d AND
      b.d < master.after_interval(h.d, make_interval(days => r.param_days)) AND h.ln IS DISTINCT
      FROM b.ln
  WHERE b.live_inj
    AND EXISTS (SELECT 1
    FROM master.vaccines v2
    WHERE v2.code = h.vaccine_code
      AND v2.superseded_at IS NULL
      AND v2.live_injected)
  ORDER BY b.ln, h.d DESC),
-- every rule broken, one SELECT a rule. MATERIALIZED: computed once, not once per row of
-- master.rules it is joined with in `eff` (the lines are an array, estimated at 10 rows, so the
-- planner may put the rules outside a nested loop: a 100,000-line import ran the whole union 32
-- times, 5 minutes instead of 40 s)
hits AS MATERIALIZED (SELECT ln, 'R-PERSON' AS rule, 'is not a person of yours' AS reason
  FROM b
  WHERE NOT p_ok
  UNION ALL SELECT ln, 'R-DATE-FUTURE', 'is in the future (today in Japan is ' || master.today_jp()
      || ')'
  FROM b
  WHERE d > master.today_jp()
  UNION ALL SELECT ln, 'R-DATE-BIRTH', 'is before the birth date (' || birth_date || ')'
  FROM b
  WHERE p_ok
    AND d < birth_date
  UNION ALL SELECT ln, 'R-DATE-DEATH', 'is after the date of death (' || p_status_on || ')'
  FROM b
  WHERE p_status = 'deceased'
    AND d > p_status_on
  UNION ALL SELECT ln, 'R-MOVED-OUT', 'is after the move-out (' || p_status_on ||
      '): this municipality is not the payer'
  FROM b
  WHERE p_status = 'moved_out'
    AND d > p_status_on
  UNION ALL SELECT ln, 'R-VACCINE-MASTER',
      'is not a product of the vaccine master on the vaccination date'
  FROM b
  WHERE NOT v_ok
  UNION ALL SELECT ln, 'R-DISEASE-PRODUCT', 'names a disease the product does not prevent'
  FROM b
  WHERE v_ok
    AND NOT dis_ok
  UNION ALL SELECT ln, 'R-LOT-REQUIRED', 'is required'
  FROM b
  WHERE lot_no IS NULL
    AND NOT hist_src
  UNION ALL SELECT ln, 'R-LOT-PRODUCT', 'is not a lot of this product in the lot master'
  FROM b
  WHERE v_ok
    AND lot_no IS NOT NULL
    AND NOT lot_ok
    AND NOT hist_src
  UNION ALL SELECT ln, 'R-LOT-UNVERIFIED', 'is not in the lot master (history dose)'
  FROM b
  WHERE v_ok
    AND lot_no IS NOT NULL
    AND NOT lot_ok
    AND hist_src
  UNION ALL SELECT ln, 'R-LOT-EXPIRED', 'had expired on the vaccination date (expiry ' || expiry_on
      || ')'
  FROM b
  WHERE lot_ok
    AND expiry_on < d
  UNION ALL SELECT ln, 'R-LOT-CERTIFIED', 'had not passed 国家検定 on the vaccination date (certified '
      || certified_on || ')'
  FROM b
  WHERE lot_ok
    AND certified_on > d
  UNION ALL SELECT ln, 'R-INSTITUTION-MASTER',
      'is not a medical institution of the master on the vaccination date'
  FROM b
  WHERE institution_code IS NOT NULL
    AND NOT ins_ok
  UNION ALL SELECT ln, 'R-DOSE-ORDER', format('is not after dose %s of %s (%s)', dose_number - 1,
      disease, prev_d)
  FROM seqc
  WHERE prev_d >= d
  UNION ALL SELECT ln, 'R-DOSE-ORDER',
      format('a later dose of %s is recorded on or before this date', disease)
  FROM seqc
  WHERE later_earlier
  UNION ALL SELECT ln, 'R-DOSE-PREV-MISSING', format('dose %s of %s is not recorded', dose_number -
      1, disease)
  FROM seqc
  WHERE dose_number > 1
    AND prev_d IS NULL
  UNION ALL SELECT ln, CASE WHEN per_fy THEN 'R-ONCE-FY' ELSE 'R-DUPLICATE' END,
      format('dose %s of %s is already recorded', dose_number, disease)
  FROM seqc
  WHERE dup
  UNION ALL SELECT DISTINCT b.ln, 'R-ONCE-PREGNANCY',
      format('%s was given in this pregnancy already (%s)', h.disease, h.d)
  FROM b
  JOIN hist h ON h.person_id = b.person_id AND h.per_preg AND h.ln IS DISTINCT FROM b.ln AND
      h.disease = ANY (b.cand)
  JOIN master.rules r ON r.code = 'R-ONCE-PREGNANCY' AND r.superseded_at IS NULL AND r.valid_from <=
      b.d AND (r.valid_to IS NULL OR r.valid_to >= b.d)
  WHERE b.pw IS NOT NULL
    AND CASE WHEN b.edd IS NOT NULL THEN h.d BETWEEN b.edd - 280
    AND b.edd + 14 ELSE abs((b.d - 7 * b.pw) - (h.d - 7 * coalesce(h.pw, 0))) < r.param_days END
  UNION ALL SELECT DISTINCT s.ln, 'R-RSV-PREGNANCY',
      'a vaccination in pregnancy needs a female person and the weeks of pregnancy'
  FROM sch s
  JOIN b ON b.ln = s.ln
  WHERE s.preg
    AND (b.sex IS DISTINCT FROM '2' OR b.pw IS NULL)
  UNION ALL SELECT ln, 'R-WINDOW', format('is outside the 定期 window of %s dose %s (%s)', disease,
      dose_number, code)
  FROM pk
  WHERE NOT in_window
  UNION ALL SELECT b.ln, 'R-PRODUCT-ROUTINE',
      format('has no 定期 schedule for %s dose %s with this product on this date', dz, b.dose_number)
  FROM b
  JOIN res ON res.ln = b.ln, unnest(res.diseases) dz
  WHERE b.p_ok
    AND NOT EXISTS (SELECT 1
    FROM sch s
    WHERE s.ln = b.ln
      AND s.disease = dz)
  UNION ALL SELECT ln, 'R-INTERVAL-MIN',
      format('is before %s, the minimum interval %s after dose %s of %s (%s)',
      master.after_interval(prev_d, min_interval), min_interval, dose_number - 1, disease, prev_d)
  FROM pk
  WHERE in_window
    AND NOT min_ok
  UNION ALL SELECT ln, 'R-INTERVAL-FIRST',
      format('is before %s, %s after the first dose of %s (%s)', master.after_interval(first_d,
      from_first), from_first, disease, first_d)
  FROM pk
  WHERE in_window
    AND NOT first_ok
  UNION ALL SELECT ln, 'R-INTERVAL-MAX',
      format('is after %s, the longest interval %s after dose %s of %s',
      master.within_interval(prev_d, max_interval), max_interval, dose_number - 1, disease)
  FROM pk
  WHERE in_window
    AND NOT max_ok
  UNION ALL SELECT ln, 'R-LIVE-INJ-27D',
      format('is less than %s days after another injected live vaccine (%s); the same day is allowed',
      days, other_d)
  FROM live
  UNION ALL SELECT ln, 'R-RSV-PREGNANCY-RECORD',
      format('differ from the H-7 pregnancy record: %s weeks on %s (due %s)', pw, d, edd)
  FROM b
  WHERE edd IS NOT NULL
    AND pregnancy_weeks IS NOT NULL
    AND pregnancy_weeks <> pw
  UNION ALL SELECT ln, 'R-PERSON-CONDITION',
      format('is 定期 for %s through a condition of the person on file (%s)', disease,
      array_to_string(conds, ', '))
  FROM pk
  WHERE in_window
    AND conds IS NOT NULL
    AND special IS NULL
  UNION ALL SELECT ln, special, format('is 定期 for %s through a 特例 (%s)%s', disease, code, CASE WHEN
      conds IS NOT NULL THEN ' and a condition of the person on file (' || array_to_string(conds,
      ', ') || ')' ELSE '' END)
  FROM pk
  WHERE in_window
    AND special IS NOT NULL
  UNION ALL SELECT pk.ln, 'R-LONG-TERM-ILLNESS',
      format('is after the window of %s dose %s (%s): 定期 through the 長期療養特例 on file', pk.disease,
      pk.dose_number, pk.code)
  FROM pk
  JOIN b ON b.ln = pk.ln
  WHERE pk.in_window
    AND pk.ltc_ext IS NOT NULL
    AND (b.d > master.age_on(b.birth_date, pk.age_to) OR master.fy_age(b.birth_date, b.d) >
        pk.fy_age_to)),
-- what each hit does: the rule's effect and field on the vaccination date
eff AS (SELECT h.ln, h.rule, h.reason, r.effect, r.field
  FROM hits h
  JOIN b ON b.ln = h.ln
  JOIN master.rules r ON r.code = h.rule AND r.superseded_at IS NULL AND r.valid_from <= b.d AND
      (r.valid_to IS NULL OR r.valid_to >= b.d)),
ea AS (SELECT ln, jsonb_agg(DISTINCT jsonb_build_object('field', field, 'reason', reason, 'rule',
    rule)) FILTER (WHERE effect = 'refuse') AS errors, bool_or(effect = 'duplicate') AS dup,
    min(rule) FILTER (WHERE effect = 'duplicate') AS dup_rule, bool_or(effect = 'voluntary') AS vol,
    bool_or(effect = 'unclaimable') AS uncl, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect
    = 'voluntary'), '{}') AS flags_v, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect =
    'unclaimable'), '{}') AS flags_u, coalesce(array_agg(DISTINCT rule) FILTER (WHERE effect =
    'flag'), '{}') AS flags_o, jsonb_agg(DISTINCT jsonb_build_object('rule', rule, 'effect', effect,
    'field', field, 'reason', reason)) AS rules
  FROM eff
  GROUP BY ln),
sa AS (SELECT p.ln, count(*) AS n, min(p.code) AS code, min(p.dose_label) AS label
  FROM pk p
  JOIN res ON res.ln = p.ln
  WHERE p.disease = ANY (res.diseases)
  GROUP BY p.ln),
chk AS (SELECT b.ln, ea.errors, coalesce(ea.dup, false) AS duplicate, ea.dup_rule, res.diseases,
    sa.code AS schedule_code, sa.label AS dose_label, (b.p_ok AND coalesce(sa.n, 0) > 0 AND NOT
    coalesce(ea.vol, false)) AS routine, coalesce(ea.uncl, false) AS unclaimable,
    coalesce(ea.flags_v, '{}') AS flags_v, coalesce(ea.flags_u, '{}') AS flags_u,
    coalesce(ea.flags_o, '{}') AS flags_o, coalesce(ea.rules, '[]') AS rules, b.p_muni AS muni_code,
    b.pw AS pregnancy_weeks
  FROM b
  JOIN res ON res.ln = b.ln
  LEFT JOIN ea ON ea.ln = b.ln
  LEFT JOIN sa ON sa.ln = b.ln)
SELECT chk.ln, chk.errors, chk.duplicate, chk.dup_rule, chk.diseases, chk.schedule_code,
    chk.dose_label, chk.routine, chk.unclaimable, chk.flags_v, chk.flags_u, chk.flags_o, chk.rules,
    chk.muni_code, chk.pregnancy_weeks
FROM chk
$$;
