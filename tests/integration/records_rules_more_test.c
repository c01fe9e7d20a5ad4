/* records_rules_more_test.c - the rule table, continued (issue 17's ~200 cases): the edges of the
 * schedule rows records_rules_test.c does not reach (later doses' windows and caps, 追加
 * intervals, HPV tracks, B類 fiscal years, month-end intervals), per-person conditions (60-64 with
 * a disability, 長期療養特例) entered through POST /api/v1/persons/:id/conditions, RSV against the
 * H-7 pregnancy record, and corrections or voids that would break a later dose
 * (R-CORRECTION-LATER). Same machinery (records_it.c): dates that meet the clock come from today
 * in Japan (the anchor A), law changes from fixed past dates. Also the conditions API's own
 * answers to bad input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records_it.h"

/* A case with a condition of the person. */
static tcase *with_cond(tcase *c, const char *kind, const char *dz, long from, long to)
{
    c->cond = kind;
    c->cond_dz = dz;
    c->cond_from = from;
    c->cond_to = to;
    return c;
}

/* A correction (or void) case: history doses, then history dose `fix` moved to `on`. */
static tcase *fix(const char *name, long birth, int which, long on, int is_void,
                  const char *outcome, const char *rule)
{
    tcase *c = add(name, birth, '1', D(NULL, 0, 0), outcome, NULL, rule, NULL);
    c->fix = which;
    c->fix_on = on;
    c->fix_void = is_void;
    return c;
}

static dose W(const char *v, long on, int weeks)
{
    return (dose){v, 1, on, weeks, NULL};
}

/* Later doses' windows and caps, 追加 intervals (施行令 §3; SCHEDULE.md §2). */
static void later_doses(void)
{
    tcase *c;

    for (int k = 0; k < 2; k++) {
        c = add(k ? "Hib単独 初回2回目 the day after 生後12月 (初回 cap)"
                  : "Hib単独 初回2回目 on 生後12月 (last day)",
                born_m(12, k), '1', D(V_HIB, 2, g_A), "recorded", k ? "voluntary" : "routine",
                k ? "R-WINDOW" : NULL, k ? NULL : "R-WINDOW");
        c->hist[0] = D(V_HIB, 1, g_A - 60);
        c = add(k ? "PCV 初回2回目 the day after 生後24月" : "PCV 初回2回目 on 生後24月 (last day)",
                born_m(24, k), '1', D(V_PCV20, 2, g_A), "recorded", k ? "voluntary" : "routine",
                k ? "R-WINDOW" : NULL, k ? NULL : "R-WINDOW");
        c->hist[0] = D(V_PCV20, 1, g_A - 60);
        c = add(k ? "PCV 追加 on 生後12月 (first day)" : "PCV 追加 the day before 生後12月",
                born_m(12, k - 1), '1', D(V_PCV20, 4, g_A), "recorded", k ? "routine" : "voluntary",
                k ? NULL : "R-WINDOW", k ? "R-WINDOW" : NULL);
        c->hist[0] = D(V_PCV20, 1, g_A - 200);
        c->hist[1] = D(V_PCV20, 2, g_A - 150);
        c->hist[2] = D(V_PCV20, 3, g_A - 100);
        c = add(k ? "ロタ5価 3回目 the day after 出生32週0日後" : "ロタ5価 3回目 on 出生32週0日後",
                born_d(224, k), '1', D(V_ROTA5, 3, g_A), "recorded", k ? "voluntary" : "routine",
                k ? "R-WINDOW" : NULL, k ? NULL : "R-WINDOW");
        c->hist[0] = D(V_ROTA5, 1, g_A - 70);
        c->hist[1] = D(V_ROTA5, 2, g_A - 35);
        c = add(k ? "ロタ1価 2回目 the day after 出生24週0日後" : "ロタ1価 2回目 on 出生24週0日後",
                born_d(168, k), '1', D(V_ROTA1, 2, g_A), "recorded", k ? "voluntary" : "routine",
                k ? "R-WINDOW" : NULL, k ? NULL : "R-WINDOW");
        c->hist[0] = D(V_ROTA1, 1, g_A - 40);
        add(k ? "4種 1期初回1 the day after 生後90月" : "4種 1期初回1 on 生後90月 (last day)",
            born_m(90, k), '1', D(V_4, 1, g_A), "recorded", k ? "voluntary" : "routine",
            k ? "R-WINDOW" : NULL, k ? NULL : "R-WINDOW");
        c = add(k ? "B型肝炎 3回目 the day after 1歳"
                  : "B型肝炎 3回目 on the day before 1歳 (last day)",
                born_m(12, k), '1', D(V_HEPB, 3, g_A), "recorded", k ? "voluntary" : "routine",
                k ? "R-WINDOW" : NULL, k ? NULL : "R-WINDOW");
        c->hist[0] = D(V_HEPB, 1, g_A - 200);
        c->hist[1] = D(V_HEPB, 2, g_A - 150);
        c = add(k ? "水痘 2回目 the day after 生後36月" : "水痘 2回目 on 生後36月 (last day)",
                born_m(36, k), '1', D(V_VZ, 2, g_A), "recorded", k ? "voluntary" : "routine",
                k ? "R-WINDOW" : NULL, k ? NULL : "R-WINDOW");
        c->hist[0] = D(V_VZ, 1, g_A - 120);
    }
    for (int k = 0; k < 2; k++) {
        c = add(k ? "Hib単独 初回3回目 the day after 生後12月" : "Hib単独 初回3回目 on 生後12月",
                born_m(12, k), '1', D(V_HIB, 3, g_A), "recorded", k ? "voluntary" : "routine",
                k ? "R-WINDOW" : NULL, k ? NULL : "R-WINDOW");
        c->hist[0] = D(V_HIB, 1, g_A - 120);
        c->hist[1] = D(V_HIB, 2, g_A - 60);
        add(k ? "新型コロナ on 65歳に達した日" : "新型コロナ the day before 65歳",
            born_m(780, k - 1), '1', D(V_COVID, 1, g_A), "recorded", k ? "routine" : "voluntary",
            k ? NULL : "R-WINDOW", k ? "R-WINDOW" : NULL);
    }
    interval_days("ロタ5価 2回目", V_ROTA5, 2, 27, born_d(120, 0));
    c = add("日本脳炎 1期追加 the day after 生後90月", born_m(90, 1), '1', D(V_JE, 3, g_A),
            "recorded", "voluntary", "R-WINDOW", NULL);
    c->hist[0] = D(V_JE, 1, g_A - 400);
    c->hist[1] = D(V_JE, 2, g_A - 390);
    interval_months("5種混合 1期追加 (初回3回目から6月)", V_5, 4, 6, born_m(20, 0), '1');
    interval_months("Hib単独 追加 (初回終了後7月)", V_HIB, 4, 7, born_m(19, 0), '1');
    interval_days("小児肺炎球菌 追加 (初回終了後60日)", V_PCV20, 4, 60, born_m(16, 0));
    /* dose caps: a dose beyond the 定期 count is 任意 (SCHEDULE.md §5) */
    c = add("B型肝炎 4回目 is not 定期", born_m(11, 0), '1', D(V_HEPB, 4, g_A), "recorded",
            "voluntary", "R-PRODUCT-ROUTINE", NULL);
    c->hist[0] = D(V_HEPB, 3, g_A - 30);
    c = add("BCG 2回目 is not 定期", born_m(10, 0), '1', D(V_BCG, 2, g_A), "recorded", "voluntary",
            "R-PRODUCT-ROUTINE", NULL);
    c->hist[0] = D(V_BCG, 1, g_A - 150);
    c = add("ロタ1価 3回目 is not 定期", born_d(120, 0), '1', D(V_ROTA1, 3, g_A), "recorded",
            "voluntary", "R-PRODUCT-ROUTINE", NULL);
    c->hist[0] = D(V_ROTA1, 2, g_A - 30);
}

/* HPV tracks and school years, on fixed past dates (FY2025). */
static void hpv(void)
{
    tcase *c;
    long b = ymd(2012, 6, 1), d1 = ymd(2025, 6, 1);

    c = add("HPV 9価 2回目 at +5月: the 2-dose track", b, '2', D(V_HPV9, 2, ymd(2025, 11, 1)),
            "recorded", "routine", NULL, "R-INTERVAL-MIN");
    c->sched = "hpv-9v2-2";
    c->hist[0] = D(V_HPV9, 1, d1);
    c = add("HPV 9価 2回目 at +5月 less a day: the 3-dose track", b, '2',
            D(V_HPV9, 2, ymd(2025, 10, 31)), "recorded", "routine", NULL, "R-INTERVAL-MIN");
    c->sched = "hpv-9v-2";
    c->hist[0] = D(V_HPV9, 1, d1);
    c = add("HPV 9価 2回目 at +1月 less a day: short on both tracks", b, '2',
            D(V_HPV9, 2, ymd(2025, 6, 30)), "recorded", "voluntary", "R-INTERVAL-MIN", NULL);
    c->hist[0] = D(V_HPV9, 1, d1);
    for (int k = 0; k < 2; k++) {
        c = add(k ? "HPV 9価 3回目 at 2回目+3月" : "HPV 9価 3回目 at 2回目+3月 less a day", b, '2',
                D(V_HPV9, 3, k ? ymd(2025, 10, 1) : ymd(2025, 9, 30)), "recorded",
                k ? "routine" : "voluntary", k ? NULL : "R-INTERVAL-MIN", NULL);
        c->hist[0] = D(V_HPV9, 1, d1);
        c->hist[1] = D(V_HPV9, 2, ymd(2025, 7, 1));
        c = add(k ? "HPV 2価 3回目 at 1回目+5月" : "HPV 2価 3回目 at 1回目+5月 less a day", b, '2',
                D(V_HPV2, 3, k ? ymd(2025, 9, 1) : ymd(2025, 8, 31)), "recorded",
                k ? "routine" : "voluntary", k ? NULL : "R-INTERVAL-FIRST", NULL);
        c->hist[0] = D(V_HPV2, 1, ymd(2025, 4, 1));
        c->hist[1] = D(V_HPV2, 2, ymd(2025, 5, 1));
    }
    for (int k = 0; k < 2; k++) {
        c = add(k ? "HPV 4価 3回目 at 2回目+3月 (FY2025)" : "HPV 4価 3回目 at 2回目+3月 less a day",
                b, '2', D("631302801", 3, k ? ymd(2025, 9, 1) : ymd(2025, 8, 31)), "recorded",
                k ? "routine" : "voluntary", k ? NULL : "R-INTERVAL-MIN", NULL);
        c->hist[0] = D("631302801", 1, ymd(2025, 4, 1));
        c->hist[1] = D("631302801", 2, ymd(2025, 6, 1));
    }
    add("HPV 9価 高1 on the last day of FY2025 (born 2009-04-02)", ymd(2009, 4, 2), '2',
        D(V_HPV9, 1, ymd(2026, 3, 31)), "recorded", "routine", NULL, "R-WINDOW");
    add("HPV 9価 高2 in FY2025 (born 2009-04-01)", ymd(2009, 4, 1), '2',
        D(V_HPV9, 1, ymd(2026, 3, 31)), "recorded", "voluntary", "R-WINDOW", NULL);
    add("HPV 9価 born 2009-04-02 on 2026-04-01 (高2 now)", ymd(2009, 4, 2), '2',
        D(V_HPV9, 1, ymd(2026, 4, 1)), "recorded", "voluntary", "R-WINDOW", NULL);
}

/* B類: 65歳の者, once per fiscal year, 帯状疱疹 cohorts; fixed past dates. */
static void elderly(void)
{
    tcase *c;

    add("PPSV23 on 2026-03-31, the last day of 65歳の者 (born 1960-04-01)", ymd(1960, 4, 1), '1',
        D(V_PPSV, 1, ymd(2026, 3, 31)), "recorded", "routine", NULL, "R-WINDOW");
    add("PPSV23 on 2026-03-31 the day after 65歳の者 (born 1960-03-31)", ymd(1960, 3, 31), '1',
        D(V_PPSV, 1, ymd(2026, 3, 31)), "recorded", "voluntary", "R-WINDOW", NULL);
    add("PPSV23 on 2026-03-30, 65歳に達した日 (born 1961-03-31)", ymd(1961, 3, 31), '1',
        D(V_PPSV, 1, ymd(2026, 3, 30)), "recorded", "routine", NULL, "R-WINDOW");
    add("PPSV23 on 2026-03-29, the day before 65歳 (born 1961-03-31)", ymd(1961, 3, 31), '1',
        D(V_PPSV, 1, ymd(2026, 3, 29)), "recorded", "voluntary", "R-WINDOW", NULL);
    c = add("PCV20 after a 定期 PPSV23: once in life", ymd(1960, 10, 1), '1',
            D(V_PCV20, 1, ymd(2026, 4, 1)), "duplicate", NULL, "R-DUPLICATE", NULL);
    c->hist[0] = D(V_PPSV, 1, ymd(2026, 3, 1));
    c = add("新型コロナ again in the same FY: R-ONCE-FY", ymd(1950, 1, 1), '1',
            D(V_COVID, 1, ymd(2026, 3, 1)), "duplicate", NULL, "R-ONCE-FY", NULL);
    c->hist[0] = D(V_COVID, 1, ymd(2026, 3, 31));
    c = add("新型コロナ in the next FY", ymd(1950, 1, 1), '1', D(V_COVID, 1, ymd(2026, 4, 1)),
            "recorded", "routine", NULL, "R-ONCE-FY");
    c->hist[0] = D(V_COVID, 1, ymd(2026, 3, 31));
    add("帯状疱疹 生 100歳となる年度 FY2026 (born 1926-04-02)", ymd(1926, 4, 2), '2',
        D(V_VZ, 1, ymd(2026, 4, 1)), "recorded", "routine", NULL, "R-WINDOW");
    add("帯状疱疹 生 75歳となる年度 (born 1951-04-02)", ymd(1951, 4, 2), '2',
        D(V_VZ, 1, ymd(2026, 4, 1)), "recorded", "routine", NULL, "R-WINDOW");
    add("帯状疱疹 生 76歳 (born 1951-04-01) is not a cohort", ymd(1951, 4, 1), '2',
        D(V_VZ, 1, ymd(2026, 4, 1)), "recorded", "voluntary", "R-WINDOW", NULL);
    c = add("帯状疱疹 組換え after a 定期 live dose: once in life", ymd(1961, 4, 2), '1',
            D(V_RZV, 1, ymd(2026, 6, 1)), "duplicate", NULL, "R-DUPLICATE", NULL);
    c->hist[0] = D(V_VZ, 1, ymd(2026, 4, 1));
}

/* Same-day, 27-day live rule, history order, move-out, leap days and month ends. */
static void misc(void)
{
    tcase *c;

    c = add("MR + BCG on the same day", born_m(12, 0), '1', D(V_MR, 1, g_A), "recorded", "routine",
            NULL, "R-LIVE-INJ-27D");
    c->hist[0] = D(V_BCG, 1, g_A);
    c = add("水痘 27 days after BCG", born_m(12, 20), '1', D(V_VZ, 1, g_A), "recorded", "voluntary",
            "R-LIVE-INJ-27D", NULL);
    c->hist[0] = D(V_BCG, 1, g_A - 27);
    for (int k = 27; k <= 28; k++) {
        c = add(k == 27 ? "MR 27 days after おたふくかぜ (任意, injected live)"
                        : "MR 28 days after おたふくかぜ",
                born_m(14, 0), '1', D(V_MR, 1, g_A), "recorded", k == 27 ? "voluntary" : "routine",
                k == 27 ? "R-LIVE-INJ-27D" : NULL, k == 28 ? "R-LIVE-INJ-27D" : NULL);
        c->hist[0] = D(V_MUMPS, 1, g_A - k);
    }
    add("5種 2回目 without 1回目 on file: flagged, 定期", born_m(6, 0), '1', D(V_5, 2, g_A),
        "recorded", "routine", "R-DOSE-PREV-MISSING", "R-INTERVAL-MIN");
    c = add("history out of order: dose 2 entered between doses 1 and 3", born_m(8, 0), '1',
            D(V_5, 2, g_A - 35), "recorded", "routine", NULL, "R-DOSE-ORDER");
    c->hist[0] = D(V_5, 1, g_A - 60);
    c->hist[1] = D(V_5, 3, g_A - 10);
    c = add("a dose on the day of the move-out is the former municipality's", born_m(12, 10), '1',
            D(V_MR, 1, g_A), "recorded", "routine", NULL, "R-MOVED-OUT");
    c->status = "moved_out";
    c->status_on = g_A;
    add("4種 born 2023-12-29: 生後2月 on 2024-02-28 (leap year)", ymd(2023, 12, 29), '1',
        D(V_4, 1, ymd(2024, 2, 28)), "recorded", "routine", NULL, "R-WINDOW");
    add("4種 born 2023-12-29: 2024-02-27 is before 生後2月", ymd(2023, 12, 29), '1',
        D(V_4, 1, ymd(2024, 2, 27)), "recorded", "voluntary", "R-WINDOW", NULL);
    add("MR born 2024-02-29: 生後24月 on 2026-02-28 (last day)", ymd(2024, 2, 29), '1',
        D(V_MR, 1, ymd(2026, 2, 28)), "recorded", "routine", NULL, "R-WINDOW");
    add("MR born 2024-02-29: 2026-03-01 is after 生後24月", ymd(2024, 2, 29), '1',
        D(V_MR, 1, ymd(2026, 3, 1)), "recorded", "voluntary", "R-WINDOW", NULL);
    for (int k = 0; k < 2; k++) {
        c = add(k ? "水痘 2回目 2025-11-30 +3月 = 2026-03-01 (no 02-30: the 1st)"
                  : "水痘 2回目 2025-11-30 +3月: 2026-02-28 is short (no clamping)",
                ymd(2024, 6, 1), '1', D(V_VZ, 2, k ? ymd(2026, 3, 1) : ymd(2026, 2, 28)),
                "recorded", k ? "routine" : "voluntary", k ? NULL : "R-INTERVAL-MIN",
                k ? "R-INTERVAL-MIN" : NULL);
        c->hist[0] = D(V_VZ, 1, ymd(2025, 11, 30));
        c = add(k ? "日本脳炎 追加 2025-08-31 +6月 = 2026-03-01"
                  : "日本脳炎 追加 2025-08-31 +6月: 2026-02-28 is short",
                ymd(2021, 6, 1), '1', D(V_JE, 3, k ? ymd(2026, 3, 1) : ymd(2026, 2, 28)),
                "recorded", k ? "routine" : "voluntary", k ? NULL : "R-INTERVAL-MIN",
                k ? "R-INTERVAL-MIN" : NULL);
        c->hist[0] = D(V_JE, 1, ymd(2025, 8, 20));
        c->hist[1] = D(V_JE, 2, ymd(2025, 8, 31));
    }
}

/* 60歳以上65歳未満 with a disability of about 身体障害者1級 (施行令 §3 表; R-PERSON-CONDITION). */
static void disability(void)
{
    long b62 = born_m(744, 0);
    tcase *c;

    add("インフルエンザ 62歳 without a condition: 任意", b62, '1', D(V_FLU, 1, g_A), "recorded",
        "voluntary", "R-WINDOW", NULL);
    c = with_cond(add("インフルエンザ 62歳 with 心臓機能障害1級相当: 定期", b62, '1',
                      D(V_FLU, 1, g_A), "recorded", "routine", "R-PERSON-CONDITION", "R-WINDOW"),
                  "disability_crh", NULL, g_A - 100, 0);
    c->sched = "flu-1-60";
    with_cond(add("インフルエンザ 62歳 with HIV免疫機能障害1級相当: 定期", b62, '2',
                  D(V_FLU, 1, g_A), "recorded", "routine", "R-PERSON-CONDITION", NULL),
              "disability_hiv", NULL, g_A - 100, 0);
    with_cond(add("インフルエンザ: the condition ended the day before", b62, '1', D(V_FLU, 1, g_A),
                  "recorded", "voluntary", "R-WINDOW", "R-PERSON-CONDITION"),
              "disability_crh", NULL, g_A - 100, g_A - 1);
    with_cond(add("インフルエンザ: the condition's last day", b62, '1', D(V_FLU, 1, g_A),
                  "recorded", "routine", "R-PERSON-CONDITION", NULL),
              "disability_crh", NULL, g_A - 100, g_A);
    with_cond(add("インフルエンザ: the condition starts the day after", b62, '1', D(V_FLU, 1, g_A),
                  "recorded", "voluntary", "R-WINDOW", NULL),
              "disability_crh", NULL, g_A + 1, 0);
    c = with_cond(add("インフルエンザ: a revoked condition does not count", b62, '1',
                      D(V_FLU, 1, g_A), "recorded", "voluntary", "R-WINDOW", NULL),
                  "disability_crh", NULL, g_A - 100, 0);
    c->cond_revoked = 1;
    with_cond(add("インフルエンザ: a condition for 新型コロナ only", b62, '1', D(V_FLU, 1, g_A),
                  "recorded", "voluntary", "R-WINDOW", NULL),
              "disability_crh", "covid19", g_A - 100, 0);
    with_cond(add("インフルエンザ with the condition, the day before 60歳", born_m(720, -1), '1',
                  D(V_FLU, 1, g_A), "recorded", "voluntary", "R-WINDOW", NULL),
              "disability_crh", NULL, g_A - 3000, 0);
    with_cond(add("インフルエンザ with the condition, 60歳に達した日", born_m(720, 0), '1',
                  D(V_FLU, 1, g_A), "recorded", "routine", "R-PERSON-CONDITION", NULL),
              "disability_crh", NULL, g_A - 3000, 0);
    c = with_cond(add("新型コロナ 62歳 with HIV免疫機能障害: 定期", b62, '1', D(V_COVID, 1, g_A),
                      "recorded", "routine", "R-PERSON-CONDITION", NULL),
                  "disability_hiv", NULL, g_A - 100, 0);
    c->sched = "covid19-1-60";
    add("新型コロナ 62歳 without a condition", b62, '1', D(V_COVID, 1, g_A), "recorded",
        "voluntary", "R-WINDOW", NULL);
    with_cond(add("帯状疱疹 生 62歳 with 心臓機能障害: not a target (HIV only)", b62, '1',
                  D(V_VZ, 1, g_A), "recorded", "voluntary", "R-WINDOW", NULL),
              "disability_crh", NULL, g_A - 100, 0);
    c = with_cond(add("帯状疱疹 生 62歳 with HIV免疫機能障害: 定期", b62, '1', D(V_VZ, 1, g_A),
                      "recorded", "routine", "R-PERSON-CONDITION", NULL),
                  "disability_hiv", NULL, g_A - 100, 0);
    c->sched = "zoster-live-1-60";
    c = with_cond(add("高齢者肺炎球菌 PCV20 63歳 with 呼吸器機能障害: 定期", born_m(756, 0), '1',
                      D(V_PCV20, 1, g_A), "recorded", "routine", "R-PERSON-CONDITION", NULL),
                  "disability_crh", NULL, g_A - 100, 0);
    c->sched = "pneumo_elderly-pcv20-1-60";
    add("高齢者肺炎球菌 PCV20 63歳 without a condition", born_m(756, 0), '1', D(V_PCV20, 1, g_A),
        "recorded", "voluntary", NULL, "R-PERSON-CONDITION");
}

/* 長期療養特例 (施行令 §3②, 施行規則 §2の9; R-LONG-TERM-ILLNESS): E = the day the reason ended. */
static void long_term(void)
{
    long b40 = born_m(40, 0), b30 = born_m(30, 0);
    long beld = born_m(798, 0);
    tcase *c;

    with_cond(add("MR 1期 at 生後40月, 特例 ended that day: 定期", b40, '1', D(V_MR, 1, g_A),
                  "recorded", "routine", "R-LONG-TERM-ILLNESS", "R-WINDOW"),
              "long_term_illness", "measles,rubella", b40 + 300, g_A);
    with_cond(add("MR 1期 the day before the reason ended: 任意", b40, '1', D(V_MR, 1, g_A),
                  "recorded", "voluntary", "R-WINDOW", NULL),
              "long_term_illness", "measles,rubella", b40 + 300, g_A + 1);
    with_cond(add("MR 1期 on the day 2 years after the reason ended pass (last day)", b40, '1',
                  D(V_MR, 1, g_A), "recorded", "routine", "R-LONG-TERM-ILLNESS", NULL),
              "long_term_illness", "measles,rubella", b40 + 300, sdl(g_A + 1, -24));
    with_cond(add("MR 1期 the day after the 2 years: 任意", b40, '1', D(V_MR, 1, g_A), "recorded",
                  "voluntary", "R-WINDOW", NULL),
              "long_term_illness", "measles,rubella", b40 + 300, sdl(g_A, -24));
    with_cond(add("MR 1期: an illness over before the window opened does not extend it", b30, '1',
                  D(V_MR, 1, g_A), "recorded", "voluntary", "R-WINDOW", NULL),
              "long_term_illness", "measles,rubella", b30 + 30, b30 + 200);
    with_cond(add("MR 1期: a 特例 for 水痘 only does not extend MR", b40, '1', D(V_MR, 1, g_A),
                  "recorded", "voluntary", "R-WINDOW", NULL),
              "long_term_illness", "varicella", b40 + 300, g_A);
    c = with_cond(add("MR 1期: a revoked 特例", b40, '1', D(V_MR, 1, g_A), "recorded", "voluntary",
                      "R-WINDOW", NULL),
                  "long_term_illness", "measles,rubella", b40 + 300, g_A);
    c->cond_revoked = 1;
    with_cond(add("BCG 特例 on the day before 4歳 (upper age)", born_m(48, 0), '1',
                  D(V_BCG, 1, g_A), "recorded", "routine", "R-LONG-TERM-ILLNESS", NULL),
              "long_term_illness", "tb", born_m(48, 0) + 10, g_A - 400);
    with_cond(add("BCG 特例 on 4歳 (past the upper age)", born_m(48, 1), '1', D(V_BCG, 1, g_A),
                  "recorded", "voluntary", "R-WINDOW", NULL),
              "long_term_illness", "tb", born_m(48, 1) + 10, g_A - 400);
    with_cond(add("小児肺炎球菌 特例 on the day before 6歳", born_m(72, 0), '1', D(V_PCV20, 1, g_A),
                  "recorded", "routine", "R-LONG-TERM-ILLNESS", NULL),
              "long_term_illness", "pneumo_child", born_m(72, 0) + 100, g_A - 100);
    with_cond(add("小児肺炎球菌 特例 on 6歳 (past the upper age)", born_m(72, 1), '1',
                  D(V_PCV20, 1, g_A), "recorded", "voluntary", "R-WINDOW", NULL),
              "long_term_illness", "pneumo_child", born_m(72, 1) + 100, g_A - 100);
    with_cond(add("高齢者肺炎球菌 特例: the last day of 1 year", beld, '1', D(V_PCV20, 1, g_A),
                  "recorded", "routine", "R-LONG-TERM-ILLNESS", NULL),
              "long_term_illness", "pneumo_elderly", sdl(beld, 784), sdl(g_A + 1, -12));
    with_cond(add("高齢者肺炎球菌 特例: the day after 1 year", beld, '1', D(V_PCV20, 1, g_A),
                  "recorded", "voluntary", NULL, "R-LONG-TERM-ILLNESS"),
              "long_term_illness", "pneumo_elderly", sdl(beld, 784), sdl(g_A, -12));
    with_cond(add("インフルエンザ has no 特例", born_m(744, 0), '1', D(V_FLU, 1, g_A), "recorded",
                  "voluntary", "R-WINDOW", NULL),
              "long_term_illness", "flu", g_A - 300, g_A - 10);
}

/* RSV (妊婦) against the H-7 pregnancy record: EDD - 84 .. EDD - 22 is 28w0d .. 36w6d. */
static void pregnancy(void)
{
    long b = ymd(1995, 5, 5);
    tcase *c;
    const struct {
        int edd;
        const char *name, *cat;
    } w[] = {{84, "RSV without weeks: 28w0d from the pregnancy record", "routine"},
             {85, "RSV without weeks: 27w6d from the pregnancy record", "voluntary"},
             {22, "RSV without weeks: 36w6d from the pregnancy record", "routine"},
             {21, "RSV without weeks: 37w0d from the pregnancy record", "voluntary"}};

    for (int i = 0; i < 4; i++) {
        c = add(w[i].name, b, '2', D(V_RSV, 1, g_A), "recorded", w[i].cat, NULL, "R-RSV-PREGNANCY");
        c->edd = g_A + w[i].edd;
    }
    c = add("RSV: weeks on the dose (30) against the record (26w): the record governs", b, '2',
            W(V_RSV, g_A, 30), "recorded", "voluntary", "R-RSV-PREGNANCY-RECORD", NULL);
    c->edd = g_A + 98;
    c = add("RSV: weeks that agree with the record are not flagged", b, '2', W(V_RSV, g_A, 32),
            "recorded", "routine", NULL, "R-RSV-PREGNANCY-RECORD");
    c->edd = g_A + 56;
    c = add("RSV in back-to-back pregnancies: the record tells them apart", b, '2',
            W(V_RSV, g_A, 34), "recorded", "routine", NULL, "R-ONCE-PREGNANCY");
    c->edd = g_A + 42;
    c->hist[0] = W(V_RSV, g_A - 300, 30);
    c = add("RSV in back-to-back pregnancies without a record: within 280 days", b, '2',
            W(V_RSV, g_A, 34), "duplicate", NULL, "R-ONCE-PREGNANCY", NULL);
    c->hist[0] = W(V_RSV, g_A - 300, 30);
    c = add("RSV twice under one pregnancy record: R-ONCE-PREGNANCY", b, '2', D(V_RSV, 1, g_A),
            "duplicate", NULL, "R-ONCE-PREGNANCY", NULL);
    c->edd = g_A + 42;
    c->hist[0] = W(V_RSV, g_A - 14, 32);
    c = add("RSV: a past pregnancy's record does not apply (weeks from the dose)", b, '2',
            W(V_RSV, g_A, 30), "recorded", "routine", NULL, "R-RSV-PREGNANCY-RECORD");
    c->edd = g_A - 100;
}

/* Corrections and voids that would break a later dose (R-CORRECTION-LATER). */
static void corrections(void)
{
    long b8 = born_m(8, 0);
    tcase *c;

    for (int k = 0; k < 2; k++) {
        c = fix(k ? "5種 1回目 corrected to 20 days before 2回目: refused"
                  : "5種 1回目 corrected to 21 days before 2回目",
                b8, 1, g_A - 42 + k, 0, k ? "refused" : "recorded",
                k ? "R-CORRECTION-LATER" : NULL);
        c->hist[0] = D(V_5, 1, g_A - 50);
        c->hist[1] = D(V_5, 2, g_A - 21);
        c = fix(k ? "5種 2回目 corrected to 20 days before 3回目: refused"
                  : "5種 2回目 corrected to 21 days before 3回目",
                b8, 2, g_A - 41 + k, 0, k ? "refused" : "recorded",
                k ? "R-CORRECTION-LATER" : NULL);
        c->hist[0] = D(V_5, 1, g_A - 80);
        c->hist[1] = D(V_5, 2, g_A - 50);
        c->hist[2] = D(V_5, 3, g_A - 20);
        c = fix(k ? "B型肝炎 1回目 corrected to 139 days before 3回目: refused"
                  : "B型肝炎 1回目 corrected to 140 days before 3回目",
                born_m(9, 0), 1, g_A - 140 + k, 0, k ? "refused" : "recorded",
                k ? "R-CORRECTION-LATER" : NULL);
        c->hist[0] = D(V_HEPB, 1, g_A - 200);
        c->hist[1] = D(V_HEPB, 2, g_A - 100);
        c->hist[2] = D(V_HEPB, 3, g_A);
        c = fix(k ? "MR corrected to 27 days before a 水痘 dose: refused"
                  : "MR corrected to 28 days before a 水痘 dose",
                born_m(16, 0), 1, g_A - 58 + k, 0, k ? "refused" : "recorded",
                k ? "R-CORRECTION-LATER" : NULL);
        c->hist[0] = D(V_MR, 1, g_A - 60);
        c->hist[1] = D(V_VZ, 1, g_A - 30);
        c = fix(k ? "水痘 1回目 corrected to 3月 less a day before 2回目: refused"
                  : "水痘 1回目 corrected to 3月 before 2回目",
                born_m(20, 0), 1, sdl(g_A, -3) + k, 0, k ? "refused" : "recorded",
                k ? "R-CORRECTION-LATER" : NULL);
        c->hist[0] = D(V_VZ, 1, g_A - 120);
        c->hist[1] = D(V_VZ, 2, g_A);
    }
    c = fix("5種 1回目 voided while 2回目 exists: allowed (a gap is a flag)", b8, 1, 0, 1,
            "recorded", NULL);
    c->hist[0] = D(V_5, 1, g_A - 50);
    c->hist[1] = D(V_5, 2, g_A - 21);
    c = fix("MR voided while a later 水痘 exists", born_m(16, 0), 1, 0, 1, "recorded", NULL);
    c->hist[0] = D(V_MR, 1, g_A - 60);
    c->hist[1] = D(V_VZ, 1, g_A - 30);
    c = fix("5種 1回目 corrected to after 2回目: R-DOSE-ORDER", b8, 1, g_A - 10, 0, "refused",
            "R-DOSE-ORDER");
    c->hist[0] = D(V_5, 1, g_A - 50);
    c->hist[1] = D(V_5, 2, g_A - 21);
    c = fix("インフルエンザ corrected into the FY of another dose: R-ONCE-FY", ymd(1950, 1, 1), 1,
            ymd(2026, 4, 2), 0, "duplicate", NULL);
    c->hist[0] = D(V_FLU, 1, ymd(2026, 3, 31));
    c->hist[1] = D(V_FLU, 1, ymd(2026, 4, 1));
}

START_TEST(test_rule_table_more)
{
    later_doses();
    hpv();
    elderly();
    misc();
    disability();
    long_term();
    pregnancy();
    corrections();
    ck_assert_int_eq(run_cases(), 0);
}
END_TEST

static long post_status(const char *path, const char *body, const char *tok)
{
    it_resp r = {0};
    long st;

    it_call("POST", path, tok, body, &r);
    st = r.status;
    if (st == 422 && r.json != NULL && json_array_size(json_object_get(r.json, "errors")) == 0)
        st = -422; /* a 422 must name its fields */
    it_resp_free(&r);
    return st;
}

/* The conditions API: bad input is refused and leaves nothing; another municipality's person
 * is 404; a condition is listed, revoked once, then 409. */
START_TEST(test_conditions_api)
{
    tcase p = {.birth = ymd(1963, 1, 1), .sex = '1'};
    char *pid = person_sql(&p), path[200], sql[300], *n;
    it_resp r = {0};
    const char *bad[] = {
        "{\"kind\":\"nosuch\",\"evidence\":\"x\",\"valid_from\":\"2026-01-01\"}",
        "{\"kind\":\"long_term_illness\",\"evidence\":\"x\",\"valid_from\":\"2026-01-01\","
        "\"disease_codes\":[\"measles\"]}",
        "{\"kind\":\"long_term_illness\",\"evidence\":\"x\",\"valid_from\":\"2026-01-01\","
        "\"valid_to\":\"2026-02-01\"}",
        "{\"kind\":\"disability_crh\",\"evidence\":\"x\",\"valid_from\":\"2026-01-01\","
        "\"disease_codes\":[\"nosuch\"]}",
        "{\"kind\":\"disability_crh\",\"evidence\":\"x\",\"valid_from\":\"2026-02-01\","
        "\"valid_to\":\"2026-01-01\"}",
        "{\"kind\":\"disability_crh\",\"evidence\":\"x\",\"valid_from\":\"2026-02-01\","
        "\"grade\":1}",
        "{\"kind\":\"disability_crh\",\"valid_from\":\"2026-02-01\"}",
        "{\"kind\":\"disability_crh\",\"evidence\":\"'; DROP TABLE x; --\","
        "\"valid_from\":\"2026-02-30\"}",
    };

    ck_assert_ptr_nonnull(pid);
    snprintf(path, sizeof(path), "/api/v1/persons/%s/conditions", pid);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(post_status(path, bad[i], g_tok), 422);
    ck_assert_int_eq(post_status(path, "{\"kind\":", g_tok), 400);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM records.person_conditions WHERE person_id = '%s'", pid);
    n = it_sql_value(sql);
    ck_assert_str_eq(n, "0");
    free(n);
    it_call("POST", path, g_tok,
            "{\"kind\":\"disability_crh\",\"evidence\":\"身体障害者手帳 1級 第1号\","
            "\"evidence_on\":\"2025-12-01\",\"valid_from\":\"2026-01-01\"}",
            &r);
    ck_assert_int_eq(r.status, 201);
    char cid[37];
    snprintf(cid, sizeof(cid), "%s", json_string_value(json_object_get(r.json, "id")));
    it_resp_free(&r);
    it_call("GET", path, g_tok, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "items")), 1);
    it_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/persons/%s/conditions/%s/revoke", pid, cid);
    ck_assert_int_eq(post_status(path, "{\"reason\":\"誤登録\"}", g_tok), 200);
    ck_assert_int_eq(post_status(path, "{\"reason\":\"誤登録\"}", g_tok), 409);
    ck_assert_int_eq(post_status(path, "{}", g_tok), 422);
    free(pid);
    /* another municipality's resident */
    n = it_sql_value("INSERT INTO records.persons (muni_code, resident_no, name, name_kana, "
                     "birth_date, sex, address, status, created_by, updated_by) VALUES ('131041', "
                     "'RT-' || gen_random_uuid(), '他市 花子', 'タシ ハナコ', '1963-01-01', '2', "
                     "'東京都', 'resident', 'it', 'it') RETURNING id");
    ck_assert_ptr_nonnull(n);
    snprintf(path, sizeof(path), "/api/v1/persons/%s/conditions", n);
    ck_assert_int_eq(post_status(path,
                                 "{\"kind\":\"disability_crh\",\"evidence\":\"x\","
                                 "\"valid_from\":\"2026-01-01\"}",
                                 g_tok),
                     404);
    it_call("GET", path, g_tok, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    it_resp_free(&r);
    free(n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("records rules (more)");
    TCase *tc = tcase_create("rules");
    SRunner *sr;
    int failed;

    if (it_make_signing_key() != 0 || it_start(&rec_service) < 0)
        return 1;
    g_tok = mint_muni();
    set_anchor();
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, test_rule_table_more);
    tcase_add_test(tc, test_conditions_api);
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
