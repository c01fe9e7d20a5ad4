-- 005_stage.sql - staging tables of the write engine (apply.c). The service role may not create
-- temporary tables (db/roles.sql revokes TEMP from PUBLIC), so each master has an UNLOGGED
-- stage_<master> with its columns plus `line`, and stage_diff holds the classification. A write
-- transaction inserts its rows, works set-wise, and deletes them before it commits (a dry run
-- rolls back): other transactions never see a staged row, so concurrent imports do not meet.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['prefectures', 'kokuhoren', 'municipalities', 'institutions', 'diseases',
                             'vaccines', 'schedules', 'lots', 'unit_prices', 'collective_contracts',
                             'banks', 'bank_branches'] LOOP
        EXECUTE format('CREATE UNLOGGED TABLE master.%I AS SELECT 0::int AS line, * FROM master.%I WITH NO DATA',
                       'stage_' || t, t);
        EXECUTE format('REVOKE ALL ON master.%I FROM sesshu_master_reader', 'stage_' || t);
    END LOOP;
END $$;

CREATE UNLOGGED TABLE master.stage_diff (
    line int NOT NULL,
    op   text NOT NULL
);
REVOKE ALL ON master.stage_diff FROM sesshu_master_reader;
