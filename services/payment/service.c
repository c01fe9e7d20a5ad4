/* service.c - the payment service's routes and shared request helpers.
 *
 * Permissions come from the library's matrix (authz.c): bank_accounts.manage (an institution's
 * admin), bank_accounts.review (a 国保連合会), payer_accounts.manage (a 国保連合会's admin),
 * claims.submit (an institution), claims.review (a 国保連合会). Reads open to both sides take
 * an authenticated principal and pay_viewer() inside the handler. Static paths never share a
 * method and depth with a /:id pattern, so route order does not matter to ulfius. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"
#include "sesshu/zengin.h"

#ifndef SS_MIGRATIONS_DIR
#define SS_MIGRATIONS_DIR "services/payment/migrations"
#endif

#define AUTH   SS_PERM_AUTHENTICATED
#define MANAGE SS_PERM_BANK_ACCOUNTS_MANAGE
#define REVIEW SS_PERM_BANK_ACCOUNTS_REVIEW
#define PAYER  SS_PERM_PAYER_ACCOUNTS_MANAGE
#define CHECK  SS_PERM_CLAIMS_REVIEW
#define SUBMIT SS_PERM_CLAIMS_SUBMIT

static const ss_route pay_routes[] = {
    /* ---- H-9: institutions' bank accounts ---- */
    {"POST", "/api/v1/bank-accounts", pay_h_account_create, MANAGE, 0, "bank_account"},
    {"GET", "/api/v1/bank-accounts", pay_h_account_list, AUTH, 0, "bank_account"},
    {"GET", "/api/v1/bank-accounts/effective", pay_h_account_effective, AUTH, 0, "bank_account"},
    {"GET", "/api/v1/bank-accounts/:id", pay_h_account_get, AUTH, 0, "bank_account"},
    {"GET", "/api/v1/bank-accounts/:id/history", pay_h_account_history, AUTH, 0, "bank_account"},
    {"POST", "/api/v1/bank-accounts/:id/resubmit", pay_h_account_resubmit, MANAGE, 0,
     "bank_account"},
    {"POST", "/api/v1/bank-accounts/:id/approve", pay_h_account_approve, REVIEW, 0, "bank_account"},
    {"POST", "/api/v1/bank-accounts/:id/reject", pay_h_account_reject, REVIEW, 0, "bank_account"},
    {"POST", "/api/v1/bank-accounts/:id/documents", pay_h_document_upload, MANAGE,
     SS_ROUTE_RAW_BODY, "bank_account_document"},
    {"GET", "/api/v1/bank-accounts/:id/documents/:doc_id", pay_h_document_get, AUTH, 0,
     "bank_account_document"},

    /* ---- H-10: the federation's source accounts and their destination bank codes ---- */
    {"POST", "/api/v1/payer-account-links", pay_h_payer_create, PAYER, 0, "payer_account"},
    {"GET", "/api/v1/payer-account-links", pay_h_payer_list, CHECK, 0, "payer_account"},
    {"GET", "/api/v1/payer-account-links/route", pay_h_payer_route, CHECK, 0, "payer_account"},
    {"GET", "/api/v1/payer-account-links/:id", pay_h_payer_get, CHECK, 0, "payer_account"},
    {"PUT", "/api/v1/payer-account-links/:id", pay_h_payer_update, PAYER, 0, "payer_account"},
    {"POST", "/api/v1/payer-account-links/:id/retire", pay_h_payer_retire, PAYER, 0,
     "payer_account"},
    {"GET", "/api/v1/payer-account-links/:id/history", pay_h_payer_history, CHECK, 0,
     "payer_account"},

    /* ---- claims (請求): lines, batches, review, 依頼書, totals ---- */
    {"POST", "/api/v1/claims/collect", pay_h_claims_collect, SUBMIT, 0, "claim_line"},
    {"GET", "/api/v1/claims/lines", pay_h_line_list, AUTH, 0, "claim_line"},
    {"GET", "/api/v1/claims/lines/:id", pay_h_line_get, AUTH, 0, "claim_line"},
    {"POST", "/api/v1/claims/lines/:id/review", pay_h_line_review, CHECK, 0, "claim_line"},
    {"POST", "/api/v1/claims/lines/:id/reclaim", pay_h_line_reclaim, SUBMIT, 0, "claim_line"},
    {"POST", "/api/v1/claims/batches/close", pay_h_batch_close, SUBMIT, 0, "claim_batch"},
    {"GET", "/api/v1/claims/batches", pay_h_batch_list, AUTH, 0, "claim_batch"},
    {"GET", "/api/v1/claims/batches/:id", pay_h_batch_get, AUTH, 0, "claim_batch"},
    {"POST", "/api/v1/claims/batches/:id/accept", pay_h_batch_accept, CHECK, 0, "claim_batch"},
    {"POST", "/api/v1/claims/referrals", pay_h_referral_create, AUTH, 0, "claim_referral"},
    {"GET", "/api/v1/claims/referrals", pay_h_referral_list, AUTH, 0, "claim_referral"},
    {"GET", "/api/v1/claims/totals", pay_h_claims_totals, AUTH, 0, "claim_line"},
    {"POST", "/api/v1/claims/invoices", pay_h_invoice_issue, CHECK, 0, "claim_invoice"},
    {"GET", "/api/v1/claims/invoices", pay_h_invoice_list, AUTH, 0, "claim_invoice"},
    {"GET", "/api/v1/claims/invoices/:id", pay_h_invoice_get, AUTH, 0, "claim_invoice"},
    {"POST", "/api/v1/claims/invoices/:id/payment", pay_h_invoice_pay, AUTH, 0, "claim_invoice"},
    {"PUT", "/api/v1/claims/holidays/:year", pay_h_holidays_put, AUTH, 0, "holiday_calendar"},
    {"GET", "/api/v1/claims/holidays", pay_h_holidays_get, AUTH, 0, "holiday_calendar"},
    {"GET", "/api/v1/claims/payments", pay_h_payments_mine, SUBMIT, 0, "payment_run"},
    {"POST", "/api/v1/claims/payment-runs", pay_h_run_create, CHECK, 0, "payment_run"},
    {"GET", "/api/v1/claims/payment-runs", pay_h_run_list, CHECK, 0, "payment_run"},
    {"GET", "/api/v1/claims/payment-runs/:id", pay_h_run_get, CHECK, 0, "payment_run"},
    {"POST", "/api/v1/claims/payment-runs/:id/approve", pay_h_run_approve, CHECK, 0, "payment_run"},
    {"GET", "/api/v1/claims/payment-runs/:id/zengin", pay_h_run_zengin, CHECK, 0, "payment_run"},

    {NULL, NULL, NULL, 0, 0, NULL},
};

const ss_service pay_service = {
    .name = "payment",
    .env_name = "PAYMENT",
    .schema = "payment",
    .default_port = SS_PORT_PAYMENT,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = pay_routes,
    .raw_body_max = PAY_DOC_MAX,
};

const char *pay_pref(const ss_req *r)
{
    static const char none[] = "";

    if (r->who.pref_code[0] != '\0')
        return r->who.pref_code;
    return none;
}

const char *pay_viewer(const ss_req *r, int inst_perm, int fed_perm)
{
    if (r->who.kind != SS_PRINCIPAL_USER)
        return NULL;
    if (ss_authz_has(&r->who, inst_perm))
        return "inst";
    if (ss_authz_has(&r->who, fed_perm) && pay_pref(r)[0] != '\0')
        return "fed";
    return NULL;
}

static int conflict_or(ss_req *r, int rc, const char *conflict)
{
    if (rc == SS_ERR_CONFLICT && conflict != NULL)
        return ss_req_fail(r, SS_ERR_CONFLICT, "%s", conflict);
    return rc;
}

int pay_reply_row(ss_req *r, const char *sql, int n, const char *const *params, int status,
                  const char *notfound, const char *conflict)
{
    PGresult *res = NULL;
    json_t *doc;
    int rc = ss_db_query(ss_server_db(), sql, n, params, &res);

    if (rc != 0)
        return conflict_or(r, rc, conflict);
    if (PQntuples(res) < 1) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "%s", notfound);
    }
    doc = ss_json_col(res, 0, 0);
    PQclear(res);
    if (doc == NULL)
        return SS_ERR_INTERNAL;
    if (json_is_string(json_object_get(doc, "id")))
        snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(doc, "id")));
    return ss_reply_json_new(r, status, doc);
}

int pay_reply_items(ss_req *r, const char *sql, int n, const char *const *params, const char *key,
                    const char *id, const char *notfound)
{
    PGresult *res = NULL;
    json_t *items = NULL;
    int rc = ss_db_query(ss_server_db(), sql, n, params, &res);

    if (rc != 0)
        return rc;
    if (PQntuples(res) == 0 && notfound != NULL) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "%s", notfound);
        goto out;
    }
    if ((items = json_array()) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(items, ss_json_col(res, i, 0));
    rc = ss_reply_json_new(r, 200, json_pack("{s:s,s:o}", key, id, "items", items));
out:
    PQclear(res);
    return rc;
}

bool pay_month_parse(const char *s, char out[11])
{
    char d[11];

    if (s == NULL || strlen(s) != 7 || s[4] != '-')
        return false;
    snprintf(d, sizeof(d), "%.7s-01", s);
    if (!ss_date_ok(d) || strncmp(d, "2000", 4) < 0 || strncmp(d, "2099", 4) > 0)
        return false;
    memcpy(out, d, 11);
    return true;
}

void pay_this_month(char out[11])
{
    time_t t = time(NULL) + 9 * 3600; /* Japan has no daylight saving time */
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-01", &tm);
}

bool pay_in(const char *s, const char *const *list)
{
    for (; s != NULL && *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

int pay_id(ss_req *r, const char **id, const char *notfound)
{
    *id = ss_req_param(r, "id");
    if (!ss_uuid_ok(*id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "%s", notfound);
    snprintf(r->res_id, sizeof(r->res_id), "%s", *id);
    return 0;
}

int pay_bank_check(ss_req *r, ss_dbc *c, const char *prefix, const char *bank, const char *branch,
                   const char *as_of)
{
    const char *params[] = {bank, branch, as_of};
    PGresult *res = NULL;
    char f[64], why[160];
    int rc;

    rc = ss_db_exec(c, sql_pay_bank_check, 3, params, &res);
    if (rc != 0)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        snprintf(f, sizeof(f), "%sbank_code", prefix);
        snprintf(why, sizeof(why), "no bank %s in the bank master on %s", bank, as_of);
        rc = ss_req_field_error(r, f, why);
    } else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        snprintf(f, sizeof(f), "%sbranch_code", prefix);
        if (!PQgetisnull(res, 0, 2))
            snprintf(why, sizeof(why), "branch %s of bank %s closed on %s", branch, bank,
                     PQgetvalue(res, 0, 2));
        else
            snprintf(why, sizeof(why), "bank %s has no branch %s in the bank master on %s", bank,
                     branch, as_of);
        rc = ss_req_field_error(r, f, why);
    }
    PQclear(res);
    return rc;
}

int pay_holder_name(ss_req *r, const char *field, const char *in, size_t max, char *out)
{
    char bad[8] = "", why[160];
    unsigned cp = 0;
    int zr = ss_zengin_name(in, max, out, PAY_NAME_BUF, bad, &cp);

    switch (zr) {
    case SS_ZN_OK: return 0;
    case SS_ZN_EMPTY: return ss_req_field_error(r, field, "is empty");
    case SS_ZN_TOO_LONG:
        snprintf(why, sizeof(why), "is longer than %zu half-width characters", max);
        return ss_req_field_error(r, field, why);
    case SS_ZN_BAD_CHAR:
        snprintf(why, sizeof(why),
                 "character '%s' (U+%04X) is not allowed in a Zengin name (half-width kana, "
                 "A-Z, 0-9, space and ( ) - . / , only)",
                 cp < 0x20 || cp == 0x7F ? "?" : bad, cp);
        return ss_req_field_error(r, field, why);
    default: return ss_req_field_error(r, field, "is not valid UTF-8");
    }
}
