/* analytics.c - GET /api/v1/analytics/immunizations (H-6-1): ad-hoc counts for 厚生労働省 staff
 * (analytics.read in the library's matrix), over the pseudonymised facts the feed keeps
 * (stats.facts: no names, no ids; a person is a keyed hash, a birth is a month).
 *
 * ?group_by=d1,d2,… (up to 6 of the dimensions below) and filters: from, to (vaccination dates),
 * registered_from, registered_to, and one value per dimension (e.g. prefecture_code=13,
 * fiscal_year=2026). Each item: the dimensions' values, `count` (vaccinations), `persons`
 * (distinct persons) and `share` (count / the filter's total). A disease dimension or filter
 * counts a record once per disease it prevents. Two fixed statements (sql/analytics.sql), every
 * dimension a column of them and every filter a parameter (NULL when not given), so nothing of
 * the request becomes SQL; the groups come in the dimensions' order of the table below.
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
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"
#include "stat.h"

#define GROUP_MAX 6
#define ROWS_MAX  10000

typedef struct dim {
    const char *name;
    const char *pattern; /* what a filter value must match */
    bool facts;          /* only stats.facts has it */
} dim;

/* In the order of the statements' columns and parameters (sql/analytics.sql). */
static const dim dims[] = {
    {"vaccinated_on", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", false},
    {"vaccination_month", "^[0-9]{4}-[0-9]{2}$", false},
    {"fiscal_year", "^[0-9]{4}$", false},
    {"registration_month", "^[0-9]{4}-[0-9]{2}$", true},
    {"prefecture_code", "^[0-9]{2}$", false},
    {"municipality_code", "^[0-9]{6}$", false},
    {"disease_code", "^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$", false},
    {"vaccine_code", "^[0-9A-Z]{9,13}$", false},
    {"dose_number", "^[0-9]{1,2}$", false},
    {"sex", "^[0129]$", false},
    {"age_band", "^([01]|2-4|[0-9]{1,2}-[0-9]{1,2}|90\\+)$", false},
    {"birth_month", "^[0-9]{4}-[0-9]{2}$", true},
    {"category", "^(routine|temporary|special_temporary|voluntary)$", false},
    {"source", "^(institution|paper|health_system|api|foreign)$", false},
    {"institution_type", "^[0-9-]$", false},
    {NULL, NULL, false},
};
#define NDIMS ((int)(sizeof(dims) / sizeof(dims[0])) - 1)

/* The date ranges, in the order of their parameters; the registration dates only stats.facts
 * has. */
static const struct {
    const char *name;
    bool facts;
} ranges[] = {{"from", false}, {"to", false}, {"registered_from", true}, {"registered_to", true}};
#define NRANGES ((int)(sizeof(ranges) / sizeof(ranges[0])))

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
    char groups[256];           /* the group_by dimensions as a text[] literal ($1) */
    const char *range[NRANGES]; /* a date, or NULL */
    const char *value[NDIMS];   /* one filter value per dimension, or NULL */
    const char *params[1 + NRANGES + NDIMS + 1];
    int nparams;
    bool facts;   /* a dimension or filter only stats.facts has */
    bool persons; /* count distinct persons (stats.facts only) */
} query;

/* The group_by list into q->group; 0 or a 422 through the request. */
static int parse_group(ss_req *r, query *q)
{
    const char *g = ss_req_query(r, "group_by");
    size_t len = 1;

    if (g == NULL || *g == '\0')
        return ss_req_field_error(r, "group_by", "is required: a comma-separated list");
    snprintf(q->groups, sizeof(q->groups), "{");
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
        /* A name of the table: no quoting needed in the array literal. */
        len += (size_t)snprintf(q->groups + len, sizeof(q->groups) - len, "%s%s",
                                q->ngroup ? "," : "", d->name);
        q->group[q->ngroup++] = d;
        q->facts = q->facts || d->facts;
        p += n;
        if (*p == ',')
            p++;
    }
    if (len + 2 > sizeof(q->groups)) /* six names of the table always fit */
        return SS_ERR_INTERNAL;
    q->groups[len] = '}';
    q->groups[len + 1] = '\0';
    return 0;
}

/* Filters: a range on the dates, one value per dimension. */
static int parse_filters(ss_req *r, query *q)
{
    for (int i = 0; i < NRANGES; i++) {
        const char *v = ss_req_query(r, ranges[i].name);

        if (v == NULL)
            continue;
        if (!matches(dims[0].pattern, v) || !ss_date_ok(v))
            return ss_req_field_error(r, ranges[i].name, "is not a date (YYYY-MM-DD)");
        q->range[i] = v;
        q->facts = q->facts || ranges[i].facts;
    }
    for (int i = 0; i < NDIMS; i++) {
        const char *v = ss_req_query(r, dims[i].name);

        if (v == NULL)
            continue;
        if (!matches(dims[i].pattern, v))
            return ss_req_field_error(r, dims[i].name, "is not a value of this dimension");
        q->value[i] = v;
        q->facts = q->facts || dims[i].facts;
    }
    return 0;
}

/* The statement for q and its parameters, in the order of sql/analytics.sql: the group list,
 * the ranges, the dimensions' values (those of the cube's only, for the cube), persons. */
static const char *bind_query(query *q)
{
    const bool cube = !q->persons && !q->facts;

    q->nparams = 0;
    q->params[q->nparams++] = q->groups;
    for (int i = 0; i < NRANGES; i++)
        if (!cube || !ranges[i].facts)
            q->params[q->nparams++] = q->range[i];
    for (int i = 0; i < NDIMS; i++)
        if (!cube || !dims[i].facts)
            q->params[q->nparams++] = q->value[i];
    if (cube)
        return sql_stat_analytics_cube;
    q->params[q->nparams++] = q->persons ? "true" : "false";
    return sql_stat_analytics_facts;
}

static json_t *items_of(const query *q, const PGresult *res)
{
    json_t *items = json_array();

    for (int i = 0; items != NULL && i < PQntuples(res) && i < ROWS_MAX; i++) {
        json_t *o = json_object();
        int c = 0;

        for (; o != NULL && c < q->ngroup; c++)
            json_object_set_new(o, q->group[c]->name,
                                json_string(PQgetvalue(res, i, (int)(q->group[c] - dims))));
        c = NDIMS; /* count, persons, share follow the dimensions' columns */
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
    const char *sql;
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
    sql = bind_query(&q);
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
