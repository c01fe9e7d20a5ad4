/* referrals.c - a municipality's 依頼書 (住所地外接種): it asks an institution outside its area
 * to vaccinate one of its residents at its expense, so that claim is payable (DOMAIN.md 4.1).
 * The person must be the municipality's own: the records service is asked with the caller's
 * token (GET /api/v1/persons/:id), so another municipality's person is 404 here as there. */
#include <stdio.h>
#include <string.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

static const ss_field ref_fields[] = {
    {"person_id", SS_F_STRING, true, 36, 36, NULL, false},
    {"institution_code", SS_F_STRING, true, 10, 10, NULL, false},
    {"vaccine_code", SS_F_STRING, false, 1, 13, NULL, false},
    {"valid_from", SS_F_DATE, true, 0, 0, NULL, false},
    {"valid_to", SS_F_DATE, true, 0, 0, NULL, false},
    {"note", SS_F_STRING, false, 1, 1000, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static bool is_muni(const ss_req *r)
{
    const char *v = pay_claims_viewer(r);
    return v != NULL && strcmp(v, "muni") == 0;
}

static int own_person(ss_req *r, const char *person_id)
{
    char path[96];
    long status = 0;
    json_t *ans = NULL;
    const char *muni;
    int rc;

    snprintf(path, sizeof(path), "/api/v1/persons/%s", person_id);
    rc = ss_svc_call("RECORDS", SS_PORT_RECORDS, "GET", path, ss_req_header(r, "Authorization"),
                     r->request_id, NULL, 5000, &status, &ans);
    if (rc != 0)
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service cannot be reached");
    muni = json_string_value(json_object_get(ans, "muni_code"));
    rc = status == 200 && muni != NULL && strcmp(muni, r->who.muni_code) == 0
             ? 0
             : ss_req_fail(r, SS_ERR_NOT_FOUND, "no such resident of yours");
    json_decref(ans);
    return rc;
}

/* POST /claims/referrals -> 201. */
int pay_h_referral_create(ss_req *r)
{
    const char *person, *inst, *vac, *from, *to;
    int rc;

    if (!is_muni(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "a 依頼書 is the municipality's");
    if ((rc = ss_body_check(r, ref_fields)) != 0)
        return rc;
    person = ss_json_str(r->body, "person_id");
    inst = ss_json_str(r->body, "institution_code");
    vac = ss_json_str(r->body, "vaccine_code");
    from = ss_json_str(r->body, "valid_from");
    to = ss_json_str(r->body, "valid_to");
    if (!ss_uuid_ok(person))
        ss_req_field_error(r, "person_id", "must be a person id");
    if (strspn(inst, "0123456789") != 10)
        ss_req_field_error(r, "institution_code", "must be 10 digits");
    if (strcmp(to, from) < 0)
        ss_req_field_error(r, "valid_to", "must not be before valid_from");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if ((rc = own_person(r, person)) != 0)
        return rc;
    snprintf(r->person_id, sizeof(r->person_id), "%s", person);
    const char *params[] = {
        r->who.muni_code, person,       inst, vac, from, to, ss_json_str(r->body, "note"),
        r->who.sub,       r->who.org_id};
    return pay_write_row(r, sql_pay_referral_insert, 9, params, 201,
                         "no such institution or product in the master");
}

/* GET /claims/referrals?person_id=&institution_code=: the municipality's own. */
int pay_h_referral_list(ss_req *r)
{
    static const char *const q[] = {"person_id", "institution_code", NULL};
    const char *person = ss_req_query(r, "person_id");
    int rc;

    if (!is_muni(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "a 依頼書 is the municipality's");
    if ((rc = ss_query_check(r, q)) != 0)
        return rc;
    if (person != NULL && !ss_uuid_ok(person))
        return ss_req_field_error(r, "person_id", "must be a person id");
    const char *params[] = {r->who.muni_code, person, ss_req_query(r, "institution_code")};
    return pay_reply_items(r, sql_pay_referral_list, 3, params, "muni_code", r->who.muni_code,
                           NULL);
}
