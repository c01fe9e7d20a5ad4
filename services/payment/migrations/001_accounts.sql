-- 001_accounts.sql - institutions' bank accounts with approval (H-9) and the federation's source
-- accounts linked to destination bank codes (H-10).
--
-- Run by ss_migrate() as sesshu_payment (owner of schema payment), in one transaction.
-- Organisations and users are account's: their ids are stored as given (no foreign keys across
-- services). Bank and branch codes are checked against master.banks / master.bank_branches by
-- the service (the master read contract), not by foreign keys.
--
-- Months are stored as the date of their first day (CHECK month_ok).

CREATE FUNCTION payment.month_ok(d date) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT extract(day FROM d) = 1 $$;

-- One row per account request: the current state. Every state it went through is a row of
-- bank_account_versions (the first submission included).
CREATE TABLE payment.bank_accounts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL,
    institution_code  text NOT NULL,
    pref_code         char(2) NOT NULL,
    purpose           text NOT NULL CHECK (purpose IN ('vaccination', 'assignment')),
    bank_code         char(4) NOT NULL CHECK (bank_code ~ '^[0-9]{4}$'),
    branch_code       char(3) NOT NULL CHECK (branch_code ~ '^[0-9]{3}$'),
    account_type      text NOT NULL CHECK (account_type IN ('ordinary', 'current', 'savings')),
    account_number    char(7) NOT NULL CHECK (account_number ~ '^[0-9]{7}$'),
    holder_name       text NOT NULL CHECK (length(holder_name) BETWEEN 1 AND 30),
    holder_name_input text NOT NULL,
    assignee_name     text CHECK (length(assignee_name) BETWEEN 1 AND 200),
    assignment_from   date,
    assignment_to     date,
    effective_from    date NOT NULL CHECK (payment.month_ok(effective_from)),
    -- Last month in effect (first day), NULL = until a later account of the purpose takes over.
    effective_to      date CHECK (effective_to IS NULL OR payment.month_ok(effective_to)),
    status            text NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected')),
    version           integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    submitted_by      text NOT NULL,
    submitted_org_id  uuid NOT NULL,
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    reviewed_by       text,
    reviewed_org_id   uuid,
    reviewed_at       timestamptz,
    review_reason     text CHECK (length(review_reason) <= 1000),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assignment_fields CHECK ((purpose = 'assignment') = (assignee_name IS NOT NULL)
        AND (purpose = 'assignment') = (assignment_from IS NOT NULL)
        AND (purpose = 'assignment') = (assignment_to IS NOT NULL)
        AND (purpose = 'assignment') = (effective_to IS NOT NULL)),
    CONSTRAINT assignment_period CHECK (assignment_to IS NULL OR assignment_to >= assignment_from),
    CONSTRAINT effective_period CHECK (effective_to IS NULL OR effective_to >= effective_from),
    -- Four eyes: the reviewer is neither the submitter nor of the submitter's organisation.
    CONSTRAINT four_eyes CHECK (reviewed_by IS NULL OR (reviewed_by <> submitted_by
        AND reviewed_org_id <> submitted_org_id))
);
CREATE INDEX bank_accounts_org ON payment.bank_accounts (org_id, created_at DESC, id DESC);
CREATE INDEX bank_accounts_pref ON payment.bank_accounts (pref_code, status, created_at DESC, id DESC);
-- One live (submitted or approved) vaccination account per organisation and starting month:
-- with open-ended periods that is "one effective account per purpose and month". Assignment
-- accounts have closed periods; their overlaps are refused by the service under a lock.
CREATE UNIQUE INDEX bank_accounts_one_per_month ON payment.bank_accounts (org_id, purpose, effective_from)
    WHERE status IN ('submitted', 'approved');

CREATE TABLE payment.bank_account_versions (
    account_id uuid NOT NULL REFERENCES payment.bank_accounts (id),
    seq        integer NOT NULL,
    version    integer NOT NULL,
    event      text NOT NULL CHECK (event IN ('submitted', 'resubmitted', 'approved', 'rejected')),
    doc        jsonb NOT NULL,
    by_user    text NOT NULL,
    by_org_id  uuid NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, seq)
);

-- Supporting documents (委任状, passbook copy): PDF, PNG or JPEG, size-limited by the service.
CREATE TABLE payment.bank_account_documents (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id   uuid NOT NULL REFERENCES payment.bank_accounts (id),
    version      integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('power_of_attorney', 'passbook', 'other')),
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    size_bytes   integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 4194304),
    sha256       text NOT NULL,
    content      bytea NOT NULL,
    uploaded_by  text NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_account_documents_account ON payment.bank_account_documents (account_id, uploaded_at);

-- H-10: a 国保連合会's source accounts, each with the destination bank codes it pays.
CREATE TABLE payment.payer_accounts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL,
    pref_code      char(2) NOT NULL,
    bank_code      char(4) NOT NULL CHECK (bank_code ~ '^[0-9]{4}$'),
    branch_code    char(3) NOT NULL CHECK (branch_code ~ '^[0-9]{3}$'),
    account_type   text NOT NULL CHECK (account_type IN ('ordinary', 'current', 'savings')),
    account_number char(7) NOT NULL CHECK (account_number ~ '^[0-9]{7}$'),
    holder_name    text NOT NULL CHECK (length(holder_name) BETWEEN 1 AND 40),
    client_code    char(10) NOT NULL CHECK (client_code ~ '^[0-9]{10}$'),
    bank_codes     text[] NOT NULL DEFAULT '{}',
    is_default     boolean NOT NULL DEFAULT false,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    version        integer NOT NULL DEFAULT 1,
    updated_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payer_accounts_pref ON payment.payer_accounts (pref_code, created_at DESC, id DESC);
CREATE UNIQUE INDEX payer_accounts_one_default ON payment.payer_accounts (pref_code)
    WHERE is_default AND status = 'active';
CREATE UNIQUE INDEX payer_accounts_number ON payment.payer_accounts (pref_code, bank_code, branch_code, account_number)
    WHERE status = 'active';

-- Which active source account pays each destination bank: a bank code at most once per
-- federation (the primary key); rewritten with every version of an account.
CREATE TABLE payment.payer_links (
    pref_code  char(2) NOT NULL,
    bank_code  char(4) NOT NULL,
    account_id uuid NOT NULL REFERENCES payment.payer_accounts (id),
    PRIMARY KEY (pref_code, bank_code)
);
CREATE INDEX payer_links_account ON payment.payer_links (account_id);

CREATE TABLE payment.payer_account_versions (
    account_id uuid NOT NULL REFERENCES payment.payer_accounts (id),
    version    integer NOT NULL,
    doc        jsonb NOT NULL,
    by_user    text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, version)
);

CREATE TABLE payment.idempotency_keys (
    actor        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer,
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);
