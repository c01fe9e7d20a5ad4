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
 * SQL is one fixed text per parameter with $n placeholders; values are never in the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec.h"
#include "self.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

#define MAX_PARAMS 16
#define MAX_DATES  4
#define OWNED_MAX  48
#define SQL_MAX    8192
typedef struct search {
    char sql[SQL_MAX];
    size_t len;
    const char *params[MAX_PARAMS];
    char *owned[OWNED_MAX]; /* copies the params point into; freed at the end */
    int nowned;
    int n;
    int count;
    char cur_date[16], cur_id[40];
    int ndates;
    bool seen[16];
    const char *patient; /* the patient searched for, into owned[] */
} search;

static int add_param(search *s, const char *v)
{
    if (s->n >= MAX_PARAMS)
        return -1;
    s->params[s->n] = v;
    return ++s->n;
}

/* Append " AND <frag>" where every "$?" of the constant frag becomes v's placeholder. */
static int cond(search *s, const char *frag, const char *v)
{
    int k, w;

    if (strstr(frag, "$?") == NULL || v == NULL || (k = add_param(s, v)) < 0 ||
        s->len + 8 >= sizeof(s->sql))
        return -1;
    memcpy(s->sql + s->len, " AND ", 6);
    s->len += 5;
    for (const char *mark; (mark = strstr(frag, "$?")) != NULL; frag = mark + 2) {
        w = snprintf(s->sql + s->len, sizeof(s->sql) - s->len, "%.*s$%d", (int)(mark - frag), frag,
                     k);
        if (w < 0 || (size_t)w >= sizeof(s->sql) - s->len)
            return -1;
        s->len += (size_t)w;
    }
    w = snprintf(s->sql + s->len, sizeof(s->sql) - s->len, "%s", frag);
    if (w < 0 || (size_t)w >= sizeof(s->sql) - s->len)
        return -1;
    s->len += (size_t)w;
    return 0;
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

/* date=[prefix]value: a condition on i.vaccinated_on. */
static int date_cond(search *s, const char *v)
{
    char lo[40], hi[40];
    const char *a, *b;
    int p = 0; /* eq */

    if (strncmp(v, "eq", 2) == 0 || strncmp(v, "ge", 2) == 0 || strncmp(v, "le", 2) == 0 ||
        strncmp(v, "gt", 2) == 0 || strncmp(v, "lt", 2) == 0) {
        p = v[0] == 'e' ? 0 : v[0] == 'g' ? (v[1] == 'e' ? 1 : 3) : (v[1] == 'e' ? 2 : 4);
        v += 2;
    }
    if (s->ndates >= MAX_DATES || !date_period(v, lo, hi) || (a = keep(s, lo)) == NULL ||
        (b = keep(s, hi)) == NULL)
        return -1;
    s->ndates++;
    switch (p) {
    case 0:
        return cond(s, "i.vaccinated_on >= $?::date", a) == 0
                   ? cond(s, "i.vaccinated_on < $?::date", b)
                   : -1;
    case 1: return cond(s, "i.vaccinated_on >= $?::date", a);
    case 2: return cond(s, "i.vaccinated_on < $?::date", b);
    case 3: return cond(s, "i.vaccinated_on >= $?::date", b);
    default: return cond(s, "i.vaccinated_on < $?::date", a);
    }
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
    return cond(s, "i.status = ANY ($?::text[])", keep(s, list));
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
        return ss_uuid_ok(val) ? cond(s, "i.person_id = $?::uuid", val) : -1;
    }
    if (strcmp(name, "lot-number") == 0)
        return strlen(v) <= 20 ? cond(s, "i.lot_no = $?", v) : -1;
    if (strcmp(name, "status") == 0)
        return status_cond(s, v);
    val = token_value(v, &sys);
    if (strcmp(name, "vaccine-code") == 0) {
        if (val[0] == '\0' || strlen(val) > 13 ||
            strspn(val, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(val))
            return -1;
        /* The system, when given, is the JP-Core URL of the code's kind or its OID. */
        if (sys != NULL && cond(s,
                                "$? IN (" REC_VACCINE_SYS("i.vaccine_code") ", " REC_VACCINE_OID(
                                    "i.vaccine_code") ")",
                                sys) != 0)
            return -1;
        return cond(s, "i.vaccine_code = $?", val);
    }
    /* identifier */
    if (strncmp(val, "urn:uuid:", 9) != 0 || !ss_uuid_ok(val + 9))
        return -1;
    if (sys != NULL && cond(s, "$? = '" REC_SYS_URI "'", sys) != 0)
        return -1;
    return cond(s, "i.id = $?::uuid", val + 9);
}

static const char *const imm_known[] = {"patient",    "date",       "vaccine-code",
                                        "lot-number", "identifier", "status",
                                        "_count",     "_cursor",    NULL};

/* ---- Patient (JP-Core: identifier SHALL; name, family, given, birthdate, gender) ---- */

/* Name parts: the kanji and kana names split at (half- or full-width) spaces. */
#define NAME_PARTS(col) "regexp_split_to_array(" col ", '[ \u3000]+')"
#define NO_SPACE(x)     "replace(replace(" x ", ' ', ''), '\u3000', '')"

/* One Patient search parameter; -1 when the value is not acceptable. A string parameter matches
 * the start of a name part, or of the whole name without spaces (FHIR string search). */
static int apply_patient(search *s, const char *name, char *v)
{
    const char *sys = NULL, *val;
    char lo[40], hi[40];

    if (strlen(v) > 100)
        return -1;
    if (strcmp(name, "_id") == 0)
        return ss_uuid_ok(v) ? cond(s, "p.id = $?::uuid", v) : -1;
    if (strcmp(name, "name") == 0)
        return cond(
            s,
            "(EXISTS (SELECT 1 FROM unnest(" NAME_PARTS("p.name") " || " NAME_PARTS("p.name_kana") ") w WHERE starts_with(w, $?)) OR starts_with(" NO_SPACE(
                "p.name") ", " NO_SPACE("$?") ") OR starts_with(" NO_SPACE("p.name_kana") ","
                                                                                          " " NO_SPACE(
                                                                                              "$?") "))",
            v);
    if (strcmp(name, "family") == 0 || strcmp(name, "given") == 0)
        return cond(
            s,
            strcmp(name, "family") == 0
                ? "(starts_with((" NAME_PARTS("p.name") ")[1], $?) OR starts_with((" NAME_PARTS(
                      "p.name_kana") ")[1], $?))"
                : "(starts_with(coalesce((" NAME_PARTS("p.name") ")[2], ''), $?) OR "
                                                                 "starts_with(coalesce("
                                                                 "(" NAME_PARTS(
                                                                     "p.name_kana") ")[2], ''), "
                                                                                    "$?))",
            v);
    if (strcmp(name, "birthdate") == 0) {
        if (strncmp(v, "eq", 2) == 0)
            v += 2;
        if (!date_period(v, lo, hi))
            return -1;
        return cond(s, "p.birth_date >= $?::date", keep(s, lo)) == 0
                   ? cond(s, "p.birth_date < $?::date", keep(s, hi))
                   : -1;
    }
    if (strcmp(name, "gender") == 0) {
        if (strcmp(v, "male") == 0 || strcmp(v, "female") == 0)
            return cond(s, "p.sex = $?", v[0] == 'm' ? "1" : "2");
        if (strcmp(v, "unknown") == 0)
            return cond(s, "p.sex NOT IN ('1', '2') AND $? = 'unknown'", v);
        return strcmp(v, "other") == 0 ? cond(s, "false AND $? = 'other'", v) : -1;
    }
    /* identifier: [urn:sesshu:resident-no:{municipality}|]{宛名番号} */
    val = token_value(v, &sys);
    if (val[0] == '\0')
        return -1;
    if (sys != NULL) {
        if (strncmp(sys, REC_SYS_RESIDENT_NO, strlen(REC_SYS_RESIDENT_NO)) != 0 ||
            strlen(sys) != strlen(REC_SYS_RESIDENT_NO) + 6 ||
            strspn(sys + strlen(REC_SYS_RESIDENT_NO), "0123456789") != 6 ||
            cond(s, "p.muni_code = $?", sys + strlen(REC_SYS_RESIDENT_NO)) != 0)
            return -1;
    }
    return cond(s, "p.resident_no = $?", val);
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
    const char *type;       /* "Immunization" */
    const char *select;     /* SELECT resource, key date, id, total FROM ... WHERE (no scope) */
    const char *scope_muni; /* the municipality's scope, $1 */
    const char *scope_self; /* the vaccinee's scope, $1 */
    const char *key;        /* "(i.vaccinated_on, i.id)": the keyset order */
    const char *const *known;
    apply_fn apply;
} kind;

static const kind k_imm = {
    "Immunization",
    "SELECT " REC_FHIR_IMMUNIZATION_JSON
    ", i.vaccinated_on, i.id, count(*) OVER ()" REC_FHIR_IMM_FROM,
    "p.muni_code = $1",
    "i.person_id IN (" REC_SELF_FAMILY_SQL ")",
    "(i.vaccinated_on, i.id)",
    imm_known,
    apply,
};

static const kind k_patient = {
    "Patient",
    "SELECT " REC_FHIR_PATIENT_JSON ", p.birth_date, p.id, count(*) OVER () FROM "
    "records.persons p WHERE ",
    "p.muni_code = $1",
    "p.id IN (" REC_SELF_FAMILY_SQL ")",
    "(p.birth_date, p.id)",
    patient_known,
    apply_patient,
};

/* The caller's scope as the first condition ($1). */
static int scope(ss_req *r, search *s, const kind *k)
{
    int w = snprintf(s->sql, sizeof(s->sql), "%s%s", k->select,
                     r->who.kind == SS_PRINCIPAL_VACCINEE ? k->scope_self : k->scope_muni);

    if (w < 0 || (size_t)w >= sizeof(s->sql))
        return SS_ERR_INTERNAL;
    s->len = (size_t)w;
    add_param(s, r->who.kind == SS_PRINCIPAL_VACCINEE ? r->who.person_id : rec_muni(r));
    return 0;
}

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

static int run_search(ss_req *r, const kind *k)
{
    search *s = calloc(1, sizeof(*s));
    PGresult *res = NULL;
    char lim[16], curs[64], frag[160];
    bool replied = false;
    int rc;

    if (s == NULL)
        return SS_ERR_NOMEM;
    s->count = 50;
    if ((rc = rec_fhir_caller(r, &replied)) != 0 || replied || (rc = scope(r, s, k)) != 0 ||
        (rc = parse_query(r, s, k->known, k->apply, &replied)) != 0 || replied)
        goto out;
    if (s->cur_date[0] != '\0') {
        snprintf(curs, sizeof(curs), "%s|%s", s->cur_date, s->cur_id);
        snprintf(frag, sizeof(frag),
                 "%s > (split_part($?, '|', 1)::date, split_part($?, '|', 2)::uuid)", k->key);
        if (cond(s, frag, curs) != 0) {
            rc = SS_ERR_INTERNAL;
            goto out;
        }
    }
    snprintf(lim, sizeof(lim), "%d", s->count + 1);
    if (add_param(s, lim) < 0 ||
        snprintf(s->sql + s->len, sizeof(s->sql) - s->len, " ORDER BY %.*s LIMIT $%d::int",
                 (int)strlen(k->key) - 2, k->key + 1, s->n) >= (int)(sizeof(s->sql) - s->len)) {
        rc = SS_ERR_INTERNAL;
        goto out;
    }
    if ((rc = ss_db_query(ss_server_db(), s->sql, s->n, s->params, &res)) != 0)
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
