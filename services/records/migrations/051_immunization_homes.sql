-- 051_immunization_homes.sql - a record's partition found from its id (issue 15 §3).
--
-- records.immunizations is partitioned by muni_code (migration 048), so a read by id alone opens
-- all 16 partitions: at the lookup's rate that doubled its database time. A record's muni_code
-- (記録主体) never changes, so a small unpartitioned table maps each id to it, written by a
-- statement trigger with every insert (one INSERT a statement, also for a bulk import), and the
-- reads by id ask it first: `im.muni_code = (SELECT ... WHERE id = $1)` is known when the
-- executor starts, which then opens one partition (run-time pruning). It also makes an id unique
-- across municipalities again (the partitioned primary key is (id, muni_code)).
CREATE TABLE records.immunization_homes (
    id        uuid PRIMARY KEY,
    muni_code char(6) NOT NULL
);
INSERT INTO records.immunization_homes (id, muni_code)
SELECT id, muni_code FROM records.immunizations;

CREATE FUNCTION records.immunization_homes_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO records.immunization_homes (id, muni_code) SELECT n.id, n.muni_code FROM new_rows n;
    RETURN NULL;
END
$$;
CREATE TRIGGER immunizations_homes AFTER INSERT ON records.immunizations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION records.immunization_homes_add();

-- muni_code stays what it was written with (048): a change would leave the map wrong.
CREATE FUNCTION records.immunizations_muni_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a record''s municipality (記録主体) does not change' USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER immunizations_muni_fixed BEFORE UPDATE OF muni_code ON records.immunizations
    FOR EACH ROW WHEN (OLD.muni_code IS DISTINCT FROM NEW.muni_code)
    EXECUTE FUNCTION records.immunizations_muni_fixed();
