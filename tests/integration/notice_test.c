/* notice_test.c - notices (H-11) in-process: posting, targeting, read marks
 * and the unread count, the author check, a 国保連合会's prefecture, history.
 *
 * Runs against the real test database (scripts/test.sh exports SESSHU_*).
 * Tokens are signed with a key made for this run, for principals made up
 * here (fresh organisation ids), so every test sees only its own notices
 * through organisation-targeted audiences. Tests run without fork. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "ntc.h"
#include "sesshu/crypto.h"
#include "sesshu/jwt.h"

/* A token for a made-up user; org_id (room for 40) receives its organisation. */
static char *mint(int org_type, const char *pref, int role, char *org_id)
{
    char *tok = it_user_token(org_type, role, "IT", NULL, pref, org_id);

    ck_assert_ptr_nonnull(tok);
    return tok;
}

static long long unread(const char *tok)
{
    json_t *j = it_expect("GET", "/api/v1/notices/unread-count", tok, NULL, 200);
    long long n = json_integer_value(json_object_get(j, "unread"));

    json_decref(j);
    return n;
}

/* Post a notice for one organisation; id (room for 40) receives its id. */
static void post_for(const char *tok, const char *org, const char *extra, char *id)
{
    char body[512];
    json_t *j;

    snprintf(body, sizeof(body),
             "{\"title\":\"it\",\"body\":\"line 1\\nline 2\",\"audience\":{\"organizations\":"
             "[\"%s\"]}%s}",
             org, extra ? extra : "");
    j = it_expect("POST", "/api/v1/notices", tok, body, 201);
    snprintf(id, 40, "%s", json_string_value(json_object_get(j, "id")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
    json_decref(j);
}

START_TEST(post_read_count)
{
    char org[40], id[40], path[128];
    char *author = mint(SS_ORG_CHUOKAI, NULL, SS_ROLE_USER, NULL);
    char *reader = mint(SS_ORG_MUNICIPALITY, "13", SS_ROLE_USER, org);
    char *other = mint(SS_ORG_MUNICIPALITY, "13", SS_ROLE_USER, NULL);
    long long before = unread(reader), other_before = unread(other);
    json_t *j;

    post_for(author, org, NULL, id);
    ck_assert_int_eq(unread(reader), before + 1);
    ck_assert_int_eq(unread(other), other_before);
    snprintf(path, sizeof(path), "/api/v1/notices/%s/read", id);
    json_decref(it_expect("POST", path, reader, NULL, 204));
    json_decref(it_expect("POST", path, reader, NULL, 204));
    json_decref(it_expect("POST", path, other, NULL, 404));
    ck_assert_int_eq(unread(reader), before);
    j = it_expect("GET", "/api/v1/notices?limit=200", reader, NULL, 200);
    ck_assert(json_array_size(json_object_get(j, "items")) >= 1);
    json_decref(j);
    free(author);
    free(reader);
    free(other);
}
END_TEST

START_TEST(authors_only_and_kokuhoren_prefecture)
{
    char org[40], id[40], path[128];
    char *muni = mint(SS_ORG_MUNICIPALITY, "27", SS_ROLE_ADMIN, org);
    char *ko = mint(SS_ORG_KOKUHOREN, "27", SS_ROLE_USER, NULL);
    char *ko_other = mint(SS_ORG_KOKUHOREN, "01", SS_ROLE_ADMIN, NULL);
    json_t *j;

    json_decref(
        it_expect("POST", "/api/v1/notices", muni, "{\"title\":\"t\",\"body\":\"b\"}", 403));
    json_decref(
        it_expect("POST", "/api/v1/notices", ko,
                  "{\"title\":\"t\",\"body\":\"b\",\"audience\":{\"prefectures\":[\"01\"]}}", 422));
    post_for(ko, org, NULL, id);
    snprintf(path, sizeof(path), "/api/v1/notices/%s/history", id);
    j = it_expect("GET", path, ko, NULL, 200);
    ck_assert_str_eq(
        json_string_value(json_array_get(
            json_object_get(
                json_object_get(json_array_get(json_object_get(j, "items"), 0), "audience"),
                "prefectures"),
            0)),
        "27");
    json_decref(j);
    /* Another 国保連合会 is another organisation: not found. */
    json_decref(it_expect("GET", path, ko_other, NULL, 404));
    snprintf(path, sizeof(path), "/api/v1/notices/%s", id);
    json_decref(it_expect("PATCH", path, ko_other, "{\"title\":\"x\"}", 404));
    json_decref(it_expect("PATCH", path, ko, "{\"title\":\"x\"}", 200));
    json_decref(it_expect("PATCH", path, ko, "{\"publish_until\":\"2001-01-01T00:00:00Z\"}", 422));
    free(muni);
    free(ko);
    free(ko_other);
}
END_TEST

/* Every statement of services/notice/sql parses against the migrated schema (docs/contributing.md).
 */
START_TEST(sql_files_prepare)
{
    ck_assert_int_eq(it_sql_prepare_all(ntc_sql_all), 0);
}
END_TEST

static Suite *notice_suite(void)
{
    Suite *s = suite_create("notice");
    TCase *t = tcase_create("notices");

    tcase_set_timeout(t, 60);
    tcase_add_test(t, sql_files_prepare);
    tcase_add_test(t, post_read_count);
    tcase_add_test(t, authors_only_and_kokuhoren_prefecture);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return it_main(&ntc_service, notice_suite());
}
