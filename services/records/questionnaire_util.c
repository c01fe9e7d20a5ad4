/* questionnaire_util.c - request and reply helpers of the H-4/H-7 handlers: strict query
 * parameters, cursor pages, JSON text columns, code lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "questionnaire.h"
#include "sesshu/err.h"

/* Short printable ASCII: safe to echo as a field name in `errors`. */
static bool echo_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7F)
            return false;
    return true;
}

int rec_qm_check_params(ss_req *r, const char *const *allowed)
{
    const char **keys = u_map_enum_keys(r->u->map_url);

    for (int i = 0; keys != NULL && keys[i] != NULL; i++) {
        const char *v = u_map_get(r->u->map_url, keys[i]);
        bool known = false;

        for (int k = 0; allowed[k] != NULL && !known; k++)
            known = strcmp(keys[i], allowed[k]) == 0;
        if (!known)
            ss_req_field_error(r, echo_ok(keys[i]) ? keys[i] : "(query)",
                               "is not a known query parameter");
        else if (v == NULL || v[0] == '\0')
            ss_req_field_error(r, keys[i], "must not be empty");
    }
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

int rec_qm_page(ss_req *r, int *limit, int nkeys, char keys[][64])
{
    json_t *cur = NULL;
    int rc;

    for (int i = 0; i < nkeys; i++)
        keys[i][0] = '\0';
    if ((rc = ss_page_params(r, SS_PAGE_DEFAULT, SS_PAGE_MAX, limit, &cur)) != 0)
        return rc;
    if (json_array_size(r->errors) > 0) {
        json_decref(cur);
        return SS_ERR_VALIDATION;
    }
    if (cur == NULL)
        return 0;
    if (!json_is_array(cur) || json_array_size(cur) != (size_t)nkeys)
        rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    for (int i = 0; rc == 0 && i < nkeys; i++) {
        const char *s = json_string_value(json_array_get(cur, (size_t)i));

        if (s == NULL || strlen(s) >= 64)
            rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
        else
            snprintf(keys[i], 64, "%s", s);
    }
    json_decref(cur);
    return rc;
}

json_t *rec_qm_json_col(const PGresult *res, int row, int col)
{
    const char *v = ss_db_val(res, row, col);

    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
}

int rec_qm_list_reply(ss_req *r, const PGresult *res, int limit, int nkeys)
{
    json_t *items = json_array(), *key = NULL, *cursor_js = json_null();
    int n = PQntuples(res);
    char *cursor = NULL;

    if (items == NULL)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n && i < limit; i++) {
        json_t *it = rec_qm_json_col(res, i, 0);

        if (it == NULL || json_array_append_new(items, it) != 0) {
            json_decref(items);
            return SS_ERR_INTERNAL;
        }
    }
    if (n > limit) {
        if ((key = json_array()) == NULL) {
            json_decref(items);
            return SS_ERR_NOMEM;
        }
        for (int k = 1; k <= nkeys; k++)
            json_array_append_new(key, json_string(ss_db_val(res, limit - 1, k)));
        cursor = ss_page_cursor(key);
        json_decref(key);
        if (cursor == NULL) {
            json_decref(items);
            return SS_ERR_NOMEM;
        }
        cursor_js = json_string(cursor);
        free(cursor);
    }
    return ss_reply_json_new(r, 200,
                             json_pack("{s:o,s:o}", "items", items, "next_cursor", cursor_js));
}

int rec_qm_reply_one(ss_req *r, const PGresult *res, int status, const char *what)
{
    json_t *v;

    if (PQntuples(res) != 1)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such %s", what);
    if ((v = rec_qm_json_col(res, 0, 0)) == NULL)
        return SS_ERR_INTERNAL;
    if (json_is_string(json_object_get(v, "id")))
        snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(v, "id")));
    return ss_reply_json_new(r, status, v);
}

bool rec_qm_master_code_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n < 1 || n > 20)
        return false;
    return strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") == n;
}

int rec_qm_code_list(ss_req *r, const char *field, const json_t *arr, size_t max, char **out)
{
    json_t *copy = json_array(), *v;
    size_t i;
    char name[64];

    *out = NULL;
    if (copy == NULL)
        return SS_ERR_NOMEM;
    if (arr != NULL && (!json_is_array(arr) || json_array_size(arr) > max)) {
        json_decref(copy);
        snprintf(name, sizeof(name), "must be an array of at most %zu codes", max);
        return ss_req_field_error(r, field, name);
    }
    json_array_foreach (arr, i, v) {
        bool dup = false;

        for (size_t k = 0; k < i && !dup; k++)
            dup = json_equal(v, json_array_get(arr, k));
        snprintf(name, sizeof(name), "%s[%zu]", field, i);
        if (!rec_qm_master_code_ok(json_string_value(v)) || dup)
            ss_req_field_error(r, name, dup ? "is repeated" : "is not a valid code");
        else
            json_array_append(copy, v);
    }
    *out = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    return *out == NULL ? SS_ERR_NOMEM : 0;
}
