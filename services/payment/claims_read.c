/* claims_read.c - reading claims: batches (an institution its own, a 国保連合会 its
 * prefecture's review queue), lines (also a municipality: its residents' lines of closed
 * months), and totals of a claim month (the 国保中央会: nationwide, per prefecture). Another
 * tenant's batch or line is 404. */
#include <stdio.h>
#include <string.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

const char *pay_claims_viewer(const ss_req *r)
{
    if (r->who.kind != SS_PRINCIPAL_USER)
        return NULL;
    if (ss_authz_has(&r->who, SS_PERM_CLAIMS_SUBMIT) && strlen(r->who.org_code) == 10)
        return "inst";
    if (ss_authz_has(&r->who, SS_PERM_CLAIMS_REVIEW) && pay_pref(r)[0] != '\0')
        return "fed";
    if (r->who.org_type == SS_ORG_MUNICIPALITY && r->who.muni_code[0] != '\0')
        return "muni";
    if (r->who.org_type == SS_ORG_CHUOKAI)
        return "chuo";
    return NULL;
}

/* The first four parameters of every read: viewer, institution code, prefecture, municipality. */
#define VIEW_PARAMS(r, v) v, (r)->who.org_code, pay_pref(r), (r)->who.muni_code

/* The same four by name, for the statements filled with the builder (sesshu/sql_params.h). */
static void view_args(ss_sql_args *a, const ss_sql_param *defs, const ss_req *r, const char *v)
{
    ss_sql_args_init(a, defs);
    ss_sql_arg(a, "viewer", v);
    ss_sql_arg(a, "institution_code", r->who.org_code);
    ss_sql_arg(a, "pref_code", pay_pref(r));
    ss_sql_arg(a, "muni_code", r->who.muni_code);
}

static int args_done(ss_sql_args *a)
{
    if (ss_sql_args_done(a) == 0)
        return 0;
    SS_ERROR("claims statement: %s", a->err);
    return SS_ERR_INTERNAL;
}

static const char *const batch_q[] = {"claim_month", "status", "institution_code",
                                      "limit",       "cursor", NULL};
static const char *const batch_st[] = {"open", "closed", "reviewed", NULL};

/* An optional ?name=YYYY-MM into out ("" when absent); a field error otherwise. */
static void month_q(ss_req *r, const char *name, char out[11])
{
    const char *v = ss_req_query(r, name);

    out[0] = '\0';
    if (v != NULL && !pay_month_parse(v, out))
        ss_req_field_error(r, name, "must be a month YYYY-MM");
}

int pay_h_batch_list(ss_req *r)
{
    const char *v = pay_claims_viewer(r), *st = ss_req_query(r, "status");
    char m[11], keys[2][64];
    ss_sql_args a;
    PGresult *res = NULL;
    int limit, rc;

    if (v == NULL || strcmp(v, "muni") == 0 || strcmp(v, "chuo") == 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "batches are the institution's and its 国保連合会's");
    if ((rc = ss_query_check(r, batch_q)) != 0)
        return rc;
    month_q(r, "claim_month", m);
    if (st != NULL && !pay_in(st, batch_st))
        ss_req_field_error(r, "status", "must be open, closed or reviewed");
    if ((rc = ss_page_keys(r, &limit, 2, keys)) != 0 || json_array_size(r->errors) > 0)
        return rc != 0 ? rc : SS_ERR_VALIDATION;
    if (keys[1][0] != '\0' && (!ss_date_ok(keys[0]) || !ss_uuid_ok(keys[1])))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    view_args(&a, sql_pay_batch_list_params, r, v);
    ss_sql_arg(&a, "claim_month", m[0] ? m : NULL);
    ss_sql_arg(&a, "status", st);
    ss_sql_arg(&a, "filter_institution_code", ss_req_query(r, "institution_code"));
    ss_sql_arg(&a, "cursor_month", keys[0][0] ? keys[0] : NULL);
    ss_sql_arg(&a, "cursor_id", keys[1][0] ? keys[1] : NULL);
    ss_sql_arg_int(&a, "limit", limit + 1);
    if ((rc = args_done(&a)) != 0 ||
        (rc = ss_db_query(ss_server_db(), sql_pay_batch_list, a.n, a.v, &res)) != 0)
        return rc;
    rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}

int pay_h_batch_get(ss_req *r)
{
    const char *v = pay_claims_viewer(r), *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such claim batch of yours")) != 0)
        return rc;
    if (v == NULL || strcmp(v, "muni") == 0 || strcmp(v, "chuo") == 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "batches are the institution's and its 国保連合会's");
    const char *params[] = {VIEW_PARAMS(r, v), id};
    return pay_reply_row(r, sql_pay_batch_get, 5, params, 200, "no such claim batch of yours",
                         NULL);
}

static const char *const line_q[] = {"claim_month", "batch_id",  "status",           "kind",
                                     "muni_code",   "record_id", "institution_code", "limit",
                                     "cursor",      NULL};
static const char *const line_st[] = {"claimed", "returned", "accepted", "adjusted", NULL};
static const char *const line_kinds[] = {"claim", "adjustment", NULL};

int pay_h_line_list(ss_req *r)
{
    const char *v = pay_claims_viewer(r), *st = ss_req_query(r, "status");
    const char *kind = ss_req_query(r, "kind"), *bid = ss_req_query(r, "batch_id");
    const char *rid = ss_req_query(r, "record_id");
    char m[11], keys[1][64];
    ss_sql_args a;
    PGresult *res = NULL;
    int limit, rc;

    if (v == NULL || strcmp(v, "chuo") == 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "no access to claim lines");
    if ((rc = ss_query_check(r, line_q)) != 0)
        return rc;
    month_q(r, "claim_month", m);
    if (st != NULL && !pay_in(st, line_st))
        ss_req_field_error(r, "status", "must be claimed, returned, accepted or adjusted");
    if (kind != NULL && !pay_in(kind, line_kinds))
        ss_req_field_error(r, "kind", "must be claim or adjustment");
    if (bid != NULL && !ss_uuid_ok(bid))
        ss_req_field_error(r, "batch_id", "must be a batch id");
    if (rid != NULL && !ss_uuid_ok(rid))
        ss_req_field_error(r, "record_id", "must be a record id");
    if ((rc = ss_page_keys(r, &limit, 1, keys)) != 0 || json_array_size(r->errors) > 0)
        return rc != 0 ? rc : SS_ERR_VALIDATION;
    if (keys[0][0] != '\0' && strspn(keys[0], "0123456789") != strlen(keys[0]))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    view_args(&a, sql_pay_line_list_params, r, v);
    ss_sql_arg(&a, "claim_month", m[0] ? m : NULL);
    ss_sql_arg(&a, "batch_id", bid);
    ss_sql_arg(&a, "status", st);
    ss_sql_arg(&a, "kind", kind);
    ss_sql_arg(&a, "filter_muni_code", ss_req_query(r, "muni_code"));
    ss_sql_arg(&a, "filter_institution_code", ss_req_query(r, "institution_code"));
    ss_sql_arg(&a, "record_id", rid);
    ss_sql_arg(&a, "cursor_seq", keys[0][0] ? keys[0] : NULL);
    ss_sql_arg_int(&a, "limit", limit + 1);
    if ((rc = args_done(&a)) != 0 ||
        (rc = ss_db_query(ss_server_db(), sql_pay_line_list, a.n, a.v, &res)) != 0)
        return rc;
    rc = ss_reply_page(r, res, limit, 1);
    PQclear(res);
    return rc;
}

int pay_h_line_get(ss_req *r)
{
    const char *v = pay_claims_viewer(r), *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such claim line of yours")) != 0)
        return rc;
    if (v == NULL || strcmp(v, "chuo") == 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "no access to claim lines");
    const char *params[] = {VIEW_PARAMS(r, v), id};
    return pay_reply_row(r, sql_pay_line_get, 5, params, 200, "no such claim line of yours", NULL);
}

/* GET /claims/totals?claim_month=: the month's lines summed per prefecture (the 国保中央会,
 * nationwide) or per institution (a 国保連合会: its prefecture; an institution: itself; a
 * municipality: its residents' lines of closed months), with the grand total. */
int pay_h_claims_totals(ss_req *r)
{
    static const char *const q[] = {"claim_month", NULL};
    const char *v = pay_claims_viewer(r);
    char m[11];
    int rc;

    if (v == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "no access to claim totals");
    if ((rc = ss_query_check(r, q)) != 0)
        return rc;
    month_q(r, "claim_month", m);
    if (m[0] == '\0' && ss_req_query(r, "claim_month") == NULL)
        ss_req_field_error(r, "claim_month", "is required");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    const char *params[] = {VIEW_PARAMS(r, v), m};
    return pay_reply_row(r, sql_pay_claims_totals, 5, params, 200, "no totals", NULL);
}
