/* self_resolve.c - POST /internal/v1/person-resolutions: the token service, exchanging a
 * portal's subject token for a vaccinee token (H-3-3), asks which person the portal verified.
 * Services never read another's tables, so the person id crosses here, by HTTP on this
 * service's own port (the gateway routes no /internal path), authenticated by a service token
 * of the token service (ss_svc_token: svc "token", aud "records"); any other caller is 401.
 *
 * Body: {"my_number": "<12 digits>"} (found by its keyed hash; never stored or logged here) or
 * {"municipality_code", "resident_no"}. 200 {"person_id"}; 404 when no living person matches. */
#include <stdio.h>
#include <string.h>

#include "rec.h"
#include "self.h"
#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"

static const ss_field fields[] = {
    {"my_number", SS_F_STRING, false, 12, 12, NULL, false},
    {"municipality_code", SS_F_STRING, false, 6, 6, NULL, false},
    {"resident_no", SS_F_STRING, false, 1, 100, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

int rec_h_person_resolve(ss_req *r)
{
    const char *mn, *muni, *rno;
    char hash[65];
    const char *params[2];
    PGresult *res = NULL;
    int rc;

    if (ss_svc_token_verify(ss_req_header(r, "Authorization"), "token", "records") != 0)
        return ss_req_fail(r, SS_ERR_UNAUTHORIZED, "only the token service resolves persons");
    if ((rc = ss_body_check(r, fields)) != 0)
        return rc;
    mn = ss_json_str(r->body, "my_number");
    muni = ss_json_str(r->body, "municipality_code");
    rno = ss_json_str(r->body, "resident_no");
    if ((mn != NULL) == (muni != NULL || rno != NULL))
        return ss_req_fail(r, SS_ERR_VALIDATION,
                           "my_number, or municipality_code and resident_no: one of the two");
    if (mn != NULL && !ss_code_my_number_ok(mn))
        return ss_req_field_error(r, "my_number", "check-digit");
    if (mn == NULL && (muni == NULL || rno == NULL || !ss_code_municipality_ok(muni)))
        return ss_req_field_error(
            r, muni && ss_code_municipality_ok(muni) ? "resident_no" : "municipality_code",
            "required-valid");
    if (mn != NULL) {
        rec_mynumber_hash(mn, hash);
        params[0] = hash;
        rc = ss_db_query(ss_server_db(), sql_rec_self_by_my_number, 1, params, &res);
    } else {
        params[0] = muni;
        params[1] = rno;
        rc = ss_db_query(ss_server_db(), sql_rec_self_by_resident_no, 2, params, &res);
    }
    if (rc == 0 && PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person");
    if (rc == 0) {
        rec_touch_person(r, PQgetvalue(res, 0, 0));
        snprintf(r->res_id, sizeof(r->res_id), "%s", PQgetvalue(res, 0, 0));
        rc = ss_reply_json_new(r, 200, json_pack("{s:s}", "person_id", PQgetvalue(res, 0, 0)));
    }
    PQclear(res);
    return rc;
}
