/* persons_search.c - finding persons (H-3-2): a municipality lists and searches its residents
 * and former residents (by resident number, kana name and birth date, or - in a POST body,
 * never in a URL - by 個人番号); a medical institution identifies a patient by 個人番号 and
 * birth date at reception, which opens a care relationship for interval checks. A move-in
 * (転入) takes a person over from another municipality, found by 個人番号 and birth date. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const list_params[] = {"resident_no", "name_kana", "birth_date", "status",
                                          "limit",       "cursor",    NULL};

static int list_rows(ss_req *r, const char *mhash, int limit, char keys[][64], PGresult **res)
{
    char lim[16];
    const char *bd = ss_req_query(r, "birth_date");

    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *params[] = {rec_muni(r),
                            ss_req_query(r, "resident_no"),
                            ss_req_query(r, "name_kana"),
                            bd,
                            ss_req_query(r, "status"),
                            mhash,
                            keys[0][0] ? keys[0] : NULL,
                            lim};
    return ss_db_query(ss_server_db(),
                       params[1] != NULL ? sql_rec_person_list_by_resident_no : sql_rec_person_list,
                       8, params, res);
}

static int list_reply(ss_req *r, const char *mhash)
{
    char keys[1][64];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = ss_page_keys(r, &limit, 1, keys)) != 0)
        return rc;
    if (keys[0][0] != '\0' && !ss_uuid_ok(keys[0]))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    if ((rc = list_rows(r, mhash, limit, keys, &res)) != 0)
        return rc;
    /* The access log names the person when the answer is about one. */
    if (PQntuples(res) == 1)
        rec_touch_person(r, ss_db_val(res, 0, 1));
    rc = ss_reply_page(r, res, limit, 1);
    PQclear(res);
    return rc;
}

int rec_h_person_list(ss_req *r)
{
    const char *bd = ss_req_query(r, "birth_date"), *st = ss_req_query(r, "status");
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
    if ((rc = ss_query_check(r, list_params)) != 0)
        return rc;
    if (bd != NULL && !ss_date_ok(bd))
        ss_req_field_error(r, "birth_date", "must be a date YYYY-MM-DD");
    if (st != NULL && strcmp(st, "resident") != 0 && strcmp(st, "moved_out") != 0 &&
        strcmp(st, "deceased") != 0)
        ss_req_field_error(r, "status", "must be resident, moved_out or deceased");
    if (ss_req_query(r, "name_kana") != NULL && bd == NULL)
        ss_req_field_error(r, "birth_date", "is required with name_kana");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    return list_reply(r, NULL);
}

static const ss_field search_fields[] = {
    {"my_number", SS_F_STRING, true, 12, 12, NULL, false},
    {"birth_date", SS_F_DATE, false, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

int rec_h_person_search(ss_req *r)
{
    char hash[65];
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
    if ((rc = ss_query_check(r, (const char *[]){"limit", "cursor", NULL})) != 0 ||
        (rc = ss_body_check(r, search_fields)) != 0)
        return rc;
    if (!ss_code_my_number_ok(ss_json_str(r->body, "my_number")))
        return ss_req_field_error(r, "my_number",
                                  "is not a valid 個人番号 (12 digits, check digit)");
    rec_mynumber_hash(ss_json_str(r->body, "my_number"), hash);
    return list_reply(r, hash);
}

static const ss_field lookup_fields[] = {
    {"my_number", SS_F_STRING, true, 12, 12, NULL, false},
    {"birth_date", SS_F_DATE, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static int lookup_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *params[] = {arg, ss_json_str(r->body, "birth_date"), r->who.org_id};

    *status = 200;
    return rec_exec_doc(r, c, sql_rec_person_lookup, 3, params, doc,
                        "person with this 個人番号 and birth date");
}

int rec_h_person_lookup(ss_req *r)
{
    char hash[65];
    int rc;

    if (!rec_is_institution(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "medical institutions identify their patients");
    if ((rc = ss_body_check(r, lookup_fields)) != 0)
        return rc;
    if (!ss_code_my_number_ok(ss_json_str(r->body, "my_number")))
        return ss_req_field_error(r, "my_number",
                                  "is not a valid 個人番号 (12 digits, check digit)");
    rec_mynumber_hash(ss_json_str(r->body, "my_number"), hash);
    return rec_write_tx(r, lookup_tx, hash, true);
}

static const ss_field move_fields[] = {
    {"my_number", SS_F_STRING, true, 12, 12, NULL, false},
    {"birth_date", SS_F_DATE, true, 0, 0, NULL, false},
    {"resident_no", SS_F_STRING, true, 1, 100, NULL, false},
    {"address", SS_F_STRING, true, 1, 200, NULL, false},
    {"postal_code", SS_F_STRING, false, 7, 8, NULL, true},
    {"moved_on", SS_F_DATE, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static int move_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const json_t *b = r->body;
    const char *params[] = {arg,
                            ss_json_str(b, "birth_date"),
                            rec_muni(r),
                            ss_json_str(b, "resident_no"),
                            ss_json_str(b, "address"),
                            ss_json_str(b, "postal_code"),
                            ss_json_str(b, "moved_on"),
                            r->who.sub};

    *status = 200;
    return rec_exec_doc(r, c, sql_rec_person_move_in, 8, params, doc,
                        "person with this 個人番号 and birth date in another municipality");
}

int rec_h_person_move_in(ss_req *r)
{
    char hash[65];
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
    if ((rc = ss_body_check(r, move_fields)) != 0)
        return rc;
    if (!ss_code_my_number_ok(ss_json_str(r->body, "my_number")))
        return ss_req_field_error(r, "my_number",
                                  "is not a valid 個人番号 (12 digits, check digit)");
    rec_mynumber_hash(ss_json_str(r->body, "my_number"), hash);
    return rec_write_tx(r, move_tx, hash, true);
}

int rec_h_person_history(ss_req *r)
{
    return rec_person_items(r, sql_rec_person_history, REC_ITEMS_ROWS);
}
