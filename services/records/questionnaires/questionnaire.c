/* questionnaire.c - answers to screening questionnaires (予診票, H-4), staff side.
 *
 * An institution enters the answers at the visit (questionnaires.write), records the doctor's
 * judgement (可 / 見合わせ), the explanation and the consent, and links the vaccination record
 * the visit produced. It sees only the answers of its own visits (institution_code = its
 * code), including those the vaccinee sent through the portal naming it. Municipality staff
 * and API clients query the answers of their own residents (H-4-1) by person, template,
 * vaccine, disease and visit date. Anyone else's answer is 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "questionnaire.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const ss_field answer_fields[] = {
    {"person_id", SS_F_STRING, true, 36, 36, NULL, false},
    {"template_id", SS_F_STRING, true, 36, 36, NULL, false},
    {"visit_on", SS_F_DATE, false, 0, 0, NULL, false},
    {"vaccine_code", SS_F_STRING, false, 1, 20, NULL, false},
    {"institution_code", SS_F_STRING, false, 10, 10, NULL, false},
    {"answers", SS_F_OBJECT, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Caller's scope: a municipality's residents, or an institution's visits. */
int rec_q_scope(ss_req *r, const char **muni, const char **inst)
{
    *muni = *inst = NULL;
    if (r->who.org_type == SS_ORG_MUNICIPALITY && r->who.muni_code[0] != '\0')
        *muni = r->who.muni_code;
    else if ((r->who.org_type == SS_ORG_MEDICAL || r->who.org_type == SS_ORG_NONINS_MEDICAL) &&
             r->who.org_code[0] != '\0')
        *inst = r->who.org_code;
    else
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "questionnaire answers belong to municipalities and institutions");
    return 0;
}

/* Lock the template version (FOR SHARE: an edit waits or fails) and compute the person's age
 * on the visit date: one row of questions, revision, sex, age in months, visit date.
 * An institution (CARE_ORG) reaches a person only through its care link, as for
 * POST /immunizations; a person it may not reach is refused with the same words whether or not
 * they exist, and before anything about them (sex, age, birth date) shapes the answer. */
static int load_subject(ss_req *r, ss_dbc *c, const char *visit, const char *care_org,
                        PGresult **out)
{
    const char *p[] = {ss_json_str(r->body, "template_id"), ss_json_str(r->body, "person_id"),
                       visit, care_org};
    int rc = ss_db_exec(c, sql_rec_q_subject, 4, p, out);

    if (rc != 0)
        return rc;
    if (PQntuples(*out) == 1)
        return strcmp(ss_db_val(*out, 0, 5), "t") == 0
                   ? 0
                   : ss_req_field_error(r, "visit_on",
                                        "must be on or after the birth date, from 31 days "
                                        "ago to 92 days ahead");
    p[1] = NULL; /* which of the two is missing? */
    PQclear(*out);
    *out = NULL;
    if ((rc = ss_db_exec(c, sql_rec_q_template_exists, 1, p, out)) != 0)
        return rc;
    if (PQntuples(*out) == 0)
        return ss_req_field_error(r, "template_id", "does not exist");
    return ss_req_field_error(r, "person_id", "is not a person of yours");
}

static int insert_answer(ss_req *r, ss_dbc *c, const PGresult *subj, const char *via,
                         const char *inst, PGresult **out)
{
    char *answers = json_dumps(json_object_get(r->body, "answers"), SS_JSON_COMPACT);
    const char *p[] = {ss_json_str(r->body, "person_id"),
                       ss_json_str(r->body, "template_id"),
                       ss_db_val(subj, 0, 4),
                       ss_db_val(subj, 0, 3),
                       ss_json_str(r->body, "vaccine_code"),
                       answers,
                       via,
                       r->who.kind == SS_PRINCIPAL_VACCINEE ? r->who.person_id : r->who.sub,
                       inst};
    int rc;

    if (answers == NULL)
        return SS_ERR_NOMEM;
    rc = ss_db_exec(c, sql_rec_q_answer_insert, 9, p, out);
    free(answers);
    return rc;
}

int rec_q_answer_submit(ss_req *r, const char *via, const char *inst)
{
    const char *vac = ss_json_str(r->body, "vaccine_code");
    PGresult *subj = NULL, *res = NULL;
    json_t *questions = NULL;
    ss_dbc *c = NULL;
    int rc;

    if (!ss_uuid_ok(ss_json_str(r->body, "person_id")))
        ss_req_field_error(r, "person_id", "must be a UUID");
    if (!ss_uuid_ok(ss_json_str(r->body, "template_id")))
        ss_req_field_error(r, "template_id", "must be a UUID");
    if (vac != NULL && !rec_qm_master_code_ok(vac))
        ss_req_field_error(r, "vaccine_code", "is not a valid code");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    snprintf(r->person_id, sizeof(r->person_id), "%s", ss_json_str(r->body, "person_id"));
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0 || (rc = ss_db_begin(c)) != 0)
        goto out;
    if ((rc = load_subject(r, c, ss_json_str(r->body, "visit_on"),
                           strcmp(via, "institution") == 0 ? r->who.org_id : NULL, &subj)) != 0)
        goto out;
    if ((questions = json_loads(ss_db_val(subj, 0, 0), 0, NULL)) == NULL) {
        rc = SS_ERR_INTERNAL;
        goto out;
    }
    if ((rc = rec_q_answers_check(r, questions, json_object_get(r->body, "answers"),
                                  atoi(ss_db_val(subj, 0, 3)), ss_db_val(subj, 0, 2))) != 0)
        goto out;
    if ((rc = insert_answer(r, c, subj, via, inst, &res)) != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    rc = rec_reply_one(r, res, 201, "answer", false);
out:
    json_decref(questions);
    PQclear(subj);
    PQclear(res);
    ss_db_release(c);
    return rc;
}

int rec_q_h_answer_create(ss_req *r)
{
    const char *muni, *inst;
    int rc;

    if ((rc = rec_q_scope(r, &muni, &inst)) != 0 || (rc = ss_body_check(r, answer_fields)) != 0)
        return rc;
    if (inst == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "answers are entered by the institution of the visit");
    if (json_object_get(r->body, "institution_code") != NULL &&
        strcmp(ss_json_str(r->body, "institution_code"), inst) != 0)
        return ss_req_field_error(r, "institution_code", "must be your own institution's code");
    return rec_q_answer_submit(r, "institution", inst);
}

int rec_q_h_answer_get(ss_req *r)
{
    const char *id = ss_req_param(r, "id"), *muni, *inst;
    PGresult *res = NULL;
    int rc;

    if ((rc = rec_q_scope(r, &muni, &inst)) != 0 ||
        (rc = ss_query_check(r, (const char *const[]){"id", NULL})) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such answer");
    const char *p[] = {id, muni, inst};
    rc = ss_db_query(ss_server_db(), sql_rec_q_answer_get, 3, p, &res);
    if (rc == 0 && PQntuples(res) == 1)
        snprintf(r->person_id, sizeof(r->person_id), "%s", ss_db_val(res, 0, 1));
    if (rc == 0)
        rc = rec_reply_one(r, res, 200, "answer", false);
    PQclear(res);
    return rc;
}

static const char *const list_params[] = {
    "person_id", "template_code", "vaccine_code", "disease_code", "from",
    "to",        "judgement",     "limit",        "cursor",       NULL};

static void list_filters_check(ss_req *r, const char *cursor_id)
{
    const char *pid = ss_req_query(r, "person_id"), *tc = ss_req_query(r, "template_code");
    const char *vc = ss_req_query(r, "vaccine_code"), *dc = ss_req_query(r, "disease_code");
    const char *from = ss_req_query(r, "from"), *to = ss_req_query(r, "to");
    const char *j = ss_req_query(r, "judgement");

    if (pid != NULL && !ss_uuid_ok(pid))
        ss_req_field_error(r, "person_id", "must be a UUID");
    if (tc != NULL && !rec_qm_master_code_ok(tc))
        ss_req_field_error(r, "template_code", "is not a template code");
    if (vc != NULL && !rec_qm_master_code_ok(vc))
        ss_req_field_error(r, "vaccine_code", "is not a valid code");
    if (dc != NULL && !rec_qm_master_code_ok(dc))
        ss_req_field_error(r, "disease_code", "is not a valid code");
    if (from != NULL && !ss_date_ok(from))
        ss_req_field_error(r, "from", "must be a date YYYY-MM-DD");
    if (to != NULL && !ss_date_ok(to))
        ss_req_field_error(r, "to", "must be a date YYYY-MM-DD");
    if (j != NULL && strcmp(j, "ok") != 0 && strcmp(j, "postpone") != 0 &&
        strcmp(j, "pending") != 0)
        ss_req_field_error(r, "judgement", "must be ok, postpone or pending");
    if (cursor_id[0] != '\0' && !ss_uuid_ok(cursor_id))
        ss_req_field_error(r, "cursor", "is not a cursor this service issued");
}

/* H-4-1: the caller's answers (its residents' or its visits'), newest visit first. */
int rec_q_h_answer_list(ss_req *r)
{
    const char *muni, *inst;
    char keys[2][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = rec_q_scope(r, &muni, &inst)) != 0 || (rc = ss_query_check(r, list_params)) != 0 ||
        (rc = ss_page_keys(r, &limit, 2, keys)) != 0)
        return rc;
    list_filters_check(r, keys[1]);
    if (keys[0][0] != '\0' && !ss_date_ok(keys[0]))
        ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if (ss_req_query(r, "person_id") != NULL)
        snprintf(r->person_id, sizeof(r->person_id), "%s", ss_req_query(r, "person_id"));
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *p[] = {muni,
                       inst,
                       ss_req_query(r, "person_id"),
                       ss_req_query(r, "template_code"),
                       ss_req_query(r, "vaccine_code"),
                       ss_req_query(r, "disease_code"),
                       ss_req_query(r, "from"),
                       ss_req_query(r, "to"),
                       ss_req_query(r, "judgement"),
                       keys[0][0] ? keys[0] : NULL,
                       keys[0][0] ? keys[1] : NULL,
                       lim};
    rc = ss_db_query(ss_server_db(), sql_rec_q_answer_list, 12, p, &res);
    if (rc == 0)
        rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}
