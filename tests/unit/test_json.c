/* test_json.c - declarative body checks, pagination cursors. */
#include <string.h>

#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/http.h"
#include "sesshu/page.h"
#include "unit.h"

static const char *const roles[] = {"admin", "user", NULL};
static const ss_field fields[] = {
    {"user_id", SS_F_STRING, true, 4, 64, NULL, false},
    {"email", SS_F_EMAIL, true, 0, 254, NULL, false},
    {"role", SS_F_ENUM, false, 0, 0, roles, false},
    {"age", SS_F_INT, false, 0, 150, NULL, false},
    {"born", SS_F_DATE, false, 0, 0, NULL, true},
    {"tags", SS_F_ARRAY, false, 0, 3, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static int check(const char *text, ss_req *r)
{
    json_t *j = json_loads(text, 0, NULL);
    int rc;

    memset(r, 0, sizeof(*r));
    ck_assert_ptr_nonnull(j);
    rc = ss_json_check(r, j, fields);
    json_decref(j);
    return rc;
}

static const char *first_field(const ss_req *r)
{
    return json_string_value(json_object_get(json_array_get(r->errors, 0), "field"));
}

START_TEST(valid_body)
{
    ss_req r;

    ck_assert_int_eq(check("{\"user_id\":\"taro\",\"email\":\"t@x.jp\",\"role\":\"admin\","
                           "\"age\":30,\"born\":null,\"tags\":[1,2]}",
                           &r),
                     0);
    ck_assert_ptr_null(r.errors);
}
END_TEST

START_TEST(each_error_named)
{
    ss_req r;

    ck_assert_int_eq(check("{\"email\":\"t@x.jp\"}", &r), SS_ERR_VALIDATION);
    ck_assert_str_eq(first_field(&r), "user_id");
    json_decref(r.errors);
    ck_assert_int_eq(check("{\"user_id\":\"taro\",\"email\":\"t@x.jp\",\"admin\":true}", &r),
                     SS_ERR_VALIDATION);
    ck_assert_str_eq(first_field(&r), "admin");
    json_decref(r.errors);
    ck_assert_int_eq(check("{\"user_id\":12,\"email\":\"t@x.jp\"}", &r), SS_ERR_VALIDATION);
    json_decref(r.errors);
    ck_assert_int_eq(check("{\"user_id\":\"abc\",\"email\":\"t@x.jp\"}", &r), SS_ERR_VALIDATION);
    json_decref(r.errors);
    ck_assert_int_eq(check("{\"user_id\":\"taro\",\"email\":\"nope\",\"role\":\"root\",\"age\":151,"
                           "\"tags\":[1,2,3,4]}",
                           &r),
                     SS_ERR_VALIDATION);
    ck_assert_uint_eq(json_array_size(r.errors), 4);
    json_decref(r.errors);
    ck_assert_int_eq(check("{\"user_id\":\"ta\\u0001ro\",\"email\":\"t@x.jp\"}", &r),
                     SS_ERR_VALIDATION);
    json_decref(r.errors);
    ck_assert_int_eq(
        check("{\"user_id\":\"taro\",\"email\":\"t@x.jp\",\"born\":\"2023-02-29\"}", &r),
        SS_ERR_VALIDATION);
    json_decref(r.errors);
}
END_TEST

START_TEST(japanese_length_in_characters)
{
    ss_req r;

    /* 4 characters, 12 bytes: within [4,64] */
    ck_assert_int_eq(check("{\"user_id\":\"山田太郎\",\"email\":\"t@x.jp\"}", &r), 0);
}
END_TEST

START_TEST(cursor_roundtrip)
{
    json_t *key = json_pack("[s,i]", "2026-11-25T00:00:00Z", 42);
    char *c = ss_page_cursor(key);

    ck_assert_ptr_nonnull(c);
    ck_assert(strpbrk(c, "+/=") == NULL);
    json_decref(key);
    free(c);
}
END_TEST

UNIT_MAIN("json", valid_body, each_error_named, japanese_length_in_characters, cursor_roundtrip)
