/* master_test.c - the master write engine in-process, under concurrency: imports and single
 * updates racing on one master must serialise (the table lock), never leave two current versions
 * of a key overlapping in dates, never leave a staged row behind, and keep every earlier version.
 *
 * Runs against the real test database (scripts/test.sh exports SESSHU_*), with tokens signed by
 * a key made for this run for made-up operator users. Tests run without fork. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mst.h"
#include "sesshu/crypto.h"
#include "sesshu/jwt.h"
#include "sesshu/text.h"

static char *g_tok; /* an operator user's token */

static char *mint_operator(void)
{
    return it_user_token(SS_ORG_OPERATOR, SS_ROLE_USER, "OPS-IT", NULL, NULL, NULL);
}

/* 10-digit institution code: 13 + 医科 1 + 6-digit serial + Luhn. */
static void inst_code(int serial, char *out)
{
    int sum = 0;

    snprintf(out, 11, "131%06d", serial);
    for (int i = 0; i < 9; i++) {
        int d = out[8 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    out[9] = (char)('0' + (10 - sum % 10) % 10);
    out[10] = '\0';
}

struct job {
    int first, n;       /* serials */
    const char *from;   /* valid_from */
    const char *suffix; /* name suffix */
    long status;
};

static void *import_job(void *arg)
{
    struct job *j = arg;
    ss_buf csv = {0};
    it_resp r = {0};
    char line[256], code[11];

    ss_buf_str(&csv, "code,name,kind,prefecture_code,valid_from\n");
    for (int i = 0; i < j->n; i++) {
        inst_code(j->first + i, code);
        snprintf(line, sizeof(line), "%s,並行医院%d%s,insurance,13,%s\n", code, j->first + i,
                 j->suffix, j->from);
        ss_buf_str(&csv, line);
    }
    if (it_call_ct("POST", "/api/v1/masters/institutions/import?dry_run=false", g_tok, csv.s,
                   "text/csv; charset=UTF-8", &r) == 0)
        j->status = r.status;
    it_resp_free(&r);
    ss_buf_free(&csv);
    return NULL;
}

static long long sql_count(const char *sql)
{
    char *v = it_sql_value(sql);
    long long n = v ? atoll(v) : -1;

    free(v);
    return n;
}

/* No key has two current versions whose periods overlap. */
static const char *overlap_sql =
    "SELECT count(*) FROM master.institutions a JOIN master.institutions b ON a.code = b.code AND "
    "a.version < b.version WHERE a.superseded_at IS NULL AND b.superseded_at IS NULL AND "
    "daterange(a.valid_from, a.valid_to, '[]') && daterange(b.valid_from, b.valid_to, '[]')";

START_TEST(concurrent_imports_serialise)
{
    /* Four imports at once over the same 300 keys, each from another date: every one commits
     * and none sees another's staged rows. How many periods a key ends with depends on the
     * order the imports took the lock (a later start date keeps the earlier periods, an earlier
     * one replaces them): one to four, never overlapping. */
    static const char *from[] = {"2026-01-01", "2026-04-01", "2026-07-01", "2026-10-01"};
    static const char *suffix[] = {"A", "B", "C", "D"};
    int base = 900000 + (int)(ss_now_us() % 90000);
    struct job jobs[4];
    pthread_t th[4];
    char code[11], sql[512];

    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct job){base, 300, from[i], suffix[i], 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, import_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].status, 200);
    }
    ck_assert_int_eq(sql_count(overlap_sql), 0);
    inst_code(base + 7, code);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM master.institutions WHERE code = '%s' AND superseded_at IS NULL",
             code);
    ck_assert_int_ge(sql_count(sql), 1);
    ck_assert_int_le(sql_count(sql), 4);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM master.stage_institutions"), 0);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM master.stage_diff"), 0);
}
END_TEST

struct put_job {
    const char *key;
    char body[256];
    long status;
};

static void *put_job(void *arg)
{
    struct put_job *j = arg;
    char path[128];
    it_resp r = {0};

    snprintf(path, sizeof(path), "/api/v1/masters/banks/items/%s", j->key);
    if (it_call("PUT", path, g_tok, j->body, &r) == 0)
        j->status = r.status;
    it_resp_free(&r);
    return NULL;
}

START_TEST(concurrent_updates_keep_history)
{
    /* A new bank, then eight updates of it at once from eight dates. */
    char key[5], body[256];
    struct put_job jobs[8];
    pthread_t th[8];
    it_resp r = {0};
    char sql[512];

    snprintf(key, sizeof(key), "%04d", 9000 + (int)(ss_now_us() % 900));
    snprintf(body, sizeof(body),
             "{\"code\":\"%s\",\"name\":\"並行銀行\",\"name_kana\":\"ﾍｲｺｳ\",\"valid_from\":\"2025-"
             "01-01\"}",
             key);
    ck_assert_int_eq(it_call("POST", "/api/v1/masters/banks", g_tok, body, &r), 0);
    ck_assert_int_eq(r.status, 201);
    it_resp_free(&r);
    for (int i = 0; i < 8; i++) {
        jobs[i].key = key;
        jobs[i].status = 0;
        snprintf(jobs[i].body, sizeof(jobs[i].body),
                 "{\"name\":\"並行銀行%d\",\"name_kana\":\"ﾍｲｺｳ\",\"valid_from\":\"2026-%02d-01\"}",
                 i, i + 1);
        ck_assert_int_eq(pthread_create(&th[i], NULL, put_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].status, 200);
    }
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM master.banks a JOIN master.banks b ON a.code = b.code AND "
             "a.version < b.version WHERE a.code = '%s' AND a.superseded_at IS NULL AND "
             "b.superseded_at IS NULL AND daterange(a.valid_from, a.valid_to, '[]') && "
             "daterange(b.valid_from, b.valid_to, '[]')",
             key);
    ck_assert_int_eq(sql_count(sql), 0);
    /* The 2025 period survives every update (each starts in 2026); how many 2026 periods do
     * depends on the order the updates took the lock. Every update superseded at least one. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM master.banks WHERE code = '%s' AND superseded_at IS NULL", key);
    ck_assert_int_ge(sql_count(sql), 2);
    ck_assert_int_le(sql_count(sql), 9);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM master.banks WHERE code = '%s' AND superseded_at IS NOT NULL",
             key);
    ck_assert_int_ge(sql_count(sql), 8);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM master.stage_banks"), 0);
}
END_TEST

/* Every statement of the service's sql/ files parses against the migrated schema. */
START_TEST(sql_files_prepare)
{
    ck_assert_int_eq(it_sql_prepare_all(mst_sql_all), 0);
}
END_TEST

static Suite *master_suite(void)
{
    Suite *s = suite_create("master");
    TCase *tc = tcase_create("engine");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sql_files_prepare);
    tcase_add_test(tc, concurrent_imports_serialise);
    tcase_add_test(tc, concurrent_updates_keep_history);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (it_make_signing_key() != 0) {
        fprintf(stderr, "master_test: cannot make a signing key\n");
        return 1;
    }
    if (it_start(&mst_service) < 0 || (g_tok = mint_operator()) == NULL) {
        it_drop_signing_key();
        return 1;
    }
    sr = srunner_create(master_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(g_tok);
    it_stop();
    it_drop_signing_key();
    return failed == 0 ? 0 : 1;
}
