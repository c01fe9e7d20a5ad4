-- 008_invoice_parts.sql - a line's invoice and payment found through its batch (issue 12's speed
-- aim): the invoices and the payment run write one row per batch and municipality instead of
-- updating every line (a month of a large prefecture is a million lines; each was written four
-- times: priced, reviewed, invoiced, paid).
--
-- An invoice part is what one invoice bills of one batch: the approved lines of the batch's
-- residents of one municipality. It is exact because a batch is billed only once reviewed
-- (pay_invoice_issue_guard), and the lines of a reviewed batch are never edited again: a review
-- decides only `claimed` lines (none are left), collect edits only lines of open batches
-- (002's collect_record), a reclaim or a 過誤調整 is a new line in an open month. So every
-- accepted or adjusted line of the part has the part's invoice, and its payment item once a
-- run has paid it (a held item sets none: the part waits for the next run, as its lines did).
CREATE TABLE payment.invoice_parts (
    batch_id         uuid NOT NULL REFERENCES payment.claim_batches (id),
    muni_code        char(6) NOT NULL,
    invoice_id       uuid NOT NULL REFERENCES payment.invoices (id),
    institution_code text NOT NULL,
    lines            int NOT NULL CHECK (lines > 0),
    amount_yen       bigint NOT NULL,
    payment_item_id  uuid REFERENCES payment.payment_items (id),
    PRIMARY KEY (batch_id, muni_code)
);
CREATE INDEX invoice_parts_invoice ON payment.invoice_parts (invoice_id);
CREATE INDEX invoice_parts_item ON payment.invoice_parts (payment_item_id);

-- What the lines carried so far, as parts (a database with billed months keeps its history;
-- the primary key refuses a batch and municipality billed by two invoices, which 003–007 never
-- wrote).
INSERT INTO payment.invoice_parts (batch_id, muni_code, invoice_id, institution_code, lines,
                                   amount_yen, payment_item_id)
SELECT l.batch_id, l.muni_code, l.invoice_id, min(l.institution_code), count(*),
       sum(l.approved_yen), l.payment_item_id
  FROM payment.claim_lines l
 WHERE l.invoice_id IS NOT NULL
 GROUP BY l.batch_id, l.muni_code, l.invoice_id, l.payment_item_id;

-- A line's invoice and payment item, read through its part (NULL for a line not billed:
-- returned, still claimed, or its batch not invoiced yet).
CREATE OR REPLACE FUNCTION payment.line_json(l payment.claim_lines, b payment.claim_batches)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', l.id,
        'batch_id', l.batch_id,
        'claim_month', to_char(b.claim_month, 'YYYY-MM'),
        'batch_status', b.status,
        'kind', l.kind,
        'record_id', l.record_id,
        'record_version', l.record_version,
        'record_status', l.record_status,
        'person_id', l.person_id,
        'muni_code', l.muni_code,
        'institution_code', l.institution_code,
        'prefecture_code', l.pref_code,
        'vaccinated_on', l.vaccinated_on,
        'vaccine_code', l.vaccine_code,
        'dose_number', l.dose_number,
        'basis', l.basis,
        'contract_code', l.contract_code,
        'price_yen', l.price_yen,
        'self_pay_yen', l.self_pay_yen,
        'claim_yen', l.claim_yen,
        'eligibility', l.eligibility,
        'referral_id', l.referral_id,
        'flags', to_jsonb(l.flags),
        'status', l.status,
        'approved_yen', l.approved_yen,
        'return_reason', l.return_reason,
        'review_reason', l.review_reason,
        'reviewed_by', l.reviewed_by,
        'reviewed_at', l.reviewed_at,
        'reclaim_of', l.reclaim_of,
        'invoice_id', p.invoice_id,
        'payment_item_id', p.payment_item_id,
        'created_at', l.created_at,
        'updated_at', l.updated_at)
      FROM (SELECT 1) one
      LEFT JOIN payment.invoice_parts p ON p.batch_id = l.batch_id AND p.muni_code = l.muni_code
                                       AND l.status IN ('accepted', 'adjusted')
$$;

ALTER TABLE payment.claim_lines DROP COLUMN invoice_id, DROP COLUMN payment_item_id;
