/* service.c - the notice service's routes and shared request helpers.
 *
 * Every route needs only an authenticated principal: whether the caller may
 * author notices is the library's permission notices.post on the author
 * routes, plus ntc_require_author() (a 国保連合会 must have its prefecture). Static
 * paths never share a method and depth with a /:id pattern, so route order
 * does not matter to ulfius. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntc.h"
#include "sesshu/err.h"

#define AUTH   SS_PERM_AUTHENTICATED
#define AUTHOR SS_PERM_NOTICES_POST

static const ss_route ntc_routes[] = {
    {"POST", "/api/v1/notices", ntc_h_create, AUTHOR, 0, "notice"},
    {"GET", "/api/v1/notices", ntc_h_list, AUTH, 0, "notice"},
    {"GET", "/api/v1/notices/authored", ntc_h_authored, AUTHOR, 0, "notice"},
    /* /me asks for this on behalf of a session that may still hold a temporary password. */
    {"GET", "/api/v1/notices/unread-count", ntc_h_unread_count, AUTH, SS_ROUTE_TEMP_PW_OK,
     "notice"},
    {"PATCH", "/api/v1/notices/:id", ntc_h_patch, AUTHOR, 0, "notice"},
    {"POST", "/api/v1/notices/:id/withdraw", ntc_h_withdraw, AUTHOR, 0, "notice"},
    {"GET", "/api/v1/notices/:id/history", ntc_h_history, AUTHOR, 0, "notice"},
    {"POST", "/api/v1/notices/:id/read", ntc_h_mark_read, AUTH, 0, "notice"},
    {NULL, NULL, NULL, 0, 0, NULL},
};

const ss_service ntc_service = {
    .name = "notice",
    .env_name = "NOTICE",
    .schema = "notice",
    .default_port = 8107,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = ntc_routes,
};

bool ntc_is_author(const ss_principal *p)
{
    /* The library's matrix decides; a 国保連合会 needs its prefecture to pin the audience. */
    return ss_authz_has(p, SS_PERM_NOTICES_POST) &&
           (p->org_type != SS_ORG_KOKUHOREN || p->pref_code[0] != '\0');
}

int ntc_require_author(ss_req *r)
{
    if (ntc_is_author(&r->who))
        return 0;
    return ss_req_fail(r, SS_ERR_FORBIDDEN,
                       "only 国保中央会, 厚生労働省, the operator and a "
                       "国保連合会 post notices");
}

int ntc_require_user(ss_req *r)
{
    if (r->who.kind == SS_PRINCIPAL_USER)
        return 0;
    return ss_req_fail(r, SS_ERR_FORBIDDEN, "notices are read by user sessions");
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

int ntc_check_params(ss_req *r, const char *const *allowed)
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

int ntc_page(ss_req *r, int *limit, int nkeys, char keys[][64])
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

json_t *ntc_json_col(const PGresult *res, int row, int col)
{
    const char *v = ss_db_val(res, row, col);

    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
}

int ntc_list_reply(ss_req *r, const PGresult *res, int limit, int nkeys)
{
    json_t *items = json_array(), *key = NULL, *cursor_js = json_null();
    int n = PQntuples(res);
    char *cursor = NULL;

    if (items == NULL)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n && i < limit; i++) {
        json_t *it = ntc_json_col(res, i, 0);

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
