/* records_rules_test.c - the vaccination rules (records sql/rules.sql, master.rules / schedules),
 * table-driven against the real database: person + history + new dose -> expected outcome,
 * category and rule code. Each case creates its own person (SQL), registers its history through
 * POST /api/v1/immunizations (source handbook: the history path) and asks
 * POST /api/v1/immunizations/check for the new dose; a few cases register for real.
 *
 * Dates that meet the clock are derived from today in Japan (A = the 15th of the month two
 * months back, so no month-end arithmetic is involved in building the case); dates that meet a
 * law change (2026-04-01) or a lot's 国家検定 date are fixed past dates, true on any later day.
 * The date arithmetic here is an independent C reading of docs/rules.md §4 (not the SQL functions
 * under test). Also: README.md's rule table is what GET /api/v1/immunizations/rules renders, and
 * every statement of services/records/sql prepares against the migrated schema. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "records_it.h"

static void build(void)
{
    long t = today_jp();
    int y, m, d;
    tcase *c;

    civil(t, &y, &m, &d);

    /* windows of the first dose (施行令 §3; docs/rules.md §5) */
    window4("5種混合 1期初回1 (生後2月-90月)", V_5, 1, 2, -1, 90, -1, "recorded", "R-WINDOW");
    window4("MR 1期 (生後12月-24月)", V_MR, 1, 12, -1, 24, -1, "recorded", "R-WINDOW");
    window4("水痘 1回目 (生後12月-36月)", V_VZ, 1, 12, -1, 36, -1, "recorded", "R-WINDOW");
    window4("BCG (出生-1歳)", V_BCG, 1, -1, 0, 12, -1, "refused", "R-DATE-BIRTH");
    window4("B型肝炎 1回目 (出生-1歳)", V_HEPB, 1, -1, 0, 12, -1, "refused", "R-DATE-BIRTH");
    window4("ロタ1価 1回目 (出生6週0日後-24週0日後)", V_ROTA1, 1, -1, 42, -1, 168, "recorded",
            "R-WINDOW");
    window4("ロタ5価 1回目 (出生6週0日後-32週0日後)", V_ROTA5, 1, -1, 42, -1, 224, "recorded",
            "R-WINDOW");
    window4("日本脳炎 1期初回1 (生後6月-90月)", V_JE, 1, 6, -1, 90, -1, "recorded", "R-WINDOW");
    window4("Hib単独 1回目 (生後2月-60月)", V_HIB, 1, 2, -1, 60, -1, "recorded", "R-WINDOW");
    window4("小児肺炎球菌 PCV20 1回目 (生後2月-60月)", V_PCV20, 1, 2, -1, 60, -1, "recorded", NULL);
    window4("日本脳炎 2期 (9歳-13歳), 1期の記録なし", V_JE, 4, 108, -1, 156, -1, "recorded",
            "R-WINDOW");
    window4("DT 2期 (11歳-13歳), 1期の記録なし", V_DT, 5, 132, -1, 156, -1, "recorded", "R-WINDOW");
    window4("高齢者肺炎球菌 PCV20 (65歳の者)", V_PCV20, 1, 780, -1, 792, -1, "recorded", NULL);
    add("インフルエンザ: the day before 65歳", born_m(780, -1), '1', D(V_FLU, 1, g_A), "recorded",
        "voluntary", "R-WINDOW", NULL);
    add("インフルエンザ: 65歳に達した日", born_m(780, 0), '1', D(V_FLU, 1, g_A), "recorded",
        "routine", NULL, NULL);

    /* later 期 without the earlier one on file: a flag, not a refusal */
    c = add("JE 2期 without 1期: flagged R-DOSE-PREV-MISSING", born_m(120, 0), '1', D(V_JE, 4, g_A),
            "recorded", "routine", "R-DOSE-PREV-MISSING", NULL);
    c = add("DT 2期 without 1期: flagged", born_m(135, 0), '1', D(V_DT, 5, g_A), "recorded",
            "routine", "R-DOSE-PREV-MISSING", NULL);

    /* day intervals, 翌日起算 */
    interval_days("5種混合 初回2回目", V_5, 2, 20, born_m(6, 0));
    interval_days("5種混合 初回3回目", V_5, 3, 20, born_m(8, 0));
    interval_days("B型肝炎 2回目", V_HEPB, 2, 27, born_m(5, 0));
    interval_days("日本脳炎 初回2回目", V_JE, 2, 6, born_m(40, 0));
    interval_days("ロタ1価 2回目", V_ROTA1, 2, 27, born_d(100, 0));
    interval_days("Hib単独 初回2回目", V_HIB, 2, 27, born_m(5, 0));
    interval_days("小児肺炎球菌 初回2回目", V_PCV20, 2, 27, born_m(6, 0));
    /* HepB 3回目: 139 days after dose 1 */
    for (int k = 0; k < 2; k++) {
        c = add(k ? "B型肝炎 3回目: d1+140 is the first day allowed"
                  : "B型肝炎 3回目: d1+139 is short",
                born_m(7, 0), '1', D(V_HEPB, 3, g_A), "recorded", k ? "routine" : "voluntary",
                k ? NULL : "R-INTERVAL-FIRST", k ? "R-INTERVAL-FIRST" : NULL);
        c->hist[0] = D(V_HEPB, 1, g_A - 139 - k);
        c->hist[1] = D(V_HEPB, 2, g_A - 60);
    }
    /* month intervals, 翌月同日 */
    interval_months("水痘 2回目", V_VZ, 2, 3, born_m(20, 0), '1');
    interval_months("HPV 9価 2回目 (3回接種の1月)", V_HPV9, 2, 1, sdl(ymd(y, 4, 2), -13 * 12), '2');
    interval_months("日本脳炎 1期追加", V_JE, 3, 6, born_m(48, 0), '1');

    /* same-day and the 27-day live rule (実施要領, 2020-10-01) */
    c = add("MR + 水痘 on the same day (1歳の定期)", born_m(12, 5), '1', D(V_VZ, 1, g_A),
            "recorded", "routine", NULL, "R-LIVE-INJ-27D");
    c->hist[0] = D(V_MR, 1, g_A);
    for (int k = 27; k <= 28; k++) {
        char nm[120];
        snprintf(nm, sizeof(nm), "水痘 %d days after MR", k);
        c = add(nm, born_m(13, 0), '1', D(V_VZ, 1, g_A), "recorded",
                k == 27 ? "voluntary" : "routine", k == 27 ? "R-LIVE-INJ-27D" : NULL,
                k == 28 ? "R-LIVE-INJ-27D" : NULL);
        c->hist[0] = D(V_MR, 1, g_A - k);
    }
    c = add("MR 15 days after BCG (BCG counts as 注射生ワクチン)", born_m(12, 0), '1',
            D(V_MR, 1, g_A), "recorded", "voluntary", "R-LIVE-INJ-27D", NULL);
    c->hist[0] = D(V_BCG, 1, g_A - 15);
    c = add("MR 10 days after ロタ (oral live: no interval)", born_m(12, 0), '1', D(V_MR, 1, g_A),
            "recorded", "routine", NULL, "R-LIVE-INJ-27D");
    c->hist[0] = D(V_ROTA5, 3, g_A - 10);
    c = add("MR 3 days after 5種 (inactivated: no interval)", born_m(12, 0), '1', D(V_MR, 1, g_A),
            "recorded", "routine", NULL, "R-LIVE-INJ-27D");
    c->hist[0] = D(V_5, 4, g_A - 3);

    /* MR 2期: the year before primary school (年度末年齢 6), on fixed fiscal-year edges */
    add("MR 2期 on 2026-04-01, born 2020-04-02 (年長)", ymd(2020, 4, 2), '1',
        D(V_MR, 2, ymd(2026, 4, 1)), "recorded", "routine", "R-DOSE-PREV-MISSING", "R-WINDOW");
    add("MR 2期 on 2026-04-01, born 2020-04-01 (already 小1)", ymd(2020, 4, 1), '1',
        D(V_MR, 2, ymd(2026, 4, 1)), "recorded", "voluntary", "R-WINDOW", NULL);
    add("MR 2期 on 2026-04-01, born 2021-04-01 (年長: 04-01 is the earlier 学年)", ymd(2021, 4, 1),
        '1', D(V_MR, 2, ymd(2026, 4, 1)), "recorded", "routine", NULL, "R-WINDOW");
    add("MR 2期 on 2026-04-01, born 2021-04-02 (年中)", ymd(2021, 4, 2), '1',
        D(V_MR, 2, ymd(2026, 4, 1)), "recorded", "voluntary", "R-WINDOW", NULL);
    add("MR 2期 on 2026-03-31, born 2019-04-02 (last day of 年長)", ymd(2019, 4, 2), '1',
        D(V_MR, 2, ymd(2026, 3, 31)), "recorded", "routine", NULL, "R-WINDOW");
    add("MR 2期 on 2026-04-01, born 2019-04-02 (the day after)", ymd(2019, 4, 2), '1',
        D(V_MR, 2, ymd(2026, 4, 1)), "recorded", "voluntary", "R-WINDOW", NULL);

    /* HPV: 小6-高1相当 (年度末年齢 12-16), girls; on 2026-04-01 */
    add("HPV 9価 小6 (born 2014-04-02)", ymd(2014, 4, 2), '2', D(V_HPV9, 1, ymd(2026, 4, 1)),
        "recorded", "routine", NULL, "R-WINDOW");
    add("HPV 9価 小5 (born 2015-04-02)", ymd(2015, 4, 2), '2', D(V_HPV9, 1, ymd(2026, 4, 1)),
        "recorded", "voluntary", "R-WINDOW", NULL);
    add("HPV 9価 高1 (born 2010-04-02)", ymd(2010, 4, 2), '2', D(V_HPV9, 1, ymd(2026, 4, 1)),
        "recorded", "routine", NULL, "R-WINDOW");
    add("HPV 9価 高2 (born 2010-04-01)", ymd(2010, 4, 1), '2', D(V_HPV9, 1, ymd(2026, 4, 1)),
        "recorded", "voluntary", "R-WINDOW", NULL);
    add("HPV 9価 for a boy is 任意", ymd(2013, 1, 1), '1', D(V_HPV9, 1, ymd(2026, 4, 1)),
        "recorded", "voluntary", "R-WINDOW", NULL);
    add("HPV 2価 on 2026-03-31 (still 定期)", ymd(2013, 1, 1), '2', D(V_HPV2, 1, ymd(2026, 3, 31)),
        "recorded", "routine", NULL, NULL);
    add("HPV 2価 on 2026-04-01 (no longer 定期)", ymd(2013, 1, 1), '2',
        D(V_HPV2, 1, ymd(2026, 4, 1)), "recorded", "voluntary", "R-PRODUCT-ROUTINE", NULL);
    c = add("HPV 9価 2回目 5 months after (2-dose track)", ymd(2013, 1, 1), '2',
            D(V_HPV9, 2, ymd(2026, 9, 1)), "recorded", "routine", NULL, NULL);
    c->hist[0] = D(V_HPV9, 1, ymd(2026, 4, 1));

    /* 高齢者肺炎球菌: PPSV23 until 2026-03-31, PCV20 from 2026-04-01 */
    add("PPSV23 on 2026-03-31 (65歳)", ymd(1960, 10, 1), '1', D(V_PPSV, 1, ymd(2026, 3, 31)),
        "recorded", "routine", NULL, NULL);
    add("PPSV23 on 2026-04-01 is not 定期", ymd(1960, 10, 1), '1', D(V_PPSV, 1, ymd(2026, 4, 1)),
        "recorded", "voluntary", "R-PRODUCT-ROUTINE", NULL);
    add("PCV20 on 2026-04-01 (65歳)", ymd(1960, 10, 1), '1', D(V_PCV20, 1, ymd(2026, 4, 1)),
        "recorded", "routine", NULL, NULL);

    /* 帯状疱疹: 年度末年齢 65, 経過措置 70..100 step 5 (FY2025-2029), 100+ in FY2025 only */
    add("帯状疱疹 生 FY2026 65歳となる年度 (born 1961-04-02)", ymd(1961, 4, 2), '1',
        D(V_VZ, 1, ymd(2026, 4, 1)), "recorded", "routine", NULL, NULL);
    add("帯状疱疹 生 FY2026 born 1961-04-01 (66歳となる年度)", ymd(1961, 4, 1), '1',
        D(V_VZ, 1, ymd(2026, 4, 1)), "recorded", "voluntary", NULL, NULL);
    add("帯状疱疹 組換え 経過措置 70歳 (born 1956-04-02)", ymd(1956, 4, 2), '2',
        D(V_RZV, 1, ymd(2026, 4, 1)), "recorded", "routine", NULL, NULL);
    add("帯状疱疹 組換え 71歳 is not a cohort", ymd(1955, 4, 2), '2', D(V_RZV, 1, ymd(2026, 4, 1)),
        "recorded", "voluntary", "R-WINDOW", NULL);
    add("帯状疱疹 組換え 101歳 in FY2025 (100歳以上)", ymd(1924, 6, 1), '2',
        D(V_RZV, 1, ymd(2026, 3, 31)), "recorded", "routine", NULL, NULL);
    add("帯状疱疹 組換え 101歳 in FY2026 (no longer)", ymd(1925, 4, 2), '2',
        D(V_RZV, 1, ymd(2026, 4, 1)), "recorded", "voluntary", "R-WINDOW", NULL);
    c = add("帯状疱疹 組換え 2回目 in the same FY (2026-03-31)", ymd(1960, 6, 1), '1',
            D(V_RZV, 2, ymd(2026, 3, 31)), "recorded", "routine", NULL, NULL);
    c->hist[0] = D(V_RZV, 1, ymd(2026, 1, 31));
    c = add("帯状疱疹 組換え 2回目 in the next FY is 任意", ymd(1960, 6, 1), '1',
            D(V_RZV, 2, ymd(2026, 4, 1)), "recorded", "voluntary", "R-WINDOW", NULL);
    c->hist[0] = D(V_RZV, 1, ymd(2026, 2, 1));

    /* B類 once per fiscal year */
    c = add("インフルエンザ again in the same FY: R-ONCE-FY", ymd(1950, 1, 1), '1',
            D(V_FLU, 1, ymd(2026, 3, 1)), "duplicate", NULL, "R-ONCE-FY", NULL);
    c->hist[0] = D(V_FLU, 1, ymd(2026, 3, 31));
    c = add("インフルエンザ in the next FY", ymd(1950, 1, 1), '1', D(V_FLU, 1, ymd(2026, 4, 1)),
            "recorded", "routine", NULL, "R-ONCE-FY");
    c->hist[0] = D(V_FLU, 1, ymd(2026, 3, 31));

    /* leap-day and month-end birthdays (年齢計算ニ関スル法律) */
    add("MR born 2024-02-29: 1歳 on 2025-02-28", ymd(2024, 2, 29), '1',
        D(V_MR, 1, ymd(2025, 2, 28)), "recorded", "routine", NULL, NULL);
    add("MR born 2024-02-29: 2025-02-27 is before 1歳", ymd(2024, 2, 29), '1',
        D(V_MR, 1, ymd(2025, 2, 27)), "recorded", "voluntary", "R-WINDOW", NULL);
    add("4種 born 2024-12-31: 生後2月 on 2025-02-28", ymd(2024, 12, 31), '1',
        D(V_4, 1, ymd(2025, 2, 28)), "recorded", "routine", NULL, NULL);
    add("4種 born 2024-12-31: 2025-02-27 is before 生後2月", ymd(2024, 12, 31), '1',
        D(V_4, 1, ymd(2025, 2, 27)), "recorded", "voluntary", "R-WINDOW", NULL);
    add("4種 born 2023-12-30: 生後2月 on 2024-02-29 (leap year)", ymd(2023, 12, 30), '1',
        D(V_4, 1, ymd(2024, 2, 29)), "recorded", "routine", NULL, NULL);
    add("4種 born 2023-12-30: 2024-02-28 is before", ymd(2023, 12, 30), '1',
        D(V_4, 1, ymd(2024, 2, 28)), "recorded", "voluntary", "R-WINDOW", NULL);
    add("水痘 born 2024-02-29: 3歳 reached 2027-02-28 - inside on 2026-02-28", ymd(2024, 2, 29),
        '1', D(V_VZ, 1, ymd(2026, 2, 28)), "recorded", "routine", NULL, NULL);

    /* RSV (妊婦) from 2026-04-01: 28週0日 - 36週6日, once per pregnancy */
    int wk[] = {27, 28, 36, 37};
    for (int i = 0; i < 4; i++) {
        char nm[120];
        snprintf(nm, sizeof(nm), "RSV at %d weeks", wk[i]);
        c = add(nm, ymd(1995, 5, 5), '2', (dose){V_RSV, 1, g_A, wk[i], NULL}, "recorded",
                wk[i] == 27 || wk[i] == 37 ? "voluntary" : "routine", NULL, NULL);
    }
    add("RSV for a man is refused", ymd(1995, 5, 5), '1', (dose){V_RSV, 1, g_A, 30, NULL},
        "refused", NULL, "R-RSV-PREGNANCY", NULL);
    add("RSV without weeks of pregnancy is refused", ymd(1995, 5, 5), '2', D(V_RSV, 1, g_A),
        "refused", NULL, "R-RSV-PREGNANCY", NULL);
    c = add("RSV twice in one pregnancy: R-ONCE-PREGNANCY", ymd(1995, 5, 5), '2',
            (dose){V_RSV, 1, g_A, 32, NULL}, "duplicate", NULL, "R-ONCE-PREGNANCY", NULL);
    c->hist[0] = (dose){V_RSV, 1, g_A - 14, 30, NULL};

    /* death, move-out, future, birth */
    c = add("a dose after death is refused", born_m(12, 10), '1', D(V_MR, 1, g_A), "refused", NULL,
            "R-DATE-DEATH", NULL);
    c->status = "deceased";
    c->status_on = g_A - 1;
    c = add("a dose on the day of death is recorded", born_m(12, 10), '1', D(V_MR, 1, g_A),
            "recorded", "routine", NULL, "R-DATE-DEATH");
    c->status = "deceased";
    c->status_on = g_A;
    c = add("after a move-out: not claimable here", born_m(12, 10), '1', D(V_MR, 1, g_A),
            "recorded", "routine", "R-MOVED-OUT", NULL);
    c->status = "moved_out";
    c->status_on = g_A - 1;
    add("tomorrow (Japan) is in the future", born_m(12, 10), '1', D(V_MR, 1, t + 1), "refused",
        NULL, "R-DATE-FUTURE", NULL);
    add("today (Japan) is not in the future", born_m(14, 0), '1', D(V_MR, 1, t), "recorded", NULL,
        NULL, "R-DATE-FUTURE");

    /* lots: 国家検定 (FLU26A certified 2026-09-01), expiry */
    add("a lot used the day before 国家検定 is refused", ymd(1950, 1, 1), '1',
        (dose){V_FLU, 1, ymd(2026, 8, 31), -1, "FLU26A"}, "refused", NULL, "R-LOT-CERTIFIED", NULL);
    add("a lot used on its 国家検定 day", ymd(1950, 1, 1), '1',
        (dose){V_FLU, 1, ymd(2026, 9, 1), -1, "FLU26A"}, "recorded", NULL, NULL, "R-LOT-CERTIFIED");
    add("a lot on its expiry day (MR099, 2025-12-31)", ymd(2024, 6, 1), '1',
        (dose){V_MR, 1, ymd(2025, 12, 31), -1, "MR099"}, "recorded", NULL, NULL, "R-LOT-EXPIRED");
    add("a lot the day after its expiry", ymd(2024, 6, 1), '1',
        (dose){V_MR, 1, ymd(2026, 1, 1), -1, "MR099"}, "refused", NULL, "R-LOT-EXPIRED", NULL);
    add("a lot of another product", ymd(2024, 6, 1), '1',
        (dose){V_MR, 1, ymd(2025, 12, 31), -1, "GB001A"}, "refused", NULL, "R-LOT-PRODUCT", NULL);

    /* history: paper-era doses against masters from approval; out of order */
    add("history: MR 1期 in 2021 (before the system)", ymd(2020, 3, 10), '1',
        D(V_MR, 1, ymd(2021, 3, 20)), "recorded", "routine", NULL, NULL);
    c = add("history out of order: dose 1 entered after dose 2", born_m(8, 0), '1',
            D(V_5, 1, g_A - 60), "recorded", "routine", NULL, "R-DOSE-ORDER");
    c->hist[0] = D(V_5, 2, g_A - 30);
    c = add("dose 1 dated after the recorded dose 2 is refused", born_m(8, 0), '1',
            D(V_5, 1, g_A - 10), "refused", NULL, "R-DOSE-ORDER", NULL);
    c->hist[0] = D(V_5, 2, g_A - 30);
    c = add("the same dose twice: R-DUPLICATE", born_m(8, 0), '1', D(V_5, 1, g_A - 10), "duplicate",
            NULL, "R-DUPLICATE", NULL);
    c->hist[0] = D(V_5, 1, g_A - 40);
}

START_TEST(test_rule_table)
{
    build();
    ck_assert_int_eq(run_cases(), 0);
}
END_TEST

/* A real registration gives the same answer as its dry run; a refusal names rule and field. */
START_TEST(test_register_matches_check)
{
    tcase c = {.birth = born_m(13, 0), .sex = '1'};
    char *pid = person_sql(&c), *text;
    it_resp r = {0};
    dose mr = D(V_MR, 1, g_A), vz = D(V_VZ, 1, g_A - 5);
    json_t *b;

    ck_assert_ptr_nonnull(pid);
    b = dose_body(pid, &mr);
    text = json_dumps(b, JSON_COMPACT);
    it_call("POST", "/api/v1/immunizations", g_tok, text, &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "category")), "routine");
    it_resp_free(&r);
    free(text);
    json_decref(b);
    /* varicella 5 days before the MR: the earlier dose is not the one the 27-day rule hits */
    b = dose_body(pid, &vz);
    text = json_dumps(b, JSON_COMPACT);
    it_call("POST", "/api/v1/immunizations", g_tok, text, &r);
    ck_assert_int_eq(r.status, 201);
    it_resp_free(&r);
    free(text);
    json_decref(b);
    /* a refusal: tomorrow */
    dose fut = D(V_MR, 2, today_jp() + 1);
    b = dose_body(pid, &fut);
    text = json_dumps(b, JSON_COMPACT);
    it_call("POST", "/api/v1/immunizations", g_tok, text, &r);
    ck_assert_int_eq(r.status, 422);
    json_t *e = json_array_get(json_object_get(r.json, "errors"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "rule")), "R-DATE-FUTURE");
    ck_assert_str_eq(json_string_value(json_object_get(e, "field")), "vaccinated_on");
    it_resp_free(&r);
    free(text);
    json_decref(b);
    free(pid);
}
END_TEST

/* The rule list is published and README.md carries the same table. */
START_TEST(test_rules_published)
{
    it_resp r = {0};
    char path[512], *readme = NULL;
    long n;
    FILE *f;

    ck_assert_int_eq(it_call("GET", "/api/v1/immunizations/rules", g_tok, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_ge((int)json_array_size(json_object_get(r.json, "items")), 20);
    it_resp_free(&r);
    ck_assert_int_eq(it_call("GET", "/api/v1/immunizations/rules?format=markdown&as_of=2026-12-01",
                             g_tok, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    snprintf(path, sizeof(path), "%s/../README.md", SS_MIGRATIONS_DIR);
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    readme = calloc(1, (size_t)n + 1);
    ck_assert_uint_eq(fread(readme, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (strstr(readme, r.raw) == NULL)
        printf("README.md's rule table is stale; the service renders:\n%s", r.raw);
    ck_assert_ptr_nonnull(strstr(readme, r.raw));
    free(readme);
    it_resp_free(&r);
}
END_TEST

/* Every statement of services/records/sql parses against the migrated schema, with the
 * parameter count its file documents (docs/contributing.md §1a). */
START_TEST(sql_files_prepare)
{
    ck_assert_int_eq(it_sql_prepare_all(rec_sql_all), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("records rules");
    TCase *tc = tcase_create("rules");
    SRunner *sr;
    int failed;

    if (it_make_signing_key() != 0 || it_start(&rec_service) < 0)
        return 1;
    g_tok = mint_muni();
    set_anchor();
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, test_rule_table);
    tcase_add_test(tc, test_register_matches_check);
    tcase_add_test(tc, test_rules_published);
    tcase_add_test(tc, sql_files_prepare);
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
