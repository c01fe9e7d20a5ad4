/* server.c - process start-up, the ulfius/MHD server, health and metrics (http.h).
 *
 * Start-up order: logs, config, pool, migrations, JWT keys, revocation
 * poller, audit writer, the service's init hook, then either a subcommand
 * or the server (libmicrohttpd's epoll internal thread with a thread pool:
 * docs/architecture.md §10.1 and §10.2). */
#include <arpa/inet.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_internal.h"
#include "sesshu/audit.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/group.h"
#include "sesshu/jwt.h"
#include "sesshu/log.h"
#include "sesshu/migrate.h"
#include "sesshu/server.h"

static const ss_route builtin_routes[] = {
    {"GET", "/healthz", ss_h_healthz, SS_PERM_PUBLIC, SS_ROUTE_NO_AUDIT, NULL},
    {"GET", "/readyz", ss_h_readyz, SS_PERM_PUBLIC, SS_ROUTE_NO_AUDIT, NULL},
    {"GET", "/metrics", ss_h_metrics, SS_PERM_PUBLIC, SS_ROUTE_NO_AUDIT, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};

static struct _u_instance inst;
static bool inst_started;
static ss_db *g_db;
static ss_db *g_read_db; /* heavy reads, prefer-standby; connects on first use */
static ss_route_ctx ctxs[SS_MAX_ROUTES + 4];
static ss_route_ctx default_ctx;
static struct sockaddr_in bind_addr;
static bool audit_started, poller_started;
static const ss_service *g_svc;

ss_db *ss_server_db(void)
{
    return g_db;
}

ss_db *ss_server_read_db(void)
{
    return g_read_db;
}

int ss_h_healthz(ss_req *r)
{
    return ss_reply_json_new(r, 200, json_pack("{s:s}", "status", "ok"));
}

int ss_h_readyz(ss_req *r)
{
    if (ss_db_ping(g_db) != 0)
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "database unreachable");
    return ss_reply_json_new(r, 200, json_pack("{s:s}", "status", "ready"));
}

int ss_h_metrics(ss_req *r)
{
    char *text = ss_metrics_render();
    int rc;

    if (text == NULL)
        return SS_ERR_NOMEM;
    rc = ss_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
    return rc;
}

static int add_routes(const ss_service *svc, const ss_route *routes, int *n)
{
    for (const ss_route *rt = routes; rt->method != NULL; rt++) {
        ss_route_ctx *c;

        if (*n >= SS_MAX_ROUTES) {
            SS_ERROR("%s: too many routes", svc->name);
            return SS_ERR_INTERNAL;
        }
        c = &ctxs[*n];
        *c = (ss_route_ctx){.route = rt, .svc = svc, .index = *n};
        ss_metrics_route_name(*n, rt->method, rt->path);
        /* ulfius calls every matching endpoint by priority (0 first) until one completes:
         * a static path wins over a :param pattern of the same shape. */
        /* Every GET answers HEAD too (RFC 9110 9.3.2): the same handler, and libmicrohttpd
         * sends the headers without the body. */
        int verbs = strcmp(rt->method, "GET") == 0 ? 2 : 1;

        for (int head = 0; head < verbs; head++) {
            if (ulfius_add_endpoint_by_val(&inst, head ? "HEAD" : rt->method, NULL, rt->path,
                                           strchr(rt->path, ':') != NULL ? 1 : 0, ss_dispatch,
                                           c) != U_OK) {
                SS_ERROR("%s: cannot add route %s %s", svc->name, rt->method, rt->path);
                return SS_ERR_INTERNAL;
            }
        }
        (*n)++;
    }
    return 0;
}

/* A service signs with its own key, SESSHU_<SERVICE>_SIGNING_KEY_FILE (account: sessions,
 * token: client and vaccinee tokens), else SESSHU_JWT_SIGNING_KEY_FILE; a service without
 * either signs nothing (jwt.h: each token kind only from its issuer's key). */
static const char *own_signing_key(const ss_service *svc)
{
    char name[96];
    const char *own;

    snprintf(name, sizeof(name), "SESSHU_%s_SIGNING_KEY_FILE", svc->env_name);
    if ((own = getenv(name)) != NULL && own[0] != '\0')
        return own;
    return ss_cfg_str(SS_ENV_JWT_KEY, NULL);
}

/* A service started while the database is down waits for it (every 250 ms, saying so once)
 * instead of exiting: a restart of PostgreSQL must not leave services down. */
static int wait_for_database(const ss_service *svc)
{
    bool said = false;

    while (ss_db_ping(g_db) != 0) {
        struct timespec ts = {0, 250 * 1000000L};

        if (!said)
            SS_WARN("%s: database unavailable; waiting for it", svc->name);
        said = true;
        nanosleep(&ts, NULL);
    }
    if (said)
        SS_INFO("%s: database available", svc->name);
    return 0;
}

/* Everything before listening: config, pool, migrations, keys, writer, hook. */
static int prepare(const ss_service *svc)
{
    char *conninfo = NULL;
    const char *mdir;
    long pool = 4;
    int rc;

    g_svc = svc;
    /* Two malloc arenas: argon2id's 19 MiB block is then reused from a couple of
     * arenas (no page faults per login) instead of cached in each of 32 threads'; RSS
     * after a login burst is ~130 MB (14 MB idle), login runs ~0.75 of the raw hash rate. */
    mallopt(M_ARENA_MAX, 2);
    if (ss_log_init(svc->name) != 0)
        return SS_ERR_INTERNAL;
    if ((rc = ss_cfg_long(SS_ENV_DB_POOL, 4, 1, 64, &pool)) != 0)
        return rc;
    conninfo = ss_db_conninfo(svc->env_name);
    if (conninfo == NULL)
        return SS_ERR_NOMEM;
    rc = ss_db_open(&g_db, conninfo, (int)pool);
    if (rc == 0) {
        char *rinfo = ss_db_conninfo_read(svc->env_name);

        rc = rinfo != NULL ? ss_db_open(&g_read_db, rinfo, (int)pool) : SS_ERR_NOMEM;
        free(rinfo);
    }
    if (rc == 0) {
        mdir = ss_cfg_str(SS_ENV_MIGRATIONS, svc->migrations_dir);
        rc = wait_for_database(svc);
        if (rc == 0)
            rc = mdir != NULL ? ss_migrate(g_db, svc->schema, mdir) : 0;
        if (rc != 0)
            SS_ERROR("%s: migrations failed", svc->name);
    }
    if (rc == 0 && (rc = ss_jwt_init_key(own_signing_key(svc), false)) != 0)
        SS_ERROR("%s: no usable JWT keys", svc->name);
    if (rc == 0 && (rc = ss_jwt_start_revocation_poller(g_db)) == 0)
        poller_started = true;
    if (rc == 0 && (rc = ss_audit_start(conninfo)) == 0)
        audit_started = true;
    else if (rc != 0 && !audit_started)
        SS_ERROR("%s: cannot start the access-log writer", svc->name);
    if (rc == 0 && svc->init != NULL && (rc = svc->init(g_db)) != 0)
        SS_ERROR("%s: initialisation failed (%s)", svc->name, ss_err_name(rc));
    free(conninfo);
    return rc;
}

static int listen_on(const ss_service *svc, int port)
{
    long threads = 32, maxconn = 4096, timeout = 30, maxbody = 0;
    const char *bind = ss_cfg_str(SS_ENV_BIND, "127.0.0.1");
    int n = 0;
    int rc;

    if ((rc = ss_cfg_long(SS_ENV_THREADS, 32, 1, 256, &threads)) != 0 ||
        (rc = ss_cfg_long(SS_ENV_MAX_CONN, 4096, 16, 1000000, &maxconn)) != 0 ||
        (rc = ss_cfg_long(SS_ENV_CONN_TIMEOUT, 30, 1, 3600, &timeout)) != 0)
        return rc;
    maxbody = ss_http_max_body();
    if (svc->raw_body_max > maxbody)
        maxbody = svc->raw_body_max;
    memset(&bind_addr, 0, sizeof(bind_addr));
    bind_addr.sin_family = AF_INET;
    bind_addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind, &bind_addr.sin_addr) != 1) {
        SS_ERROR("configuration: %s must be an IPv4 address", SS_ENV_BIND);
        return SS_ERR_VALIDATION;
    }
    if (ulfius_init_instance(&inst, (unsigned)port, &bind_addr, NULL) != U_OK)
        return SS_ERR_INTERNAL;
    /* One byte over the limit lets the dispatcher tell "too large" from "exactly the limit". */
    inst.max_post_body_size = (size_t)maxbody + 1;
    ss_metrics_init(svc, SS_MAX_ROUTES);
    if ((rc = add_routes(svc, svc->routes, &n)) != 0 ||
        (rc = add_routes(svc, builtin_routes, &n)) != 0)
        return rc;
    default_ctx = (ss_route_ctx){.route = NULL, .svc = svc, .index = SS_MAX_ROUTES - 1};
    ss_metrics_route_name(SS_MAX_ROUTES - 1, "ANY", "(unmatched)");
    ulfius_set_default_endpoint(&inst, ss_dispatch, &default_ctx);
    {
        struct MHD_OptionItem ops[] = {
            {MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
            {MHD_OPTION_CONNECTION_LIMIT, maxconn, NULL},
            {MHD_OPTION_CONNECTION_TIMEOUT, timeout, NULL},
            {MHD_OPTION_SOCK_ADDR, 0, &bind_addr},
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
            {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
            {MHD_OPTION_END, 0, NULL},
        };
        if (ulfius_start_framework_with_mhd_options(
                &inst, MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG, ops) !=
            U_OK) {
            SS_ERROR("%s: cannot listen on %s:%d", svc->name, bind, port);
            ulfius_clean_instance(&inst);
            return SS_ERR_INTERNAL;
        }
    }
    inst_started = true;
    return 0;
}

static int configured_port(const ss_service *svc, long *port)
{
    char name[96];

    snprintf(name, sizeof(name), SS_ENV_PORT_FMT, svc->env_name);
    return ss_cfg_long(name, svc->default_port, 0, 65535, port);
}

int ss_server_start(const ss_service *svc, int port)
{
    long p = port;
    int rc;

    if (ss_log_init(svc->name) != 0)
        return SS_ERR_INTERNAL;
    if (port == 0 && (rc = configured_port(svc, &p)) != 0)
        return rc;
    if ((rc = prepare(svc)) != 0)
        return rc;
    return listen_on(svc, (int)p);
}

void ss_server_stop(void)
{
    if (inst_started) {
        ulfius_stop_framework(&inst);
        ulfius_clean_instance(&inst);
        inst_started = false;
    }
    ss_group_stop(); /* the group commit's lanes (group.h): no request waits on them now */
    /* The service's threads go before the pool they use. */
    if (g_svc != NULL && g_svc->shutdown != NULL)
        g_svc->shutdown();
    g_svc = NULL;
    if (poller_started) {
        ss_jwt_stop_revocation_poller();
        poller_started = false;
    }
    if (audit_started) {
        ss_audit_stop();
        audit_started = false;
    }
    ss_jwt_shutdown();
    ss_db_close(g_db);
    g_db = NULL;
    ss_db_close(g_read_db);
    g_read_db = NULL;
    ss_log_close();
}

int ss_server_run(const ss_service *svc, int argc, char **argv)
{
    sigset_t set;
    long port = 0;
    int sig = 0;
    int rc;

    /* Block the stop signals in every thread; main waits for them below. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (ss_log_init(svc->name) != 0)
        return 1;
    if ((rc = configured_port(svc, &port)) != 0 || (rc = prepare(svc)) != 0) {
        ss_server_stop();
        return 1;
    }
    if (argc > 1) {
        rc = svc->command != NULL ? svc->command(g_db, argc, argv) : -1;
        if (rc < 0)
            SS_ERROR("%s: unknown command %s", svc->name, argv[1]);
        ss_server_stop();
        return rc < 0 ? 2 : rc;
    }
    if (listen_on(svc, (int)port) != 0) {
        ss_server_stop();
        return 1;
    }
    SS_INFO("%s listening on %s:%ld", svc->name, ss_cfg_str(SS_ENV_BIND, "127.0.0.1"), port);
    sigwait(&set, &sig);
    SS_INFO("%s stopping (signal %d)", svc->name, sig);
    ss_server_stop();
    return 0;
}
