/* notices.c - the author side of notices (H-11): post, edit (every edit is a
 * new version, kept), withdraw, list one's organisation's notices with read
 * counts, and a notice's history.
 *
 * A notice belongs to the author's organisation: any author of that
 * organisation may edit it; another organisation's notice is "not found".
 * A 国保連合会 author's audience is always its own prefecture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntc.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const importances[] = {"info", "important", "urgent", NULL};

static const ss_field notice_fields[] = {
    {"title", SS_F_STRING, true, 1, 200, NULL, false},
    {"importance", SS_F_ENUM, false, 0, 0, importances, false},
    {"publish_from", SS_F_TIMESTAMP, false, 0, 0, NULL, false},
    {"publish_until", SS_F_TIMESTAMP, false, 0, 0, NULL, true},
    {"audience", SS_F_OBJECT, false, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static const ss_field patch_fields[] = {
    {"title", SS_F_STRING, false, 1, 200, NULL, false},
    {"importance", SS_F_ENUM, false, 0, 0, importances, false},
    {"publish_from", SS_F_TIMESTAMP, false, 0, 0, NULL, false},
    {"publish_until", SS_F_TIMESTAMP, false, 0, 0, NULL, true},
    {"audience", SS_F_OBJECT, false, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static const ss_field audience_fields[] = {
    {"org_types", SS_F_ARRAY, false, 0, 16, NULL, false},
    {"prefectures", SS_F_ARRAY, false, 0, 47, NULL, false},
    {"organizations", SS_F_ARRAY, false, 0, 200, NULL, false},
    {"roles", SS_F_ARRAY, false, 0, 2, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* A notice's body is multi-line text: the library's string check refuses
 * every control character, so "body" is taken out of the declarative check
 * and checked here (line feed, carriage return and tab allowed). */
static int body_text_check(ss_req *r, const json_t *v, bool required)
{
    const char *s = json_string_value(v);
    size_t n;

    if (v == NULL)
        return required ? ss_req_field_error(r, "body", "is required") : 0;
    if (s == NULL)
        return ss_req_field_error(r, "body", "must be a string");
    n = ss_utf8_len(s);
    if (n < 1 || n > 20000)
        return ss_req_field_error(r, "body", "must be 1 to 20000 characters long");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') || *p == 0x7F)
            return ss_req_field_error(
                r, "body", "must not contain control characters but line breaks and tabs");
    return 0;
}

/* ss_body_check for everything but "body", then body_text_check. */
static int notice_body_check(ss_req *r, const ss_field *fields, bool body_required)
{
    json_t *rest = NULL;
    int rc;

    if (r->body == NULL)
        return ss_body_check(r, fields); /* "a body is required" as everywhere */
    if ((rest = json_copy(r->body)) == NULL)
        return SS_ERR_NOMEM;
    json_object_del(rest, "body");
    rc = ss_json_check(r, rest, fields);
    json_decref(rest);
    body_text_check(r, json_object_get(r->body, "body"), body_required);
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : rc;
}

/* The four audience lists, each a compact JSON array text (malloc'd). */
typedef struct aud_lists {
    char *types, *prefs, *orgs, *roles;
} aud_lists;

static void aud_free(aud_lists *a)
{
    free(a->types);
    free(a->prefs);
    free(a->orgs);
    free(a->roles);
}

static bool pref_ok(const char *s)
{
    int v;

    if (s == NULL || strlen(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    v = (s[0] - '0') * 10 + (s[1] - '0');
    return v >= 1 && v <= 47;
}

static bool item_ok(const char *field, const char *s)
{
    if (s == NULL)
        return false;
    if (strcmp(field, "org_types") == 0)
        return ss_org_type_parse(s) != SS_ORG_NONE;
    if (strcmp(field, "prefectures") == 0)
        return pref_ok(s);
    if (strcmp(field, "organizations") == 0)
        return ss_uuid_ok(s);
    return ss_role_parse(s) != SS_ROLE_NONE;
}

/* One list: every item valid, no repeats; a new JSON array text in *out. */
static int aud_list(ss_req *r, const json_t *aud, const char *field, char **out)
{
    const json_t *arr = json_object_get(aud, field);
    json_t *copy = json_array();
    size_t i;
    json_t *v;
    char name[64];

    if (copy == NULL)
        return SS_ERR_NOMEM;
    json_array_foreach (arr, i, v) {
        const char *s = json_string_value(v);
        bool dup = false;

        for (size_t k = 0; k < i && !dup; k++)
            dup = s != NULL && json_equal(v, json_array_get(arr, k));
        snprintf(name, sizeof(name), "audience.%s[%zu]", field, i);
        if (!item_ok(field, s) || dup) {
            ss_req_field_error(r, name, dup ? "is repeated" : "is not a valid value");
            continue;
        }
        json_array_append(copy, v);
    }
    *out = json_dumps(copy, SS_JSON_COMPACT);
    json_decref(copy);
    return *out == NULL ? SS_ERR_NOMEM : 0;
}

/* The audience of the body (all lists empty when absent). A 国保連合会 author
 * may name no other prefecture; its notices get its own prefecture. */
static int aud_parse(ss_req *r, const json_t *aud, aud_lists *a)
{
    static const char *const fields[] = {"org_types", "prefectures", "organizations", "roles"};
    char **outs[] = {&a->types, &a->prefs, &a->orgs, &a->roles};
    int rc;

    if (aud != NULL && (rc = ss_json_check(r, aud, audience_fields)) != 0)
        return rc;
    for (int i = 0; i < 4; i++)
        if ((rc = aud_list(r, aud, fields[i], outs[i])) != 0)
            return rc;
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if (r->who.org_type != SS_ORG_KOKUHOREN)
        return 0;
    json_t *prefs = json_loads(a->prefs, 0, NULL);
    size_t n = json_array_size(prefs);
    const char *p0 = json_string_value(json_array_get(prefs, 0));
    bool own = n == 0 || (n == 1 && p0 != NULL && strcmp(p0, r->who.pref_code) == 0);

    json_decref(prefs);
    if (!own)
        return ss_req_field_error(r, "audience.prefectures",
                                  "a 国保連合会 posts to its own prefecture only");
    prefs = json_pack("[s]", r->who.pref_code);
    free(a->prefs);
    a->prefs = prefs != NULL ? json_dumps(prefs, SS_JSON_COMPACT) : NULL;
    json_decref(prefs);
    return a->prefs == NULL ? SS_ERR_NOMEM : 0;
}

/* A broken publication window (CHECK notices_window) is the client's field error. */
static const ss_sql_constraint ntc_constraints[] = {
    {"notices_window", SS_ERR_VALIDATION, "publish_until", "must be later than publish_from"},
    {NULL, 0, NULL, NULL},
};

/* Reply with column 0 (a notice) of a one-row result, or 404. */
static int reply_one(ss_req *r, PGresult *res, int status)
{
    json_t *n = PQntuples(res) == 1 ? ss_json_col(res, 0, 0) : NULL;

    if (PQntuples(res) != 1)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such notice of your organisation");
    if (n == NULL)
        return SS_ERR_INTERNAL;
    snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(n, "id")));
    return ss_reply_json_new(r, status, n);
}

int ntc_h_create(ss_req *r)
{
    aud_lists a = {0};
    PGresult *res = NULL;
    int rc;

    if ((rc = ntc_require_author(r)) != 0 || (rc = notice_body_check(r, notice_fields, true)) != 0)
        return rc;
    if ((rc = aud_parse(r, json_object_get(r->body, "audience"), &a)) != 0)
        goto out;
    const char *params[] = {r->who.org_id,
                            ss_org_type_name(r->who.org_type),
                            r->who.sub,
                            ss_json_str(r->body, "title"),
                            ss_json_str(r->body, "body"),
                            ss_json_str(r->body, "importance"),
                            ss_json_str(r->body, "publish_from"),
                            ss_json_str(r->body, "publish_until"),
                            a.types,
                            a.prefs,
                            a.orgs,
                            a.roles};
    rc = ss_sql_query(r, ss_server_db(), sql_ntc_notice_insert, 12, params, &res, ntc_constraints);
    if (rc == 0)
        rc = reply_one(r, res, 201);
out:
    aud_free(&a);
    PQclear(res);
    return rc;
}

/* 0 rows from an edit or withdrawal: 404 for another organisation's (or no)
 * notice, else the notice as it stands (for withdraw) or 409 (for edits). */
static int not_changed(ss_req *r, const char *id, bool is_edit)
{
    const char *params[] = {id, r->who.org_id};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_query(ss_server_db(), sql_ntc_notice_of_org, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 1 && is_edit)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "a withdrawn notice cannot be edited");
    else
        rc = reply_one(r, res, 200);
    PQclear(res);
    return rc;
}

static const char *audience_member(const json_t *body, const aud_lists *a, int i)
{
    const char *lists[] = {a->types, a->prefs, a->orgs, a->roles};

    return json_object_get(body, "audience") != NULL ? lists[i] : NULL;
}

int ntc_h_patch(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    aud_lists a = {0};
    PGresult *res = NULL;
    int rc;

    if ((rc = ntc_require_author(r)) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such notice of your organisation");
    if ((rc = notice_body_check(r, patch_fields, false)) != 0)
        return rc;
    if ((rc = aud_parse(r, json_object_get(r->body, "audience"), &a)) != 0)
        goto out;
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    const char *params[] = {id,
                            r->who.org_id,
                            r->who.sub,
                            ss_json_str(r->body, "title"),
                            ss_json_str(r->body, "body"),
                            ss_json_str(r->body, "importance"),
                            ss_json_str(r->body, "publish_from"),
                            json_object_get(r->body, "publish_until") != NULL ? "true" : "false",
                            ss_json_str(r->body, "publish_until"),
                            audience_member(r->body, &a, 0),
                            audience_member(r->body, &a, 1),
                            audience_member(r->body, &a, 2),
                            audience_member(r->body, &a, 3)};
    rc = ss_sql_query(r, ss_server_db(), sql_ntc_notice_update, 13, params, &res, ntc_constraints);
    if (rc != 0)
        goto out;
    rc = PQntuples(res) == 1 ? reply_one(r, res, 200) : not_changed(r, id, true);
out:
    aud_free(&a);
    PQclear(res);
    return rc;
}

/* Withdrawing is final and idempotent: readers no longer see the notice. */
int ntc_h_withdraw(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    PGresult *res = NULL;
    int rc;

    if ((rc = ntc_require_author(r)) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such notice of your organisation");
    if (r->body != NULL && json_object_size(r->body) > 0)
        return ss_req_field_error(r, "(body)", "takes no members");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    const char *params[] = {id, r->who.org_id, r->who.sub};
    rc = ss_db_query(ss_server_db(), sql_ntc_notice_withdraw, 3, params, &res);
    if (rc != 0)
        return rc;
    rc = PQntuples(res) == 1 ? reply_one(r, res, 200) : not_changed(r, id, false);
    PQclear(res);
    return rc;
}

static const char *const list_params[] = {"limit", "cursor", NULL};

int ntc_h_authored(ss_req *r)
{
    char keys[2][64];
    char lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = ntc_require_author(r)) != 0 || (rc = ss_query_check(r, list_params)) != 0 ||
        (rc = ss_page_keys(r, &limit, 2, keys)) != 0)
        return rc;
    if (keys[1][0] != '\0' && !ss_uuid_ok(keys[1]))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *params[] = {r->who.org_id, keys[0][0] ? keys[0] : NULL, keys[1][0] ? keys[1] : NULL,
                            lim};
    rc = ss_db_query(ss_server_db(), sql_ntc_notices_authored, 4, params, &res);
    if (rc != 0)
        return rc;
    rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}

int ntc_h_history(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    PGresult *res = NULL;
    json_t *items = NULL;
    int rc;

    if ((rc = ntc_require_author(r)) != 0 ||
        (rc = ss_query_check(r, (const char *[]){"id", NULL})) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such notice of your organisation");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    const char *params[] = {id, r->who.org_id};
    rc = ss_db_query(ss_server_db(), sql_ntc_notice_versions, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 0) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such notice of your organisation");
        goto out;
    }
    if ((items = json_array()) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(items, ss_json_col(res, i, 0));
    rc = ss_reply_json_new(r, 200, json_pack("{s:s,s:o}", "notice_id", id, "items", items));
out:
    PQclear(res);
    return rc;
}
