/* linkage.c - change feeds for health-management systems (H-3-1): every new, corrected and
 * voided record of the municipality, and every person it registered, changed, took in or lost
 * to a move, in a monotonic order a system can poll with ?after=<cursor>.
 *
 * The cursor is "<txid>-<seq>" of the last change seen. Rows are returned in (txid, seq) order
 * and only from transactions older than every transaction still running
 * (pg_snapshot_xmin): a change committed later always sorts after every cursor already handed
 * out, so polling never skips one. A record changed twice between polls appears once, in its
 * latest state (the feed is of states, not of events; the history is readable per record). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"

/* "<txid>-<seq>", both unsigned decimal, or absent (the beginning). */
static int parse_after(ss_req *r, char txid[24], char seq[24])
{
    const char *a = ss_req_query(r, "after");

    snprintf(txid, 24, "0");
    snprintf(seq, 24, "0");
    if (a != NULL && !rec_feed_cursor(a, txid, seq))
        return ss_req_field_error(r, "after", "is not a cursor this feed issued");
    return 0;
}

static int feed_reply(ss_req *r, PGresult *res, const char *txid, const char *seq)
{
    json_t *items = json_array();
    char after[64];
    int n = PQntuples(res);

    if (items == NULL)
        return SS_ERR_NOMEM;
    snprintf(after, sizeof(after), "%s-%s", txid, seq);
    for (int i = 0; i < n; i++) {
        json_t *it = ss_json_col(res, i, 0);

        if (it == NULL || json_array_append_new(items, it) != 0) {
            json_decref(items);
            return SS_ERR_INTERNAL;
        }
        snprintf(after, sizeof(after), "%s", ss_db_val(res, i, 1));
    }
    if (n == 1)
        rec_touch_person(r, ss_db_val(res, 0, 2));
    return ss_reply_json_new(r, 200, json_pack("{s:o,s:s}", "items", items, "next_after", after));
}

static int feed(ss_req *r, const char *sql)
{
    char txid[24], seq[24], lim[16];
    int limit = SS_PAGE_DEFAULT, rc;
    json_t *unused = NULL;
    PGresult *res = NULL;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "the feed is a municipality's");
    if ((rc = ss_query_check(r, (const char *[]){"after", "limit", NULL})) != 0 ||
        (rc = parse_after(r, txid, seq)) != 0 ||
        (rc = ss_page_params(r, SS_PAGE_DEFAULT, SS_PAGE_MAX, &limit, &unused)) != 0)
        return rc;
    json_decref(unused);
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[] = {rec_muni(r), txid, seq, lim};
    if ((rc = ss_db_query(ss_server_db(), sql, 4, params, &res)) != 0)
        return rc;
    rc = feed_reply(r, res, txid, seq);
    PQclear(res);
    return rc;
}

int rec_h_feed_immunizations(ss_req *r)
{
    return feed(r, sql_rec_feed_immunizations);
}

int rec_h_feed_persons(ss_req *r)
{
    return feed(r, sql_rec_feed_persons);
}
