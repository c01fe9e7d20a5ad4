/* sql.c - the check that every embedded statement parses, and constraint errors by name (sql.h). */
#include "sesshu/sql.h"

#include <stdio.h>
#include <string.h>

#include "sesshu/err.h"

static int check_one(PGconn *conn, const ss_sql_stmt *s, char *err, size_t errsz)
{
    PGresult *res = PQprepare(conn, "ss_sql_check", s->text, 0, NULL);
    int rc = 0;

    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errsz, "%s:%d %s: %s", s->file, s->line, s->name,
                 res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        PQclear(res);
        return SS_ERR_VALIDATION;
    }
    PQclear(res);
    res = PQdescribePrepared(conn, "ss_sql_check");
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errsz, "%s:%d %s: describe failed", s->file, s->line, s->name);
        rc = SS_ERR_VALIDATION;
    } else if (PQnparams(res) != s->nparams) {
        snprintf(err, errsz, "%s:%d %s: the server counts %d parameters, the file %d", s->file,
                 s->line, s->name, PQnparams(res), s->nparams);
        rc = SS_ERR_VALIDATION;
    }
    PQclear(res);
    res = PQexec(conn, "DEALLOCATE ss_sql_check");
    PQclear(res);
    return rc;
}

int ss_sql_check(ss_db *db, const ss_sql_stmt *all, char *err, size_t errsz)
{
    ss_dbc *c = NULL;
    int rc;

    if (errsz > 0)
        err[0] = '\0';
    if ((rc = ss_db_acquire(db, &c)) != 0)
        return rc;
    for (const ss_sql_stmt *s = all; rc == 0 && s->name != NULL; s++)
        rc = check_one(ss_db_conn(c), s, err, errsz);
    ss_db_release(c);
    return rc;
}

/* Is `name` the constraint `want`, or one partition's part of it ("<want>_p<digits>")? */
static int constraint_is(const char *want, const char *name)
{
    size_t n = strlen(want);

    if (strncmp(want, name, n) != 0)
        return 0;
    if (name[n] == '\0')
        return 1;
    if (name[n] != '_' || name[n + 1] != 'p' || name[n + 2] == '\0')
        return 0;
    return strspn(name + n + 2, "0123456789") == strlen(name + n + 2);
}

int ss_sql_constraint_error(ss_req *r, const ss_dbc *c, int rc, const ss_sql_constraint *map)
{
    const char *name = c != NULL ? ss_db_constraint(c) : "";

    if (rc == 0 || name[0] == '\0')
        return rc;
    for (const ss_sql_constraint *m = map; m->name != NULL; m++) {
        if (!constraint_is(m->name, name))
            continue;
        if (m->err == SS_ERR_VALIDATION && m->field != NULL)
            return ss_req_field_error(r, m->field, m->reason);
        return ss_req_fail(r, m->err, "%s", m->reason);
    }
    return rc;
}

int ss_sql_query(ss_req *r, ss_db *db, const char *sql, int nparams, const char *const *params,
                 PGresult **out, const ss_sql_constraint *map)
{
    ss_dbc *c = NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    if ((rc = ss_db_acquire(db, &c)) != 0)
        return rc;
    rc = ss_db_exec(c, sql, nparams, params, out);
    rc = ss_sql_constraint_error(r, c, rc, map);
    ss_db_release(c);
    return rc;
}
