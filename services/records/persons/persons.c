/* persons.c - persons (接種対象者), H-3 §1: a municipality registers, reads, corrects and
 * searches its residents; a move-in takes over a person from another municipality with the
 * history kept. The 個人番号 is accepted here, sealed at once, and shown only to the owning
 * municipality on explicit request (?include=my_number). ?include=immunizations adds the
 * person's records (persons_records.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const sexes[] = {"0", "1", "2", "9", NULL};
static const char *const statuses[] = {"resident", "moved_out", "deceased", NULL};

#define PERSON_FIELDS(req)                                       \
    {"resident_no", SS_F_STRING, req, 1, 100, NULL, false},      \
        {"name", SS_F_STRING, req, 1, 100, NULL, false},         \
        {"name_kana", SS_F_STRING, req, 1, 100, NULL, false},    \
        {"name_romaji", SS_F_STRING, false, 1, 100, NULL, true}, \
        {"former_name", SS_F_STRING, false, 1, 100, NULL, true}, \
        {"birth_date", SS_F_DATE, req, 0, 0, NULL, false},       \
        {"sex", SS_F_ENUM, req, 0, 0, sexes, false},             \
        {"postal_code", SS_F_STRING, false, 7, 8, NULL, true},   \
        {"address", SS_F_STRING, req, 1, 200, NULL, false},      \
        {"status", SS_F_ENUM, false, 0, 0, statuses, false},     \
        {"status_on", SS_F_DATE, false, 0, 0, NULL, true},       \
        {"non_disclosure", SS_F_BOOL, false, 0, 0, NULL, false}, \
    {                                                            \
        "my_number", SS_F_STRING, false, 12, 12, NULL, false     \
    }

static const ss_field create_fields[] = {PERSON_FIELDS(true), {NULL, 0, false, 0, 0, NULL, false}};
static const ss_field patch_fields[] = {PERSON_FIELDS(false), {NULL, 0, false, 0, 0, NULL, false}};

/* Full-width katakana, the long vowel mark, middle dot and spaces. */
bool rec_kana_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned cp;

        if (*p == ' ') {
            p++;
            continue;
        }
        if ((p[0] & 0xF0) != 0xE0 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return false;
        cp = (unsigned)(p[0] & 0x0F) << 12 | (unsigned)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        if (!(cp == 0x3000 || (cp >= 0x30A1 && cp <= 0x30FC)))
            return false;
        p += 3;
    }
    return true;
}

static bool postal_ok(const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (i == 3 && s[i] == '-' && n == 8)))
            return false;
    return n == 7 || (n == 8 && s[3] == '-');
}

/* Checks the declarative table cannot express. */
static int person_rules(ss_req *r)
{
    const char *kana = ss_json_str(r->body, "name_kana"), *bd = ss_json_str(r->body, "birth_date");
    const char *mn = ss_json_str(r->body, "my_number"), *pc = ss_json_str(r->body, "postal_code");
    char today[11];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    if (kana != NULL && !rec_kana_ok(kana))
        ss_req_field_error(r, "name_kana", "must be full-width katakana");
    if (bd != NULL && (strcmp(bd, today) > 0 || strcmp(bd, "1890-01-01") < 0))
        ss_req_field_error(r, "birth_date", "must be between 1890-01-01 and today");
    if (mn != NULL && !ss_code_my_number_ok(mn))
        ss_req_field_error(r, "my_number", "is not a valid 個人番号 (12 digits, check digit)");
    if (pc != NULL && !postal_ok(pc))
        ss_req_field_error(r, "postal_code", "must be 7 digits (NNN-NNNN)");
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

static int require_muni(ss_req *r)
{
    if (rec_muni(r) != NULL)
        return 0;
    return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
}

/* Sealed value and keyed hash of the body's my_number (both NULL when absent). */
static int seal_body_number(ss_req *r, const char *person_id, char **sealed, char hash[65])
{
    const char *mn = ss_json_str(r->body, "my_number");

    *sealed = NULL;
    hash[0] = '\0';
    if (mn == NULL)
        return 0;
    rec_mynumber_hash(mn, hash);
    return rec_mynumber_seal(mn, person_id, sealed);
}

static int create_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    char id[37], hash[65], *sealed = NULL;
    const json_t *b = r->body;
    int rc;

    (void)arg;
    if ((rc = ss_uuid(id)) != 0 || (rc = seal_body_number(r, id, &sealed, hash)) != 0)
        return rc;
    const char *params[] = {id,
                            rec_muni(r),
                            ss_json_str(b, "resident_no"),
                            ss_json_str(b, "name"),
                            ss_json_str(b, "name_kana"),
                            ss_json_str(b, "name_romaji"),
                            ss_json_str(b, "former_name"),
                            ss_json_str(b, "birth_date"),
                            ss_json_str(b, "sex"),
                            ss_json_str(b, "postal_code"),
                            ss_json_str(b, "address"),
                            ss_json_str(b, "status"),
                            ss_json_str(b, "status_on"),
                            json_is_true(json_object_get(b, "non_disclosure")) ? "true" : "false",
                            sealed,
                            hash[0] ? hash : NULL,
                            r->who.sub};
    rc = rec_exec_doc(r, c, sql_rec_person_insert, 17, params, doc, "person");
    free(sealed);
    *status = 201;
    return rc;
}

int rec_h_person_create(ss_req *r)
{
    int rc;

    if ((rc = require_muni(r)) != 0 || (rc = ss_body_check(r, create_fields)) != 0 ||
        (rc = person_rules(r)) != 0)
        return rc;
    return rec_write_tx(r, create_tx, NULL, true);
}

/* The owner's 個人番号, opened (only for ?include=my_number by the owning municipality). */
static int add_my_number(ss_req *r, json_t *doc, const char *id)
{
    const char *params[] = {id, rec_muni(r)};
    PGresult *res = NULL;
    char mn[13];
    int rc;

    rc = ss_db_query(ss_server_db(), sql_rec_person_my_number_sealed, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_FORBIDDEN,
                         "the 個人番号 is shown only to the person's own municipality");
    else if (ss_db_val(res, 0, 0) == NULL)
        json_object_set_new(doc, "my_number", json_null());
    else if ((rc = rec_mynumber_open(ss_db_val(res, 0, 0), id, mn)) == 0)
        json_object_set_new(doc, "my_number", json_string(mn));
    PQclear(res);
    return rc;
}

int rec_h_person_get(ss_req *r)
{
    const char *id = ss_req_param(r, "id"), *inc = ss_req_query(r, "include");
    PGresult *res = NULL;
    json_t *doc = NULL;
    int rc;

    if ((rc = require_muni(r)) != 0 ||
        (rc = ss_query_check(r, (const char *[]){"id", "include", NULL})) != 0)
        return rc;
    if (inc != NULL && strcmp(inc, "my_number") != 0 && strcmp(inc, "immunizations") != 0)
        return ss_req_field_error(r, "include", "must be my_number or immunizations");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    if (inc != NULL && strcmp(inc, "immunizations") == 0)
        return rec_person_get_with_records(r, id);
    const char *params[] = {id, rec_muni(r)};
    rc = ss_db_query(ss_server_db(), sql_rec_person_get, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1 || (doc = ss_json_col(res, 0, 0)) == NULL) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    }
    PQclear(res);
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rec_touch_person(r, id);
    if (inc != NULL && (rc = add_my_number(r, doc, id)) != 0) {
        json_decref(doc);
        return rc;
    }
    return ss_reply_json_new(r, 200, doc);
}

static int patch_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *id = arg;
    char hash[65], *sealed = NULL;
    const json_t *b = r->body;
    int rc;

    if ((rc = seal_body_number(r, id, &sealed, hash)) != 0)
        return rc;
#define HAS(k) (json_object_get(b, k) != NULL ? "true" : "false")
    const char *params[] = {
        id,
        rec_muni(r),
        ss_json_str(b, "resident_no"),
        ss_json_str(b, "name"),
        ss_json_str(b, "name_kana"),
        HAS("name_romaji"),
        ss_json_str(b, "name_romaji"),
        HAS("former_name"),
        ss_json_str(b, "former_name"),
        ss_json_str(b, "birth_date"),
        ss_json_str(b, "sex"),
        HAS("postal_code"),
        ss_json_str(b, "postal_code"),
        ss_json_str(b, "address"),
        ss_json_str(b, "status"),
        HAS("status_on"),
        ss_json_str(b, "status_on"),
        json_object_get(b, "non_disclosure") == NULL
            ? NULL
            : (json_is_true(json_object_get(b, "non_disclosure")) ? "true" : "false"),
        sealed,
        hash[0] ? hash : NULL,
        r->who.sub};
#undef HAS
    rc = rec_exec_doc(r, c, sql_rec_person_update, 21, params, doc, "person");
    free(sealed);
    *status = 200;
    return rc;
}

int rec_h_person_patch(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    int rc;

    if ((rc = require_muni(r)) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    if ((rc = ss_body_check(r, patch_fields)) != 0 || (rc = person_rules(r)) != 0)
        return rc;
    if (json_object_size(r->body) == 0)
        return ss_req_field_error(r, "(body)", "names no member to change");
    return rec_write_tx(r, patch_tx, id, true);
}
