/* claims.h - what the claims (請求) files share: handlers, the close day, the institution's
 * lock, the JSON views of batches and lines, and who sees which. */
#ifndef PAY_CLAIMS_H
#define PAY_CLAIMS_H

#include "sesshu/db.h"
#include "sesshu/http.h"

int pay_h_claims_collect(ss_req *r);
int pay_h_batch_close(ss_req *r);
int pay_h_batch_list(ss_req *r);
int pay_h_batch_get(ss_req *r);
int pay_h_batch_accept(ss_req *r);
int pay_h_line_list(ss_req *r);
int pay_h_line_get(ss_req *r);
int pay_h_line_review(ss_req *r);
int pay_h_line_reclaim(ss_req *r);
int pay_h_claims_totals(ss_req *r);
int pay_h_referral_create(ss_req *r);
int pay_h_referral_list(ss_req *r);
int pay_h_invoice_issue(ss_req *r);
int pay_h_invoice_list(ss_req *r);
int pay_h_invoice_get(ss_req *r);
int pay_h_invoice_pay(ss_req *r);
/* The 委託事務手数料 per billed line, yen (SESSHU_PAYMENT_FEE_PER_LINE_YEN, default 50). */
int pay_fee_per_line(void);
int pay_h_holidays_put(ss_req *r);
int pay_h_holidays_get(ss_req *r);
int pay_h_run_create(ss_req *r);
int pay_h_run_list(ss_req *r);
int pay_h_run_get(ss_req *r);
int pay_h_run_approve(ss_req *r);
int pay_h_run_zengin(ss_req *r);
int pay_h_payments_mine(ss_req *r);

/* The day of the following month a claim month closes on (SESSHU_PAYMENT_CLOSE_DAY, 1..28,
 * default 10). */
int pay_close_day(void);
/* In a transaction: the institution's advisory lock, then its batches past their close day
 * closed. */
int pay_claims_lock(ss_dbc *c, const char *inst);
/* In a transaction: the prefecture's batches past their close day closed. */
int pay_close_due_pref(ss_dbc *c, const char *pref);

/* Who looks at claims: "inst" (an institution: its own), "fed" (a 国保連合会: its
 * prefecture's), "muni" (a municipality: lines of its residents in closed months), "chuo" (the
 * 国保中央会: totals only), or NULL. */
const char *pay_claims_viewer(const ss_req *r);

/* $1 viewer, $2 institution code (org code), $3 prefecture, $4 municipality code. */
#define PAY_BATCH_VISIBLE(b)                                                           \
    "(($1::text = 'inst' AND " b ".institution_code = $2) OR ($1::text = 'fed' AND " b \
    ".pref_code = $3))"
#define PAY_LINE_VISIBLE(l, b)                                                             \
    "(($1::text = 'inst' AND " l ".institution_code = $2) OR ($1::text = 'fed' AND " l     \
    ".pref_code = $3) OR ($1::text = 'muni' AND " l ".muni_code = $4 AND " b ".status <> " \
    "'open'))"

#define PAY_BATCH_JSON(b)                                                                       \
    "(SELECT jsonb_build_object('id', " b ".id, 'institution_code', " b                         \
    ".institution_code, 'prefecture_code', " b ".pref_code, 'claim_month', to_char(" b          \
    ".claim_month, 'YYYY-MM'), 'status', " b ".status, 'closed_how', " b ".closed_how, "        \
    "'closed_at', " b ".closed_at, 'reviewed_at', " b ".reviewed_at, 'created_at', " b          \
    ".created_at, 'totals', jsonb_build_object('lines', count(t.id), 'claimed_yen', "           \
    "coalesce(sum(t.claim_yen), 0), 'returned_lines', count(t.id) FILTER (WHERE t.status = "    \
    "'returned'), 'undecided_lines', count(t.id) FILTER (WHERE t.status = 'claimed'), "         \
    "'approved_yen', coalesce(sum(t.approved_yen), 0), 'adjustment_lines', count(t.id) FILTER " \
    "(WHERE t.kind = 'adjustment'))) FROM payment.claim_lines t WHERE t.batch_id = " b ".id)"

#define PAY_LINE_JSON(l, b)                                                                       \
    "jsonb_build_object('id', " l ".id, 'batch_id', " l ".batch_id, 'claim_month', to_char(" b    \
    ".claim_month, 'YYYY-MM'), 'batch_status', " b ".status, 'kind', " l ".kind, 'record_id', " l \
    ".record_id, 'record_version', " l ".record_version, 'record_status', " l                     \
    ".record_status, 'person_id', " l ".person_id, 'muni_code', " l ".muni_code, "                \
    "'institution_code', " l ".institution_code, 'prefecture_code', " l ".pref_code, "            \
    "'vaccinated_on', " l ".vaccinated_on, 'vaccine_code', " l ".vaccine_code, 'dose_number', " l \
    ".dose_number, 'basis', " l ".basis, 'contract_code', " l ".contract_code, 'price_yen', " l   \
    ".price_yen, 'self_pay_yen', " l ".self_pay_yen, 'claim_yen', " l ".claim_yen, "              \
    "'eligibility', " l ".eligibility, 'referral_id', " l ".referral_id, 'flags', to_jsonb(" l    \
    ".flags), 'status', " l ".status, 'approved_yen', " l ".approved_yen, 'return_reason', " l    \
    ".return_reason, 'review_reason', " l ".review_reason, 'reviewed_by', " l ".reviewed_by, "    \
    "'reviewed_at', " l ".reviewed_at, 'reclaim_of', " l ".reclaim_of, 'invoice_id', " l          \
    ".invoice_id, 'payment_item_id', " l ".payment_item_id, 'created_at', " l                     \
    ".created_at, 'updated_at', " l ".updated_at)"

#endif
