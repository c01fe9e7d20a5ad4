/* logs_query.c - GET /api/v1/access-logs: the access log, filtered, newest
 * first, as JSON pages or as a CSV export.
 *
 * The statements are in sql/logs.sql, every filter a parameter (NULL when
 * not asked for), one statement for each filter that can lead the plan. Pages are keyset-paginated
 * on chain_pos (the cursor is [last chain_pos]). Municipality staff are restricted to rows whose
 * actor is of their municipality or whose subject belongs to it; national organisations
 * (国保中央会, operator) see everything. The CSV export is read in chunks of AUD_CSV_CHUNK rows
 * into a buffer capped at AUD_CSV_MAX_BYTES; when rows remain, X-Next-Cursor says where to go on.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aud.h"
#include "sesshu/crypto.h"
#include "sesshu/csv.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define AUD_PAGE_DEFAULT    50
#define AUD_CSV_MAX_ROWS    100000
#define AUD_CSV_CHUNK       1000
#define AUD_CSV_MAX_BYTES   (32u * 1024u * 1024u)
#define AUD_TEXT_FILTER_MAX 256 /* characters; longer values never reach the log */
#define AUD_Q_PARAMS        13
#define AUD_POS_MAX         "9223372036854775807"

static const char *const aud_query_params[] = {
    "from",   "to",      "actor",  "organization_id", "resource_type", "resource_id", "person_id",
    "status", "outcome", "format", "limit",           "cursor",        NULL,
};

/* Column order of the statements of sql/logs.sql; the names are the JSON members and the CSV
 * header. `num` columns are integers in JSON and never formula-escaped. */
static const struct {
    const char *name;
    bool num;
} aud_cols[] = {
    {"seq", true},
    {"chain_pos", true},
    {"ts", false},
    {"request_id", false},
    {"service", false},
    {"actor_kind", false},
    {"actor_id", false},
    {"actor_login", false},
    {"organization_id", false},
    {"organization_type", false},
    {"municipality_code", false},
    {"role", false},
    {"method", false},
    {"route", false},
    {"path", false},
    {"resource_type", false},
    {"resource_id", false},
    {"person_id", false},
    {"subject_organization_id", false},
    {"subject_municipality_code", false},
    {"status", true},
    {"client_ip", false},
    {"duration_us", true},
    {"hash", false},
};
#define AUD_NCOLS         ((int)(sizeof(aud_cols) / sizeof(aud_cols[0])))
#define AUD_COL_CHAIN_POS 1

typedef struct aud_filter {
    const char *from, *to, *actor, *org, *res_type, *res_id, *person, *status;
    int outcome;          /* 0 any, 1 success, 2 failure */
    const char *muni;     /* tenant restriction, or NULL */
    const char *muni_org; /* the municipality's organisation id (resources of its own users) */
    bool csv;
    int limit;      /* rows wanted */
    char after[24]; /* keyset: chain_pos below which to read, decimal */
} aud_filter;

/* A statement of sql/logs.sql and its parameters $1..$13 (a filter not asked for is NULL). */
typedef struct aud_query {
    const char *sql;
    const char *params[AUD_Q_PARAMS];
    char outcome[2];
} aud_query;

/* The statement led by the most selective filter asked for (its index), then the rest. */
static void q_build(aud_query *q, const aud_filter *f, const char *after_pos, const char *limit)
{
    const char *p[AUD_Q_PARAMS] = {f->from,     f->to,     f->actor,  f->org,     f->res_type,
                                   f->res_id,   f->person, f->status, q->outcome, f->muni,
                                   f->muni_org, after_pos, limit};

    q->outcome[0] = (char)('0' + f->outcome);
    q->outcome[1] = '\0';
    memcpy(q->params, p, sizeof(p));
    q->sql = f->person != NULL                          ? sql_aud_log_page_person
             : f->res_type != NULL && f->res_id != NULL ? sql_aud_log_page_resource
             : f->actor != NULL                         ? sql_aud_log_page_actor
             : f->org != NULL                           ? sql_aud_log_page_org
             : f->outcome == 2                          ? sql_aud_log_page_failures
                                                        : sql_aud_log_page;
}

/* ---- parameters ----------------------------------------------------------- */

/* RFC 3339 to microseconds since the epoch (for from <= to only; the
 * database parses the value itself). */
static bool ts_micros(const char *s, long long *out)
{
    struct tm tm = {0};
    int n = 0, oh = 0, om = 0;
    long long frac = 0, scale = 1000000;
    const char *p;

    if (!ss_timestamp_ok(s) ||
        sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return false;
    p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (scale > 1)
                frac = frac * 10 + (*p - '0'), scale /= 10;
    frac *= scale;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 && *p == '-')
        oh = -oh, om = -om;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = ((long long)timegm(&tm) - (oh * 3600LL + om * 60LL)) * 1000000LL + frac;
    return true;
}

/* A text filter: at most AUD_TEXT_FILTER_MAX characters of valid UTF-8
 * without control characters. */
static const char *text_param(ss_req *r, const char *name)
{
    const char *v = ss_req_query(r, name);
    size_t n;

    if (v == NULL)
        return NULL;
    n = strlen(v);
    if (!ss_utf8_valid(v, n) || ss_utf8_len(v) > AUD_TEXT_FILTER_MAX) {
        ss_req_field_error(r, name, "must be UTF-8 text of at most 256 characters");
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            ss_req_field_error(r, name, "must not contain control characters");
            return NULL;
        }
    }
    return v;
}

static void parse_time_range(ss_req *r, aud_filter *f)
{
    long long from_us = 0, to_us = 0;
    bool from_ok = false, to_ok = false;

    f->from = ss_req_query(r, "from");
    f->to = ss_req_query(r, "to");
    if (f->from != NULL && !(from_ok = ts_micros(f->from, &from_us)))
        ss_req_field_error(r, "from", "must be an RFC 3339 timestamp with offset");
    if (f->to != NULL && !(to_ok = ts_micros(f->to, &to_us)))
        ss_req_field_error(r, "to", "must be an RFC 3339 timestamp with offset");
    if (from_ok && to_ok && from_us > to_us)
        ss_req_field_error(r, "to", "must not be before from");
}

static void parse_outcome(ss_req *r, aud_filter *f)
{
    const char *st = ss_req_query(r, "status");
    const char *oc = ss_req_query(r, "outcome");
    long long v;

    if (st != NULL && aud_parse_ll(st, 100, 599, &v) != 0)
        ss_req_field_error(r, "status", "must be an HTTP status from 100 to 599");
    else
        f->status = st;
    if (oc == NULL)
        return;
    if (strcmp(oc, "success") == 0)
        f->outcome = 1;
    else if (strcmp(oc, "failure") == 0)
        f->outcome = 2;
    else
        ss_req_field_error(r, "outcome", "must be success or failure");
}

/* Who may see what: national organisations everything, municipality staff
 * their own municipality's rows, anyone else nothing (the route permission
 * already keeps them out; this is the second lock). */
static int tenant_scope(const ss_req *r, aud_filter *f)
{
    const ss_principal *w = &r->who;

    f->muni = NULL;
    if (ss_authz_is_national(w))
        return 0;
    if (w->org_type == SS_ORG_MUNICIPALITY && w->muni_code[0] != '\0') {
        f->muni = w->muni_code;
        f->muni_org = w->org_id;
        return 0;
    }
    return SS_ERR_FORBIDDEN;
}

/* Cursor [chain_pos] to the exclusive upper bound, as decimal text. */
static int cursor_pos(ss_req *r, const json_t *cursor, char *buf, size_t size)
{
    const json_t *v = json_array_get(cursor, 0);

    snprintf(buf, size, "%s", AUD_POS_MAX);
    if (cursor == NULL)
        return 0;
    if (json_array_size(cursor) != 1 || !json_is_integer(v) || json_integer_value(v) < 1)
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    return 0;
}

/* The CSV cursor: same encoding as ss_page_cursor, but the CSV limit goes
 * past SS_PAGE_MAX, so it is read here rather than by ss_page_params. */
static int csv_page_params(ss_req *r, int *limit, json_t **cursor)
{
    const char *l = ss_req_query(r, "limit");
    const char *c = ss_req_query(r, "cursor");
    long long v = AUD_CSV_MAX_ROWS;
    unsigned char *raw = NULL;
    size_t n = 0;
    int rc = 0;

    *cursor = NULL;
    if (l != NULL && aud_parse_ll(l, 1, AUD_CSV_MAX_ROWS, &v) != 0)
        rc = ss_req_field_error(r, "limit", "must be an integer from 1 to 100000 for CSV");
    *limit = (int)v;
    if (c == NULL)
        return rc;
    raw = strlen(c) <= 1024 ? ss_b64url_decode(c, &n) : NULL;
    *cursor = raw != NULL ? json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(raw);
    if (!json_is_array(*cursor)) {
        json_decref(*cursor);
        *cursor = NULL;
        rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    }
    return rc;
}

static bool want_csv(const ss_req *r)
{
    const char *fmt = ss_req_query(r, "format");
    const char *accept = ss_req_header(r, "Accept");

    if (fmt != NULL)
        return strcmp(fmt, "csv") == 0;
    return accept != NULL && strcasestr(accept, "text/csv") != NULL;
}

/* Every filter; each bad one is named in r->errors. */
static int parse_filters(ss_req *r, aud_filter *f)
{
    const char *fmt = ss_req_query(r, "format");
    json_t *cursor = NULL;

    memset(f, 0, sizeof(*f));
    aud_check_params(r, aud_query_params);
    parse_time_range(r, f);
    f->actor = text_param(r, "actor");
    f->org = text_param(r, "organization_id");
    f->res_type = text_param(r, "resource_type");
    f->res_id = text_param(r, "resource_id");
    f->person = text_param(r, "person_id");
    parse_outcome(r, f);
    if (fmt != NULL && strcmp(fmt, "json") != 0 && strcmp(fmt, "csv") != 0)
        ss_req_field_error(r, "format", "must be json or csv");
    f->csv = want_csv(r);
    if (f->csv)
        csv_page_params(r, &f->limit, &cursor);
    else
        ss_page_params(r, AUD_PAGE_DEFAULT, SS_PAGE_MAX, &f->limit, &cursor);
    cursor_pos(r, cursor, f->after, sizeof(f->after));
    json_decref(cursor);
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *row_object(const PGresult *res, int row)
{
    json_t *o = json_object();

    for (int c = 0; o != NULL && c < AUD_NCOLS; c++) {
        const char *v = ss_db_val(res, row, c);
        json_t *jv = v == NULL         ? json_null()
                     : aud_cols[c].num ? json_integer(strtoll(v, NULL, 10))
                                       : json_string(v);

        if (json_object_set_new(o, aud_cols[c].name, jv) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int reply_page(ss_req *r, const aud_filter *f)
{
    json_t *items = NULL, *key = NULL;
    PGresult *res = NULL;
    aud_query q;
    char lim[16];
    char *next = NULL;
    int limit = f->limit, n, rc;

    snprintf(lim, sizeof(lim), "%d", limit + 1); /* one more tells whether a next page exists */
    q_build(&q, f, f->after, lim);
    rc = ss_db_query(ss_server_db(), q.sql, AUD_Q_PARAMS, q.params, &res);
    if (rc != 0)
        goto out;
    n = PQntuples(res);
    if ((items = json_array()) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < n && i < limit; i++)
        if (json_array_append_new(items, row_object(res, i)) != 0) {
            rc = SS_ERR_NOMEM;
            goto out;
        }
    if (n > limit) {
        key = json_pack(
            "[I]", (json_int_t)strtoll(ss_db_val(res, limit - 1, AUD_COL_CHAIN_POS), NULL, 10));
        if (key == NULL || (next = ss_page_cursor(key)) == NULL) {
            rc = SS_ERR_NOMEM;
            goto out;
        }
    }
    rc = ss_reply_json_new(r, 200, json_pack("{s:O,s:s?}", "items", items, "next_cursor", next));
out:
    json_decref(items);
    json_decref(key);
    free(next);
    PQclear(res);
    return rc;
}

/* ---- CSV ------------------------------------------------------------------- */

/* The library's one CSV writer (ss_csv_field: quoting, the formula guard); the buffer stops at
 * AUD_CSV_MAX_BYTES with SS_ERR_TOO_LARGE, and the caller goes on with a cursor. */

/* One CSV record; on failure the buffer is cut back to where it began. */
static int csv_record(ss_buf *b, const PGresult *res, int row)
{
    size_t mark = b->len;
    int rc = 0;

    for (int c = 0; rc == 0 && c < AUD_NCOLS; c++) {
        if (c > 0)
            rc = ss_buf_add(b, ",", 1);
        if (rc == 0 && (res == NULL || !PQgetisnull(res, row, c)))
            rc = res != NULL ? ss_csv_field(b, ss_db_val(res, row, c), aud_cols[c].num)
                             : ss_csv_field(b, aud_cols[c].name, true);
    }
    if (rc == 0)
        rc = ss_buf_add(b, "\r\n", 2);
    if (rc != 0 && b->s != NULL) {
        b->len = mark;
        b->s[mark] = '\0';
    }
    return rc;
}

/* Fill b with up to `limit` rows below chain_pos `after`, which is moved to
 * the last row written; *more tells whether rows remain after it. */
static int csv_fill(const aud_filter *f, ss_buf *b, int limit, char *after, size_t after_size,
                    bool *more)
{
    int done = 0, rc = 0;

    *more = false;
    while (done < limit) {
        PGresult *res = NULL;
        aud_query q;
        char lim[16];
        int want = limit - done < AUD_CSV_CHUNK ? limit - done : AUD_CSV_CHUNK;
        int n;

        snprintf(lim, sizeof(lim), "%d", want + 1); /* the extra row tells whether more exist */
        q_build(&q, f, after, lim);
        rc = ss_db_query(ss_server_db(), q.sql, AUD_Q_PARAMS, q.params, &res);
        if (rc != 0)
            return rc;
        n = PQntuples(res);
        for (int i = 0; i < n && i < want && rc == 0; i++) {
            if ((rc = csv_record(b, res, i)) == 0) {
                snprintf(after, after_size, "%s", ss_db_val(res, i, AUD_COL_CHAIN_POS));
                done++;
            }
        }
        PQclear(res);
        if (rc == SS_ERR_TOO_LARGE) {
            *more = true; /* the buffer is full: the caller goes on with the cursor */
            return 0;
        }
        if (rc != 0 || n <= want)
            return rc; /* failed, or the log is exhausted */
        *more = done >= limit;
    }
    return 0;
}

static int reply_csv(ss_req *r, const aud_filter *f)
{
    json_t *key = NULL;
    ss_buf b = {.max = AUD_CSV_MAX_BYTES};
    char after[24];
    char *next = NULL;
    bool more = false;
    int rc;

    snprintf(after, sizeof(after), "%s", f->after);
    if ((rc = csv_record(&b, NULL, 0)) != 0 ||
        (rc = csv_fill(f, &b, f->limit, after, sizeof(after), &more)) != 0)
        goto out;
    if (more) {
        key = json_pack("[I]", (json_int_t)strtoll(after, NULL, 10));
        if (key == NULL || (next = ss_page_cursor(key)) == NULL) {
            rc = SS_ERR_NOMEM;
            goto out;
        }
        ss_reply_header(r, "X-Next-Cursor", next);
    }
    ss_reply_header(r, "Content-Disposition", "attachment; filename=\"access-logs.csv\"");
    rc = ss_reply_raw(r, 200, "text/csv; charset=utf-8; header=present", b.s, b.len);
out:
    json_decref(key);
    free(next);
    ss_buf_free(&b);
    return rc;
}

/* ---- the handler ------------------------------------------------------------ */

int aud_h_query(ss_req *r)
{
    aud_filter f;
    int rc;

    if ((rc = parse_filters(r, &f)) != 0 || (rc = tenant_scope(r, &f)) != 0)
        return rc;
    /* A search by person is itself an access to that person's data. */
    if (f.person != NULL)
        snprintf(r->person_id, sizeof(r->person_id), "%s", f.person);
    return f.csv ? reply_csv(r, &f) : reply_page(r, &f);
}
