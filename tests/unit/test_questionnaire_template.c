/* test_questionnaire_template.c - the questionnaire template rules of the records service
 * (services/records/questionnaires/template_check.c, declared in questionnaire.h and linked from
 * the records service's library, as the integration tests link theirs; H-4) without a database:
 * every template the migration ships passes the same shape check the API applies; conditions on
 * age, sex and earlier answers decide which questions must, may and must not be answered. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "questionnaires/questionnaire.h"
#include "sesshu/err.h"
#include "unit.h"

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);

    ck_assert_msg(j != NULL, "%s", e.text);
    return j;
}

/* A fresh request for the checks: only the errors array is used. */
static void req_init(ss_req *r)
{
    memset(r, 0, sizeof(*r));
}

static bool has_error(const ss_req *r, const char *field)
{
    size_t i;
    json_t *e;

    json_array_foreach (r->errors, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
            return true;
    }
    return false;
}

/* Every '<json>'::jsonb literal of migration 021 (quotes doubled inside). */
START_TEST(shipped_templates_pass_the_shape_check)
{
    const char *src = getenv("SESSHU_TEST_SRC");
    char path[512];
    static char buf[1 << 20];
    size_t n;
    int count = 0;
    FILE *f;

    ck_assert_ptr_nonnull(src);
    snprintf(path, sizeof(path), "%s/../../services/records/migrations/%s", src,
             "021_questionnaire_template_seed.sql");
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *p = strstr(buf, "'[{"); p != NULL; p = strstr(p, "'[{")) {
        char *end = strstr(p, "'::jsonb");
        char *text, *w;
        ss_req r;
        json_t *q;

        ck_assert_ptr_nonnull(end);
        text = strndup(p + 1, (size_t)(end - p - 1));
        for (char *s = w = text; *s; s++) { /* '' -> ' */
            if (s[0] == '\'' && s[1] == '\'')
                s++;
            *w++ = *s;
        }
        *w = '\0';
        q = load(text);
        req_init(&r);
        ck_assert_msg(rec_q_template_check(&r, q) == 0, "template %d: %s", count,
                      r.errors ? json_dumps(r.errors, 0) : "");
        ck_assert_int_ge((int)json_array_size(q), 25);
        json_decref(q);
        json_decref(r.errors);
        free(text);
        count++;
        p = end;
    }
    ck_assert_int_eq(count, 16);
}
END_TEST

static const char *const cond_template =
    "[{\"code\":\"fever\",\"label\":\"発熱\",\"type\":\"yes_no\",\"required\":true},"
    "{\"code\":\"temp\",\"label\":\"体温\",\"type\":\"number\",\"required\":true,\"min\":37,"
    "\"max\":42,\"when\":{\"question\":\"fever\",\"equals\":true}},"
    "{\"code\":\"kind\",\"label\":\"種類\",\"type\":\"choice\",\"choices\":[{\"code\":\"a\","
    "\"label\":\"A\"},{\"code\":\"b\",\"label\":\"B\"}]},"
    "{\"code\":\"why\",\"label\":\"理由\",\"type\":\"text\",\"required\":true,\"max_length\":4,"
    "\"when\":{\"question\":\"kind\",\"equals\":\"b\"}},"
    "{\"code\":\"infant\",\"label\":\"乳児\",\"type\":\"yes_no\",\"required\":true,"
    "\"when\":{\"max_age_months\":23}},"
    "{\"code\":\"women\",\"label\":\"女性\",\"type\":\"yes_no\",\"required\":true,"
    "\"when\":{\"sex\":\"2\",\"min_age_months\":192}},"
    "{\"code\":\"on\",\"label\":\"日付\",\"type\":\"date\"}]";

/* Check answers for (age, sex); 0 or the field that must be named. */
static void expect(const char *answers, int age, const char *sex, const char *field)
{
    json_t *q = load(cond_template), *a = load(answers);
    ss_req r;
    int rc;

    req_init(&r);
    ck_assert_int_eq(rec_q_template_check(&r, q), 0);
    rc = rec_q_answers_check(&r, q, a, age, sex);
    if (field == NULL)
        ck_assert_msg(rc == 0, "%s: %s", answers, r.errors ? json_dumps(r.errors, 0) : "");
    else
        ck_assert_msg(rc == SS_ERR_VALIDATION && has_error(&r, field), "%s: want %s", answers,
                      field);
    json_decref(q);
    json_decref(a);
    json_decref(r.errors);
}

START_TEST(conditions_on_answers_age_and_sex)
{
    expect("{\"fever\":false,\"infant\":true}", 10, "1", NULL);
    expect("{\"fever\":true,\"infant\":true}", 10, "1", "answers.temp");
    expect("{\"fever\":false,\"temp\":38,\"infant\":true}", 10, "1", "answers.temp");
    expect("{\"fever\":true,\"temp\":38.5,\"infant\":true}", 10, "1", NULL);
    expect("{\"fever\":true,\"temp\":36,\"infant\":true}", 10, "1", "answers.temp");
    expect("{\"fever\":false,\"kind\":\"b\",\"infant\":true}", 10, "1", "answers.why");
    expect("{\"fever\":false,\"kind\":\"b\",\"why\":\"長すぎる理由\",\"infant\":true}", 10, "1",
           "answers.why");
    expect("{\"fever\":false,\"kind\":\"b\",\"why\":\"理由\",\"infant\":true}", 10, "1", NULL);
    expect("{\"fever\":false,\"kind\":\"a\",\"why\":\"x\",\"infant\":true}", 10, "1",
           "answers.why");
    expect("{\"fever\":false}", 10, "1", "answers.infant");
    expect("{\"fever\":false}", 23, "2", "answers.infant");
    expect("{\"fever\":false}", 24, "1", NULL);
    expect("{\"fever\":false,\"infant\":false}", 30, "1", "answers.infant");
    expect("{\"fever\":false}", 192, "2", "answers.women");
    expect("{\"fever\":false,\"women\":true}", 192, "2", NULL);
    expect("{\"fever\":false,\"women\":true}", 191, "2", "answers.women");
    expect("{\"fever\":false,\"women\":true}", 400, "1", "answers.women");
    expect("{\"fever\":false,\"women\":true}", 400, NULL, "answers.women");
    expect("{\"fever\":false,\"on\":\"2026-02-29\"}", 30, "1", "answers.on");
    expect("{\"fever\":false,\"on\":\"2028-02-29\"}", 30, "1", NULL);
    expect("{\"fever\":\"yes\"}", 30, "1", "answers.fever");
    expect("{\"fever\":null}", 30, "1", "answers.fever");
    expect("{\"fever\":false,\"other\":1}", 30, "1", "answers.other");
    /* A hidden question's answer does not open its follow-ups. */
    expect("{\"fever\":false,\"kind\":\"c\",\"why\":\"x\"}", 30, "1", "answers.why");
}
END_TEST

static void shape(const char *questions, const char *field)
{
    json_t *q = load(questions);
    ss_req r;

    req_init(&r);
    ck_assert_msg(rec_q_template_check(&r, q) == SS_ERR_VALIDATION && has_error(&r, field),
                  "%s: want %s", questions, field);
    json_decref(q);
    json_decref(r.errors);
}

START_TEST(bad_shapes_are_named)
{
    shape("[]", "questions");
    shape("[{\"code\":\"a\",\"label\":\"A\",\"type\":\"yes_no\"},{\"code\":\"a\",\"label\":\"B\","
          "\"type\":\"text\"}]",
          "questions[1].code");
    shape("[{\"code\":\"a\",\"label\":\"A\",\"type\":\"choice\"}]", "questions[0].choices");
    shape("[{\"code\":\"a\",\"label\":\"A\",\"type\":\"number\",\"min\":3,\"max\":1}]",
          "questions[0].min");
    shape("[{\"code\":\"a\",\"label\":\"A\",\"type\":\"yes_no\",\"when\":{\"question\":\"b\","
          "\"equals\":true}},{\"code\":\"b\",\"label\":\"B\",\"type\":\"yes_no\"}]",
          "questions[0].when");
    shape("[{\"code\":\"a\",\"label\":\"A\",\"type\":\"yes_no\"},{\"code\":\"b\",\"label\":\"B\","
          "\"type\":\"yes_no\",\"when\":{\"question\":\"a\",\"equals\":1}}]",
          "questions[1].when");
    shape("[{\"code\":\"a\",\"label\":\"A\",\"type\":\"text\",\"max_length\":0}]",
          "questions[0].max_length");
    shape("[{\"code\":\"Z\",\"label\":\"A\",\"type\":\"text\"}]", "questions[0].code");
}
END_TEST

UNIT_MAIN("questionnaire_template", shipped_templates_pass_the_shape_check,
          conditions_on_answers_age_and_sex, bad_shapes_are_named)
