/* audit_chain_test.c - the access log's write side in-process (H-12): the library's
 * group-commit writer (many writers, text cleaning, time-outs, the bounded linger), the hash
 * chain and its verification, tamper evidence, the append-only guarantee, batch appends and
 * audit.append itself (its rows against row_digest_v2, two writers on one stream).
 * Shared set-up and helpers: audit_it.c. */
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
#include "audit_it.h"
#include "harness.h"
#include "sesshu/audit.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/server.h"

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
        row = ait_row(rid, a->tag);
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

    ait_new_tag(tag);
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
    ck_assert_int_eq(ait_sql_ll("SELECT count(*) FROM audit.access_log WHERE res_type = $1", tag),
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

    ait_new_tag(tag);
    snprintf(rid, sizeof(rid), "%.8s-bad", tag);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    row = ait_row(rid, tag);
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

/* Streams (migration 007): a writer of another stream holding its transaction open (an insert
 * not yet committed) stalls no one; a batch whose own stream head is held (here, locked by
 * hand) makes its waiters give up with 503 after the timeout (SESSHU_AUDIT_TIMEOUT_MS, set to
 * 2 s in main), not hang, and the writer carries on once the head is free. */
static void writers_run(const char *tag, int base, gc_arg args[4])
{
    pthread_t th[4];

    for (int i = 0; i < 4; i++) {
        args[i] = (gc_arg){.tag = tag, .idx = base + i, .count = 1};
        ck_assert_int_eq(pthread_create(&th[i], NULL, gc_worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
}

START_TEST(writer_times_out_and_recovers)
{
    gc_arg args[4];
    char tag[37], rid[64], st[8], host[64] = "", lock[256];
    ss_audit_row row;
    PGconn *c = ait_own_conn();

    ait_new_tag(tag);
    ck_assert_str_eq(ait_exec_state(c, "BEGIN", st), "00000");
    ck_assert_str_eq(
        ait_exec_state(c,
                       "INSERT INTO audit.access_log (request_id, service, actor_kind, "
                       "method, status) VALUES ('it-hold', 'it', 'system', 'GET', 200)",
                       st),
        "00000");
    writers_run(tag, 0, args);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(args[i].failures, 0);
    ck_assert_str_eq(ait_exec_state(c, "COMMIT", st), "00000");

    /* The group-commit writer's own stream, "<service>/<host>/w" (audit.c). */
    gethostname(host, sizeof(host) - 1);
    snprintf(lock, sizeof(lock),
             "SELECT 1 FROM audit.streams WHERE stream = 'it-audit/%s/w' FOR UPDATE", host);
    ck_assert_str_eq(ait_exec_state(c, "BEGIN", st), "00000");
    ck_assert_str_eq(ait_exec_state(c, lock, st), "00000");
    writers_run(tag, 4, args);
    ck_assert_str_eq(ait_exec_state(c, "COMMIT", st), "00000");
    PQfinish(c);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(args[i].failures, 1);
    snprintf(rid, sizeof(rid), "%.8s-after", tag);
    row = ait_row(rid, tag);
    ck_assert_int_eq(ss_audit_write(&row), 0);
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
    row = ait_row(rid, a->tag);
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

    ait_new_tag(tag);
    a.tag = tag;
    ss_audit_expect();
    ss_audit_expect(); /* twice on one thread counts once */
    ck_assert_int_eq(pthread_create(&th, NULL, linger_worker, &a), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(a.rc, 0);
    ck_assert_msg(a.ms < 1000, "a write waited %lld ms behind an announced request", a.ms);
    snprintf(rid, sizeof(rid), "%.8s-own", tag);
    row = ait_row(rid, tag);
    ck_assert_int_eq(ss_audit_write(&row), 0);
    ck_assert_int_eq(ait_sql_ll("SELECT count(*) FROM audit.access_log WHERE res_type = $1", tag),
                     2);
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

    ait_new_tag(tag);
    for (int i = 0; i < 3; i++) {
        snprintf(rid, sizeof(rid), "%.8s-v%d", tag, i);
        row = ait_row(rid, tag);
        ck_assert_int_eq(ss_audit_write(&row), 0);
    }
    pos = ait_sql_ll("SELECT min(chain_pos) FROM audit.access_log WHERE res_type = $1", tag);
    ck_assert_int_gt(pos, 0);
    /* Our rows and everything after them. */
    snprintf(path, sizeof(path), "/api/v1/access-logs/verify?from=%lld", pos);
    v = ait_get_json(path, ait_tok_national, 200);
    ck_assert(json_is_true(json_object_get(v, "ok")));
    ck_assert(json_is_null(json_object_get(v, "first_broken")));
    ck_assert(json_is_true(json_object_get(v, "complete")));
    ck_assert_int_ge(json_integer_value(json_object_get(v, "checked")), 3);
    json_decref(v);
    /* The whole chain, from its first row, a call per million rows. */
    snprintf(path, sizeof(path), "/api/v1/access-logs/verify");
    for (int calls = 0; calls < 100; calls++) {
        long long next;

        v = ait_get_json(path, ait_tok_national, 200);
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
    ck_assert_str_eq(ait_exec_state(c, sql, st), "00000");
}

START_TEST(tampered_row_is_reported)
{
    char tag[37], rid[64], path[128];
    ss_audit_row row;
    PGconn *c = NULL;
    json_t *v, *fb;
    long long pos;

    ait_new_tag(tag);
    snprintf(rid, sizeof(rid), "%.8s-t", tag);
    row = ait_row(rid, tag);
    ck_assert_int_eq(ss_audit_write(&row), 0);
    pos = ait_sql_ll("SELECT chain_pos FROM audit.access_log WHERE res_type = $1", tag);
    ck_assert_int_gt(pos, 0);
    c = ait_own_conn();
    owner_set_status(c, pos, 299);
    snprintf(path, sizeof(path), "/api/v1/access-logs/verify?from=%lld&limit=10", pos);
    v = ait_get_json(path, ait_tok_national, 200);
    fb = json_object_get(v, "first_broken");
    ck_assert(json_is_false(json_object_get(v, "ok")));
    ck_assert_int_eq(json_integer_value(json_object_get(fb, "chain_pos")), pos);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(fb, "reason")), "hash"));
    json_decref(v);
    owner_set_status(c, pos, 200);
    PQfinish(c);
    v = ait_get_json(path, ait_tok_national, 200);
    ck_assert(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
}
END_TEST

START_TEST(log_is_append_only)
{
    PGconn *c = ait_own_conn();
    char st[8];

    ck_assert_str_eq(
        ait_exec_state(c, "UPDATE audit.access_log SET status = 1 WHERE chain_pos = 1", st),
        "42501");
    ck_assert_str_eq(ait_exec_state(c, "DELETE FROM audit.access_log WHERE chain_pos = 1", st),
                     "42501");
    ck_assert_str_eq(ait_exec_state(c, "TRUNCATE audit.access_log", st), "42501");
    ck_assert_str_eq(ait_exec_state(c, "UPDATE audit.chain_head SET pos = 0", st), "42501");
    ck_assert_str_eq(ait_exec_state(c, "DELETE FROM audit.chain_head", st), "42501");
    /* A writer cannot choose the chain fields (audit.append, which it may
     * call, computes them). */
    ck_assert_str_eq(ait_exec_state(c, "SET ROLE sesshu_audit_writer", st), "00000");
    ck_assert_str_eq(
        ait_exec_state(c,
                       "INSERT INTO audit.access_log (request_id, service, actor_kind, "
                       "method, status, hash) VALUES ('x', 'x', 'x', 'GET', 1, '\\x00')",
                       st),
        "42501");
    ck_assert_str_eq(ait_exec_state(c, "SELECT count(*) FROM audit.access_log", st), "42501");
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
    PGconn *c = ait_own_conn();
    ss_audit_row row;
    json_t *v;
    long long pos;

    ait_new_tag(tag);
    for (int i = 0; i < nv; i++) {
        snprintf(rid, sizeof(rid), "%.8s-a%d", tag, i);
        row = ait_row(rid, tag);
        row.actor_login = vals[i];
        row.actor_id = i % 2 ? "" : NULL;
        ck_assert_int_eq(ss_audit_write(&row), 0);
        if (i == nv / 2) {
            ck_assert_str_eq(ait_exec_state(c, "SET ROLE sesshu_audit_writer", st), "00000");
            snprintf(sql, sizeof(sql),
                     "INSERT INTO audit.access_log (request_id, service, actor_kind, method, "
                     "status, res_type) VALUES ('legacy', 'it', 'system', 'GET', 200, '%s')",
                     tag);
            ck_assert_str_eq(ait_exec_state(c, sql, st), "00000");
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
    ck_assert_int_eq(ait_sql_ll("SELECT count(*) FROM audit.access_log WHERE res_type = $1", tag),
                     nv + 1);
    pos = ait_sql_ll("SELECT min(chain_pos) FROM audit.access_log WHERE res_type = $1", tag);
    snprintf(path, sizeof(path), "/api/v1/access-logs/verify?from=%lld", pos);
    v = ait_get_json(path, ait_tok_national, 200);
    ck_assert_msg(json_is_true(json_object_get(v, "ok")), "chain broken: %s",
                  json_string_value(json_object_get(json_object_get(v, "first_broken"), "reason")));
    ck_assert_int_ge(json_integer_value(json_object_get(v, "checked")), nv + 1);
    json_decref(v);
}
END_TEST

/* ---- audit.append itself (migration 012) ------------------------------------- */

/* Run an append (or any one-value statement) on c: its value as a number. */
static long long one_value(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long v;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* The stream's rows: how many, whether each hash is row_digest_v2 (the function verify
 * recomputes) over its predecessor's hash and its own contents, whether positions run 1, 2,
 * ... with chain_pos rising, and whether the head is the last row. "n|t|t|t" when whole. */
static void assert_stream_whole(PGconn *c, const char *stream, int want)
{
    char sql[1024], exp[32];
    PGresult *r;

    snprintf(sql, sizeof(sql),
             "SELECT count(*), bool_and(ok), bool_and(pos_ok), "
             "       (SELECT s.pos = max(x.stream_pos) AND s.hash = (array_agg(x.hash "
             "                ORDER BY x.stream_pos DESC))[1] "
             "          FROM audit.streams s WHERE s.stream = '%s') "
             "  FROM (SELECT l.stream_pos, l.hash, "
             "               l.hash = audit.row_digest_v2(coalesce(lag(l.hash) OVER w, "
             "                   decode(repeat('00', 32), 'hex')), l) AS ok, "
             "               l.stream_pos = row_number() OVER w "
             "               AND l.chain_pos > coalesce(lag(l.chain_pos) OVER w, 0) AS pos_ok "
             "          FROM audit.access_log l WHERE l.stream = '%s' "
             "        WINDOW w AS (ORDER BY l.stream_pos)) x",
             stream, stream);
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    snprintf(exp, sizeof(exp), "%d|t|t|t", want);
    snprintf(sql, sizeof(sql), "%s|%s|%s|%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
             PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
    PQclear(r);
    ck_assert_str_eq(sql, exp);
}

/* One-row and several-row calls on a new stream (made at genesis), with NULL, "" and text
 * awkward for the canonical form in the columns the text covers, a shorter array padded with
 * NULL, and an empty call: every row hashes as row_digest_v2 says, in stream order. */
START_TEST(append_matches_row_digest)
{
    char tag[37], stream[64], sql[1400];
    PGconn *c = ait_own_conn();

    ait_new_tag(tag);
    snprintf(stream, sizeof(stream), "it-append/%s", tag);
    snprintf(sql, sizeof(sql),
             "SELECT audit.append('%s', ARRAY['%.8s-1'], '{it}', '{user}', '{NULL}', "
             "ARRAY['x|y~3:z'], '{\"\"}', NULL, '{990001}', NULL, '{GET}', NULL, "
             "ARRAY['/\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x99\x82 ?a=|'], ARRAY['%s'], NULL, "
             "NULL, NULL, NULL, NULL, '{200}', NULL)",
             stream, tag, tag);
    ck_assert_int_eq(one_value(c, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT audit.append('%s', ARRAY['%.8s-2', '%.8s-3', '%.8s-4', '%.8s-5'], "
             "'{it,it,it,it}', '{user,user,system,user}', '{NULL,\"\",a,\"NULL\"}', "
             "'{\"\\\\\\\\b\",\"{b,c}\",\" lead\",\"~\"}', NULL, '{o,NULL,o,\":\"}', NULL, NULL, "
             "'{GET,POST,PUT,DELETE}', '{/r,/r,NULL,/r}', '{/a,/b,/c,/d}', "
             "ARRAY['%s','%s','%s','%s'], '{1,2,3,4}', NULL, NULL, NULL, '{10.0.0.1,::1}', "
             "'{200,201,403,500}', '{1,NULL,3,9223372036854775807}')",
             stream, tag, tag, tag, tag, tag, tag, tag, tag);
    ck_assert_int_eq(one_value(c, sql), 4);
    snprintf(sql, sizeof(sql),
             "SELECT audit.append('%s', '{}', '{}', '{}', NULL, NULL, NULL, NULL, NULL, NULL, "
             "'{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}', NULL)",
             stream);
    ck_assert_int_eq(one_value(c, sql), 0);
    assert_stream_whole(c, stream, 5);
    /* The shorter client_ip array: its missing elements are NULL, as unnest pads them. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit.access_log WHERE stream = '%s' AND client_ip IS NULL",
             stream);
    ck_assert_int_eq(one_value(c, sql), 3);
    PQfinish(c);
}
END_TEST

/* Two writers on one stream (a misconfigured instance): the second waits for the first's
 * lock on the head and continues from the head the first committed. */
START_TEST(append_waits_for_its_stream)
{
    char tag[37], stream[64], sql[700], st[8];
    PGconn *a = ait_own_conn(), *b = ait_own_conn();
    PGresult *r;

    ait_new_tag(tag);
    snprintf(stream, sizeof(stream), "it-append/%s", tag);
    snprintf(sql, sizeof(sql),
             "SELECT audit.append('%s', '{w1}', '{it}', '{user}', NULL, NULL, NULL, NULL, NULL, "
             "NULL, '{GET}', NULL, NULL, ARRAY['%s'], NULL, NULL, NULL, NULL, NULL, '{200}', NULL)",
             stream, tag);
    ck_assert_int_eq(one_value(a, sql), 1); /* the stream exists */
    ck_assert_str_eq(ait_exec_state(a, "BEGIN", st), "00000");
    ck_assert_int_eq(one_value(a, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT audit.append('%s', '{w2,w3}', '{it,it}', '{user,user}', NULL, NULL, NULL, "
             "NULL, NULL, NULL, '{GET,GET}', NULL, NULL, ARRAY['%s','%s'], NULL, NULL, NULL, "
             "NULL, NULL, '{200,200}', NULL)",
             stream, tag, tag);
    ck_assert_int_eq(PQsendQuery(b, sql), 1);
    usleep(300 * 1000);
    ck_assert_int_eq(PQconsumeInput(b), 1);
    ck_assert_msg(PQisBusy(b), "the second writer did not wait for the stream's head");
    ck_assert_str_eq(ait_exec_state(a, "COMMIT", st), "00000");
    r = PQgetResult(b);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(b));
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    while ((r = PQgetResult(b)) != NULL)
        PQclear(r);
    assert_stream_whole(a, stream, 4);
    PQfinish(a);
    PQfinish(b);
}
END_TEST

static Suite *chain_suite(void)
{
    Suite *s = suite_create("audit_chain");
    TCase *w = tcase_create("writer");
    TCase *c = tcase_create("chain");

    tcase_set_timeout(w, 120);
    tcase_add_test(w, group_commit_many_writers);
    tcase_add_test(w, writer_cleans_bad_text);
    tcase_add_test(w, writer_times_out_and_recovers);
    tcase_add_test(w, linger_is_bounded);
    tcase_set_timeout(c, 120);
    tcase_add_test(c, chain_verifies);
    tcase_add_test(c, tampered_row_is_reported);
    tcase_add_test(c, log_is_append_only);
    tcase_add_test(c, append_keeps_text_and_chain);
    tcase_add_test(c, append_matches_row_digest);
    tcase_add_test(c, append_waits_for_its_stream);
    suite_add_tcase(s, w);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return ait_main(chain_suite, "audit_chain_test");
}
