/* sql.c - every statement of every master, built once at start-up from the descriptors.
 *
 * Only identifiers come from here, and only from the compile-time tables of masters.c;
 * every value is a $n parameter or travels through COPY. The strings are stable, so the
 * pool's per-connection prepared statements are reused. */
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

static int build_one(mst_master *m)
{
    mst_sql *q = calloc(1, sizeof(*q));
    ss_buf b = {0};

    if (q == NULL)
        return SS_ERR_NOMEM;
    m->sql = q;
    for (m->ncols = 0; m->cols[m->ncols].name != NULL; m->ncols++)
        ;
    q->list = build_list(m, &q->list_nparams);
    q->get = build_get(m, false);
    q->history = build_get(m, true);
    q->changes = build_changes(m);
    q->export_ = build_export(m);
    put(&b, "DELETE FROM master.stage_%s", m->name);
    q->stage = take(&b);
    put(&b, "COPY master.stage_%s (line, ", m->name);
    cols(&b, m, "");
    ss_buf_str(&b, ", valid_from, valid_to) FROM STDIN");
    q->copy = take(&b);
    q->diff = build_diff(m);
    q->diff_list = build_diff_list(m);
    q->missing = build_missing(m, false);
    q->retire = build_missing(m, true);
    q->supersede = build_supersede(m);
    q->insert = build_insert(m);
    q->retire_key = build_retire_key(m);
    put(&b, "LOCK TABLE master.%s IN SHARE ROW EXCLUSIVE MODE", m->name);
    q->lock = take(&b);
    put(&b,
        "SELECT to_jsonb(t) - 'created_by' FROM master.%s t WHERE t.version > $1::bigint AND "
        "t.superseded_at IS NULL ORDER BY t.version",
        m->name);
    q->written = take(&b);
    put(&b, "ANALYZE master.%s", m->name);
    q->analyze = take(&b);
    {
        char *all[] = {q->list,   q->get,        q->history,   q->changes, q->export_,   q->stage,
                       q->copy,   q->diff,       q->diff_list, q->missing, q->supersede, q->insert,
                       q->retire, q->retire_key, q->lock,      q->written, q->analyze};

        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
            if (all[i] == NULL)
                return SS_ERR_NOMEM;
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
        mst_sql *q = m->sql;

        if (q == NULL)
            continue;
        free(q->list), free(q->get), free(q->history), free(q->changes), free(q->export_);
        free(q->stage), free(q->copy), free(q->diff), free(q->diff_list), free(q->missing);
        free(q->supersede), free(q->insert), free(q->retire), free(q->retire_key), free(q->lock);
        free(q->written), free(q->analyze);
        free(q);
        m->sql = NULL;
    }
}
