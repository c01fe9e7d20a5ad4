/* stage.c - one row (from CSV, JSON or a single write) checked and turned into a COPY line:
 * types and formats, cross-column rules, the period, duplicate keys, and the caller's right to
 * edit the row. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

static unsigned long hash(const char *s)
{
    unsigned long h = 1469598103934665603ul;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ul;
    return h;
}

/* 0 and *first = 0 when new; *first = the earlier line for a duplicate; SS_ERR_NOMEM. */
static int key_seen(mst_batch *b, const char *key, long line, long *first)
{
    size_t i;

    *first = 0;
    if (b->kn * 2 >= b->kcap) {
        size_t cap = b->kcap ? b->kcap * 2 : 1024;
        char **keys = calloc(cap, sizeof(*keys));
        long *lines = calloc(cap, sizeof(*lines));

        if (keys == NULL || lines == NULL) {
            free(keys), free(lines);
            return SS_ERR_NOMEM;
        }
        for (size_t k = 0; k < b->kcap; k++) {
            if (b->keys[k] == NULL)
                continue;
            for (i = hash(b->keys[k]) % cap; keys[i] != NULL; i = (i + 1) % cap)
                ;
            keys[i] = b->keys[k];
            lines[i] = b->key_lines[k];
        }
        free(b->keys), free(b->key_lines);
        b->keys = keys, b->key_lines = lines, b->kcap = cap;
    }
    for (i = hash(key) % b->kcap; b->keys[i] != NULL; i = (i + 1) % b->kcap) {
        if (strcmp(b->keys[i], key) == 0) {
            *first = b->key_lines[i];
            return 0;
        }
    }
    if ((b->keys[i] = strdup(key)) == NULL)
        return SS_ERR_NOMEM;
    b->key_lines[i] = line;
    b->kn++;
    return 0;
}

static bool empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* The period: valid_from (default the effective date), valid_to >= valid_from. */
static int period(mst_batch *b, const char *from, const char *to, long line, ss_buf *copy)
{
    if (empty(from))
        from = b->effective;
    if (!ss_date_ok(from)) {
        mst_batch_error(b, line, "valid_from", "must be a date YYYY-MM-DD");
        return 1;
    }
    if (!empty(to) && (!ss_date_ok(to) || strcmp(to, from) < 0)) {
        mst_batch_error(b, line, "valid_to", "must be a date YYYY-MM-DD not before valid_from");
        return 1;
    }
    ss_buf_str(copy, "\t");
    ss_buf_str(copy, from);
    ss_buf_str(copy, "\t");
    return ss_buf_str(copy, empty(to) ? "\\N" : to) == 0 ? 0 : SS_ERR_NOMEM;
}

static int check_key(mst_batch *b, const char *const *vals, long line)
{
    char key[256] = "", why[96];
    long first = 0;
    int rc;

    for (int i = 0; i < b->m->nkeys; i++)
        snprintf(key + strlen(key), sizeof(key) - strlen(key), "%s%s", i ? "~" : "", vals[i]);
    if ((rc = key_seen(b, key, line, &first)) != 0)
        return rc;
    if (first == 0)
        return 0;
    snprintf(why, sizeof(why), "duplicate key (first on line %ld)", first);
    mst_batch_error(b, line, b->m->cols[0].name, why);
    return 1;
}

const char mst_bad[] = "";

int mst_stage_row(mst_batch *b, const char *const *vals, long line)
{
    const mst_master *m = b->m;
    const char *texts[MST_MAX_COLS];
    size_t mark = b->copy.len;
    char num[24];
    int bad = 0, rc;

    if (b->poison) {
        b->poison = false;
        bad++;
    }
    /* Another organisation's row is refused before anything else is said about it. */
    if (b->who != NULL && vals[m->own_col] != NULL && vals[m->own_col][0] != '\0' &&
        mst_row_owner_ok(m, b->who, vals[m->own_col]) != NULL)
        return SS_ERR_FORBIDDEN;
    snprintf(num, sizeof(num), "%ld", line);
    if (ss_buf_str(&b->copy, num) != 0)
        return SS_ERR_NOMEM;
    for (int i = 0; i < m->ncols; i++) {
        const char *why;

        texts[i] = vals[i] ? vals[i] : "";
        ss_buf_str(&b->copy, "\t");
        if (vals[i] == mst_bad) {
            bad++;
        } else if ((why = mst_value_copy(&m->cols[i], vals[i], &b->copy)) != NULL) {
            mst_batch_error(b, line, m->cols[i].name, why);
            bad++;
        }
    }
    if (bad == 0 && m->row_check != NULL) {
        const char *why = m->row_check(texts);

        if (why != NULL) {
            mst_batch_error(b, line, NULL, why);
            bad++;
        }
    }
    if (bad == 0 && b->who != NULL && mst_row_owner_ok(m, b->who, vals[m->own_col]) != NULL) {
        b->copy.len = mark;
        b->copy.s[mark] = '\0';
        return SS_ERR_FORBIDDEN;
    }
    if (bad == 0 && (rc = period(b, vals[m->ncols], vals[m->ncols + 1], line, &b->copy)) != 0)
        bad = rc;
    if (bad == 0 && (rc = check_key(b, vals, line)) != 0)
        bad = rc;
    if (bad < 0)
        return bad;
    if (bad > 0 || ss_buf_str(&b->copy, "\n") != 0) {
        b->copy.len = mark; /* drop the partial line */
        if (b->copy.s != NULL)
            b->copy.s[mark] = '\0';
        return bad > 0 ? 0 : SS_ERR_NOMEM;
    }
    b->nrows++;
    return 0;
}

/* A JSON scalar (or array of strings) as the text a CSV field would hold. */
static const char *json_text(const mst_col *c, const json_t *v, char *out, size_t n)
{
    size_t i;
    json_t *e;

    if (json_is_null(v))
        return (out[0] = '\0', NULL);
    if (c->type == MST_TEXT_ARRAY) {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return "must be an array of codes";
        out[0] = '\0';
        json_array_foreach (v, i, e) {
            const char *s = json_string_value(e);
            if (s == NULL || strchr(s, '|') != NULL || strlen(out) + strlen(s) + 2 > n)
                return "must be an array of codes";
            snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "|" : "", s);
        }
        return NULL;
    }
    if (c->type == MST_INT && json_is_integer(v))
        return (snprintf(out, n, "%lld", (long long)json_integer_value(v)), NULL);
    if (c->type == MST_NUMERIC && json_is_number(v))
        return (snprintf(out, n, "%.2f", json_number_value(v)), NULL);
    if (c->type == MST_BOOL && json_is_boolean(v))
        return (snprintf(out, n, "%s", json_is_true(v) ? "true" : "false"), NULL);
    if (json_is_string(v) && c->type != MST_INT && c->type != MST_BOOL) {
        if (json_string_length(v) >= n || json_string_length(v) == 0)
            return json_string_length(v) == 0 ? "must not be empty" : "is too long";
        return (snprintf(out, n, "%s", json_string_value(v)), NULL);
    }
    return "has the wrong type";
}

int mst_json_texts(mst_batch *b, const json_t *row, long line, const char **vals, char *store,
                   size_t bufsz)
{
    static const mst_col period_col = {"valid", MST_DATE, "date", false, MST_C_NONE, 0, 0, NULL};
    const mst_master *m = b->m;
    const char *name;
    json_t *v;
    size_t used = 0;

    for (int i = 0; i < m->ncols + 2; i++)
        vals[i] = NULL;
    if (!json_is_object(row)) {
        mst_batch_error(b, line, NULL, "a row must be a JSON object");
        return 1;
    }
    json_object_foreach ((json_t *)(uintptr_t)row, name, v) {
        int i = 0;
        const char *why;

        while (i < m->ncols && strcmp(m->cols[i].name, name) != 0)
            i++;
        if (i == m->ncols && strcmp(name, "valid_from") != 0 && strcmp(name, "valid_to") != 0) {
            if (strcmp(name, "version") != 0 && strcmp(name, "source") != 0) {
                mst_batch_error(b, line, name, "is not a column of this master");
                b->poison = true;
            }
            continue;
        }
        if (i == m->ncols)
            i += strcmp(name, "valid_to") == 0;
        if (bufsz - used < 64) {
            mst_batch_error(b, line, NULL, "the row is too long");
            return 1;
        }
        why = json_text(i < m->ncols ? &m->cols[i] : &period_col, v, store + used,
                        bufsz - used > 4096 ? 4096 : bufsz - used);
        if (why != NULL) {
            mst_batch_error(b, line, name, why);
            vals[i] = mst_bad;
            b->poison = true;
            continue;
        }
        vals[i] = store + used;
        used += strlen(store + used) + 1;
    }
    return 0;
}
