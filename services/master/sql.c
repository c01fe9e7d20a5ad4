/* sql.c - every master's statements, looked up by name in sql/masters.sql (embedded at build time).
 *
 * masters.sql is written from the descriptors of masters.c by sqlgen/sqlgen.c (ctest
 * master_sql_fresh fails when it is stale); here each master's mst_sql is pointed at its
 * mst_<master>_<kind> statements. A missing one stops the service at start-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"
#include "sesshu/err.h"
#include "sesshu/log.h"

static const ss_sql_stmt *find(const char *master, const char *kind)
{
    char name[96];

    snprintf(name, sizeof(name), "mst_%s_%s", master, kind);
    for (const ss_sql_stmt *s = mst_sql_all; s->name != NULL; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static int build_one(mst_master *m)
{
    static const struct {
        const char *kind;
        size_t off;
    } slots[] = {
        {"list", offsetof(mst_sql, list)},           {"get", offsetof(mst_sql, get)},
        {"history", offsetof(mst_sql, history)},     {"changes", offsetof(mst_sql, changes)},
        {"export", offsetof(mst_sql, export_)},      {"stage", offsetof(mst_sql, stage)},
        {"copy", offsetof(mst_sql, copy)},           {"diff", offsetof(mst_sql, diff)},
        {"diff_list", offsetof(mst_sql, diff_list)}, {"missing", offsetof(mst_sql, missing)},
        {"supersede", offsetof(mst_sql, supersede)}, {"insert", offsetof(mst_sql, insert)},
        {"retire", offsetof(mst_sql, retire)},       {"retire_key", offsetof(mst_sql, retire_key)},
        {"lock", offsetof(mst_sql, lock)},           {"written", offsetof(mst_sql, written)},
        {"analyze", offsetof(mst_sql, analyze)},
    };
    mst_sql *q = calloc(1, sizeof(*q));

    if (q == NULL)
        return SS_ERR_NOMEM;
    m->sql = q;
    for (m->ncols = 0; m->cols[m->ncols].name != NULL; m->ncols++)
        ;
    /* The handlers size their arrays by MST_MAX_COLS: a wider master would overrun them. */
    if (m->ncols > MST_MAX_COLS) {
        SS_ERROR("master %s has %d columns, more than MST_MAX_COLS (%d)", m->name, m->ncols,
                 MST_MAX_COLS);
        return SS_ERR_INTERNAL;
    }
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        const ss_sql_stmt *s = find(m->name, slots[i].kind);

        if (s == NULL) {
            SS_ERROR("sql/masters.sql has no mst_%s_%s: regenerate it (sqlgen/sqlgen.c)", m->name,
                     slots[i].kind);
            return SS_ERR_INTERNAL;
        }
        *(const char **)((char *)q + slots[i].off) = s->text;
        if (strcmp(slots[i].kind, "list") == 0)
            q->list_nparams = s->nparams;
    }
    return 0;
}

int mst_sql_build(void)
{
    for (mst_master *m = mst_masters; m->name != NULL; m++) {
        int rc = build_one(m);

        if (rc != 0)
            return rc;
    }
    return 0;
}

void mst_sql_free(void)
{
    for (mst_master *m = mst_masters; m->name != NULL; m++) {
        free(m->sql);
        m->sql = NULL;
    }
}
