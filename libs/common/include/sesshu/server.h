/* server.h - a service: its table of routes, hooks and commands, and its lifecycle (split from
 * http.h, issue 16 §4). */
#ifndef SESSHU_SERVER_H
#define SESSHU_SERVER_H

#include "sesshu/db.h"
#include "sesshu/http.h"
#include "sesshu/services.h" /* SS_PORT_<NAME>, from services/registry.tsv */

typedef struct ss_service {
    const char *name;           /* "account" */
    const char *env_name;       /* "ACCOUNT": SESSHU_ACCOUNT_PORT, SESSHU_ACCOUNT_DB_USER ... */
    const char *schema;         /* database schema it owns, e.g. "account" */
    int default_port;           /* 8101 */
    const char *migrations_dir; /* compiled default (SS_MIGRATIONS_DIR), env SESSHU_MIGRATIONS_DIR
                                   overrides */
    const ss_route *routes;     /* terminated by a route with method NULL */
    /* Optional hooks; each returns 0 or a negative SS_ERR_*. */
    int (*init)(ss_db *db); /* after migrations, before listening */
    void (*shutdown)(void); /* after the server stopped */
    /* Optional command-line subcommands: returns exit status, or -1 if
     * argv[1] is not one of this service's commands. Called after init. */
    int (*command)(ss_db *db, int argc, char **argv);
    /* Largest body a SS_ROUTE_RAW_BODY route of this service may receive (bytes; 0 = the
     * library limit). The handler checks it (ss_req_raw_body); JSON bodies keep the library
     * limit (SESSHU_MAX_BODY_BYTES) whatever this says. */
    long raw_body_max;
} ss_service;

/* Parse config, start logs, pool, migrations, audit writer, key store,
 * init hook; then either run a subcommand or serve until SIGINT/SIGTERM.
 * Returns the process exit status. */
int ss_server_run(const ss_service *svc, int argc, char **argv);

/* For in-process tests: do everything ss_server_run does before serving,
 * then serve on `port` (0 = the configured port) from background threads
 * and return once listening. Stop with ss_server_stop(). */
int ss_server_start(const ss_service *svc, int port);
void ss_server_stop(void);

/* The service's pool (valid inside handlers and hooks). */
ss_db *ss_server_db(void);
/* A pool for heavy reads that may lag: a standby when SESSHU_DB_HOST lists one
 * (ss_db_conninfo_read); use it through ss_db_query_read. */
ss_db *ss_server_read_db(void);

#endif
