/* test_codes.c - check digits against real codes (docs/domain.md §2) and near misses. */
#include <check.h>
#include <stdlib.h>

#include "sesshu/codes.h"

START_TEST(municipality_real_codes)
{
    ck_assert(ss_code_municipality_ok("131130")); /* 渋谷区 */
    ck_assert(ss_code_municipality_ok("131041")); /* 新宿区 */
    ck_assert(ss_code_municipality_ok("011002")); /* 札幌市 */
    ck_assert(ss_code_municipality_ok("010006")); /* 北海道 */
    ck_assert(ss_code_municipality_ok("271004")); /* 大阪市 */
}
END_TEST

START_TEST(municipality_near_misses)
{
    ck_assert(!ss_code_municipality_ok("131131"));
    ck_assert(!ss_code_municipality_ok("131140"));
    ck_assert(!ss_code_municipality_ok("13113"));
    ck_assert(!ss_code_municipality_ok("1311300"));
    ck_assert(!ss_code_municipality_ok("13113a"));
    ck_assert(!ss_code_municipality_ok("000000")); /* prefecture 00 does not exist */
    ck_assert(!ss_code_municipality_ok(""));
    ck_assert(!ss_code_municipality_ok(NULL));
}
END_TEST

START_TEST(institution_codes)
{
    ck_assert(ss_code_institution_ok("0110113719"));
    ck_assert(!ss_code_institution_ok("0110113718"));
    ck_assert(!ss_code_institution_ok("0120113719")); /* digit 3 must be 1, 3 or 4 */
    ck_assert(!ss_code_institution_ok("011011371"));
    ck_assert(!ss_code_institution_ok("01101137190"));
}
END_TEST

START_TEST(my_number_and_insurer)
{
    ck_assert(ss_code_my_number_ok("983205673214"));
    ck_assert(!ss_code_my_number_ok("983205673215"));
    ck_assert(!ss_code_my_number_ok("98320567321"));
    ck_assert(ss_code_insurer_ok("33120015"));
    ck_assert(!ss_code_insurer_ok("33120016"));
    ck_assert(!ss_code_insurer_ok("3312001"));
}
END_TEST

START_TEST(prefecture_codes)
{
    ck_assert(ss_code_prefecture_ok("01"));
    ck_assert(ss_code_prefecture_ok("47"));
    ck_assert(!ss_code_prefecture_ok("00"));
    ck_assert(!ss_code_prefecture_ok("48"));
    ck_assert(!ss_code_prefecture_ok("1"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codes");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, municipality_real_codes);
    tcase_add_test(tc, municipality_near_misses);
    tcase_add_test(tc, institution_codes);
    tcase_add_test(tc, my_number_and_insurer);
    tcase_add_test(tc, prefecture_codes);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
