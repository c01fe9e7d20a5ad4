/* persons_conditions.c - per-person conditions the vaccination rules read (issue 17,
 * docs/rules.md §7a): the municipality records, for its resident, a condition with its evidence
 * and period - 60-64 with a disability of about 身体障害者1級 (disability_crh: heart, kidney,
 * respiratory function; disability_hiv: immune function by HIV), which opens the B類 rows that
 * name it, or the 長期療養特例 (long_term_illness) for the diseases whose window was missed,
 * valid_to being the day the reason ended; the MR 特例's recognition by the 市町村長 (mr_shortage)
 * or the 風しん第5期 antibody test (rubella_low_antibody, evidence_on the test date), which open
 * the 特例 rows that name them (docs/rules.md §7b). A condition is not edited: a wrong one is
 * revoked with a reason and entered again, so what the check read on a date stays readable. Every
 * write goes through the dispatcher and its access log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const kinds[] = {"disability_crh", "disability_hiv",       "long_term_illness",
                                    "mr_shortage",    "rubella_low_antibody", NULL};

static const ss_field cond_fields[] = {
    {"kind", SS_F_ENUM, true, 0, 0, kinds, false},
    {"disease_codes", SS_F_ARRAY, false, 1, 16, NULL, false},
    {"evidence", SS_F_STRING, true, 1, 500, NULL, false},
    {"evidence_on", SS_F_DATE, false, 0, 0, NULL, false},
    {"valid_from", SS_F_DATE, true, 0, 0, NULL, false},
    {"valid_to", SS_F_DATE, false, 0, 0, NULL, false},
    {"note", SS_F_STRING, false, 1, 1000, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static const ss_field revoke_fields[] = {
    {"reason", SS_F_STRING, true, 1, 500, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Checks that need no database: the period's order, what the 特例 needs (the antibody test's
 * date: the schedule row says by when it counts), the disease codes' shape (the master check is
 * in the insert). */
static int cond_rules(ss_req *r)
{
    const char *kind = ss_json_str(r->body, "kind"), *from = ss_json_str(r->body, "valid_from");
    const char *to = ss_json_str(r->body, "valid_to"), *on = ss_json_str(r->body, "evidence_on");
    const json_t *dc = json_object_get(r->body, "disease_codes"), *v;
    size_t i;

    json_array_foreach (dc, i, v) {
        const char *s = json_string_value(v);
        if (s == NULL || strlen(s) < 1 || strlen(s) > 32)
            ss_req_field_error(r, "disease_codes", "must hold disease codes of the master");
    }
    if (from != NULL && to != NULL && strcmp(to, from) < 0)
        ss_req_field_error(r, "valid_to", "must not be before valid_from");
    if (kind != NULL && strcmp(kind, "long_term_illness") == 0) {
        if (dc == NULL)
            ss_req_field_error(r, "disease_codes",
                               "is required for the 長期療養特例 (the diseases whose window was "
                               "missed)");
        if (to == NULL)
            ss_req_field_error(r, "valid_to",
                               "is required for the 長期療養特例 (the day the reason ended)");
    }
    if (kind != NULL && strcmp(kind, "rubella_low_antibody") == 0 && on == NULL)
        ss_req_field_error(r, "evidence_on",
                           "is required for rubella_low_antibody (the date of the test)");
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

static int add_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const json_t *dc = json_object_get(r->body, "disease_codes");
    char *dct = dc != NULL ? json_dumps(dc, JSON_COMPACT) : NULL;
    const char *params[] = {arg,
                            rec_muni(r),
                            ss_json_str(r->body, "kind"),
                            dct,
                            ss_json_str(r->body, "evidence"),
                            ss_json_str(r->body, "evidence_on"),
                            ss_json_str(r->body, "valid_from"),
                            ss_json_str(r->body, "valid_to"),
                            ss_json_str(r->body, "note"),
                            r->who.sub,
                            r->who.org_id};
    PGresult *res = NULL;
    int rc;

    *status = 201;
    rc = ss_db_exec(c, sql_rec_condition_insert, 11, params, &res);
    free(dct);
    if (rc != 0)
        return rc;
    if (strcmp(ss_db_val(res, 0, 1), "1") != 0)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    else if (strcmp(ss_db_val(res, 0, 2), "t") != 0)
        rc = ss_req_field_error(r, "disease_codes", "must hold disease codes of the master");
    else if ((*doc = ss_json_col(res, 0, 0)) == NULL)
        rc = SS_ERR_INTERNAL;
    PQclear(res);
    return rc;
}

int rec_h_condition_add(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    if ((rc = ss_body_check(r, cond_fields)) != 0 || (rc = cond_rules(r)) != 0)
        return rc;
    return rec_write_tx(r, add_tx, id, false);
}

int rec_h_condition_list(ss_req *r)
{
    return rec_person_items(r, sql_rec_condition_list, 0);
}

static int revoke_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *const *ids = arg;
    const char *params[] = {ids[0], ids[1], rec_muni(r), ss_json_str(r->body, "reason"),
                            r->who.sub};
    PGresult *res = NULL;
    int rc;

    *status = 200;
    rc = ss_db_exec(c, sql_rec_condition_revoke, 5, params, &res);
    if (rc != 0)
        return rc;
    if (strcmp(ss_db_val(res, 0, 1), "1") != 0)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such condition of yours");
    else if (PQgetisnull(res, 0, 0))
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the condition is revoked already");
    else if ((*doc = ss_json_col(res, 0, 0)) == NULL)
        rc = SS_ERR_INTERNAL;
    PQclear(res);
    return rc;
}

int rec_h_condition_revoke(ss_req *r)
{
    const char *ids[] = {ss_req_param(r, "id"), ss_req_param(r, "condition_id")};
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
    if (!ss_uuid_ok(ids[0]) || !ss_uuid_ok(ids[1]))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such condition of yours");
    if ((rc = ss_body_check(r, revoke_fields)) != 0)
        return rc;
    return rec_write_tx(r, revoke_tx, ids, false);
}
