/* page.c - cursor pagination (parameters, keyset cursors, page replies) and the query-string
 * check (http.h). Cursors are base64url of
 * a compact JSON array holding the last row's sort key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/page.h"

int ss_page_params(ss_req *r, int def, int max, int *limit_out, json_t **cursor_out)
{
    const char *l = ss_req_query(r, "limit");
    const char *c = ss_req_query(r, "cursor");
    int rc = 0;

    *limit_out = def;
    if (cursor_out != NULL)
        *cursor_out = NULL;
    if (max > SS_PAGE_MAX)
        max = SS_PAGE_MAX;
    if (l != NULL) {
        char *end = NULL;
        long v = strtol(l, &end, 10);
        if (l[0] == '\0' || *end != '\0' || strspn(l, "0123456789") != strlen(l) || v < 1 ||
            v > max)
            rc = ss_req_field_error(r, "limit",
                                    "must be an integer from 1 to the maximum page size");
        else
            *limit_out = (int)v;
    }
    if (c != NULL && cursor_out != NULL) {
        size_t n = 0;
        unsigned char *raw = strlen(c) <= 1024 ? ss_b64url_decode(c, &n) : NULL;
        json_t *key = raw ? json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
        free(raw);
        if (!json_is_array(key)) {
            json_decref(key);
            rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
        } else {
            *cursor_out = key;
        }
    }
    return rc;
}

char *ss_page_cursor(const json_t *key)
{
    char *s = json_dumps(key, JSON_COMPACT);
    char *enc;

    if (s == NULL)
        return NULL;
    enc = ss_b64url_encode((const unsigned char *)s, strlen(s));
    free(s);
    return enc;
}

int ss_page_keys(ss_req *r, int *limit, int nkeys, char keys[][64])
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

json_t *ss_json_col(const PGresult *res, int row, int col)
{
    const char *v = ss_db_val(res, row, col);

    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
}

/* The cursor string of columns 1..nkeys of `row` (new reference), NULL on allocation failure. */
static json_t *cursor_of(const PGresult *res, int row, int nkeys)
{
    json_t *key = json_array(), *out = NULL;
    char *cursor = NULL;

    if (key == NULL)
        return NULL;
    for (int k = 1; k <= nkeys; k++)
        json_array_append_new(key, json_string(ss_db_val(res, row, k)));
    cursor = ss_page_cursor(key);
    json_decref(key);
    if (cursor != NULL)
        out = json_string(cursor);
    free(cursor);
    return out;
}

int ss_reply_page(ss_req *r, const PGresult *res, int limit, int nkeys)
{
    json_t *items = json_array(), *cursor_js = NULL;
    int n = PQntuples(res);

    if (items == NULL)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n && i < limit; i++) {
        json_t *it = ss_json_col(res, i, 0);

        if (it == NULL || json_array_append_new(items, it) != 0) {
            json_decref(items);
            return SS_ERR_INTERNAL;
        }
    }
    if (n == 0)
        r->person_id[0] = '\0'; /* a list filtered by a person that showed nothing of theirs */
    cursor_js = n > limit ? cursor_of(res, limit - 1, nkeys) : json_null();
    if (cursor_js == NULL) {
        json_decref(items);
        return SS_ERR_NOMEM;
    }
    return ss_reply_json_new(r, 200,
                             json_pack("{s:o,s:o}", "items", items, "next_cursor", cursor_js));
}

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

int ss_query_check(ss_req *r, const char *const *allowed)
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
