/* audit_test.c - the access log (H-12) in-process: the library's group-commit
 * writer, the hash chain and its verification, the append-only guarantee,
 * and GET /api/v1/access-logs (filters, pages, CSV, tenants, bad input).
 *
 * Runs against the real test database (scripts/test.sh exports SESSHU_*).
 * Tokens are signed with a key made for this run (its PEM is handed to the
 * service through SESSHU_JWT_SIGNING_KEY_FILE before start). Every test makes
 * its own rows, tagged with a fresh UUID, and looks only at those, so the
 * tests run in any order and next to other services' traffic. Tests run
 * without fork: the service's threads and pool live in this process. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "aud.h"
#include "harness.h"
#include "sesshu/audit.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"

static int g_port;
static char *tok_national, *tok_muni, *tok_medical, *tok_operator;

/* ---- set-up ---------------------------------------------------------------- */

static char *mint(int org_type, const char *muni, int role)
{
    ss_principal p;
    json_t *claims = NULL;
    char *tok = NULL;

    memset(&p, 0, sizeof(p));
    p.kind = SS_PRINCIPAL_USER;
    ss_uuid(p.sub);
    ss_uuid(p.org_id);
    ss_uuid(p.sid);
    snprintf(p.login_id, sizeof(p.login_id), "it-%.8s", p.sub);
    snprintf(p.org_code, sizeof(p.org_code), "IT");
    snprintf(p.muni_code, sizeof(p.muni_code), "%s", muni ? muni : "");
    p.org_type = org_type;
    p.role = role;
    claims = ss_jwt_user_claims(&p, 3600);
    if (claims == NULL || ss_jwt_sign(claims, &tok) != 0)
        tok = NULL;
    json_decref(claims);
    return tok;
}

/* ---- helpers ----------------------------------------------------------------- */

/* A row with every text field set, tagged by tag (request id prefix and
 * resource type). */
static ss_audit_row base_row(const char *rid, const char *tag)
{
    ss_audit_row row = {.request_id = rid,
                        .service = "it-audit",
                        .actor_kind = "user",
                        .actor_id = "it-actor-0",
                        .actor_login = "it-login-0",
                        .org_id = "it-org-0",
                        .org_type = "municipality",
                        .muni_code = "990001",
                        .role = "user",
                        .method = "GET",
                        .route = "/api/v1/things/:id",
                        .path = "/api/v1/things/1",
                        .res_type = tag,
                        .res_id = "thing-1",
                        .status = 200,
                        .client_ip = "127.0.0.1",
                        .duration_us = 42};
    return row;
}

static long long sql_ll(const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *res = NULL;
    long long v = -1;

    if (ss_db_query(ss_server_db(), sql, param ? 1 : 0, params, &res) == 0 && PQntuples(res) == 1 &&
        !PQgetisnull(res, 0, 0))
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

static void new_tag(char tag[37])
{
    ck_assert_int_eq(ss_uuid(tag), 0);
}

/* GET as the given token; asserts the status and returns the JSON body. */
static json_t *get_json(const char *path, const char *tok, long want)
{
    it_resp r;
    json_t *j;

    ck_assert_int_eq(it_call("GET", path, tok, NULL, &r), 0);
    ck_assert_msg(r.status == want, "GET %s: %ld, want %ld: %s", path, r.status, want, r.raw);
    j = json_incref(r.json);
    it_resp_free(&r);
    ck_assert_ptr_nonnull(j);
    return j;
}

static int count_lines(const char *s)
{
    int n = 0;

    for (const char *p = strstr(s, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
        n++;
    return n;
}

/* Does the problem's `errors` name this field? */
static bool names_field(const json_t *problem, const char *field)
{
    const json_t *errs = json_object_get(problem, "errors");
    size_t i;
    const json_t *e;

    json_array_foreach (errs, i, e)
        if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
            return true;
    return false;
}

/* A raw libpq session as the service's own role (sesshu_audit). */
static PGconn *own_conn(void)
{
    char *ci = ss_db_conninfo("AUDIT");
    PGconn *c = PQconnectdb(ci);

    free(ci);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    return c;
}

static const char *exec_state(PGconn *c, const char *sql, char buf[8])
{
    PGresult *r = PQexec(c, sql);
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    snprintf(buf, 8, "%s", st ? st : "00000");
    PQclear(r);
    return buf;
}

/* ---- group commit -------------------------------------------------------------- */

#define GC_THREADS    24
#define GC_PER_THREAD 20

typedef struct gc_arg {
    const char *tag;
    int idx;
    int count;
    int failures;
} gc_arg;

static void *gc_worker(void *p)
{
    gc_arg *a = p;

    for (int i = 0; i < a->count; i++) {
        char rid[64];
        ss_audit_row row;

        snprintf(rid, sizeof(rid), "%.8s-%d-%d", a->tag, a->idx, i);
        row = base_row(rid, a->tag);
        if (ss_audit_write(&row) != 0)
            a->failures++;
    }
    return NULL;
}

START_TEST(group_commit_many_writers)
{
    pthread_t th[GC_THREADS];
    gc_arg args[GC_THREADS];
    ss_audit_stats before, after;
    char tag[37];

    new_tag(tag);
    ss_audit_get_stats(&before);
    for (int i = 0; i < GC_THREADS; i++) {
        args[i] = (gc_arg){.tag = tag, .idx = i, .count = GC_PER_THREAD};
        ck_assert_int_eq(pthread_create(&th[i], NULL, gc_worker, &args[i]), 0);
    }
    for (int i = 0; i < GC_THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].failures, 0);
    }
    ss_audit_get_stats(&after);
    /* Every write returned after its commit: the rows are there now. */
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM audit.access_log WHERE res_type = $1", tag),
                     GC_THREADS * GC_PER_THREAD);
    ck_assert_uint_ge(after.rows - before.rows, GC_THREADS * GC_PER_THREAD);
    /* ... and they shared commits. */
    fprintf(stderr, "group commit: %llu rows in %llu batches\n", after.rows - before.rows,
            after.batches - before.batches);
    ck_assert_msg(after.batches - before.batches < after.rows - before.rows,
                  "batches %llu, rows %llu", after.batches - before.batches,
                  after.rows - before.rows);
}
END_TEST

START_TEST(writer_cleans_bad_text)
{
    char tag[37], rid[64], longpath[5000];
    ss_audit_row row;
    const char *params[1];
    PGresult *res = NULL;

    new_tag(tag);
    snprintf(rid, sizeof(rid), "%.8s-bad", tag);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    row = base_row(rid, tag);
    row.actor_login = "bad\xff\xfe utf8 \xe3\x81";
    row.path = longpath;
    row.service = NULL; /* a required column left out */
    ck_assert_int_eq(ss_audit_write(&row), 0);
    params[0] = tag;
    ck_assert_int_eq(ss_db_query(ss_server_db(),
                                 "SELECT actor_login, length(path), service FROM audit.access_log "
                                 "WHERE res_type = $1",
                                 1, params, &res),
                     0);
    ck_assert_int_eq(PQntuples(res), 1);
    /* Each bad byte became U+FFFD, the path was cut to 2048 bytes, NULL became "". */
    ck_assert_str_eq(PQgetvalue(res, 0, 0),
                     "bad\xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_int_eq(atoi(PQgetvalue(res, 0, 1)), 2048);
    ck_assert_str_eq(PQgetvalue(res, 0, 2), "");
    PQclear(res);
}
END_TEST

/* A writer of another service holding the chain (an insert not yet
 * committed) stalls every batch; waiters must get 503 after the timeout
 * (SESSHU_AUDIT_TIMEOUT_MS, set to 2 s in main), not hang, and the writer
 * must carry on once the chain is free. */
START_TEST(writer_times_out_and_recovers)
{
    pthread_t th[4];
    gc_arg args[4];
    char tag[37], rid[64], st[8];
    ss_audit_row row;
    PGconn *c = own_conn();

    new_tag(tag);
    ck_assert_str_eq(exec_state(c, "BEGIN", st), "00000");
    ck_assert_str_eq(exec_state(c,
                                "INSERT INTO audit.access_log (request_id, service, actor_kind, "
                                "method, status) VALUES ('it-hold', 'it', 'system', 'GET', 200)",
                                st),
                     "00000");
    for (int i = 0; i < 4; i++) {
        args[i] = (gc_arg){.tag = tag, .idx = i, .count = 1};
        ck_assert_int_eq(pthread_create(&th[i], NULL, gc_worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ck_assert_str_eq(exec_state(c, "COMMIT", st), "00000");
    PQfinish(c);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(args[i].failures, 1);
    snprintf(rid, sizeof(rid), "%.8s-after", tag);
    row = base_row(rid, tag);
    ck_assert_int_eq(ss_audit_write(&row), 0);
}
END_TEST

/* ---- chain, tamper evidence, append-only ------------------------------------- */

START_TEST(chain_verifies)
{
    char tag[37], rid[64], path[128];
    ss_audit_row row;
    json_t *v;
    long long pos, checked = 0;
    bool done = false;

    new_tag(tag);
    for (int i = 0; i < 3; i++) {
        snprintf(rid, sizeof(rid), "%.8s-v%d", tag, i);
        row = base_row(rid, tag);
        ck_assert_int_eq(ss_audit_write(&row), 0);
    }
    pos = sql_ll("SELECT min(chain_pos) FROM audit.access_log WHERE res_type = $1", tag);
    ck_assert_int_gt(pos, 0);
    /* Our rows and everything after them. */
    snprintf(path, sizeof(path), "/api/v1/access-logs/verify?from=%lld", pos);
    v = get_json(path, tok_national, 200);
    ck_assert(json_is_true(json_object_get(v, "ok")));
    ck_assert(json_is_null(json_object_get(v, "first_broken")));
    ck_assert(json_is_true(json_object_get(v, "complete")));
    ck_assert_int_ge(json_integer_value(json_object_get(v, "checked")), 3);
    json_decref(v);
    /* The whole chain, from its first row, a call per million rows. */
    snprintf(path, sizeof(path), "/api/v1/access-logs/verify");
    for (int calls = 0; calls < 100; calls++) {
        long long next;

        v = get_json(path, tok_national, 200);
        ck_assert_msg(
            json_is_true(json_object_get(v, "ok")), "chain broken: %s",
            json_string_value(json_object_get(json_object_get(v, "first_broken"), "reason")));
        checked += json_integer_value(json_object_get(v, "checked"));
        next = json_integer_value(json_object_get(v, "next_from"));
        done = json_is_true(json_object_get(v, "complete"));
        json_decref(v);
        if (done)
            break;
        snprintf(path, sizeof(path), "/api/v1/access-logs/verify?from=%lld", next);
    }
    ck_assert(done);
    ck_assert_int_ge(checked, pos + 2);
}
END_TEST

/* The table's owner can still grant itself UPDATE and switch the refusing
 * trigger off (PostgreSQL owners can); what it cannot do is change a row
 * without verify noticing. The test tampers as the owner, checks verify
 * names the row, and restores the row so the shared chain is whole again. */
static void owner_set_status(PGconn *c, long long pos, int status)
{
    char sql[640], st[8];

    snprintf(sql, sizeof(sql),
             "DO $$ BEGIN "
             "GRANT UPDATE (status) ON audit.access_log TO CURRENT_USER; "
             "ALTER TABLE audit.access_log DISABLE TRIGGER access_log_no_update; "
             "UPDATE audit.access_log SET status = %d WHERE chain_pos = %lld; "
             "ALTER TABLE audit.access_log ENABLE TRIGGER access_log_no_update; "
             "REVOKE UPDATE (status) ON audit.access_log FROM CURRENT_USER; END $$",
             status, pos);
    ck_assert_str_eq(exec_state(c, sql, st), "00000");
}

START_TEST(tampered_row_is_reported)
{
    char tag[37], rid[64], path[128];
    ss_audit_row row;
    PGconn *c = NULL;
    json_t *v, *fb;
    long long pos;

    new_tag(tag);
    snprintf(rid, sizeof(rid), "%.8s-t", tag);
    row = base_row(rid, tag);
    ck_assert_int_eq(ss_audit_write(&row), 0);
    pos = sql_ll("SELECT chain_pos FROM audit.access_log WHERE res_type = $1", tag);
    ck_assert_int_gt(pos, 0);
    c = own_conn();
    owner_set_status(c, pos, 299);
    snprintf(path, sizeof(path), "/api/v1/access-logs/verify?from=%lld&limit=10", pos);
    v = get_json(path, tok_national, 200);
    fb = json_object_get(v, "first_broken");
    ck_assert(json_is_false(json_object_get(v, "ok")));
    ck_assert_int_eq(json_integer_value(json_object_get(fb, "chain_pos")), pos);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(fb, "reason")), "hash"));
    json_decref(v);
    owner_set_status(c, pos, 200);
    PQfinish(c);
    v = get_json(path, tok_national, 200);
    ck_assert(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
}
END_TEST

START_TEST(log_is_append_only)
{
    PGconn *c = own_conn();
    char st[8];

    ck_assert_str_eq(
        exec_state(c, "UPDATE audit.access_log SET status = 1 WHERE chain_pos = 1", st), "42501");
    ck_assert_str_eq(exec_state(c, "DELETE FROM audit.access_log WHERE chain_pos = 1", st),
                     "42501");
    ck_assert_str_eq(exec_state(c, "TRUNCATE audit.access_log", st), "42501");
    ck_assert_str_eq(exec_state(c, "UPDATE audit.chain_head SET pos = 0", st), "42501");
    ck_assert_str_eq(exec_state(c, "DELETE FROM audit.chain_head", st), "42501");
    /* A writer cannot choose the chain fields (audit.append, which it may
     * call, computes them). */
    ck_assert_str_eq(exec_state(c, "SET ROLE sesshu_audit_writer", st), "00000");
    ck_assert_str_eq(exec_state(c,
                                "INSERT INTO audit.access_log (request_id, service, actor_kind, "
                                "method, status, hash) VALUES ('x', 'x', 'x', 'GET', 1, '\\x00')",
                                st),
                     "42501");
    ck_assert_str_eq(exec_state(c, "SELECT count(*) FROM audit.access_log", st), "42501");
    PQfinish(c);
}
END_TEST

/* Rows whose text is awkward for array literals and for the canonical
 * form ("NULL" as text, quotes, backslashes, braces, separators, leading
 * blanks, multibyte), NULL and "" side by side, and a plain INSERT of an
 * older writer (chained by the row trigger) between them: each comes back
 * as written and the chain through them verifies. */
START_TEST(append_keeps_text_and_chain)
{
    static const char *vals[] = {"NULL",
                                 "",
                                 "a\"b",
                                 "back\\slash",
                                 "{br,ace}",
                                 " lead",
                                 "\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x99\x82",
                                 "x|y~3:z"};
    const int nv = (int)(sizeof(vals) / sizeof(vals[0]));
    char tag[37], rid[64], path[128], st[8], sql[512];
    const char *params[1];
    PGresult *res = NULL;
    PGconn *c = own_conn();
    ss_audit_row row;
    json_t *v;
    long long pos;

    new_tag(tag);
    for (int i = 0; i < nv; i++) {
        snprintf(rid, sizeof(rid), "%.8s-a%d", tag, i);
        row = base_row(rid, tag);
        row.actor_login = vals[i];
        row.actor_id = i % 2 ? "" : NULL;
        ck_assert_int_eq(ss_audit_write(&row), 0);
        if (i == nv / 2) {
            ck_assert_str_eq(exec_state(c, "SET ROLE sesshu_audit_writer", st), "00000");
            snprintf(sql, sizeof(sql),
                     "INSERT INTO audit.access_log (request_id, service, actor_kind, method, "
                     "status, res_type) VALUES ('legacy', 'it', 'system', 'GET', 200, '%s')",
                     tag);
            ck_assert_str_eq(exec_state(c, sql, st), "00000");
        }
    }
    PQfinish(c);
    params[0] = tag;
    ck_assert_int_eq(
        ss_db_query(ss_server_db(),
                    "SELECT actor_login, actor_id IS NULL FROM audit.access_log "
                    "WHERE res_type = $1 AND request_id <> 'legacy' ORDER BY chain_pos",
                    1, params, &res),
        0);
    ck_assert_int_eq(PQntuples(res), nv);
    for (int i = 0; i < nv; i++) {
        ck_assert_str_eq(PQgetvalue(res, i, 0), vals[i]);
        ck_assert_str_eq(PQgetvalue(res, i, 1), i % 2 ? "f" : "t");
    }
    PQclear(res);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM audit.access_log WHERE res_type = $1", tag),
                     nv + 1);
    pos = sql_ll("SELECT min(chain_pos) FROM audit.access_log WHERE res_type = $1", tag);
    snprintf(path, sizeof(path), "/api/v1/access-logs/verify?from=%lld", pos);
    v = get_json(path, tok_national, 200);
    ck_assert_msg(json_is_true(json_object_get(v, "ok")), "chain broken: %s",
                  json_string_value(json_object_get(json_object_get(v, "first_broken"), "reason")));
    ck_assert_int_ge(json_integer_value(json_object_get(v, "checked")), nv + 1);
    json_decref(v);
}
END_TEST

/* ---- queries --------------------------------------------------------------------- */

/* Rows for the filter tests: 0 ok by actor A about person P, 1 failure 403
 * by actor B, 2 by A in another organisation about resource R. */
static void filter_rows(const char *tag, char rids[3][64])
{
    ss_audit_row row;

    for (int i = 0; i < 3; i++)
        snprintf(rids[i], 64, "%.8s-f%d", tag, i);
    row = base_row(rids[0], tag);
    row.person_id = "it-person-P";
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = base_row(rids[1], tag);
    row.actor_id = "it-actor-B";
    row.actor_login = "it-login-B";
    row.status = 403;
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = base_row(rids[2], tag);
    row.org_id = "it-org-2";
    row.res_id = "thing-R";
    ck_assert_int_eq(ss_audit_write(&row), 0);
}

/* The request ids of a page, newest first, joined by ','. */
static void page_ids(const json_t *page, char *out, size_t size)
{
    const json_t *it;
    size_t i;

    out[0] = '\0';
    json_array_foreach (json_object_get(page, "items"), i, it) {
        size_t l = strlen(out);
        snprintf(out + l, size - l, "%s%s", l ? "," : "",
                 json_string_value(json_object_get(it, "request_id")));
    }
}

static void expect_ids(const char *tag, const char *query, const char *want)
{
    char path[512], got[512];
    json_t *j;

    snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s%s", tag, query);
    j = get_json(path, tok_national, 200);
    page_ids(j, got, sizeof(got));
    ck_assert_msg(strcmp(got, want) == 0, "%s: got [%s], want [%s]", query, got, want);
    json_decref(j);
}

START_TEST(query_filters)
{
    char tag[37], rids[3][64], want[256];
    json_t *j, *item;

    new_tag(tag);
    filter_rows(tag, rids);
    snprintf(want, sizeof(want), "%s,%s,%s", rids[2], rids[1], rids[0]);
    expect_ids(tag, "", want);
    expect_ids(tag, "&person_id=it-person-P", rids[0]);
    expect_ids(tag, "&actor=it-login-B", rids[1]);
    expect_ids(tag, "&actor=it-actor-B", rids[1]);
    expect_ids(tag, "&status=403", rids[1]);
    expect_ids(tag, "&outcome=failure", rids[1]);
    snprintf(want, sizeof(want), "%s,%s", rids[2], rids[0]);
    expect_ids(tag, "&outcome=success", want);
    expect_ids(tag, "&organization_id=it-org-2", rids[2]);
    expect_ids(tag, "&resource_id=thing-R", rids[2]);
    expect_ids(tag, "&to=2000-01-01T00:00:00Z", "");
    snprintf(want, sizeof(want), "%s,%s,%s", rids[2], rids[1], rids[0]);
    expect_ids(tag, "&from=2000-01-01T00:00:00%2B09:00", want);
    /* The shape of one item. */
    j = get_json("/api/v1/access-logs?person_id=it-person-P&limit=1", tok_national, 200);
    item = json_array_get(json_object_get(j, "items"), 0);
    ck_assert(json_is_integer(json_object_get(item, "chain_pos")));
    ck_assert(json_is_integer(json_object_get(item, "status")));
    ck_assert_str_eq(json_string_value(json_object_get(item, "person_id")), "it-person-P");
    ck_assert_int_eq(strlen(json_string_value(json_object_get(item, "hash"))), 64);
    ck_assert_ptr_nonnull(strchr(json_string_value(json_object_get(item, "ts")), 'T'));
    json_decref(j);
}
END_TEST

START_TEST(query_pages)
{
    char tag[37], rid[64], path[512], seen[1024] = "";
    ss_audit_row row;
    json_t *j = NULL;
    const char *cursor = NULL;
    long long last = 0;
    int pages = 0, items = 0;

    new_tag(tag);
    for (int i = 0; i < 5; i++) {
        snprintf(rid, sizeof(rid), "%.8s-p%d", tag, i);
        row = base_row(rid, tag);
        ck_assert_int_eq(ss_audit_write(&row), 0);
    }
    do {
        json_t *prev = j;
        const json_t *it;
        size_t i;

        if (cursor == NULL)
            snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s&limit=2", tag);
        else
            snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s&limit=2&cursor=%s",
                     tag, cursor);
        j = get_json(path, tok_national, 200);
        json_decref(prev);
        json_array_foreach (json_object_get(j, "items"), i, it) {
            long long pos = json_integer_value(json_object_get(it, "chain_pos"));
            const char *id = json_string_value(json_object_get(it, "request_id"));

            ck_assert(last == 0 || pos < last); /* newest first, no repeats */
            last = pos;
            ck_assert_ptr_null(strstr(seen, id));
            strncat(seen, id, sizeof(seen) - strlen(seen) - 1);
            items++;
        }
        cursor = json_string_value(json_object_get(j, "next_cursor"));
        pages++;
    } while (cursor != NULL && pages < 10);
    json_decref(j);
    ck_assert_int_eq(items, 5);
    ck_assert_int_eq(pages, 3);
}
END_TEST

START_TEST(query_csv)
{
    char tag[37], rids[3][64], path[512], want_head[64];
    it_resp r;

    new_tag(tag);
    filter_rows(tag, rids);
    snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s&format=csv", tag);
    ck_assert_int_eq(it_get_accept(path, tok_national, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.content_type, "text/csv"));
    snprintf(want_head, sizeof(want_head), "seq,chain_pos,ts,request_id,");
    ck_assert_int_eq(strncmp(r.raw, want_head, strlen(want_head)), 0);
    ck_assert_int_eq(count_lines(r.raw), 4); /* header + 3 */
    ck_assert_ptr_nonnull(strstr(r.raw, rids[0]));
    ck_assert_str_eq(r.next_cursor, "");
    it_resp_free(&r);
    /* Accept: text/csv asks for the same; a limit leaves a cursor. */
    snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s&limit=2", tag);
    ck_assert_int_eq(it_get_accept(path, tok_national, "text/csv", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.content_type, "text/csv"));
    ck_assert_int_eq(count_lines(r.raw), 3);
    ck_assert_str_ne(r.next_cursor, "");
    it_resp_free(&r);
}
END_TEST

START_TEST(query_bad_params)
{
    json_t *j = get_json("/api/v1/access-logs?from=yesterday&status=999&outcome=meh&limit=0"
                         "&cursor=%21%21&format=xml&colour=red&actor=",
                         tok_national, 422);
    const char *fields[] = {"from",   "status", "outcome", "limit",
                            "cursor", "format", "colour",  "actor"};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        ck_assert_msg(names_field(j, fields[i]), "errors do not name %s", fields[i]);
    json_decref(j);
    j = get_json("/api/v1/access-logs?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z",
                 tok_national, 422);
    ck_assert(names_field(j, "to"));
    json_decref(j);
    /* What the HTTP library would drop (not UTF-8) or merge (repeated) is refused as
     * malformed by the dispatcher, before any handler runs. */
    j = get_json("/api/v1/access-logs?actor=%ff%fe", tok_national, 400);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "detail")), "actor"));
    json_decref(j);
    j = get_json("/api/v1/access-logs?to=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
                 tok_national, 400);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "detail")), "repeated"));
    json_decref(j);
    j = get_json("/api/v1/access-logs?format=csv&limit=100001", tok_national, 422);
    ck_assert(names_field(j, "limit"));
    json_decref(j);
    j = get_json("/api/v1/access-logs/verify?from=0&limit=x", tok_national, 422);
    ck_assert(names_field(j, "from"));
    ck_assert(names_field(j, "limit"));
    json_decref(j);
}
END_TEST

START_TEST(tenant_scope)
{
    char tag[37], rids[4][64], path[256], got[512], want[256];
    ss_audit_row row;
    json_t *j;

    new_tag(tag);
    for (int i = 0; i < 4; i++)
        snprintf(rids[i], 64, "%.8s-m%d", tag, i);
    row = base_row(rids[0], tag); /* an actor of 990001 */
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = base_row(rids[1], tag); /* a national actor touching a 990001 resident */
    row.org_type = "chuokai";
    row.muni_code = NULL;
    row.subject_muni = "990001";
    row.person_id = "it-person-M";
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = base_row(rids[2], tag); /* another municipality's staff and resident */
    row.muni_code = "990002";
    row.subject_muni = "990002";
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = base_row(rids[3], tag); /* no municipality at all */
    row.muni_code = NULL;
    ck_assert_int_eq(ss_audit_write(&row), 0);
    snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s", tag);
    j = get_json(path, tok_muni, 200);
    page_ids(j, got, sizeof(got));
    snprintf(want, sizeof(want), "%s,%s", rids[1], rids[0]);
    ck_assert_str_eq(got, want);
    json_decref(j);
    j = get_json(path, tok_operator, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 4);
    json_decref(j);
    j = get_json(path, tok_medical, 403);
    json_decref(j);
    j = get_json("/api/v1/access-logs/verify", tok_muni, 403);
    json_decref(j);
    j = get_json(path, NULL, 401);
    json_decref(j);
}
END_TEST

START_TEST(queries_are_logged)
{
    char tag[37], path[256];
    it_resp r;
    const char *params[1];
    PGresult *res = NULL;

    new_tag(tag);
    snprintf(path, sizeof(path), "/api/v1/access-logs?person_id=%s", tag);
    ck_assert_int_eq(it_call("GET", path, tok_muni, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    params[0] = r.request_id;
    ck_assert_int_eq(ss_db_query(ss_server_db(),
                                 "SELECT res_type, person_id, muni_code, status FROM "
                                 "audit.access_log WHERE request_id = $1",
                                 1, params, &res),
                     0);
    ck_assert_int_eq(PQntuples(res), 1);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "access_log");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), tag);
    ck_assert_str_eq(PQgetvalue(res, 0, 2), "990001");
    ck_assert_str_eq(PQgetvalue(res, 0, 3), "200");
    PQclear(res);
    it_resp_free(&r);
}
END_TEST

typedef struct linger_arg {
    const char *tag;
    int rc;
    long long ms;
} linger_arg;

static void *linger_worker(void *p)
{
    linger_arg *a = p;
    char rid[64];
    ss_audit_row row;
    struct timespec t0, t1;

    snprintf(rid, sizeof(rid), "%.8s-linger", a->tag);
    row = base_row(rid, a->tag);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    a->rc = ss_audit_write(&row);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    a->ms = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    return NULL;
}

/* A request announced (ss_audit_expect) that never writes holds no one up for longer than the
 * linger: another thread's row is committed and answered; the announcement ends with the
 * announcing thread's own write. */
START_TEST(linger_is_bounded)
{
    pthread_t th;
    linger_arg a = {0};
    char tag[37], rid[64];
    ss_audit_row row;

    new_tag(tag);
    a.tag = tag;
    ss_audit_expect();
    ss_audit_expect(); /* twice on one thread counts once */
    ck_assert_int_eq(pthread_create(&th, NULL, linger_worker, &a), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(a.rc, 0);
    ck_assert_msg(a.ms < 1000, "a write waited %lld ms behind an announced request", a.ms);
    snprintf(rid, sizeof(rid), "%.8s-own", tag);
    row = base_row(rid, tag);
    ck_assert_int_eq(ss_audit_write(&row), 0);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM audit.access_log WHERE res_type = $1", tag), 2);
}
END_TEST

static Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *w = tcase_create("writer");
    TCase *c = tcase_create("chain");
    TCase *q = tcase_create("query");

    tcase_set_timeout(w, 120);
    tcase_add_test(w, group_commit_many_writers);
    tcase_add_test(w, writer_cleans_bad_text);
    tcase_add_test(w, writer_times_out_and_recovers);
    tcase_add_test(w, linger_is_bounded);
    tcase_add_test(c, chain_verifies);
    tcase_add_test(c, tampered_row_is_reported);
    tcase_add_test(c, log_is_append_only);
    tcase_add_test(c, append_keeps_text_and_chain);
    tcase_set_timeout(c, 120);
    tcase_add_test(q, query_filters);
    tcase_add_test(q, query_pages);
    tcase_add_test(q, query_csv);
    tcase_add_test(q, query_bad_params);
    tcase_add_test(q, tenant_scope);
    tcase_add_test(q, queries_are_logged);
    suite_add_tcase(s, w);
    suite_add_tcase(s, c);
    suite_add_tcase(s, q);
    return s;
}

int main(void)
{
    SRunner *sr = NULL;
    int failed;

    setenv("SESSHU_AUDIT_TIMEOUT_MS", "2000", 0);
    if (it_make_signing_key() != 0) {
        fprintf(stderr, "audit_test: cannot make a signing key\n");
        return 1;
    }
    g_port = it_start(&aud_service);
    if (g_port < 0) {
        it_drop_signing_key();
        return 1;
    }
    tok_national = mint(SS_ORG_CHUOKAI, NULL, SS_ROLE_ADMIN);
    tok_operator = mint(SS_ORG_OPERATOR, NULL, SS_ROLE_USER);
    tok_muni = mint(SS_ORG_MUNICIPALITY, "990001", SS_ROLE_USER);
    tok_medical = mint(SS_ORG_MEDICAL, NULL, SS_ROLE_ADMIN);
    if (!tok_national || !tok_operator || !tok_muni || !tok_medical) {
        fprintf(stderr, "audit_test: cannot sign tokens\n");
        failed = 1;
        goto out;
    }
    sr = srunner_create(audit_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
out:
    free(tok_national);
    free(tok_operator);
    free(tok_muni);
    free(tok_medical);
    it_stop();
    it_drop_signing_key();
    return failed == 0 ? 0 : 1;
}
