/* claims.c - an institution's claims (請求): its vaccination records of a month become claim
 * lines (POST /claims/collect), and its monthly batch is closed (POST /claims/batches/close).
 *
 * Records come from the records service's claims feed (GET /internal/v1/claims-feed, this
 * service's service token, the library's feed client sesshu/feed.h): the caller's institution's
 * records of the month written after the cursor stored for (institution, month), in pages of
 * thousands; each page is priced in the transaction that moves the cursor. Pricing, eligibility
 * and 過誤調整 are payment.collect_page() (one INSERT ... SELECT for the new records of a page,
 * migrations/006_claims_feed.sql) and payment.collect_record() for the records already on a line
 * (migrations/002_claims.sql). Every write of an institution's claims holds its advisory lock,
 * and first closes the batches whose close day has passed (SESSHU_PAYMENT_CLOSE_DAY, default the
 * 10th of the following month: DOMAIN.md 4.1, "claims by the 10th of the month after"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/feed.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

/* The claims feed in pages of FEED_LIMIT records, at most FEED_PAGES pages a call (50,000
 * records, well inside the gateway's 120 s read timeout); `complete: false` says more remain. */
#define FEED_LIMIT      5000
#define FEED_PAGES      10
#define FEED_TIMEOUT_MS 30000

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

static const char *const outcomes[] = {"added",         "updated", "adjusted", "unchanged",
                                       "not_claimable", "skipped", NULL};

/* What a collect call carries through the feed's pages. */
typedef struct collect_ctx {
    ss_req *r;
    json_t *counts;
    long long fetched;
} collect_ctx;

static void count_add(json_t *counts, const char *outcome, long long n)
{
    json_int_t had = json_integer_value(json_object_get(counts, outcome));

    if (pay_in(outcome, outcomes))
        json_object_set_new(counts, outcome, json_integer(had + n));
}

/* A page of the claims feed priced into claim lines (payment.collect_page) on the leased
 * connection, in the transaction that moves the cursor (sesshu/feed.h), under the institution's
 * lock. */
static int collect_apply(ss_dbc *c, json_t *items, void *ud)
{
    collect_ctx *x = ud;
    char day[8], *text = json_dumps(items, SS_JSON_COMPACT);
    const char *params[] = {x->r->who.org_id, inst_code(x->r), pay_pref(x->r), day, text};
    PGresult *res = NULL;
    int rc;

    if (text == NULL)
        return SS_ERR_NOMEM;
    snprintf(day, sizeof(day), "%d", pay_close_day());
    if ((rc = pay_claims_lock(c, inst_code(x->r))) == 0)
        rc = ss_db_exec(c, sql_pay_collect_page, 5, params, &res);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++)
        count_add(x->counts, PQgetvalue(res, i, 0), atoll(PQgetvalue(res, i, 1)));
    x->fetched += (long long)json_array_size(items);
    PQclear(res);
    free(text);
    return rc;
}

/* The stored cursor of (institution, month), made at the start when missing, into after, and
 * the database's clock now into since (what this call changes is newer). */
static int cursor_load(const char *inst, const char *first, char after[SS_FEED_CURSOR],
                       char since[64])
{
    const char *params[] = {inst, first};
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_pay_feed_cursor, 2, params, &res);

    if (rc == 0) {
        snprintf(after, SS_FEED_CURSOR, "%s", PQgetvalue(res, 0, 0));
        snprintf(since, 64, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

/* `unchanged`: the month's records already on the institution's lines that this call did not
 * touch (they were read by an earlier call; the feed does not send them again). */
static int count_unchanged(const char *inst, const char *first, const char *since, json_t *counts)
{
    const char *params[] = {inst, first, since};
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_pay_collect_unchanged, 3, params, &res);

    if (rc == 0)
        count_add(counts, "unchanged", atoll(PQgetvalue(res, 0, 0)));
    PQclear(res);
    return rc;
}

/* POST /claims/collect {month}: the institution's records of the month written since its last
 * collect, read from the records service's claims feed (GET /internal/v1/claims-feed, with this
 * service's own service token) after the cursor stored for (institution, month), priced page by
 * page (sesshu/feed.h). */
int pay_h_claims_collect(ss_req *r)
{
    char first[11], last[11], path[160], after[SS_FEED_CURSOR], since[64];
    collect_ctx x = {r, NULL, 0};
    ss_feed_result done = {0, false};
    int rc;

    if (inst_code(r)[0] == '\0' || pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a medical institution claims");
    if ((rc = ss_body_check(r, collect_fields)) != 0 ||
        (rc = month_arg(r, "month", ss_json_str(r->body, "month"), first, last)) != 0)
        return rc;
    snprintf(path, sizeof(path), "/internal/v1/claims-feed?institution_code=%s&month=%.7s",
             inst_code(r), first);
    const char *key[] = {inst_code(r), first};
    ss_feed feed = {.svc = "payment",
                    .path = path,
                    .limit = FEED_LIMIT,
                    .max_pages = FEED_PAGES,
                    .timeout_ms = FEED_TIMEOUT_MS,
                    .sql_advance = sql_pay_feed_advance,
                    .key = key,
                    .nkey = 2,
                    .apply = collect_apply,
                    .ud = &x,
                    .race_ends = true};
    if ((x.counts = json_object()) == NULL)
        return SS_ERR_NOMEM;
    for (const char *const *o = outcomes; *o != NULL; o++)
        json_object_set_new(x.counts, *o, json_integer(0));
    if ((rc = cursor_load(inst_code(r), first, after, since)) != 0)
        goto out;
    if ((rc = ss_feed_poll(&feed, after, &done)) != 0) {
        rc = rc == SS_ERR_UNAVAILABLE
                 ? ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service cannot be reached")
                 : rc;
        goto out;
    }
    if ((rc = count_unchanged(inst_code(r), first, since, x.counts)) != 0)
        goto out;
    rc = ss_reply_json_new(r, 200,
                           json_pack("{s:s%,s:I,s:b,s:O}", "month", first, (size_t)7, "fetched",
                                     (json_int_t)x.fetched, "complete",
                                     !done.raced && done.applied < FEED_PAGES, "counts", x.counts));
out:
    json_decref(x.counts);
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
