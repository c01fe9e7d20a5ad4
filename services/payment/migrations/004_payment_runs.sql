-- 004_payment_runs.sql - the Japanese public-holiday calendar (imported from a maintained
-- source, never typed by hand), and the 国保連合会's payment runs: one per prefecture and claim
-- month, paying each institution on 翌々月末 the approved amounts of its paid invoices' lines,
-- to the account approved for the claim month (the assignee's under 債権譲渡), from the source
-- account H-10 chooses for the destination bank.

CREATE TABLE payment.holidays (
    day        date PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    source     text NOT NULL
);
-- The years the calendar covers: a year not imported cannot date a payment.
CREATE TABLE payment.holiday_years (
    year       int PRIMARY KEY CHECK (year BETWEEN 2000 AND 2099),
    source     text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    days       int NOT NULL,
    loaded_by  text NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);

-- 翌々月末 of a claim month (DOMAIN.md 4.1: the 国保連 pays at the end of the month after
-- next), or the business day before when it is a Saturday, Sunday or public holiday.
CREATE FUNCTION payment.pay_day(claim_month date) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d date := (claim_month + interval '3 months' - interval '1 day')::date;
BEGIN
    WHILE extract(isodow FROM d) >= 6 OR EXISTS (SELECT 1 FROM payment.holidays h WHERE h.day = d) LOOP
        d := d - 1;
    END LOOP;
    RETURN d;
END
$$;

-- A run takes every line of the month's paid invoices not yet paid; a held institution's lines
-- wait for the next run.
CREATE TABLE payment.payment_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pref_code    char(2) NOT NULL,
    fed_org_id   uuid NOT NULL,
    claim_month  date NOT NULL CHECK (payment.month_ok(claim_month)),
    pay_on       date NOT NULL,
    status       text NOT NULL DEFAULT 'prepared' CHECK (status IN ('prepared', 'approved')),
    prepared_by  text NOT NULL,
    prepared_at  timestamptz NOT NULL DEFAULT now(),
    approved_by  text,
    approved_at  timestamptz,
    CHECK ((status = 'approved') = (approved_by IS NOT NULL)),
    CHECK (approved_by IS DISTINCT FROM prepared_by)
);

-- One institution's payment in a run: `pay` (a data record of the Zengin file) or `held`
-- (no approved account for the month, no source account, or nothing owed), with the reason.
CREATE TABLE payment.payment_items (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id           uuid NOT NULL REFERENCES payment.payment_runs (id),
    institution_code text NOT NULL,
    amount_yen       bigint NOT NULL,
    lines            int NOT NULL,
    status           text NOT NULL CHECK (status IN ('pay', 'held')),
    held_reason      text,
    account_id       uuid REFERENCES payment.bank_accounts (id),
    purpose          text,
    bank_code        char(4),
    branch_code      char(3),
    account_type     text,
    account_number   char(7),
    holder_name      text,
    payer_account_id uuid REFERENCES payment.payer_accounts (id),
    UNIQUE (run_id, institution_code),
    CHECK ((status = 'held') = (held_reason IS NOT NULL)),
    CHECK (status = 'held' OR (amount_yen > 0 AND account_id IS NOT NULL AND payer_account_id IS NOT NULL))
);

ALTER TABLE payment.claim_lines ADD COLUMN payment_item_id uuid REFERENCES payment.payment_items (id);

-- The batches of a prefecture past their close day, closed: the 国保連合会's review and invoices
-- do not wait for an institution that writes nothing after the close day. Each institution's
-- claims lock is taken first (in code order: no deadlock between two such calls), so no line
-- is being added to a batch while it closes.
CREATE FUNCTION payment.close_due_pref(pref text, close_day int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('claims:' || d.institution_code))
       FROM (SELECT DISTINCT b.institution_code FROM payment.claim_batches b
              WHERE b.pref_code = pref AND b.status = 'open'
                AND b.claim_month < payment.open_month(close_day)
              ORDER BY 1) d;
    UPDATE payment.claim_batches b SET status = 'closed', closed_how = 'close_day',
           closed_at = now()
     WHERE b.pref_code = pref AND b.status = 'open'
       AND b.claim_month < payment.open_month(close_day);
END
$$;
