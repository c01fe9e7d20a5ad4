/* fhir_search.c - GET /fhir/Immunization: the JP-Core search parameters over the records the
 * caller may read (fhir.c), answered as a searchset Bundle.
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

#define MAX_PARAMS   16
#define MAX_DATES    4
#define OWNED_MAX    48
#define SQL_MAX      8192
#define SYS_HOT9     "urn:oid:1.2.392.200119.4.403.1"
#define SYS_HOT13    "urn:oid:1.2.392.200119.4.402.1"
#define SYS_YJ       "urn:oid:1.2.392.100495.20.1.73"
#define SYS_URI      "urn:ietf:rfc:3986"
#define SYS_DISEASE  "urn:sesshu:disease"
#define SYS_CATEGORY "urn:sesshu:immunization-category"

/* The Immunization resource (JP_Immunization) of row i (with v = vaccine name, n = the
 * institution's name), nulls stripped. */
#define IMMUNIZATION_JSON                                                                         \
    "json_strip_nulls(json_build_object('resourceType', 'Immunization', 'id', i.id, 'meta', "     \
    "json_build_object('versionId', i.version::text, 'lastUpdated', i.updated_at, 'profile', "    \
    "json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Immunization')), "       \
    "'identifier', json_build_array(json_build_object('system', '" SYS_URI "', 'value', "         \
    "'urn:uuid:' || i.id)), 'status', CASE WHEN i.status = 'voided' THEN 'entered-in-error' "     \
    "ELSE 'completed' END, 'vaccineCode', json_build_object('coding', "                           \
    "json_build_array(json_build_object('system', CASE length(i.vaccine_code) WHEN 9 THEN "       \
    "'" SYS_HOT9 "' WHEN 13 THEN '" SYS_HOT13 "' ELSE '" SYS_YJ "' END, 'code', i.vaccine_code, " \
    "'display', v.name)), 'text', v.name), 'patient', json_build_object('reference', "            \
    "'Patient/' || i.person_id), 'occurrenceDateTime', i.vaccinated_on, 'recorded', "             \
    "i.registered_at, 'primarySource', i.source IN ('institution', 'api'), 'lotNumber', "         \
    "i.lot_no, 'site', CASE WHEN i.site IS NOT NULL THEN json_build_object('text', i.site) "      \
    "END, 'doseQuantity', CASE WHEN i.dose_ml IS NOT NULL THEN json_build_object('value', "       \
    "i.dose_ml, 'unit', 'mL', 'system', 'http://unitsofmeasure.org', 'code', 'mL') END, "         \
    "'performer', CASE WHEN i.institution_code IS NOT NULL THEN "                                 \
    "json_build_array(json_build_object('actor', json_build_object('identifier', "                \
    "json_build_object('system', "                                                                \
    "'http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no', 'value', "           \
    "i.institution_code), 'display', coalesce(n.name, i.doctor_name)))) WHEN i.doctor_name IS "   \
    "NOT NULL THEN json_build_array(json_build_object('actor', json_build_object('display', "     \
    "i.doctor_name))) END, 'programEligibility', json_build_array(json_build_object('coding', "   \
    "json_build_array(json_build_object('system', '" SYS_CATEGORY "', 'code', i.category)))), "   \
    "'protocolApplied', json_build_array(json_build_object('series', i.dose_label, "              \
    "'targetDisease', (SELECT json_agg(json_build_object('coding', "                              \
    "json_build_array(json_build_object('system', '" SYS_DISEASE "', 'code', d)))) FROM "         \
    "unnest(i.disease_codes) d), 'doseNumberPositiveInt', i.dose_number))))"

#define FROM_JOINS                                                                          \
    " FROM records.immunizations i JOIN records.persons p ON p.id = i.person_id LEFT JOIN " \
    "LATERAL " REC_VACCINE_NAME(                                                            \
        "i.vaccine_code", "i.vaccinated_on") " AS v(name) ON true LEFT "                    \
                                             "JOIN LATERAL " REC_INSTITUTION_NAME(          \
                                                 "i.institution_code",                      \
                                                 "i.vaccinated_on") " AS n(name) ON true WHERE "

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
    bool seen[8];
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
        if (sys != NULL && cond(s,
                                "CASE length(i.vaccine_code) WHEN 9 THEN '" SYS_HOT9
                                "' WHEN 13 THEN '" SYS_HOT13 "' ELSE '" SYS_YJ "' END = $?",
                                sys) != 0)
            return -1;
        return cond(s, "i.vaccine_code = $?", val);
    }
    /* identifier */
    if (strncmp(val, "urn:uuid:", 9) != 0 || !ss_uuid_ok(val + 9))
        return -1;
    if (sys != NULL && cond(s, "$? = '" SYS_URI "'", sys) != 0)
        return -1;
    return cond(s, "i.id = $?::uuid", val + 9);
}

static const char *const known[] = {"patient", "date",   "vaccine-code", "lot-number", "identifier",
                                    "status",  "_count", "_cursor",      NULL};

/* Parse the raw query into s: 0, or an OperationOutcome 400 was sent (*replied). */
static int parse_query(ss_req *r, search *s, bool *replied)
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
        bad = k < 0 || v == NULL || v[0] == '\0' || (k != 1 && s->seen[k]) ||
              s->nowned >= OWNED_MAX || !ss_utf8_valid(v, strlen(v));
        if (!bad) {
            s->owned[s->nowned++] = v; /* apply() keeps pointers into it */
            s->seen[k] = true;
            if (k == 6)
                bad = sscanf(v, "%d", &s->count) != 1 || strspn(v, "0123456789") != strlen(v) ||
                      s->count < 1 || s->count > SS_PAGE_MAX;
            else if (k == 7)
                bad = !cursor_decode(s, v);
            else
                bad = apply(s, name, v) != 0;
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

/* The caller's scope as the first condition ($1). */
static int scope(ss_req *r, search *s)
{
    int w = snprintf(
        s->sql, sizeof(s->sql),
        "SELECT " IMMUNIZATION_JSON ", i.vaccinated_on, i.id, count(*) OVER ()" FROM_JOINS "%s",
        r->who.kind == SS_PRINCIPAL_VACCINEE ? "i.person_id IN (" REC_SELF_FAMILY_SQL ")"
                                             : "p.muni_code = $1");

    if (w < 0 || (size_t)w >= sizeof(s->sql))
        return SS_ERR_INTERNAL;
    s->len = (size_t)w;
    add_param(s, r->who.kind == SS_PRINCIPAL_VACCINEE ? r->who.person_id : rec_muni(r));
    return 0;
}

/* The `next` link: this search's parameters with the last row as _cursor. */
static json_t *next_link(ss_req *r, const PGresult *res, int row)
{
    const char *q = strchr(r->u->http_url, '?');
    json_t *key = json_pack("[s,s]", PQgetvalue(res, row, 1), PQgetvalue(res, row, 2));
    char *cur = key ? ss_page_cursor(key) : NULL;
    char *url = NULL;
    json_t *link = NULL;
    size_t n;

    json_decref(key);
    n = strlen(rec_fhir_base()) + (q ? strlen(q) : 0) + (cur ? strlen(cur) : 0) + 64;
    if (cur != NULL && (url = malloc(n)) != NULL) {
        size_t used = (size_t)snprintf(url, n, "%s/Immunization?", rec_fhir_base());

        /* Every parameter but an earlier _cursor, then the new one. */
        for (const char *p = q ? q + 1 : ""; *p != '\0';) {
            size_t k = strcspn(p, "&");

            if (strncmp(p, "_cursor=", 8) != 0)
                used += (size_t)snprintf(url + used, n - used, "%.*s&", (int)k, p);
            p += k + (p[k] == '&');
        }
        snprintf(url + used, n - used, "_cursor=%s", cur);
        link = json_pack("{s:s,s:s}", "relation", "next", "url", url);
    }
    free(cur);
    free(url);
    return link;
}

static json_t *bundle(ss_req *r, const PGresult *res, int limit, bool first_page)
{
    int n = PQntuples(res);
    json_t *entries = json_array(), *links = json_array(), *b;

    for (int i = 0; entries != NULL && i < n && i < limit; i++) {
        json_t *res_i = ss_json_col(res, i, 0);
        char full[600];

        snprintf(full, sizeof(full), "%s/Immunization/%s", rec_fhir_base(), PQgetvalue(res, i, 2));
        json_array_append_new(entries, json_pack("{s:s,s:o,s:{s:s}}", "fullUrl", full, "resource",
                                                 res_i, "search", "mode", "match"));
    }
    if (links != NULL && n > limit)
        json_array_append_new(links, next_link(r, res, limit - 1));
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
        if (json_array_size(links) == 0)
            json_object_del(b, "link");
    }
    return b;
}

int rec_h_fhir_immunizations(ss_req *r)
{
    search *s = calloc(1, sizeof(*s));
    PGresult *res = NULL;
    char lim[16], curs[64];
    bool replied = false;
    int rc;

    if (s == NULL)
        return SS_ERR_NOMEM;
    s->count = 50;
    if ((rc = rec_fhir_caller(r, &replied)) != 0 || replied || (rc = scope(r, s)) != 0 ||
        (rc = parse_query(r, s, &replied)) != 0 || replied)
        goto out;
    if (s->cur_date[0] != '\0') {
        snprintf(curs, sizeof(curs), "%s|%s", s->cur_date, s->cur_id);
        if (cond(s,
                 "(i.vaccinated_on, i.id) > (split_part($?, '|', 1)::date, split_part($?, '|', "
                 "2)::uuid)",
                 curs) != 0) {
            rc = SS_ERR_INTERNAL;
            goto out;
        }
    }
    snprintf(lim, sizeof(lim), "%d", s->count + 1);
    if (add_param(s, lim) < 0 || snprintf(s->sql + s->len, sizeof(s->sql) - s->len,
                                          " ORDER BY i.vaccinated_on, i.id LIMIT $%d::int",
                                          s->n) >= (int)(sizeof(s->sql) - s->len)) {
        rc = SS_ERR_INTERNAL;
        goto out;
    }
    if ((rc = ss_db_query(ss_server_db(), s->sql, s->n, s->params, &res)) != 0)
        goto out;
    /* The access log names the patient when the search is about one. */
    if (PQntuples(res) > 0 && s->patient != NULL)
        rec_touch_person(r, s->patient);
    rc = rec_fhir_reply(r, 200, bundle(r, res, s->count, s->cur_date[0] == '\0'));
out:
    PQclear(res);
    search_free(s);
    return rc;
}
