/* mch_query.c - reading maternal/child health records (H-7): the municipality's staff and
 * API clients read the records of their current residents (by person, kind, date); the
 * person, and a guardian for a child, read them through the portal (self.read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mch.h"
#include "self.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const list_params[] = {"person_id", "kind",   "from", "to",
                                          "limit",     "cursor", NULL};

static int filters_check(ss_req *r, const char keys[][64])
{
    const char *pid = ss_req_query(r, "person_id"), *kind = ss_req_query(r, "kind");
    const char *from = ss_req_query(r, "from"), *to = ss_req_query(r, "to");

    if (pid != NULL && !ss_uuid_ok(pid))
        ss_req_field_error(r, "person_id", "must be a UUID");
    if (kind != NULL && strcmp(kind, "infant_checkup") != 0 && strcmp(kind, "pregnancy") != 0 &&
        strcmp(kind, "checkup") != 0)
        ss_req_field_error(r, "kind", "must be infant_checkup, pregnancy or checkup");
    if (from != NULL && !ss_date_ok(from))
        ss_req_field_error(r, "from", "must be a date YYYY-MM-DD");
    if (to != NULL && !ss_date_ok(to))
        ss_req_field_error(r, "to", "must be a date YYYY-MM-DD");
    if (keys[0][0] != '\0' && (!ss_date_ok(keys[0]) || !ss_uuid_ok(keys[1])))
        ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    if (pid != NULL)
        snprintf(r->person_id, sizeof(r->person_id), "%s", pid);
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

/* Shared by both lists: scope is the municipality code, or the vaccinee's person id when
 * self; then the filters, the cursor and the limit. */
static int list(ss_req *r, const char *scope, bool self)
{
    char keys[2][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = ss_query_check(r, list_params)) != 0 ||
        (rc = ss_page_keys(r, &limit, 2, keys)) != 0 || (rc = filters_check(r, keys)) != 0)
        return rc;
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *p[] = {
        self ? scope : NULL,         self ? NULL : scope,         ss_req_query(r, "person_id"),
        ss_req_query(r, "kind"),     ss_req_query(r, "from"),     ss_req_query(r, "to"),
        keys[0][0] ? keys[0] : NULL, keys[0][0] ? keys[1] : NULL, lim};
    /* Two statements, so each uses its index: a vaccinee ($1) and the children in its care
     * (self.h), or a municipality's ($2) current residents. Both name all nine parameters. */
    rc = ss_db_query(ss_server_db(), self ? sql_rec_mch_list_self : sql_rec_mch_list_muni, 9, p,
                     &res);
    if (rc == 0)
        rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}

int rec_mch_h_list(ss_req *r)
{
    const char *muni;
    int rc;

    if ((rc = rec_mch_scope(r, &muni)) != 0)
        return rc;
    return list(r, muni, false);
}

int rec_mch_h_self_list(ss_req *r)
{
    if (r->who.kind != SS_PRINCIPAL_VACCINEE || !ss_uuid_ok(r->who.person_id))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "this is the vaccinee's own view");
    snprintf(r->person_id, sizeof(r->person_id), "%s", r->who.person_id);
    return list(r, r->who.person_id, true);
}

int rec_mch_h_get(ss_req *r)
{
    const char *id = ss_req_param(r, "id"), *muni;
    PGresult *res = NULL;
    int rc;

    if ((rc = rec_mch_scope(r, &muni)) != 0 ||
        (rc = ss_query_check(r, (const char *const[]){"id", NULL})) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such record");
    const char *p[] = {id, muni};
    rc = ss_db_query(ss_server_db(), sql_rec_mch_get, 2, p, &res);
    if (rc == 0 && PQntuples(res) == 1)
        snprintf(r->person_id, sizeof(r->person_id), "%s", ss_db_val(res, 0, 1));
    if (rc == 0)
        rc = rec_reply_one(r, res, 200, "record", false);
    PQclear(res);
    return rc;
}
