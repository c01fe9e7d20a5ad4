/* invoices.c - the 国保連合会 bills each municipality for a claim month once every batch of
 * its prefecture for that month is reviewed: the approved amounts of the municipality's
 * residents' lines (accepted and adjusted; returned lines are not billed) plus the
 * 委託事務手数料 per billed line (SESSHU_PAYMENT_FEE_PER_LINE_YEN, default 50 yen; DOMAIN.md
 * 4.1 "bills the municipalities, adding its 委託事務手数料"); a line is billed once, and lines
 * reviewed after an issue are billed by a further invoice. The municipality records its
 * payment, which must be the invoice's total. Issuing twice issues nothing new. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/text.h"

int pay_fee_per_line(void)
{
    const char *v = getenv("SESSHU_PAYMENT_FEE_PER_LINE_YEN");
    int n = v != NULL && *v != '\0' ? atoi(v) : 50;

    return n >= 0 && n <= 100000 ? n : 50;
}

static const ss_field issue_fields[] = {
    {"claim_month", SS_F_STRING, true, 7, 7, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* In the transaction: every batch of the month reviewed, then one invoice per municipality of
 * the lines not yet billed. params: prefecture, month, fee, user, organisation. */
static int issue_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *const *params = arg;
    PGresult *res = NULL;
    int rc;

    (void)status;
    if ((rc = pay_close_due_pref(c, params[0])) != 0)
        return rc;
    rc = ss_db_exec(c, sql_pay_invoice_issue_guard, 2, params, &res);
    if (rc != 0)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 1), "0") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "%s batches of the month are not reviewed yet: invoices wait for them",
                         PQgetvalue(res, 0, 1));
    PQclear(res);
    if (rc != 0)
        return rc;
    rc = ss_db_exec(c, sql_pay_invoice_issue, 5, params, NULL);
    if (rc != 0)
        return rc;
    const char *p2[] = {"fed", params[0], "", params[1]};
    return pay_tx_row(r, c, sql_pay_invoice_month, 4, p2, "no invoices", doc);
}

/* POST /claims/invoices {claim_month} (国保連合会) -> 200 {claim_month, items: invoices}. */
int pay_h_invoice_issue(ss_req *r)
{
    char m[11], fee[16];
    int rc;

    if (pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "your 国保連合会 has no prefecture");
    if ((rc = ss_body_check(r, issue_fields)) != 0)
        return rc;
    if (!pay_month_parse(ss_json_str(r->body, "claim_month"), m))
        return ss_req_field_error(r, "claim_month", "must be a month YYYY-MM");
    snprintf(fee, sizeof(fee), "%d", pay_fee_per_line());
    const char *params[] = {pay_pref(r), m, fee, r->who.sub, r->who.org_id};
    return pay_write_tx(r, issue_fn, params);
}

static const char *viewer(const ss_req *r)
{
    const char *v = pay_claims_viewer(r);
    return v != NULL && (strcmp(v, "fed") == 0 || strcmp(v, "muni") == 0) ? v : NULL;
}

/* GET /claims/invoices?claim_month=: a 国保連合会 its own, a municipality those it owes. */
int pay_h_invoice_list(ss_req *r)
{
    static const char *const q[] = {"claim_month", "status", NULL};
    static const char *const st[] = {"issued", "paid", NULL};
    const char *v = viewer(r), *s = ss_req_query(r, "status"), *qm = ss_req_query(r, "claim_month");
    char m[11] = "";
    int rc;

    if (v == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "invoices are the 国保連合会's and municipalities'");
    if ((rc = ss_query_check(r, q)) != 0)
        return rc;
    if (qm != NULL && !pay_month_parse(qm, m))
        ss_req_field_error(r, "claim_month", "must be a month YYYY-MM");
    if (s != NULL && !pay_in(s, st))
        ss_req_field_error(r, "status", "must be issued or paid");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    const char *params[] = {v, pay_pref(r), r->who.muni_code, m[0] ? m : NULL, s};
    return pay_reply_items(r, sql_pay_invoice_list, 5, params, "viewer", v, NULL);
}

int pay_h_invoice_get(ss_req *r)
{
    const char *v = viewer(r), *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such invoice of yours")) != 0)
        return rc;
    if (v == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "invoices are the 国保連合会's and municipalities'");
    const char *params[] = {v, pay_pref(r), r->who.muni_code, id};
    return pay_reply_row(r, sql_pay_invoice_get, 4, params, 200, "no such invoice of yours", NULL);
}

static const ss_field pay_fields[] = {
    {"paid_on", SS_F_DATE, true, 0, 0, NULL, false},
    {"amount_yen", SS_F_INT, true, -100000000000LL, 100000000000LL, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* In the transaction, after the Idempotency-Key: the invoice is the caller's, still issued,
 * the day not after today and the amount its total; then recorded. params: id, municipality,
 * paid_on, amount, user. */
static int pay_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *const *params = arg;
    PGresult *res = NULL;
    int rc;

    (void)status;
    rc = ss_db_exec(c, sql_pay_invoice_pay_guard, 4, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such invoice of yours");
    else if (strcmp(PQgetvalue(res, 0, 0), "issued") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the invoice is paid already");
    else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
        rc = ss_req_field_error(r, "paid_on", "must not be after today");
    else if (strcmp(PQgetvalue(res, 0, 3), "t") != 0) {
        char why[96];
        snprintf(why, sizeof(why), "must be the invoice's total, %s yen", PQgetvalue(res, 0, 1));
        rc = ss_req_field_error(r, "amount_yen", why);
    }
    PQclear(res);
    if (rc != 0)
        return rc;
    return pay_tx_row(r, c, sql_pay_invoice_pay, 5, params, "no such invoice of yours", doc);
}

/* POST /claims/invoices/:id/payment {paid_on, amount_yen} (the municipality): the whole total,
 * on a day not after today; once (409; a retry under the same Idempotency-Key is replayed). */
int pay_h_invoice_pay(ss_req *r)
{
    const char *v = viewer(r), *id;
    char amt[24];
    int rc;

    if ((rc = pay_id(r, &id, "no such invoice of yours")) != 0)
        return rc;
    if (v == NULL || strcmp(v, "muni") != 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "the municipality records its payment");
    if ((rc = ss_body_check(r, pay_fields)) != 0)
        return rc;
    snprintf(amt, sizeof(amt), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(r->body, "amount_yen")));
    const char *params[] = {id, r->who.muni_code, ss_json_str(r->body, "paid_on"), amt, r->who.sub};
    return pay_write_tx(r, pay_fn, params);
}
