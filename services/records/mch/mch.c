/* mch.c - maternal/child health and check-up records (母子保健・健診情報, H-7): one record
 * at a time, from a municipality's health-management system (API client, mch:write; H-7-1)
 * or its staff (H-7-2), with Idempotency-Key; queries by the person's municipality; the
 * person's (and guardian's) own view through the portal (self.read).
 *
 * A record's person must be a resident of the caller's municipality; the date must be on or
 * after the birth date and not in the future; an infant check-up's date must fall in its
 * check-up age's window; pregnancy information is for a woman. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mch.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

static const char *const kinds[] = {"infant_checkup", "pregnancy", "checkup", NULL};
static const char *const sources[] = {"health_system", "municipality", "institution",
                                      "handbook",      "other",        NULL};

static const ss_field mch_fields[] = {
    {"person_id", SS_F_STRING, true, 36, 36, NULL, false},
    {"kind", SS_F_ENUM, true, 0, 0, kinds, false},
    {"examined_on", SS_F_DATE, true, 0, 0, NULL, false},
    {"source", SS_F_ENUM, true, 0, 0, sources, false},
    {"source_name", SS_F_STRING, false, 1, 200, NULL, false},
    {"external_id", SS_F_STRING, false, 1, 100, NULL, false},
    {"data", SS_F_OBJECT, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

int rec_mch_scope(ss_req *r, const char **muni)
{
    *muni = NULL;
    if ((r->who.kind == SS_PRINCIPAL_USER || r->who.kind == SS_PRINCIPAL_CLIENT) &&
        r->who.org_type == SS_ORG_MUNICIPALITY && r->who.muni_code[0] != '\0') {
        *muni = r->who.muni_code;
        return 0;
    }
    return ss_req_fail(r, SS_ERR_FORBIDDEN,
                       "maternal/child health records belong to municipalities");
}

int rec_mch_check(ss_req *r, const json_t *obj)
{
    size_t before = json_array_size(r->errors);
    const char *kind;

    if (ss_json_check(r, obj, mch_fields) != 0 && json_array_size(r->errors) == before)
        return SS_ERR_VALIDATION; /* not an object */
    if (json_object_get(obj, "person_id") != NULL && !ss_uuid_ok(ss_json_str(obj, "person_id")))
        ss_req_field_error(r, "person_id", "must be a UUID");
    kind = ss_json_str(obj, "kind");
    if (json_is_object(json_object_get(obj, "data")) && kind != NULL &&
        (strcmp(kind, "infant_checkup") == 0 || strcmp(kind, "pregnancy") == 0 ||
         strcmp(kind, "checkup") == 0))
        rec_mch_data_check(r, kind, json_object_get(obj, "data"), ss_json_str(obj, "examined_on"),
                           "data.");
    return json_array_size(r->errors) > before ? SS_ERR_VALIDATION : 0;
}

/* The person-dependent rules, on connection c: resident of muni, date window, sex. */
static int person_rules(ss_req *r, ss_dbc *c, const json_t *obj, const char *muni)
{
    const char *kind = ss_json_str(obj, "kind");
    const char *p[] = {ss_json_str(obj, "person_id"), muni, ss_json_str(obj, "examined_on")};
    PGresult *res = NULL;
    int rc, from = 0, to = 0, age;

    rc = ss_db_exec(c, sql_rec_mch_person_rules, 3, p, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 0) {
        rc = ss_req_field_error(r, "person_id", "is not a resident of your municipality");
        goto out;
    }
    if (strcmp(ss_db_val(res, 0, 0), "t") != 0)
        ss_req_field_error(r, "examined_on", "must not be before the birth date");
    if (strcmp(ss_db_val(res, 0, 1), "t") != 0)
        ss_req_field_error(r, "examined_on", "must not be in the future");
    if (strcmp(kind, "pregnancy") == 0 && strcmp(ss_db_val(res, 0, 2), "2") != 0)
        ss_req_field_error(r, "kind", "pregnancy information is for a woman (sex 2)");
    age = atoi(ss_db_val(res, 0, 3));
    if (strcmp(kind, "infant_checkup") == 0 &&
        rec_mch_age_window(ss_json_str(json_object_get(obj, "data"), "checkup_age"), &from, &to) &&
        (age < from || age > to))
        ss_req_field_error(r, "examined_on", "is outside the age window of this check-up");
    rc = json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
out:
    PQclear(res);
    return rc;
}

int rec_mch_insert(ss_req *r, ss_dbc *c, const json_t *obj, const char *muni, PGresult **out)
{
    char *data = NULL;
    int rc;

    if ((rc = person_rules(r, c, obj, muni)) != 0)
        return rc;
    if ((data = json_dumps(json_object_get(obj, "data"), SS_JSON_COMPACT)) == NULL)
        return SS_ERR_NOMEM;
    const char *p[] = {ss_json_str(obj, "person_id"),
                       muni,
                       ss_json_str(obj, "kind"),
                       ss_json_str(obj, "examined_on"),
                       data,
                       ss_json_str(obj, "source"),
                       ss_json_str(obj, "source_name"),
                       ss_json_str(obj, "external_id"),
                       r->who.kind == SS_PRINCIPAL_CLIENT ? "api" : "staff",
                       r->who.sub,
                       r->who.org_id};
    rc = ss_db_exec(c, sql_rec_mch_insert, 11, p, out);
    free(data);
    if (rc == 0 && PQntuples(*out) == 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "a record with this external_id is already stored for your municipality");
    return rc;
}

static int create_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    PGresult *res = NULL;
    int rc = rec_mch_insert(r, c, r->body, (const char *)arg, &res);

    if (rc == 0) {
        *doc = PQntuples(res) == 1 ? json_loads(ss_db_val(res, 0, 0), 0, NULL) : NULL;
        *status = 201;
        rc = *doc != NULL ? 0 : SS_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}

int rec_mch_h_create(ss_req *r)
{
    const char *muni;
    int rc;

    if ((rc = rec_mch_scope(r, &muni)) != 0)
        return rc;
    if (r->body == NULL)
        return ss_req_fail(r, SS_ERR_BAD_REQUEST, "a JSON object body is required");
    if ((rc = rec_mch_check(r, r->body)) != 0)
        return rc;
    snprintf(r->person_id, sizeof(r->person_id), "%s", ss_json_str(r->body, "person_id"));
    return rec_write_tx(r, create_tx, muni, false);
}
