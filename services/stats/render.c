/* render.c - renders every dataset once per refresh into stats.outputs, as NDJSON (one JSON
 * object a line, counts as numbers, a suppressed count as null) and CSV (a header line, the
 * library's one CSV writer ss_csv_field with its formula guard, CRLF; a suppressed count is
 * empty), all of them in one transaction. The ETag is a hash of the body, so an unchanged dataset
 * keeps its ETag and its Last-Modified across refreshes and restarts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/csv.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "stat.h"

#define RENDER_MAX (256L * 1024 * 1024)

static int render_row(const stat_dataset *d, const PGresult *res, int i, ss_buf *nd, ss_buf *csv)
{
    json_t *o = json_object();
    char *line;
    int rc = 0;

    if (o == NULL)
        return SS_ERR_NOMEM;
    for (int j = 0; d->columns[j] != NULL && rc == 0; j++) {
        const char *v = PQgetvalue(res, i, j);
        bool null = PQgetisnull(res, i, j);
        json_t *jv;

        if (null)
            jv = json_null();
        else if (d->types[j] == 'i')
            jv = json_integer(strtoll(v, NULL, 10));
        else if (d->types[j] == 'r')
            jv = json_real(strtod(v, NULL));
        else if (d->types[j] == 'b')
            jv = json_boolean(v[0] == 't');
        else
            jv = json_string(v);
        if (json_object_set_new(o, d->columns[j], jv) != 0)
            rc = SS_ERR_NOMEM;
        if (rc == 0 && j > 0)
            rc = ss_buf_add(csv, ",", 1);
        if (rc == 0)
            rc = ss_csv_field(csv, null ? "" : v, d->types[j] != 't');
    }
    if (rc == 0)
        rc = ss_buf_add(csv, "\r\n", 2);
    if (rc == 0 && (line = json_dumps(o, SS_JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
        rc = ss_buf_str(nd, line);
        if (rc == 0)
            rc = ss_buf_add(nd, "\n", 1);
        free(line);
    } else if (rc == 0) {
        rc = SS_ERR_NOMEM;
    }
    json_decref(o);
    return rc;
}

static int store(ss_dbc *c, const char *name, const char *fmt, const ss_buf *b, int rows)
{
    char etag[65], nrows[16];
    const char *body = b->s != NULL ? b->s : "";

    ss_sha256_hex(body, b->len, etag);
    etag[32] = '\0';
    snprintf(nrows, sizeof(nrows), "%d", rows);
    const char *p[] = {name, fmt, body, etag, nrows};
    return ss_db_exec(c, sql_stat_output_store, 5, p, NULL);
}

static int render_one(ss_dbc *c, const stat_dataset *d)
{
    char k[16];
    const char *p[] = {k};
    ss_buf nd = {.max = RENDER_MAX}, csv = {.max = RENDER_MAX};
    PGresult *res = NULL;
    int rc, rows = 0;

    snprintf(k, sizeof(k), "%ld", stat_k());
    for (int j = 0; d->columns[j] != NULL; j++)
        if ((rc = j > 0 ? ss_buf_add(&csv, ",", 1) : 0) != 0 ||
            (rc = ss_csv_put(&csv, d->columns[j])) != 0)
            goto out;
    if ((rc = ss_buf_add(&csv, "\r\n", 2)) != 0 || (rc = ss_db_exec(c, d->sql, 1, p, &res)) != 0)
        goto out;
    rows = PQntuples(res);
    for (int i = 0; i < rows && rc == 0; i++)
        rc = render_row(d, res, i, &nd, &csv);
    if (rc == 0 && (rc = store(c, d->name, "ndjson", &nd, rows)) == 0)
        rc = store(c, d->name, "csv", &csv, rows);
out:
    PQclear(res);
    ss_buf_free(&nd);
    ss_buf_free(&csv);
    return rc;
}

/* Every dataset in one transaction, with the memory its sorts need (stat_render_memory): the
 * datasets of one refresh are published together or not at all. */
int stat_render_all(void)
{
    ss_dbc *c = NULL;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) == 0 &&
        (rc = ss_db_exec(c, sql_stat_render_memory, 0, NULL, NULL)) == 0)
        for (const stat_dataset *d = stat_datasets; d->name != NULL && rc == 0; d++)
            rc = render_one(c, d);
    if (rc == 0)
        rc = ss_db_commit(c);
    else
        (void)ss_db_rollback(c);
    ss_db_release(c);
    return rc;
}
