/* query.c - staff queries of vaccination records (H-3-2): by resident number, kana name and
 * birth date, person (found by 個人番号 through POST /persons/search), product, disease, date
 * range, institution and lot number (recall). Every viewer sees only what rec.h says it
 * may: a municipality its residents (with the history of people who moved in), an
 * institution its own records and its identified patients, a 国保連合会 claimable records of
 * its prefecture's institutions, the ministry every record without the person. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const params_ok[] = {
    "resident_no", "name_kana",        "birth_date", "person_id", "vaccine_code", "disease", "from",
    "to",          "institution_code", "lot_no",     "status",    "limit",        "cursor",  NULL};

static int check_filters(ss_req *r)
{
    const char *v;

    if ((v = ss_req_query(r, "birth_date")) != NULL && !ss_date_ok(v))
        ss_req_field_error(r, "birth_date", "must be a date YYYY-MM-DD");
    if ((v = ss_req_query(r, "from")) != NULL && !ss_date_ok(v))
        ss_req_field_error(r, "from", "must be a date YYYY-MM-DD");
    if ((v = ss_req_query(r, "to")) != NULL && !ss_date_ok(v))
        ss_req_field_error(r, "to", "must be a date YYYY-MM-DD");
    if ((v = ss_req_query(r, "person_id")) != NULL && !ss_uuid_ok(v))
        ss_req_field_error(r, "person_id", "must be a person id");
    if ((v = ss_req_query(r, "status")) != NULL && strcmp(v, "registered") != 0 &&
        strcmp(v, "corrected") != 0 && strcmp(v, "voided") != 0)
        ss_req_field_error(r, "status", "must be registered, corrected or voided");
    if (ss_req_query(r, "name_kana") != NULL && ss_req_query(r, "birth_date") == NULL)
        ss_req_field_error(r, "birth_date", "is required with name_kana");
    if (strcmp(rec_viewer(r), "muni") != 0 &&
        (ss_req_query(r, "resident_no") != NULL || ss_req_query(r, "name_kana") != NULL))
        ss_req_field_error(r, "resident_no", "persons are searched by their municipality only");
    if (strcmp(rec_viewer(r), "mhlw") == 0 && ss_req_query(r, "person_id") != NULL)
        ss_req_field_error(r, "person_id", "the ministry's view carries no persons");
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

int rec_h_imm_search(ss_req *r)
{
    char keys[2][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if (rec_viewer(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "no access to records");
    if ((rc = ss_query_check(r, params_ok)) != 0 || (rc = check_filters(r)) != 0 ||
        (rc = ss_page_keys(r, &limit, 2, keys)) != 0)
        return rc;
    if (keys[1][0] != '\0' && (!ss_date_ok(keys[0]) || !ss_uuid_ok(keys[1])))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *params[] = {rec_viewer(r),
                            rec_muni(r),
                            r->who.org_id,
                            r->who.pref_code,
                            ss_req_query(r, "resident_no"),
                            ss_req_query(r, "name_kana"),
                            ss_req_query(r, "birth_date"),
                            ss_req_query(r, "person_id"),
                            ss_req_query(r, "vaccine_code"),
                            ss_req_query(r, "disease"),
                            ss_req_query(r, "from"),
                            ss_req_query(r, "to"),
                            ss_req_query(r, "institution_code"),
                            ss_req_query(r, "lot_no"),
                            ss_req_query(r, "status"),
                            keys[0][0] ? keys[0] : NULL,
                            keys[1][0] ? keys[1] : NULL,
                            lim};
    rc = ss_db_query(ss_server_db(), sql_rec_imm_search, 18, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 1 && strcmp(rec_viewer(r), "mhlw") != 0)
        rec_touch_person(r, ss_db_val(res, 0, 3));
    else if (ss_req_query(r, "person_id") != NULL)
        rec_touch_person(r, ss_req_query(r, "person_id"));
    rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}
