/* test_text.c - UTF-8, dates, timestamps, e-mail addresses, the error table. */
#include <string.h>

#include "sesshu/err.h"
#include "sesshu/text.h"
#include "unit.h"

#define U8(s) ss_utf8_valid((s), sizeof(s) - 1)

START_TEST(utf8_accepts_japanese)
{
    ck_assert(U8("予防接種 よぼうせっしゅ ﾖﾎﾞｳ"));
    ck_assert(U8("\xF0\x9F\x92\x89")); /* U+1F489 syringe */
    ck_assert_uint_eq(ss_utf8_len("予防"), 2);
}
END_TEST

START_TEST(utf8_rejects_bad_sequences)
{
    ck_assert(!U8("\xC0\xAF"));         /* overlong '/' */
    ck_assert(!U8("\xE0\x80\xAF"));     /* overlong */
    ck_assert(!U8("\xED\xA0\x80"));     /* surrogate */
    ck_assert(!U8("\xF4\x90\x80\x80")); /* > U+10FFFF */
    ck_assert(!U8("\xE3\x81"));         /* truncated */
    ck_assert(!U8("\xFF"));
    ck_assert(!U8("a\0b"));     /* NUL */
    ck_assert(!U8("\x82\xA0")); /* Shift_JIS あ */
}
END_TEST

START_TEST(dates)
{
    ck_assert(ss_date_ok("2024-02-29"));
    ck_assert(!ss_date_ok("2023-02-29"));
    ck_assert(!ss_date_ok("2026-13-01"));
    ck_assert(!ss_date_ok("2026-1-01"));
    ck_assert(!ss_date_ok("2026-01-01T00:00:00Z"));
    ck_assert(ss_timestamp_ok("2026-11-25T09:00:00+09:00"));
    ck_assert(ss_timestamp_ok("2026-11-25T00:00:00.123Z"));
    ck_assert(!ss_timestamp_ok("2026-11-25T09:00:00"));
    ck_assert(!ss_timestamp_ok("2026-11-25 09:00:00Z"));
    ck_assert(!ss_timestamp_ok("2026-11-25T25:00:00Z"));
}
END_TEST

START_TEST(uuids)
{
    ck_assert(ss_uuid_ok("6f1c1d1e-0000-4000-8000-0000000000aa"));
    ck_assert(ss_uuid_ok("6F1C1D1E-0000-4000-8000-0000000000AA"));
    ck_assert(!ss_uuid_ok("6f1c1d1e-0000-4000-8000-0000000000a"));
    ck_assert(!ss_uuid_ok("6f1c1d1e00000-4000-8000-0000000000aa"));
    ck_assert(!ss_uuid_ok("6f1c1d1e-0000-4000-8000-0000000000ag"));
    ck_assert(!ss_uuid_ok("' OR 1=1 --"));
    ck_assert(!ss_uuid_ok(NULL));
}
END_TEST

START_TEST(emails)
{
    ck_assert(ss_email_ok("taro.yamada@city.shibuya.tokyo.jp"));
    ck_assert(!ss_email_ok("taro"));
    ck_assert(!ss_email_ok("a@b"));
    ck_assert(!ss_email_ok("a@@b.jp"));
    ck_assert(!ss_email_ok("a b@c.jp"));
    ck_assert(!ss_email_ok("a@c.jp\r\nBcc: x@y.jp"));
    ck_assert(!ss_email_ok("a@c..jp"));
}
END_TEST

START_TEST(error_table)
{
    ck_assert_int_eq(ss_err_http(SS_ERR_NOT_FOUND), 404);
    ck_assert_int_eq(ss_err_http(SS_ERR_VALIDATION), 422);
    ck_assert_int_eq(ss_err_http(SS_ERR_UNAVAILABLE), 503);
    ck_assert_int_eq(ss_err_http(-9999), 500);
    ck_assert_str_eq(ss_err_slug(SS_ERR_TOO_LARGE), "payload-too-large");
    ck_assert_str_eq(ss_err_name(SS_ERR_CONFLICT), "SS_ERR_CONFLICT");
}
END_TEST

UNIT_MAIN("text", utf8_accepts_japanese, utf8_rejects_bad_sequences, dates, uuids, emails,
          error_table)
