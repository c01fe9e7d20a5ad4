/* records_rules_special_test.c - the rule table for the 特例 that make a dose 定期 for a birth
 * cohort (docs/rules.md §7b): 日本脳炎 特例 (施行令 附則: born 1995-04-02 .. 2007-04-01, 4歳 to
 * 20歳未満, R-JE-SPECIAL), the MR 特例 for the FY2024 cohorts recognised by the 市町村長
 * (condition mr_shortage, 2025-04-01 .. 2027-03-31, R-MR-SHORTAGE) and 風しん第5期 (men born
 * 1962-04-02 .. 1979-04-01 with a low antibody test by 2025-03-31: condition
 * rubella_low_antibody, R-RUBELLA-5). Both sides of every edge: the cohort's first and last birth
 * dates and the day outside, the 20歳 end, the period's first and last day and the day after,
 * with and without the condition, a revoked one, intervals under the 特例.
 *
 * Every vaccination date is pinned (the law's dates are fixed), never derived from today. A date
 * after today (2027-03-31 while the period runs) is refused as R-DATE-FUTURE, and the dry run
 * still says what the dose would be: category, schedule row and rule are compared on every
 * calendar date; only the outcome follows the clock (on_date). Same machinery as
 * records_rules_test.c (records_it.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records_it.h"

#define V_MR2 "631300701" /* 乾燥弱毒生麻しん風しん混合ワクチン「第一三共」 */

/* A case on a fixed date: recorded when the date has come, else refused (R-DATE-FUTURE) with
 * the same category, schedule row and rules. */
static tcase *on_date(const char *name, long birth, char sex, dose now, const char *category,
                      const char *rule, const char *no_rule)
{
    return add(name, birth, sex, now, now.on > today_jp() ? "refused" : "recorded", category, rule,
               no_rule);
}

static tcase *cond(tcase *c, const char *kind, const char *dz, long from, long evidence_on)
{
    c->cond = kind;
    c->cond_dz = dz;
    c->cond_from = from;
    c->cond_evidence_on = evidence_on;
    return c;
}

static tcase *sched(tcase *c, const char *code)
{
    c->sched = code;
    return c;
}

/* 日本脳炎 特例: the cohort's ends, the 20歳 end, the 附則's start, intervals, the dose cap. */
static void je_special(void)
{
    const char *R = "R-JE-SPECIAL";
    long last = ymd(2007, 4, 1), first = ymd(1995, 4, 2);
    tcase *c;

    sched(on_date("日本脳炎 特例: born 2007-04-01 (last of the cohort), 1回目 at 19", last, '1',
                  D(V_JE, 1, ymd(2026, 11, 2)), "routine", R, "R-WINDOW"),
          "jev-t-1");
    on_date("日本脳炎 特例: born 2007-04-02 (after the cohort), 1回目 at 19", ymd(2007, 4, 2), '1',
            D(V_JE, 1, ymd(2026, 11, 2)), "voluntary", "R-WINDOW", R);
    sched(on_date("日本脳炎 特例: born 1995-04-02 (first of the cohort), on 2015-04-01 (20歳未満)",
                  first, '2', D(V_JE, 1, ymd(2015, 4, 1)), "routine", R, "R-WINDOW"),
          "jev-t-1");
    on_date("日本脳炎 特例: born 1995-04-02, on 2015-04-02 (20歳に達した日の翌日)", first, '2',
            D(V_JE, 1, ymd(2015, 4, 2)), "voluntary", "R-WINDOW", R);
    on_date("日本脳炎 特例: born 1995-04-01 (before the cohort), at 19", ymd(1995, 4, 1), '2',
            D(V_JE, 1, ymd(2014, 6, 2)), "voluntary", "R-WINDOW", R);
    on_date("日本脳炎 特例: born 2006-04-02, 2026-04-01 is the last day (Y(20))", ymd(2006, 4, 2),
            '1', D(V_JE, 1, ymd(2026, 4, 1)), "routine", R, "R-WINDOW");
    on_date("日本脳炎 特例: born 2006-04-02, 2026-04-02 is 20歳", ymd(2006, 4, 2), '1',
            D(V_JE, 1, ymd(2026, 4, 2)), "voluntary", "R-WINDOW", R);
    sched(on_date("日本脳炎 特例: the last cohort on 2027-03-31 (its last day)", last, '2',
                  D(V_JE, 1, ymd(2027, 3, 31)), "routine", R, "R-WINDOW"),
          "jev-t-1");
    on_date("日本脳炎 特例: the last cohort on 2027-04-01 (20歳: over)", last, '2',
            D(V_JE, 1, ymd(2027, 4, 1)), "voluntary", "R-WINDOW", R);
    on_date("日本脳炎 特例: the day before the 附則 (2011-05-19)", ymd(1996, 1, 10), '1',
            D(V_JE, 1, ymd(2011, 5, 19)), "voluntary", "R-WINDOW", R);
    on_date("日本脳炎 特例: the 附則's first day (2011-05-20)", ymd(1996, 1, 10), '1',
            D(V_JE, 1, ymd(2011, 5, 20)), "routine", R, "R-WINDOW");
    sched(on_date("日本脳炎 特例 cohort at 8 (after 生後90月): 定期 by the 特例", last, '1',
                  D(V_JE, 1, ymd(2015, 6, 1)), "routine", R, NULL),
          "jev-t-1");
    on_date("日本脳炎 not in the cohort at 8 (after 生後90月): 任意", ymd(2008, 1, 10), '1',
            D(V_JE, 1, ymd(2016, 6, 1)), "voluntary", "R-WINDOW", R);
    sched(on_date("日本脳炎 cohort at 5, inside 生後90月: the ordinary row, not the 特例", last,
                  '1', D(V_JE, 1, ymd(2012, 6, 1)), "routine", NULL, R),
          "jev-1");
    /* 2期: from 9歳 (both rows hold on Y(9): the ordinary one governs, no 特例 flag) */
    c = on_date("日本脳炎 特例 2期 the day before 9歳", last, '1', D(V_JE, 4, ymd(2016, 3, 30)),
                "voluntary", "R-WINDOW", NULL);
    c->hist[0] = D(V_JE, 3, ymd(2012, 6, 1));
    c = sched(on_date("日本脳炎 2期 on 9歳に達した日 in the cohort: the ordinary row", last, '1',
                      D(V_JE, 4, ymd(2016, 3, 31)), "routine", NULL, R),
              "jev-4");
    c->hist[0] = D(V_JE, 3, ymd(2012, 6, 1));
    /* intervals under the 特例: 6日以上 (翌日起算: d+6 short, d+7 allowed) */
    for (int k = 0; k < 2; k++) {
        c = on_date(k ? "日本脳炎 特例 2回目 at d+7" : "日本脳炎 特例 2回目 at d+6 (short)", last,
                    '1', D(V_JE, 2, ymd(2026, 10, 7) + k), k ? "routine" : "voluntary",
                    k ? R : "R-INTERVAL-MIN", k ? "R-INTERVAL-MIN" : NULL);
        c->hist[0] = D(V_JE, 1, ymd(2026, 10, 1));
        c = on_date(k ? "日本脳炎 特例 追加 (3回目) at 2回目+7"
                      : "日本脳炎 特例 追加 at 2回目+6 (short)",
                    last, '2', D(V_JE, 3, ymd(2026, 9, 16) + k), k ? "routine" : "voluntary",
                    k ? R : "R-INTERVAL-MIN", k ? "R-INTERVAL-MIN" : NULL);
        c->hist[0] = D(V_JE, 1, ymd(2026, 9, 1));
        c->hist[1] = D(V_JE, 2, ymd(2026, 9, 10));
        c = on_date(k ? "日本脳炎 特例 2期 at 19, 1期+7" : "日本脳炎 特例 2期 at 19, 1期+6 (short)",
                    last, '1', D(V_JE, 4, ymd(2026, 8, 26) + k), k ? "routine" : "voluntary",
                    k ? R : "R-INTERVAL-MIN", k ? "R-INTERVAL-MIN" : NULL);
        if (k)
            sched(c, "jev-t-4");
        c->hist[0] = D(V_JE, 1, ymd(2026, 8, 1));
        c->hist[1] = D(V_JE, 2, ymd(2026, 8, 10));
        c->hist[2] = D(V_JE, 3, ymd(2026, 8, 20));
    }
    c = on_date("日本脳炎 特例: a 5th dose is not 定期 (4 in all)", last, '1',
                D(V_JE, 5, ymd(2026, 9, 30)), "voluntary", "R-PRODUCT-ROUTINE", R);
    c->hist[0] = D(V_JE, 4, ymd(2026, 8, 27));
}

/* MR 特例: the FY2024 cohorts with the 市町村長's recognition on file, 2025-04-01 .. 2027-03-31. */
static void mr_special(void)
{
    const char *R = "R-MR-SHORTAGE", *K = "mr_shortage";
    long from = ymd(2025, 4, 1), d = ymd(2026, 11, 2);
    tcase *c;

    sched(cond(on_date("MR 特例 1期: born 2023-04-01 (last of the cohort) recognised",
                       ymd(2023, 4, 1), '1', D(V_MR, 1, d), "routine", R, "R-WINDOW"),
               K, NULL, from, 0),
          "measles-1-mr");
    on_date("MR 特例 1期: born 2023-04-01 without the recognition", ymd(2023, 4, 1), '1',
            D(V_MR, 1, d), "voluntary", "R-WINDOW", R);
    cond(on_date("MR 特例 1期: born 2023-04-02 (after the cohort) recognised", ymd(2023, 4, 2), '1',
                 D(V_MR, 1, d), "voluntary", "R-WINDOW", R),
         K, NULL, from, 0);
    cond(on_date("MR 特例 1期: born 2022-04-02 (first of the cohort) recognised", ymd(2022, 4, 2),
                 '2', D(V_MR2, 1, d), "routine", R, NULL),
         K, NULL, from, 0);
    cond(on_date("MR 特例 1期: born 2022-04-01 (before the cohort) recognised", ymd(2022, 4, 1),
                 '2', D(V_MR, 1, d), "voluntary", "R-WINDOW", R),
         K, NULL, from, 0);
    sched(cond(on_date("MR 特例 2期: born 2018-04-02 (first of the cohort) recognised",
                       ymd(2018, 4, 2), '1', D(V_MR, 2, d), "routine", R, "R-WINDOW"),
               K, NULL, from, 0),
          "measles-2-mr");
    cond(on_date("MR 特例 2期: born 2019-04-01 (last of the cohort) recognised", ymd(2019, 4, 1),
                 '1', D(V_MR, 2, d), "routine", R, NULL),
         K, NULL, from, 0);
    cond(on_date("MR 特例 2期: born 2019-04-02 (after the cohort) recognised", ymd(2019, 4, 2), '1',
                 D(V_MR, 2, d), "voluntary", "R-WINDOW", R),
         K, NULL, from, 0);
    cond(on_date("MR 特例 2期: born 2018-04-01 (before the cohort) recognised", ymd(2018, 4, 1),
                 '1', D(V_MR, 2, d), "voluntary", "R-WINDOW", R),
         K, NULL, from, 0);
    on_date("MR 特例 2期: born 2018-04-02 without the recognition", ymd(2018, 4, 2), '1',
            D(V_MR, 2, d), "voluntary", "R-WINDOW", R);
    /* the period: 2025-04-01 .. 2027-03-31 */
    cond(on_date("MR 特例: 2025-03-31, the day before the period", ymd(2022, 4, 2), '1',
                 D(V_MR, 1, ymd(2025, 3, 31)), "voluntary", "R-WINDOW", R),
         K, NULL, ymd(2025, 3, 1), 0);
    cond(on_date("MR 特例: 2025-04-01, the period's first day", ymd(2022, 4, 2), '1',
                 D(V_MR, 1, ymd(2025, 4, 1)), "routine", R, "R-WINDOW"),
         K, NULL, ymd(2025, 3, 1), 0);
    sched(cond(on_date("MR 特例: 2027-03-31, the period's last day", ymd(2022, 4, 2), '1',
                       D(V_MR, 1, ymd(2027, 3, 31)), "routine", R, "R-WINDOW"),
               K, NULL, from, 0),
          "measles-1-mr");
    cond(on_date("MR 特例: 2027-04-01, the day after the period", ymd(2022, 4, 2), '1',
                 D(V_MR, 1, ymd(2027, 4, 1)), "voluntary", "R-WINDOW", R),
         K, NULL, from, 0);
    /* the recognition: revoked, for another disease, or from after the dose */
    c = cond(on_date("MR 特例: a revoked recognition does not count", ymd(2023, 4, 1), '1',
                     D(V_MR, 1, d), "voluntary", "R-WINDOW", R),
             K, NULL, from, 0);
    c->cond_revoked = 1;
    cond(on_date("MR 特例: a recognition for 水痘 only", ymd(2023, 4, 1), '1', D(V_MR, 1, d),
                 "voluntary", "R-WINDOW", R),
         K, "varicella", from, 0);
    cond(on_date("MR 特例: a recognition from the day after the dose", ymd(2023, 4, 1), '1',
                 D(V_MR, 1, ymd(2026, 10, 1)), "voluntary", "R-WINDOW", R),
         K, NULL, ymd(2026, 10, 2), 0);
    cond(on_date("MR 特例: a recognition from the day of the dose", ymd(2023, 4, 1), '1',
                 D(V_MR, 1, ymd(2026, 10, 2)), "routine", R, NULL),
         K, NULL, ymd(2026, 10, 2), ymd(2026, 10, 2));
    cond(on_date("MR 特例: the 60-64 disability kind does not open it", ymd(2023, 4, 1), '1',
                 D(V_MR, 1, d), "voluntary", "R-WINDOW", R),
         "disability_crh", NULL, from, 0);
}

/* 風しん第5期 (経過措置): men of the cohort with a low antibody test by 2025-03-31. */
static void rubella5(void)
{
    const char *R = "R-RUBELLA-5", *K = "rubella_low_antibody";
    long test = ymd(2025, 3, 31), d = ymd(2026, 11, 2);
    tcase *c;

    sched(cond(on_date("風しん第5期: man born 1979-04-01 (last of the cohort), test 2025-03-31",
                       ymd(1979, 4, 1), '1', D(V_MR, 1, d), "routine", R, "R-WINDOW"),
               K, NULL, test, test),
          "rubella-5");
    cond(on_date("風しん第5期: man born 1979-04-02 (after the cohort)", ymd(1979, 4, 2), '1',
                 D(V_MR, 1, d), "voluntary", "R-WINDOW", R),
         K, NULL, test, test);
    sched(cond(on_date("風しん第5期: man born 1962-04-02 (first of the cohort)", ymd(1962, 4, 2),
                       '1', D(V_MR, 1, d), "routine", R, NULL),
               K, NULL, test, test),
          "rubella-5");
    cond(on_date("風しん第5期: man born 1962-04-01 (before the cohort)", ymd(1962, 4, 1), '1',
                 D(V_MR, 1, d), "voluntary", "R-WINDOW", R),
         K, NULL, test, test);
    cond(on_date("風しん第5期: a woman of the cohort is not a target", ymd(1970, 6, 1), '2',
                 D(V_MR, 1, d), "voluntary", "R-WINDOW", R),
         K, NULL, test, test);
    on_date("風しん第5期: a man of the cohort without the test on file", ymd(1970, 6, 1), '1',
            D(V_MR, 1, d), "voluntary", "R-WINDOW", R);
    cond(on_date("風しん第5期: a test on 2025-04-01 is too late", ymd(1970, 6, 1), '1',
                 D(V_MR, 1, d), "voluntary", "R-WINDOW", R),
         K, NULL, ymd(2025, 4, 1), ymd(2025, 4, 1));
    c = cond(on_date("風しん第5期: a revoked test result", ymd(1970, 6, 1), '1', D(V_MR, 1, d),
                     "voluntary", "R-WINDOW", R),
             K, NULL, test, test);
    c->cond_revoked = 1;
    cond(on_date("風しん第5期: 2025-04-01, the period's first day", ymd(1970, 6, 1), '1',
                 D(V_MR, 1, ymd(2025, 4, 1)), "routine", R, NULL),
         K, NULL, ymd(2024, 10, 1), ymd(2024, 10, 1));
    cond(on_date("風しん第5期: 2027-03-31, the period's last day", ymd(1970, 6, 1), '1',
                 D(V_MR, 1, ymd(2027, 3, 31)), "routine", R, "R-WINDOW"),
         K, NULL, test, test);
    cond(on_date("風しん第5期: 2027-04-01, the day after the period", ymd(1970, 6, 1), '1',
                 D(V_MR, 1, ymd(2027, 4, 1)), "voluntary", "R-WINDOW", R),
         K, NULL, test, test);
}

START_TEST(test_rule_table_special)
{
    je_special();
    mr_special();
    rubella5();
    ck_assert_int_eq(run_cases(), 0);
}
END_TEST

static long post_status(const char *path, const char *body)
{
    it_resp r = {0};
    long st;

    it_call("POST", path, g_tok, body, &r);
    st = r.status;
    if (st == 422 && strstr(r.raw != NULL ? r.raw : "", "evidence_on") == NULL)
        st = -422; /* the 422 must name evidence_on */
    it_resp_free(&r);
    return st;
}

/* The new kinds through the conditions API: the antibody test needs its date. */
START_TEST(test_special_kinds_api)
{
    tcase p = {.birth = ymd(1970, 6, 1), .sex = '1'};
    char *pid = person_sql(&p), path[200];

    ck_assert_ptr_nonnull(pid);
    snprintf(path, sizeof(path), "/api/v1/persons/%s/conditions", pid);
    ck_assert_int_eq(post_status(path, "{\"kind\":\"rubella_low_antibody\",\"evidence\":\"HI 1:8\","
                                       "\"valid_from\":\"2025-03-01\"}"),
                     422);
    ck_assert_int_eq(post_status(path, "{\"kind\":\"rubella_low_antibody\",\"evidence\":\"HI 1:8\","
                                       "\"evidence_on\":\"2025-03-01\","
                                       "\"valid_from\":\"2025-03-01\"}"),
                     201);
    ck_assert_int_eq(post_status(path, "{\"kind\":\"mr_shortage\",\"evidence\":\"市長決定 第12号\","
                                       "\"valid_from\":\"2025-04-01\"}"),
                     201);
    free(pid);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("records rules (特例)");
    TCase *tc = tcase_create("rules");
    SRunner *sr;
    int failed;

    if (it_make_signing_key() != 0 || it_start(&rec_service) < 0)
        return 1;
    g_tok = mint_muni();
    set_anchor();
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, test_rule_table_special);
    tcase_add_test(tc, test_special_kinds_api);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    it_stop();
    free(g_tok);
    it_drop_signing_key();
    return failed == 0 ? 0 : 1;
}
