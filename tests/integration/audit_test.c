/* audit_test.c - GET /api/v1/access-logs in-process (H-12): filters, cursor pages, CSV,
 * tenant scope, bad input, and that queries are themselves logged. Shared set-up and helpers:
 * audit_it.c; the writer and the hash chain: audit_chain_test.c. */
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
#include "aud_sql.h"
#include "audit_it.h"
#include "harness.h"
#include "sesshu/audit.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/server.h"

/* ---- queries --------------------------------------------------------------------- */

/* Rows for the filter tests: 0 ok by actor A about person P, 1 failure 403
 * by actor B, 2 by A in another organisation about resource R. */
static void filter_rows(const char *tag, char rids[3][64])
{
    ss_audit_row row;

    for (int i = 0; i < 3; i++)
        snprintf(rids[i], 64, "%.8s-f%d", tag, i);
    row = ait_row(rids[0], tag);
    row.person_id = "it-person-P";
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = ait_row(rids[1], tag);
    row.actor_id = "it-actor-B";
    row.actor_login = "it-login-B";
    row.status = 403;
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = ait_row(rids[2], tag);
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
    j = ait_get_json(path, ait_tok_national, 200);
    page_ids(j, got, sizeof(got));
    ck_assert_msg(strcmp(got, want) == 0, "%s: got [%s], want [%s]", query, got, want);
    json_decref(j);
}

START_TEST(query_filters)
{
    char tag[37], rids[3][64], want[256];
    json_t *j, *item;

    ait_new_tag(tag);
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
    j = ait_get_json("/api/v1/access-logs?person_id=it-person-P&limit=1", ait_tok_national, 200);
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

    ait_new_tag(tag);
    for (int i = 0; i < 5; i++) {
        snprintf(rid, sizeof(rid), "%.8s-p%d", tag, i);
        row = ait_row(rid, tag);
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
        j = ait_get_json(path, ait_tok_national, 200);
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

    ait_new_tag(tag);
    filter_rows(tag, rids);
    snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s&format=csv", tag);
    ck_assert_int_eq(it_get_accept(path, ait_tok_national, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.content_type, "text/csv"));
    snprintf(want_head, sizeof(want_head), "seq,chain_pos,ts,request_id,");
    ck_assert_int_eq(strncmp(r.raw, want_head, strlen(want_head)), 0);
    ck_assert_int_eq(ait_count_lines(r.raw), 4); /* header + 3 */
    ck_assert_ptr_nonnull(strstr(r.raw, rids[0]));
    ck_assert_str_eq(r.next_cursor, "");
    it_resp_free(&r);
    /* Accept: text/csv asks for the same; a limit leaves a cursor. */
    snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s&limit=2", tag);
    ck_assert_int_eq(it_get_accept(path, ait_tok_national, "text/csv", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.content_type, "text/csv"));
    ck_assert_int_eq(ait_count_lines(r.raw), 3);
    ck_assert_str_ne(r.next_cursor, "");
    it_resp_free(&r);
}
END_TEST

START_TEST(query_bad_params)
{
    json_t *j = ait_get_json("/api/v1/access-logs?from=yesterday&status=999&outcome=meh&limit=0"
                             "&cursor=%21%21&format=xml&colour=red&actor=",
                             ait_tok_national, 422);
    const char *fields[] = {"from",   "status", "outcome", "limit",
                            "cursor", "format", "colour",  "actor"};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        ck_assert_msg(ait_names_field(j, fields[i]), "errors do not name %s", fields[i]);
    json_decref(j);
    j = ait_get_json("/api/v1/access-logs?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z",
                     ait_tok_national, 422);
    ck_assert(ait_names_field(j, "to"));
    json_decref(j);
    /* What the HTTP library would drop (not UTF-8) or merge (repeated) is refused as
     * malformed by the dispatcher, before any handler runs. */
    j = ait_get_json("/api/v1/access-logs?actor=%ff%fe", ait_tok_national, 400);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "detail")), "actor"));
    json_decref(j);
    j = ait_get_json("/api/v1/access-logs?to=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
                     ait_tok_national, 400);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "detail")), "repeated"));
    json_decref(j);
    j = ait_get_json("/api/v1/access-logs?format=csv&limit=100001", ait_tok_national, 422);
    ck_assert(ait_names_field(j, "limit"));
    json_decref(j);
    j = ait_get_json("/api/v1/access-logs/verify?from=0&limit=x", ait_tok_national, 422);
    ck_assert(ait_names_field(j, "from"));
    ck_assert(ait_names_field(j, "limit"));
    json_decref(j);
}
END_TEST

START_TEST(tenant_scope)
{
    char tag[37], rids[4][64], path[256], got[512], want[256];
    ss_audit_row row;
    json_t *j;

    ait_new_tag(tag);
    for (int i = 0; i < 4; i++)
        snprintf(rids[i], 64, "%.8s-m%d", tag, i);
    row = ait_row(rids[0], tag); /* an actor of 990001 */
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = ait_row(rids[1], tag); /* a national actor touching a 990001 resident */
    row.org_type = "chuokai";
    row.muni_code = NULL;
    row.subject_muni = "990001";
    row.person_id = "it-person-M";
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = ait_row(rids[2], tag); /* another municipality's staff and resident */
    row.muni_code = "990002";
    row.subject_muni = "990002";
    ck_assert_int_eq(ss_audit_write(&row), 0);
    row = ait_row(rids[3], tag); /* no municipality at all */
    row.muni_code = NULL;
    ck_assert_int_eq(ss_audit_write(&row), 0);
    snprintf(path, sizeof(path), "/api/v1/access-logs?resource_type=%s", tag);
    j = ait_get_json(path, ait_tok_muni, 200);
    page_ids(j, got, sizeof(got));
    snprintf(want, sizeof(want), "%s,%s", rids[1], rids[0]);
    ck_assert_str_eq(got, want);
    json_decref(j);
    j = ait_get_json(path, ait_tok_operator, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 4);
    json_decref(j);
    j = ait_get_json(path, ait_tok_medical, 403);
    json_decref(j);
    j = ait_get_json("/api/v1/access-logs/verify", ait_tok_muni, 403);
    json_decref(j);
    j = ait_get_json(path, NULL, 401);
    json_decref(j);
}
END_TEST

START_TEST(queries_are_logged)
{
    char tag[37], path[256];
    it_resp r;
    const char *params[1];
    PGresult *res = NULL;

    ait_new_tag(tag);
    snprintf(path, sizeof(path), "/api/v1/access-logs?person_id=%s", tag);
    ck_assert_int_eq(it_call("GET", path, ait_tok_muni, NULL, &r), 0);
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

/* Every statement of services/audit/sql parses against the migrated schema. */
START_TEST(sql_files_prepare)
{
    ck_assert_int_eq(it_sql_prepare_all(aud_sql_all), 0);
}
END_TEST

static Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *q = tcase_create("query");

    tcase_add_test(q, query_filters);
    tcase_add_test(q, query_pages);
    tcase_add_test(q, query_csv);
    tcase_add_test(q, query_bad_params);
    tcase_add_test(q, tenant_scope);
    tcase_add_test(q, queries_are_logged);
    tcase_add_test(q, sql_files_prepare);
    suite_add_tcase(s, q);
    return s;
}

int main(void)
{
    return ait_main(audit_suite, "audit_test");
}
