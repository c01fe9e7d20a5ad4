-- 047_person_functions_inlined.sql - records.person_json and records.person_visible as SQL
-- functions PostgreSQL inlines into the statement that calls them (issue 11). A SQL function
-- whose body holds a subquery is never inlined, and one that is not inlined is planned anew in
-- every statement that calls it: ~1 ms of a staff read of a person (the certificate service's
-- profile, pg_stat_statements). What needs a subquery, the former resident's residence, moves
-- into PL/pgSQL functions of its own (whose plans the session keeps), called only for a former
-- resident. The answers are unchanged.

-- The former municipality's view of the person (001's ELSE branch): the latest residence of
-- the person in `viewer` gives the resident number and the day the person moved out.
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

CREATE OR REPLACE FUNCTION records.person_json(p records.persons, viewer text) RETURNS jsonb
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

-- Did the person live in `muni` and leave it? (001's EXISTS.)
CREATE FUNCTION records.lived_in(person uuid, muni text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM records.residences r
                    WHERE r.person_id = person AND r.muni_code = muni
                      AND r.until_on IS NOT NULL);
END
$$;

CREATE OR REPLACE FUNCTION records.person_visible(p records.persons, muni text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p.muni_code = muni OR (NOT p.non_disclosure AND records.lived_in(p.id, muni))
$$;
