-- 004_table_state.sql - one change counter per master (the ETag of every read of it), and the
-- indexes of the change feed ("everything since change N": new versions and supersessions).

CREATE TABLE master.table_state (
    name        text PRIMARY KEY,
    last_change bigint NOT NULL
);
INSERT INTO master.table_state (name, last_change)
SELECT t, (SELECT last_value FROM master.change_seq)
  FROM unnest(ARRAY['prefectures', 'kokuhoren', 'municipalities', 'institutions', 'diseases',
                    'vaccines', 'schedules', 'lots', 'unit_prices', 'collective_contracts', 'banks',
                    'bank_branches']) AS t;

CREATE INDEX prefectures_sup ON master.prefectures (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX kokuhoren_sup ON master.kokuhoren (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX municipalities_sup ON master.municipalities (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX diseases_sup ON master.diseases (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX vaccines_sup ON master.vaccines (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX schedules_sup ON master.schedules (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX lots_sup ON master.lots (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX unit_prices_sup ON master.unit_prices (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX collective_contracts_sup ON master.collective_contracts (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX banks_sup ON master.banks (superseded_version) WHERE superseded_version IS NOT NULL;
CREATE INDEX bank_branches_sup ON master.bank_branches (superseded_version) WHERE superseded_version IS NOT NULL;
