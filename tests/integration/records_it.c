/* records_it.c - what the records integration tests share (records_it.h): dates as day numbers
 * (an independent C reading of docs/rules.md §4, not the SQL functions under test), the
 * table-driven rule cases (person + conditions + pregnancy record + history + new dose, or a
 * correction of the history -> expected outcome, category, schedule row and rule code) and how
 * a case is run against the real database through the service's HTTP routes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "records_it.h"
#include "sesshu/crypto.h"
#include "sesshu/jwt.h"

/* ---- dates as day numbers (days since 1970-01-01) ------------------------------------------ */

long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int mdays(int y, int m)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : n[m - 1];
}

/* The same day n months later; when it does not exist, the 1st of the next month (§1.1). */
long sdl(long t, int n)
{
    int y, m, d;
    civil(t, &y, &m, &d);
    int mm = m - 1 + n;
    int yy = y + (mm >= 0 ? mm / 12 : (mm - 11) / 12);
    mm = ((mm % 12) + 12) % 12 + 1;
    if (d > mdays(yy, mm))
        return days_from_civil(yy, mm, mdays(yy, mm)) + 1;
    return days_from_civil(yy, mm, d);
}

long ymd(int y, int m, int d)
{
    return days_from_civil(y, m, d);
}

long today_jp(void)
{
    return (long)((time(NULL) + 9 * 3600) / 86400);
}

void iso(long t, char out[11])
{
    int y, m, d;
    civil(t, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

long g_A; /* the anchor: the 15th of the month two months back */

/* A birth date such that the dose on A is `delta` days after 生後n月に至った日 M(n). */
long born_m(int n, int delta)
{
    return sdl(g_A - delta + 1, -n);
}
/* ... after birth + n days (出生n週0日後 = 7n days). */
long born_d(int n, int delta)
{
    return g_A - delta - n;
}

/* ---- cases ---------------------------------------------------------------------------------- */

tcase g_cases[RT_MAX_CASES];
int g_n;
char *g_tok;

tcase *add(const char *name, long birth, char sex, dose now, const char *outcome,
           const char *category, const char *rule, const char *no_rule)
{
    tcase *c;

    if (g_n >= RT_MAX_CASES) {
        fprintf(stderr, "too many rule cases (RT_MAX_CASES)\n");
        abort();
    }
    c = &g_cases[g_n++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->birth = birth;
    c->sex = sex;
    c->now = now;
    c->outcome = outcome;
    c->category = category;
    c->rule = rule;
    c->no_rule = no_rule;
    return c;
}

dose D(const char *v, int n, long on)
{
    return (dose){v, n, on, -1, NULL};
}

/* Four cases at the edges of a window given in months (n_from, n_to) or days (d_from, d_to;
 * -1 = unused): the day before, the first day, the last day, the day after. */
void window4(const char *what, const char *v, int dose_n, int m_from, int d_from, int m_to,
             int d_to, const char *before_outcome, const char *before_rule)
{
    char nm[120];
    long b;

    b = m_from >= 0 ? born_m(m_from, -1) : born_d(d_from, -1);
    snprintf(nm, sizeof(nm), "%s: the day before the window", what);
    add(nm, b, '2', D(v, dose_n, g_A), before_outcome,
        strcmp(before_outcome, "recorded") == 0 ? "voluntary" : NULL, before_rule, NULL);
    b = m_from >= 0 ? born_m(m_from, 0) : born_d(d_from, 0);
    snprintf(nm, sizeof(nm), "%s: the first day of the window", what);
    add(nm, b, '2', D(v, dose_n, g_A), "recorded", "routine", NULL, "R-WINDOW");
    b = m_to >= 0 ? born_m(m_to, 0) : born_d(d_to, 0);
    snprintf(nm, sizeof(nm), "%s: the last day of the window", what);
    add(nm, b, '2', D(v, dose_n, g_A), "recorded", "routine", NULL, "R-WINDOW");
    b = m_to >= 0 ? born_m(m_to, 1) : born_d(d_to, 1);
    snprintf(nm, sizeof(nm), "%s: the day after the window", what);
    add(nm, b, '2', D(v, dose_n, g_A), "recorded", "voluntary", "R-WINDOW", NULL);
}

/* Two cases at a day interval "N日以上": d+N is short, d+N+1 is the first day allowed. */
void interval_days(const char *what, const char *v, int dose_n, int n, long birth)
{
    char nm[120];
    tcase *c;

    for (int k = 0; k < 2; k++) {
        snprintf(nm, sizeof(nm), "%s: %d days (d+%d) %s", what, n, n + k,
                 k ? "is the first day allowed" : "is one day short");
        c = add(nm, birth, '2', D(v, dose_n, g_A), "recorded", k ? "routine" : "voluntary",
                k ? NULL : "R-INTERVAL-MIN", k ? "R-INTERVAL-MIN" : NULL);
        for (int i = 1; i < dose_n; i++)
            c->hist[i - 1] = D(v, i, g_A - (long)(n + k) * (dose_n - i));
    }
}

/* Two cases at a month interval "N月以上": the same date N months later, and the day before. */
void interval_months(const char *what, const char *v, int dose_n, int n, long birth, char sex)
{
    char nm[120];
    tcase *c;

    for (int k = 0; k < 2; k++) {
        snprintf(nm, sizeof(nm), "%s: %d months %s", what, n,
                 k ? "(the same date) is the first day allowed" : "less one day is short");
        c = add(nm, birth, sex, D(v, dose_n, g_A), "recorded", k ? "routine" : "voluntary",
                k ? NULL : "R-INTERVAL-MIN", k ? "R-INTERVAL-MIN" : NULL);
        c->hist[0] = D(v, dose_n - 1, sdl(g_A, -n) + (k ? 0 : 1));
        if (dose_n > 2)
            c->hist[1] = D(v, dose_n - 2, sdl(g_A, -n) - 40);
    }
}

void set_anchor(void)
{
    int y, m, d;

    civil(today_jp(), &y, &m, &d);
    g_A = sdl(ymd(y, m, 15), -2);
}

/* ---- running a case -------------------------------------------------------------------------- */

char *person_sql(const tcase *c)
{
    char sql[800], b[11], s[11];
    static unsigned long n;

    iso(c->birth, b);
    iso(c->status_on, s);
    snprintf(sql, sizeof(sql),
             "INSERT INTO records.persons (muni_code, resident_no, name, name_kana, birth_date, "
             "sex, address, status, status_on, created_by, updated_by) VALUES ('" MUNI
             "', 'RT-' || gen_random_uuid(), 'ルール 太郎', 'ルール タロウ', '%s', '%c', "
             "'東京都', '%s', %s%s%s, 'it', 'it') RETURNING id /* %lu */",
             b, c->sex, c->status ? c->status : "resident", c->status ? "'" : "",
             c->status ? s : "NULL", c->status ? "'" : "", n++);
    return it_sql_value(sql);
}

json_t *dose_body(const char *pid, const dose *d)
{
    char on[11];
    json_t *j;

    iso(d->on, on);
    j = json_pack("{s:s,s:s,s:s,s:i,s:s}", "person_id", pid, "vaccinated_on", on, "vaccine_code",
                  d->vaccine, "dose_number", d->dose, "category", "routine");
    if (d->lot != NULL) {
        json_object_set_new(j, "lot_no", json_string(d->lot));
        json_object_set_new(j, "source", json_string("paper"));
        json_object_set_new(j, "institution_code", json_string("1311012346"));
        json_object_set_new(j, "doctor_name", json_string("医師 花子"));
    } else {
        json_object_set_new(j, "source", json_string("handbook"));
    }
    if (d->weeks >= 0)
        json_object_set_new(j, "pregnancy_weeks", json_integer(d->weeks));
    return j;
}

int rule_hit(const json_t *doc, const char *code)
{
    const char *lists[] = {"rules", "errors"};
    size_t i;
    json_t *e;

    for (int k = 0; k < 2; k++)
        json_array_foreach (json_object_get(doc, lists[k]), i, e) {
            const char *rule = json_string_value(json_object_get(e, "rule"));
            if (rule != NULL && strcmp(rule, code) == 0)
                return 1;
        }
    return 0;
}

/* POST path with body as the municipality; the status, and the answer in *out (caller frees). */
static long post(const char *path, json_t *body, it_resp *out)
{
    char *text = json_dumps(body, JSON_COMPACT);

    json_decref(body);
    it_call("POST", path, g_tok, text, out);
    free(text);
    return out->status;
}

/* The case's condition through the conditions API (and its revocation); 0 or 1. */
static int enter_condition(const tcase *c, const char *pid)
{
    char from[11], to[11], path[160];
    json_t *b;
    it_resp r = {0};
    int bad = 0;

    iso(c->cond_from, from);
    iso(c->cond_to, to);
    b = json_pack("{s:s,s:s,s:s}", "kind", c->cond, "evidence", "身体障害者手帳 1級 / 理由書 (IT)",
                  "valid_from", from);
    if (c->cond_to != 0)
        json_object_set_new(b, "valid_to", json_string(to));
    if (c->cond_evidence_on != 0) {
        iso(c->cond_evidence_on, to);
        json_object_set_new(b, "evidence_on", json_string(to));
    }
    if (c->cond_dz != NULL) { /* "a,b": several codes */
        json_t *dz = json_array();
        char buf[120], *save = NULL;
        snprintf(buf, sizeof(buf), "%s", c->cond_dz);
        for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
            json_array_append_new(dz, json_string(t));
        json_object_set_new(b, "disease_codes", dz);
    }
    snprintf(path, sizeof(path), "/api/v1/persons/%s/conditions", pid);
    if (post(path, b, &r) != 201) {
        printf("FAIL %s: condition -> %ld %s\n", c->name, r.status, r.raw);
        bad = 1;
    } else if (c->cond_revoked) {
        snprintf(path, sizeof(path), "/api/v1/persons/%s/conditions/%s/revoke", pid,
                 json_string_value(json_object_get(r.json, "id")));
        it_resp_free(&r);
        if (post(path, json_pack("{s:s}", "reason", "誤登録"), &r) != 200) {
            printf("FAIL %s: revoke -> %ld %s\n", c->name, r.status, r.raw);
            bad = 1;
        }
    }
    it_resp_free(&r);
    return bad;
}

/* The case's H-7 pregnancy record (as the municipality's health system would have sent it). */
static int enter_pregnancy(const tcase *c, const char *pid)
{
    char sql[900], edd[11], ex[11], *v;

    iso(c->edd, edd);
    iso(c->edd - 200, ex);
    snprintf(sql, sizeof(sql),
             "INSERT INTO records.mch_records (person_id, muni_code, kind, examined_on, data, "
             "source, entered_via, entered_by, entered_org_id) VALUES ('%s', '" MUNI
             "', 'pregnancy', '%s', jsonb_build_object('expected_delivery_date', '%s', "
             "'pregnancy_weeks', 11), 'health_system', 'api', 'it', gen_random_uuid()) "
             "RETURNING id",
             pid, ex, edd);
    v = it_sql_value(sql);
    if (v == NULL)
        printf("FAIL %s: no pregnancy record\n", c->name);
    free(v);
    return v == NULL;
}

/* The correction (or void) of history dose c->fix: 200, 422 naming the rule, or 409. */
static int run_fix(const tcase *c, const char *id, it_resp *r)
{
    char path[160], on[11];
    json_t *b;
    long want = strcmp(c->outcome, "recorded") == 0    ? 200
                : strcmp(c->outcome, "duplicate") == 0 ? 409
                                                       : 422;

    iso(c->fix_on, on);
    snprintf(path, sizeof(path), "/api/v1/immunizations/%s/%s", id,
             c->fix_void ? "void" : "corrections");
    b = c->fix_void
            ? json_pack("{s:s}", "reason", "取消 (IT)")
            : json_pack("{s:i,s:s,s:s}", "version", 1, "reason", "訂正 (IT)", "vaccinated_on", on);
    if (post(path, b, r) == want && (c->rule == NULL || rule_hit(r->json, c->rule)))
        return 0;
    printf("FAIL %s: want %ld %s, got %ld %s\n", c->name, want, c->rule ? c->rule : "", r->status,
           r->raw);
    return 1;
}

static int judge(const tcase *c, const it_resp *r)
{
    const char *outcome, *cat, *sched;
    int bad = 0;

    outcome = json_string_value(json_object_get(r->json, "outcome"));
    cat = json_string_value(json_object_get(r->json, "category"));
    sched = json_string_value(json_object_get(r->json, "schedule_code"));
    if (outcome == NULL || strcmp(outcome, c->outcome) != 0)
        bad = 1;
    if (c->category != NULL && (cat == NULL || strcmp(cat, c->category) != 0))
        bad = 1;
    if (c->sched != NULL && (sched == NULL || strcmp(sched, c->sched) != 0))
        bad = 1;
    if (c->rule != NULL && !rule_hit(r->json, c->rule))
        bad = 1;
    if (c->no_rule != NULL && rule_hit(r->json, c->no_rule))
        bad = 1;
    if (bad)
        printf("FAIL %s: want %s/%s %s +%s -%s, got %s\n", c->name, c->outcome,
               c->category ? c->category : "*", c->sched ? c->sched : "", c->rule ? c->rule : "",
               c->no_rule ? c->no_rule : "", r->raw);
    return bad;
}

/* 0 when the case holds, else 1 with the reason printed. */
int run_case(const tcase *c)
{
    char *pid = person_sql(c), ids[4][37] = {{0}};
    it_resp r = {0};
    int bad = 0;

    if (pid == NULL) {
        printf("FAIL %s: no person\n", c->name);
        return 1;
    }
    if (c->cond != NULL)
        bad |= enter_condition(c, pid);
    if (c->edd != 0)
        bad |= enter_pregnancy(c, pid);
    for (int i = 0; i < 4 && c->hist[i].vaccine != NULL; i++) {
        if (post("/api/v1/immunizations", dose_body(pid, &c->hist[i]), &r) != 201) {
            printf("FAIL %s: history %d -> %ld %s\n", c->name, i, r.status, r.raw);
            bad = 1;
        } else {
            snprintf(ids[i], sizeof(ids[i]), "%s",
                     json_string_value(json_object_get(r.json, "id")));
        }
        it_resp_free(&r);
    }
    if (c->fix > 0) {
        bad |= run_fix(c, ids[c->fix - 1], &r);
    } else if (post("/api/v1/immunizations/check", dose_body(pid, &c->now), &r) != 200 ||
               r.json == NULL) {
        printf("FAIL %s: check -> %ld %s\n", c->name, r.status, r.raw);
        bad = 1;
    } else {
        bad |= judge(c, &r);
    }
    it_resp_free(&r);
    free(pid);
    return bad;
}

int run_cases(void)
{
    int failed = 0;

    for (int i = 0; i < g_n; i++)
        failed += run_case(&g_cases[i]);
    printf("%d of %d rule cases hold\n", g_n - failed, g_n);
    return failed;
}

char *mint_muni(void)
{
    ss_principal p;
    json_t *claims;
    char *tok = NULL;

    memset(&p, 0, sizeof(p));
    p.kind = SS_PRINCIPAL_USER;
    ss_uuid(p.sub);
    ss_uuid(p.org_id);
    ss_uuid(p.sid);
    snprintf(p.login_id, sizeof(p.login_id), "it-%.8s", p.sub);
    snprintf(p.org_code, sizeof(p.org_code), MUNI);
    snprintf(p.muni_code, sizeof(p.muni_code), MUNI);
    p.org_type = SS_ORG_MUNICIPALITY;
    p.role = SS_ROLE_USER;
    claims = ss_jwt_user_claims(&p, 3600);
    if (claims == NULL || ss_jwt_sign(claims, &tok) != 0)
        tok = NULL;
    json_decref(claims);
    return tok;
}
