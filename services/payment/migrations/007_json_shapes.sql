-- 007_json_shapes.sql - each JSON shape the payment service answers, written once (issue 16:
-- the statements of sql/*.sql wrote the same column lists out two to nine times). SQL functions
-- of the row, as records has records.immunization_json: the ones that read only their row are
-- inlined by the planner; batch_json, run_json and account_documents_json read the rows under
-- theirs. A statement whose row comes from a CTE (INSERT/UPDATE ... RETURNING) casts it to the
-- table's type. The shapes are the OpenAPI document's (proto-schemas/payment.yaml), unchanged.

-- A claim line as every line statement answers it (with its batch's month and status).
CREATE FUNCTION payment.line_json(l payment.claim_lines, b payment.claim_batches) RETURNS jsonb
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
        'invoice_id', l.invoice_id,
        'payment_item_id', l.payment_item_id,
        'created_at', l.created_at,
        'updated_at', l.updated_at)
$$;

-- An invoice (請求書) to a municipality.
CREATE FUNCTION payment.invoice_json(i payment.invoices) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', i.id,
        'prefecture_code', i.pref_code,
        'muni_code', i.muni_code,
        'claim_month', to_char(i.claim_month, 'YYYY-MM'),
        'lines', i.lines,
        'amount_yen', i.amount_yen,
        'fee_per_line_yen', i.fee_per_line_yen,
        'fee_yen', i.fee_yen,
        'total_yen', i.total_yen,
        'status', i.status,
        'issued_by', i.issued_by,
        'issued_at', i.issued_at,
        'paid_on', i.paid_on,
        'paid_amount_yen', i.paid_amount_yen,
        'paid_recorded_at', i.paid_recorded_at)
$$;

-- A 依頼書 (住所地外接種).
CREATE FUNCTION payment.referral_json(f payment.referrals) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', f.id,
        'muni_code', f.muni_code,
        'person_id', f.person_id,
        'institution_code', f.institution_code,
        'vaccine_code', f.vaccine_code,
        'valid_from', f.valid_from,
        'valid_to', f.valid_to,
        'note', f.note,
        'created_by', f.created_by,
        'created_at', f.created_at)
$$;

-- A claim batch with its totals summed from its lines.
CREATE FUNCTION payment.batch_json(b payment.claim_batches) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', b.id,
        'institution_code', b.institution_code,
        'prefecture_code', b.pref_code,
        'claim_month', to_char(b.claim_month, 'YYYY-MM'),
        'status', b.status,
        'closed_how', b.closed_how,
        'closed_at', b.closed_at,
        'reviewed_at', b.reviewed_at,
        'created_at', b.created_at,
        'totals', jsonb_build_object(
            'lines', count(t.id),
            'claimed_yen', coalesce(sum(t.claim_yen), 0),
            'returned_lines', count(t.id) FILTER (WHERE t.status = 'returned'),
            'undecided_lines', count(t.id) FILTER (WHERE t.status = 'claimed'),
            'approved_yen', coalesce(sum(t.approved_yen), 0),
            'adjustment_lines', count(t.id) FILTER (WHERE t.kind = 'adjustment')))
      FROM payment.claim_lines t
     WHERE t.batch_id = b.id
$$;

-- A payment run with its items (one per institution) and its total.
CREATE FUNCTION payment.run_json(x payment.payment_runs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', x.id,
        'prefecture_code', x.pref_code,
        'claim_month', to_char(x.claim_month, 'YYYY-MM'),
        'pay_on', x.pay_on,
        'status', x.status,
        'prepared_by', x.prepared_by,
        'prepared_at', x.prepared_at,
        'approved_by', x.approved_by,
        'approved_at', x.approved_at,
        'items', (SELECT coalesce(
                      jsonb_agg(
                          jsonb_build_object(
                              'institution_code', i.institution_code,
                              'amount_yen', i.amount_yen,
                              'lines', i.lines,
                              'status', i.status,
                              'held_reason', i.held_reason,
                              'account_id', i.account_id,
                              'purpose', i.purpose,
                              'bank_code', i.bank_code,
                              'branch_code', i.branch_code,
                              'account_type', i.account_type,
                              'account_number', i.account_number,
                              'holder_name', i.holder_name,
                              'payer_account_id', i.payer_account_id) ORDER BY i.institution_code),
                      '[]')
                  FROM payment.payment_items i
                  WHERE i.run_id = x.id),
        'total_yen', (SELECT coalesce(sum(i.amount_yen), 0)
                      FROM payment.payment_items i
                      WHERE i.run_id = x.id
                        AND i.status = 'pay'))
$$;

-- An institution's bank account (H-9), without its documents.
CREATE FUNCTION payment.account_json(a payment.bank_accounts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', a.id,
        'org_id', a.org_id,
        'institution_code', a.institution_code,
        'prefecture_code', a.pref_code,
        'purpose', a.purpose,
        'bank_code', a.bank_code,
        'branch_code', a.branch_code,
        'account_type', a.account_type,
        'account_number', a.account_number,
        'holder_name', a.holder_name,
        'holder_name_input', a.holder_name_input,
        'assignment', CASE
            WHEN a.purpose = 'assignment' THEN jsonb_build_object(
                'assignee_name', a.assignee_name,
                'from', a.assignment_from,
                'to', a.assignment_to)
            END,
        'effective_from', to_char(a.effective_from, 'YYYY-MM'),
        'effective_to', to_char(a.effective_to, 'YYYY-MM'),
        'status', a.status,
        'version', a.version,
        'submitted_by', a.submitted_by,
        'submitted_at', a.submitted_at,
        'reviewed_by', a.reviewed_by,
        'reviewed_org_id', a.reviewed_org_id,
        'reviewed_at', a.reviewed_at,
        'review_reason', a.review_reason,
        'created_at', a.created_at,
        'updated_at', a.updated_at)
$$;

-- A 国保連合会's source account (H-10) with the bank codes it pays.
CREATE FUNCTION payment.payer_json(p payment.payer_accounts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', p.id,
        'org_id', p.org_id,
        'prefecture_code', p.pref_code,
        'bank_code', p.bank_code,
        'branch_code', p.branch_code,
        'account_type', p.account_type,
        'account_number', p.account_number,
        'holder_name', p.holder_name,
        'client_code', p.client_code,
        'destination_bank_codes', to_jsonb(p.bank_codes),
        'is_default', p.is_default,
        'status', p.status,
        'version', p.version,
        'updated_by', p.updated_by,
        'created_at', p.created_at,
        'updated_at', p.updated_at)
$$;

-- {documents: [...]}: an account's documents, oldest first (never their content).
CREATE FUNCTION payment.account_documents_json(a payment.bank_accounts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'documents', (SELECT coalesce(
                          jsonb_agg(
                              jsonb_build_object(
                                  'id', d.id,
                                  'version', d.version,
                                  'kind', d.kind,
                                  'content_type', d.content_type,
                                  'size_bytes', d.size_bytes,
                                  'sha256', d.sha256,
                                  'uploaded_by', d.uploaded_by,
                                  'uploaded_at', d.uploaded_at) ORDER BY d.uploaded_at, d.id),
                          '[]'::jsonb)
                      FROM payment.bank_account_documents d
                      WHERE d.account_id = a.id))
$$;
