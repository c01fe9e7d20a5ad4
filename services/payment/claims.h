/* claims.h - what the claims (請求) files share: handlers, the close day, the institution's
 * lock, and who sees which (the statements: sql/<resource>.sql). */
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

#endif
