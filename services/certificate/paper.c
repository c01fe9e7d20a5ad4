/* paper.c - H-5-3 in one request: municipality staff enter the doses a paper record shows
 * (予診票, 接種済証, a municipality without a health-management system) and issue the
 * certificate in the same request (`paper_doses` of POST /api/v1/certificates). Each dose goes
 * to the records service as the caller (`source: paper`, the caller's own token), so the
 * records rules, its authorisation and its access log apply exactly as for an entry made there.
 * All or nothing as far as the rules can tell beforehand: every dose is checked first
 * (POST /api/v1/immunizations/check, nothing written); one refused is 422 naming it
 * (paper_doses[i]) with nothing registered and no certificate. Then each is registered. A dose
 * refused only at registration (another entry of the same dose in between) is 422 naming it, and
 * the detail names the doses registered before it: they stay, being true records, and a retry
 * without them issues the certificate. */
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "sesshu/err.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

#define PAPER_TIMEOUT_MS 5000

/* The dose as the records service takes it: the certificate's person, source paper. */
static json_t *dose_body(const json_t *d, const char *person_id)
{
    json_t *b = json_deep_copy(d);

    if (b == NULL)
        return NULL;
    json_object_set_new(b, "person_id", json_string(person_id));
    json_object_set_new(b, "source", json_string("paper"));
    return b;
}

/* The first thing records said against it: a rule ({rule}), a field error ({field, reason}),
 * or the problem's detail (reason, 200 bytes). */
static void why(const json_t *ans, long status, char *out, size_t n)
{
    const json_t *e = json_array_get(json_object_get(ans, "errors"), 0);
    const char *rule = json_string_value(json_object_get(e, "rule"));
    const char *field = json_string_value(json_object_get(e, "field"));
    const char *reason = json_string_value(json_object_get(e, "reason"));
    const char *detail = json_string_value(json_object_get(ans, "detail"));
    const char *outcome = json_string_value(json_object_get(ans, "outcome"));

    if (rule != NULL)
        snprintf(out, n, "refused by %s%s%s", rule, reason ? ": " : "", reason ? reason : "");
    else if (field != NULL)
        snprintf(out, n, "%s %s", field, reason ? reason : "is invalid");
    else if (outcome != NULL)
        snprintf(out, n, "%s", outcome);
    else
        snprintf(out, n, "%s (records answered %ld)", detail ? detail : "refused", status);
}

/* POST path with body as the caller: 0 with *status and *ans, or 503. */
static int post(ss_req *r, const char *path, const json_t *body, long *status, json_t **ans)
{
    *ans = NULL;
    if (ss_svc_call("RECORDS", SS_PORT_RECORDS, "POST", path, ss_req_header(r, "Authorization"),
                    r->request_id, body, PAPER_TIMEOUT_MS, status, ans) != 0)
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service cannot be reached");
    if (*status >= 500 || *status == 401) {
        json_decref(*ans);
        *ans = NULL;
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service answered %ld", *status);
    }
    return 0;
}

/* Each an object; no other person; no other source than paper. */
static int check_shape(ss_req *r, const json_t *doses, const char *person_id)
{
    char field[48];
    size_t i;
    const json_t *d, *v;

    json_array_foreach (doses, i, d) {
        snprintf(field, sizeof(field), "paper_doses[%zu]", i);
        if (!json_is_object(d)) {
            ss_req_field_error(r, field, "must be an object");
            continue;
        }
        v = json_object_get(d, "person_id");
        if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), person_id) != 0))
            ss_req_field_error(r, field, "person_id must be the certificate's person or absent");
        v = json_object_get(d, "source");
        if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), "paper") != 0))
            ss_req_field_error(r, field, "source must be paper or absent");
    }
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

/* Phase 1: the dry run of every dose; field errors for the refused ones. */
static int check_all(ss_req *r, const json_t *doses, const char *person_id)
{
    char field[48], reason[240];
    size_t i;
    const json_t *d;
    int rc;

    json_array_foreach (doses, i, d) {
        json_t *body = dose_body(d, person_id), *ans = NULL;
        long status = 0;
        const char *outcome;

        if (body == NULL)
            return SS_ERR_NOMEM;
        rc = post(r, "/api/v1/immunizations/check", body, &status, &ans);
        json_decref(body);
        if (rc != 0)
            return rc;
        outcome = json_string_value(json_object_get(ans, "outcome"));
        if (status != 200 || outcome == NULL || strcmp(outcome, "recorded") != 0) {
            snprintf(field, sizeof(field), "paper_doses[%zu]", i);
            why(ans, status, reason, sizeof(reason));
            ss_req_field_error(r, field, reason);
        }
        json_decref(ans);
    }
    if (json_array_size(r->errors) == 0)
        return 0;
    return ss_req_fail(r, SS_ERR_VALIDATION,
                       "a paper dose is refused by the records service: nothing was registered "
                       "and no certificate issued");
}

int cert_paper_register(ss_req *r, const char *person_id, const json_t *doses, json_t *fresh)
{
    char field[48], reason[240], done[CERT_PAPER_MAX * 38 + 1] = "";
    size_t i;
    const json_t *d;
    int rc;

    if ((rc = check_shape(r, doses, person_id)) != 0 || (rc = check_all(r, doses, person_id)) != 0)
        return rc;
    json_array_foreach (doses, i, d) {
        json_t *body = dose_body(d, person_id), *ans = NULL;
        const char *id;
        long status = 0;

        if (body == NULL)
            return SS_ERR_NOMEM;
        rc = post(r, "/api/v1/immunizations", body, &status, &ans);
        json_decref(body);
        if (rc != 0)
            return rc;
        id = json_string_value(json_object_get(ans, "id"));
        if (status != 201 || id == NULL || !ss_uuid_ok(id)) {
            snprintf(field, sizeof(field), "paper_doses[%zu]", i);
            why(ans, status, reason, sizeof(reason));
            json_decref(ans);
            ss_req_field_error(r, field, reason);
            return ss_req_fail(r, SS_ERR_VALIDATION,
                               "paper dose %zu was refused at registration; no certificate was "
                               "issued; registered before it (and kept): %s",
                               i, done[0] ? done : "none");
        }
        json_array_append_new(fresh, json_string(id));
        snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s%s", done[0] ? " " : "", id);
        json_decref(ans);
    }
    return 0;
}
