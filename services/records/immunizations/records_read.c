/* records_read.c - reading vaccination records (H-3-2) and voiding them: one record, its
 * history, a person's records; who sees what (rec.h, sql/immunizations.sql):
 *   municipality    records of its residents (with the history of people who moved in), and
 *                   of former residents the records it made itself;
 *   institution     records it registered, and the past doses of a person it identified
 *                   (care link) - for interval checks;
 *   国保連合会        claimable records of institutions in its prefecture (claims);
 *   厚生労働省        every record (the national DB), without the person's identity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

const char *rec_viewer(const ss_req *r)
{
    if (rec_muni(r) != NULL)
        return "muni";
    if (rec_is_institution(r))
        return "inst";
    if (r->who.org_type == SS_ORG_KOKUHOREN && r->who.pref_code[0] != '\0')
        return "kokuhoren";
    if (r->who.org_type == SS_ORG_MHLW)
        return "mhlw";
    return NULL;
}

static int require_viewer(ss_req *r)
{
    return rec_viewer(r) != NULL ? 0 : ss_req_fail(r, SS_ERR_FORBIDDEN, "no access to records");
}

/* The single-record lookup is the hot read: one statement per viewer kind, each with only
 * the parameters its predicate uses, so PostgreSQL settles on one generic plan per connection
 * instead of planning the CASE over every viewer at each call (and re-inlining the JSON view).
 * In rec_viewer's order: rec_imm_get_muni, _inst, _kokuhoren, _mhlw (sql/immunizations.sql). */
static const char *const imm_get_sql[] = {
    sql_rec_imm_get_muni,
    sql_rec_imm_get_inst,
    sql_rec_imm_get_kokuhoren,
    sql_rec_imm_get_mhlw,
};

int rec_h_imm_get(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    const char *viewer = rec_viewer(r);
    PGresult *res = NULL;
    int rc, kind;

    /* GET /api/v1/immunizations/rules shares this route's depth: the rule list, for every
     * records reader (records_rules.c). */
    if (id != NULL && strcmp(id, "rules") == 0)
        return rec_h_imm_rules(r);
    if ((rc = require_viewer(r)) != 0 ||
        (rc = ss_query_check(r, (const char *[]){"id", NULL})) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such record of yours");
    kind = strcmp(viewer, "muni") == 0        ? 0
           : strcmp(viewer, "inst") == 0      ? 1
           : strcmp(viewer, "kokuhoren") == 0 ? 2
                                              : 3;
    const char *arg = kind == 0 ? rec_muni(r) : kind == 1 ? r->who.org_id : r->who.pref_code;
    const char *params[] = {id, arg};
    rc = ss_db_query(ss_server_db(), imm_get_sql[kind], kind == 3 ? 1 : 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such record of yours");
    }
    /* The record's JSON goes out as PostgreSQL wrote it: no parse and print again. */
    snprintf(r->res_id, sizeof(r->res_id), "%s", PQgetvalue(res, 0, 1));
    rec_touch_person(r, ss_db_val(res, 0, 2));
    rc = ss_reply_raw(r, 200, "application/json", PQgetvalue(res, 0, 0),
                      (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}

int rec_h_imm_history(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    PGresult *res = NULL;
    json_t *items = NULL, *cur = NULL;
    int rc;

    if ((rc = require_viewer(r)) != 0 ||
        (rc = ss_query_check(r, (const char *[]){"id", NULL})) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such record of yours");
    const char *params[] = {rec_viewer(r), rec_muni(r), r->who.org_id, r->who.pref_code, id};
    rc = ss_db_query(ss_server_db(), sql_rec_imm_history, 5, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such record of yours");
    }
    cur = ss_json_col(res, 0, 0);
    items = ss_json_col(res, 0, 1);
    PQclear(res);
    if (cur == NULL || items == NULL) {
        json_decref(cur);
        json_decref(items);
        return SS_ERR_INTERNAL;
    }
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rec_touch_person(r, json_string_value(json_object_get(cur, "person_id")));
    return ss_reply_json_new(
        r, 200, json_pack("{s:s,s:o,s:o}", "id", id, "current", cur, "versions", items));
}

/* Does the caller know this person? A municipality: its resident or former resident it may
 * see (records.person_visible); an institution: a patient it identified (care link); and any
 * viewer: the person of a record it may read. 0, SS_ERR_NOT_FOUND or a database error. */
static int person_known(ss_req *r, const char *id)
{
    const char *params[] = {rec_viewer(r), rec_muni(r), r->who.org_id, r->who.pref_code, id};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_query(ss_server_db(), sql_rec_imm_person_known, 5, params, &res);
    if (rc == 0 && PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    PQclear(res);
    return rc;
}

int rec_h_person_immunizations(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    char keys[2][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = require_viewer(r)) != 0 ||
        (rc = ss_query_check(r, (const char *[]){"id", "limit", "cursor", NULL})) != 0 ||
        (rc = ss_page_keys(r, &limit, 2, keys)) != 0)
        return rc;
    if (!ss_uuid_ok(id) || strcmp(rec_viewer(r), "mhlw") == 0)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    if (keys[1][0] != '\0' && (!ss_date_ok(keys[0]) || !ss_uuid_ok(keys[1])))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *params[] = {rec_viewer(r),
                            rec_muni(r),
                            r->who.org_id,
                            r->who.pref_code,
                            id,
                            keys[0][0] ? keys[0] : NULL,
                            keys[1][0] ? keys[1] : NULL,
                            lim};
    rc = ss_db_query(ss_server_db(), sql_rec_imm_person_list, 8, params, &res);
    if (rc != 0)
        return rc;
    /* No row shown: a person the caller does not know (or none) is 404, as on every other
     * path; a person of theirs without records (or past the last page) is an empty page. */
    if (PQntuples(res) == 0 && (rc = person_known(r, id)) != 0) {
        PQclear(res);
        return rc;
    }
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rec_touch_person(r, id);
    rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}

static const ss_field void_fields[] = {
    {"reason", SS_F_STRING, true, 1, 500, NULL, false},
    {"version", SS_F_INT, false, 1, 1000000, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* The record is locked and judged first: not the caller's (or no such record) is 404; voided
 * already, or not at the version the caller names, is 409 with what is current. */
static int void_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const json_t *ver = json_object_get(r->body, "version");
    char vbuf[24];
    const char *lp[] = {arg, rec_muni(r), r->who.org_id};
    const char *params[] = {arg, ss_json_str(r->body, "reason"), r->who.sub};
    PGresult *res = NULL;
    int rc;

    if ((rc = ss_db_exec(c, sql_rec_imm_void_lock, 3, lp, &res)) != 0)
        return rc;
    snprintf(vbuf, sizeof(vbuf), "%lld", (long long)json_integer_value(ver));
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such record of yours");
    else if (strcmp(PQgetvalue(res, 0, 0), "voided") == 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the record is voided already (version %s)",
                         PQgetvalue(res, 0, 1));
    else if (ver != NULL && strcmp(PQgetvalue(res, 0, 1), vbuf) != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the record has changed: version %s is current",
                         PQgetvalue(res, 0, 1));
    PQclear(res);
    if (rc != 0)
        return rc;
    *status = 200;
    rc = rec_exec_doc(r, c, sql_rec_imm_void, 3, params, doc, "record");
    /* a void must not break a later dose either (R-CORRECTION-LATER) */
    return rc != 0 ? rc : rec_later_doses_check(r, c, ss_json_str(*doc, "person_id"), arg);
}

int rec_h_imm_void(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    int rc;

    if (!rec_is_institution(r) && rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "records are voided by their institution or municipality");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such record of yours");
    if ((rc = ss_body_check(r, void_fields)) != 0)
        return rc;
    return rec_write_tx(r, void_tx, id, false);
}
