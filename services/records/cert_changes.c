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
#include "sesshu/svc.h"

#define CHANGES_MAX 1000

/* Changed records and persons after ($1, $2), at most $3, in feed order. A person's item carries
 * `identity`: SHA-256 of name and birth date, what a card prints of the person (the certificate
 * service compares it with its own snapshot and needs nothing else of the person). */
#define CHANGES_SQL                                                                               \
    "WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) SELECT x.kind, x.id, "    \
    "x.version, x.status, x.identity, x.txid::text || '-' || x.seq FROM ((SELECT "                \
    "'immunization' AS kind, im.id::text AS id, im.version, im.status, NULL::text AS identity, "  \
    "im.txid, im.seq FROM records.immunizations im, s WHERE (im.version > 1 OR im.status = "      \
    "'voided') AND (im.txid, im.seq) > ($1::xid8, $2::bigint) AND im.txid < s.xmin ORDER BY "     \
    "im.txid, im.seq LIMIT $3::int) UNION ALL (SELECT 'person', p.id::text, p.version, "          \
    "p.status, encode(sha256(convert_to(p.name || E'\\n' || to_char(p.birth_date, "               \
    "'YYYY-MM-DD'), 'UTF8')), 'hex'), p.txid, p.seq FROM records.persons p, s WHERE p.version > " \
    "1 AND (p.txid, p.seq) > ($1::xid8, $2::bigint) AND p.txid < s.xmin ORDER BY p.txid, p.seq "  \
    "LIMIT $3::int)) x ORDER BY x.txid, x.seq LIMIT $3::int"

static int reply_head(ss_req *r)
{
    PGresult *res = NULL;
    int rc = ss_db_query(
        ss_server_db(),
        "WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) SELECT "
        "coalesce((SELECT "
        "h.txid::text || '-' || h.seq FROM ((SELECT im.txid, im.seq FROM records.immunizations im, "
        "s WHERE (im.version > 1 OR im.status = 'voided') AND im.txid < s.xmin ORDER BY im.txid "
        "DESC, im.seq DESC LIMIT 1) UNION ALL (SELECT p.txid, p.seq FROM records.persons p, s "
        "WHERE p.version > 1 AND p.txid < s.xmin ORDER BY p.txid DESC, p.seq DESC LIMIT 1)) h "
        "ORDER BY h.txid DESC, h.seq DESC LIMIT 1), '0-0')",
        0, NULL, &res);

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
    rc = ss_db_query(ss_server_db(), CHANGES_SQL, 3, params, &res);
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
