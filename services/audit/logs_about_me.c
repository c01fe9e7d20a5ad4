/* logs_about_me.c - GET /api/v1/access-logs/about-me: "who viewed my records" for a vaccinee
 * (H-3-3, self.read only). The persons the token may see (its own and its children's) come
 * from the records service, which owns persons and guardian links: this service asks
 * GET /api/v1/persons/me there with the caller's own token, and reads only log rows about
 * those persons.
 *
 * A viewer is shown as its organisation (type, 日本語 label, id, municipality code and name)
 * and role, or as "api_client" / "vaccinee" / "portal" (a token exchange by the portal); never
 * a login id or user id: staff are named by office, not person. The caller's own views are
 * left out. Newest first, keyset-paginated on chain_pos (?limit=&cursor=), ?person_id= narrows
 * to one of the family. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

#define ABOUT_TIMEOUT_MS 3000L
#define ABOUT_FAMILY_MAX 32

static const char *const about_params[] = {"person_id", "limit", "cursor", NULL};

/* The person ids the caller's token may see, as a PostgreSQL array literal (ids are uuids,
 * checked), from the records service. 0, or SS_ERR_UNAVAILABLE. */
static int family(ss_req *r, char *out, size_t n)
{
    json_t *ans = NULL, *kids, *v;
    long status = 0;
    size_t used = 0, i;
    int rc = ss_svc_call("RECORDS", SS_PORT_RECORDS, "GET", "/api/v1/persons/me",
                         ss_req_header(r, "Authorization"), r->request_id, NULL, ABOUT_TIMEOUT_MS,
                         &status, &ans);
    const char *me = json_string_value(json_object_get(json_object_get(ans, "person"), "id"));

    if (rc != 0 || status != 200 || !ss_uuid_ok(me) || strcmp(me, r->who.person_id) != 0) {
        json_decref(ans);
        return status == 404 ? SS_ERR_NOT_FOUND : SS_ERR_UNAVAILABLE;
    }
    used += (size_t)snprintf(out, n, "{%s", me);
    kids = json_object_get(ans, "children");
    json_array_foreach (kids, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));

        if (i < ABOUT_FAMILY_MAX && ss_uuid_ok(id) && used + 40 < n)
            used += (size_t)snprintf(out + used, n - used, ",%s", id);
    }
    snprintf(out + used, n - used, "}");
    json_decref(ans);
    return 0;
}

/* ?person_id= must be one of the family: the literal narrowed to it, or 404. */
static int narrow(ss_req *r, char *fam, size_t n)
{
    const char *pid = ss_req_query(r, "person_id");

    if (pid == NULL)
        return 0;
    if (!ss_uuid_ok(pid) || strstr(fam, pid) == NULL)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    snprintf(fam, n, "{%s}", pid);
    return 0;
}

int aud_h_about_me(ss_req *r)
{
    char fam[ABOUT_FAMILY_MAX * 40 + 64], lim[16], pos[24] = "9223372036854775807";
    const char *params[4];
    PGresult *res = NULL;
    json_t *cursor = NULL, *items;
    int limit = 50, rc;

    if (r->who.kind != SS_PRINCIPAL_VACCINEE)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a vaccinee token has this view");
    if ((rc = aud_check_params(r, about_params)) != 0 ||
        (rc = ss_page_params(r, 50, SS_PAGE_MAX, &limit, &cursor)) != 0)
        goto out;
    if (cursor != NULL) {
        long long v = 0;

        if (json_array_size(cursor) != 1 ||
            aud_parse_ll(json_string_value(json_array_get(cursor, 0)), 0, 9223372036854775807LL,
                         &v) != 0) {
            rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
            goto out;
        }
        snprintf(pos, sizeof(pos), "%lld", v);
    }
    if ((rc = family(r, fam, sizeof(fam))) != 0 || (rc = narrow(r, fam, sizeof(fam))) != 0)
        goto out;
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    params[0] = fam;
    params[1] = r->who.person_id;
    params[2] = pos;
    params[3] = lim;
    snprintf(r->person_id, sizeof(r->person_id), "%s", r->who.person_id);
    if ((rc = ss_db_query(ss_server_db(), sql_aud_about_me_page, 4, params, &res)) != 0)
        goto out;
    items = json_array();
    for (int i = 0; items != NULL && i < PQntuples(res) && i < limit; i++)
        json_array_append_new(items, json_loads(PQgetvalue(res, i, 0), 0, NULL));
    {
        json_t *next = json_null();

        if (PQntuples(res) > limit) {
            json_t *key = json_pack("[s]", PQgetvalue(res, limit - 1, 1));
            char *c = key ? ss_page_cursor(key) : NULL;

            json_decref(key);
            next = c ? json_string(c) : json_null();
            free(c);
        }
        rc = ss_reply_json_new(
            r, 200, items ? json_pack("{s:o,s:o}", "items", items, "next_cursor", next) : NULL);
    }
out:
    json_decref(cursor);
    PQclear(res);
    return rc;
}
