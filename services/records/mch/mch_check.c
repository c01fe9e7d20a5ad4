/* mch_check.c - the typed payloads of maternal/child health records (H-7), checked the same
 * way for a single record and for each line of a bulk NDJSON import.
 *
 *   infant_checkup  乳幼児健診: check-up age, height, weight, head circumference, development
 *                   findings from the items of that check-up age, overall result
 *   pregnancy       妊娠届・妊婦健診: expected delivery date and weeks of pregnancy (which must
 *                   agree within 14 days), gravida/parity, multiple pregnancy, handbook date
 *   checkup         other check-ups: type and a list of coded results with units
 * Person-dependent rules (the check-up age window, a pregnancy only for a woman, the date not
 * before birth) need the person and are checked with it in mch.c. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mch.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

enum { M_NUM = 1, M_INT, M_BOOL, M_DATE, M_TEXT, M_ENUM, M_ARRAY };

typedef struct mfield {
    const char *name;
    int type;
    bool required;
    double min, max; /* number range, text length, array size */
    const char *const *values;
} mfield;

static const char *const overalls[] = {"normal", "follow_up", "referred", "treatment", NULL};
static const char *const finding_results[] = {"normal", "follow_up", "referred", NULL};
static const char *const checkup_types[] = {"school",  "workplace", "specific_health", "dental",
                                            "hearing", "vision",    "other",           NULL};

/* Check-up ages with their age window in months (inclusive) and development items. */
static const struct infant_age {
    const char *code;
    int from_months, to_months;
    bool head_required;
    const char *const items[10];
} infant_ages[] = {
    {"1m", 0, 2, true, {"suckling", "moro_reflex", "eye_following", NULL}},
    {"3-4m", 3, 5, true, {"head_control", "social_smile", "eye_following", "sound_response", NULL}},
    {"6-7m", 6, 8, true, {"rolling_over", "sitting_support", "reaching", "babbling", NULL}},
    {"9-10m",
     9,
     11,
     true,
     {"sitting", "crawling", "pulling_to_stand", "pincer_grasp", "object_permanence", NULL}},
    {"1y6m",
     18,
     23,
     true,
     {"walking", "meaningful_words", "pointing", "stacking_blocks", "spoon_use", NULL}},
    {"3y",
     36,
     47,
     false,
     {"running", "two_word_sentences", "name_and_age", "circle_drawing", "stairs", "hearing",
      "vision", NULL}},
    {"other", 0, 83, false, {NULL}},
};

static const char *const infant_age_codes[] = {"1m",   "3-4m", "6-7m",  "9-10m",
                                               "1y6m", "3y",   "other", NULL};

static const mfield infant_fields[] = {
    {"checkup_age", M_ENUM, true, 0, 0, infant_age_codes},
    {"height_cm", M_NUM, true, 30, 130, NULL},
    {"weight_kg", M_NUM, true, 0.3, 40, NULL},
    {"head_circumference_cm", M_NUM, false, 25, 60, NULL},
    {"chest_circumference_cm", M_NUM, false, 25, 80, NULL},
    {"findings", M_ARRAY, false, 0, 30, NULL},
    {"overall", M_ENUM, true, 0, 0, overalls},
    {"note", M_TEXT, false, 1, 1000, NULL},
    {NULL, 0, false, 0, 0, NULL},
};

static const mfield pregnancy_fields[] = {
    {"expected_delivery_date", M_DATE, true, 0, 0, NULL},
    {"pregnancy_weeks", M_INT, true, 0, 45, NULL},
    {"pregnancy_days", M_INT, false, 0, 6, NULL},
    {"gravida", M_INT, false, 1, 20, NULL},
    {"parity", M_INT, false, 0, 20, NULL},
    {"multiple_pregnancy", M_BOOL, false, 0, 0, NULL},
    {"handbook_issued_on", M_DATE, false, 0, 0, NULL},
    {"note", M_TEXT, false, 1, 1000, NULL},
    {NULL, 0, false, 0, 0, NULL},
};

static const mfield checkup_fields[] = {
    {"checkup_type", M_ENUM, true, 0, 0, checkup_types},
    {"results", M_ARRAY, true, 1, 100, NULL},
    {"overall", M_ENUM, false, 0, 0, overalls},
    {"note", M_TEXT, false, 1, 1000, NULL},
    {NULL, 0, false, 0, 0, NULL},
};

static bool in_list(const char *s, const char *const *list)
{
    for (; s != NULL && list != NULL && *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static void err2(ss_req *r, const char *pfx, const char *name, const char *reason)
{
    char f[128];

    snprintf(f, sizeof(f), "%s%s", pfx, name);
    ss_req_field_error(r, f, reason);
}

static bool value_ok(const mfield *f, const json_t *v)
{
    switch (f->type) {
    case M_NUM:
        return json_is_number(v) && json_number_value(v) >= f->min &&
               json_number_value(v) <= f->max;
    case M_INT:
        return json_is_integer(v) && json_integer_value(v) >= f->min &&
               json_integer_value(v) <= f->max;
    case M_BOOL: return json_is_boolean(v);
    case M_DATE: return json_is_string(v) && ss_date_ok(json_string_value(v));
    case M_TEXT: return rec_q_text_ok(json_string_value(v), (size_t)f->min, (size_t)f->max);
    case M_ENUM: return in_list(json_string_value(v), f->values);
    default:
        return json_is_array(v) && json_array_size(v) >= (size_t)f->min &&
               json_array_size(v) <= (size_t)f->max;
    }
}

static const char *reason_of(const mfield *f)
{
    static const char *const reasons[] = {
        NULL,
        "must be a number in the allowed range",
        "must be an integer in the allowed range",
        "must be true or false",
        "must be a date YYYY-MM-DD",
        "must be text of the allowed length without control characters",
        "is not one of the allowed values",
        "must be an array of the allowed size"};
    return reasons[f->type];
}

/* Closed object against a field table; names prefixed with pfx ("data."). */
static void check_fields(ss_req *r, const json_t *obj, const mfield *fields, const char *pfx)
{
    const char *key;
    json_t *v;

    json_object_foreach ((json_t *)(uintptr_t)obj, key, v) {
        const mfield *f = fields;

        while (f->name != NULL && strcmp(f->name, key) != 0)
            f++;
        if (f->name == NULL)
            err2(r, pfx, rec_q_code_ok(key) ? key : "(member)", "unknown field");
        else if (!value_ok(f, v))
            err2(r, pfx, key, reason_of(f));
    }
    for (const mfield *f = fields; f->name != NULL; f++)
        if (f->required && json_object_get(obj, f->name) == NULL)
            err2(r, pfx, f->name, "is required");
}

static const struct infant_age *infant_age(const char *code)
{
    for (size_t i = 0; i < sizeof(infant_ages) / sizeof(infant_ages[0]); i++)
        if (code != NULL && strcmp(infant_ages[i].code, code) == 0)
            return &infant_ages[i];
    return NULL;
}

static void check_findings(ss_req *r, const json_t *findings, const struct infant_age *age,
                           const char *pfx)
{
    size_t i;
    json_t *f;
    char p[96];

    json_array_foreach (findings, i, f) {
        const char *code = json_string_value(json_object_get(f, "code"));
        const json_t *note = json_object_get(f, "note");
        size_t members = 2 + (note != NULL);

        snprintf(p, sizeof(p), "%sfindings[%zu]", pfx, i);
        if (!json_is_object(f) || json_object_size(f) != members ||
            !in_list(json_string_value(json_object_get(f, "result")), finding_results) ||
            (note != NULL && !rec_q_text_ok(json_string_value(note), 1, 500)))
            err2(r, p, "", "must be {code, result: normal|follow_up|referred, note?}");
        else if (!(age->items[0] == NULL ? rec_q_code_ok(code) : in_list(code, age->items)))
            err2(r, p, ".code", "is not a development item of this check-up age");
        for (size_t k = 0; k < i && code != NULL; k++)
            if (json_equal(json_object_get(json_array_get(findings, k), "code"),
                           json_object_get(f, "code")))
                err2(r, p, ".code", "is repeated");
    }
}

/* Days since 1970-01-01 of a valid YYYY-MM-DD. */
static long days_of(const char *s)
{
    struct tm tm = {0};

    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
    tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
    return (long)(timegm(&tm) / 86400);
}

/* The expected delivery date is 280 days after the first day of the last period: on the
 * examination date the pregnancy is weeks*7+days into it. Allow two weeks of disagreement
 * (dating by ultrasound moves the date). */
static void check_pregnancy(ss_req *r, const json_t *d, const char *examined_on, const char *pfx)
{
    const char *edd = json_string_value(json_object_get(d, "expected_delivery_date"));
    json_int_t w = json_integer_value(json_object_get(d, "pregnancy_weeks"));
    json_int_t dd = json_integer_value(json_object_get(d, "pregnancy_days"));
    long gap;

    if (edd == NULL || !ss_date_ok(edd) || examined_on == NULL || !ss_date_ok(examined_on) ||
        !json_is_integer(json_object_get(d, "pregnancy_weeks")))
        return;
    gap = days_of(edd) - (days_of(examined_on) + 280 - (long)(w * 7 + dd));
    if (gap < -14 || gap > 14)
        err2(r, pfx, "expected_delivery_date",
             "does not agree with pregnancy_weeks on examined_on (more than 14 days apart)");
}

static void check_results(ss_req *r, const json_t *results, const char *pfx)
{
    size_t i;
    json_t *x;
    char p[96];

    json_array_foreach (results, i, x) {
        const json_t *v = json_object_get(x, "value"), *unit = json_object_get(x, "unit");
        size_t members = 2 + (unit != NULL);

        snprintf(p, sizeof(p), "%sresults[%zu]", pfx, i);
        if (!json_is_object(x) || json_object_size(x) != members ||
            !rec_q_code_ok(json_string_value(json_object_get(x, "code"))) ||
            !(json_is_number(v) || json_is_boolean(v) ||
              rec_q_text_ok(json_string_value(v), 1, 200)) ||
            (unit != NULL && !rec_q_text_ok(json_string_value(unit), 1, 20)))
            err2(r, p, "", "must be {code, value: number|boolean|text, unit?}");
        for (size_t k = 0; k < i; k++)
            if (json_equal(json_object_get(json_array_get(results, k), "code"),
                           json_object_get(x, "code")))
                err2(r, p, ".code", "is repeated");
    }
}

int rec_mch_data_check(ss_req *r, const char *kind, const json_t *data, const char *examined_on,
                       const char *pfx)
{
    size_t before = json_array_size(r->errors);
    const struct infant_age *age;

    if (!json_is_object(data))
        return err2(r, pfx, "", "must be an object"), SS_ERR_VALIDATION;
    if (strcmp(kind, "infant_checkup") == 0) {
        check_fields(r, data, infant_fields, pfx);
        age = infant_age(json_string_value(json_object_get(data, "checkup_age")));
        if (age != NULL && age->head_required &&
            json_object_get(data, "head_circumference_cm") == NULL)
            err2(r, pfx, "head_circumference_cm", "is required at this check-up age");
        if (age != NULL && json_is_array(json_object_get(data, "findings")))
            check_findings(r, json_object_get(data, "findings"), age, pfx);
    } else if (strcmp(kind, "pregnancy") == 0) {
        check_fields(r, data, pregnancy_fields, pfx);
        check_pregnancy(r, data, examined_on, pfx);
    } else {
        check_fields(r, data, checkup_fields, pfx);
        if (json_is_array(json_object_get(data, "results")))
            check_results(r, json_object_get(data, "results"), pfx);
    }
    return json_array_size(r->errors) > before ? SS_ERR_VALIDATION : 0;
}

bool rec_mch_age_window(const char *checkup_age, int *from_months, int *to_months)
{
    const struct infant_age *age = infant_age(checkup_age);

    if (age == NULL)
        return false;
    *from_months = age->from_months;
    *to_months = age->to_months;
    return true;
}
