-- 003_invoices.sql - the 国保連合会's invoices to municipalities (lines + 委託事務手数料 per
-- line) for a claim month, and the municipality's payment of each. A batch reviewed after the
-- month's invoices were issued is billed by a further invoice (lines are invoiced once).
CREATE TABLE payment.invoices (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pref_code          char(2) NOT NULL,
    fed_org_id         uuid NOT NULL,
    muni_code          char(6) NOT NULL,
    claim_month        date NOT NULL CHECK (payment.month_ok(claim_month)),
    lines              int NOT NULL CHECK (lines >= 0),
    amount_yen         bigint NOT NULL,
    fee_per_line_yen   int NOT NULL CHECK (fee_per_line_yen >= 0),
    fee_yen            bigint NOT NULL,
    total_yen          bigint NOT NULL,
    status             text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'paid')),
    issued_by          text NOT NULL,
    issued_at          timestamptz NOT NULL DEFAULT now(),
    paid_on            date,
    paid_amount_yen    bigint,
    paid_recorded_by   text,
    paid_recorded_at   timestamptz,
    CHECK (fee_yen = lines::bigint * fee_per_line_yen),
    CHECK (total_yen = amount_yen + fee_yen),
    CHECK ((status = 'paid') = (paid_on IS NOT NULL)),
    CHECK (status <> 'paid' OR paid_amount_yen = total_yen)
);
CREATE INDEX invoices_muni ON payment.invoices (muni_code, claim_month);

ALTER TABLE payment.claim_lines ADD COLUMN invoice_id uuid REFERENCES payment.invoices (id);
CREATE INDEX claim_lines_invoice ON payment.claim_lines (invoice_id);
