/* sqlgen.c - writes services/master/sql/masters.sql: every statement of every master, spelled out
 * from the descriptors of masters.c (its columns, keys first), so the file can be read, pasted into
 * psql and prepared by the integration tests like any other service's .sql file.
 *
 *   sesshu-master-sqlgen > services/master/sql/masters.sql      (after changing a descriptor)
 *   sesshu-master-sqlgen --check services/master/sql/masters.sql (ctest master_sql_fresh)
 *
 * Only identifiers come from here, and only from the compile-time tables of masters.c; every value
 * is a $n parameter or travels through COPY. The service looks the statements up by name
 * (mst_<master>_<kind>, sql.c) and refuses to start when one is missing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"
#include "sesshu/err.h"

/* Staging columns that are no part of a row's "after" in a diff. */
#define STAGE_EXTRA                                                                            \
    "ARRAY['line', 'version', 'source', 'superseded_at', 'superseded_version', 'created_at', " \
    "'created_by']::text[]"

static int put(ss_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put(ss_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return SS_ERR_INTERNAL;
    return ss_buf_add(b, tmp, (size_t)n);
}

/* "a.c1, a.c2, ..." over all columns (alias may be ""). */
static void cols(ss_buf *b, const mst_master *m, const char *a)
{
    for (int i = 0; i < m->ncols; i++)
        put(b, "%s%s%s%s", i ? ", " : "", a, *a ? "." : "", m->cols[i].name);
}

/* "a.k1 = s.k1 AND ..." */
static void keyeq(ss_buf *b, const mst_master *m, const char *a, const char *s)
{
    for (int i = 0; i < m->nkeys; i++)
        put(b, "%s%s.%s = %s.%s", i ? " AND " : "", a, m->cols[i].name, s, m->cols[i].name);
}

/* "a.k1 = CAST($n AS type) AND ..." from $first. */
static void keyparams(ss_buf *b, const mst_master *m, const char *a, int first)
{
    for (int i = 0; i < m->nkeys; i++)
        put(b, "%s%s.%s = CAST($%d AS %s)", i ? " AND " : "", a, m->cols[i].name, first + i,
            m->cols[i].sqltype);
}

static void keyorder(ss_buf *b, const mst_master *m, const char *a)
{
    for (int i = 0; i < m->nkeys; i++)
        put(b, "%s%s.%s", i ? ", " : "", a, m->cols[i].name);
}

static void keyjson(ss_buf *b, const mst_master *m, const char *a)
{
    ss_buf_str(b, "jsonb_build_object(");
    for (int i = 0; i < m->nkeys; i++)
        put(b, "%s'%s', %s.%s", i ? ", " : "", m->cols[i].name, a, m->cols[i].name);
    ss_buf_str(b, ")");
}

#define ASOF(a, p)                                                          \
    a ".superseded_at IS NULL AND " a ".valid_from <= $" p "::date AND (" a \
      ".valid_to IS NULL OR " a ".valid_to >= $" p "::date)"

static char *take(ss_buf *b)
{
    char *s = b->s;

    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

static char *build_list(const mst_master *m, int *nparams)
{
    ss_buf b = {0};
    int p = 2;

    put(&b, "SELECT to_jsonb(t) - 'created_by'");
    for (int i = 0; i < m->nkeys; i++)
        put(&b, ", t.%s::text", m->cols[i].name);
    put(&b, " FROM master.%s t WHERE " ASOF("t", "1"), m->name);
    for (int i = 0; i < m->ncols; i++, p++) {
        if (m->cols[i].type == MST_TEXT_ARRAY)
            put(&b, " AND ($%d::text IS NULL OR $%d = ANY(t.%s))", p, p, m->cols[i].name);
        else
            put(&b, " AND ($%d::text IS NULL OR t.%s::text = $%d)", p, m->cols[i].name, p);
    }
    put(&b, " AND ($%d::text IS NULL OR (", p);
    keyorder(&b, m, "t");
    ss_buf_str(&b, ") > (");
    for (int i = 0; i < m->nkeys; i++)
        put(&b, "%sCAST($%d AS %s)", i ? ", " : "", p + i, m->cols[i].sqltype);
    ss_buf_str(&b, ")) ORDER BY ");
    keyorder(&b, m, "t");
    put(&b, " LIMIT $%d", p + m->nkeys);
    *nparams = p + m->nkeys;
    return take(&b);
}

static char *build_get(const mst_master *m, bool history)
{
    ss_buf b = {0};

    put(&b, "SELECT to_jsonb(t) - 'created_by' FROM master.%s t WHERE ", m->name);
    if (history) {
        keyparams(&b, m, "t", 1);
        ss_buf_str(&b, " ORDER BY t.version");
    } else {
        ss_buf_str(&b, ASOF("t", "1") " AND ");
        keyparams(&b, m, "t", 2);
    }
    return take(&b);
}

static char *build_changes(const mst_master *m)
{
    ss_buf b = {0};

    put(&b,
        "SELECT x.chg::text, x.op, x.j, x.version::text FROM ("
        "SELECT t.version AS chg, 'version' AS op, to_jsonb(t) - 'created_by' AS j, t.version "
        "FROM master.%s t WHERE t.version > $1::bigint UNION ALL ",
        m->name);
    put(&b,
        "SELECT t.superseded_version, 'superseded', to_jsonb(t) - 'created_by', t.version "
        "FROM master.%s t WHERE t.superseded_version > $1::bigint) x ",
        m->name);
    ss_buf_str(&b, "WHERE (x.chg, x.version) > ($1::bigint, $2::bigint) ORDER BY x.chg, x.version "
                   "LIMIT $3::int");
    return take(&b);
}

static char *build_export(const mst_master *m)
{
    ss_buf b = {0};

    ss_buf_str(&b, "SELECT ");
    for (int i = 0; i < m->ncols; i++) {
        if (m->cols[i].type == MST_TEXT_ARRAY)
            put(&b, "array_to_string(t.%s, '|'), ", m->cols[i].name);
        else
            put(&b, "t.%s::text, ", m->cols[i].name);
    }
    put(&b,
        "t.valid_from::text, t.valid_to::text, t.version::text, t.source::text FROM master.%s t "
        "WHERE " ASOF("t", "1") " ORDER BY ",
        m->name);
    keyorder(&b, m, "t");
    return take(&b);
}

static char *build_diff(const mst_master *m)
{
    ss_buf b = {0};

    put(&b,
        "INSERT INTO master.stage_diff (line, op) SELECT s.line, CASE WHEN NOT EXISTS "
        "(SELECT 1 FROM master.%s o WHERE o.superseded_at IS NULL AND ",
        m->name);
    keyeq(&b, m, "o", "s");
    put(&b,
        ") THEN 'added' WHEN EXISTS (SELECT 1 FROM master.%s o WHERE o.superseded_at IS NULL AND ",
        m->name);
    keyeq(&b, m, "o", "s");
    ss_buf_str(
        &b,
        " AND o.valid_from <= s.valid_from AND o.valid_to IS NOT DISTINCT FROM s.valid_to AND (");
    for (int i = m->nkeys; i < m->ncols; i++)
        put(&b, "%so.%s", i > m->nkeys ? ", " : "", m->cols[i].name);
    ss_buf_str(&b, ", NULL) IS NOT DISTINCT FROM (");
    for (int i = m->nkeys; i < m->ncols; i++)
        put(&b, "%ss.%s", i > m->nkeys ? ", " : "", m->cols[i].name);
    put(&b, ", NULL)) THEN 'unchanged' ELSE 'changed' END FROM master.stage_%s s", m->name);
    return take(&b);
}

static char *build_diff_list(const mst_master *m)
{
    ss_buf b = {0};

    ss_buf_str(&b, "SELECT d.op, d.line, ");
    keyjson(&b, m, "s");
    put(&b,
        ", (SELECT to_jsonb(o) - 'created_by' FROM master.%s o WHERE o.superseded_at IS NULL AND ",
        m->name);
    keyeq(&b, m, "o", "s");
    ss_buf_str(&b, " ORDER BY (o.valid_from <= s.valid_from) DESC, o.valid_from DESC LIMIT 1), "
                   "to_jsonb(s) - " STAGE_EXTRA " FROM (SELECT line, op, row_number() OVER "
                   "(PARTITION BY op ORDER BY line) AS rn FROM master.stage_diff) d ");
    put(&b,
        "JOIN master.stage_%s s ON s.line = d.line WHERE d.op <> 'unchanged' AND d.rn <= $1::int "
        "ORDER BY d.line",
        m->name);
    return take(&b);
}

/* The versions that `hit` (superseded rows) keep outside the new period, as new versions. */
static void reinsert(ss_buf *b, const mst_master *m, const char *from_expr, const char *to_expr,
                     const char *where)
{
    put(b, "SELECT ");
    cols(b, m, "");
    put(b, ", %s, %s, source, created_by FROM hit WHERE %s", from_expr, to_expr, where);
}

static char *build_supersede(const mst_master *m)
{
    ss_buf b = {0};

    put(&b,
        "WITH hit AS (UPDATE master.%s o SET superseded_at = now(), superseded_version = "
        "$1::bigint FROM master.stage_%s s JOIN master.stage_diff d ON d.line = s.line WHERE "
        "d.op <> 'unchanged' AND o.superseded_at IS NULL AND ",
        m->name, m->name);
    keyeq(&b, m, "o", "s");
    ss_buf_str(&b, " AND o.valid_from <= coalesce(s.valid_to, 'infinity') AND coalesce(o.valid_to, "
                   "'infinity') >= s.valid_from RETURNING ");
    cols(&b, m, "o");
    put(&b,
        ", o.valid_from, o.valid_to, o.source, o.created_by, s.valid_from AS s_from, s.valid_to "
        "AS s_to) INSERT INTO master.%s (",
        m->name);
    cols(&b, m, "");
    ss_buf_str(&b, ", valid_from, valid_to, source, created_by) ");
    reinsert(&b, m, "valid_from", "s_from - 1", "valid_from < s_from");
    ss_buf_str(&b, " UNION ALL ");
    reinsert(&b, m, "s_to + 1", "valid_to",
             "s_to IS NOT NULL AND coalesce(valid_to, 'infinity') > s_to");
    return take(&b);
}

static char *build_insert(const mst_master *m)
{
    ss_buf b = {0};

    put(&b, "INSERT INTO master.%s (", m->name);
    cols(&b, m, "");
    ss_buf_str(&b, ", valid_from, valid_to, source, created_by) SELECT ");
    cols(&b, m, "s");
    put(&b,
        ", s.valid_from, s.valid_to, $1, $2 FROM master.stage_%s s JOIN master.stage_diff d ON "
        "d.line = s.line WHERE d.op <> 'unchanged' ORDER BY s.line",
        m->name);
    return take(&b);
}

/* Keys of current versions running on or after $1 that the file does not list. */
static char *build_missing(const mst_master *m, bool apply)
{
    ss_buf b = {0};
    const char *own = m->cols[m->own_col].name;

    if (apply)
        put(&b,
            "WITH hit AS (UPDATE master.%s o SET superseded_at = now(), superseded_version = "
            "$3::bigint WHERE ",
            m->name);
    else {
        ss_buf_str(&b, "SELECT ");
        keyjson(&b, m, "o");
        put(&b, ", o.version::text FROM master.%s o WHERE ", m->name);
    }
    put(&b,
        "o.superseded_at IS NULL AND coalesce(o.valid_to, 'infinity') >= $1::date AND ($2::text "
        "IS NULL OR o.%s::text = $2) AND NOT EXISTS (SELECT 1 FROM master.stage_%s s WHERE ",
        own, m->name);
    keyeq(&b, m, "s", "o");
    ss_buf_str(&b, ")");
    if (!apply) {
        ss_buf_str(&b, " ORDER BY ");
        keyorder(&b, m, "o");
        return take(&b);
    }
    ss_buf_str(&b, " RETURNING o.*) ");
    put(&b, "INSERT INTO master.%s (", m->name);
    cols(&b, m, "");
    ss_buf_str(&b, ", valid_from, valid_to, source, created_by) ");
    reinsert(&b, m, "valid_from", "$1::date - 1", "valid_from < $1::date");
    return take(&b);
}

static char *build_retire_key(const mst_master *m)
{
    ss_buf b = {0};

    put(&b,
        "WITH hit AS (UPDATE master.%s o SET superseded_at = now(), superseded_version = "
        "$1::bigint WHERE o.superseded_at IS NULL AND coalesce(o.valid_to, 'infinity') > $2::date "
        "AND ",
        m->name);
    keyparams(&b, m, "o", 3);
    put(&b, " RETURNING o.*) INSERT INTO master.%s (", m->name);
    cols(&b, m, "");
    ss_buf_str(&b, ", valid_from, valid_to, source, created_by) ");
    reinsert(&b, m, "valid_from", "$2::date", "valid_from <= $2::date");
    return take(&b);
}

/* ---- the file ------------------------------------------------------------------------------ */

static char *build_stage(const mst_master *m)
{
    ss_buf b = {0};

    put(&b, "DELETE FROM master.stage_%s", m->name);
    return take(&b);
}

static char *build_copy(const mst_master *m)
{
    ss_buf b = {0};

    put(&b, "COPY master.stage_%s (line, ", m->name);
    cols(&b, m, "");
    ss_buf_str(&b, ", valid_from, valid_to) FROM STDIN");
    return take(&b);
}

static char *build_lock(const mst_master *m)
{
    ss_buf b = {0};

    put(&b, "LOCK TABLE master.%s IN SHARE ROW EXCLUSIVE MODE", m->name);
    return take(&b);
}

static char *build_written(const mst_master *m)
{
    ss_buf b = {0};

    put(&b,
        "SELECT to_jsonb(t) - 'created_by' FROM master.%s t WHERE t.version > $1::bigint AND "
        "t.superseded_at IS NULL ORDER BY t.version",
        m->name);
    return take(&b);
}

static char *build_analyze(const mst_master *m)
{
    ss_buf b = {0};

    put(&b, "ANALYZE master.%s", m->name);
    return take(&b);
}

static char *build_list_only(const mst_master *m)
{
    int n;

    return build_list(m, &n);
}
static char *build_get_now(const mst_master *m)
{
    return build_get(m, false);
}
static char *build_history(const mst_master *m)
{
    return build_get(m, true);
}
static char *build_missing_list(const mst_master *m)
{
    return build_missing(m, false);
}
static char *build_retire(const mst_master *m)
{
    return build_missing(m, true);
}

/* "-- $n key_<col>: <type>" for the keys from $first. */
static void doc_keys(ss_buf *b, const mst_master *m, int first, const char *what)
{
    for (int i = 0; i < m->nkeys; i++)
        put(b, "-- $%d %s%s: %s%s\n", first + i, what, m->cols[i].name, m->cols[i].sqltype,
            *what ? ", the last key of the previous page, or NULL" : "");
}

static void doc_list(ss_buf *b, const mst_master *m)
{
    int p = 2;

    ss_buf_str(b, "-- $1 as_of: date\n");
    for (int i = 0; i < m->ncols; i++, p++)
        put(b, "-- $%d %s: text, a filter, or NULL\n", p, m->cols[i].name);
    doc_keys(b, m, p, "after_");
    put(b, "-- $%d limit: int\n", p + m->nkeys);
}

static void doc_get(ss_buf *b, const mst_master *m)
{
    ss_buf_str(b, "-- $1 as_of: date\n");
    doc_keys(b, m, 2, "");
}

static void doc_history(ss_buf *b, const mst_master *m)
{
    doc_keys(b, m, 1, "");
}

static void doc_retire_key(ss_buf *b, const mst_master *m)
{
    ss_buf_str(b, "-- $1 change: bigint, the write's change number\n"
                  "-- $2 last_day: date, the last day the key is valid\n");
    doc_keys(b, m, 3, "");
}

typedef struct kind {
    const char *name; /* mst_<master>_<name> */
    const char *what; /* the statement's comment */
    char *(*build)(const mst_master *m);
    const char *docs; /* fixed parameter lines, or NULL */
    void (*doc)(ss_buf *b, const mst_master *m);
} kind;

static const kind kinds[] = {
    {"list", "current versions as of a day, filtered, keyset-paged", build_list_only, NULL,
     doc_list},
    {"get", "the version of one key valid on a day", build_get_now, NULL, doc_get},
    {"history", "every version of one key", build_history, NULL, doc_history},
    {"changes", "the change feed: new and superseded versions after a cursor", build_changes,
     "-- $1 since_change: bigint\n-- $2 since_version: bigint\n-- $3 limit: int\n", NULL},
    {"export", "current versions as of a day, as CSV fields", build_export, "-- $1 as_of: date\n",
     NULL},
    {"stage", "empty the stage (its rows are the transaction's own, 005_stage.sql)", build_stage,
     NULL, NULL},
    {"copy", "fill the stage (run with PQexec and COPY data)", build_copy, NULL, NULL},
    {"diff", "the op of every staged line into stage_diff", build_diff, NULL, NULL},
    {"diff_list", "the listed entries of stage_diff, with before and after", build_diff_list,
     "-- $1 limit: int, entries listed per op\n", NULL},
    {"missing", "current keys from a day on that the file does not list", build_missing_list,
     "-- $1 effective: date\n-- $2 owner: text, the owner column's value, or NULL for all\n", NULL},
    {"supersede", "supersede what the staged rows overlap, re-insert the rest", build_supersede,
     "-- $1 change: bigint, the import's change number\n", NULL},
    {"insert", "the staged rows as new versions", build_insert,
     "-- $1 source: text\n-- $2 created_by: text\n", NULL},
    {"retire", "end the keys the file does not list", build_retire,
     "-- $1 effective: date\n-- $2 owner: text, or NULL for all\n"
     "-- $3 change: bigint, the import's change number\n",
     NULL},
    {"retire_key", "end one key", build_retire_key, NULL, doc_retire_key},
    {"lock", "writers of the master one at a time", build_lock, NULL, NULL},
    {"written", "the current versions a write made, newest last", build_written,
     "-- $1 change: bigint\n", NULL},
    {"analyze", "fresh statistics after a large write (apply.c)", build_analyze, NULL, NULL},
};

/* Words that start a line: the clauses a reader looks for. */
static bool clause(const char *w, size_t n, const char *prev, size_t pn)
{
    static const char *const words[] = {"FROM", "WHERE",     "ORDER", "UNION",  "INSERT",
                                        "JOIN", "RETURNING", "LIMIT", "SELECT", NULL};

    if (n == 6 && strncmp(w, "SELECT", 6) == 0 && pn == 3 && strncmp(prev, "ALL", 3) == 0)
        return false;
    if (n == 4 && strncmp(w, "JOIN", 4) == 0 && pn == 4 && strncmp(prev, "LEFT", 4) == 0)
        return false;
    if (n == 4 && strncmp(w, "FROM", 4) == 0 && pn == 6 && strncmp(prev, "DELETE", 6) == 0)
        return false;
    for (int i = 0; words[i] != NULL; i++)
        if (strlen(words[i]) == n && strncmp(w, words[i], n) == 0)
            return true;
    return false;
}

/* The statement, broken before its clauses and at 100 columns, never inside a quoted literal. */
static void wrap(ss_buf *out, const char *sql)
{
    const char *prev = "";
    size_t pn = 0, col = 0;

    for (const char *p = sql; *p;) {
        const char *w = p;
        bool q = false;

        while (*p && (q || *p != ' ')) {
            if (*p == '\'')
                q = !q;
            p++;
        }
        size_t n = (size_t)(p - w);
        if (col > 0 && clause(w, n, prev, pn)) {
            ss_buf_str(out, "\n");
            col = 0;
        } else if (col > 0 && col + 1 + n > 100) {
            ss_buf_str(out, "\n    ");
            col = 4;
        } else if (col > 0) {
            ss_buf_add(out, " ", 1);
            col++;
        }
        ss_buf_add(out, w, n);
        col += n;
        prev = w;
        pn = n;
        while (*p == ' ')
            p++;
    }
}

static int generate(ss_buf *out)
{
    ss_buf_str(out,
               "-- masters.sql - generated by services/master/sqlgen/sqlgen.c from the descriptors "
               "of\n-- masters.c: do not edit (docs/contributing.md §1a). Every master has the "
               "same statements,\n-- mst_<master>_<kind>, over its own table and stage; sql.c "
               "looks them up by name.\n");
    for (mst_master *m = mst_masters; m->name != NULL; m++) {
        for (m->ncols = 0; m->cols[m->ncols].name != NULL; m->ncols++)
            ;
        put(out, "\n-- ---- %s (%s) ----\n", m->name, m->label);
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            char *sql = kinds[k].build(m);

            if (sql == NULL)
                return SS_ERR_NOMEM;
            put(out, "\n-- name: mst_%s_%s\n-- %s\n", m->name, kinds[k].name, kinds[k].what);
            if (kinds[k].docs != NULL)
                ss_buf_str(out, kinds[k].docs);
            if (kinds[k].doc != NULL)
                kinds[k].doc(out, m);
            wrap(out, sql);
            ss_buf_str(out, ";\n");
            free(sql);
        }
    }
    return out->s == NULL ? SS_ERR_NOMEM : 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ss_buf b = {0};
    char tmp[65536];
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        ss_buf_add(&b, tmp, n);
    fclose(f);
    return b.s != NULL ? b.s : strdup("");
}

int main(int argc, char **argv)
{
    ss_buf out = {0};
    char *old = NULL;
    int rc = 0;

    if (generate(&out) != 0) {
        fprintf(stderr, "sqlgen: out of memory\n");
        return 2;
    }
    if (argc == 3 && strcmp(argv[1], "--check") == 0) {
        old = slurp(argv[2]);
        if (old == NULL || strcmp(old, out.s) != 0) {
            fprintf(stderr,
                    "%s is stale: the descriptors of masters.c changed. Regenerate it:\n"
                    "  <build>/services/master/sesshu-master-sqlgen > %s\n",
                    argv[2], argv[2]);
            rc = 1;
        }
    } else if (argc == 1) {
        fputs(out.s, stdout);
    } else {
        fprintf(stderr, "usage: sesshu-master-sqlgen [--check FILE]\n");
        rc = 2;
    }
    free(old);
    free(out.s);
    return rc;
}
