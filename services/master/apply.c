/* apply.c - the write engine every write goes through (register, update, import): staged rows
 * are COPYed into a temporary table, compared with the current versions in one statement, and
 * applied set-wise: overlapped versions are superseded and their parts outside the new period
 * re-inserted, the staged rows inserted as new versions, missing keys retired. One transaction,
 * the master's table locked against other writers (SHARE ROW EXCLUSIVE: readers go on). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/server.h"

/* Rows of a committed write from which the master is analysed at once. */
#define MST_ANALYZE_ROWS 1000

static const char *const strategy_names[] = {"", "insert-only", "update-only", "upsert"};

void mst_batch_error(mst_batch *b, long line, const char *field, const char *reason)
{
    b->nerrors++;
    if (b->errors == NULL)
        b->errors = json_array();
    if (b->errors == NULL || json_array_size(b->errors) >= MST_LIST_MAX)
        return;
    json_array_append_new(b->errors, json_pack("{s:I,s:s?,s:s}", "line", (json_int_t)line, "field",
                                               field, "reason", reason));
}

void mst_batch_free(mst_batch *b)
{
    ss_buf_free(&b->copy);
    json_decref(b->errors);
    b->errors = NULL;
    for (size_t i = 0; i < b->kcap; i++)
        free(b->keys[i]);
    free(b->keys);
    free(b->key_lines);
    b->keys = NULL;
    b->key_lines = NULL;
    b->kcap = b->kn = 0;
}

static int copy_in(ss_dbc *c, const mst_batch *b)
{
    PGconn *conn = ss_db_conn(c);
    PGresult *res = PQexec(conn, b->m->sql->copy);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_COPY_IN) {
        PQclear(res);
        return SS_ERR_INTERNAL;
    }
    PQclear(res);
    for (size_t off = 0; off < b->copy.len && rc == 0; off += 1 << 20) {
        size_t n = b->copy.len - off < (1u << 20) ? b->copy.len - off : (1u << 20);
        if (PQputCopyData(conn, b->copy.s + off, (int)n) != 1)
            rc = SS_ERR_UNAVAILABLE;
    }
    if (PQputCopyEnd(conn, rc == 0 ? NULL : "aborted") != 1)
        rc = SS_ERR_UNAVAILABLE;
    while ((res = PQgetResult(conn)) != NULL) {
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            rc = ss_db_map_sqlstate(st ? st : "XX000");
            SS_WARN("COPY into the stage failed: %s", PQresultErrorMessage(res));
        }
        PQclear(res);
    }
    return rc;
}

/* counts{} from stage_diff, and the strategy's refusals as row errors. */
static int count_ops(ss_dbc *c, mst_batch *b, json_t *counts)
{
    PGresult *res = NULL;
    const char *bad = b->strategy == MST_INSERT_ONLY   ? sql_mst_stage_diff_not_added
                      : b->strategy == MST_UPDATE_ONLY ? sql_mst_stage_diff_added
                                                       : NULL;
    int rc = ss_db_exec(c, sql_mst_stage_diff_counts, 0, NULL, &res);

    json_object_set_new(counts, "added", json_integer(0));
    json_object_set_new(counts, "changed", json_integer(0));
    json_object_set_new(counts, "unchanged", json_integer(0));
    for (int i = 0; rc == 0 && i < PQntuples(res); i++)
        json_object_set_new(counts, ss_db_val(res, i, 0),
                            json_integer(atoll(ss_db_val(res, i, 1))));
    PQclear(res);
    res = NULL;
    if (rc != 0 || bad == NULL)
        return rc;
    if ((rc = ss_db_exec(c, bad, 0, NULL, &res)) != 0)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        b->strategy_errors++;
        mst_batch_error(b, atol(ss_db_val(res, i, 0)), NULL,
                        b->strategy == MST_INSERT_ONLY ? "the key exists (strategy insert-only)"
                                                       : "no such key (strategy update-only)");
    }
    PQclear(res);
    return 0;
}

static json_t *jcol(const PGresult *res, int row, int col)
{
    const char *v = ss_db_val(res, row, col);

    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : json_null();
}

/* added[] and changed[] (with before/after), capped per kind. */
static int list_diff(ss_dbc *c, const mst_batch *b, json_t *out)
{
    char cap[16];
    const char *p[1] = {cap};
    PGresult *res = NULL;
    json_t *added = json_array(), *changed = json_array();
    int rc;

    snprintf(cap, sizeof(cap), "%d", MST_LIST_MAX);
    rc = ss_db_exec(c, b->m->sql->diff_list, 1, p, &res);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        bool add = strcmp(ss_db_val(res, i, 0), "added") == 0;
        json_t *e = json_pack("{s:I,s:o}", "line", (json_int_t)atol(ss_db_val(res, i, 1)), "key",
                              jcol(res, i, 2));

        if (!add)
            json_object_set_new(e, "before", jcol(res, i, 3));
        json_object_set_new(e, "after", jcol(res, i, 4));
        json_array_append_new(add ? added : changed, e);
    }
    PQclear(res);
    json_object_set_new(out, "added", added);
    json_object_set_new(out, "changed", changed);
    return rc;
}

static int list_missing(ss_dbc *c, const mst_batch *b, json_t *out, json_t *counts)
{
    const char *p[2] = {b->effective, b->owner};
    PGresult *res = NULL;
    json_t *retired = json_array();
    int rc = 0, n = 0;

    if (b->retire_missing && (rc = ss_db_exec(c, b->m->sql->missing, 2, p, &res)) == 0) {
        n = PQntuples(res);
        for (int i = 0; i < n && i < MST_LIST_MAX; i++)
            json_array_append_new(retired, json_pack("{s:o,s:I}", "key", jcol(res, i, 0), "version",
                                                     (json_int_t)atoll(ss_db_val(res, i, 1))));
    }
    PQclear(res);
    json_object_set_new(out, "retired", retired);
    json_object_set_new(counts, "retired", json_integer(n));
    return rc;
}

/* The writes themselves; *change receives the batch's change number. */
static int write_all(ss_dbc *c, const mst_batch *b, char *change, json_t *out)
{
    const mst_sql *q = b->m->sql;
    PGresult *res = NULL;
    const char *p3[3] = {change, NULL, NULL};
    json_t *written = json_array();
    int rc;

    if ((rc = ss_db_exec(c, sql_mst_change_next, 0, NULL, &res)) != 0)
        return rc;
    snprintf(change, 24, "%s", ss_db_val(res, 0, 0));
    PQclear(res);
    res = NULL;
    p3[0] = b->source;
    p3[1] = b->created_by;
    if ((rc = ss_db_exec(c, q->supersede, 1, (const char *[]){change}, NULL)) != 0 ||
        (rc = ss_db_exec(c, q->insert, 2, p3, NULL)) != 0)
        return rc;
    if (b->retire_missing &&
        (rc = ss_db_exec(c, q->retire, 3, (const char *[]){b->effective, b->owner, change},
                         NULL)) != 0)
        return rc;
    if ((rc = ss_db_exec(c, sql_mst_table_state_touch, 1, (const char *[]){b->m->name}, NULL)) != 0)
        return rc;
    if (b->nrows <= 1 && (rc = ss_db_exec(c, q->written, 1, (const char *[]){change}, &res)) == 0)
        for (int i = 0; i < PQntuples(res); i++)
            json_array_append_new(written, jcol(res, i, 0));
    PQclear(res);
    json_object_set_new(out, "written", written);
    return rc;
}

static int stage_and_diff(ss_dbc *c, mst_batch *b, json_t *out, json_t *counts)
{
    int rc;

    if ((rc = ss_db_begin(c)) != 0 ||
        (!b->dry_run && (rc = ss_db_exec(c, b->m->sql->lock, 0, NULL, NULL)) != 0) ||
        (rc = ss_db_exec(c, b->m->sql->stage, 0, NULL, NULL)) != 0 ||
        (b->copy.len > 0 && (rc = copy_in(c, b)) != 0) ||
        (rc = ss_db_exec(c, b->m->sql->diff, 0, NULL, NULL)) != 0 ||
        (rc = count_ops(c, b, counts)) != 0 || (rc = list_diff(c, b, out)) != 0)
        return rc;
    return list_missing(c, b, out, counts);
}

int mst_apply(ss_req *r, mst_batch *b, json_t **result)
{
    ss_dbc *c = NULL;
    json_t *out = json_object(), *counts = json_object();
    char change[24] = "";
    bool apply, work;
    int rc;

    *result = NULL;
    if (out == NULL || counts == NULL) {
        json_decref(out);
        json_decref(counts);
        return SS_ERR_NOMEM;
    }
    json_object_set_new(out, "counts", counts);
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0 ||
        (rc = stage_and_diff(c, b, out, counts)) != 0)
        goto out;
    apply = !b->dry_run && b->nerrors == 0;
    /* Nothing added, changed or retired: no change number, the ETag stays. */
    work = json_integer_value(json_object_get(counts, "added")) +
               json_integer_value(json_object_get(counts, "changed")) +
               json_integer_value(json_object_get(counts, "retired")) >
           0;
    /* The staged rows leave before the commit: no other transaction ever sees one. */
    if (apply && work &&
        ((rc = write_all(c, b, change, out)) != 0 ||
         (rc = ss_db_exec(c, b->m->sql->stage, 0, NULL, NULL)) != 0 ||
         (rc = ss_db_exec(c, sql_mst_stage_diff_clear, 0, NULL, NULL)) != 0 ||
         (rc = ss_db_commit(c)) != 0))
        goto out;
    /* A large write leaves the planner's statistics behind until autovacuum comes (a minute or
     * more): the next import's per-row key lookups would be planned as sequential scans (a
     * re-import of the 29,000 bank branches just loaded took a minute instead of a second).
     * Committed already, so a failure here only costs speed. */
    if (apply && work && b->nrows >= MST_ANALYZE_ROWS &&
        ss_db_exec(c, b->m->sql->analyze, 0, NULL, NULL) != 0)
        SS_WARN("ANALYZE master.%s failed; the next import may be slow", b->m->name);
    json_object_set_new(counts, "errors", json_integer(b->nerrors));
    json_object_set_new(out, "errors", b->errors ? json_incref(b->errors) : json_array());
    json_object_set_new(out, "master", json_string(b->m->name));
    json_object_set_new(out, "strategy", json_string(strategy_names[b->strategy]));
    json_object_set_new(out, "dry_run", json_boolean(b->dry_run));
    json_object_set_new(out, "effective_date", json_string(b->effective));
    json_object_set_new(out, "rows", json_integer(b->nrows));
    json_object_set_new(out, "committed", json_boolean(apply));
    json_object_set_new(out, "change", apply && work ? json_integer(atoll(change)) : json_null());
    if (json_object_get(out, "written") == NULL)
        json_object_set_new(out, "written", json_array());
    *result = out;
    out = NULL;
out:
    if (rc != 0)
        SS_WARN("master %s: write failed (%s, SQLSTATE %s)", b->m->name, ss_err_name(rc),
                c ? ss_db_sqlstate(c) : "-");
    ss_db_release(c); /* rolls back a dry run or a failure */
    json_decref(out);
    (void)r;
    return rc;
}
