/* stats_feed.c - GET /internal/v1/stats-feed: the stats service (H-6) keeps its published
 * figures current from this feed instead of reading this service's tables (ARCHITECTURE.md).
 * Like cert_changes.c it is served on this service's own port only (the gateway routes no
 * /internal path) and needs a service token of the stats service (ss_svc_token: svc "stats",
 * aud "records", signed by a stats- key); any other caller is 401.
 *
 * ?after=<txid>-<seq>&limit=N: every record written after the cursor (registered, corrected,
 * voided), only from transactions older than every running one, in (txid, seq) order, with the
 * record's latest state and what statistics need of its person: sex, birth month and age in
 * years on the day of vaccination. No names, no addresses, no 個人番号; the person's id crosses
 * only so that the stats service can key its own hash of it. Without `after`: the items from
 * the start. Index: migrations/043_stats_feed.sql. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "self.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"

#define FEED_MAX 2000

int rec_h_stats_feed(ss_req *r)
{
    const char *after, *lim_s;
    char txid[24] = "0", seq[24] = "0", lim[16], next[64];
    long limit = 500;
    PGresult *res = NULL;
    json_t *items;
    int rc;

    if (ss_svc_token_verify(ss_req_header(r, "Authorization"), "stats", "records") != 0)
        return ss_req_fail(r, SS_ERR_UNAUTHORIZED, "only the stats service reads this feed");
    if ((rc = ss_query_check(r, (const char *[]){"after", "limit", NULL})) != 0)
        return rc;
    if ((after = ss_req_query(r, "after")) != NULL && !rec_feed_cursor(after, txid, seq))
        return ss_req_field_error(r, "after", "is not a cursor this feed issued");
    if ((lim_s = ss_req_query(r, "limit")) != NULL &&
        (strspn(lim_s, "0123456789") != strlen(lim_s) || strlen(lim_s) > 5 ||
         (limit = atol(lim_s)) < 1 || limit > FEED_MAX))
        return ss_req_field_error(r, "limit", "out-of-range");
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *params[] = {txid, seq, lim};
    if ((rc = ss_db_query(ss_server_db(), sql_rec_stats_feed, 3, params, &res)) != 0)
        return rc;
    snprintf(next, sizeof(next), "%s-%s", txid, seq);
    items = json_array();
    for (int i = 0; items != NULL && i < PQntuples(res); i++) {
        json_t *it = json_loads(PQgetvalue(res, i, 0), 0, NULL);
        if (it == NULL || json_array_append_new(items, it) != 0) {
            json_decref(items);
            items = NULL;
            break;
        }
        snprintf(next, sizeof(next), "%s", PQgetvalue(res, i, 1));
    }
    PQclear(res);
    return ss_reply_json_new(
        r, 200, items ? json_pack("{s:o,s:s}", "items", items, "next_after", next) : NULL);
}
