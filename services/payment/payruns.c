/* payruns.c - the holiday calendar, and the 国保連合会's payment runs with their Zengin
 * 総合振込 file.
 *
 * Holidays: PUT /claims/holidays/:year replaces a year of the calendar with what a maintained
 * source says (the operator or the 国保中央会 imports the npm package @holiday-jp/holiday_jp,
 * see the README); a payment is dated only in a year the calendar covers.
 *
 * A run (POST /claims/payment-runs {claim_month}) takes the lines of the month's paid invoices
 * not yet paid, per institution: the sum of their approved amounts, to the account approved
 * for the claim month (an assignment account in effect wins over the vaccination account), from
 * the source account H-10 routes the destination bank to (its link, else the default). An
 * institution without either, or owed nothing, is `held` with the reason and waits for the
 * next run. Pay day: payment.pay_day() (翌々月末, the business day before on a weekend or
 * holiday). Four eyes: another user than the preparer approves; only then the file is given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"
#include "sesshu/zengin.h"

static bool importer(const ss_req *r)
{
    return r->who.kind == SS_PRINCIPAL_USER && r->who.role == SS_ROLE_ADMIN &&
           (r->who.org_type == SS_ORG_OPERATOR || r->who.org_type == SS_ORG_CHUOKAI);
}

static const ss_field day_fields[] = {
    {"date", SS_F_DATE, true, 0, 0, NULL, false},
    {"name", SS_F_STRING, true, 1, 100, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};
static const ss_field holiday_fields[] = {
    {"source", SS_F_STRING, true, 1, 200, NULL, false},
    {"days", SS_F_ARRAY, true, 0, 40, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* PUT /claims/holidays/:year {source, days: [{date, name}]} -> 200 the year. */
int pay_h_holidays_put(ss_req *r)
{
    const char *ys = ss_req_param(r, "year");
    const json_t *days, *d;
    size_t i;
    char *text = NULL;
    int rc;

    if (!importer(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "the operator's or the 国保中央会's admin imports the calendar");
    if (ys == NULL || strlen(ys) != 4 || strspn(ys, "0123456789") != 4 || strncmp(ys, "20", 2) != 0)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such year (2000-2099)");
    if ((rc = ss_body_check(r, holiday_fields)) != 0)
        return rc;
    days = json_object_get(r->body, "days");
    json_array_foreach (days, i, d) {
        char f[32];
        snprintf(f, sizeof(f), "days[%zu]", i);
        if (!json_is_object(d)) {
            ss_req_field_error(r, f, "must be an object {date, name}");
            continue;
        }
        if (ss_json_check(r, d, day_fields) == 0 && strncmp(ss_json_str(d, "date"), ys, 4) != 0)
            ss_req_field_error(r, f, "is not in the year");
    }
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if ((text = json_dumps(days, SS_JSON_COMPACT)) == NULL)
        return SS_ERR_NOMEM;
    const char *params[] = {ys, ss_json_str(r->body, "source"), text, r->who.sub};
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        goto out;
    if ((rc = ss_db_begin(c)) != 0 ||
        (rc = ss_db_exec(c, sql_pay_holidays_delete, 1, params, NULL)) != 0 ||
        (rc = ss_db_exec(c, sql_pay_holidays_insert, 3, params, NULL)) != 0 ||
        (rc = ss_db_exec(c, sql_pay_holiday_year_upsert, 4, params, &res)) != 0 ||
        (rc = ss_db_commit(c)) != 0)
        goto out;
    rc = ss_reply_json_new(r, 200, ss_json_col(res, 0, 0));
out:
    PQclear(res);
    ss_db_release(c);
    free(text);
    return rc;
}

static const char *fed_pref(const ss_req *r)
{
    const char *v = pay_claims_viewer(r);
    return v != NULL && strcmp(v, "fed") == 0 ? pay_pref(r) : NULL;
}

static const ss_field run_fields[] = {
    {"claim_month", SS_F_STRING, true, 7, 7, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* The checks before a run: paid invoices of the month, every one; the pay day's year in the
 * calendar. 0 or a 409. */
static int run_guard(ss_req *r, ss_dbc *c, const char *const *params)
{
    PGresult *res = NULL;
    int rc = ss_db_exec(c, sql_pay_run_guard, 2, params, &res);
    if (rc != 0)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "no invoices of the month: nothing to pay");
    else if (strcmp(PQgetvalue(res, 0, 1), "0") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "%s invoices of the month are not paid by their municipalities yet",
                         PQgetvalue(res, 0, 1));
    else if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "the holiday calendar does not cover the pay day's year: import it");
    PQclear(res);
    return rc;
}

/* In the transaction: the run's guard (run_guard), then the run with one item per institution
 * and its lines marked. params: prefecture, month, user, organisation. */
static int create_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *const *params = arg;
    PGresult *res = NULL;
    int rc;

    *status = 201;
    if ((rc = run_guard(r, c, params)) != 0)
        return rc;
    rc = ss_db_exec(c, sql_pay_run_insert, 4, params, &res);
    if (rc != 0)
        return rc;
    if (PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_CONFLICT,
                           "every line of the month's invoices is paid already");
    }
    const char *p2[] = {PQgetvalue(res, 0, 0)};
    rc = pay_tx_row(r, c, sql_pay_run_by_id, 1, p2, "no such payment run", doc);
    PQclear(res);
    return rc;
}

/* POST /claims/payment-runs {claim_month} (国保連合会) -> 201 the run. */
int pay_h_run_create(ss_req *r)
{
    const char *pref = fed_pref(r);
    char m[11];
    int rc;

    if (pref == NULL || pref[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "payment runs are the 国保連合会's");
    if ((rc = ss_body_check(r, run_fields)) != 0)
        return rc;
    if (!pay_month_parse(ss_json_str(r->body, "claim_month"), m))
        return ss_req_field_error(r, "claim_month", "must be a month YYYY-MM");
    const char *params[] = {pref, m, r->who.sub, r->who.org_id};
    return pay_write_tx(r, create_fn, params);
}

int pay_h_run_list(ss_req *r)
{
    static const char *const q[] = {"claim_month", NULL};
    const char *pref = fed_pref(r), *qm = ss_req_query(r, "claim_month");
    char m[11] = "";
    int rc;

    if (pref == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "payment runs are the 国保連合会's");
    if ((rc = ss_query_check(r, q)) != 0)
        return rc;
    if (qm != NULL && !pay_month_parse(qm, m))
        return ss_req_field_error(r, "claim_month", "must be a month YYYY-MM");
    const char *params[] = {pref, m[0] ? m : NULL};
    return pay_reply_items(r, sql_pay_run_list, 2, params, "prefecture_code", pref, NULL);
}

int pay_h_run_get(ss_req *r)
{
    const char *pref = fed_pref(r), *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such payment run of yours")) != 0)
        return rc;
    if (pref == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "payment runs are the 国保連合会's");
    const char *params[] = {pref, id};
    return pay_reply_row(r, sql_pay_run_get, 2, params, 200, "no such payment run of yours", NULL);
}

/* In the transaction: the run is the prefecture's, prepared, and the caller not its preparer;
 * then approved. params: prefecture, id, user. */
static int approve_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *const *params = arg;
    PGresult *res = NULL;
    int rc;

    (void)status;
    rc = ss_db_exec(c, sql_pay_run_approve_guard, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such payment run of yours");
    else if (strcmp(PQgetvalue(res, 0, 0), "prepared") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the run is approved already");
    else if (strcmp(PQgetvalue(res, 0, 1), params[2]) == 0)
        rc = ss_req_fail(r, SS_ERR_FORBIDDEN, "four eyes: the preparer cannot approve the run");
    PQclear(res);
    if (rc != 0)
        return rc;
    return pay_tx_row(r, c, sql_pay_run_approve, 3, params, "the run changed meanwhile", doc);
}

/* POST /claims/payment-runs/:id/approve: another user of the 国保連合会 than the preparer. */
int pay_h_run_approve(ss_req *r)
{
    const char *pref = fed_pref(r), *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such payment run of yours")) != 0)
        return rc;
    if (pref == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "payment runs are the 国保連合会's");
    if (r->body != NULL &&
        (rc = ss_body_check(r, (const ss_field[]){{NULL, 0, false, 0, 0, NULL, false}})) != 0)
        return rc;
    const char *params[] = {pref, id, r->who.sub};
    return pay_write_tx(r, approve_fn, params);
}

/* ---- the Zengin 総合振込 file ---------------------------------------------------------- */

#define ZREC 120

static char acct_type_code(const char *t)
{
    return strcmp(t, "current") == 0 ? '2' : strcmp(t, "savings") == 0 ? '4' : '1';
}

/* Columns of a data row (sql_pay_run_zengin_rows): 0 payer id, 1 client code, 2 payer name, 3 payer
 * bank, 4 its kana, 5 payer branch, 6 its kana, 7 payer type, 8 payer number, 9 dest bank, 10 its
 * kana, 11 dest branch, 12 its kana, 13 dest type, 14 dest number, 15 holder, 16 amount, 17 pay
 * day MMDD. */
static void put_header(char *p, const PGresult *res, int i)
{
    memset(p, ' ', ZREC);
    p[0] = '1';
    memcpy(p + 1, "21", 2); /* 種別コード 21 総合振込 */
    p[3] = '0';             /* コード区分 0: JIS */
    ss_zengin_put_text(p + 4, 10, PQgetvalue(res, i, 1));
    ss_zengin_put_text(p + 14, 40, PQgetvalue(res, i, 2));
    ss_zengin_put_text(p + 54, 4, PQgetvalue(res, i, 17));
    ss_zengin_put_text(p + 58, 4, PQgetvalue(res, i, 3));
    ss_zengin_put_text(p + 62, 15, PQgetvalue(res, i, 4));
    ss_zengin_put_text(p + 77, 3, PQgetvalue(res, i, 5));
    ss_zengin_put_text(p + 80, 15, PQgetvalue(res, i, 6));
    p[95] = acct_type_code(PQgetvalue(res, i, 7));
    ss_zengin_put_text(p + 96, 7, PQgetvalue(res, i, 8));
}

static void put_data(char *p, const PGresult *res, int i)
{
    memset(p, ' ', ZREC);
    p[0] = '2';
    ss_zengin_put_text(p + 1, 4, PQgetvalue(res, i, 9));
    ss_zengin_put_text(p + 5, 15, PQgetvalue(res, i, 10));
    ss_zengin_put_text(p + 20, 3, PQgetvalue(res, i, 11));
    ss_zengin_put_text(p + 23, 15, PQgetvalue(res, i, 12));
    ss_zengin_put_num(p + 38, 4, 0); /* 手形交換所番号: unused */
    p[42] = acct_type_code(PQgetvalue(res, i, 13));
    ss_zengin_put_text(p + 43, 7, PQgetvalue(res, i, 14));
    ss_zengin_put_text(p + 50, 30, PQgetvalue(res, i, 15));
    ss_zengin_put_num(p + 80, 10, strtoull(PQgetvalue(res, i, 16), NULL, 10));
    p[90] = '0'; /* 新規コード */
    /* 顧客コード1/2 (91..110), 振込指定区分, 識別表示, ダミー: spaces */
}

static void put_trailer(char *p, unsigned long long n, unsigned long long sum)
{
    memset(p, ' ', ZREC);
    p[0] = '8';
    ss_zengin_put_num(p + 1, 6, n);
    ss_zengin_put_num(p + 7, 12, sum);
}

/* GET /claims/payment-runs/:id/zengin: the file of an approved run. */
int pay_h_run_zengin(ss_req *r)
{
    const char *pref = fed_pref(r), *id;
    char cd[160];
    PGresult *res = NULL;
    char *buf = NULL, *p;
    unsigned long long n = 0, sum = 0;
    int rc, rows;

    if ((rc = pay_id(r, &id, "no such payment run of yours")) != 0)
        return rc;
    if (pref == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "payment runs are the 国保連合会's");
    const char *params[] = {pref, id};
    rc = ss_db_query(ss_server_db(), sql_pay_run_status, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such payment run of yours");
    else if (strcmp(PQgetvalue(res, 0, 0), "approved") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the run is not approved yet (four eyes)");
    PQclear(res);
    res = NULL;
    if (rc != 0)
        return rc;
    rc = ss_db_query(ss_server_db(), sql_pay_run_zengin_rows, 2, params, &res);
    if (rc != 0)
        return rc;
    rows = PQntuples(res);
    /* At most one header and trailer per row, the data record, and the end record. */
    if ((buf = malloc((size_t)(3 * rows + 1) * (ZREC + 2))) == NULL) {
        PQclear(res);
        return SS_ERR_NOMEM;
    }
    p = buf;
    for (int i = 0; i < rows; i++) {
        if (i == 0 || strcmp(PQgetvalue(res, i, 0), PQgetvalue(res, i - 1, 0)) != 0) {
            if (i > 0) {
                put_trailer(p, n, sum);
                memcpy(p + ZREC, "\r\n", 2);
                p += ZREC + 2;
            }
            n = sum = 0;
            put_header(p, res, i);
            memcpy(p + ZREC, "\r\n", 2);
            p += ZREC + 2;
        }
        put_data(p, res, i);
        memcpy(p + ZREC, "\r\n", 2);
        p += ZREC + 2;
        n++;
        sum += strtoull(PQgetvalue(res, i, 16), NULL, 10);
    }
    if (rows > 0) {
        put_trailer(p, n, sum);
        memcpy(p + ZREC, "\r\n", 2);
        p += ZREC + 2;
    }
    memset(p, ' ', ZREC);
    p[0] = '9';
    memcpy(p + ZREC, "\r\n", 2);
    p += ZREC + 2;
    PQclear(res);
    snprintf(cd, sizeof(cd), "attachment; filename=\"zengin-%s.txt\"", id);
    ss_reply_header(r, "Content-Disposition", cd);
    rc = ss_reply_raw(r, 200, "text/plain; charset=Shift_JIS", buf, (size_t)(p - buf));
    free(buf);
    return rc;
}

/* GET /claims/holidays?year=: the calendar of a year as imported (404 when not imported). */
int pay_h_holidays_get(ss_req *r)
{
    static const char *const q[] = {"year", NULL};
    const char *y = ss_req_query(r, "year");
    int rc;

    if ((rc = ss_query_check(r, q)) != 0)
        return rc;
    if (y == NULL || strlen(y) != 4 || strspn(y, "0123456789") != 4 || strncmp(y, "20", 2) != 0)
        return ss_req_field_error(r, "year", "must be a year 2000-2099");
    const char *params[] = {y};
    return pay_reply_row(r, sql_pay_holidays_get, 1, params, 200,
                         "the calendar does not cover that year", NULL);
}

/* GET /claims/payments?claim_month=: an institution's payments (its items of every run), newest
 * first: what it is paid, when, to which account, or why it is held. */
int pay_h_payments_mine(ss_req *r)
{
    static const char *const q[] = {"claim_month", NULL};
    const char *v = pay_claims_viewer(r), *qm = ss_req_query(r, "claim_month");
    char m[11] = "";
    int rc;

    if (v == NULL || strcmp(v, "inst") != 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "an institution sees its own payments");
    if ((rc = ss_query_check(r, q)) != 0)
        return rc;
    if (qm != NULL && !pay_month_parse(qm, m))
        return ss_req_field_error(r, "claim_month", "must be a month YYYY-MM");
    const char *params[] = {r->who.org_code, m[0] ? m : NULL};
    return pay_reply_items(r, sql_pay_payments_mine, 2, params, "institution_code", r->who.org_code,
                           NULL);
}
