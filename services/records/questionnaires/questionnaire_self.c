/* questionnaire_self.c - the vaccinee's side of screening questionnaires (H-4) through the
 * portal: answer before the visit, for oneself or a child in one's care (records.guardians),
 * naming the institution of the visit; read one's own and one's children's answers.
 * A vaccinee principal carries the person id its token is bound to (r->who.person_id). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "questionnaire.h"
#include "self.h"
#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const ss_field self_fields[] = {
    {"person_id", SS_F_STRING, true, 36, 36, NULL, false},
    {"template_id", SS_F_STRING, true, 36, 36, NULL, false},
    {"visit_on", SS_F_DATE, false, 0, 0, NULL, false},
    {"vaccine_code", SS_F_STRING, false, 1, 20, NULL, false},
    {"institution_code", SS_F_STRING, true, 10, 10, NULL, false},
    {"answers", SS_F_OBJECT, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* 医療機関コード (digit 3 in 1/3/4) or a non-insurance pseudo-code (digit 3 = 9): 10 digits,
 * prefecture 01..47, Luhn over the first nine. */
static bool inst_code_ok(const char *s)
{
    int sum = 0;

    if (s == NULL || strlen(s) != 10 || strspn(s, "0123456789") != 10 ||
        strchr("1349", s[2]) == NULL || !ss_code_prefecture_ok((char[3]){s[0], s[1], 0}))
        return false;
    for (int i = 8, k = 0; i >= 0; i--, k++) {
        int d = (s[i] - '0') * (k % 2 == 0 ? 2 : 1);
        sum += d > 9 ? d - 9 : d;
    }
    return (10 - sum % 10) % 10 == s[9] - '0';
}

static int self_guard(ss_req *r)
{
    if (r->who.kind == SS_PRINCIPAL_VACCINEE && ss_uuid_ok(r->who.person_id))
        return 0;
    return ss_req_fail(r, SS_ERR_FORBIDDEN, "this is the vaccinee's own view");
}

/* 0 if the vaccinee may act for person_id, else the field error (nothing tells an unknown
 * person from another's). */
static int may_act_for(ss_req *r, const char *person_id)
{
    int rc = rec_self_may_read(r, person_id);

    return rc == SS_ERR_NOT_FOUND
               ? ss_req_field_error(r, "person_id", "is not you or a minor child in your care")
               : rc;
}

int rec_q_h_self_create(ss_req *r)
{
    const char *pid;
    int rc;

    if ((rc = self_guard(r)) != 0 || (rc = ss_body_check(r, self_fields)) != 0)
        return rc;
    if (!inst_code_ok(ss_json_str(r->body, "institution_code")))
        return ss_req_field_error(r, "institution_code", "is not a valid 医療機関コード");
    if (!ss_uuid_ok(pid = ss_json_str(r->body, "person_id")))
        return ss_req_field_error(r, "person_id", "must be a UUID");
    if ((rc = may_act_for(r, pid)) != 0)
        return rc;
    return rec_q_answer_submit(r, "portal", ss_json_str(r->body, "institution_code"));
}

int rec_q_h_self_get(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    PGresult *res = NULL;
    int rc;

    if ((rc = self_guard(r)) != 0 ||
        (rc = ss_query_check(r, (const char *const[]){"id", NULL})) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such answer");
    const char *p[] = {r->who.person_id, id};
    rc = ss_db_query(ss_server_db(), sql_rec_q_self_answer_get, 2, p, &res);
    if (rc == 0 && PQntuples(res) == 1)
        snprintf(r->person_id, sizeof(r->person_id), "%s", ss_db_val(res, 0, 1));
    if (rc == 0)
        rc = rec_reply_one(r, res, 200, "answer", false);
    PQclear(res);
    return rc;
}

static const char *const self_list_params[] = {"person_id", "limit", "cursor", NULL};

/* One's own and one's children's answers (?person_id= narrows to one), newest visit first. */
int rec_q_h_self_list(ss_req *r)
{
    const char *pid = ss_req_query(r, "person_id");
    char keys[2][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = self_guard(r)) != 0 || (rc = ss_query_check(r, self_list_params)) != 0 ||
        (rc = ss_page_keys(r, &limit, 2, keys)) != 0)
        return rc;
    if (pid != NULL && !ss_uuid_ok(pid))
        ss_req_field_error(r, "person_id", "must be a UUID");
    if (keys[0][0] != '\0' && (!ss_date_ok(keys[0]) || !ss_uuid_ok(keys[1])))
        ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    snprintf(r->person_id, sizeof(r->person_id), "%s", pid != NULL ? pid : r->who.person_id);
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *p[] = {r->who.person_id, pid, keys[0][0] ? keys[0] : NULL,
                       keys[0][0] ? keys[1] : NULL, lim};
    rc = ss_db_query(ss_server_db(), sql_rec_q_self_answer_list, 5, p, &res);
    if (rc == 0)
        rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}
