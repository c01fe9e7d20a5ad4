/* cert_changes.c - GET /internal/v1/immunization-changes: the certificate service (H-5) learns
 * which records were corrected or voided and which persons changed, so that every certificate
 * carrying an older version becomes superseded (or revoked) and its card's rid goes on the
 * revocation list. Services never read another's tables, so this crosses by HTTP on this service's
 * own port (the gateway routes no /internal path), authenticated by a service token of the
 * certificate service (ss_svc_token: svc "certificate", aud "records"); any other caller is 401.
 *
 * ?after=<txid>-<seq>&limit=N: changes after the cursor, as linkage.c orders them (only from
 * transactions older than every running one, so a poller never skips one); each item is
 * {kind: immunization, id, version, status} for a corrected or voided record, or {kind: person,
 * id, version, status, identity} for a changed person (identity: a digest of name and birth
 * date, so that a correction of either supersedes the certificates; nothing personal in clear).
 * Without `after`: no items and the current head, where a new poller starts. Indexes:
 * migrations/042_certificate_changes.sql, 044_certificate_person_changes.sql. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "self.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"

#define CHANGES_MAX 1000

static int reply_head(ss_req *r)
{
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_rec_cert_changes_head, 0, NULL, &res);

    if (rc == 0)
        rc = ss_reply_json_new(
            r, 200, json_pack("{s:[],s:s}", "items", "next_after", PQgetvalue(res, 0, 0)));
    PQclear(res);
    return rc;
}

int rec_h_cert_changes(ss_req *r)
{
    const char *after, *lim_s;
    char txid[24], seq[24], lim[16], next[64];
    long limit = 200;
    PGresult *res = NULL;
    json_t *items;
    int rc;

    if (ss_svc_token_verify(ss_req_header(r, "Authorization"), "certificate", "records") != 0)
        return ss_req_fail(r, SS_ERR_UNAUTHORIZED, "only the certificate service reads this feed");
    if ((rc = ss_query_check(r, (const char *[]){"after", "limit", NULL})) != 0)
        return rc;
    if ((after = ss_req_query(r, "after")) == NULL)
        return reply_head(r);
    if (!rec_feed_cursor(after, txid, seq))
        return ss_req_field_error(r, "after", "is not a cursor this feed issued");
    if ((lim_s = ss_req_query(r, "limit")) != NULL &&
        (sscanf(lim_s, "%ld", &limit) != 1 || limit < 1 || limit > CHANGES_MAX))
        return ss_req_field_error(r, "limit", "out-of-range");
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *params[] = {txid, seq, lim};
    rc = ss_db_query(ss_server_db(), sql_rec_cert_changes_page, 3, params, &res);
    if (rc != 0)
        return rc;
    snprintf(next, sizeof(next), "%s", after);
    items = json_array();
    for (int i = 0; items != NULL && i < PQntuples(res); i++) {
        json_t *it = json_pack("{s:s,s:s,s:i,s:s}", "kind", PQgetvalue(res, i, 0), "id",
                               PQgetvalue(res, i, 1), "version", atoi(PQgetvalue(res, i, 2)),
                               "status", PQgetvalue(res, i, 3));
        if (it != NULL && !PQgetisnull(res, i, 4))
            json_object_set_new(it, "identity", json_string(PQgetvalue(res, i, 4)));
        json_array_append_new(items, it);
        snprintf(next, sizeof(next), "%s", PQgetvalue(res, i, 5));
    }
    PQclear(res);
    return ss_reply_json_new(
        r, 200, items ? json_pack("{s:o,s:s}", "items", items, "next_after", next) : NULL);
}
