/* harness.c - in-process HTTP test harness (harness.h). */
#include "harness.h"
#include <check.h>

#include "sesshu/server.h"
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/jwt.h"

static int g_port = -1;

/* Every integration test needs the database of the throwaway stack (scripts/test.sh starts it
 * and exports SESSHU_DB_*). Without one the test is skipped, not failed: exit 77, which CTest
 * reports as "Skipped" (SKIP_RETURN_CODE in tests/integration/CMakeLists.txt). PQping needs no
 * credentials: a server that answers at all is there. Runs before main. */
__attribute__((constructor)) static void it_need_database(void)
{
    char ci[512];

    snprintf(ci, sizeof(ci), "host=%s port=%s dbname=%s connect_timeout=3",
             ss_cfg_str(SS_ENV_DB_HOST, "127.0.0.1"), ss_cfg_str(SS_ENV_DB_PORT, "5433"),
             ss_cfg_str(SS_ENV_DB_NAME, "sesshu"));
    if (PQping(ci) != PQPING_OK) {
        fprintf(stderr, "skipped: no database at %s (start the stack: scripts/test.sh does)\n", ci);
        exit(77);
    }
}

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int it_start(const ss_service *svc)
{
    int port = free_port();

    if (port <= 0 || ss_server_start(svc, port) != 0) {
        fprintf(stderr, "harness: cannot start %s (is the test database up and SESSHU_* set?)\n",
                svc->name);
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_port = port;
    return port;
}

void it_stop(void)
{
    ss_server_stop();
    curl_global_cleanup();
    g_port = -1;
}

typedef struct sink {
    char *data;
    size_t len;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    char *nd = realloc(s->data, s->len + size * n + 1);

    if (nd == NULL)
        return 0;
    s->data = nd;
    memcpy(s->data + s->len, p, size * n);
    s->len += size * n;
    s->data[s->len] = '\0';
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    it_resp *r = arg;
    size_t len = size * n;
    char line[256];

    if (len >= sizeof(line))
        return len;
    memcpy(line, p, len);
    line[len] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "Content-Type: ", 14) == 0)
        snprintf(r->content_type, sizeof(r->content_type), "%.*s", (int)sizeof(r->content_type) - 1,
                 line + 14);
    else if (strncasecmp(line, "X-Next-Cursor: ", 15) == 0)
        snprintf(r->next_cursor, sizeof(r->next_cursor), "%.*s", (int)sizeof(r->next_cursor) - 1,
                 line + 15);
    else if (strncasecmp(line, "X-Request-Id: ", 14) == 0)
        snprintf(r->request_id, sizeof(r->request_id), "%.*s", (int)sizeof(r->request_id) - 1,
                 line + 14);
    return len;
}

static int call(const char *method, const char *path, const char *bearer, const char *body,
                const char *content_type, const char *accept, it_resp *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[2048], hdr[8300];
    sink s = {NULL, 0};
    CURLcode cc;

    memset(out, 0, sizeof(*out));
    if (c == NULL || g_port <= 0)
        return -1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", g_port, path);
    if (bearer != NULL) {
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", bearer);
        h = curl_slist_append(h, hdr);
    }
    if (body != NULL) {
        snprintf(hdr, sizeof(hdr), "Content-Type: %s",
                 content_type ? content_type : "application/json");
        h = curl_slist_append(h, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (accept != NULL) {
        snprintf(hdr, sizeof(hdr), "Accept: %s", accept);
        h = curl_slist_append(h, hdr);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    out->raw = s.data ? s.data : strdup("");
    if (strstr(out->content_type, "json") != NULL)
        out->json = json_loads(out->raw, 0, NULL);
    return cc == CURLE_OK ? 0 : -1;
}

int it_call_ct(const char *method, const char *path, const char *bearer, const char *body,
               const char *content_type, it_resp *out)
{
    return call(method, path, bearer, body, content_type, NULL, out);
}

int it_get_accept(const char *path, const char *bearer, const char *accept, it_resp *out)
{
    return call("GET", path, bearer, NULL, NULL, accept, out);
}

int it_call(const char *method, const char *path, const char *bearer, const char *body,
            it_resp *out)
{
    return it_call_ct(method, path, bearer, body, NULL, out);
}

void it_resp_free(it_resp *r)
{
    if (r == NULL)
        return;
    json_decref(r->json);
    free(r->raw);
    r->json = NULL;
    r->raw = NULL;
}

char *it_sql_value(const char *sql)
{
    PGresult *res = NULL;
    char *v = NULL;

    if (ss_db_query(ss_server_db(), sql, 0, NULL, &res) == 0 && PQntuples(res) > 0 &&
        !PQgetisnull(res, 0, 0))
        v = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

/* ss_sql_check over `all` on `db`; prints the first failure, or how many prepared. 0 or -1. */
static int sql_check_all(ss_db *db, const ss_sql_stmt *all)
{
    char err[2048];
    int n = 0;

    for (const ss_sql_stmt *s = all; s->name != NULL; s++)
        n++;
    if (ss_sql_check(db, all, err, sizeof(err)) != 0) {
        fprintf(stderr, "a statement does not prepare: %s\n", err);
        return -1;
    }
    fprintf(stderr, "%d statements prepare\n", n);
    return 0;
}

int it_sql_prepare_all(const ss_sql_stmt *all)
{
    return sql_check_all(ss_server_db(), all);
}

/* What it_sql_files_main's one test checks (a check test takes no arguments). */
static const ss_service *g_sql_svc;
static const ss_sql_stmt *g_sql_all;

START_TEST(sql_files_prepare)
{
    char *conninfo = ss_db_conninfo(g_sql_svc->env_name);
    ss_db *db = NULL;
    int rc;

    ck_assert_ptr_nonnull(conninfo);
    ck_assert_int_eq(ss_db_open(&db, conninfo, 1), 0);
    rc = sql_check_all(db, g_sql_all);
    ss_db_close(db);
    free(conninfo);
    ck_assert_int_eq(rc, 0);
}
END_TEST

int it_sql_files_main(const ss_service *svc, const ss_sql_stmt *all)
{
    char name[64];
    Suite *s;
    TCase *tc = tcase_create("sql");
    SRunner *sr;
    int failed;

    g_sql_svc = svc;
    g_sql_all = all;
    snprintf(name, sizeof(name), "%s_sql", svc->name);
    s = suite_create(name);
    tcase_add_test(tc, sql_files_prepare);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

static char g_keydir[64];

int it_make_signing_key(void)
{
    char path[128];
    EVP_PKEY *k = NULL;
    FILE *f = NULL;
    int rc = -1;

    snprintf(g_keydir, sizeof(g_keydir), "/tmp/sesshu-it-key-XXXXXX");
    if (mkdtemp(g_keydir) == NULL || (k = EVP_EC_gen("P-256")) == NULL)
        goto out;
    snprintf(path, sizeof(path), "%s/signing.pem", g_keydir);
    if ((f = fopen(path, "w")) == NULL || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL))
        goto out;
    setenv("SESSHU_JWT_SIGNING_KEY_FILE", path, 1);
    /* The in-process services sign with this key, not the stack's (server.c own_signing_key). */
    unsetenv("SESSHU_ACCOUNT_SIGNING_KEY_FILE");
    unsetenv("SESSHU_TOKEN_SIGNING_KEY_FILE");
    unsetenv("SESSHU_AUDIT_SIGNING_KEY_FILE");
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    EVP_PKEY_free(k);
    return rc;
}

void it_drop_signing_key(void)
{
    char path[128];

    if (g_keydir[0] == '\0')
        return;
    snprintf(path, sizeof(path), "%s/signing.pem", g_keydir);
    unlink(path);
    rmdir(g_keydir);
}

json_t *it_expect(const char *method, const char *path, const char *bearer, const char *body,
                  long expect)
{
    it_resp r = {0};
    json_t *j;

    ck_assert_int_eq(it_call(method, path, bearer, body, &r), 0);
    ck_assert_msg(r.status == expect, "%s %s: expected %ld, got %ld: %s", method, path, expect,
                  r.status, r.raw ? r.raw : "");
    if (expect >= 400)
        ck_assert_str_eq(r.content_type, "application/problem+json");
    j = r.json != NULL ? json_incref(r.json) : NULL;
    it_resp_free(&r);
    return j;
}

char *it_user_token(int org_type, int role, const char *org_code, const char *muni,
                    const char *pref, char *org_id)
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
    snprintf(p.org_code, sizeof(p.org_code), "%s", org_code ? org_code : "");
    snprintf(p.muni_code, sizeof(p.muni_code), "%s", muni ? muni : "");
    snprintf(p.pref_code, sizeof(p.pref_code), "%s", pref ? pref : "");
    p.org_type = org_type;
    p.role = role;
    if (org_id != NULL)
        snprintf(org_id, 40, "%s", p.org_id);
    claims = ss_jwt_user_claims(&p, 3600);
    if (claims == NULL || ss_jwt_sign(claims, &tok) != 0)
        tok = NULL;
    json_decref(claims);
    return tok;
}

int it_main(const ss_service *svc, Suite *suite)
{
    SRunner *sr;
    int failed;

    if (it_make_signing_key() != 0) {
        fprintf(stderr, "harness: cannot make a signing key\n");
        return 1;
    }
    if (it_start(svc) < 0) {
        it_drop_signing_key();
        return 1;
    }
    sr = srunner_create(suite);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    it_stop();
    it_drop_signing_key();
    return failed == 0 ? 0 : 1;
}
