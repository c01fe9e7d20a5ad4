/* mch_bulk.c - bulk maternal/child health records as NDJSON (H-7-1): one record object a
 * line, as in the single write, from a municipality's health-management system or staff.
 *
 * ?mode=all_or_nothing (default): every line is stored, 201, or none, 422 with every bad
 * line's errors named "lines[N].<field>" (N counts from 1). ?mode=partial: the good lines
 * are stored and the answer (200) lists the stored ids and each bad line's errors. Blank
 * lines are skipped. With Idempotency-Key a retry replays the first answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mch.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define BULK_MAX_LINES      5000
#define BULK_MAX_LINE_BYTES 65536
#define BULK_MAX_ERRORS     1000

typedef struct bulk {
    bool partial;
    const char *data; /* the body (borrowed from the request) */
    size_t len;
    int received, accepted;
    json_t *ids;    /* [{line, id}] */
    json_t *failed; /* [{line, errors: [...]}] */
} bulk;

static bool ndjson_type(const char *ct)
{
    size_t n = strlen("application/x-ndjson");

    if (ct == NULL)
        return false;
    if (strncasecmp(ct, "application/x-ndjson", n) != 0 &&
        strncasecmp(ct, "application/ndjson", n -= 2) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';';
}

/* The errors r->errors gained since `before`, moved out into a new array. */
static json_t *take_errors(ss_req *r, size_t before)
{
    json_t *out = json_array();

    while (out != NULL && json_array_size(r->errors) > before) {
        json_array_append(out, json_array_get(r->errors, before));
        json_array_remove(r->errors, before);
    }
    return out;
}

/* One line: parse, check, insert. A bad line's errors go to b->failed (never r->errors). */
static int one_line(ss_req *r, ss_dbc *c, bulk *b, const char *s, size_t len, int line,
                    const char *muni)
{
    size_t before = json_array_size(r->errors);
    PGresult *res = NULL;
    json_t *obj = NULL;
    int rc = 0;

    b->received++;
    if (len <= BULK_MAX_LINE_BYTES && ss_utf8_valid(s, len))
        obj = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL); /* json_is_* evaluates twice */
    if (len > BULK_MAX_LINE_BYTES || !ss_utf8_valid(s, len))
        ss_req_field_error(r, "(line)", "is longer than 65536 bytes or not valid UTF-8");
    else if (!json_is_object(obj))
        ss_req_field_error(r, "(line)", "is not a JSON object");
    else if (rec_mch_check(r, obj) == 0) {
        rc = rec_mch_insert(r, c, obj, muni, &res);
        if (rc == SS_ERR_CONFLICT)
            rc = ss_req_field_error(r, "external_id", "is already stored for your municipality");
    }
    if (rc == 0 && res != NULL && PQntuples(res) == 1) {
        b->accepted++;
        json_array_append_new(b->ids,
                              json_pack("{s:i,s:s}", "line", line, "id", ss_db_val(res, 0, 1)));
    } else if (rc == 0 || rc == SS_ERR_VALIDATION) {
        json_t *errs = take_errors(r, before);

        if (json_array_size(b->failed) < BULK_MAX_ERRORS)
            json_array_append_new(b->failed, json_pack("{s:i,s:o}", "line", line, "errors", errs));
        else
            json_decref(errs);
        rc = 0;
    }
    json_decref(obj);
    PQclear(res);
    return rc;
}

static int all_lines(ss_req *r, ss_dbc *c, bulk *b, const char *muni)
{
    const char *p = b->data, *end = b->data != NULL ? b->data + b->len : NULL;
    int line = 0, rc = 0;

    while (p != NULL && p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl != NULL ? nl : end;
        size_t len = (size_t)(e - p);

        line++;
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len > 0 && strspn(p, " \t") < len) {
            if (b->received >= BULK_MAX_LINES)
                return ss_req_fail(r, SS_ERR_TOO_LARGE, "more than %d records", BULK_MAX_LINES);
            rc = one_line(r, c, b, p, len, line, muni);
        }
        p = nl != NULL ? nl + 1 : NULL;
    }
    if (rc == 0 && b->received == 0)
        rc = ss_req_fail(r, SS_ERR_BAD_REQUEST, "the body holds no record");
    return rc;
}

/* all_or_nothing with bad lines: a 422 naming each as lines[N].<field>. */
static int refuse(ss_req *r, const bulk *b)
{
    size_t i, k;
    json_t *f, *e;
    char name[160];

    json_array_foreach (b->failed, i, f) {
        json_array_foreach (json_object_get(f, "errors"), k, e) {
            snprintf(name, sizeof(name), "lines[%d].%s",
                     (int)json_integer_value(json_object_get(f, "line")),
                     json_string_value(json_object_get(e, "field")));
            ss_req_field_error(r, name, json_string_value(json_object_get(e, "reason")));
        }
    }
    return ss_req_fail(r, SS_ERR_VALIDATION, "%d of %d records are invalid; none was stored",
                       (int)json_array_size(b->failed), b->received);
}

static int bulk_run(ss_req *r, ss_dbc *c, bulk *b, const char *muni)
{
    ss_idem st;
    json_t *doc = NULL;
    char *text = NULL;
    int rc, status = b->partial ? 200 : 201;

    if ((rc = ss_db_begin(c)) != 0 || (rc = ss_idem_claim(r, c, &st)) != 0 || st.replayed)
        return rc;
    if ((rc = all_lines(r, c, b, muni)) != 0)
        return rc;
    if (!b->partial && json_array_size(b->failed) > 0)
        return refuse(r, b);
    doc = json_pack("{s:s,s:i,s:i,s:i,s:O,s:O}", "mode", b->partial ? "partial" : "all_or_nothing",
                    "received", b->received, "accepted", b->accepted, "rejected",
                    b->received - b->accepted, "items", b->ids, "errors", b->failed);
    if (doc == NULL || (text = json_dumps(doc, SS_JSON_COMPACT)) == NULL)
        rc = SS_ERR_NOMEM;
    else if ((rc = ss_idem_store(r, c, &st, status, text)) == 0 && (rc = ss_db_commit(c)) == 0)
        rc = ss_reply_json(r, status, doc);
    free(text);
    json_decref(doc);
    return rc;
}

int rec_mch_h_bulk(ss_req *r)
{
    const char *muni, *mode = ss_req_query(r, "mode");
    bulk b = {.partial = false, .ids = json_array(), .failed = json_array()};
    ss_dbc *c = NULL;
    int rc;

    if ((rc = rec_mch_scope(r, &muni)) != 0 ||
        (rc = ss_query_check(r, (const char *const[]){"mode", NULL})) != 0)
        goto out;
    if (mode != NULL && strcmp(mode, "partial") != 0 && strcmp(mode, "all_or_nothing") != 0) {
        rc = ss_req_field_error(r, "mode", "must be all_or_nothing or partial");
        goto out;
    }
    b.partial = mode != NULL && strcmp(mode, "partial") == 0;
    if ((rc = ss_req_raw_body(r, &b.data, &b.len)) != 0) /* 413 past the service's limit */
        goto out;
    if (!ndjson_type(ss_req_header(r, "Content-Type"))) {
        rc = ss_req_fail(r, SS_ERR_MEDIA_TYPE, "the body must be application/x-ndjson");
        goto out;
    }
    if (b.ids == NULL || b.failed == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    if ((rc = ss_db_acquire(ss_server_db(), &c)) == 0)
        rc = bulk_run(r, c, &b, muni);
out:
    ss_db_release(c);
    json_decref(b.ids);
    json_decref(b.failed);
    return rc;
}
