/* test_master_codes.c - every code the master reference data ships (services/master/migrations)
 * passes its check digit in the library's validators (codes.h), and every one-digit change of
 * the check digit fails: the SQL constraints and the C rules agree on real codes. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/codes.h"
#include "unit.h"

/* Count the data lines "    ('<digits>', ..." of a migration whose first value has `len`
 * digits, asserting each passes ok() and each changed check digit fails it. */
static int scan(const char *file, size_t len, bool (*ok)(const char *))
{
    const char *src = getenv("SESSHU_TEST_SRC");
    char path[512], line[2048];
    FILE *f;
    int n = 0;

    ck_assert_ptr_nonnull(src);
    snprintf(path, sizeof(path), "%s/../../services/master/migrations/%s", src, file);
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    while (fgets(line, sizeof(line), f) != NULL) {
        char code[16];

        if (strncmp(line, "    ('", 6) != 0 || strspn(line + 6, "0123456789") != len ||
            line[6 + len] != '\'')
            continue;
        memcpy(code, line + 6, len);
        code[len] = '\0';
        ck_assert_msg(ok(code), "%s fails its check digit", code);
        for (char d = '0'; d <= '9'; d++) {
            if (d == line[6 + len - 1])
                continue;
            code[len - 1] = d;
            ck_assert_msg(!ok(code), "%s passes with a wrong check digit", code);
        }
        n++;
    }
    fclose(f);
    return n;
}

START_TEST(reference_municipalities)
{
    /* Tokyo's 23 wards, 46 other prefectural capitals and 美濃加茂市. */
    ck_assert_int_eq(scan("002_reference.sql", 6, ss_code_municipality_ok), 70);
}
END_TEST

/* 医療機関コード, or the non-insurance pseudo-code (digit 3 = 9, same Luhn digit). */
static bool inst_or_pseudo_ok(const char *s)
{
    int sum = 0;

    if (s[2] != '9')
        return ss_code_institution_ok(s);
    for (int i = 0; i < 9; i++) {
        int d = s[8 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return strlen(s) == 10 && (10 - sum % 10) % 10 == s[9] - '0';
}

START_TEST(reference_institutions)
{
    /* 003 lists insurance institutions (digit 3 = 1/3/4) and one non-insurance pseudo-code. */
    int n = scan("003_vaccination.sql", 10, inst_or_pseudo_ok);

    ck_assert_int_ge(n, 5);
}
END_TEST

START_TEST(real_codes_and_near_misses)
{
    ck_assert(ss_code_municipality_ok("131130")); /* 渋谷区 */
    ck_assert(ss_code_municipality_ok("131016")); /* 千代田区 */
    ck_assert(ss_code_municipality_ok("401307")); /* 福岡市 */
    ck_assert(ss_code_municipality_ok("472018")); /* 那覇市 */
    ck_assert(!ss_code_municipality_ok("401300"));
    ck_assert(!ss_code_municipality_ok("481307")); /* no prefecture 48 */
    ck_assert(ss_code_institution_ok("0110113719"));
    ck_assert(!ss_code_institution_ok("0110113791")); /* transposed */
    ck_assert(!ss_code_institution_ok("0190113719")); /* 点数表 9 is no insurance code */
}
END_TEST

UNIT_MAIN("master_codes", reference_municipalities, reference_institutions,
          real_codes_and_near_misses)
