/* import.c - bulk import (H-8-7): CSV in UTF-8 or Shift_JIS (CP932) and JSON; a dry run
 * answers the difference (added, changed, retired) and every bad row with its line number
 * and reason; a commit applies all or nothing; strategies insert-only, update-only, upsert.
 * File layouts: proto-schemas/master-files.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mst.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

enum fmt { FMT_CSV_UTF8 = 1, FMT_CSV_SJIS, FMT_JSON };

/* Content-Type -> format; 0 for anything else. */
static int format_of(const char *ct)
{
    static const char *const sjis[] = {"shift_jis", "shift-jis", "cp932", "windows-31j",
                                       "sjis",      "x-sjis",    NULL};
    const char *cs;

    if (ct == NULL)
        return 0;
    cs = strcasestr(ct, "charset=");
    if (strncasecmp(ct, "application/json", 16) == 0)
        return (cs == NULL || strncasecmp(cs + 8, "utf-8", 5) == 0) ? FMT_JSON : 0;
    if (strncasecmp(ct, "text/csv", 8) != 0)
        return 0;
    if (cs == NULL)
        return FMT_CSV_UTF8;
    cs += 8;
    if (*cs == '"')
        cs++;
    if (strncasecmp(cs, "utf-8", 5) == 0)
        return FMT_CSV_UTF8;
    for (int i = 0; sjis[i] != NULL; i++)
        if (strncasecmp(cs, sjis[i], strlen(sjis[i])) == 0)
            return FMT_CSV_SJIS;
    return 0;
}

static int bool_param(ss_req *r, const char *name, bool def, bool *out)
{
    const char *v = ss_req_query(r, name);

    *out = def;
    if (v == NULL)
        return 0;
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        return ss_req_field_error(r, name, "must be true or false");
    *out = strcmp(v, "true") == 0;
    return 0;
}

static int options(ss_req *r, mst_batch *b)
{
    static const char *const allowed[] = {"strategy",       "dry_run", "retire_missing",
                                          "effective_date", "source",  NULL};
    const char *st = ss_req_query(r, "strategy"), *eff = ss_req_query(r, "effective_date"),
               *src = ss_req_query(r, "source");

    if (mst_check_params(r, b->m, allowed, false) != 0)
        return SS_ERR_VALIDATION;
    b->strategy = st == NULL || strcmp(st, "upsert") == 0 ? MST_UPSERT
                  : strcmp(st, "insert-only") == 0        ? MST_INSERT_ONLY
                  : strcmp(st, "update-only") == 0        ? MST_UPDATE_ONLY
                                                          : 0;
    if (b->strategy == 0)
        ss_req_field_error(r, "strategy", "must be insert-only, update-only or upsert");
    bool_param(r, "dry_run", true, &b->dry_run);
    bool_param(r, "retire_missing", false, &b->retire_missing);
    if (eff != NULL && !ss_date_ok(eff))
        ss_req_field_error(r, "effective_date", "must be a date YYYY-MM-DD");
    else if (eff != NULL)
        snprintf(b->effective, sizeof(b->effective), "%s", eff);
    if (src != NULL &&
        (r->who.org_type != SS_ORG_OPERATOR ||
         (strcmp(src, "ONSHI") != 0 && strcmp(src, "SHUGO") != 0 && strcmp(src, "OPERATOR") != 0)))
        ss_req_field_error(r, "source", "only the operator names a feed: ONSHI, SHUGO or OPERATOR");
    else if (src != NULL)
        b->source = src;
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

/* Header names -> column index (ncols = valid_from, ncols+1 = valid_to, -1 = ignored). */
static int header(ss_req *r, const mst_master *m, char **f, size_t n, int *map)
{
    bool seen[MST_MAX_COLS + 2] = {false};

    if (n > MST_MAX_COLS + 4)
        return ss_req_fail(r, SS_ERR_VALIDATION, "line 1: too many columns");
    for (size_t i = 0; i < n; i++) {
        int k = 0;

        while (k < m->ncols && strcmp(f[i], m->cols[k].name) != 0)
            k++;
        if (k == m->ncols && strcmp(f[i], "valid_to") == 0)
            k++;
        else if (k == m->ncols && strcmp(f[i], "valid_from") != 0)
            k = (strcmp(f[i], "version") == 0 || strcmp(f[i], "source") == 0) ? -1 : -2;
        if (k == -2)
            return ss_req_fail(
                r, SS_ERR_VALIDATION,
                "line 1: unknown column \"%.40s\" (the header names the columns of %s)",
                ss_utf8_valid(f[i], strlen(f[i])) ? f[i] : "?", m->name);
        if (k >= 0 && seen[k])
            return ss_req_fail(r, SS_ERR_VALIDATION, "line 1: column %s appears twice", f[i]);
        if (k >= 0)
            seen[k] = true;
        map[i] = k;
    }
    for (int k = 0; k < m->ncols; k++)
        if (m->cols[k].required && !seen[k])
            return ss_req_fail(r, SS_ERR_VALIDATION, "line 1: the required column %s is missing",
                               m->cols[k].name);
    return 0;
}

static int read_csv(ss_req *r, mst_batch *b, const char *text, size_t len)
{
    int map[MST_MAX_COLS + 4];
    size_t nh = 0, n;
    ss_csv *csv = NULL;
    char **f;
    long line;
    int rc;

    if ((rc = ss_csv_open(&csv, text, len)) != 0)
        return rc;
    rc = ss_csv_next(csv, &f, &nh, &line);
    if (rc == 0)
        rc = ss_req_fail(r, SS_ERR_VALIDATION, "the file is empty: a header line is required");
    else if (rc < 0)
        rc = ss_req_fail(r, SS_ERR_VALIDATION, "line %ld: malformed header", line);
    else
        rc = header(r, b->m, f, nh, map);
    while (rc == 0 && (rc = ss_csv_next(csv, &f, &n, &line)) != 0) {
        const char *vals[MST_MAX_COLS + 2] = {NULL};
        char why[96];

        if (rc == SS_ERR_VALIDATION) {
            mst_batch_error(b, line, NULL, "malformed CSV (an unterminated or stray quote)");
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        if (b->nrows + b->nerrors >= MST_MAX_ROWS) {
            rc = ss_req_fail(r, SS_ERR_TOO_LARGE, "more than %d rows", MST_MAX_ROWS);
            break;
        }
        if (n != nh) {
            snprintf(why, sizeof(why), "has %zu fields, the header %zu", n, nh);
            mst_batch_error(b, line, NULL, why);
            rc = 0;
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (map[i] >= 0)
                vals[map[i]] = f[i];
        if ((rc = mst_stage_row(b, vals, line)) == SS_ERR_FORBIDDEN)
            rc = ss_req_fail(r, rc, "line %ld: the row belongs to another organisation", line);
    }
    ss_csv_close(csv);
    return rc;
}

static int read_json(ss_req *r, mst_batch *b, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *rows, *row;
    char *store = NULL;
    size_t i;
    int rc = 0;

    if (doc == NULL)
        return ss_req_fail(r, SS_ERR_INVALID_JSON, "line %d column %d: %s", jerr.line, jerr.column,
                           jerr.text);
    rows = json_object_get(doc, "rows");
    if (!json_is_object(doc) || !json_is_array(rows) || json_object_size(doc) != 1)
        rc = ss_req_fail(r, SS_ERR_VALIDATION,
                         "the body must be {\"rows\": [ {column: value, ...}, ... ]}");
    else if (json_array_size(rows) > MST_MAX_ROWS)
        rc = ss_req_fail(r, SS_ERR_TOO_LARGE, "more than %d rows", MST_MAX_ROWS);
    else if ((store = malloc(65536)) == NULL)
        rc = SS_ERR_NOMEM;
    json_array_foreach (rows, i, row) {
        const char *vals[MST_MAX_COLS + 2];

        if (rc != 0)
            break;
        if (mst_json_texts(b, row, (long)i + 1, vals, store, 65536) != 0)
            continue;
        if ((rc = mst_stage_row(b, vals, (long)i + 1)) == SS_ERR_FORBIDDEN)
            rc = ss_req_fail(r, rc, "row %zu: the row belongs to another organisation", i + 1);
    }
    free(store);
    json_decref(doc);
    return rc;
}

/* The body as UTF-8 text (*owned set when converted). */
static int decode(ss_req *r, int fmt, const char *data, size_t len, const char **text, size_t *tlen,
                  char **owned)
{
    size_t bad = 0;
    int rc;

    *owned = NULL;
    *text = data;
    *tlen = len;
    if (fmt == FMT_CSV_SJIS) {
        rc = ss_iconv("CP932", "UTF-8", data, len, owned, tlen, &bad);
        if (rc == SS_ERR_VALIDATION)
            return ss_req_fail(r, rc, "the file is not valid Shift_JIS (CP932) at byte %zu", bad);
        *text = *owned;
        return rc;
    }
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) /* a BOM */
        *text += 3, *tlen -= 3;
    if (!ss_utf8_valid(*text, *tlen))
        return ss_req_fail(
            r, SS_ERR_VALIDATION,
            "the file is not valid UTF-8 (a Shift_JIS file needs charset=Shift_JIS)");
    return 0;
}

static int reply(ss_req *r, mst_batch *b, json_t *res)
{
    size_t i;
    json_t *e;

    if (b->dry_run || b->nerrors == 0)
        return ss_reply_json(r, 200, res);
    json_array_foreach (b->errors, i, e) {
        char field[96];
        const char *f = json_string_value(json_object_get(e, "field"));

        snprintf(field, sizeof(field), "line %lld%s%s",
                 (long long)json_integer_value(json_object_get(e, "line")), f ? ": " : "",
                 f ? f : "");
        ss_req_field_error(r, field, json_string_value(json_object_get(e, "reason")));
    }
    return ss_req_fail(r, SS_ERR_VALIDATION, "%ld bad row(s): nothing was imported", b->nerrors);
}

int mst_h_import(ss_req *r)
{
    const char *data = NULL, *text = NULL;
    size_t len = 0, tlen = 0;
    char *owned = NULL;
    json_t *res = NULL;
    mst_batch b;
    mst_master *m;
    int rc = 0, fmt;

    if ((m = mst_req_master(r, &rc)) == NULL)
        return rc;
    memset(&b, 0, sizeof(b));
    b.m = m;
    b.who = &r->who;
    b.source = mst_source_of(&r->who);
    b.created_by = r->who.login_id[0] ? r->who.login_id : r->who.sub;
    b.owner = mst_owner_of(m, &r->who);
    mst_today(b.effective);
    if ((rc = ss_req_raw_body(r, &data, &len)) != 0)
        goto out;
    if (!mst_may_edit(m, &r->who)) {
        rc = ss_req_fail(r, SS_ERR_FORBIDDEN, "your organisation may not edit the master %s",
                         m->name);
        goto out;
    }
    if ((rc = options(r, &b)) != 0)
        goto out;
    if ((fmt = format_of(ss_req_header(r, "Content-Type"))) == 0) {
        rc = ss_req_fail(r, SS_ERR_MEDIA_TYPE,
                         "send text/csv (charset=UTF-8 or Shift_JIS) or application/json");
        goto out;
    }
    if (len == 0) {
        rc = ss_req_fail(r, SS_ERR_VALIDATION, "the file is empty");
        goto out;
    }
    if ((rc = decode(r, fmt, data, len, &text, &tlen, &owned)) != 0 ||
        (rc = fmt == FMT_JSON ? read_json(r, &b, text, tlen) : read_csv(r, &b, text, tlen)) != 0 ||
        (rc = mst_apply(r, &b, &res)) != 0)
        goto out;
    rc = reply(r, &b, res);
out:
    free(owned);
    json_decref(res);
    mst_batch_free(&b);
    return rc;
}
