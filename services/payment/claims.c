/* claims.c - an institution's claims (請求): its vaccination records of a month become claim
 * lines (POST /claims/collect), and its monthly batch is closed (POST /claims/batches/close).
 *
 * Records are read from the records service over HTTP with the caller's own token
 * (GET /api/v1/immunizations?institution_code=&from=&to=), so the records service decides what
 * the institution may see; pricing, eligibility and 過誤調整 are payment.collect_page() (one
 * INSERT ... SELECT for the new records of a page, migrations/005_collect_page.sql) and
 * payment.collect_record() for the records already on a line (migrations/002_claims.sql). Every
 * write of an institution's claims holds its advisory lock, and first closes the batches whose
 * close day has passed (SESSHU_PAYMENT_CLOSE_DAY, default the 10th of the following month:
 * DOMAIN.md 4.1, "claims by the 10th of the month after"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

#define RECORDS_TIMEOUT_MS 10000
#define RECORDS_PAGES_MAX  50 /* 10,000 records a call; `complete` says when more remain */
/* A call also stops after this long (between pages), well inside the gateway's 120 s read
 * timeout: a slow records service answers `complete: false` rather than a 504. */
#define COLLECT_BUDGET_MS 30000

int pay_close_day(void)
{
    const char *v = getenv("SESSHU_PAYMENT_CLOSE_DAY");
    int d = v != NULL ? atoi(v) : 0;

    return d >= 1 && d <= 28 ? d : 10;
}

int pay_claims_lock(ss_dbc *c, const char *inst)
{
    char day[8];
    const char *params[] = {inst, day};

    snprintf(day, sizeof(day), "%d", pay_close_day());
    return ss_db_exec(c, sql_pay_claims_lock, 2, params, NULL);
}

int pay_close_due_pref(ss_dbc *c, const char *pref)
{
    char day[8];
    const char *params[] = {pref, day};

    snprintf(day, sizeof(day), "%d", pay_close_day());
    return ss_db_exec(c, sql_pay_close_due_pref, 2, params, NULL);
}

/* The caller's institution code, or "" (a 403 for the handler). */
static const char *inst_code(const ss_req *r)
{
    return r->who.org_code[0] != '\0' && strlen(r->who.org_code) == 10 ? r->who.org_code : "";
}

static const ss_field collect_fields[] = {
    {"month", SS_F_STRING, true, 7, 7, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* A month's first and last days, and whether it is not after the current month. */
static int month_arg(ss_req *r, const char *field, const char *s, char first[11], char last[11])
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    char now[11];
    int y, m, n;

    if (!pay_month_parse(s, first))
        return ss_req_field_error(r, field, "must be a month YYYY-MM");
    pay_this_month(now);
    if (strcmp(first, now) > 0)
        return ss_req_field_error(r, field, "must not be after the current month");
    y = atoi(first);
    m = atoi(first + 5);
    n = days[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    snprintf(last, 11, "%.8s%02d", first, n);
    return 0;
}

static long long now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int records_page(ss_req *r, const char *path, json_t **ans)
{
    long status = 0;
    int rc = ss_svc_call("RECORDS", SS_PORT_RECORDS, "GET", path, ss_req_header(r, "Authorization"),
                         r->request_id, NULL, RECORDS_TIMEOUT_MS, &status, ans);

    if (rc != 0)
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service cannot be reached");
    if (status == 200 && *ans != NULL && json_is_array(json_object_get(*ans, "items")))
        return 0;
    json_decref(*ans);
    *ans = NULL;
    return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service answered %ld", status);
}

static const char *const outcomes[] = {"added",         "updated", "adjusted", "unchanged",
                                       "not_claimable", "skipped", NULL};

/* One page of records into the claims, in one transaction; counts added to `counts`. */
static int collect_page(ss_req *r, const json_t *items, json_t *counts)
{
    char day[8], *text = json_dumps(items, SS_JSON_COMPACT);
    const char *params[] = {r->who.org_id, inst_code(r), pay_pref(r), day, text};
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    int rc;

    if (text == NULL)
        return SS_ERR_NOMEM;
    snprintf(day, sizeof(day), "%d", pay_close_day());
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        goto out;
    if ((rc = ss_db_begin(c)) != 0 || (rc = pay_claims_lock(c, inst_code(r))) != 0)
        goto out;
    rc = ss_db_exec(c, sql_pay_collect_page, 5, params, &res);
    if (rc != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *o = PQgetvalue(res, i, 0);
        json_int_t n = json_integer_value(json_object_get(counts, o));
        if (pay_in(o, outcomes))
            json_object_set_new(counts, o, json_integer(n + atoll(PQgetvalue(res, i, 1))));
    }
out:
    PQclear(res);
    ss_db_release(c);
    free(text);
    return rc;
}

int pay_h_claims_collect(ss_req *r)
{
    char first[11], last[11], path[512], cur[320] = "";
    json_t *counts = NULL;
    long long fetched = 0, until = now_ms() + COLLECT_BUDGET_MS;
    bool complete = false;
    int rc;

    if (inst_code(r)[0] == '\0' || pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a medical institution claims");
    if ((rc = ss_body_check(r, collect_fields)) != 0 ||
        (rc = month_arg(r, "month", ss_json_str(r->body, "month"), first, last)) != 0)
        return rc;
    if ((counts = json_object()) == NULL)
        return SS_ERR_NOMEM;
    for (const char *const *o = outcomes; *o != NULL; o++)
        json_object_set_new(counts, *o, json_integer(0));
    for (int page = 0; page < RECORDS_PAGES_MAX && !complete && now_ms() < until; page++) {
        json_t *ans = NULL;
        const char *next;
        snprintf(path, sizeof(path),
                 "/api/v1/immunizations?institution_code=%s&from=%s&to=%s&limit=%d%s%s",
                 inst_code(r), first, last, SS_PAGE_MAX, cur[0] ? "&cursor=" : "", cur);
        if ((rc = records_page(r, path, &ans)) != 0)
            goto out;
        fetched += (long long)json_array_size(json_object_get(ans, "items"));
        rc = collect_page(r, json_object_get(ans, "items"), counts);
        next = json_string_value(json_object_get(ans, "next_cursor"));
        /* A cursor goes back into a URL: only base64url characters, bounded. */
        if (next == NULL || strlen(next) >= sizeof(cur) ||
            strspn(next, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
                strlen(next))
            complete = true;
        else
            snprintf(cur, sizeof(cur), "%s", next);
        json_decref(ans);
        if (rc != 0)
            goto out;
    }
    rc = ss_reply_json_new(r, 200,
                           json_pack("{s:s%,s:I,s:b,s:O}", "month", first, (size_t)7, "fetched",
                                     (json_int_t)fetched, "complete", complete, "counts", counts));
out:
    json_decref(counts);
    return rc;
}

/* ---- batches -------------------------------------------------------------------------- */

static const ss_field close_fields[] = {
    {"claim_month", SS_F_STRING, true, 7, 7, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* In the transaction: the batch of the month (made when missing) closed unless it is.
 * params: organisation, institution, prefecture, month, user. */
static int close_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *const *params = arg;
    PGresult *res = NULL;
    int rc;

    (void)status;
    if ((rc = pay_claims_lock(c, params[1])) != 0)
        return rc;
    rc = ss_db_exec(c, sql_pay_batch_close, 5, params, &res);
    if (rc != 0)
        return rc;
    const char *p2[] = {PQgetvalue(res, 0, 0)};
    rc = pay_tx_row(r, c, sql_pay_batch_by_id, 1, p2, "no such batch", doc);
    PQclear(res);
    return rc;
}

/* POST /claims/batches/close {claim_month}: the institution closes its batch of a month (made
 * empty when it has none). Closing a closed batch changes nothing and answers it again. */
int pay_h_batch_close(ss_req *r)
{
    char first[11], last[11];
    int rc;

    if (inst_code(r)[0] == '\0' || pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a medical institution closes its claims");
    if ((rc = ss_body_check(r, close_fields)) != 0 ||
        (rc = month_arg(r, "claim_month", ss_json_str(r->body, "claim_month"), first, last)) != 0)
        return rc;
    const char *params[] = {r->who.org_id, inst_code(r), pay_pref(r), first, r->who.sub};
    return pay_write_tx(r, close_fn, params);
}
