/* template_check.c - the shape of a questionnaire template (予診票様式) and the check of a
 * set of answers against one version of it (H-4).
 *
 * A template's `questions` is an array of objects:
 *   code      stable code, ^[a-z][a-z0-9_]{0,39}$, unique in the template
 *   label     the question as shown (1..300 characters); help (0..1000) optional
 *   type      yes_no | number | date | text | choice
 *   required  boolean (default false): must be answered when shown
 *   min, max, integer   number only; max_length (1..2000, default 200) text only;
 *   choices   choice only: 1..50 of {code, label}
 *   when      optional condition, every member must hold for the question to be shown:
 *             min_age_months, max_age_months (age in completed months on the answer date,
 *             inclusive), sex ("1" | "2"), question + equals (an earlier question's answer).
 * Answers are an object code -> value. A question that is not shown must not be answered;
 * a shown required question must be; each value must fit its type. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "questionnaire.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

#define Q_MAX_QUESTIONS 200
#define Q_MAX_CHOICES   50
#define Q_TEXT_DEFAULT  200
#define Q_TEXT_MAX      2000

static const char *const q_types[] = {"yes_no", "number", "date", "text", "choice", NULL};

static bool in_list(const char *s, const char *const *list)
{
    for (; s != NULL && *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Record "<prefix>.<member>: reason" (prefix like questions[3]). Returns SS_ERR_VALIDATION. */
static int ferr(ss_req *r, const char *prefix, const char *member, const char *reason)
{
    char name[128];

    if (member != NULL)
        snprintf(name, sizeof(name), "%s.%s", prefix, member);
    else
        snprintf(name, sizeof(name), "%s", prefix);
    return ss_req_field_error(r, name, reason);
}

bool rec_q_code_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n < 1 || n > 40 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Printable text of [min,max] code points, no control characters. */
bool rec_q_text_ok(const char *s, size_t min, size_t max)
{
    size_t n;

    if (s == NULL)
        return false;
    n = ss_utf8_len(s);
    if (n < min || n > max)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return false;
    return true;
}

static const json_t *find_question(const json_t *questions, const char *code, size_t before)
{
    size_t i;
    json_t *q;

    json_array_foreach (questions, i, q) {
        if (i >= before)
            break;
        const char *c = json_string_value(json_object_get(q, "code"));

        if (c != NULL && strcmp(c, code) == 0)
            return q;
    }
    return NULL;
}

/* Is v a value of question q's type (and range)? reason set when not. */
static bool value_fits(const json_t *q, const json_t *v, const char **reason)
{
    const char *type = json_string_value(json_object_get(q, "type"));
    const json_t *min = json_object_get(q, "min"), *max = json_object_get(q, "max");
    json_int_t maxlen = json_integer_value(json_object_get(q, "max_length"));
    size_t i;
    json_t *c;

    if (strcmp(type, "yes_no") == 0)
        return json_is_boolean(v) || (*reason = "must be true or false", false);
    if (strcmp(type, "date") == 0)
        return (json_is_string(v) && ss_date_ok(json_string_value(v))) ||
               (*reason = "must be a date YYYY-MM-DD", false);
    if (strcmp(type, "text") == 0)
        return rec_q_text_ok(json_string_value(v), 1,
                             maxlen > 0 ? (size_t)maxlen : Q_TEXT_DEFAULT) ||
               (*reason = "must be text of the allowed length without control characters", false);
    if (strcmp(type, "choice") == 0) {
        json_array_foreach (json_object_get(q, "choices"), i, c) {
            if (json_is_string(v) && json_equal(json_object_get(c, "code"), v))
                return true;
        }
        return *reason = "is not one of the choices", false;
    }
    if (!json_is_number(v))
        return *reason = "must be a number", false;
    if (json_is_true(json_object_get(q, "integer")) && !json_is_integer(v))
        return *reason = "must be an integer", false;
    if ((min != NULL && json_number_value(v) < json_number_value(min)) ||
        (max != NULL && json_number_value(v) > json_number_value(max)))
        return *reason = "is out of the allowed range", false;
    return true;
}

/* ---- the template's shape ------------------------------------------------------------ */

static int check_choices(ss_req *r, const char *pfx, const json_t *choices)
{
    char p[96];
    size_t i;
    json_t *c;

    if (!json_is_array(choices) || json_array_size(choices) < 1 ||
        json_array_size(choices) > Q_MAX_CHOICES)
        return ferr(r, pfx, "choices", "must be an array of 1 to 50 choices");
    json_array_foreach (choices, i, c) {
        const char *code = json_string_value(json_object_get(c, "code"));

        snprintf(p, sizeof(p), "%s.choices[%zu]", pfx, i);
        if (!json_is_object(c) || json_object_size(c) != 2 || !rec_q_code_ok(code) ||
            !rec_q_text_ok(json_string_value(json_object_get(c, "label")), 1, 300))
            ferr(r, p, NULL, "must be {code, label} with a valid code and label");
        for (size_t k = 0; k < i && code != NULL; k++)
            if (json_equal(json_object_get(json_array_get(choices, k), "code"),
                           json_object_get(c, "code")))
                ferr(r, p, "code", "is repeated");
    }
    return 0;
}

static int check_when(ss_req *r, const char *pfx, const json_t *questions, size_t idx,
                      const json_t *when)
{
    const char *key, *qc = json_string_value(json_object_get(when, "question"));
    const json_t *eq = json_object_get(when, "equals"), *ref;
    const char *reason = NULL;
    json_t *v;

    if (!json_is_object(when) || json_object_size(when) == 0)
        return ferr(r, pfx, "when", "must be a non-empty object");
    json_object_foreach ((json_t *)(uintptr_t)when, key, v) {
        if (strcmp(key, "min_age_months") == 0 || strcmp(key, "max_age_months") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1500)
                ferr(r, pfx, "when", "age bounds must be integers from 0 to 1500 months");
        } else if (strcmp(key, "sex") == 0) {
            if (!in_list(json_string_value(v), (const char *const[]){"1", "2", NULL}))
                ferr(r, pfx, "when", "sex must be \"1\" or \"2\"");
        } else if (strcmp(key, "question") != 0 && strcmp(key, "equals") != 0) {
            ferr(r, pfx, "when", "has an unknown member");
        }
    }
    if ((qc == NULL) != (eq == NULL))
        return ferr(r, pfx, "when", "question and equals go together");
    if (qc == NULL)
        return 0;
    if ((ref = find_question(questions, qc, idx)) == NULL ||
        !in_list(json_string_value(json_object_get(ref, "type")), q_types))
        return ferr(r, pfx, "when", "question must name an earlier, valid question");
    if (!value_fits(ref, eq, &reason))
        return ferr(r, pfx, "when", "equals must be a possible answer of that question");
    return 0;
}

static const char *const q_members[] = {"code",       "label",   "help", "type",
                                        "required",   "min",     "max",  "integer",
                                        "max_length", "choices", "when", NULL};

/* Members that only some types may carry. */
static void check_type_members(ss_req *r, const char *pfx, const json_t *q, const char *type)
{
    bool number = strcmp(type, "number") == 0;
    const json_t *min = json_object_get(q, "min"), *max = json_object_get(q, "max");
    const json_t *ml = json_object_get(q, "max_length"), *in = json_object_get(q, "integer");

    if (!number && (min != NULL || max != NULL || in != NULL))
        ferr(r, pfx, NULL, "min, max and integer belong to number questions");
    if ((min != NULL && !json_is_number(min)) || (max != NULL && !json_is_number(max)) ||
        (in != NULL && !json_is_boolean(in)))
        ferr(r, pfx, NULL, "min and max must be numbers, integer a boolean");
    else if (min != NULL && max != NULL && json_number_value(min) > json_number_value(max))
        ferr(r, pfx, "min", "must not exceed max");
    if (ml != NULL && strcmp(type, "text") != 0)
        ferr(r, pfx, "max_length", "belongs to text questions");
    else if (ml != NULL && (!json_is_integer(ml) || json_integer_value(ml) < 1 ||
                            json_integer_value(ml) > Q_TEXT_MAX))
        ferr(r, pfx, "max_length", "must be an integer from 1 to 2000");
    if (strcmp(type, "choice") == 0)
        check_choices(r, pfx, json_object_get(q, "choices"));
    else if (json_object_get(q, "choices") != NULL)
        ferr(r, pfx, "choices", "belong to choice questions");
}

static void check_question(ss_req *r, const json_t *questions, size_t i, const json_t *q)
{
    const char *code = json_string_value(json_object_get(q, "code"));
    const char *type = json_string_value(json_object_get(q, "type"));
    const json_t *help = json_object_get(q, "help"), *req = json_object_get(q, "required");
    const char *key;
    json_t *v;
    char pfx[48];

    snprintf(pfx, sizeof(pfx), "questions[%zu]", i);
    if (!json_is_object(q)) {
        ferr(r, pfx, NULL, "must be an object");
        return;
    }
    json_object_foreach ((json_t *)(uintptr_t)q, key, v) {
        if (!in_list(key, q_members))
            ferr(r, pfx, NULL, "has an unknown member");
    }
    if (!rec_q_code_ok(code))
        ferr(r, pfx, "code", "must match ^[a-z][a-z0-9_]{0,39}$");
    else if (find_question(questions, code, i) != NULL)
        ferr(r, pfx, "code", "is repeated");
    if (!rec_q_text_ok(json_string_value(json_object_get(q, "label")), 1, 300))
        ferr(r, pfx, "label", "must be 1 to 300 characters without control characters");
    if (help != NULL && !rec_q_text_ok(json_string_value(help), 0, 1000))
        ferr(r, pfx, "help", "must be up to 1000 characters without control characters");
    if (req != NULL && !json_is_boolean(req))
        ferr(r, pfx, "required", "must be true or false");
    if (!in_list(type, q_types)) {
        ferr(r, pfx, "type", "must be yes_no, number, date, text or choice");
        return;
    }
    check_type_members(r, pfx, q, type);
    if (json_object_get(q, "when") != NULL)
        check_when(r, pfx, questions, i, json_object_get(q, "when"));
}

int rec_q_template_check(ss_req *r, const json_t *questions)
{
    size_t i, before = json_array_size(r->errors);
    json_t *q;

    if (!json_is_array(questions) || json_array_size(questions) < 1 ||
        json_array_size(questions) > Q_MAX_QUESTIONS)
        return ss_req_field_error(r, "questions", "must be an array of 1 to 200 questions");
    json_array_foreach (questions, i, q) {
        check_question(r, questions, i, q);
    }
    return json_array_size(r->errors) > before ? SS_ERR_VALIDATION : 0;
}

/* ---- answers against a template -------------------------------------------------------- */

static bool shown(const json_t *q, const json_t *answers, int age_months, const char *sex)
{
    const json_t *w = json_object_get(q, "when"), *v;
    const char *qc;

    if (w == NULL)
        return true;
    if ((v = json_object_get(w, "min_age_months")) != NULL && age_months < json_integer_value(v))
        return false;
    if ((v = json_object_get(w, "max_age_months")) != NULL && age_months > json_integer_value(v))
        return false;
    if ((v = json_object_get(w, "sex")) != NULL &&
        (sex == NULL || strcmp(sex, json_string_value(v)) != 0))
        return false;
    if ((qc = json_string_value(json_object_get(w, "question"))) != NULL)
        return json_equal(json_object_get(answers, qc), json_object_get(w, "equals"));
    return true;
}

int rec_q_answers_check(ss_req *r, const json_t *questions, const json_t *answers, int age_months,
                        const char *sex)
{
    size_t i, before = json_array_size(r->errors);
    json_t *q, *seen = json_object(), *v;
    const char *key, *reason;
    char name[96];

    if (seen == NULL)
        return SS_ERR_NOMEM;
    /* Conditions look only at answers of questions that were shown themselves. */
    json_array_foreach (questions, i, q) {
        const char *code = json_string_value(json_object_get(q, "code"));
        const json_t *a = json_object_get(answers, code);

        snprintf(name, sizeof(name), "answers.%s", code);
        if (!shown(q, seen, age_months, sex)) {
            if (a != NULL)
                ss_req_field_error(r, name,
                                   "is not asked of this person (its condition is not met)");
            continue;
        }
        if (a == NULL || json_is_null(a)) {
            if (json_is_true(json_object_get(q, "required")))
                ss_req_field_error(r, name, a == NULL ? "is required" : "must not be null");
            continue;
        }
        reason = NULL;
        if (!value_fits(q, a, &reason))
            ss_req_field_error(r, name, reason);
        else
            json_object_set(seen, code, (json_t *)(uintptr_t)a);
    }
    json_object_foreach ((json_t *)(uintptr_t)answers, key, v) {
        if (find_question(questions, key, (size_t)-1) != NULL)
            continue;
        snprintf(name, sizeof(name), "answers.%s", rec_q_code_ok(key) ? key : "(unknown)");
        ss_req_field_error(r, name, "is not a question of this template");
    }
    json_decref(seen);
    return json_array_size(r->errors) > before ? SS_ERR_VALIDATION : 0;
}
