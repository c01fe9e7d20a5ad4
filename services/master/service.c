/* service.c - the master service's routes and shared request helpers.
 *
 * Reads need masters.read (every organisation and API clients with masters:read); writes
 * masters.write narrowed per master (row.c, masters.c); import and CSV export masters.import
 * plus the same per-master edit right for imports. Paths: a master's collection at
 * /api/v1/masters/:master, its rows at /api/v1/masters/:master/items/:key (composite keys
 * joined with ~), so the static .../export, .../changes and .../import never meet a pattern of
 * the same depth and method. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mst.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define READ   SS_PERM_MASTERS_READ
#define WRITE  SS_PERM_MASTERS_WRITE
#define IMPORT SS_PERM_MASTERS_IMPORT

static const ss_route mst_routes[] = {
    {"GET", "/api/v1/masters", mst_h_index, READ, 0, "master"},
    {"GET", "/api/v1/masters/:master", mst_h_list, READ, 0, "master"},
    {"POST", "/api/v1/masters/:master", mst_h_create, WRITE, 0, "master"},
    {"GET", "/api/v1/masters/:master/changes", mst_h_changes, READ, 0, "master"},
    {"GET", "/api/v1/masters/:master/export", mst_h_export, IMPORT, 0, "master"},
    {"POST", "/api/v1/masters/:master/import", mst_h_import, IMPORT, SS_ROUTE_RAW_BODY, "master"},
    {"GET", "/api/v1/masters/:master/items/:key", mst_h_get, READ, 0, "master"},
    {"PUT", "/api/v1/masters/:master/items/:key", mst_h_update, WRITE, 0, "master"},
    {"GET", "/api/v1/masters/:master/items/:key/history", mst_h_history, READ, 0, "master"},
    {"POST", "/api/v1/masters/:master/items/:key/retire", mst_h_retire, WRITE, 0, "master"},
    {NULL, NULL, NULL, 0, 0, NULL},
};

static int mst_init(ss_db *db)
{
    (void)db;
    return mst_sql_build();
}

const ss_service mst_service = {
    .name = "master",
    .env_name = "MASTER",
    .schema = "master",
    .default_port = SS_PORT_MASTER,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = mst_routes,
    .init = mst_init,
    .shutdown = mst_sql_free,
    .raw_body_max = MST_IMPORT_MAX,
};

mst_master *mst_req_master(ss_req *r, int *rc)
{
    mst_master *m = mst_find(ss_req_param(r, "master"));

    if (m == NULL)
        *rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such master");
    else
        snprintf(r->res_id, sizeof(r->res_id), "%s", m->name);
    return m;
}

void mst_today(char *buf)
{
    time_t t = time(NULL) + 9 * 3600; /* Japan has no daylight saving */
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

int mst_as_of(ss_req *r, char *buf)
{
    const char *v = ss_req_query(r, "as_of");

    if (v == NULL) {
        mst_today(buf);
        return 0;
    }
    if (!ss_date_ok(v))
        return ss_req_field_error(r, "as_of", "must be a date YYYY-MM-DD");
    snprintf(buf, 11, "%s", v);
    return 0;
}

int mst_split_key(ss_req *r, const mst_master *m, const char *key, char *buf, size_t bufsz,
                  const char **vals)
{
    size_t n = key ? strlen(key) : 0;
    int k = 0;

    if (n == 0 || n >= bufsz || !ss_utf8_valid(key, n))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such key");
    memcpy(buf, key, n + 1);
    for (char *p = buf; k < MST_MAX_KEYS; k++) {
        char *sep = strchr(p, '~');

        vals[k] = p;
        if (sep == NULL)
            break;
        *sep = '\0';
        p = sep + 1;
    }
    if (k + 1 != m->nkeys)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "a key of %s has %d part(s) joined by ~", m->name,
                           m->nkeys);
    for (int i = 0; i < m->nkeys; i++) {
        ss_buf probe = {0};
        const char *why = mst_value_copy(&m->cols[i], vals[i], &probe);

        ss_buf_free(&probe);
        if (why != NULL)
            return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such key (%s %s)", m->cols[i].name, why);
    }
    snprintf(r->res_id, sizeof(r->res_id), "%s/%.60s", m->name, key);
    return 0;
}

int mst_last_change(const mst_master *m, long long *out)
{
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_mst_table_state_last_change, 1,
                         (const char *[]){m->name}, &res);

    if (rc == 0)
        *out = PQntuples(res) == 1 ? atoll(ss_db_val(res, 0, 0)) : 0;
    PQclear(res);
    return rc;
}

static unsigned long fnv(const char *s)
{
    unsigned long h = 2166136261ul;

    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619ul;
    return h & 0xFFFFFFFFul;
}

int mst_etag(ss_req *r, const mst_master *m, const char *as_of)
{
    char etag[96];
    long long change = 0;
    const char *inm = ss_req_header(r, "If-None-Match");
    int rc;

    if ((rc = mst_last_change(m, &change)) != 0)
        return rc;
    snprintf(etag, sizeof(etag), "W/\"%lld-%s-%08lx\"", change, as_of, fnv(r->u->http_url));
    ss_reply_header(r, "ETag", etag);
    if (inm != NULL && (strstr(inm, etag + 2) != NULL || strcmp(inm, "*") == 0)) {
        ss_reply_empty(r, 304);
        ss_reply_header(r, "Cache-Control", "private, no-cache");
        return 1;
    }
    return 0;
}

int mst_check_params(ss_req *r, const mst_master *m, const char *const *allowed, bool allow_cols)
{
    /* The path's :master and :key, the route's own, and the master's columns as filters. */
    const char *names[MST_MAX_COLS + 40];
    size_t n = 0;

    names[n++] = "master";
    names[n++] = "key";
    for (int k = 0; allowed[k] != NULL && n < 38; k++)
        names[n++] = allowed[k];
    for (int k = 0; allow_cols && m != NULL && k < m->ncols; k++)
        names[n++] = m->cols[k].name;
    names[n] = NULL;
    return ss_query_check(r, names);
}
