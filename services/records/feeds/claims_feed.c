/* claims_feed.c - GET /internal/v1/claims-feed: the payment service (請求) turns an institution's
 * records of a vaccination month into claim lines from this feed instead of reading this
 * service's tables (ARCHITECTURE.md), in pages of thousands. Like stats_feed.c it is served on
 * this service's own port only (the gateway routes no /internal path) and needs a service token
 * of the payment service (ss_svc_token: svc "payment", aud "records", signed by a payment- key);
 * any other caller is 401.
 *
 * ?institution_code=<10 digits>&month=YYYY-MM&after=<txid>-<seq>&limit=N: the institution's
 * records vaccinated in that month written after the cursor (registered, corrected, voided: a
 * correction moves a record to the end of the feed, so payment sees every version it must price
 * or turn into a 過誤調整 line), only from transactions older than every running one, in
 * (txid, seq) order, each in its latest state. Without `after`: from the start. The page is
 * built by the database in one statement (sql/feeds.sql rec_claims_feed) and sent as it comes.
 * Index: migrations/050_claims_feed.sql. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "self.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"

#define CLAIMS_FEED_MAX 10000 /* items a page; ~300 bytes each, inside SS_SVC_MAX_ANSWER */

static bool digits(const char *s, size_t n)
{
    return s != NULL && strlen(s) == n && strspn(s, "0123456789") == n;
}

/* "YYYY-MM" into the month's first day. */
static bool month_of(const char *s, char out[11])
{
    int m;

    if (s == NULL || strlen(s) != 7 || s[4] != '-' || strspn(s, "0123456789") != 4 ||
        strspn(s + 5, "0123456789") != 2)
        return false;
    m = atoi(s + 5);
    if (m < 1 || m > 12)
        return false;
    snprintf(out, 11, "%.7s-01", s);
    return true;
}

int rec_h_claims_feed(ss_req *r)
{
    const char *inst, *after, *lim_s;
    char month[11], txid[24] = "0", seq[24] = "0", lim[16];
    long limit = 1000;
    PGresult *res = NULL;
    int rc;

    if (ss_svc_token_verify(ss_req_header(r, "Authorization"), "payment", "records") != 0)
        return ss_req_fail(r, SS_ERR_UNAUTHORIZED, "only the payment service reads this feed");
    if ((rc = ss_query_check(
             r, (const char *[]){"institution_code", "month", "after", "limit", NULL})) != 0)
        return rc;
    if (!digits(inst = ss_req_query(r, "institution_code"), 10))
        return ss_req_field_error(r, "institution_code", "must be 10 digits");
    if (!month_of(ss_req_query(r, "month"), month))
        return ss_req_field_error(r, "month", "must be a month YYYY-MM");
    if ((after = ss_req_query(r, "after")) != NULL && !rec_feed_cursor(after, txid, seq))
        return ss_req_field_error(r, "after", "is not a cursor this feed issued");
    if ((lim_s = ss_req_query(r, "limit")) != NULL &&
        (!digits(lim_s, strlen(lim_s)) || strlen(lim_s) > 5 || (limit = atol(lim_s)) < 1 ||
         limit > CLAIMS_FEED_MAX))
        return ss_req_field_error(r, "limit", "out-of-range");
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *params[] = {inst, month, txid, seq, lim};
    if ((rc = ss_db_query(ss_server_db(), sql_rec_claims_feed, 5, params, &res)) != 0)
        return rc;
    rc = ss_reply_raw(r, 200, "application/json", PQgetvalue(res, 0, 0),
                      (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}
