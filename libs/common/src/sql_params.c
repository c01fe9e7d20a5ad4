/* sql_params.c - a statement's parameters by name and type (sql_params.h). */
#include "sesshu/sql_params.h"

#include <stdio.h>
#include <string.h>

#include "sesshu/err.h"
#include "sesshu/text.h"

void ss_sql_args_init(ss_sql_args *a, const ss_sql_param *defs)
{
    memset(a, 0, sizeof(*a));
    a->defs = defs;
    for (const ss_sql_param *d = defs; d != NULL && d->n != 0; d++) {
        if (d->n > SS_SQL_ARGS_MAX) {
            snprintf(a->err, sizeof(a->err), "$%d: more than %d parameters", d->n, SS_SQL_ARGS_MAX);
            return;
        }
        if (d->n > a->n)
            a->n = d->n;
    }
}

static const ss_sql_param *find(const ss_sql_args *a, const char *name)
{
    for (const ss_sql_param *d = a->defs; d != NULL && d->n != 0; d++)
        if (d->name != NULL && strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

bool ss_sql_args_has(const ss_sql_args *a, const char *name)
{
    return find(a, name) != NULL;
}

static bool digits(const char *s, bool sign, bool point)
{
    bool any = false, seen_point = false;

    if (sign && *s == '-')
        s++;
    for (; *s != '\0'; s++) {
        if (*s >= '0' && *s <= '9')
            any = true;
        else if (point && *s == '.' && !seen_point)
            seen_point = true;
        else
            return false;
    }
    return any;
}

/* Is v a literal PostgreSQL takes for `type`? Types not listed (text, jsonb, arrays, ...) take
 * any text. */
static bool of_type(const char *type, const char *v)
{
    if (strcmp(type, "uuid") == 0)
        return ss_uuid_ok(v);
    if (strcmp(type, "date") == 0)
        return ss_date_ok(v);
    if (strcmp(type, "int") == 0 || strcmp(type, "bigint") == 0)
        return digits(v, true, false);
    if (strcmp(type, "numeric") == 0)
        return digits(v, true, true);
    if (strcmp(type, "boolean") == 0)
        return strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
    return true;
}

static void fail(ss_sql_args *a, const char *name, const char *why)
{
    if (a->err[0] == '\0')
        snprintf(a->err, sizeof(a->err), "%s: %s", name, why);
}

void ss_sql_arg(ss_sql_args *a, const char *name, const char *v)
{
    const ss_sql_param *d = find(a, name);

    if (d == NULL) {
        fail(a, name, "the statement has no such parameter");
        return;
    }
    if (v != NULL && d->type != NULL && !of_type(d->type, v)) {
        fail(a, name, "not a value of the parameter's type");
        return;
    }
    a->v[d->n - 1] = v;
    a->set[d->n - 1] = true;
}

void ss_sql_arg_int(ss_sql_args *a, const char *name, long long v)
{
    const ss_sql_param *d = find(a, name);

    if (d == NULL) {
        fail(a, name, "the statement has no such parameter");
        return;
    }
    snprintf(a->num[d->n - 1], sizeof(a->num[0]), "%lld", v);
    ss_sql_arg(a, name, a->num[d->n - 1]);
}

void ss_sql_arg_num(ss_sql_args *a, const char *name, double v, int decimals)
{
    const ss_sql_param *d = find(a, name);

    if (d == NULL) {
        fail(a, name, "the statement has no such parameter");
        return;
    }
    snprintf(a->num[d->n - 1], sizeof(a->num[0]), "%.*f", decimals, v);
    ss_sql_arg(a, name, a->num[d->n - 1]);
}

void ss_sql_arg_bool(ss_sql_args *a, const char *name, bool v)
{
    ss_sql_arg(a, name, v ? "true" : "false");
}

int ss_sql_args_done(ss_sql_args *a)
{
    for (const ss_sql_param *d = a->defs; a->err[0] == '\0' && d != NULL && d->n != 0; d++)
        if (!a->set[d->n - 1])
            fail(a, d->name != NULL ? d->name : "?", "not set");
    return a->err[0] == '\0' ? 0 : SS_ERR_INTERNAL;
}
