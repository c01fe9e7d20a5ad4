/* audit_it.c - what the access-log integration tests (audit_test.c, audit_chain_test.c) share:
 * the tokens they call with, rows tagged for one test, small SQL and HTTP helpers, and the
 * main() that starts the audit service in-process around a suite. */
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

char *ait_tok_national, *ait_tok_muni, *ait_tok_medical, *ait_tok_operator;

/* ---- set-up ---------------------------------------------------------------- */

char *ait_mint(int org_type, const char *muni, int role)
{
    return it_user_token(org_type, role, "IT", muni, NULL, NULL);
}

/* ---- helpers ----------------------------------------------------------------- */

/* A row with every text field set, tagged by tag (request id prefix and
 * resource type). */
ss_audit_row ait_row(const char *rid, const char *tag)
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

long long ait_sql_ll(const char *sql, const char *param)
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

void ait_new_tag(char tag[37])
{
    ck_assert_int_eq(ss_uuid(tag), 0);
}

/* GET as the given token; asserts the status and returns the JSON body. */
json_t *ait_get_json(const char *path, const char *tok, long want)
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

int ait_count_lines(const char *s)
{
    int n = 0;

    for (const char *p = strstr(s, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
        n++;
    return n;
}

/* Does the problem's `errors` name this field? */
bool ait_names_field(const json_t *problem, const char *field)
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
PGconn *ait_own_conn(void)
{
    char *ci = ss_db_conninfo("AUDIT");
    PGconn *c = PQconnectdb(ci);

    free(ci);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    return c;
}

const char *ait_exec_state(PGconn *c, const char *sql, char buf[8])
{
    PGresult *r = PQexec(c, sql);
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    snprintf(buf, 8, "%s", st ? st : "00000");
    PQclear(r);
    return buf;
}

int ait_main(Suite *(*make)(void), const char *name)
{
    SRunner *sr = NULL;
    int failed;

    setenv("SESSHU_AUDIT_TIMEOUT_MS", "2000", 0);
    if (it_make_signing_key() != 0) {
        fprintf(stderr, "%s: cannot make a signing key\n", name);
        return 1;
    }
    if (it_start(&aud_service) < 0) {
        it_drop_signing_key();
        return 1;
    }
    ait_tok_national = ait_mint(SS_ORG_CHUOKAI, NULL, SS_ROLE_ADMIN);
    ait_tok_operator = ait_mint(SS_ORG_OPERATOR, NULL, SS_ROLE_USER);
    ait_tok_muni = ait_mint(SS_ORG_MUNICIPALITY, "990001", SS_ROLE_USER);
    ait_tok_medical = ait_mint(SS_ORG_MEDICAL, NULL, SS_ROLE_ADMIN);
    if (!ait_tok_national || !ait_tok_operator || !ait_tok_muni || !ait_tok_medical) {
        fprintf(stderr, "%s: cannot sign tokens\n", name);
        failed = 1;
        goto out;
    }
    sr = srunner_create(make());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
out:
    free(ait_tok_national);
    free(ait_tok_operator);
    free(ait_tok_muni);
    free(ait_tok_medical);
    it_stop();
    it_drop_signing_key();
    return failed == 0 ? 0 : 1;
}
