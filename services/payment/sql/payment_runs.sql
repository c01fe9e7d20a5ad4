-- payment_runs.sql - payment runs, their Zengin file, and an institution's payments (payruns.c).

-- name: pay_run_guard
-- $1 pref_code: text, the caller's prefecture
-- $2 claim_month: date, YYYY-MM-01
-- Before a run: the month's invoices, those not paid, whether the calendar covers the pay day's
-- year; and the prefecture's run lock.
SELECT (SELECT count(*)
        FROM payment.invoices i
        WHERE i.pref_code = $1
          AND i.claim_month = $2::date),
       (SELECT count(*)
        FROM payment.invoices i
        WHERE i.pref_code = $1
          AND i.claim_month = $2::date
          AND i.status <> 'paid'),
       EXISTS (SELECT 1
               FROM payment.holiday_years y
               WHERE y.year = extract(year FROM ($2::date + interval '3 months' - interval '1 day'))),
       pg_advisory_xact_lock(hashtext('runs:' || $1)) IS NOT NULL;

-- name: pay_run_insert
-- $1 pref_code: text, the caller's prefecture
-- $2 claim_month: date, the run pays invoices of this month and earlier
-- $3 by: text, the caller (token subject)
-- $4 by_org_id: uuid, the caller's organisation
-- A run of the lines of paid invoices not yet paid, one item per institution (its account and
-- the source account, or held with the reason): the run's id (NULL: nothing to pay) and lines.
-- The lines are reached through their invoice parts (a batch's lines of one municipality,
-- migrations/008_invoice_parts.sql): the run reads and marks parts, never the lines.
WITH l AS MATERIALIZED (
    SELECT p.batch_id, p.muni_code, p.institution_code, p.amount_yen, p.lines
    FROM payment.invoices v
    JOIN payment.invoice_parts p ON p.invoice_id = v.id
    WHERE v.pref_code = $1
      AND v.claim_month <= $2::date
      AND v.status = 'paid'
      AND p.payment_item_id IS NULL),
g AS (
    SELECT institution_code, sum(amount_yen) AS amt, sum(lines) AS n
    FROM l
    GROUP BY 1),
run AS (
    INSERT INTO payment.payment_runs (pref_code, fed_org_id, claim_month, pay_on, prepared_by)
    SELECT $1, $4::uuid, $2::date, payment.pay_day($2::date), $3
    WHERE EXISTS (SELECT 1
                  FROM g)
    RETURNING id),
d AS (
    SELECT g.*, a.id AS aid, a.purpose, a.bank_code, a.branch_code,
           a.account_type, a.account_number, a.holder_name, s.id AS sid
    FROM g
    LEFT JOIN LATERAL (SELECT a.*
                       FROM payment.bank_accounts a
                       WHERE a.institution_code = g.institution_code
                         AND a.status = 'approved'
                         AND a.effective_from <= $2::date
                         AND (a.effective_to IS NULL OR a.effective_to >= $2::date)
                       ORDER BY a.purpose = 'assignment' DESC, a.effective_from DESC
                       LIMIT 1) a ON true
    LEFT JOIN LATERAL (SELECT p.id
                       FROM payment.payer_accounts p
                       LEFT JOIN payment.payer_links k ON k.account_id = p.id
                           AND k.bank_code = a.bank_code
                       WHERE p.pref_code = $1
                         AND p.status = 'active'
                         AND (k.bank_code IS NOT NULL OR p.is_default)
                       ORDER BY k.bank_code IS NULL
                       LIMIT 1) s ON a.id IS NOT NULL),
ins AS (
    INSERT INTO payment.payment_items (
        run_id, institution_code, amount_yen, lines, status, held_reason, account_id, purpose,
        bank_code, branch_code, account_type, account_number, holder_name, payer_account_id)
    SELECT run.id, d.institution_code, d.amt, d.n,
           CASE WHEN d.amt <= 0 OR d.aid IS NULL OR d.sid IS NULL THEN 'held' ELSE 'pay' END,
           CASE
               WHEN d.amt <= 0 THEN
                   'nothing owed: the 過誤調整 lines make the net not positive; carried to the next run and netted there'
               WHEN d.aid IS NULL THEN 'no approved bank account for the claim month'
               WHEN d.sid IS NULL THEN
                   'no source account routes the destination bank and there is no default'
               END, d.aid, d.purpose, d.bank_code, d.branch_code,
           d.account_type, d.account_number, d.holder_name, d.sid
    FROM d, run
    RETURNING id, institution_code, status, run_id),
-- The parts of l of each paid item marked with it (a held item's wait for the next run).
u AS (
    UPDATE payment.invoice_parts x
    SET payment_item_id = ins.id
    FROM ins, l
    WHERE ins.status = 'pay'
      AND l.institution_code = ins.institution_code
      AND x.batch_id = l.batch_id
      AND x.muni_code = l.muni_code
    RETURNING x.lines)
SELECT (SELECT id::text FROM run), (SELECT coalesce(sum(lines), 0) FROM u);

-- name: pay_run_by_id
-- $1 id: uuid, the payment run
-- A run with its items (after a write that checked whose it is).
SELECT payment.run_json(x)::text
FROM payment.payment_runs x
WHERE x.id = $1::uuid;

-- name: pay_run_list
-- $1 pref_code: text, the caller's prefecture
-- $2 claim_month: date, or NULL
-- The prefecture's runs, newest first (at most 200).
SELECT payment.run_json(x)::text
FROM payment.payment_runs x
WHERE x.pref_code = $1
  AND ($2::date IS NULL OR x.claim_month = $2::date)
ORDER BY x.prepared_at DESC
LIMIT 200;

-- name: pay_run_get
-- $1 pref_code: text, the caller's prefecture
-- $2 id: uuid, the payment run
-- A run of the prefecture.
SELECT payment.run_json(x)::text
FROM payment.payment_runs x
WHERE x.id = $2::uuid
  AND x.pref_code = $1;

-- name: pay_run_approve_guard
-- $1 pref_code: text, the caller's prefecture
-- $2 id: uuid, the payment run
-- The run to approve, locked: status and preparer.
SELECT x.status, x.prepared_by
FROM payment.payment_runs x
WHERE x.id = $2::uuid
  AND x.pref_code = $1
FOR UPDATE;

-- name: pay_run_approve
-- $1 pref_code: text, the caller's prefecture
-- $2 id: uuid, the payment run
-- $3 by: text, the caller (token subject)
-- The run approved by another user than its preparer. No row: it changed meanwhile.
WITH x AS (
    UPDATE payment.payment_runs y
    SET status = 'approved', approved_by = $3, approved_at = now()
    WHERE y.id = $2::uuid
      AND y.pref_code = $1
      AND y.status = 'prepared'
      AND y.prepared_by <> $3
    RETURNING y.*)
SELECT payment.run_json(x::payment.payment_runs)::text
FROM x;

-- name: pay_run_zengin_rows
-- $1 pref_code: text, the caller's prefecture
-- $2 id: uuid, the payment run
-- The rows of a run's Zengin file, by source account (payruns.c put_header, put_data): kana names
-- of banks and branches from the master on the pay day ('' when none).
SELECT p.id::text, p.client_code, p.holder_name, p.bank_code,
       coalesce(
           (SELECT k.name_kana
            FROM master.banks k
            WHERE k.code = p.bank_code
              AND k.superseded_at IS NULL
              AND k.valid_from <= x.pay_on
              AND (k.valid_to IS NULL OR k.valid_to >= x.pay_on)
            ORDER BY k.valid_from DESC
            LIMIT 1), ''), p.branch_code,
       coalesce(
           (SELECT k.name_kana
            FROM master.bank_branches k
            WHERE k.bank_code = p.bank_code
              AND k.code = p.branch_code
              AND k.superseded_at IS NULL
              AND k.valid_from <= x.pay_on
              AND (k.valid_to IS NULL OR k.valid_to >= x.pay_on)
            ORDER BY k.valid_from DESC
            LIMIT 1), ''), p.account_type, p.account_number,
       i.bank_code,
       coalesce(
           (SELECT k.name_kana
            FROM master.banks k
            WHERE k.code = i.bank_code
              AND k.superseded_at IS NULL
              AND k.valid_from <= x.pay_on
              AND (k.valid_to IS NULL OR k.valid_to >= x.pay_on)
            ORDER BY k.valid_from DESC
            LIMIT 1), ''), i.branch_code,
       coalesce(
           (SELECT k.name_kana
            FROM master.bank_branches k
            WHERE k.bank_code = i.bank_code
              AND k.code = i.branch_code
              AND k.superseded_at IS NULL
              AND k.valid_from <= x.pay_on
              AND (k.valid_to IS NULL OR k.valid_to >= x.pay_on)
            ORDER BY k.valid_from DESC
            LIMIT 1), ''), i.account_type, i.account_number,
       i.holder_name, i.amount_yen::text, to_char(x.pay_on, 'MMDD')
FROM payment.payment_items i
JOIN payment.payment_runs x ON x.id = i.run_id
JOIN payment.payer_accounts p ON p.id = i.payer_account_id
WHERE i.run_id = $2::uuid
  AND x.pref_code = $1
  AND i.status = 'pay'
ORDER BY p.id, i.institution_code;

-- name: pay_run_status
-- $1 pref_code: text, the caller's prefecture
-- $2 id: uuid, the payment run
-- A run's status.
SELECT x.status
FROM payment.payment_runs x
WHERE x.id = $2::uuid
  AND x.pref_code = $1;

-- name: pay_payments_mine
-- $1 institution_code: text, the caller's institution code
-- $2 claim_month: date, or NULL
-- An institution's payment items of every run, newest first (at most 200).
SELECT jsonb_build_object(
    'run_id', x.id,
    'claim_month', to_char(x.claim_month, 'YYYY-MM'),
    'pay_on', x.pay_on,
    'run_status', x.status,
    'amount_yen', i.amount_yen,
    'lines', i.lines,
    'status', i.status,
    'held_reason', i.held_reason,
    'account_id', i.account_id,
    'purpose', i.purpose,
    'bank_code', i.bank_code,
    'branch_code', i.branch_code,
    'account_number', i.account_number,
    'holder_name', i.holder_name)::text
FROM payment.payment_items i
JOIN payment.payment_runs x ON x.id = i.run_id
WHERE i.institution_code = $1
  AND ($2::date IS NULL OR x.claim_month = $2::date)
ORDER BY x.claim_month DESC, x.prepared_at DESC
LIMIT 200;
