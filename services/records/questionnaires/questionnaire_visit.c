/* questionnaire_visit.c - the doctor's part of a questionnaire at the visit (H-4): the
 * judgement (可 = ok / 見合わせ = postpone) with the explanation and the consent, recorded
 * once; then the link to the vaccination record the visit produced (records core's
 * immunizations), made once and only for an answer judged ok with consent given. Only the
 * institution of the visit does either; another's answer is 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "questionnaire.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const results[] = {"ok", "postpone", NULL};
static const char *const consents[] = {"agree", "disagree", NULL};
static const char *const signers[] = {"self", "guardian", "proxy", NULL};

static const ss_field judge_fields[] = {
    {"result", SS_F_ENUM, true, 0, 0, results, false},
    {"doctor_name", SS_F_STRING, true, 1, 100, NULL, false},
    {"explained", SS_F_BOOL, true, 0, 0, NULL, false},
    {"consent", SS_F_ENUM, false, 0, 0, consents, false},
    {"consent_signer", SS_F_ENUM, false, 0, 0, signers, false},
    {"note", SS_F_STRING, false, 1, 1000, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static const ss_field link_fields[] = {
    {"record_id", SS_F_STRING, true, 36, 36, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Rules across members: "ok" needs the explanation and a consent with its signer; a consent
 * needs its signer and the other way round. */
static int judge_rules(ss_req *r)
{
    bool ok = strcmp(ss_json_str(r->body, "result"), "ok") == 0;
    bool has_consent = json_object_get(r->body, "consent") != NULL;
    bool has_signer = json_object_get(r->body, "consent_signer") != NULL;

    if (ok && !json_is_true(json_object_get(r->body, "explained")))
        ss_req_field_error(r, "explained", "must be true when the result is ok");
    if (ok && !has_consent)
        ss_req_field_error(r, "consent", "is required when the result is ok");
    if (has_consent != has_signer)
        ss_req_field_error(r, has_consent ? "consent_signer" : "consent",
                           "consent and consent_signer go together");
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

/* The answer of the caller's visit: 404 when not the caller's; one row of judged (t/f),
 * linked (t/f), age in months, person id. */
static int load_answer(ss_req *r, const char *id, const char *inst, PGresult **out)
{
    const char *p[] = {id, inst};
    int rc = ss_db_query(ss_server_db(), sql_rec_q_answer_link_state, 2, p, out);

    if (rc == 0 && PQntuples(*out) == 0)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such answer");
    if (rc == 0)
        snprintf(r->person_id, sizeof(r->person_id), "%s", ss_db_val(*out, 0, 3));
    return rc;
}

/* Guards of both handlers: the caller is an institution, the id well formed. */
static int visit_guard(ss_req *r, const char **inst)
{
    const char *id = ss_req_param(r, "id"), *muni;
    int rc;

    if ((rc = rec_q_scope(r, &muni, inst)) != 0)
        return rc;
    if (*inst == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only the institution of the visit does this");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such answer");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    return 0;
}

static int judge_update(ss_req *r, const char *id, const char *inst)
{
    const char *p[] = {id,
                       inst,
                       ss_json_str(r->body, "result"),
                       ss_json_str(r->body, "note"),
                       ss_json_str(r->body, "doctor_name"),
                       json_is_true(json_object_get(r->body, "explained")) ? "true" : "false",
                       ss_json_str(r->body, "consent"),
                       ss_json_str(r->body, "consent_signer"),
                       r->who.sub};
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_rec_q_answer_judge, 9, p, &res);

    if (rc == 0)
        rc = PQntuples(res) == 1
                 ? rec_reply_one(r, res, 200, "answer", false)
                 : ss_req_fail(r, SS_ERR_CONFLICT, "the judgement is already recorded");
    PQclear(res);
    return rc;
}

int rec_q_h_answer_judge(ss_req *r)
{
    const char *id = ss_req_param(r, "id"), *inst, *signer;
    PGresult *cur = NULL;
    int rc;

    if ((rc = visit_guard(r, &inst)) != 0)
        return rc;
    if ((rc = ss_body_check(r, judge_fields)) != 0 || (rc = judge_rules(r)) != 0)
        return rc;
    if ((rc = load_answer(r, id, inst, &cur)) != 0)
        goto out;
    signer = ss_json_str(r->body, "consent_signer");
    if (strcmp(ss_db_val(cur, 0, 0), "t") == 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the judgement is already recorded");
    /* Under 16 the guardian (or a proxy) signs the consent, not the child (docs/domain.md §7). */
    else if (signer != NULL && strcmp(signer, "self") == 0 && atoi(ss_db_val(cur, 0, 2)) < 192)
        rc = ss_req_field_error(r, "consent_signer",
                                "must be guardian or proxy for a person under 16");
    else
        rc = judge_update(r, id, inst);
out:
    PQclear(cur);
    return rc;
}

/* Link the record the visit produced: one of this person's, registered for the caller's
 * institution, not voided, not naming another questionnaire (records core's questionnaire_id,
 * given at registration); an answer judged ok with consent; once. */
int rec_q_h_answer_link(ss_req *r)
{
    const char *id = ss_req_param(r, "id"), *inst, *rid;
    PGresult *cur = NULL, *res = NULL;
    int rc;

    if ((rc = visit_guard(r, &inst)) != 0 || (rc = ss_body_check(r, link_fields)) != 0)
        return rc;
    if (!ss_uuid_ok(rid = ss_json_str(r->body, "record_id")))
        return ss_req_field_error(r, "record_id", "must be a UUID");
    if ((rc = load_answer(r, id, inst, &cur)) != 0)
        goto out;
    if (strcmp(ss_db_val(cur, 0, 1), "t") == 0 || strcmp(ss_db_val(cur, 0, 4), "t") != 0) {
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         strcmp(ss_db_val(cur, 0, 1), "t") == 0
                             ? "the answer is already linked to a record"
                             : "only an answer judged ok with consent is linked to a record");
        goto out;
    }
    const char *p[] = {id, inst, rid, r->who.sub};
    rc = ss_db_query(ss_server_db(), sql_rec_q_answer_link, 4, p, &res);
    if (rc == SS_ERR_CONFLICT)
        rc = ss_req_fail(r, rc, "that record is already linked to another answer");
    else if (rc == 0 && PQntuples(res) == 0)
        rc = ss_req_field_error(r, "record_id",
                                "is not a current record of this person from your institution, "
                                "or it names another questionnaire");
    else if (rc == 0)
        rc = rec_reply_one(r, res, 200, "answer", false);
out:
    PQclear(cur);
    PQclear(res);
    return rc;
}
