/* test_csv.c - the CSV reader and writer and the iconv wrapper (csv.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/csv.h"
#include "sesshu/err.h"
#include "unit.h"

static ss_csv *open_str(const char *s)
{
    ss_csv *c = NULL;

    ck_assert_int_eq(ss_csv_open(&c, s, strlen(s)), 0);
    return c;
}

START_TEST(csv_plain_and_quoted)
{
    ss_csv *c = open_str("a,b,c\r\n\"x,1\",\"he said \"\"hi\"\"\",\r\n\n\"multi\nline\",z\nlast");
    char **f;
    size_t n;
    long line;

    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(line, 1);
    ck_assert_str_eq(f[2], "c");
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(line, 2);
    ck_assert_str_eq(f[0], "x,1");
    ck_assert_str_eq(f[1], "he said \"hi\"");
    ck_assert_str_eq(f[2], "");
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1);
    ck_assert_int_eq(line, 4); /* the blank line 3 is skipped */
    ck_assert_str_eq(f[0], "multi\nline");
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1);
    ck_assert_int_eq(line, 6);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(f[0], "last");
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 0);
    ss_csv_close(c);
}
END_TEST

START_TEST(csv_trailing_separator_at_end)
{
    /* A record ending in a separator at the very end of the buffer (no line break). */
    const char *s = "a,b,";
    ss_csv *c = NULL;
    char **f;
    size_t n;
    long line;

    ck_assert_int_eq(ss_csv_open(&c, s, strlen(s)), 0);
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(f[2], "");
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 0);
    ss_csv_close(c);
}
END_TEST

START_TEST(csv_malformed)
{
    ss_csv *c = open_str("ok,1\n\"open,2\n");
    char **f;
    size_t n;
    long line;

    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1);
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), SS_ERR_VALIDATION);
    ck_assert_int_eq(line, 2);
    ss_csv_close(c);
    c = open_str("\"a\"b,1\nx\"y,2\ngood,3\n");
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), SS_ERR_VALIDATION);
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), SS_ERR_VALIDATION);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1); /* the reader goes on after a bad line */
    ck_assert_str_eq(f[0], "good");
    ck_assert_int_eq(line, 3);
    ss_csv_close(c);
}
END_TEST

START_TEST(csv_write_round_trip)
{
    const char *vals[] = {"plain", "a,b", "say \"x\"", " pad", "two\nlines", ""};
    ss_buf b = {0};
    ss_csv *c;
    char **f;
    size_t n;
    long line;

    for (size_t i = 0; i < 6; i++) {
        if (i > 0)
            ck_assert_int_eq(ss_buf_str(&b, ","), 0);
        ck_assert_int_eq(ss_csv_put(&b, vals[i]), 0);
    }
    ck_assert_int_eq(ss_buf_str(&b, "\r\n"), 0);
    ck_assert_str_eq(b.s, "plain,\"a,b\",\"say \"\"x\"\"\",\" pad\",\"two\nlines\",\r\n");
    c = open_str(b.s);
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1);
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(f[i], vals[i]);
    ss_csv_close(c);
    ss_buf_free(&b);
}
END_TEST

START_TEST(csv_formula_guard)
{
    /* What a spreadsheet would run gets one apostrophe; the reader takes exactly that one off. */
    const char *vals[] = {"=HYPERLINK(\"http://x\")",
                          "@SUM(A1)",
                          "+1",
                          "-1",
                          "\tx",
                          "'=x",
                          "'plain",
                          "a=b",
                          "",
                          "''@y"};
    const char *want =
        "\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(A1),'+1,'-1,'\tx,''=x,'plain,a=b,,'''@y";
    size_t nv = sizeof(vals) / sizeof(vals[0]);
    ss_buf b = {0};
    ss_csv *c;
    char **f;
    size_t n;
    long line;

    for (size_t i = 0; i < nv; i++) {
        if (i > 0)
            ck_assert_int_eq(ss_buf_str(&b, ","), 0);
        ck_assert_int_eq(ss_csv_put(&b, vals[i]), 0);
    }
    ck_assert_str_eq(b.s, want);
    c = open_str(b.s);
    ck_assert_int_eq(ss_csv_next(c, &f, &n, &line), 1);
    ck_assert_uint_eq(n, nv);
    for (size_t i = 0; i < nv; i++)
        ck_assert_str_eq(f[i], vals[i]);
    ss_csv_close(c);
    ss_buf_free(&b);
    /* A number the writer formatted itself is written as it is. */
    ck_assert_int_eq(ss_csv_field(&b, "-42", true), 0);
    ck_assert_str_eq(b.s, "-42");
    ss_buf_free(&b);
    /* A bounded buffer stops with SS_ERR_TOO_LARGE. */
    b.max = 5;
    ck_assert_int_eq(ss_buf_str(&b, "abc"), 0);
    ck_assert_int_eq(ss_buf_str(&b, "de"), SS_ERR_TOO_LARGE);
    ss_buf_free(&b);
}
END_TEST

START_TEST(iconv_shift_jis)
{
    /* 渋谷区 in CP932 is 8F 61 92 4A 8B E6; ｼﾌﾞﾔ (half-width) is B C C 8C DE D4. */
    const char sjis[] = "\x8f\x61\x92\x4a\x8b\xe6,\xbc\xcc\xde\xd4";
    char *u = NULL, *back = NULL;
    size_t ul = 0, bl = 0, bad = 0;

    ck_assert_int_eq(ss_iconv("CP932", "UTF-8", sjis, strlen(sjis), &u, &ul, &bad), 0);
    ck_assert_str_eq(u, "渋谷区,ｼﾌﾞﾔ");
    ck_assert_int_eq(ss_iconv("UTF-8", "CP932", u, ul, &back, &bl, &bad), 0);
    ck_assert_uint_eq(bl, strlen(sjis));
    ck_assert_mem_eq(back, sjis, bl);
    free(u);
    free(back);
    /* A lone lead byte, and bytes that are no UTF-8. */
    ck_assert_int_eq(ss_iconv("CP932", "UTF-8", "ab\x81", 3, &u, &ul, &bad), SS_ERR_VALIDATION);
    ck_assert_ptr_null(u);
    ck_assert_int_eq(ss_iconv("UTF-8", "CP932", "ok\xff\xfe", 4, &u, &ul, &bad), SS_ERR_VALIDATION);
    ck_assert_uint_eq(bad, 2);
    ck_assert_int_eq(ss_iconv("NO-SUCH-CHARSET", "UTF-8", "a", 1, &u, &ul, &bad), SS_ERR_INTERNAL);
}
END_TEST

START_TEST(iconv_grows_buffer)
{
    /* 20,000 half-width kana: every byte becomes three UTF-8 bytes (more than the first guess). */
    size_t n = 20000, ul = 0, bad = 0;
    char *in = malloc(n), *u = NULL;

    memset(in, 0xB1, n); /* ｱ */
    ck_assert_int_eq(ss_iconv("CP932", "UTF-8", in, n, &u, &ul, &bad), 0);
    ck_assert_uint_eq(ul, 3 * n);
    ck_assert_str_eq(u + ul - 3, "ｱ");
    free(in);
    free(u);
}
END_TEST

UNIT_MAIN("csv", csv_formula_guard, csv_plain_and_quoted, csv_trailing_separator_at_end,
          csv_malformed, csv_write_round_trip, iconv_shift_jis, iconv_grows_buffer)
