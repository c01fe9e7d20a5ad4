/* fhir_search.c - GET /fhir/Immunization and GET /fhir/Patient: the JP-Core search parameters
 * over what the caller may read (fhir.c), answered as a searchset Bundle with a `self` link
 * (and `next` while more follow). Patient: identifier ([urn:sesshu:resident-no:{municipality}|]
 * 宛名番号, JP-Core's SHALL), _id, name / family / given (the start of a kanji or kana name
 * part, or of the whole name without spaces), birthdate (a date or its period), gender.
 * Immunization:
 *
 *   patient       Patient/{id} or {id}
 *   date          vaccinated_on, with prefix eq (default), ge, le, gt, lt; YYYY, YYYY-MM or
 *                 YYYY-MM-DD (a partial date is its whole period); repeatable (AND): a range
 *                 is date=ge…&date=le…
 *   vaccine-code  [system|]code: HOT9, HOT13 or YJ (system, when given, must be ours)
 *   lot-number    exact lot number (recalls)
 *   identifier    [urn:ietf:rfc:3986|]urn:uuid:{record id}
 *   status        completed | entered-in-error | not-done, comma-separated (OR)
 *   _count        1..200 (default 50); `_cursor` continues (the Bundle's `next` link)
 * An unknown parameter or value is 400 OperationOutcome: a typo must not widen a search. The
 * SQL is one fixed statement per resource and scope (sql/fhir.sql, rec_fhir_*_search_*): each
 * search parameter has its own $n, NULL when absent; repeated dates are merged here into one
 * lower and one upper end (their AND). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec.h"
#include "self.h"
#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define MAX_DATES 4
#define OWNED_MAX 48

/* The parameters of the four statements (sql/fhir.sql); both resources share the first and the
 * last three. Immunization: */
enum {
    P_SCOPE = 0,   /* $1: the municipality, or the vaccinee */
    P_I_PATIENT,   /* $2 */
    P_I_FROM,      /* $3: vaccinated on or after */
    P_I_BEFORE,    /* $4: vaccinated before */
    P_I_CODE,      /* $5 */
    P_I_SYSTEM,    /* $6: the vaccine code's system */
    P_I_LOT,       /* $7 */
    P_I_ID,        /* $8: identifier urn:uuid: */
    P_I_ID_SYSTEM, /* $9 */
    P_I_STATUS,    /* $10: text[] */
    P_CURSOR_ON,   /* $11 */
    P_CURSOR_ID,   /* $12 */
    P_LIMIT,       /* $13 */
    P_COUNT,       /* the number of parameters */
};
/* Patient: */
enum {
    P_P_ID = 1,   /* $2: _id */
    P_P_NAME,     /* $3 */
    P_P_FAMILY,   /* $4 */
    P_P_GIVEN,    /* $5 */
    P_P_FROM,     /* $6: born on or after */
    P_P_BEFORE,   /* $7: born before */
    P_P_GENDER,   /* $8 */
    P_P_MUNI,     /* $9: the identifier system's municipality */
    P_P_RESIDENT, /* $10: the identifier's 宛名番号 */
};

typedef struct search {
    const char *params[P_COUNT];
    char *owned[OWNED_MAX]; /* copies the params point into; freed at the end */
    int nowned;
    int count;
    char cur_date[16], cur_id[40];
    char lo[40], hi[40]; /* the date parameters' latest lower and earliest upper end */
    int ndates;
    bool seen[16];
    const char *patient; /* the patient searched for, into owned[] */
} search;

/* Parameter `slot` is v; -1 when v is NULL (a copy that failed). */
static int set(search *s, int slot, const char *v)
{
    if (v == NULL)
        return -1;
    s->params[slot] = v;
    return 0;
}

/* The AND of several date conditions: the latest lower end (lo) and the earliest upper (hi),
 * both YYYY-MM-DD, so the text order is the date order. */
static void lower_end(search *s, const char *d)
{
    if (s->lo[0] == '\0' || strcmp(d, s->lo) > 0)
        snprintf(s->lo, sizeof(s->lo), "%s", d);
}

static void upper_end(search *s, const char *d)
{
    if (s->hi[0] == '\0' || strcmp(d, s->hi) < 0)
        snprintf(s->hi, sizeof(s->hi), "%s", d);
}

static int hexv(char c)
{
    return (c >= '0' && c <= '9')   ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                    : -1;
}

/* Percent-decode s[0..n) into a new string ('+' is a space), NULL if malformed. */
static char *pct(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0;

    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n + 0 || hexv(s[i + 1]) < 0 || hexv(s[i + 2]) < 0) {
                free(o);
                return NULL;
            }
            o[k++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        } else {
            o[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    o[k] = '\0';
    return o;
}

/* [system|]value of a token parameter; *sys NULL when no '|'. */
static const char *token_value(char *v, const char **sys)
{
    char *bar = strchr(v, '|');

    *sys = NULL;
    if (bar == NULL)
        return v;
    *bar = '\0';
    *sys = v;
    return bar + 1;
}

/* A FHIR date (YYYY, YYYY-MM, YYYY-MM-DD) as the half-open period [lo, hi). */
static bool date_period(const char *d, char lo[40], char hi[40])
{
    size_t n = strlen(d);
    struct tm t;
    int y = 0, m = 1, day = 1;

    if (strspn(d, "0123456789-") != n || (n != 4 && n != 7 && n != 10))
        return false;
    if (n == 10) {
        if (!ss_date_ok(d))
            return false;
        sscanf(d, "%4d-%2d-%2d", &y, &m, &day);
    } else if (n == 7) {
        if (d[4] != '-' || sscanf(d, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12)
            return false;
    } else if (sscanf(d, "%4d", &y) != 1) {
        return false;
    }
    if (y < 1800 || y > 9998)
        return false;
    snprintf(lo, 40, "%04d-%02d-%02d", y, m, day);
    memset(&t, 0, sizeof(t));
    t.tm_year = y - 1900 + (n == 4);
    t.tm_mon = m - 1 + (n == 7);
    t.tm_mday = day + (n == 10);
    t.tm_hour = 12;
    timegm(&t); /* normalises the day, month or year that ran over */
    snprintf(hi, 40, "%04d-%02d-%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
    return true;
}

/* Keep a copy of v for the query's lifetime; the copy or NULL. */
static const char *keep(search *s, const char *v)
{
    char *c = strdup(v);

    if (c == NULL || s->nowned >= OWNED_MAX) {
        free(c);
        return NULL;
    }
    s->owned[s->nowned++] = c;
    return c;
}

/* date=[prefix]value: a condition on i.vaccinated_on, merged into s->lo / s->hi. */
static int date_cond(search *s, const char *v)
{
    char a[40], b[40];
    int p = 0; /* eq */

    if (strncmp(v, "eq", 2) == 0 || strncmp(v, "ge", 2) == 0 || strncmp(v, "le", 2) == 0 ||
        strncmp(v, "gt", 2) == 0 || strncmp(v, "lt", 2) == 0) {
        p = v[0] == 'e' ? 0 : v[0] == 'g' ? (v[1] == 'e' ? 1 : 3) : (v[1] == 'e' ? 2 : 4);
        v += 2;
    }
    if (s->ndates >= MAX_DATES || !date_period(v, a, b))
        return -1;
    s->ndates++;
    switch (p) {
    case 0:
        lower_end(s, a);
        upper_end(s, b);
        break;
    case 1: lower_end(s, a); break;
    case 2: upper_end(s, b); break;
    case 3: lower_end(s, b); break;
    default: upper_end(s, a); break;
    }
    return 0;
}

/* _cursor: the last row's (vaccinated_on, id) of the previous page. */
static bool cursor_decode(search *s, const char *c)
{
    size_t n = 0;
    unsigned char *raw = strlen(c) <= 256 ? ss_b64url_decode(c, &n) : NULL;
    json_t *key = raw ? json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *d = json_string_value(json_array_get(key, 0));
    const char *id = json_string_value(json_array_get(key, 1));
    bool ok =
        json_array_size(key) == 2 && d != NULL && id != NULL && ss_date_ok(d) && ss_uuid_ok(id);

    if (ok) {
        snprintf(s->cur_date, sizeof(s->cur_date), "%s", d);
        snprintf(s->cur_id, sizeof(s->cur_id), "%s", id);
    }
    free(raw);
    json_decref(key);
    return ok;
}

static int status_cond(search *s, const char *v)
{
    char list[64] = "{";
    const char *p = v;

    while (*p != '\0') {
        size_t n = strcspn(p, ",");

        if (n == 9 && strncmp(p, "completed", 9) == 0)
            strcat(list, "registered,corrected,");
        else if (n == 16 && strncmp(p, "entered-in-error", 16) == 0)
            strcat(list, "voided,");
        else if (!(n == 8 && strncmp(p, "not-done", 8) == 0)) /* never recorded: matches none */
            return -1;
        p += n + (p[n] == ',');
        if (strlen(list) > 40)
            return -1;
    }
    if (list[strlen(list) - 1] == ',')
        list[strlen(list) - 1] = '\0';
    strcat(list, "}");
    return set(s, P_I_STATUS, keep(s, list));
}

/* One search parameter (name, decoded value); -1 when the value is not acceptable. */
static int apply(search *s, const char *name, char *v)
{
    const char *sys = NULL, *val;

    if (strcmp(name, "date") == 0)
        return date_cond(s, v);
    if (strcmp(name, "patient") == 0) {
        val = strncmp(v, "Patient/", 8) == 0 ? v + 8 : v;
        s->patient = val;
        return ss_uuid_ok(val) ? set(s, P_I_PATIENT, val) : -1;
    }
    if (strcmp(name, "lot-number") == 0)
        return strlen(v) <= 20 ? set(s, P_I_LOT, v) : -1;
    if (strcmp(name, "status") == 0)
        return status_cond(s, v);
    val = token_value(v, &sys);
    if (strcmp(name, "vaccine-code") == 0) {
        if (val[0] == '\0' || strlen(val) > 13 ||
            strspn(val, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(val))
            return -1;
        /* The system, when given, is the JP-Core URL of the code's kind or its OID. */
        if (sys != NULL)
            set(s, P_I_SYSTEM, sys);
        return set(s, P_I_CODE, val);
    }
    /* identifier */
    if (strncmp(val, "urn:uuid:", 9) != 0 || !ss_uuid_ok(val + 9))
        return -1;
    if (sys != NULL)
        set(s, P_I_ID_SYSTEM, sys); /* another system than urn:ietf:rfc:3986 matches nothing */
    return set(s, P_I_ID, val + 9);
}

static const char *const imm_known[] = {"patient",    "date",       "vaccine-code",
                                        "lot-number", "identifier", "status",
                                        "_count",     "_cursor",    NULL};

/* ---- Patient (JP-Core: identifier SHALL; name, family, given, birthdate, gender) ---- */

/* One Patient search parameter; -1 when the value is not acceptable. A string parameter matches
 * the start of a name part (the kanji and kana names split at half- or full-width spaces), or of
 * the whole name without spaces (FHIR string search): rec_fhir_patient_search_*. */
static int apply_patient(search *s, const char *name, char *v)
{
    const char *sys = NULL, *val;
    char lo[40], hi[40];

    if (strlen(v) > 100)
        return -1;
    if (strcmp(name, "_id") == 0)
        return ss_uuid_ok(v) ? set(s, P_P_ID, v) : -1;
    if (strcmp(name, "name") == 0)
        return set(s, P_P_NAME, v);
    if (strcmp(name, "family") == 0 || strcmp(name, "given") == 0)
        return set(s, strcmp(name, "family") == 0 ? P_P_FAMILY : P_P_GIVEN, v);
    if (strcmp(name, "birthdate") == 0) {
        if (strncmp(v, "eq", 2) == 0)
            v += 2;
        if (!date_period(v, lo, hi))
            return -1;
        return set(s, P_P_FROM, keep(s, lo)) == 0 ? set(s, P_P_BEFORE, keep(s, hi)) : -1;
    }
    if (strcmp(name, "gender") == 0) {
        /* male '1', female '2', unknown any other sex code, other none */
        if (strcmp(v, "male") == 0 || strcmp(v, "female") == 0 || strcmp(v, "unknown") == 0 ||
            strcmp(v, "other") == 0)
            return set(s, P_P_GENDER, v);
        return -1;
    }
    /* identifier: [urn:sesshu:resident-no:{municipality}|]{宛名番号} */
    val = token_value(v, &sys);
    if (val[0] == '\0')
        return -1;
    if (sys != NULL) {
        if (strncmp(sys, REC_SYS_RESIDENT_NO, strlen(REC_SYS_RESIDENT_NO)) != 0 ||
            strlen(sys) != strlen(REC_SYS_RESIDENT_NO) + 6 ||
            strspn(sys + strlen(REC_SYS_RESIDENT_NO), "0123456789") != 6 ||
            set(s, P_P_MUNI, sys + strlen(REC_SYS_RESIDENT_NO)) != 0)
            return -1;
    }
    return set(s, P_P_RESIDENT, val);
}

static const char *const patient_known[] = {"identifier", "_id",    "name",   "family",  "given",
                                            "birthdate",  "gender", "_count", "_cursor", NULL};

typedef int (*apply_fn)(search *s, const char *name, char *v);

/* Parse the raw query into s: 0, or an OperationOutcome 400 was sent (*replied). Only `date`
 * may repeat; the general parameters (_format, _pretty, _summary, _elements) were checked by the
 * router (fhir_read.c) and are skipped here. */
static int parse_query(ss_req *r, search *s, const char *const *known, apply_fn apply_one,
                       bool *replied)
{
    const char *q = r->u->http_url != NULL ? strchr(r->u->http_url, '?') : NULL;
    char msg[160];

    *replied = false;
    for (const char *p = q ? q + 1 : ""; *p != '\0';) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        char *name = pct(p, eq ? (size_t)(eq - p) : n);
        char *v = eq ? pct(eq + 1, n - (size_t)(eq - p) - 1) : NULL;
        int k = -1, bad;

        for (int i = 0; name != NULL && known[i] != NULL && k < 0; i++)
            if (strcmp(name, known[i]) == 0)
                k = i;
        if (k < 0 && name != NULL && rec_fhir_general_param(name)) {
            free(name);
            free(v);
            p += n + (p[n] == '&');
            continue;
        }
        bad = k < 0 || v == NULL || v[0] == '\0' || (strcmp(known[k], "date") != 0 && s->seen[k]) ||
              s->nowned >= OWNED_MAX || !ss_utf8_valid(v, strlen(v));
        if (!bad) {
            s->owned[s->nowned++] = v; /* apply() keeps pointers into it */
            s->seen[k] = true;
            if (strcmp(known[k], "_count") == 0)
                bad = sscanf(v, "%d", &s->count) != 1 || strspn(v, "0123456789") != strlen(v) ||
                      s->count < 1 || s->count > SS_PAGE_MAX;
            else if (strcmp(known[k], "_cursor") == 0)
                bad = !cursor_decode(s, v);
            else
                bad = apply_one(s, name, v) != 0;
        } else {
            free(v);
        }
        snprintf(msg, sizeof(msg), "search parameter %s: %s", k >= 0 ? known[k] : "(unknown)",
                 k < 0 ? "not supported" : "empty, repeated or invalid value");
        free(name);
        if (bad) {
            *replied = true;
            return rec_fhir_error(r, 400, k < 0 ? "not-supported" : "invalid", msg);
        }
        p += n + (p[n] == '&');
    }
    return 0;
}

static void search_free(search *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s);
}

/* What differs between the two searches. */
typedef struct kind {
    const char *type;     /* "Immunization" */
    const char *sql_muni; /* the statement for a municipality's staff or client */
    const char *sql_self; /* the statement for a vaccinee */
    const char *const *known;
    apply_fn apply;
} kind;

static const kind k_imm = {
    "Immunization", sql_rec_fhir_imm_search_muni, sql_rec_fhir_imm_search_self, imm_known, apply,
};

static const kind k_patient = {
    "Patient",
    sql_rec_fhir_patient_search_muni,
    sql_rec_fhir_patient_search_self,
    patient_known,
    apply_patient,
};

/* The search's own URL (base + path + the query as received), for the `self` link; when
 * cursor is not NULL, the query without an earlier _cursor and with this one (`next`). */
static json_t *search_link(ss_req *r, const char *type, const char *relation, const char *cursor)
{
    const char *q = r->u->http_url != NULL ? strchr(r->u->http_url, '?') : NULL;
    size_t n = strlen(rec_fhir_base()) + strlen(type) + (q ? strlen(q) : 0) +
               (cursor ? strlen(cursor) : 0) + 64;
    char *url = malloc(n);
    json_t *link = NULL;
    size_t used;

    if (url == NULL)
        return NULL;
    used = (size_t)snprintf(url, n, "%s/%s?", rec_fhir_base(), type);
    for (const char *p = q ? q + 1 : ""; *p != '\0';) {
        size_t k = strcspn(p, "&");

        if (cursor == NULL || strncmp(p, "_cursor=", 8) != 0)
            used += (size_t)snprintf(url + used, n - used, "%.*s&", (int)k, p);
        p += k + (p[k] == '&');
    }
    if (cursor != NULL)
        snprintf(url + used, n - used, "_cursor=%s", cursor);
    else
        url[used - 1] = '\0'; /* the trailing '&' or '?' */
    link = json_pack("{s:s,s:s}", "relation", relation, "url", url);
    free(url);
    return link;
}

/* The `next` link: this search's parameters with the last row as _cursor. */
static json_t *next_link(ss_req *r, const char *type, const PGresult *res, int row)
{
    json_t *key = json_pack("[s,s]", PQgetvalue(res, row, 1), PQgetvalue(res, row, 2));
    char *cur = key ? ss_page_cursor(key) : NULL;
    json_t *link = cur ? search_link(r, type, "next", cur) : NULL;

    json_decref(key);
    free(cur);
    return link;
}

static json_t *bundle(ss_req *r, const char *type, const PGresult *res, int limit, bool first_page)
{
    int n = PQntuples(res);
    json_t *entries = json_array(), *links = json_array(), *b;

    for (int i = 0; entries != NULL && i < n && i < limit; i++) {
        json_t *res_i = ss_json_col(res, i, 0);
        char full[600];

        snprintf(full, sizeof(full), "%s/%s/%s", rec_fhir_base(), type, PQgetvalue(res, i, 2));
        json_array_append_new(entries, json_pack("{s:s,s:o,s:{s:s}}", "fullUrl", full, "resource",
                                                 res_i, "search", "mode", "match"));
    }
    if (links != NULL)
        json_array_append_new(links, search_link(r, type, "self", NULL));
    if (links != NULL && n > limit)
        json_array_append_new(links, next_link(r, type, res, limit - 1));
    b = json_pack("{s:s,s:s,s:s,s:o,s:o}", "resourceType", "Bundle", "type", "searchset",
                  "timestamp", "", "link", links, "entry", entries);
    if (b != NULL) {
        char ts[40];
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_set_new(b, "timestamp", json_string(ts));
        if (first_page)
            json_object_set_new(b, "total", json_integer(n > 0 ? atoll(PQgetvalue(res, 0, 3)) : 0));
    }
    return b;
}

/* The search in a transaction of its own that plans it for its values (custom plans): a plan
 * made for every value (generic) cannot use the index of a parameter that may be NULL, and the
 * plan cache would settle on one after a few broad searches. Read-only: released, rolled back. */
static int query(const char *sql, const char *const *params, PGresult **res)
{
    ss_dbc *c = NULL;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) == 0 &&
        (rc = ss_db_exec(c, sql_rec_fhir_search_custom_plans, 0, NULL, NULL)) == 0)
        rc = ss_db_exec(c, sql, P_COUNT, params, res);
    ss_db_release(c);
    return rc;
}

static int run_search(ss_req *r, const kind *k)
{
    search *s = calloc(1, sizeof(*s));
    PGresult *res = NULL;
    char lim[16];
    bool replied = false, self = r->who.kind == SS_PRINCIPAL_VACCINEE;
    int rc;

    if (s == NULL)
        return SS_ERR_NOMEM;
    s->count = 50;
    if ((rc = rec_fhir_caller(r, &replied)) != 0 || replied ||
        (rc = parse_query(r, s, k->known, k->apply, &replied)) != 0 || replied)
        goto out;
    s->params[P_SCOPE] = self ? r->who.person_id : rec_muni(r);
    if (s->lo[0] != '\0')
        s->params[P_I_FROM] = s->lo;
    if (s->hi[0] != '\0')
        s->params[P_I_BEFORE] = s->hi;
    if (s->cur_date[0] != '\0') {
        s->params[P_CURSOR_ON] = s->cur_date;
        s->params[P_CURSOR_ID] = s->cur_id;
    }
    snprintf(lim, sizeof(lim), "%d", s->count + 1);
    s->params[P_LIMIT] = lim;
    if ((rc = query(self ? k->sql_self : k->sql_muni, s->params, &res)) != 0)
        goto out;
    /* The access log names the patient when the search is about one. */
    if (PQntuples(res) > 0 && s->patient != NULL)
        rec_touch_person(r, s->patient);
    else if (PQntuples(res) == 1 && k == &k_patient)
        rec_touch_person(r, PQgetvalue(res, 0, 2));
    rc = rec_fhir_reply(r, 200, bundle(r, k->type, res, s->count, s->cur_date[0] == '\0'));
out:
    PQclear(res);
    search_free(s);
    return rc;
}

int rec_h_fhir_immunizations(ss_req *r)
{
    return run_search(r, &k_imm);
}

int rec_h_fhir_patients(ss_req *r)
{
    return run_search(r, &k_patient);
}
