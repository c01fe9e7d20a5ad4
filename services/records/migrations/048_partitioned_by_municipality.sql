-- 048_partitioned_by_municipality.sql - records.persons and records.immunizations partitioned
-- by municipality (issue 15 §3); the design and why: docs/operations.md "Records partitioned by
-- municipality".
--
-- Both tables become PARTITION BY HASH (muni_code), 16 partitions each: one municipality's rows
-- are always in one partition (a staff lookup names its municipality and reads one partition),
-- and a new municipality code (a merger) needs no new partition. persons.muni_code is the
-- current municipality, so a move (転入) moves the person's row to the new municipality's
-- partition; immunizations.muni_code is the 記録主体 and never changes.
--
-- A partitioned table's unique constraints must include the partition key, so:
--   - the primary keys become (id, muni_code);
--   - every foreign key to a person names the person's municipality too: each dependent keeps
--     it in a column (person_muni; guardians: child_muni, guardian_muni) with ON UPDATE CASCADE,
--     so a move rewrites that column in the person's rows and nothing else (no feed position
--     changes: txid/seq are the writers' own). A BEFORE INSERT trigger fills the column from the
--     person when a writer leaves it NULL; the service's bulk writers give it themselves;
--   - the record's versions and a questionnaire's link name the record's 記録主体 (muni_code /
--     record_muni), which never changes;
--   - the 個人番号's uniqueness across the country, which no index of a partitioned table can
--     hold, is the primary key of records.person_my_numbers (named persons_my_number as the
--     index was, so a duplicate still answers 409), kept by statement triggers on persons;
--   - the same-day rule's index (immunizations_same_day) gains the 記録主体: the same product on
--     the same day recorded by two municipalities is no longer refused by the index (the rule
--     check still finds it as a duplicate: it reads the person's records in every partition).
--
-- The conversion works on a filled database: the rows are copied into the new tables, the old
-- ones dropped, the dependents' columns filled, and the constraints made (and checked) again.
-- It takes the tables' locks for its whole transaction: run it in a maintenance window; at
-- ~100M persons and billions of records, convert with the runbook in docs/operations.md.

-- The foreign keys to the two tables go first (they are made again at the end).
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT conrelid::regclass AS tbl, conname
               FROM pg_constraint
              WHERE contype = 'f'
                AND (confrelid IN ('records.persons'::regclass, 'records.immunizations'::regclass)
                     OR conrelid IN ('records.persons'::regclass, 'records.immunizations'::regclass))
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tbl, c.conname);
    END LOOP;
END
$$;

-- Functions over the old tables' row types (made again below, same text as 047 and 002).
DROP FUNCTION records.person_visible(records.persons, text);
DROP FUNCTION records.person_json(records.persons, text);
DROP FUNCTION records.person_json_former(records.persons, text);
DROP FUNCTION records.immunization_json(records.immunizations);

ALTER TABLE records.persons RENAME TO persons_unpartitioned;
ALTER TABLE records.immunizations RENAME TO immunizations_unpartitioned;

CREATE TABLE records.persons (LIKE records.persons_unpartitioned
    INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE)
    PARTITION BY HASH (muni_code);
-- person_muni: the person's municipality when the record was made; follows the person's moves
-- (the foreign key's ON UPDATE CASCADE). muni_code (記録主体) stays.
CREATE TABLE records.immunizations (LIKE records.immunizations_unpartitioned
    INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE,
    person_muni char(6) NOT NULL)
    PARTITION BY HASH (muni_code);

DO $$
DECLARE
    cols text;
BEGIN
    FOR r IN 0..15 LOOP
        EXECUTE format('CREATE TABLE records.persons_p%s PARTITION OF records.persons '
                       'FOR VALUES WITH (MODULUS 16, REMAINDER %s)', lpad(r::text, 2, '0'), r);
        EXECUTE format('CREATE TABLE records.immunizations_p%s PARTITION OF records.immunizations '
                       'FOR VALUES WITH (MODULUS 16, REMAINDER %s)', lpad(r::text, 2, '0'), r);
    END LOOP;
    -- The rows, every stored column (a generated one is computed again).
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute
     WHERE attrelid = 'records.persons_unpartitioned'::regclass AND attnum > 0
       AND NOT attisdropped AND attgenerated = '';
    EXECUTE format('INSERT INTO records.persons (%s) SELECT %s FROM records.persons_unpartitioned',
                   cols, cols);
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute
     WHERE attrelid = 'records.immunizations_unpartitioned'::regclass AND attnum > 0
       AND NOT attisdropped AND attgenerated = '';
    EXECUTE format('INSERT INTO records.immunizations (%s, person_muni) SELECT %s, p.muni_code '
                   'FROM records.immunizations_unpartitioned i '
                   'JOIN records.persons_unpartitioned p ON p.id = i.person_id',
                   cols, regexp_replace(cols, '(^|, )', '\1i.', 'g'));
END
$$;

DROP TABLE records.persons_unpartitioned;
DROP TABLE records.immunizations_unpartitioned;

-- The unique constraints the service answers by name (records_util.c): a violation names the
-- partition's index, so each partition's is made first as "<name>_pNN" (the library answers
-- it as <name>: sesshu/sql.h) and the table's then takes them as its parts.
DO $$
BEGIN
    FOR r IN 0..15 LOOP
        EXECUTE format('ALTER TABLE records.persons_p%1$s ADD CONSTRAINT persons_resident_no_p%1$s '
                       'UNIQUE (muni_code, resident_no)', lpad(r::text, 2, '0'));
        EXECUTE format('CREATE UNIQUE INDEX immunizations_same_day_p%1$s ON records.immunizations_p%1$s '
                       '(person_id, vaccine_code, vaccinated_on, muni_code) WHERE status <> ''voided''',
                       lpad(r::text, 2, '0'));
    END LOOP;
END
$$;

-- persons: the keys and indexes of 001/044 (names kept).
ALTER TABLE records.persons ADD CONSTRAINT persons_pkey PRIMARY KEY (id, muni_code);
ALTER TABLE records.persons ADD CONSTRAINT persons_resident_no UNIQUE (muni_code, resident_no);
CREATE INDEX persons_my_number_hash ON records.persons (my_number_hash)
    WHERE my_number_hash IS NOT NULL;
CREATE INDEX persons_kana ON records.persons (muni_code, name_kana_key, birth_date);
CREATE INDEX persons_feed ON records.persons (muni_code, txid, seq);
CREATE INDEX persons_cert_changes ON records.persons (txid, seq) WHERE version > 1;

-- immunizations: the keys and indexes of 001/042/043 (names kept).
ALTER TABLE records.immunizations ADD CONSTRAINT immunizations_pkey PRIMARY KEY (id, muni_code);
CREATE UNIQUE INDEX immunizations_same_day ON records.immunizations
    (person_id, vaccine_code, vaccinated_on, muni_code) WHERE status <> 'voided';
CREATE INDEX immunizations_person ON records.immunizations (person_id, vaccinated_on);
CREATE INDEX immunizations_muni_date ON records.immunizations (muni_code, vaccinated_on);
CREATE INDEX immunizations_lot ON records.immunizations (lot_no, vaccine_code);
CREATE INDEX immunizations_institution ON records.immunizations (institution_code, vaccinated_on);
CREATE INDEX immunizations_feed ON records.immunizations (muni_code, txid, seq);
CREATE INDEX immunizations_cert_changes ON records.immunizations (txid, seq)
    WHERE version > 1 OR status = 'voided';
CREATE INDEX immunizations_stats_feed ON records.immunizations (txid, seq);

-- The 個人番号 is unique in the country: one row a number, kept by the persons' statements
-- (transition tables: one INSERT/DELETE a statement, a move is an UPDATE that keeps it).
CREATE TABLE records.person_my_numbers (
    my_number_hash text CONSTRAINT persons_my_number PRIMARY KEY,
    person_id      uuid NOT NULL
);
INSERT INTO records.person_my_numbers
SELECT my_number_hash, id FROM records.persons WHERE my_number_hash IS NOT NULL;

CREATE FUNCTION records.person_my_numbers_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO records.person_my_numbers
    SELECT n.my_number_hash, n.id FROM new_rows n WHERE n.my_number_hash IS NOT NULL;
    RETURN NULL;
END
$$;
-- An update (a move too: the root's transition tables hold it as one UPDATE) changes only the
-- numbers that changed.
CREATE FUNCTION records.person_my_numbers_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM records.person_my_numbers m
     USING old_rows o
     WHERE m.my_number_hash = o.my_number_hash AND m.person_id = o.id
       AND NOT EXISTS (SELECT 1 FROM new_rows n
                        WHERE n.id = o.id AND n.my_number_hash = o.my_number_hash);
    INSERT INTO records.person_my_numbers
    SELECT n.my_number_hash, n.id
      FROM new_rows n
     WHERE n.my_number_hash IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM old_rows o
                        WHERE o.id = n.id AND o.my_number_hash = n.my_number_hash);
    RETURN NULL;
END
$$;
CREATE FUNCTION records.person_my_numbers_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM records.person_my_numbers m
     USING old_rows o
     WHERE m.my_number_hash = o.my_number_hash AND m.person_id = o.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_my_number_insert AFTER INSERT ON records.persons
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION records.person_my_numbers_insert();
CREATE TRIGGER persons_my_number_update AFTER UPDATE ON records.persons
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION records.person_my_numbers_update();
CREATE TRIGGER persons_my_number_delete AFTER DELETE ON records.persons
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION records.person_my_numbers_delete();

-- A dependent's copy of its person's municipality, when the writer did not give it.
CREATE FUNCTION records.person_muni_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.person_muni := (SELECT p.muni_code FROM records.persons p WHERE p.id = NEW.person_id);
    RETURN NEW;
END
$$;
CREATE FUNCTION records.guardian_muni_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.child_muni := coalesce(NEW.child_muni,
        (SELECT p.muni_code FROM records.persons p WHERE p.id = NEW.child_id));
    NEW.guardian_muni := coalesce(NEW.guardian_muni,
        (SELECT p.muni_code FROM records.persons p WHERE p.id = NEW.guardian_id));
    RETURN NEW;
END
$$;
CREATE FUNCTION records.record_muni_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'immunization_versions' THEN
        NEW.muni_code := (SELECT i.muni_code FROM records.immunizations i
                           WHERE i.id = NEW.immunization_id);
    ELSE
        NEW.record_muni := (SELECT i.muni_code FROM records.immunizations i
                             WHERE i.id = NEW.record_id);
    END IF;
    RETURN NEW;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['residences', 'person_versions', 'care_links', 'q_answers',
                             'mch_records', 'person_conditions'] LOOP
        EXECUTE format('ALTER TABLE records.%I ADD COLUMN person_muni char(6)', t);
        EXECUTE format('UPDATE records.%I d SET person_muni = p.muni_code FROM records.persons p '
                       'WHERE p.id = d.person_id', t);
        EXECUTE format('ALTER TABLE records.%I ALTER COLUMN person_muni SET NOT NULL', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON records.%I FOR EACH ROW '
                       'WHEN (NEW.person_muni IS NULL) EXECUTE FUNCTION records.person_muni_fill()',
                       t || '_person_muni', t);
        EXECUTE format('ALTER TABLE records.%I ADD CONSTRAINT %I FOREIGN KEY (person_id, person_muni) '
                       'REFERENCES records.persons (id, muni_code) ON UPDATE CASCADE',
                       t, t || '_person_id_fkey');
    END LOOP;
END
$$;

ALTER TABLE records.guardians ADD COLUMN child_muni char(6), ADD COLUMN guardian_muni char(6);
UPDATE records.guardians g SET child_muni = c.muni_code, guardian_muni = p.muni_code
  FROM records.persons c, records.persons p
 WHERE c.id = g.child_id AND p.id = g.guardian_id;
ALTER TABLE records.guardians ALTER COLUMN child_muni SET NOT NULL,
    ALTER COLUMN guardian_muni SET NOT NULL,
    ADD CONSTRAINT guardians_child_id_fkey FOREIGN KEY (child_id, child_muni)
        REFERENCES records.persons (id, muni_code) ON UPDATE CASCADE,
    ADD CONSTRAINT guardians_guardian_id_fkey FOREIGN KEY (guardian_id, guardian_muni)
        REFERENCES records.persons (id, muni_code) ON UPDATE CASCADE;
CREATE TRIGGER guardians_muni BEFORE INSERT ON records.guardians FOR EACH ROW
    WHEN (NEW.child_muni IS NULL OR NEW.guardian_muni IS NULL)
    EXECUTE FUNCTION records.guardian_muni_fill();

CREATE TRIGGER immunizations_person_muni BEFORE INSERT ON records.immunizations FOR EACH ROW
    WHEN (NEW.person_muni IS NULL) EXECUTE FUNCTION records.person_muni_fill();
ALTER TABLE records.immunizations ADD CONSTRAINT immunizations_person_id_fkey
    FOREIGN KEY (person_id, person_muni) REFERENCES records.persons (id, muni_code)
    ON UPDATE CASCADE;

ALTER TABLE records.immunization_versions ADD COLUMN muni_code char(6);
UPDATE records.immunization_versions v SET muni_code = i.muni_code
  FROM records.immunizations i WHERE i.id = v.immunization_id;
ALTER TABLE records.immunization_versions ALTER COLUMN muni_code SET NOT NULL,
    ADD CONSTRAINT immunization_versions_immunization_id_fkey
        FOREIGN KEY (immunization_id, muni_code) REFERENCES records.immunizations (id, muni_code);
CREATE TRIGGER immunization_versions_muni BEFORE INSERT ON records.immunization_versions
    FOR EACH ROW WHEN (NEW.muni_code IS NULL) EXECUTE FUNCTION records.record_muni_fill();

ALTER TABLE records.q_answers ADD COLUMN record_muni char(6);
UPDATE records.q_answers a SET record_muni = i.muni_code
  FROM records.immunizations i WHERE i.id = a.record_id;
ALTER TABLE records.q_answers ADD CONSTRAINT q_answers_record_id_fkey
    FOREIGN KEY (record_id, record_muni) REFERENCES records.immunizations (id, muni_code);
CREATE TRIGGER q_answers_record_muni BEFORE INSERT OR UPDATE OF record_id ON records.q_answers
    FOR EACH ROW WHEN (NEW.record_id IS NOT NULL AND NEW.record_muni IS NULL)
    EXECUTE FUNCTION records.record_muni_fill();

-- 023's link (NOT VALID there: older rows are not re-checked). PostgreSQL 15 cannot add a NOT
-- VALID foreign key to a partitioned table, so each partition gets it, under 023's name (a
-- foreign key's name is the table's own; records_util.c answers it by that name).
DO $$
BEGIN
    FOR r IN 0..15 LOOP
        EXECUTE format('ALTER TABLE records.immunizations_p%1$s ADD CONSTRAINT '
                       'immunizations_questionnaire FOREIGN KEY (questionnaire_id, person_id) '
                       'REFERENCES records.q_answers (id, person_id) NOT VALID',
                       lpad(r::text, 2, '0'));
    END LOOP;
END
$$;

-- The functions over the row types, as 002 and 047 made them.
CREATE FUNCTION records.immunization_json(i records.immunizations) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', i.id, 'person_id', i.person_id, 'muni_code', i.muni_code,
        'version', i.version, 'status', i.status, 'vaccinated_on', i.vaccinated_on,
        'vaccine_code', i.vaccine_code, 'disease_codes', to_jsonb(i.disease_codes),
        'dose_number', i.dose_number, 'dose_label', i.dose_label, 'lot_no', i.lot_no,
        'institution_code', i.institution_code, 'doctor_name', i.doctor_name,
        'dose_ml', i.dose_ml, 'site', i.site, 'category', i.category,
        'requested_category', i.requested_category, 'source', i.source,
        'schedule_code', i.schedule_code, 'claimable', i.claimable, 'flags', to_jsonb(i.flags),
        'pregnancy_weeks', i.pregnancy_weeks, 'questionnaire_id', i.questionnaire_id,
        'note', i.note, 'registered_org_id', i.registered_org_id,
        'registered_by', i.registered_by, 'registered_at', i.registered_at,
        'updated_by', i.updated_by, 'updated_at', i.updated_at, 'void_reason', i.void_reason)
$$;

CREATE FUNCTION records.person_json_former(p records.persons, viewer text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    rno text;
    until date;
BEGIN
    SELECT r.resident_no, r.until_on INTO rno, until
      FROM records.residences r
     WHERE r.person_id = p.id AND r.muni_code = viewer
     ORDER BY r.seq DESC
     LIMIT 1;
    RETURN jsonb_build_object('id', p.id, 'muni_code', viewer, 'resident_no', rno,
        'name', p.name, 'name_kana', p.name_kana, 'name_romaji', p.name_romaji,
        'former_name', p.former_name, 'birth_date', p.birth_date, 'sex', p.sex,
        'postal_code', NULL, 'address', NULL, 'status', 'moved_out', 'status_on', until,
        'non_disclosure', false, 'has_my_number', p.my_number_hash IS NOT NULL,
        'relationship', 'former_resident', 'version', p.version,
        'created_at', p.created_at, 'updated_at', p.updated_at);
END
$$;

CREATE FUNCTION records.person_json(p records.persons, viewer text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN viewer IS NULL OR viewer = p.muni_code THEN
        jsonb_build_object('id', p.id, 'muni_code', p.muni_code, 'resident_no', p.resident_no,
            'name', p.name, 'name_kana', p.name_kana, 'name_romaji', p.name_romaji,
            'former_name', p.former_name, 'birth_date', p.birth_date, 'sex', p.sex,
            'postal_code', p.postal_code, 'address', p.address, 'status', p.status,
            'status_on', p.status_on, 'non_disclosure', p.non_disclosure,
            'has_my_number', p.my_number_hash IS NOT NULL, 'relationship', 'resident',
            'version', p.version, 'created_at', p.created_at, 'updated_at', p.updated_at)
    ELSE records.person_json_former(p, viewer)
    END
$$;

CREATE FUNCTION records.person_visible(p records.persons, muni text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p.muni_code = muni OR (NOT p.non_disclosure AND records.lived_in(p.id, muni))
$$;

ANALYZE records.persons, records.immunizations;
