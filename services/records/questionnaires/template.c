/* template.c - questionnaire templates (予診票様式, H-4), versioned.
 *
 * Every authenticated principal reads them (the portal shows them before the visit); the
 * ministry and the operator manage them (questionnaire_templates.manage). POST makes the next
 * version of a code (the first when the code is new); PUT replaces a version only while no
 * answer uses it (409 after that: make a new version). The shape of `questions` is checked
 * in template_check.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "questionnaire.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const ss_field create_fields[] = {
    {"code", SS_F_STRING, true, 1, 40, NULL, false},
    {"title", SS_F_STRING, true, 1, 200, NULL, false},
    {"disease_codes", SS_F_ARRAY, false, 0, 16, NULL, false},
    {"vaccine_codes", SS_F_ARRAY, false, 0, 64, NULL, false},
    {"questions", SS_F_ARRAY, true, 1, 200, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static const ss_field update_fields[] = {
    {"title", SS_F_STRING, true, 1, 200, NULL, false},
    {"disease_codes", SS_F_ARRAY, false, 0, 16, NULL, false},
    {"vaccine_codes", SS_F_ARRAY, false, 0, 64, NULL, false},
    {"questions", SS_F_ARRAY, true, 1, 200, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static bool tcode_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n < 1 || n > 40 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* Template body: declarative members, code lists, questions. Code lists out (malloc'd). */
static int template_body(ss_req *r, const ss_field *fields, char **diseases, char **vaccines)
{
    int rc = ss_body_check(r, fields);

    if (rc != 0)
        return rc;
    if (json_object_get(r->body, "code") != NULL && !tcode_ok(ss_json_str(r->body, "code")))
        ss_req_field_error(r, "code", "must match ^[a-z0-9][a-z0-9_-]{0,39}$");
    if ((rc = rec_qm_code_list(r, "disease_codes", json_object_get(r->body, "disease_codes"), 16,
                               diseases)) != 0 ||
        (rc = rec_qm_code_list(r, "vaccine_codes", json_object_get(r->body, "vaccine_codes"), 64,
                               vaccines)) != 0)
        return rc;
    rec_q_template_check(r, json_object_get(r->body, "questions"));
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

int rec_q_h_template_create(ss_req *r)
{
    char *diseases = NULL, *vaccines = NULL, *questions = NULL;
    PGresult *res = NULL;
    int rc;

    if ((rc = template_body(r, create_fields, &diseases, &vaccines)) != 0)
        goto out;
    if ((questions = json_dumps(json_object_get(r->body, "questions"), SS_JSON_COMPACT)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    const char *p[] = {ss_json_str(r->body, "code"),
                       ss_json_str(r->body, "title"),
                       diseases,
                       vaccines,
                       questions,
                       r->who.sub};
    /* Two managers adding a version of one code at once: the UNIQUE (code, version) makes the
     * later one a 409, which the caller retries. */
    rc = ss_db_query(ss_server_db(), sql_rec_q_template_insert, 6, p, &res);
    if (rc == SS_ERR_CONFLICT)
        rc = ss_req_fail(r, rc, "another version of %s was added at the same time; retry",
                         ss_json_str(r->body, "code"));
    if (rc == 0)
        rc = rec_reply_one(r, res, 201, "template", false);
out:
    free(diseases);
    free(vaccines);
    free(questions);
    PQclear(res);
    return rc;
}

/* 0 rows from the update: 404 when there is no such version, else it is in use (409). */
static int not_updated(ss_req *r, const char *id)
{
    const char *p[] = {id};
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_rec_q_template_exists, 1, p, &res);

    if (rc == 0 && PQntuples(res) == 0)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such template");
    else if (rc == 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "this template version has answers; create a new version instead");
    PQclear(res);
    return rc;
}

int rec_q_h_template_update(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    char *diseases = NULL, *vaccines = NULL, *questions = NULL;
    PGresult *res = NULL;
    int rc;

    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such template");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    if ((rc = template_body(r, update_fields, &diseases, &vaccines)) != 0)
        goto out;
    if ((questions = json_dumps(json_object_get(r->body, "questions"), SS_JSON_COMPACT)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    const char *p[] = {id,        ss_json_str(r->body, "title"), diseases, vaccines, questions,
                       r->who.sub};
    rc = ss_db_query(ss_server_db(), sql_rec_q_template_update, 6, p, &res);
    if (rc == SS_ERR_CONFLICT) /* answered between the check and the write (trigger) */
        rc = ss_req_fail(r, rc, "this template version has answers; create a new version instead");
    else if (rc == 0)
        rc = PQntuples(res) == 1 ? rec_reply_one(r, res, 200, "template", false)
                                 : not_updated(r, id);
out:
    free(diseases);
    free(vaccines);
    free(questions);
    PQclear(res);
    return rc;
}

int rec_q_h_template_get(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    PGresult *res = NULL;
    int rc;

    if ((rc = ss_query_check(r, (const char *const[]){"id", NULL})) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such template");
    const char *p[] = {id};
    rc = ss_db_query(ss_server_db(), sql_rec_q_template_get, 1, p, &res);
    if (rc == 0)
        rc = rec_reply_one(r, res, 200, "template", false);
    PQclear(res);
    return rc;
}

static const char *const list_params[] = {
    "code", "disease_code", "vaccine_code", "versions", "limit", "cursor", NULL};

/* ?code= ?disease_code= ?vaccine_code= ?versions=latest|all; ordered by code, version desc. */
int rec_q_h_template_list(ss_req *r)
{
    const char *code = ss_req_query(r, "code"), *dis = ss_req_query(r, "disease_code");
    const char *vac = ss_req_query(r, "vaccine_code"), *versions = ss_req_query(r, "versions");
    char keys[2][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = ss_query_check(r, list_params)) != 0 || (rc = ss_page_keys(r, &limit, 2, keys)) != 0)
        return rc;
    if (code != NULL && !tcode_ok(code))
        ss_req_field_error(r, "code", "is not a template code");
    if (dis != NULL && !rec_qm_master_code_ok(dis))
        ss_req_field_error(r, "disease_code", "is not a valid code");
    if (vac != NULL && !rec_qm_master_code_ok(vac))
        ss_req_field_error(r, "vaccine_code", "is not a valid code");
    if (versions != NULL && strcmp(versions, "latest") != 0 && strcmp(versions, "all") != 0)
        ss_req_field_error(r, "versions", "must be latest or all");
    if (keys[0][0] != '\0' && (!tcode_ok(keys[0]) || strspn(keys[1], "0123456789") == 0))
        ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *p[] = {code,
                       dis,
                       vac,
                       versions != NULL && strcmp(versions, "all") == 0 ? "true" : "false",
                       keys[0][0] ? keys[0] : NULL,
                       keys[0][0] ? keys[1] : NULL,
                       lim};
    rc = ss_db_query(ss_server_db(), sql_rec_q_template_list, 7, p, &res);
    if (rc == 0)
        rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}
