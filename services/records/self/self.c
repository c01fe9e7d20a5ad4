/* self.c - the vaccinee's own view (H-3-3): a vaccinee token (RFC 8693 exchange at the token
 * service, bound to one person) reads that person's profile and vaccination records, and those
 * of the children it is guardian of (self.h). Any other person is 404, exactly as
 * a person that does not exist. Voided records are not shown; the 個人番号 never is.
 *
 *   GET /api/v1/persons/me                              the person and the children
 *   GET /api/v1/persons/me/immunizations                the person's records
 *   GET /api/v1/persons/me/children/:id                 one child
 *   GET /api/v1/persons/me/children/:id/immunizations   the child's records
 * The two person reads take ?include=immunizations: the person's records too (as the
 * …/immunizations path shows them), in one request and one access-log row, for a caller that
 * needs both (the certificate service issuing a card). */
#include <stdio.h>
#include <string.h>

#include "rec.h"
#include "self.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define SELF_MAX_RECORDS 1000 /* a person's records: a bounded list, no pagination */

static bool is_vaccinee(const ss_req *r)
{
    return r->who.kind == SS_PRINCIPAL_VACCINEE && ss_uuid_ok(r->who.person_id);
}

int rec_self_may_read(const ss_req *r, const char *person_id)
{
    const char *params[] = {r->who.person_id, person_id};
    PGresult *res = NULL;
    int rc;

    if (!is_vaccinee(r) || !ss_uuid_ok(person_id))
        return SS_ERR_NOT_FOUND;
    rc = ss_db_query(ss_server_db(), sql_rec_self_may_read, 2, params, &res);
    if (rc == 0 && PQntuples(res) != 1)
        rc = SS_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}

bool rec_has_query(const ss_req *r)
{
    const char *q = r->u->http_url != NULL ? strchr(r->u->http_url, '?') : NULL;

    return q != NULL && q[1] != '\0';
}

/* These routes take no query parameters: a stray one is a mistake to report. */
static int no_params(ss_req *r)
{
    return rec_has_query(r) ? ss_req_fail(r, SS_ERR_VALIDATION, "this resource takes no query") : 0;
}

/* The person reads take one: include=immunizations (*with), nothing else. */
static int include_param(ss_req *r, bool *with)
{
    const char *inc = ss_req_query(r, "include");
    int rc;

    *with = false;
    if ((rc = ss_query_check(r, (const char *[]){"id", "include", NULL})) != 0)
        return rc;
    if (inc != NULL && strcmp(inc, "immunizations") != 0)
        return ss_req_field_error(r, "include", "must be immunizations");
    *with = inc != NULL;
    return 0;
}

/* The records of one person the caller may read (checked by the caller): *items, oldest first,
 * voided ones left out. */
static int records_of(const char *person_id, json_t **items)
{
    char lim[16];
    const char *params[] = {person_id, lim};
    PGresult *res = NULL;
    int rc;

    *items = NULL;
    snprintf(lim, sizeof(lim), "%d", SELF_MAX_RECORDS);
    if ((rc = ss_db_query(ss_server_db(), sql_rec_self_records, 2, params, &res)) != 0)
        return rc;
    *items = json_array();
    for (int i = 0; *items != NULL && i < PQntuples(res); i++)
        json_array_append_new(*items, ss_json_col(res, i, 0));
    PQclear(res);
    return *items != NULL ? 0 : SS_ERR_NOMEM;
}

/* doc (stolen) with its records added when asked for, as the answer. */
static int reply_with(ss_req *r, json_t *doc, const char *person_id, bool with)
{
    json_t *items = NULL;
    int rc;

    if (doc == NULL)
        return SS_ERR_NOMEM;
    if (with) {
        if ((rc = records_of(person_id, &items)) != 0) {
            json_decref(doc);
            return rc;
        }
        json_object_set_new(doc, "immunizations", items);
    }
    return ss_reply_json_new(r, 200, doc);
}

int rec_h_self_get(ss_req *r)
{
    const char *params[] = {r->who.person_id};
    PGresult *res = NULL;
    json_t *me = NULL, *children = NULL;
    bool with = false;
    int rc;

    if (!is_vaccinee(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a vaccinee token has a self view");
    if ((rc = include_param(r, &with)) != 0)
        return rc;
    rec_touch_person(r, r->who.person_id);
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.person_id);
    rc = ss_db_query(ss_server_db(), sql_rec_self_get, 1, params, &res);
    if (rc != 0)
        return rc;
    /* The person may have been removed since the token was issued. */
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "the person of this token is not registered");
    }
    me = ss_json_col(res, 0, 0);
    children = json_array();
    for (int i = 1; me != NULL && children != NULL && i < PQntuples(res); i++)
        json_array_append_new(children, ss_json_col(res, i, 0));
    PQclear(res);
    if (me == NULL || children == NULL) {
        json_decref(me);
        json_decref(children);
        return SS_ERR_INTERNAL;
    }
    return reply_with(r, json_pack("{s:o,s:o}", "person", me, "children", children),
                      r->who.person_id, with);
}

/* The records of one person the caller may read (checked by the caller). */
static int reply_records(ss_req *r, const char *person_id)
{
    json_t *items = NULL;
    int rc;

    rec_touch_person(r, person_id);
    if ((rc = records_of(person_id, &items)) != 0)
        return rc;
    return ss_reply_json_new(r, 200,
                             json_pack("{s:s,s:o}", "person_id", person_id, "items", items));
}

int rec_h_self_immunizations(ss_req *r)
{
    int rc;

    if (!is_vaccinee(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a vaccinee token has a self view");
    if ((rc = no_params(r)) != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.person_id);
    return reply_records(r, r->who.person_id);
}

/* The child :id of the token's person, or 404 (also for the person itself: it is no child).
 * with: NULL for a route that takes no query, else whether ?include=immunizations asks for the
 * records too. */
static int own_child(ss_req *r, const char **id, bool *with)
{
    int rc;

    *id = ss_req_param(r, "id");
    if (!is_vaccinee(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a vaccinee token has a self view");
    if ((rc = with != NULL ? include_param(r, with) : no_params(r)) != 0)
        return rc;
    if (!ss_uuid_ok(*id) || strcmp(*id, r->who.person_id) == 0)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such child of yours");
    snprintf(r->res_id, sizeof(r->res_id), "%s", *id);
    rc = rec_self_may_read(r, *id);
    return rc == SS_ERR_NOT_FOUND ? ss_req_fail(r, rc, "no such child of yours") : rc;
}

int rec_h_self_child_get(ss_req *r)
{
    const char *id = NULL;
    PGresult *res = NULL;
    bool with = false;
    int rc;

    if ((rc = own_child(r, &id, &with)) != 0)
        return rc;
    {
        const char *params[] = {id};

        rc = ss_db_query(ss_server_db(), sql_rec_self_child_get, 1, params, &res);
    }
    if (rc == 0 && !with)
        rc = rec_reply_one(r, res, 200, "child", true);
    else if (rc == 0 && PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such child of yours");
    else if (rc == 0) {
        rec_touch_person(r, id);
        rc = reply_with(r, ss_json_col(res, 0, 0), id, true);
    }
    PQclear(res);
    return rc;
}

int rec_h_self_child_immunizations(ss_req *r)
{
    const char *id = NULL;
    int rc;

    if ((rc = own_child(r, &id, NULL)) != 0)
        return rc;
    return reply_records(r, id);
}
