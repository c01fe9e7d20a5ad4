/* masters.c - the master descriptors: columns (keys first), editors and owners.
 *
 * Who edits what (docs/domain.md §10, narrowed per master on top of masters.write):
 *   厚生労働省: the national masters - diseases, vaccines, schedules, rules, lots, and the
 *   population figures of every municipality;
 *   市区町村: its own municipality row, its own unit prices and population figures;
 *   医療機関 / 非保険医療機関: its own institution row;
 *   国保連合会: its own prefecture's 国保連合会 row; 国保中央会: every 国保連合会 row and the
 *   集合契約 (collective contracts);
 *   運用保守事業者 (operator): the technical masters - prefectures, municipalities,
 *   institutions (オンライン資格確認 feed), collective contracts (集合契約システム feed),
 *   banks and branches.
 * Everyone else is refused with 403. */
#include <string.h>

#include "mst.h"

#define T(n, req, chk, mn, mx)                      \
    {                                               \
        n, MST_TEXT, "text", req, chk, mn, mx, NULL \
    }
#define E(n, req, vals)                                  \
    {                                                    \
        n, MST_TEXT, "text", req, MST_C_ENUM, 0, 0, vals \
    }
#define I(n, req, mn, mx)                                \
    {                                                    \
        n, MST_INT, "int", req, MST_C_NONE, mn, mx, NULL \
    }
#define B(n, req)                                           \
    {                                                       \
        n, MST_BOOL, "boolean", req, MST_C_NONE, 0, 0, NULL \
    }
#define D(n, req)                                        \
    {                                                    \
        n, MST_DATE, "date", req, MST_C_NONE, 0, 0, NULL \
    }
#define IV(n, req)                                               \
    {                                                            \
        n, MST_INTERVAL, "interval", req, MST_C_NONE, 0, 0, NULL \
    }
#define END                                 \
    {                                       \
        NULL, 0, NULL, false, 0, 0, 0, NULL \
    }

static const char *const kinds[] = {"insurance", "non_insurance", NULL};
static const char *const cats[] = {"A", "B", NULL};
static const char *const routes[] = {"injection", "oral", "percutaneous", "intranasal", NULL};
static const char *const code_kinds[] = {"HOT9", "HOT13", "YJ", NULL};
static const char *const sexes[] = {"1", "2", NULL};
static const char *const once_pers[] = {"life", "fiscal_year", "pregnancy", NULL};
static const char *const effects[] = {"refuse",      "duplicate", "voluntary",
                                      "unclaimable", "flag",      NULL};

static const mst_col prefectures[] = {T("code", true, MST_C_PREF, 0, 0),
                                      T("name", true, MST_C_NONE, 1, 200),
                                      T("name_kana", true, MST_C_NONE, 1, 200), END};
static const mst_col kokuhoren[] = {T("prefecture_code", true, MST_C_PREF, 0, 0),
                                    T("name", true, MST_C_NONE, 1, 200),
                                    T("name_kana", false, MST_C_NONE, 0, 200), END};
static const mst_col municipalities[] = {
    T("code", true, MST_C_MUNI, 0, 0), T("name", true, MST_C_NONE, 1, 200),
    T("name_kana", true, MST_C_NONE, 1, 200), T("prefecture_code", true, MST_C_PREF, 0, 0), END};
static const mst_col institutions[] = {T("code", true, MST_C_INST, 0, 0),
                                       T("name", true, MST_C_NONE, 1, 200),
                                       T("name_kana", false, MST_C_NONE, 0, 200),
                                       E("kind", true, kinds),
                                       T("prefecture_code", true, MST_C_PREF, 0, 0),
                                       T("address", false, MST_C_NONE, 0, 400),
                                       END};
static const mst_col diseases[] = {T("code", true, MST_C_CODE, 0, 0),
                                   T("name", true, MST_C_NONE, 1, 200), E("category", true, cats),
                                   T("name_en", false, MST_C_NONE, 0, 200), END};
static const mst_col vaccines[] = {
    T("code", true, MST_C_VACCINE, 0, 0),
    E("code_kind", true, code_kinds),
    T("name", true, MST_C_NONE, 1, 200),
    T("manufacturer", true, MST_C_NONE, 1, 200),
    B("live", true),
    E("route", true, routes),
    {"disease_codes", MST_TEXT_ARRAY, "text[]", true, MST_C_CODE, 1, 8, NULL},
    {"dose_ml", MST_NUMERIC, "numeric", false, MST_C_NONE, 0, 0, NULL},
    B("live_injected", false),
    END};
static const mst_col schedules[] = {
    T("code", true, MST_C_CODE, 0, 0),
    T("disease_code", true, MST_C_CODE, 0, 0),
    T("vaccine_code", false, MST_C_VACCINE, 0, 0),
    E("category", true, cats),
    I("dose_number", true, 1, 20),
    T("dose_label", true, MST_C_NONE, 1, 200),
    I("doses_total", true, 1, 20),
    IV("age_from", true),
    IV("age_to", true),
    IV("min_interval", false),
    IV("max_interval", false),
    IV("min_interval_from_first", false),
    E("sex", false, sexes),
    I("pregnancy_weeks_from", false, 0, 45),
    I("pregnancy_weeks_to", false, 0, 45),
    T("note", false, MST_C_NONE, 0, 400),
    I("fy_age_from", false, 0, 150),
    I("fy_age_to", false, 0, 150),
    I("fy_age_step", false, 1, 50),
    E("once_per", false, once_pers),
    {"person_conditions", MST_TEXT_ARRAY, "text[]", false, MST_C_CODE, 1, 8, NULL},
    IV("ltc_extension", false),
    IV("ltc_age_to", false),
    D("birth_from", false),
    D("birth_to", false),
    D("condition_evidence_by", false),
    T("rule_code", false, MST_C_CODE, 0, 0),
    END};
/* The vaccination rules (issue 17): statement, source and parameter of each rule code. */
static const mst_col rules[] = {T("code", true, MST_C_CODE, 0, 0),
                                E("effect", true, effects),
                                T("field", true, MST_C_NONE, 1, 40),
                                T("statement_ja", true, MST_C_NONE, 1, 400),
                                T("statement_en", true, MST_C_NONE, 1, 400),
                                T("source_ref", true, MST_C_NONE, 1, 400),
                                I("param_days", false, 0, 36500),
                                END};
static const mst_col lots[] = {T("vaccine_code", true, MST_C_VACCINE, 0, 0),
                               T("lot_no", true, MST_C_LOT, 0, 0), D("expiry_on", true),
                               D("certified_on", false), END};
static const mst_col unit_prices[] = {T("municipality_code", true, MST_C_MUNI, 0, 0),
                                      T("vaccine_code", true, MST_C_VACCINE, 0, 0),
                                      I("dose_number", true, 1, 20),
                                      I("price_yen", true, 0, 10000000),
                                      I("self_pay_yen", true, 0, 10000000),
                                      END};
/* The population master (H-6): residents by municipality x sex x age band, the denominators of
 * the stats service's coverage; the bands are the published statistics' (services/stats). */
static const char *const age_bands[] = {"0",     "1",     "2-4",   "5-9",   "10-14",
                                        "15-19", "20-29", "30-39", "40-49", "50-59",
                                        "60-69", "70-79", "80-89", "90+",   NULL};
static const mst_col populations[] = {T("municipality_code", true, MST_C_MUNI, 0, 0),
                                      E("sex", true, sexes), E("age_band", true, age_bands),
                                      I("population", true, 0, 100000000), END};
static const mst_col collective_contracts[] = {
    T("contract_code", true, MST_C_CODE, 0, 0), T("institution_code", true, MST_C_INST, 0, 0),
    T("vaccine_code", true, MST_C_VACCINE, 0, 0), I("price_yen", true, 0, 10000000), END};
static const mst_col banks[] = {T("code", true, MST_C_DIGITS, 4, 4),
                                T("name", true, MST_C_NONE, 1, 200),
                                T("name_kana", true, MST_C_HANKANA, 1, 30), END};
static const mst_col bank_branches[] = {
    T("bank_code", true, MST_C_DIGITS, 4, 4), T("code", true, MST_C_DIGITS, 3, 3),
    T("name", true, MST_C_NONE, 1, 200), T("name_kana", true, MST_C_HANKANA, 1, 30), END};

/* Municipality and institution codes start with their prefecture. */
static const char *pref_prefix(const char *const *v)
{
    return strncmp(v[0], v[3], 2) == 0 ? NULL
                                       : "prefecture_code must be the code's first two digits";
}

static const char *inst_row(const char *const *v)
{
    bool pseudo = v[0][2] == '9';

    if (strncmp(v[0], v[4], 2) != 0)
        return "prefecture_code must be the code's first two digits";
    if (pseudo != (strcmp(v[3], "non_insurance") == 0))
        return "a non-insurance institution has a pseudo-code with 9 as third digit, an "
               "insurance one 1, 3 or 4";
    return NULL;
}

static const char *schedule_row(const char *const *v)
{
    if (v[4][0] != '\0' && v[6][0] != '\0' && atoi(v[4]) > atoi(v[6]))
        return "dose_number must not exceed doses_total";
    if ((v[13][0] == '\0') != (v[14][0] == '\0'))
        return "pregnancy_weeks_from and pregnancy_weeks_to come together";
    return NULL;
}

#define OPS  MST_ORG(SS_ORG_OPERATOR)
#define MHLW MST_ORG(SS_ORG_MHLW)
#define CHUO MST_ORG(SS_ORG_CHUOKAI)
#define MUNI MST_ORG(SS_ORG_MUNICIPALITY)
#define INST (MST_ORG(SS_ORG_MEDICAL) | MST_ORG(SS_ORG_NONINS_MEDICAL))
#define KREN MST_ORG(SS_ORG_KOKUHOREN)

mst_master mst_masters[] = {
    {"prefectures", "都道府県", prefectures, 1, OPS, 0, 0, MST_OWN_NONE, NULL, NULL, 0},
    {"kokuhoren", "国保連合会", kokuhoren, 1, OPS | CHUO, KREN, 0, MST_OWN_PREF, NULL, NULL, 0},
    {"municipalities", "市区町村", municipalities, 1, OPS, MUNI, 0, MST_OWN_MUNI, pref_prefix, NULL,
     0},
    {"institutions", "医療機関", institutions, 1, OPS, INST, 0, MST_OWN_ORG_CODE, inst_row, NULL,
     0},
    {"diseases", "対象疾病", diseases, 1, MHLW, 0, 0, MST_OWN_NONE, NULL, NULL, 0},
    {"vaccines", "ワクチン", vaccines, 1, MHLW, 0, 0, MST_OWN_NONE, NULL, NULL, 0},
    {"schedules", "接種スケジュール", schedules, 1, MHLW, 0, 0, MST_OWN_NONE, schedule_row, NULL,
     0},
    {"rules", "接種ルール", rules, 1, MHLW, 0, 0, MST_OWN_NONE, NULL, NULL, 0},
    {"lots", "ロット", lots, 2, MHLW, 0, 0, MST_OWN_NONE, NULL, NULL, 0},
    {"unit_prices", "単価", unit_prices, 3, 0, MUNI, 0, MST_OWN_MUNI, NULL, NULL, 0},
    {"populations", "人口", populations, 3, MHLW, MUNI, 0, MST_OWN_MUNI, NULL, NULL, 0},
    {"collective_contracts", "集合契約", collective_contracts, 3, OPS | CHUO, 0, 0, MST_OWN_NONE,
     NULL, NULL, 0},
    {"banks", "金融機関", banks, 1, OPS, 0, 0, MST_OWN_NONE, NULL, NULL, 0},
    {"bank_branches", "金融機関店舗", bank_branches, 2, OPS, 0, 0, MST_OWN_NONE, NULL, NULL, 0},
    {NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, 0},
};

mst_master *mst_find(const char *name)
{
    for (mst_master *m = mst_masters; name != NULL && m->name != NULL; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}
