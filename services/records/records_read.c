/* records_read.c - reading vaccination records (H-3-2) and voiding them: one record, its
 * history, a person's records; who sees what is one SQL predicate (REC_IMM_VISIBLE):
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
#include "sesshu/err.h"
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
 * Parameters: $1 the record id, $2 the viewer's municipality / organisation / prefecture. */
#define IMM_GET_SQL(view, pid, pred)                                                           \
    "SELECT (" view ")::text, im.id::text, " pid " FROM records.immunizations im WHERE im.id " \
    "= $1::uuid AND " pred
static const char *const imm_get_sql[] = {
    IMM_GET_SQL("records.immunization_json(im)", "im.person_id::text", REC_VIS_MUNI("im", "$2")),
    IMM_GET_SQL("records.immunization_json(im)", "im.person_id::text", REC_VIS_INST("im", "$2")),
    IMM_GET_SQL("records.immunization_json(im)", "im.person_id::text",
                REC_VIS_KOKUHOREN("im", "$2")),
    IMM_GET_SQL("records.immunization_json(im) || jsonb_build_object('person_id', NULL)",
                "NULL::text", "true"),
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
    rc = ss_db_query(
        ss_server_db(),
        "SELECT (" REC_IMM_VIEW(
            "im") ")::text, (SELECT coalesce(jsonb_agg(jsonb_build_object("
                  "'version', v.version, 'record', CASE WHEN $1 = 'mhlw' THEN v.doc || "
                  "jsonb_build_object("
                  "'person_id', NULL) ELSE v.doc END, 'replaced_by', v.replaced_by, 'replaced_at', "
                  "v.replaced_at, 'reason', v.reason) ORDER BY v.version DESC), '[]') FROM "
                  "records.immunization_versions v WHERE v.immunization_id = im.id)::text FROM "
                  "records.immunizations im WHERE im.id = $5::uuid AND (" REC_IMM_VISIBLE("im") ")",
        5, params, &res);
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

    rc = ss_db_query(ss_server_db(),
                     "SELECT 1 FROM records.persons p WHERE p.id = $5::uuid AND (($1 = 'muni' AND "
                     "records.person_visible(p, $2)) OR ($1 = 'inst' AND EXISTS (SELECT 1 FROM "
                     "records.care_links cl WHERE cl.org_id = $3::uuid AND cl.person_id = p.id AND "
                     "cl.until > now())) "
                     "OR EXISTS (SELECT 1 FROM records.immunizations im WHERE im.person_id = p.id "
                     "AND (" REC_IMM_VISIBLE("im") ")))",
                     5, params, &res);
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
    rc = ss_db_query(
        ss_server_db(),
        "SELECT (" REC_IMM_VIEW(
            "im") ")::text, im.vaccinated_on::text, im.id::text "
                  "FROM records.immunizations im WHERE im.person_id = $5::uuid AND "
                  "(" REC_IMM_VISIBLE("im") ") AND ($6::date IS NULL OR (im.vaccinated_on, im.id) "
                                            "> ($6::date, $7::uuid)) ORDER BY im.vaccinated_on, "
                                            "im.id LIMIT $8::int",
        8, params, &res);
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

    if ((rc = ss_db_exec(c,
                         "SELECT im.status, im.version::text FROM records.immunizations im WHERE "
                         "im.id = $1::uuid AND (im.muni_code = $2 OR im.registered_org_id = "
                         "$3::uuid) FOR UPDATE",
                         3, lp, &res)) != 0)
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
    rc = rec_exec_doc(
        r, c,
        "WITH cur AS (SELECT * FROM records.immunizations im WHERE im.id = $1::uuid), v AS "
        "(INSERT INTO records.immunization_versions (immunization_id, version, doc, replaced_by, "
        "reason) SELECT cur.id, cur.version, records.immunization_json(cur), $3, $2 FROM cur), up "
        "AS (UPDATE records.immunizations im SET status = 'voided', void_reason = $2, claimable = "
        "false, version = im.version + 1, updated_by = $3, updated_at = now(), txid = "
        "pg_current_xact_id(), seq = nextval('records.change_seq') FROM cur WHERE im.id = cur.id "
        "RETURNING im.*) SELECT records.immunization_json(up)::text FROM up",
        3, params, doc, "record");
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
