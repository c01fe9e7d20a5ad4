/* test_feed.c - the records change-feed client (sesshu/feed.h) without a records service: the
 * page path, what a page must hold to be applied, and a records service that cannot be reached
 * (an error, a service token made once and reused, nothing applied). The exchanges with the real
 * feeds are covered by the certificate and stats API tests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sesshu/err.h"
#include "sesshu/feed.h"
#include "sesshu/jwt.h"
#include "sesshu/svc.h"
#include "unit.h"

static int never_called(ss_dbc *c, json_t *items, void *ud)
{
    (void)c;
    (void)items;
    (void)ud;
    ck_abort_msg("a page was applied without a records service");
    return 0;
}

static ss_feed stats_feed(void)
{
    ss_feed f = {.svc = "stats",
                 .path = "/internal/v1/stats-feed",
                 .limit = 250,
                 .max_pages = 3,
                 .timeout_ms = 2000,
                 .sql_advance = "SELECT 1",
                 .apply = never_called,
                 .race_ends = true};
    return f;
}

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);

    ck_assert_ptr_nonnull(j);
    return j;
}

START_TEST(page_path)
{
    ss_feed f = stats_feed();
    char path[256], small[40];

    ck_assert_int_eq(ss_feed_path(&f, "812-3", path, sizeof(path)), 0);
    ck_assert_str_eq(path, "/internal/v1/stats-feed?after=812-3&limit=250");
    /* No cursor: the feed's head. */
    ck_assert_int_eq(ss_feed_path(&f, NULL, path, sizeof(path)), 0);
    ck_assert_str_eq(path, "/internal/v1/stats-feed");
    ck_assert_int_eq(ss_feed_path(&f, "812-3", small, sizeof(small)), SS_ERR_TOO_LARGE);
    /* A feed the reader filters (payment's, per institution and month): the cursor after '&'. */
    f.path = "/internal/v1/claims-feed?institution_code=1310000001&month=2026-11";
    f.limit = 5000;
    ck_assert_int_eq(ss_feed_path(&f, "0-0", path, sizeof(path)), 0);
    ck_assert_str_eq(path, "/internal/v1/claims-feed?institution_code=1310000001&month=2026-11"
                           "&after=0-0&limit=5000");
}
END_TEST

START_TEST(page_parse)
{
    char cursor[SS_FEED_CURSOR + 1], text[256];
    ss_feed_page pg;

    ck_assert_int_eq(ss_feed_page_parse(load("{\"items\":[{\"id\":1},{\"id\":2}],"
                                             "\"next_after\":\"900-2\"}"),
                                        &pg),
                     0);
    ck_assert_int_eq((int)json_array_size(pg.items), 2);
    ck_assert_str_eq(pg.next, "900-2");
    ss_feed_page_free(&pg);
    ck_assert_ptr_null(pg.answer);
    ck_assert_ptr_null(pg.items);

    /* Nothing to apply: an empty page (the head's answer), no items array, no cursor. */
    const char *none[] = {"{\"items\":[],\"next_after\":\"900-2\"}",
                          "{\"items\":{},\"next_after\":\"900-2\"}", "{\"items\":[{\"id\":1}]}",
                          "{\"items\":[{\"id\":1}],\"next_after\":7}", "{}"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        ck_assert_int_eq(ss_feed_page_parse(load(none[i]), &pg), SS_ERR_NOT_FOUND);
        ck_assert_ptr_null(pg.items);
        ss_feed_page_free(&pg);
    }
    ck_assert_int_eq(ss_feed_page_parse(NULL, &pg), SS_ERR_NOT_FOUND);
    ss_feed_page_free(&pg);

    /* A cursor must fit the stored one: 63 bytes do, 64 do not. */
    memset(cursor, '7', SS_FEED_CURSOR - 1);
    cursor[SS_FEED_CURSOR - 1] = '\0';
    snprintf(text, sizeof(text), "{\"items\":[1],\"next_after\":\"%s\"}", cursor);
    ck_assert_int_eq(ss_feed_page_parse(load(text), &pg), 0);
    ck_assert_str_eq(pg.next, cursor);
    ss_feed_page_free(&pg);
    memset(cursor, '7', SS_FEED_CURSOR);
    cursor[SS_FEED_CURSOR] = '\0';
    snprintf(text, sizeof(text), "{\"items\":[1],\"next_after\":\"%s\"}", cursor);
    ck_assert_int_eq(ss_feed_page_parse(load(text), &pg), SS_ERR_NOT_FOUND);
    ss_feed_page_free(&pg);
}
END_TEST

/* A signing key for the service tokens, and a records URL on a loopback port that is bound but
 * not listening: every connection is refused. The socket stays open until the process ends. */
static void no_records_service(void)
{
    static char keyfile[] = "/tmp/ss-feed-test-XXXXXX";
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    int fd = mkstemp(keyfile), s = socket(AF_INET, SOCK_STREAM, 0);
    FILE *f = fdopen(fd, "w");
    char url[64];

    ck_assert_ptr_nonnull(pk);
    ck_assert(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL));
    fclose(f);
    EVP_PKEY_free(pk);
    setenv("SESSHU_JWT_SIGNING_KEY_FILE", keyfile, 1);
    setenv("SESSHU_JWT_ISSUER", "https://sesshu.test", 1);
    ck_assert_int_eq(ss_jwt_init(true), 0);
    unlink(keyfile);
    ck_assert_int_ge(s, 0);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    setenv("SESSHU_RECORDS_URL", url, 1);
}

START_TEST(records_unreachable)
{
    ss_feed f = stats_feed();
    ss_feed_result done = {.applied = 9, .raced = true};
    char head[SS_FEED_CURSOR] = "x", auth[sizeof(f.auth)];
    json_t *ans = NULL;
    long long at;

    no_records_service();
    ck_assert_int_eq(ss_feed_get(&f, "1-1", &ans), SS_ERR_UNAVAILABLE);
    ck_assert_ptr_null(ans);
    /* The call carried a service token of the stats service for records. */
    ck_assert_int_eq(ss_svc_token_verify(f.auth, "stats", "records"), 0);
    ck_assert_int_ne(ss_svc_token_verify(f.auth, "certificate", "records"), 0);
    at = f.auth_at;
    ck_assert(at > 0);
    snprintf(auth, sizeof(auth), "%s", f.auth);

    ck_assert_int_eq(ss_feed_head(&f, head), SS_ERR_UNAVAILABLE);
    ck_assert_str_eq(head, "");
    /* A poll stops at the first error, having applied nothing. */
    ck_assert_int_eq(ss_feed_poll(&f, "1-1", &done), SS_ERR_UNAVAILABLE);
    ck_assert_int_eq(done.applied, 0);
    ck_assert(!done.raced);
    /* The token is reused, not made again for every call. */
    ck_assert_int_eq(f.auth_at, at);
    ck_assert_str_eq(f.auth, auth);
    /* No stored cursor: nothing is asked. */
    ck_assert_int_eq(ss_feed_poll(&f, "", &done), 0);
    ck_assert_int_eq(done.applied, 0);
}
END_TEST

UNIT_MAIN("feed", page_path, page_parse, records_unreachable)
