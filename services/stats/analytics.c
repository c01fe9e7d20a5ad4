/* analytics.c - GET /api/v1/analytics/immunizations (H-6-1): ad-hoc counts for 厚生労働省 staff
 * (analytics.read in the library's matrix), over the pseudonymised facts the feed keeps
 * (stats.facts: no names, no ids; a person is a keyed hash, a birth is a month).
 *
 * ?group_by=d1,d2,… (up to 6 of the dimensions below) and filters: from, to (vaccination dates),
 * registered_from, registered_to, and one value per dimension (e.g. prefecture_code=13,
 * fiscal_year=2026). Each item: the dimensions' values, `count` (vaccinations), `persons`
 * (distinct persons) and `share` (count / the filter's total). A disease dimension or filter
 * counts a record once per disease it prevents. The SQL is made of fixed fragments chosen by
 * name from the table below; every value is a parameter.
 *
 * persons=false leaves `persons` out; then, unless a registration date, registration month or
 * birth month is asked for, the query runs over stats.cube (the records' combinations of the
 * other dimensions with their counts, kept with the facts by stats.apply_page) instead of every
 * record: the same counts, a fraction of the rows (bench/stats.sh (b)). */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/err.h"
#include "sesshu/text.h"
#include "stat.h"

#define GROUP_MAX 6
#define ROWS_MAX  10000
#define SQL_MAX   4096

typedef struct dim {
    const char *name;
    const char *expr;    /* over f (stats.facts or stats.cube) and d (the disease, when joined) */
    const char *pattern; /* what a filter value must match */
    bool facts;          /* only stats.facts has it */
} dim;

static const dim dims[] = {
    {"vaccinated_on", "f.vaccinated_on::text", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", false},
    {"vaccination_month", "to_char(f.vaccinated_on, 'YYYY-MM')", "^[0-9]{4}-[0-9]{2}$", false},
    {"fiscal_year", "extract(year FROM f.vaccinated_on - interval '3 months')::int::text",
     "^[0-9]{4}$", false},
    {"registration_month", "to_char(f.registered_on, 'YYYY-MM')", "^[0-9]{4}-[0-9]{2}$", true},
    {"prefecture_code", "f.pref_code::text", "^[0-9]{2}$", false},
    {"municipality_code", "f.muni_code::text", "^[0-9]{6}$", false},
    {"disease_code", "d", "^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$", false},
    {"vaccine_code", "f.vaccine_code", "^[0-9A-Z]{9,13}$", false},
    {"dose_number", "f.dose_number::text", "^[0-9]{1,2}$", false},
    {"sex", "f.sex::text", "^[0129]$", false},
    {"age_band", "f.age_band", "^([01]|2-4|[0-9]{1,2}-[0-9]{1,2}|90\\+)$", false},
    {"birth_month", "f.birth_month::text", "^[0-9]{4}-[0-9]{2}$", true},
    {"category", "f.category", "^(routine|temporary|special_temporary|voluntary)$", false},
    {"source", "f.source", "^(institution|paper|health_system|api|foreign)$", false},
    {"institution_type", "f.institution_type", "^[0-9-]$", false},
    {NULL, NULL, NULL, false},
};

static const dim *dim_find(const char *name, size_t n)
{
    for (const dim *d = dims; d->name != NULL; d++)
        if (strlen(d->name) == n && strncmp(d->name, name, n) == 0)
            return d;
    return NULL;
}

static bool matches(const char *pattern, const char *v)
{
    regex_t re;
    bool ok;

    if (strlen(v) > 64 || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    ok = regexec(&re, v, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

typedef struct query {
    const dim *group[GROUP_MAX];
    int ngroup;
    const char *params[32];
    int nparams;
    char where[SQL_MAX];
    bool disease;
    bool facts;   /* a dimension or filter only stats.facts has */
    bool persons; /* count distinct persons (stats.facts only) */
} query;

/* The group_by list into q->group; 0 or a 422 through the request. */
static int parse_group(ss_req *r, query *q)
{
    const char *g = ss_req_query(r, "group_by");

    if (g == NULL || *g == '\0')
        return ss_req_field_error(r, "group_by", "is required: a comma-separated list");
    for (const char *p = g; *p != '\0';) {
        size_t n = strcspn(p, ",");
        const dim *d = dim_find(p, n);

        if (d == NULL)
            return ss_req_field_error(r, "group_by", "names an unknown dimension");
        for (int i = 0; i < q->ngroup; i++)
            if (q->group[i] == d)
                return ss_req_field_error(r, "group_by", "names a dimension twice");
        if (q->ngroup == GROUP_MAX)
            return ss_req_field_error(r, "group_by", "holds at most 6 dimensions");
        q->group[q->ngroup++] = d;
        q->disease = q->disease || strcmp(d->name, "disease_code") == 0;
        q->facts = q->facts || d->facts;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static void add_cond(query *q, const char *expr, const char *op, const char *value)
{
    size_t len = strlen(q->where);

    q->params[q->nparams++] = value;
    snprintf(q->where + len, sizeof(q->where) - len, " AND %s %s $%d", expr, op, q->nparams);
}

/* Filters: a range on the dates, one value per dimension. */
static int parse_filters(ss_req *r, query *q)
{
    static const struct {
        const char *name, *expr, *op;
    } ranges[] = {{"from", "f.vaccinated_on", ">="},
                  {"to", "f.vaccinated_on", "<="},
                  {"registered_from", "f.registered_on", ">="},
                  {"registered_to", "f.registered_on", "<="}};

    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        const char *v = ss_req_query(r, ranges[i].name);

        if (v == NULL)
            continue;
        if (!matches(dims[0].pattern, v) || !ss_date_ok(v))
            return ss_req_field_error(r, ranges[i].name, "is not a date (YYYY-MM-DD)");
        add_cond(q, ranges[i].expr, ranges[i].op, v);
        q->facts = q->facts || strncmp(ranges[i].expr, "f.registered_on", 15) == 0;
        /* the cast, after the placeholder add_cond wrote */
        strncat(q->where, "::date", sizeof(q->where) - strlen(q->where) - 1);
    }
    for (const dim *d = dims; d->name != NULL; d++) {
        const char *v = ss_req_query(r, d->name);

        if (v == NULL)
            continue;
        if (!matches(d->pattern, v))
            return ss_req_field_error(r, d->name, "is not a value of this dimension");
        q->disease = q->disease || strcmp(d->name, "disease_code") == 0;
        q->facts = q->facts || d->facts;
        add_cond(q, d->expr, "=", v);
    }
    return 0;
}

static int build_sql(const query *q, char *sql, size_t size)
{
    char cols[1024] = "", by[256] = "";
    size_t lc = 0, lb = 0;

    for (int i = 0; i < q->ngroup; i++) {
        lc += (size_t)snprintf(cols + lc, sizeof(cols) - lc, "%s, ", q->group[i]->expr);
        lb += (size_t)snprintf(by + lb, sizeof(by) - lb, "%s%d", i ? ", " : "", i + 1);
    }
    if (lc >= sizeof(cols) || lb >= sizeof(by))
        return SS_ERR_INTERNAL;
    const bool cube = !q->persons && !q->facts;
    const char *n = cube ? "sum(f.n)" : "count(*)";
    if ((size_t)snprintf(sql, size,
                         "SELECT %s%s::text, %s::text, (%s::numeric / nullif(sum(%s) OVER (), "
                         "0))::text FROM %s f%s WHERE %s%s GROUP BY %s ORDER BY %s LIMIT %d",
                         cols, n, q->persons ? "count(DISTINCT f.person_key)" : "NULL", n, n,
                         cube ? "stats.cube" : "stats.facts",
                         q->disease ? " CROSS JOIN LATERAL unnest(f.disease_codes) d" : "",
                         cube ? "true" : "f.status <> 'voided'", q->where, by, by,
                         ROWS_MAX + 1) >= size)
        return SS_ERR_INTERNAL;
    return 0;
}

static json_t *items_of(const query *q, const PGresult *res)
{
    json_t *items = json_array();

    for (int i = 0; items != NULL && i < PQntuples(res) && i < ROWS_MAX; i++) {
        json_t *o = json_object();
        int c = 0;

        for (; o != NULL && c < q->ngroup; c++)
            json_object_set_new(o, q->group[c]->name, json_string(PQgetvalue(res, i, c)));
        if (o == NULL || json_array_append_new(items, o) != 0) {
            json_decref(items);
            return NULL;
        }
        json_object_set_new(o, "count", json_integer(strtoll(PQgetvalue(res, i, c), NULL, 10)));
        if (q->persons)
            json_object_set_new(o, "persons",
                                json_integer(strtoll(PQgetvalue(res, i, c + 1), NULL, 10)));
        json_object_set_new(o, "share", json_real(strtod(PQgetvalue(res, i, c + 2), NULL)));
    }
    return items;
}

int stat_h_analytics(ss_req *r)
{
    static const char *allowed[] = {"group_by",
                                    "from",
                                    "to",
                                    "registered_from",
                                    "registered_to",
                                    "vaccinated_on",
                                    "vaccination_month",
                                    "fiscal_year",
                                    "registration_month",
                                    "prefecture_code",
                                    "municipality_code",
                                    "disease_code",
                                    "vaccine_code",
                                    "dose_number",
                                    "sex",
                                    "age_band",
                                    "birth_month",
                                    "category",
                                    "source",
                                    "institution_type",
                                    "persons",
                                    NULL};
    query q = {.ngroup = 0, .persons = true};
    const char *persons = ss_req_query(r, "persons");
    ss_db_read_info where;
    char lag[24];
    char sql[SQL_MAX + 2048];
    PGresult *res = NULL;
    json_t *items, *groups;
    int rc;

    if ((rc = ss_query_check(r, allowed)) != 0)
        return rc;
    if (persons != NULL && strcmp(persons, "true") != 0 && strcmp(persons, "false") != 0)
        return ss_req_field_error(r, "persons", "is true or false");
    q.persons = persons == NULL || strcmp(persons, "true") == 0;
    if ((rc = parse_group(r, &q)) != 0 || (rc = parse_filters(r, &q)) != 0)
        return rc;
    if ((rc = build_sql(&q, sql, sizeof(sql))) != 0)
        return rc;
    (void)stat_refresh();
    /* A standby's answer may lag the refresh by its replay lag: bounded, and shown. */
    if ((rc = ss_db_query_read(ss_server_read_db(), ss_server_db(), stat_max_lag_ms(), sql,
                               q.nparams, q.params, &res, &where)) != 0)
        return rc;
    snprintf(lag, sizeof(lag), "%ld", where.lag_ms);
    ss_reply_header(r, "X-Data-Source", where.standby ? "standby" : "primary");
    ss_reply_header(r, "X-Data-Lag-Ms", lag);
    if (PQntuples(res) > ROWS_MAX) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_VALIDATION,
                           "more than 10000 groups: group by fewer dimensions or filter");
    }
    items = items_of(&q, res);
    PQclear(res);
    groups = json_array();
    for (int i = 0; groups != NULL && i < q.ngroup; i++)
        json_array_append_new(groups, json_string(q.group[i]->name));
    if (items == NULL || groups == NULL) {
        json_decref(items);
        json_decref(groups);
        return SS_ERR_NOMEM;
    }
    return ss_reply_json_new(r, 200, json_pack("{s:o,s:o}", "group_by", groups, "items", items));
}
