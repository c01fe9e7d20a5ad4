/* read.c - reference (H-8-9): the masters, a master's rows as of a date (filters, cursor
 * pages, ETag / If-None-Match), one key as of a date, one key's every version, and the change
 * feed "everything since change N". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"

static json_t *jcol(const PGresult *res, int row, int col)
{
    const char *v = ss_db_val(res, row, col);

    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : json_null();
}

static json_t *orgs(unsigned bits)
{
    json_t *a = json_array();

    for (int t = SS_ORG_CHUOKAI; t < SS_ORG_COUNT_; t++)
        if (bits & MST_ORG(t))
            json_array_append_new(a, json_string(ss_org_type_name(t)));
    return a;
}

int mst_h_index(ss_req *r)
{
    static const char *const none[] = {NULL};
    json_t *items = json_array();
    int rc;

    if ((rc = mst_check_params(r, NULL, none, false)) != 0) {
        json_decref(items);
        return rc;
    }
    for (const mst_master *m = mst_masters; m->name != NULL; m++) {
        json_t *keys = json_array(), *cols = json_array();
        long long change = 0;

        if ((rc = mst_last_change(m, &change)) != 0) {
            json_decref(keys), json_decref(cols), json_decref(items);
            return rc;
        }
        for (int i = 0; i < m->ncols; i++)
            json_array_append_new(i < m->nkeys ? keys : cols, json_string(m->cols[i].name));
        json_array_append_new(
            items, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:I,s:b}", "name", m->name, "label",
                             m->label, "keys", keys, "columns", cols, "editors", orgs(m->editors),
                             "own_editors", orgs(m->own_editors), "last_change", (json_int_t)change,
                             "editable", mst_may_edit(m, &r->who)));
    }
    return ss_reply_json_new(r, 200, json_pack("{s:o}", "items", items));
}

/* Parameters of the list statement: as_of, one filter per column, cursor keys, limit. */
static int list_params(ss_req *r, const mst_master *m, const char *as_of, const char **p,
                       json_t **cursor, char *limit)
{
    int lim = 0, rc;
    int n = 0;

    p[n++] = as_of;
    for (int i = 0; i < m->ncols; i++)
        p[n++] = ss_req_query(r, m->cols[i].name);
    if ((rc = ss_page_params(r, SS_PAGE_DEFAULT, SS_PAGE_MAX, &lim, cursor)) != 0 ||
        json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if (*cursor != NULL &&
        (!json_is_array(*cursor) || json_array_size(*cursor) != (size_t)m->nkeys))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    for (int i = 0; i < m->nkeys; i++) {
        const char *v = *cursor ? json_string_value(json_array_get(*cursor, (size_t)i)) : NULL;

        if (*cursor != NULL && v == NULL)
            return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
        p[n++] = v;
    }
    snprintf(limit, 16, "%d", lim + 1);
    p[n++] = limit;
    return 0;
}

static int list_reply(ss_req *r, const mst_master *m, const PGresult *res, int limit,
                      const char *as_of)
{
    json_t *items = json_array(), *next = json_null();
    int n = PQntuples(res);

    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(items, jcol(res, i, 0));
    if (n > limit) {
        json_t *key = json_array();
        char *cur;

        for (int k = 0; k < m->nkeys; k++)
            json_array_append_new(key, json_string(ss_db_val(res, limit - 1, 1 + k)));
        cur = ss_page_cursor(key);
        json_decref(key);
        next = cur ? json_string(cur) : json_null();
        free(cur);
    }
    return ss_reply_json_new(r, 200,
                             json_pack("{s:s,s:s,s:o,s:o}", "master", m->name, "as_of", as_of,
                                       "items", items, "next_cursor", next));
}

int mst_h_list(ss_req *r)
{
    static const char *const allowed[] = {"as_of", "limit", "cursor", NULL};
    const char *p[MST_MAX_COLS + MST_MAX_KEYS + 2];
    char as_of[11], limit[16];
    json_t *cursor = NULL;
    PGresult *res = NULL;
    mst_master *m;
    int rc = 0;

    if ((m = mst_req_master(r, &rc)) == NULL)
        return rc;
    if ((rc = mst_check_params(r, m, allowed, true)) != 0 || (rc = mst_as_of(r, as_of)) != 0 ||
        (rc = list_params(r, m, as_of, p, &cursor, limit)) != 0)
        goto out;
    if ((rc = mst_etag(r, m, as_of)) != 0) {
        rc = rc > 0 ? 0 : rc;
        goto out;
    }
    if ((rc = ss_db_query(ss_server_db(), m->sql->list, m->sql->list_nparams, p, &res)) != 0)
        goto out;
    rc = list_reply(r, m, res, atoi(limit) - 1, as_of);
    ss_reply_header(r, "Cache-Control", "private, no-cache");
out:
    json_decref(cursor);
    PQclear(res);
    return rc;
}

/* GET one key as of a date, or (history) every version of it. */
static int get_key(ss_req *r, bool history)
{
    static const char *const allowed[] = {"as_of", NULL};
    static const char *const none[] = {NULL};
    const char *p[MST_MAX_KEYS + 1];
    char as_of[11], kbuf[256];
    PGresult *res = NULL;
    mst_master *m;
    int rc = 0;

    if ((m = mst_req_master(r, &rc)) == NULL)
        return rc;
    if ((rc = mst_check_params(r, m, history ? none : allowed, false)) != 0 ||
        (rc = mst_as_of(r, as_of)) != 0 ||
        (rc = mst_split_key(r, m, ss_req_param(r, "key"), kbuf, sizeof(kbuf),
                            p + (history ? 0 : 1))) != 0)
        return rc;
    p[0] = history ? p[0] : as_of;
    if ((rc = mst_etag(r, m, history ? "all" : as_of)) != 0)
        return rc > 0 ? 0 : rc;
    rc = ss_db_query(ss_server_db(), history ? m->sql->history : m->sql->get,
                     m->nkeys + (history ? 0 : 1), p, &res);
    if (rc == 0 && PQntuples(res) == 0)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND,
                         history ? "no such key" : "no version of this key as of %s", as_of);
    if (rc == 0 && history) {
        json_t *items = json_array();

        for (int i = 0; i < PQntuples(res); i++)
            json_array_append_new(items, jcol(res, i, 0));
        rc = ss_reply_json_new(r, 200, json_pack("{s:s,s:o}", "master", m->name, "items", items));
    } else if (rc == 0) {
        rc = ss_reply_json_new(r, 200, jcol(res, 0, 0));
    }
    if (rc == 0)
        ss_reply_header(r, "Cache-Control", "private, no-cache");
    PQclear(res);
    return rc;
}

int mst_h_get(ss_req *r)
{
    return get_key(r, false);
}

int mst_h_history(ss_req *r)
{
    return get_key(r, true);
}

static int since_param(ss_req *r, const char *name, long long *out)
{
    const char *v = ss_req_query(r, name);
    char *end = NULL;

    *out = 0;
    if (v == NULL)
        return 0;
    *out = strtoll(v, &end, 10);
    if (strlen(v) > 18 || *end != '\0' || *out < 0 || v[0] == '-' || v[0] == '+')
        return ss_req_field_error(r, name, "must be a non-negative integer");
    return 0;
}

int mst_h_changes(ss_req *r)
{
    static const char *const allowed[] = {"since", "limit", "cursor", NULL};
    char a[24], b[24], lim_s[16];
    long long since = 0, after = 0;
    json_t *cursor = NULL, *items = json_array(), *next = json_null();
    PGresult *res = NULL;
    int lim = 0, rc = 0, n;
    mst_master *m;

    if ((m = mst_req_master(r, &rc)) == NULL)
        goto out;
    if ((rc = mst_check_params(r, m, allowed, false)) != 0 ||
        (rc = since_param(r, "since", &since)) != 0 ||
        (rc = ss_page_params(r, 100, SS_PAGE_MAX, &lim, &cursor)) != 0 ||
        json_array_size(r->errors) > 0) {
        rc = SS_ERR_VALIDATION;
        goto out;
    }
    after = INT64_MAX;
    if (cursor != NULL) {
        const char *c0 = json_string_value(json_array_get(cursor, 0)),
                   *c1 = json_string_value(json_array_get(cursor, 1));

        if (json_array_size(cursor) != 2 || c0 == NULL || c1 == NULL) {
            rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
            goto out;
        }
        since = atoll(c0);
        after = atoll(c1);
    }
    snprintf(a, sizeof(a), "%lld", since);
    snprintf(b, sizeof(b), "%lld", after);
    snprintf(lim_s, sizeof(lim_s), "%d", lim + 1);
    if ((rc = ss_db_query(ss_server_db(), m->sql->changes, 3, (const char *[]){a, b, lim_s},
                          &res)) != 0)
        goto out;
    n = PQntuples(res);
    for (int i = 0; i < n && i < lim; i++)
        json_array_append_new(items, json_pack("{s:I,s:s,s:o}", "change",
                                               (json_int_t)atoll(ss_db_val(res, i, 0)), "op",
                                               ss_db_val(res, i, 1), "row", jcol(res, i, 2)));
    if (n > lim) {
        json_t *key = json_pack("[ss]", ss_db_val(res, lim - 1, 0), ss_db_val(res, lim - 1, 3));
        char *cur = ss_page_cursor(key);

        json_decref(key);
        next = cur ? json_string(cur) : json_null();
        free(cur);
    }
    {
        long long last = 0;

        if ((rc = mst_last_change(m, &last)) != 0)
            goto out;
        rc = ss_reply_json_new(r, 200,
                               json_pack("{s:s,s:I,s:O,s:O,s:I}", "master", m->name, "since",
                                         (json_int_t)since, "items", items, "next_cursor", next,
                                         "last_change", (json_int_t)last));
    }
out:
    json_decref(cursor);
    json_decref(items);
    json_decref(next);
    PQclear(res);
    return rc;
}
