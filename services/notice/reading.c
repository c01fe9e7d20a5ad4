/* reading.c - the reader side of notices (H-11): the notices that target the
 * caller, unread first and then newest; marking one read; the unread count
 * that GET /me shows.
 *
 * A notice targets a user when it is neither withdrawn nor outside its
 * publication window and the user matches every non-empty audience list
 * (organisation type, prefecture, organisation, role). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntc.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static void who_params(const ss_req *r, const char *params[5])
{
    params[0] = ss_org_type_name(r->who.org_type);
    params[1] = r->who.pref_code[0] != '\0' ? r->who.pref_code : NULL;
    params[2] = r->who.org_id;
    params[3] = ss_role_name(r->who.role);
    params[4] = r->who.sub;
}

static const char *const list_params[] = {"limit", "cursor", NULL};

int ntc_h_list(ss_req *r)
{
    char keys[3][64];
    char lim[16];
    const char *params[9];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = ntc_require_user(r)) != 0 || (rc = ss_query_check(r, list_params)) != 0 ||
        (rc = ss_page_keys(r, &limit, 3, keys)) != 0)
        return rc;
    if (keys[0][0] != '\0' &&
        ((strcmp(keys[0], "0") != 0 && strcmp(keys[0], "1") != 0) || !ss_uuid_ok(keys[2])))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    who_params(r, params);
    params[5] = keys[0][0] ? keys[0] : NULL;
    params[6] = keys[0][0] ? keys[1] : NULL;
    params[7] = keys[0][0] ? keys[2] : NULL;
    params[8] = lim;
    /* Order: unread (0) before read (1), then newest publication first. */
    rc = ss_db_query(ss_server_db(), sql_ntc_reader_list, 9, params, &res);
    if (rc != 0)
        return rc;
    rc = ss_reply_page(r, res, limit, 3);
    PQclear(res);
    return rc;
}

int ntc_h_unread_count(ss_req *r)
{
    const char *params[5];
    PGresult *res = NULL;
    int rc;

    if ((rc = ntc_require_user(r)) != 0 || (rc = ss_query_check(r, (const char *[]){NULL})) != 0)
        return rc;
    who_params(r, params);
    rc = ss_db_query(ss_server_db(), sql_ntc_reader_unread_count, 5, params, &res);
    if (rc != 0)
        return rc;
    rc = ss_reply_json_new(
        r, 200, json_pack("{s:I}", "unread", (json_int_t)strtoll(ss_db_val(res, 0, 0), NULL, 10)));
    PQclear(res);
    return rc;
}

/* Idempotent: the first read is the one kept. A notice that does not target
 * the caller (or no longer shows) is "not found". */
int ntc_h_mark_read(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    const char *params[6];
    PGresult *res = NULL;
    int rc;

    if ((rc = ntc_require_user(r)) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such notice for you");
    if (r->body != NULL && json_object_size(r->body) > 0)
        return ss_req_field_error(r, "(body)", "takes no members");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    who_params(r, params);
    params[5] = id;
    rc = ss_db_query(ss_server_db(), sql_ntc_reader_mark_read, 6, params, &res);
    if (rc != 0)
        return rc;
    if (strcmp(ss_db_val(res, 0, 0), "0") == 0)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such notice for you");
    else
        rc = ss_reply_empty(r, 204);
    PQclear(res);
    return rc;
}
