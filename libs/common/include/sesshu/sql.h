/* sql.h - statements kept in .sql files, and constraint errors by name.
 *
 * Every statement of a service lives in services/<svc>/sql/<resource>.sql under a name
 * ("-- name: acct_user_by_login"). The build (cmake/sesshu_sql.cmake) embeds them into the
 * generated <prefix>_sql.h as `extern const char sql_<name>[]`, which the service passes to
 * ss_db_exec; <prefix>_sql_all[] lists them for ss_sql_check. How to add one:
 * docs/contributing.md §1a. */
#ifndef SESSHU_SQL_H
#define SESSHU_SQL_H

#include <stddef.h>

#include "sesshu/db.h"
#include "sesshu/http.h"

/* One embedded statement (a row of the generated <prefix>_sql_all[], ended by name NULL). */
typedef struct ss_sql_stmt {
    const char *name; /* as in the file, e.g. "acct_user_by_login" */
    const char *file; /* "services/account/sql/users.sql" */
    int line;         /* of its "-- name:" line */
    int nparams;      /* the highest $n it uses (each documented by a "-- $n" line) */
    const char *text; /* the statement, without its final ";" */
} ss_sql_stmt;

/* Prepare every statement of `all` on one connection of the pool (parse analysis against the
 * live schema, nothing is executed, each is deallocated again) and compare the server's count of
 * parameters with the file's. 0, or SS_ERR_VALIDATION with "file:line name: message" in err
 * (the first failure), or the pool's error. */
int ss_sql_check(ss_db *db, const ss_sql_stmt *all, char *err, size_t errsz);

/* A named constraint and what a violation of it means to the client. */
typedef struct ss_sql_constraint {
    const char *name;   /* PG_DIAG_CONSTRAINT_NAME, e.g. "users_login_id_key" */
    int err;            /* SS_ERR_CONFLICT (a problem) or SS_ERR_VALIDATION (a field error) */
    const char *field;  /* SS_ERR_VALIDATION: the field; SS_ERR_CONFLICT: NULL */
    const char *reason; /* the field error's reason, or the conflict's detail */
} ss_sql_constraint;

/* After a failed statement on c (rc its error): when the constraint it violated is in `map`
 * (ended by name NULL), answer as the map says (ss_req_fail / ss_req_field_error) and return
 * that; otherwise return rc unchanged. c may be NULL. A unique constraint of a partitioned table
 * is violated in a partition, whose index has a name of its own: a partition's is named
 * "<name>_p<digits>" (records migration 048) and answers as "<name>". */
int ss_sql_constraint_error(ss_req *r, const ss_dbc *c, int rc, const ss_sql_constraint *map);

/* One statement on the pool (acquire, exec, release, as ss_db_query) with a violated constraint
 * of `map` answered by ss_sql_constraint_error. */
int ss_sql_query(ss_req *r, ss_db *db, const char *sql, int nparams, const char *const *params,
                 PGresult **out, const ss_sql_constraint *map);

#endif
