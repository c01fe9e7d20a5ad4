/* pay.h - what the payment service's files share: the service, its handlers, the viewer
 * guards and small request helpers. */
#ifndef PAY_H
#define PAY_H

#include <stdbool.h>

#include "pay_sql.h" /* generated from sql/<resource>.sql */
#include "sesshu/db.h"
#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"

/* The service (service.c); main.c runs it, tests start it in-process. */
extern const ss_service pay_service;

/* Largest supporting document (bytes) and documents per account. */
#define PAY_DOC_MAX      (1024 * 1024)
#define PAY_DOCS_PER_ACC 5

/* H-9 bank accounts (accounts.c, accounts_review.c, accounts_docs.c). */
int pay_h_account_create(ss_req *r);
int pay_h_account_list(ss_req *r);
int pay_h_account_get(ss_req *r);
int pay_h_account_history(ss_req *r);
int pay_h_account_resubmit(ss_req *r);
int pay_h_account_effective(ss_req *r);
int pay_h_account_approve(ss_req *r);
int pay_h_account_reject(ss_req *r);
int pay_h_document_upload(ss_req *r);
int pay_h_document_get(ss_req *r);

/* H-10 federation source accounts (payer.c). */
int pay_h_payer_create(ss_req *r);
int pay_h_payer_list(ss_req *r);
int pay_h_payer_get(ss_req *r);
int pay_h_payer_update(ss_req *r);
int pay_h_payer_retire(ss_req *r);
int pay_h_payer_history(ss_req *r);
int pay_h_payer_route(ss_req *r);

/* Who is looking: "inst" (a medical institution, its own resources), "fed" (a 国保連合会, its
 * prefecture's), or NULL (neither: the handler answers 403). `inst_perm` and `fed_perm` are
 * the library permissions that make each. */
const char *pay_viewer(const ss_req *r, int inst_perm, int fed_perm);
/* The caller's prefecture ("01".."47"; an institution's from its code), or "". */
const char *pay_pref(const ss_req *r);

/* One statement on its own connection whose first column is a JSON object: reply it with
 * `status`, or 404 with `notfound` when there is no row. 23505 becomes 409 `conflict`. */
int pay_reply_row(ss_req *r, const char *sql, int n, const char *const *params, int status,
                  const char *notfound, const char *conflict);
/* A write in one transaction under the caller's Idempotency-Key (write_tx.c): fn runs the
 * checks and the work on c and sets *doc (owned, freed by pay_write_tx) and *status (200 when
 * untouched); the answer is kept under the key, committed, and sent. A retry with the same key
 * and request gets the first answer; a failure keeps nothing. */
typedef int (*pay_tx_fn)(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status);
int pay_write_tx(ss_req *r, pay_tx_fn fn, const void *arg);
/* In fn: one statement on c whose first column is a JSON object -> *doc (owned by the caller),
 * or 404 `notfound` when there is no row. */
int pay_tx_row(ss_req *r, ss_dbc *c, const char *sql, int n, const char *const *params,
               const char *notfound, json_t **doc);
/* pay_write_tx of one such statement, answered with `status`. */
int pay_write_row(ss_req *r, const char *sql, int n, const char *const *params, int status,
                  const char *notfound);
/* Every row's column 0 (JSON) as {"<key>": id, "items": [...]}; 404 `notfound` when no row. */
int pay_reply_items(ss_req *r, const char *sql, int n, const char *const *params, const char *key,
                    const char *id, const char *notfound);

/* "YYYY-MM" -> "YYYY-MM-01" in out (size >= 11); false if not a month 2000-01..2099-12. */
bool pay_month_parse(const char *s, char out[11]);
/* Today's month in Japan as "YYYY-MM-01". */
void pay_this_month(char out[11]);
/* Is s one of the NULL-terminated list? */
bool pay_in(const char *s, const char *const *list);
/* A path :id that must be a uuid: 0, or 404 `notfound` (ss_req_fail). */
int pay_id(ss_req *r, const char **id, const char *notfound);

/* Checks of bank codes against the bank master as of a date (YYYY-MM-DD): field errors
 * named `<prefix>bank_code` / `<prefix>branch_code` (no such bank, no such branch of the
 * bank, branch closed). 0 or SS_ERR_VALIDATION / a database error. */
int pay_bank_check(ss_req *r, ss_dbc *c, const char *prefix, const char *bank, const char *branch,
                   const char *as_of);
/* A holder name through the Zengin rule (libs/common zengin.h) into out (size PAY_NAME_BUF); a
 * field error naming the offending character otherwise. max: characters allowed (<= 40). */
#define PAY_NAME_BUF 168
int pay_holder_name(ss_req *r, const char *field, const char *in, size_t max, char *out);

#endif
