-- 001_persons_records.sql - persons (接種対象者) and vaccination records (接種記録), H-3.
--
-- Run by ss_migrate() as sesshu_records (owner of schema records), in one transaction.
--
-- Persons belong to one municipality at a time (muni_code); residences keep every municipality
-- a person lived in, so a move keeps the history and the new municipality sees past records.
-- The 個人番号 is stored only sealed (AES-256-GCM, key from configuration, the person's id as
-- associated data) and found only through its keyed hash (HMAC-SHA256 under a second key).
--
-- Change feeds (H-3-1): every write stamps the row with the writing transaction's id (txid) and
-- a value of records.change_seq (seq). A reader returns only rows whose txid is below the
-- oldest transaction still running (pg_snapshot_xmin), ordered by (txid, seq): every row that
-- can still appear then sorts after the cursor, so a poller never skips a late commit.

CREATE SEQUENCE records.change_seq;

CREATE TABLE records.persons (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    muni_code        char(6) NOT NULL CHECK (muni_code ~ '^[0-9]{6}$'),
    resident_no      text NOT NULL CHECK (length(resident_no) BETWEEN 1 AND 100),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    name_kana        text NOT NULL CHECK (length(name_kana) BETWEEN 1 AND 100),
    -- Search key: the kana without spaces (full- or half-width).
    name_kana_key    text GENERATED ALWAYS AS (translate(name_kana, ' 　', '')) STORED,
    name_romaji      text CHECK (length(name_romaji) BETWEEN 1 AND 100),
    former_name      text CHECK (length(former_name) BETWEEN 1 AND 100),
    birth_date       date NOT NULL,
    sex              char(1) NOT NULL CHECK (sex IN ('0', '1', '2', '9')),
    postal_code      text CHECK (postal_code ~ '^[0-9]{3}-?[0-9]{4}$'),
    address          text NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    status           text NOT NULL DEFAULT 'resident'
                     CHECK (status IN ('resident', 'moved_out', 'deceased')),
    status_on        date,
    non_disclosure   boolean NOT NULL DEFAULT false,
    my_number_sealed bytea,
    my_number_hash   text CHECK (my_number_hash ~ '^[0-9a-f]{64}$'),
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text NOT NULL,
    txid             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq              bigint NOT NULL DEFAULT nextval('records.change_seq'),
    CONSTRAINT persons_resident_no UNIQUE (muni_code, resident_no),
    CONSTRAINT persons_my_number_pair CHECK ((my_number_sealed IS NULL) = (my_number_hash IS NULL))
);
CREATE UNIQUE INDEX persons_my_number ON records.persons (my_number_hash)
    WHERE my_number_hash IS NOT NULL;
CREATE INDEX persons_kana ON records.persons (muni_code, name_kana_key, birth_date);
CREATE INDEX persons_feed ON records.persons (muni_code, txid, seq);

-- Every municipality a person lived in; until_on NULL = the current one. A former
-- municipality keeps reading what it recorded (its own records) by law.
CREATE TABLE records.residences (
    person_id   uuid NOT NULL REFERENCES records.persons (id),
    muni_code   char(6) NOT NULL,
    resident_no text NOT NULL,
    from_on     date,
    until_on    date,
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq         bigint NOT NULL DEFAULT nextval('records.change_seq'),
    PRIMARY KEY (person_id, seq)
);
CREATE INDEX residences_current ON records.residences (person_id) WHERE until_on IS NULL;
CREATE INDEX residences_muni ON records.residences (muni_code, person_id);
-- The persons feed of a former municipality shows the move-out.
CREATE INDEX residences_feed ON records.residences (muni_code, txid, seq) WHERE until_on IS NOT NULL;

-- Each version of a person as it was (no 個人番号): the person's history.
CREATE TABLE records.person_versions (
    person_id  uuid NOT NULL REFERENCES records.persons (id),
    version    integer NOT NULL,
    change     text NOT NULL CHECK (change IN ('created', 'updated', 'moved_in', 'imported')),
    doc        jsonb NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, version)
);

-- A guardian (parent) acts for a child: both are persons.
CREATE TABLE records.guardians (
    child_id    uuid NOT NULL REFERENCES records.persons (id),
    guardian_id uuid NOT NULL REFERENCES records.persons (id),
    relation    text NOT NULL DEFAULT 'parent' CHECK (relation IN ('parent', 'guardian')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    PRIMARY KEY (child_id, guardian_id),
    CONSTRAINT guardians_not_self CHECK (child_id <> guardian_id)
);
CREATE INDEX guardians_guardian ON records.guardians (guardian_id);

-- A medical institution's care relationship with a person: made when it registers a record
-- for the person or identifies the person by 個人番号 at reception; while it lasts the
-- institution may read the person's past doses (interval checks).
CREATE TABLE records.care_links (
    org_id    uuid NOT NULL,
    person_id uuid NOT NULL REFERENCES records.persons (id),
    until     timestamptz NOT NULL,
    PRIMARY KEY (org_id, person_id)
);

-- Vaccination records: the current version of each. Earlier versions are in
-- immunization_versions; a record is never overwritten without its previous version kept.
CREATE TABLE records.immunizations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id         uuid NOT NULL REFERENCES records.persons (id),
    -- 記録主体: the person's municipality when the record was made (payer of 定期接種).
    muni_code         char(6) NOT NULL,
    version           integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    status            text NOT NULL DEFAULT 'registered'
                      CHECK (status IN ('registered', 'corrected', 'voided')),
    vaccinated_on     date NOT NULL,
    vaccine_code      text NOT NULL CHECK (length(vaccine_code) BETWEEN 9 AND 13),
    disease_codes     text[] NOT NULL CHECK (cardinality(disease_codes) BETWEEN 1 AND 8),
    dose_number       integer NOT NULL CHECK (dose_number BETWEEN 1 AND 20),
    dose_label        text CHECK (length(dose_label) BETWEEN 1 AND 40),
    lot_no            text CHECK (length(lot_no) BETWEEN 1 AND 20),
    institution_code  char(10),
    doctor_name       text CHECK (length(doctor_name) BETWEEN 1 AND 100),
    dose_ml           numeric(5, 2) CHECK (dose_ml > 0 AND dose_ml <= 10),
    site              text CHECK (length(site) BETWEEN 1 AND 40),
    category          text NOT NULL
                      CHECK (category IN ('routine', 'temporary', 'special_temporary', 'voluntary')),
    requested_category text NOT NULL,
    source            text NOT NULL
                      CHECK (source IN ('institution', 'paper', 'health_system', 'api', 'foreign')),
    schedule_code     text,
    claimable         boolean NOT NULL DEFAULT false,
    flags             text[] NOT NULL DEFAULT '{}',
    pregnancy_weeks   integer CHECK (pregnancy_weeks BETWEEN 0 AND 45),
    questionnaire_id  uuid,
    note              text CHECK (length(note) <= 1000),
    registered_org_id uuid NOT NULL,
    registered_by     text NOT NULL,
    registered_at     timestamptz NOT NULL DEFAULT now(),
    updated_by        text NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    void_reason       text CHECK (length(void_reason) BETWEEN 1 AND 500),
    txid              xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq               bigint NOT NULL DEFAULT nextval('records.change_seq'),
    CONSTRAINT immunizations_voided CHECK ((status = 'voided') = (void_reason IS NOT NULL))
);
-- The same product given to the same person on the same day twice is one vaccination.
CREATE UNIQUE INDEX immunizations_same_day ON records.immunizations
    (person_id, vaccine_code, vaccinated_on) WHERE status <> 'voided';
CREATE INDEX immunizations_person ON records.immunizations (person_id, vaccinated_on);
CREATE INDEX immunizations_muni_date ON records.immunizations (muni_code, vaccinated_on);
CREATE INDEX immunizations_lot ON records.immunizations (lot_no, vaccine_code);
CREATE INDEX immunizations_institution ON records.immunizations (institution_code, vaccinated_on);
CREATE INDEX immunizations_feed ON records.immunizations (muni_code, txid, seq);

-- Earlier versions, written when a record is corrected or voided: the history.
CREATE TABLE records.immunization_versions (
    immunization_id uuid NOT NULL REFERENCES records.immunizations (id),
    version         integer NOT NULL,
    doc             jsonb NOT NULL,
    replaced_by     text NOT NULL,
    replaced_at     timestamptz NOT NULL DEFAULT now(),
    reason          text,
    PRIMARY KEY (immunization_id, version)
);

-- Idempotency-Key (the library's idem.c): the first answer to each (caller, key), replayed to
-- a retry of the same request; a different request under the same key is refused.
CREATE TABLE records.idempotency_keys (
    actor        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer,
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);
CREATE INDEX idempotency_keys_age ON records.idempotency_keys (created_at);

-- A person as the municipality `viewer` sees it (NULL = the owner's view): a former
-- municipality sees who the person was while living there, not where they live now. The
-- 個人番号 is never part of it (has_my_number only).
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
    ELSE
        jsonb_build_object('id', p.id, 'muni_code', viewer, 'resident_no',
            (SELECT r.resident_no FROM records.residences r WHERE r.person_id = p.id
              AND r.muni_code = viewer ORDER BY r.seq DESC LIMIT 1),
            'name', p.name, 'name_kana', p.name_kana, 'name_romaji', p.name_romaji,
            'former_name', p.former_name, 'birth_date', p.birth_date, 'sex', p.sex,
            'postal_code', NULL, 'address', NULL, 'status', 'moved_out',
            'status_on', (SELECT r.until_on FROM records.residences r WHERE r.person_id = p.id
              AND r.muni_code = viewer ORDER BY r.seq DESC LIMIT 1),
            'non_disclosure', false, 'has_my_number', p.my_number_hash IS NOT NULL,
            'relationship', 'former_resident', 'version', p.version,
            'created_at', p.created_at, 'updated_at', p.updated_at)
    END
$$;

-- May municipality `muni` see person p? Its residents; and its former residents unless the
-- person is flagged non-disclosure (then only the current municipality sees them).
CREATE FUNCTION records.person_visible(p records.persons, muni text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p.muni_code = muni OR (NOT p.non_disclosure AND EXISTS (
        SELECT 1 FROM records.residences r WHERE r.person_id = p.id AND r.muni_code = muni
          AND r.until_on IS NOT NULL))
$$;
