/* fhir_read.c - the one route of /fhir (service.c): the router that hands each request to its
 * interaction, the general parameters of every interaction (FHIR R4 http.html and search.html:
 * _format, _pretty, _summary, _elements), the reply (application/fhir+json, subsetted as asked),
 * ETag / If-None-Match, and the reads of what a search returns: Immunization/{id} and
 * ImmunizationRecommendation/{id} (Patient/{id} is in fhir.c).
 *
 * Why one route: every path under /fhir must answer an OperationOutcome, an unknown one too,
 * and ulfius ranks endpoints by priority only (a catch-all beside /fhir/Patient/:id would race
 * it). The router names, for the access log, the interaction it ran (r->route becomes that
 * interaction's descriptor: its path pattern and resource type), and checks its permission as
 * the dispatcher would: no token where one is needed is 401 problem+json, as on every path.
 *
 * The general parameters: _format json, application/json or application/fhir+json (an XML or
 * Turtle one is 406, anything else 400); an Accept header that admits no JSON is 406; _pretty
 * true|false; _summary true|text|data|false (count on searches: the total, no entries);
 * _elements a comma list of top-level elements. A subset carries meta.tag SUBSETTED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "self.h"
#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define MAX_SEGS     6
#define ELEMENTS_MAX 512
#define SYS_SUBSET   "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"

enum { SUM_NONE, SUM_TRUE, SUM_TEXT, SUM_DATA, SUM_COUNT, SUM_FALSE };

typedef struct opts {
    bool pretty;
    int summary;
    char elements[ELEMENTS_MAX + 3]; /* ",a,b," for matching; "" when not asked */
} opts;

static const char *const general[] = {"_format", "_pretty", "_summary", "_elements", NULL};

bool rec_fhir_general_param(const char *name)
{
    for (int i = 0; general[i] != NULL; i++)
        if (strcmp(name, general[i]) == 0)
            return true;
    return false;
}

static int hexv(char c)
{
    return (c >= '0' && c <= '9')   ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                    : -1;
}

/* Percent-decode s[0..n) into out (size cap); false when malformed or too long. */
static bool decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            if (i + 2 >= n + 0 || hexv(s[i + 1]) < 0 || hexv(s[i + 2]) < 0)
                return false;
            c = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (k + 1 >= cap)
            return false;
        out[k++] = c;
    }
    out[k] = '\0';
    return true;
}

static bool in_list(const char *v, const char *const *list)
{
    for (int i = 0; list[i] != NULL; i++)
        if (strcmp(v, list[i]) == 0)
            return true;
    return false;
}

static const char *const json_formats[] = {"json", "application/json", "application/fhir+json",
                                           "application/json+fhir", NULL};
static const char *const other_formats[] = {"xml",
                                            "text/xml",
                                            "application/xml",
                                            "application/fhir+xml",
                                            "application/xml+fhir",
                                            "ttl",
                                            "text/turtle",
                                            "application/fhir+turtle",
                                            "html",
                                            "text/html",
                                            NULL};

/* _elements: names of top-level elements, [A-Za-z][A-Za-z0-9]*, comma-separated. */
static bool elements_ok(const char *v, char *out)
{
    size_t n = strlen(v);

    if (n == 0 || n > ELEMENTS_MAX ||
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                  "XYZ0123456789,") != n ||
        v[0] == ',' || v[n - 1] == ',' || strstr(v, ",,") != NULL)
        return false;
    snprintf(out, ELEMENTS_MAX + 3, ",%s,", v);
    return true;
}

/* The general parameters of the request: 0, or the HTTP status of the refusal (400, 406) with
 * its diagnostics in why. Repeated parameters (other than a search's date) are refused here. */
static int opts_parse(const ss_req *r, opts *o, const char **why)
{
    const char *q = r->u->http_url != NULL ? strchr(r->u->http_url, '?') : NULL;
    const char *accept = ss_req_header(r, "Accept");
    char name[64], val[ELEMENTS_MAX + 1], seen[64 * 8] = ",";

    memset(o, 0, sizeof(*o));
    if (accept != NULL && accept[0] != '\0' && strstr(accept, "json") == NULL &&
        strstr(accept, "*/*") == NULL && strstr(accept, "application/*") == NULL) {
        *why = "only JSON is served (application/fhir+json)";
        return 406;
    }
    for (const char *p = q ? q + 1 : ""; *p != '\0';) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t nn = eq ? (size_t)(eq - p) : n;
        char mark[72];

        if (!decode(p, nn, name, sizeof(name))) {
            *why = "a query parameter is malformed";
            return 400;
        }
        snprintf(mark, sizeof(mark), ",%s,", name);
        if (strcmp(name, "date") != 0 && strstr(seen, mark) != NULL) {
            *why = "a query parameter is repeated";
            return 400;
        }
        if (strlen(seen) + strlen(mark) < sizeof(seen))
            strcat(seen, mark + 1);
        if (rec_fhir_general_param(name)) {
            if (eq == NULL || !decode(eq + 1, n - nn - 1, val, sizeof(val)) || val[0] == '\0') {
                *why = "a general parameter (_format, _pretty, _summary, _elements) is empty or "
                       "too long";
                return 400;
            }
            if (strcmp(name, "_format") == 0 && !in_list(val, json_formats)) {
                *why = in_list(val, other_formats) ? "_format: only JSON is served"
                                                   : "_format: not a known format";
                return in_list(val, other_formats) ? 406 : 400;
            }
            if (strcmp(name, "_pretty") == 0) {
                if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0) {
                    *why = "_pretty must be true or false";
                    return 400;
                }
                o->pretty = val[0] == 't';
            }
            if (strcmp(name, "_summary") == 0) {
                static const char *const sums[] = {"true", "text", "data", "count", "false", NULL};
                int k = -1;

                for (int i = 0; sums[i] != NULL && k < 0; i++)
                    if (strcmp(val, sums[i]) == 0)
                        k = i;
                if (k < 0) {
                    *why = "_summary must be true, text, data, count or false";
                    return 400;
                }
                o->summary = k + 1;
            }
            if (strcmp(name, "_elements") == 0 && !elements_ok(val, o->elements)) {
                *why = "_elements must be element names separated by commas";
                return 400;
            }
        }
        p += n + (p[n] == '&');
    }
    return 0;
}

/* ---- subsetting (_summary, _elements) --------------------------------------------------- */

/* Elements kept whatever is asked: the resource's identity and its mandatory elements. */
static bool always_kept(const char *type, const char *key)
{
    static const char *const base[] = {"resourceType", "id", "meta", NULL};
    static const char *const imm[] = {"status", "vaccineCode", "patient", "occurrenceDateTime",
                                      NULL};
    static const char *const rec[] = {"patient", "recommendation", NULL};

    return in_list(key, base) || (strcmp(type, "Immunization") == 0 && in_list(key, imm)) ||
           (strcmp(type, "ImmunizationRecommendation") == 0 && in_list(key, rec));
}

/* The summary elements (Σ) of R4's definitions, for what this server answers. */
static bool summary_element(const char *type, const char *key)
{
    static const char *const patient[] = {"identifier",
                                          "active",
                                          "name",
                                          "telecom",
                                          "gender",
                                          "birthDate",
                                          "deceasedBoolean",
                                          "address",
                                          "managingOrganization",
                                          "link",
                                          NULL};
    static const char *const imm[] = {
        "identifier",    "status",    "vaccineCode", "patient",     "occurrenceDateTime",
        "primarySource", "performer", "note",        "isSubpotent", NULL};
    static const char *const rec[] = {"identifier", "patient",        "date",
                                      "authority",  "recommendation", NULL};

    if (strcmp(type, "Patient") == 0)
        return in_list(key, patient);
    if (strcmp(type, "Immunization") == 0)
        return in_list(key, imm);
    return in_list(key, rec);
}

/* Does the subset asked for keep this top-level element? */
static bool keep_key(const char *type, const char *key, const opts *o)
{
    char mark[72];
    bool keep = true;

    if (always_kept(type, key))
        return true;
    if (o->summary == SUM_TRUE)
        keep = summary_element(type, key);
    else if (o->summary == SUM_TEXT)
        keep = strcmp(key, "text") == 0;
    else if (o->summary == SUM_DATA)
        keep = strcmp(key, "text") != 0;
    snprintf(mark, sizeof(mark), ",%s,", key);
    return keep && (o->elements[0] == '\0' || strstr(o->elements, mark) != NULL);
}

static void subset(json_t *res, const opts *o)
{
    const char *type = json_string_value(json_object_get(res, "resourceType"));
    json_t *meta, *tags;
    bool cut = false;

    if (type == NULL || (strcmp(type, "Patient") != 0 && strcmp(type, "Immunization") != 0 &&
                         strcmp(type, "ImmunizationRecommendation") != 0))
        return;
    /* The next member is taken before the current one goes (jansson's foreach_safe). */
    for (void *it = json_object_iter(res), *next; it != NULL; it = next) {
        const char *key = json_object_iter_key(it);

        next = json_object_iter_next(res, it);
        if (!keep_key(type, key, o)) {
            json_object_del(res, key);
            cut = true;
        }
    }
    if (!cut && o->summary != SUM_TRUE && o->summary != SUM_TEXT && o->elements[0] == '\0')
        return;
    /* R4 search.html 3.1.1.5.8: a subset is marked SUBSETTED. */
    if ((meta = json_object_get(res, "meta")) == NULL) {
        json_object_set_new(res, "meta", json_object());
        meta = json_object_get(res, "meta");
    }
    if ((tags = json_object_get(meta, "tag")) == NULL) {
        json_object_set_new(meta, "tag", json_array());
        tags = json_object_get(meta, "tag");
    }
    json_array_append_new(tags, json_pack("{s:s,s:s,s:s}", "system", SYS_SUBSET, "code",
                                          "SUBSETTED", "display", "subsetted"));
}

static void apply_opts(json_t *doc, const opts *o)
{
    const char *type = json_string_value(json_object_get(doc, "resourceType"));
    json_t *entries;
    size_t i;

    if (o->summary == SUM_NONE && o->elements[0] == '\0')
        return;
    if (type == NULL || strcmp(type, "Bundle") != 0) {
        subset(doc, o);
        return;
    }
    if (o->summary == SUM_COUNT) {
        json_object_del(doc, "entry");
        return;
    }
    entries = json_object_get(doc, "entry");
    for (i = 0; i < json_array_size(entries); i++)
        subset(json_object_get(json_array_get(entries, i), "resource"), o);
}

int rec_fhir_reply(ss_req *r, int status, json_t *resource)
{
    opts o;
    const char *why = NULL;
    char *text;
    int rc;

    if (resource == NULL)
        return SS_ERR_NOMEM;
    if (opts_parse(r, &o, &why) != 0)
        memset(&o, 0, sizeof(o)); /* an error answer is never subsetted */
    if (status == 200)
        apply_opts(resource, &o);
    text = json_dumps(resource,
                      o.pretty ? (JSON_INDENT(2) | JSON_REAL_PRECISION(15)) : SS_JSON_COMPACT);
    json_decref(resource);
    if (text == NULL)
        return SS_ERR_NOMEM;
    rc = ss_reply_raw(r, status, REC_FHIR_JSON, text, strlen(text));
    free(text);
    return rc;
}

int rec_fhir_etag(ss_req *r, const char *tag)
{
    const char *inm = ss_req_header(r, "If-None-Match");
    char etag[96], quoted[90];

    snprintf(quoted, sizeof(quoted), "\"%s\"", tag);
    snprintf(etag, sizeof(etag), "W/%s", quoted);
    ss_reply_header(r, "ETag", etag);
    if (inm == NULL)
        return 0;
    /* Weak comparison (RFC 9110 13.1.2): W/"v" and "v" both name version v; or "*". */
    for (const char *p = inm; *p != '\0';) {
        size_t n;

        p += strspn(p, " \t,");
        n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if ((n == 1 && p[0] == '*') || (n == strlen(quoted) && strncmp(p, quoted, n) == 0) ||
            (n == strlen(etag) && strncmp(p, etag, n) == 0)) {
            ss_reply_empty(r, 304);
            ss_reply_header(r, "Cache-Control", "private, no-cache");
            return 1;
        }
        p += n;
    }
    return 0;
}

/* ---- the reads of what the searches return ------------------------------------------------ */

int rec_fhir_immunization_read(ss_req *r, const char *id)
{
    PGresult *res = NULL;
    bool replied;
    int rc;

    if ((rc = rec_fhir_caller(r, &replied)) != 0 || replied)
        return rc;
    if (!ss_uuid_ok(id))
        return rec_fhir_error(r, 404, "not-found", "Immunization/{id} is not known");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    {
        const char *params[] = {
            r->who.kind == SS_PRINCIPAL_VACCINEE ? r->who.person_id : rec_muni(r), id};

        /* The same scope as the search: a municipality its current residents, a vaccinee its
         * family. */
        rc = ss_db_query(ss_server_db(),
                         r->who.kind == SS_PRINCIPAL_VACCINEE ? sql_rec_fhir_imm_get_self
                                                              : sql_rec_fhir_imm_get_muni,
                         2, params, &res);
    }
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return rec_fhir_error(r, 404, "not-found", "Immunization/{id} is not known");
    }
    rec_touch_person(r, PQgetvalue(res, 0, 2));
    rc = rec_fhir_etag(r, PQgetvalue(res, 0, 1)) == 1
             ? 0
             : rec_fhir_reply(r, 200, ss_json_col(res, 0, 0));
    PQclear(res);
    return rc;
}

/* ---- the router ----------------------------------------------------------------------------- */

typedef int (*type_fn)(ss_req *r);
typedef int (*instance_fn)(ss_req *r, const char *id);

/* What each interaction is called in the access log (route and resource type). */
static const ss_route rt_metadata = {"GET", "/fhir/metadata", NULL, SS_PERM_PUBLIC,
                                     0,     "fhir_capability"};
static const ss_route rt_patients = {"GET", "/fhir/Patient", NULL, SS_PERM_AUTHENTICATED,
                                     0,     "person"};
static const ss_route rt_patient = {"GET",   "/fhir/Patient/:id", NULL, SS_PERM_AUTHENTICATED, 0,
                                    "person"};
static const ss_route rt_imms = {"GET", "/fhir/Immunization", NULL, SS_PERM_AUTHENTICATED,
                                 0,     "immunization"};
static const ss_route rt_imm = {
    "GET", "/fhir/Immunization/:id", NULL, SS_PERM_AUTHENTICATED, 0, "immunization"};
static const ss_route rt_recs = {"GET", "/fhir/ImmunizationRecommendation",
                                 NULL,  SS_PERM_AUTHENTICATED,
                                 0,     "immunization_recommendation"};
static const ss_route rt_rec = {"GET", "/fhir/ImmunizationRecommendation/:id",
                                NULL,  SS_PERM_AUTHENTICATED,
                                0,     "immunization_recommendation"};

static const struct {
    const char *type;
    const ss_route *search;
    type_fn search_fn;
    const ss_route *read;
    instance_fn read_fn;
} types[] = {
    {"metadata", &rt_metadata, rec_h_fhir_metadata, NULL, NULL},
    {"Patient", &rt_patients, rec_h_fhir_patients, &rt_patient, rec_fhir_patient_read},
    {"Immunization", &rt_imms, rec_h_fhir_immunizations, &rt_imm, rec_fhir_immunization_read},
    {"ImmunizationRecommendation", &rt_recs, rec_h_fhir_recommendations, &rt_rec,
     rec_fhir_recommendation_read},
};

/* Split the path below /fhir into at most MAX_SEGS segments (empty ones skipped, as ulfius
 * does); -1 when there are more or one is too long. */
static int segments(const char *path, char seg[MAX_SEGS][80])
{
    int n = 0;

    if (path == NULL || strncmp(path, "/fhir", 5) != 0)
        return -1;
    path += strlen("/fhir");
    for (;;) {
        size_t k;

        path += strspn(path, "/");
        if (*path == '\0')
            return n;
        k = strcspn(path, "/");
        if (n >= MAX_SEGS || k >= 80)
            return -1;
        memcpy(seg[n], path, k);
        seg[n++][k] = '\0';
        path += k;
    }
}

/* Does the query hold nothing but general parameters? */
static bool only_general(const ss_req *r)
{
    const char *q = r->u->http_url != NULL ? strchr(r->u->http_url, '?') : NULL;
    char name[64];

    for (const char *p = q ? q + 1 : ""; *p != '\0';) {
        size_t n = strcspn(p, "&"), nn = strcspn(p, "=&");

        if (n > 0 && (!decode(p, nn, name, sizeof(name)) || !rec_fhir_general_param(name)))
            return false;
        p += n + (p[n] == '&');
    }
    return true;
}

static int run(ss_req *r, const ss_route *rt)
{
    const char *why = NULL;
    int status;

    r->route = rt; /* the access log names this interaction */
    if (!ss_authz_has(&r->who, rt->perm))
        return r->who.kind == SS_PRINCIPAL_NONE
                   ? ss_req_fail(r, SS_ERR_UNAUTHORIZED, "a bearer token is required")
                   : rec_fhir_error(r, 403, "forbidden", "no FHIR access");
    if ((status = opts_parse(r, &(opts){0}, &why)) != 0)
        return rec_fhir_error(r, status, status == 406 ? "not-supported" : "invalid", why);
    return 0;
}

int rec_h_fhir(ss_req *r)
{
    char seg[MAX_SEGS][80];
    const char *m = r->u->http_verb;
    bool read_method = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    int n = segments(r->u->url_path, seg), rc;

    for (size_t i = 0; n >= 1 && n <= 2 && i < sizeof(types) / sizeof(types[0]); i++) {
        const ss_route *rt = n == 1 ? types[i].search : types[i].read;

        if (strcmp(seg[0], types[i].type) != 0 || rt == NULL)
            continue;
        if (!read_method) {
            ss_reply_header(r, "Allow", "GET, HEAD");
            return rec_fhir_error(r, 405, "not-supported",
                                  "this FHIR server reads and searches only (GET, HEAD)");
        }
        if ((rc = run(r, rt)) != 0 || r->status != 0)
            return rc;
        if (n == 2 && !only_general(r))
            return rec_fhir_error(r, 400, "not-supported",
                                  "a read takes no parameters but _format, _pretty, _summary "
                                  "and _elements");
        return n == 1 ? types[i].search_fn(r) : types[i].read_fn(r, seg[1]);
    }
    return rec_fhir_error(r, 404, "not-found",
                          n == 1 || n == 2 ? "this server has no such resource type"
                                           : "no such FHIR interaction");
}
