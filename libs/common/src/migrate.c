/* migrate.c - ordered SQL migrations applied under an advisory lock (migrate.h). */
#include "sesshu/migrate.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/err.h"
#include "sesshu/log.h"

#define SS_MIGRATIONS_MAX      512
#define SS_MIGRATION_MAX_BYTES (4 * 1024 * 1024)

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.sql names in dir; caller frees each and the array. */
static int list_sql(const char *dir, char ***names_out, int *n_out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    int n = 0;

    *names_out = NULL;
    *n_out = 0;
    if (d == NULL) {
        SS_ERROR("migrations: cannot open %s", dir);
        return SS_ERR_INTERNAL;
    }
    names = calloc(SS_MIGRATIONS_MAX, sizeof(char *));
    if (names == NULL) {
        closedir(d);
        return SS_ERR_NOMEM;
    }
    while ((e = readdir(d)) != NULL && n < SS_MIGRATIONS_MAX) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0 && e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(char *), cmp_names);
    *names_out = names;
    *n_out = n;
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > SS_MIGRATION_MAX_BYTES ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)len + 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        buf[len] = '\0';
    fclose(f);
    return buf;
}

static int run_plain(PGconn *conn, const char *sql, const char *what)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        SS_ERROR("migrations: %s failed: %s", what, PQerrorMessage(conn));
        rc = SS_ERR_INTERNAL;
    }
    PQclear(r);
    return rc;
}

static int apply_one(ss_dbc *c, const char *schema_q, const char *dir, const char *name)
{
    PGconn *conn = ss_db_conn(c);
    char path[4096];
    char sql[512];
    char *body = NULL;
    const char *params[1] = {name};
    PGresult *r = NULL;
    int rc;

    snprintf(sql, sizeof(sql), "SELECT 1 FROM %s.schema_migrations WHERE version = $1", schema_q);
    r = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        SS_ERROR("migrations: %s", PQerrorMessage(conn));
        PQclear(r);
        return SS_ERR_UNAVAILABLE;
    }
    rc = PQntuples(r);
    PQclear(r);
    if (rc > 0)
        return 0;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    body = slurp(path);
    if (body == NULL) {
        SS_ERROR("migrations: cannot read %s", path);
        return SS_ERR_INTERNAL;
    }
    rc = run_plain(conn, "BEGIN", "BEGIN");
    if (rc == 0)
        rc = run_plain(conn, body, name);
    if (rc == 0) {
        snprintf(sql, sizeof(sql), "INSERT INTO %s.schema_migrations (version) VALUES ($1)",
                 schema_q);
        r = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = SS_ERR_INTERNAL;
        PQclear(r);
    }
    rc = rc == 0 ? run_plain(conn, "COMMIT", "COMMIT")
                 : (run_plain(conn, "ROLLBACK", "ROLLBACK"), rc);
    if (rc == 0)
        SS_INFO("migrations: applied %s", name);
    free(body);
    return rc;
}

int ss_migrate(ss_db *db, const char *schema, const char *dir)
{
    ss_dbc *c = NULL;
    char **names = NULL;
    char *schema_q = NULL;
    char sql[512];
    const char *params[1];
    char lockkey[160];
    int n = 0;
    int rc;

    rc = ss_db_acquire(db, &c);
    if (rc != 0) {
        SS_ERROR("migrations: database unavailable");
        return rc;
    }
    rc = list_sql(dir, &names, &n);
    if (rc != 0)
        goto out;
    schema_q = PQescapeIdentifier(ss_db_conn(c), schema, strlen(schema));
    if (schema_q == NULL) {
        rc = SS_ERR_INTERNAL;
        goto out;
    }
    snprintf(lockkey, sizeof(lockkey), "sesshu.migrate.%s", schema);
    params[0] = lockkey;
    rc = ss_db_exec(c, "SELECT pg_advisory_lock(hashtext($1))", 1, params, NULL);
    if (rc != 0)
        goto out;
    (void)run_plain(ss_db_conn(c), "SET client_min_messages = warning", "client_min_messages");
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS %s.schema_migrations (version text PRIMARY KEY, "
             "applied_at timestamptz NOT NULL DEFAULT now())",
             schema_q);
    rc = run_plain(ss_db_conn(c), sql, "schema_migrations");
    for (int i = 0; rc == 0 && i < n; i++)
        rc = apply_one(c, schema_q, dir, names[i]);
    (void)ss_db_exec(c, "SELECT pg_advisory_unlock(hashtext($1))", 1, params, NULL);
out:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    PQfreemem(schema_q);
    ss_db_release(c);
    return rc;
}
