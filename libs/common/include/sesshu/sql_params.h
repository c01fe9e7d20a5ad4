/* sql_params.h - a statement's parameters by name, with the types its .sql file gives them.
 *
 * The build (cmake/sql_embed.cmake) turns the "-- $n name: type" lines of every statement into
 * `extern const ss_sql_param sql_<name>_params[]` next to sql_<name> (ended by n == 0). A caller
 * fills an ss_sql_args by those names instead of keeping a positional array in step with the
 * statement by hand (`p.v[13]` for `$14`):
 *
 *   ss_sql_args a;
 *   ss_sql_args_init(&a, sql_rec_imm_insert_params);
 *   ss_sql_arg(&a, "person_id", id);
 *   ss_sql_arg_int(&a, "dose_number", 2);
 *   ...
 *   if ((rc = ss_sql_args_done(&a)) == 0)
 *       rc = ss_db_exec(c, sql_rec_imm_insert, a.n, a.v, &res);
 *
 * A name the statement does not have, a value that is not of the parameter's type (uuid, date,
 * int, bigint, numeric, boolean) or a parameter left unset is a programming error: ss_sql_args_done
 * returns SS_ERR_INTERNAL with the first of them in a.err (the caller logs it), so any test of
 * the statement's path catches it. NULL is a
 * value (SQL NULL) and must be set like any other. No allocation: numbers are formatted into the
 * struct, strings are borrowed (they must outlive the statement's execution). */
#ifndef SESSHU_SQL_PARAMS_H
#define SESSHU_SQL_PARAMS_H

#include <stdbool.h>

/* One documented parameter of a statement (a row of the generated sql_<name>_params[]). */
typedef struct ss_sql_param {
    int n;            /* $n; 0 ends the table */
    const char *name; /* as in the file, e.g. "person_id" */
    const char *type; /* as in the file, e.g. "uuid", "text[]" */
} ss_sql_param;

#define SS_SQL_ARGS_MAX 32

typedef struct ss_sql_args {
    const ss_sql_param *defs;
    int n; /* the statement's parameter count: pass a.n, a.v */
    const char *v[SS_SQL_ARGS_MAX];
    bool set[SS_SQL_ARGS_MAX];
    char num[SS_SQL_ARGS_MAX][32]; /* numbers formatted for v */
    char err[128];                 /* the first mistake, or "" */
} ss_sql_args;

/* Start the arguments of the statement whose table is defs. */
void ss_sql_args_init(ss_sql_args *a, const ss_sql_param *defs);
/* The parameter `name` is the text v (NULL: SQL NULL); v is checked against the declared type. */
void ss_sql_arg(ss_sql_args *a, const char *name, const char *v);
/* The parameter `name` is the integer v (int or bigint). */
void ss_sql_arg_int(ss_sql_args *a, const char *name, long long v);
/* The parameter `name` is the number v with `decimals` digits after the point (numeric). */
void ss_sql_arg_num(ss_sql_args *a, const char *name, double v, int decimals);
/* The parameter `name` is the boolean v. */
void ss_sql_arg_bool(ss_sql_args *a, const char *name, bool v);
/* Does the statement have a parameter `name`? (For code shared by statements that differ.) */
bool ss_sql_args_has(const ss_sql_args *a, const char *name);
/* 0 when every parameter was set with a value of its type, else SS_ERR_INTERNAL with the first
 * mistake in a->err. */
int ss_sql_args_done(ss_sql_args *a);

#endif
