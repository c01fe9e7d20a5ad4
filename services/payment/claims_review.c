/* claims_review.c - the 国保連合会's 事務点検 of its prefecture's closed batches: each line
 * accepted, returned (返戻, with the reason) or adjusted (査定: a lower amount, with the
 * reason); a batch whose lines are all decided is `reviewed`. The institution sees why and may
 * claim a returned line again (reclaim), which prices and judges it anew in the open month.
 *
 * Four eyes: the reviewer is of another organisation than the claiming institution (403), and
 * only a line of a closed batch, not yet decided, is decided (409). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

static const char *const decisions[] = {"accept", "return", "adjust", NULL};

static const ss_field review_fields[] = {
    {"decision", SS_F_ENUM, true, 0, 0, decisions, false},
    {"approved_yen", SS_F_INT, false, 0, 10000000, NULL, false},
    {"reason", SS_F_STRING, false, 1, 1000, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static int review_guard(ss_req *r, ss_dbc *c, const char *id, const char *decision,
                        const json_t *approved)
{
    const char *params[] = {id, pay_pref(r)};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_pay_line_review_guard, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such claim line in your prefecture");
    else if (strcmp(PQgetvalue(res, 0, 0), "open") == 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the line's batch is not closed yet");
    else if (strcmp(PQgetvalue(res, 0, 1), "claimed") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the line is %s already", PQgetvalue(res, 0, 1));
    else if (strcmp(PQgetvalue(res, 0, 2), r->who.org_id) == 0)
        rc = ss_req_fail(r, SS_ERR_FORBIDDEN,
                         "four eyes: the claiming institution cannot review its own claim");
    else if (strcmp(decision, "adjust") == 0 &&
             (strcmp(PQgetvalue(res, 0, 4), "claim") != 0 ||
              json_integer_value(approved) >= atoll(PQgetvalue(res, 0, 3))))
        rc = ss_req_field_error(r, "approved_yen",
                                "査定 lowers a claim line's amount: below the claimed amount");
    PQclear(res);
    return rc;
}

struct review_arg {
    const char *const *params; /* id, decision, amount, reason, user, organisation */
    const json_t *approved;
    const char *pref;
};

/* In the transaction: the prefecture's due batches closed, the line checked, decided, and its
 * batch reviewed when no line is left undecided. */
static int review_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const struct review_arg *a = arg;
    const char *const *params = a->params;
    int rc;

    (void)status;
    if ((rc = pay_close_due_pref(c, a->pref)) != 0 ||
        (rc = review_guard(r, c, params[0], params[1], a->approved)) != 0)
        return rc;
    rc = ss_db_exec(c, sql_pay_line_decide, 6, params, NULL);
    if (rc != 0)
        return rc;
    return pay_tx_row(r, c, sql_pay_line_by_id, 1, params, "no such claim line in your prefecture",
                      doc);
}

/* POST /claims/lines/:id/review {decision, approved_yen (adjust), reason (return, adjust)}. */
int pay_h_line_review(ss_req *r)
{
    const char *id, *decision, *reason;
    const json_t *approved;
    char amt[24] = "";
    int rc;

    if ((rc = pay_id(r, &id, "no such claim line in your prefecture")) != 0)
        return rc;
    if (pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "your 国保連合会 has no prefecture");
    if ((rc = ss_body_check(r, review_fields)) != 0)
        return rc;
    decision = ss_json_str(r->body, "decision");
    reason = ss_json_str(r->body, "reason");
    approved = json_object_get(r->body, "approved_yen");
    if (strcmp(decision, "adjust") == 0 && approved == NULL)
        ss_req_field_error(r, "approved_yen", "is required to adjust (査定) a line");
    if (strcmp(decision, "adjust") != 0 && approved != NULL)
        ss_req_field_error(r, "approved_yen", "only an adjustment (査定) sets the amount");
    if (strcmp(decision, "accept") != 0 && reason == NULL)
        ss_req_field_error(r, "reason", "is required to return or adjust a line");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if (approved != NULL)
        snprintf(amt, sizeof(amt), "%" JSON_INTEGER_FORMAT, json_integer_value(approved));
    const char *params[] = {id, decision, amt[0] ? amt : NULL, reason, r->who.sub, r->who.org_id};
    const struct review_arg ra = {params, approved, pay_pref(r)};
    return pay_write_tx(r, review_fn, &ra);
}

/* In the transaction: the institution's lock, the line is its last returned claim line, then
 * priced and judged again into the first open month. params: id, institution, close day. */
static int reclaim_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *const *params = arg;
    PGresult *res = NULL;
    int rc;

    *status = 201;
    if ((rc = pay_claims_lock(c, params[1])) != 0)
        return rc;
    rc = ss_db_exec(c, sql_pay_line_reclaim_guard, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such claim line of yours");
    else if (strcmp(PQgetvalue(res, 0, 0), "returned") != 0 ||
             strcmp(PQgetvalue(res, 0, 1), "claim") != 0 || strcmp(PQgetvalue(res, 0, 2), "t") == 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "only the last, returned claim line of a record is claimed again");
    PQclear(res);
    if (rc != 0)
        return rc;
    /* The new line first (a volatile function in a WHERE would run per row), then its view. */
    const char *p1[] = {params[0], params[2]};
    rc = ss_db_exec(c, sql_pay_line_reclaim, 2, p1, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return SS_ERR_INTERNAL;
    }
    const char *p2[] = {PQgetvalue(res, 0, 0)};
    rc = pay_tx_row(r, c, sql_pay_line_by_id, 1, p2, "no such claim line of yours", doc);
    PQclear(res);
    return rc;
}

/* POST /claims/lines/:id/reclaim: the institution claims a returned line again -> 201, the
 * new line (itself returned again when nothing changed). */
int pay_h_line_reclaim(ss_req *r)
{
    const char *id, *inst = r->who.org_code;
    char day[8];
    int rc;

    if ((rc = pay_id(r, &id, "no such claim line of yours")) != 0)
        return rc;
    if (strlen(inst) != 10)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a medical institution claims");
    if (r->body != NULL &&
        (rc = ss_body_check(r, (const ss_field[]){{NULL, 0, false, 0, 0, NULL, false}})) != 0)
        return rc;
    snprintf(day, sizeof(day), "%d", pay_close_day());
    const char *params[] = {id, inst, day};
    return pay_write_tx(r, reclaim_fn, params);
}

/* In the transaction: the prefecture's due batches closed; the batch is the prefecture's,
 * closed and of another organisation (four eyes); then every line still `claimed` accepted in
 * one statement and the batch `reviewed`. params: id, prefecture, user, organisation. */
static int accept_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *const *params = arg;
    PGresult *res = NULL;
    int rc;

    (void)status;
    if ((rc = pay_close_due_pref(c, params[1])) != 0)
        return rc;
    rc = ss_db_exec(c, sql_pay_batch_accept_guard, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such claim batch in your prefecture");
    else if (strcmp(PQgetvalue(res, 0, 0), "closed") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "only a closed batch is reviewed (it is %s)",
                         PQgetvalue(res, 0, 0));
    else if (strcmp(PQgetvalue(res, 0, 1), params[3]) == 0)
        rc = ss_req_fail(r, SS_ERR_FORBIDDEN,
                         "four eyes: the claiming institution cannot review its own claim");
    PQclear(res);
    if (rc != 0)
        return rc;
    /* Every parameter is used by the statement (its type is inferred from the use). */
    const char *p2[] = {params[0], params[2], params[3]};
    rc = ss_db_exec(c, sql_pay_batch_accept, 3, p2, NULL);
    if (rc != 0)
        return rc;
    return pay_tx_row(r, c, sql_pay_batch_by_id, 1, params,
                      "no such claim batch in your prefecture", doc);
}

/* POST /claims/batches/:id/accept: the 国保連合会 accepts every line of a closed batch still
 * undecided (the lines it returned or adjusted stay so) -> 200 the batch, `reviewed`. A batch of
 * a million lines is one statement, not a million reviews. */
int pay_h_batch_accept(ss_req *r)
{
    const char *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such claim batch in your prefecture")) != 0)
        return rc;
    if (pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "your 国保連合会 has no prefecture");
    if (r->body != NULL &&
        (rc = ss_body_check(r, (const ss_field[]){{NULL, 0, false, 0, 0, NULL, false}})) != 0)
        return rc;
    const char *params[] = {id, pay_pref(r), r->who.sub, r->who.org_id};
    return pay_write_tx(r, accept_fn, params);
}
