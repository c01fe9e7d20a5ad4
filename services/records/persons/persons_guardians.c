/* persons_guardians.c - guardian links (保護者): a municipality links a parent or guardian to a
 * child, both its own residents, so that the parent can act for the child (the vaccinee
 * self-view reads records.guardians). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const relations[] = {"parent", "guardian", NULL};

static const ss_field link_fields[] = {
    {"guardian_id", SS_F_STRING, true, 36, 36, NULL, false},
    {"relation", SS_F_ENUM, false, 0, 0, relations, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Guardianship must not go round in a circle (a child made the guardian of its own guardian,
 * directly or through others): refused when the child already is, transitively, a guardian of
 * the new guardian. Guardian edits of one municipality take turns (an advisory lock), so two
 * links made at once cannot close a circle between them. */
static int guardian_cycle_check(ss_req *r, ss_dbc *c, const char *child, const char *guardian,
                                const char *muni)
{
    const char *params[] = {child, guardian, muni};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_rec_guardian_cycle_check, 3, params, &res);
    if (rc == 0 && strcmp(ss_db_val(res, 0, 1), "t") == 0)
        rc = ss_req_field_error(r, "guardian_id",
                                "is already in the child's care: guardianship cannot go round in "
                                "a circle");
    PQclear(res);
    return rc;
}

static int add_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *params[] = {arg, ss_json_str(r->body, "guardian_id"), rec_muni(r),
                            ss_json_str(r->body, "relation"), r->who.sub};
    int rc;

    *status = 201;
    if ((rc = guardian_cycle_check(r, c, arg, params[1], params[2])) != 0)
        return rc;
    rc = rec_exec_doc(r, c, sql_rec_guardian_insert, 5, params, doc, "child and guardian");
    if (rc == 0)
        json_object_set_new(*doc, "id", json_string(arg));
    return rc;
}

int rec_h_guardian_add(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    if ((rc = ss_body_check(r, link_fields)) != 0)
        return rc;
    if (!ss_uuid_ok(ss_json_str(r->body, "guardian_id")))
        return ss_req_field_error(r, "guardian_id", "must be a person id");
    if (strcmp(ss_json_str(r->body, "guardian_id"), id) == 0)
        return ss_req_field_error(r, "guardian_id", "must be another person than the child");
    return rec_write_tx(r, add_tx, id, true);
}

int rec_h_guardian_list(ss_req *r)
{
    return rec_person_items(r, sql_rec_guardian_list, 1);
}

int rec_h_guardian_remove(ss_req *r)
{
    const char *id = ss_req_param(r, "id"), *gid = ss_req_param(r, "guardian_id");
    PGresult *res = NULL;
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
    if (!ss_uuid_ok(id) || !ss_uuid_ok(gid))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such guardian link of yours");
    const char *params[] = {id, gid, rec_muni(r)};
    rc = ss_db_query(ss_server_db(), sql_rec_guardian_delete, 3, params, &res);
    if (rc != 0)
        return rc;
    rc = PQntuples(res) == 1 ? 0 : SS_ERR_NOT_FOUND;
    PQclear(res);
    if (rc != 0)
        return ss_req_fail(r, rc, "no such guardian link of yours");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rec_touch_person(r, id);
    return ss_reply_empty(r, 204);
}
