/* db.c - the PostgreSQL connection pool with automatic prepared statements (db.h).
 *
 * Ownership: the pool owns every connection; a leased ss_dbc belongs to the
 * caller until ss_db_release. Results returned through `out` belong to the
 * caller (PQclear). */
#include "sesshu/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/log.h"

#define SS_DB_PREP_SLOTS 256 /* distinct statements per connection */

struct ss_dbc {
    ss_db *pool;
    PGconn *conn;
    uint64_t prepared[SS_DB_PREP_SLOTS]; /* open addressing; 0 = empty */
    int nprepared;
    char sqlstate[6];
    char constraint[64]; /* PG_DIAG_CONSTRAINT_NAME of the last error, or "" */
    int index;
    bool pinned; /* ss_db_pin: its transaction must not be silently replaced by a new session */
};

struct ss_db {
    char *conninfo;
    int size;
    ss_dbc *conns;
    int *free_stack;
    int nfree;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* The request transaction (ss_db_request_begin): the first connection a write request changes
 * data on keeps one transaction open until the dispatcher adds the access-log row and commits.
 * The handler's own transactions on it become the outer transaction (the first) or savepoints
 * (later ones); statements outside them run under a savepoint, so a failing one costs only
 * itself, as it would have in autocommit. Thread-local: one request per thread. */
static _Thread_local struct {
    bool on;      /* capturing: a write request is running on this thread */
    ss_dbc *held; /* the connection carrying the request's transaction, or NULL */
    bool leased;  /* the handler holds it (between acquire and release) */
    bool htx;     /* the handler believes it is inside a transaction on it */
    bool sp;      /* ... and that transaction is the savepoint ss_h (not the outer one) */
} rq;

static int simple(ss_dbc *c, const char *sql);

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

int ss_db_map_sqlstate(const char *st)
{
    if (st == NULL || st[0] == '\0')
        return SS_ERR_UNAVAILABLE;
    if (strcmp(st, "23505") == 0)
        return SS_ERR_CONFLICT;
    if (strncmp(st, "23", 2) == 0 || strncmp(st, "22", 2) == 0)
        return SS_ERR_VALIDATION;
    if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0)
        return SS_ERR_RETRY;
    /* 25006: a write reached a server that is (now) a standby - a failover: try again later. */
    if (strcmp(st, "25006") == 0)
        return SS_ERR_UNAVAILABLE;
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 || strncmp(st, "53", 2) == 0)
        return SS_ERR_UNAVAILABLE;
    return SS_ERR_INTERNAL;
}

/* The connection string of a service, for servers answering target_session_attrs=attrs. */
static char *conninfo_for(const char *service, const char *attrs)
{
    char uname[96], pname[96], defuser[96];
    char *pw = NULL;
    char *out = NULL;
    const char *user;
    char lower[48];
    size_t i;

    for (i = 0; i < sizeof(lower) - 1 && service[i]; i++)
        lower[i] = (char)((service[i] >= 'A' && service[i] <= 'Z') ? service[i] + 32 : service[i]);
    lower[i] = '\0';
    snprintf(uname, sizeof(uname), SS_ENV_DB_USER_FMT, service);
    snprintf(pname, sizeof(pname), SS_ENV_DB_PASSWORD_FMT, service);
    snprintf(defuser, sizeof(defuser), "sesshu_%s", lower);
    user = ss_cfg_str(uname, defuser);
    pw = ss_cfg_secret(pname);
    /* Values are quoted for libpq: backslash and single quote escaped. */
    {
        const char *vals[5] = {ss_cfg_str(SS_ENV_DB_HOST, "127.0.0.1"),
                               ss_cfg_str(SS_ENV_DB_PORT, "5433"),
                               ss_cfg_str(SS_ENV_DB_NAME, "sesshu"), user, pw ? pw : ""};
        static const char *const keys[5] = {"host", "port", "dbname", "user", "password"};
        size_t cap = 256;
        size_t len = 0;

        for (i = 0; i < 5; i++)
            cap += 2 * strlen(vals[i]) + 16;
        out = malloc(cap);
        if (out == NULL)
            goto out;
        for (i = 0; i < 5; i++) {
            if (i == 4 && pw == NULL)
                break;
            len += (size_t)snprintf(out + len, cap - len, "%s='", keys[i]);
            for (const char *p = vals[i]; *p; p++) {
                if (*p == '\'' || *p == '\\')
                    out[len++] = '\\';
                out[len++] = *p;
            }
            len += (size_t)snprintf(out + len, cap - len, "' ");
        }
        snprintf(out + len, cap - len,
                 "connect_timeout=3 target_session_attrs=%s application_name='sesshu-%s'", attrs,
                 lower);
    }
out:
    if (pw != NULL) {
        memset(pw, 0, strlen(pw));
        free(pw);
    }
    return out;
}

/* SESSHU_DB_HOST and SESSHU_DB_PORT may list several servers ("a,b" and "5432,5432"): libpq
 * tries them in order and keeps the first that fits target_session_attrs. */
static const char *session_attrs(const char *name, const char *def)
{
    static const char *const ok[] = {"any",     "read-write",     "read-only", "primary",
                                     "standby", "prefer-standby", NULL};
    const char *v = ss_cfg_str(name, def);

    for (int i = 0; ok[i] != NULL; i++)
        if (strcmp(v, ok[i]) == 0)
            return v;
    SS_WARN("configuration: %s is not a target_session_attrs value; using %s", name, def);
    return def;
}

char *ss_db_conninfo(const char *service)
{
    return conninfo_for(service, session_attrs(SS_ENV_DB_TARGET, "read-write"));
}

char *ss_db_conninfo_read(const char *service)
{
    return conninfo_for(service, session_attrs(SS_ENV_DB_READ_TARGET, "prefer-standby"));
}

int ss_db_open(ss_db **out, const char *conninfo, int size)
{
    ss_db *db = NULL;

    *out = NULL;
    if (size < 1 || size > 256)
        return SS_ERR_VALIDATION;
    db = calloc(1, sizeof(*db));
    if (db == NULL)
        return SS_ERR_NOMEM;
    db->conninfo = strdup(conninfo);
    db->conns = calloc((size_t)size, sizeof(ss_dbc));
    db->free_stack = calloc((size_t)size, sizeof(int));
    if (db->conninfo == NULL || db->conns == NULL || db->free_stack == NULL) {
        ss_db_close(db);
        return SS_ERR_NOMEM;
    }
    db->size = size;
    for (int i = 0; i < size; i++) {
        db->conns[i].pool = db;
        db->conns[i].index = i;
        db->free_stack[i] = i;
    }
    db->nfree = size;
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->cv, NULL);
    *out = db;
    return 0;
}

void ss_db_close(ss_db *db)
{
    if (db == NULL)
        return;
    for (int i = 0; db->conns != NULL && i < db->size; i++)
        if (db->conns[i].conn != NULL)
            PQfinish(db->conns[i].conn);
    if (db->size > 0) {
        pthread_mutex_destroy(&db->mu);
        pthread_cond_destroy(&db->cv);
    }
    free(db->conns);
    free(db->free_stack);
    free(db->conninfo);
    free(db);
}

static void forget_prepared(ss_dbc *c)
{
    memset(c->prepared, 0, sizeof(c->prepared));
    c->nprepared = 0;
}

/* Make sure the connection is usable: connect or reset as needed. */
static int ensure_conn(ss_dbc *c)
{
    if (c->conn != NULL && PQstatus(c->conn) == CONNECTION_OK)
        return 0;
    if ((rq.on && c == rq.held) || c->pinned) {
        /* The request's transaction died with its connection: no statement may run on a fresh
         * session as if it were still part of it. The dispatcher sees the transaction gone. */
        snprintf(c->sqlstate, sizeof(c->sqlstate), "08006");
        return SS_ERR_UNAVAILABLE;
    }
    forget_prepared(c);
    if (c->conn == NULL)
        c->conn = PQconnectdb(c->pool->conninfo);
    else
        PQreset(c->conn);
    if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
        snprintf(c->sqlstate, sizeof(c->sqlstate), "08006");
        return SS_ERR_UNAVAILABLE;
    }
    return 0;
}

int ss_db_acquire(ss_db *db, ss_dbc **out)
{
    struct timespec ts;
    ss_dbc *c;
    int rc = 0;

    *out = NULL;
    if (rq.on && rq.held != NULL && !rq.leased && rq.held->pool == db) {
        rq.leased = true;
        *out = rq.held;
        return 0;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&db->mu);
    while (db->nfree == 0 && rc == 0)
        rc = pthread_cond_timedwait(&db->cv, &db->mu, &ts);
    if (db->nfree == 0) {
        pthread_mutex_unlock(&db->mu);
        return SS_ERR_UNAVAILABLE;
    }
    c = &db->conns[db->free_stack[--db->nfree]];
    pthread_mutex_unlock(&db->mu);
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    if (ensure_conn(c) != 0) {
        ss_db_release(c);
        return SS_ERR_UNAVAILABLE;
    }
    *out = c;
    return 0;
}

void ss_db_release(ss_dbc *c)
{
    ss_db *db;

    if (c == NULL)
        return;
    db = c->pool;
    if (rq.on && c == rq.held) {
        /* A transaction left open by the handler ends as it would have: rolled back. */
        if (rq.htx)
            (void)ss_db_rollback(c);
        if (rq.held == c) { /* still carrying changes: kept for the dispatcher */
            rq.leased = false;
            return;
        }
    }
    if (c->conn != NULL && PQstatus(c->conn) == CONNECTION_OK &&
        PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c->conn, "ROLLBACK");
        PQclear(r);
    }
    c->pinned = false;
    pthread_mutex_lock(&db->mu);
    db->free_stack[db->nfree++] = c->index;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

static bool is_prepared(const ss_dbc *c, uint64_t h)
{
    for (unsigned i = (unsigned)(h % SS_DB_PREP_SLOTS), n = 0; n < SS_DB_PREP_SLOTS;
         i = (i + 1) % SS_DB_PREP_SLOTS, n++) {
        if (c->prepared[i] == h)
            return true;
        if (c->prepared[i] == 0)
            return false;
    }
    return false;
}

static void mark_prepared(ss_dbc *c, uint64_t h)
{
    if (c->nprepared >= SS_DB_PREP_SLOTS * 3 / 4)
        return; /* table full: such statements are simply re-prepared under a fresh name */
    for (unsigned i = (unsigned)(h % SS_DB_PREP_SLOTS);; i = (i + 1) % SS_DB_PREP_SLOTS) {
        if (c->prepared[i] == 0) {
            c->prepared[i] = h;
            c->nprepared++;
            return;
        }
    }
}

static int result_error(ss_dbc *c, PGresult *res)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cn = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;

    if (st == NULL && PQstatus(c->conn) != CONNECTION_OK)
        st = "08006";
    snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", st ? st : "XX000");
    snprintf(c->constraint, sizeof(c->constraint), "%s", cn ? cn : "");
    if (strcmp(c->sqlstate, "25006") == 0) {
        /* The server was demoted under this session: drop it, the next lease dials the list
         * of servers again and finds the new primary. */
        PQfinish(c->conn);
        c->conn = NULL;
        forget_prepared(c);
    }
    return ss_db_map_sqlstate(c->sqlstate);
}

static int exec_once(ss_dbc *c, const char *sql, int n, const char *const *params, PGresult **out)
{
    uint64_t h = fnv1a(sql);
    char name[24];
    PGresult *res = NULL;
    ExecStatusType st;

    snprintf(name, sizeof(name), "ss_%016llx", (unsigned long long)h);
    if (!is_prepared(c, h)) {
        res = PQprepare(c->conn, name, sql, n, NULL);
        st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st != PGRES_COMMAND_OK) {
            /* 42P05: prepared under this name before the table filled up. */
            const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
            if (code == NULL || strcmp(code, "42P05") != 0) {
                int err = result_error(c, res);
                PQclear(res);
                return err;
            }
        }
        PQclear(res);
        mark_prepared(c, h);
    }
    res = PQexecPrepared(c->conn, name, n, params, NULL, NULL, 0);
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int err = result_error(c, res);
        PQclear(res);
        return err;
    }
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return 0;
}

/* Does the statement change data (its first word)? Reads need no transaction of their own. */
static bool is_write_sql(const char *sql)
{
    static const char *const words[] = {"INSERT", "UPDATE", "DELETE", "WITH", "MERGE", NULL};

    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    for (int i = 0; words[i] != NULL; i++)
        if (strncasecmp(sql, words[i], strlen(words[i])) == 0)
            return true;
    return false;
}

static int exec_plain(ss_dbc *c, const char *sql, int nparams, const char *const *params,
                      PGresult **out);

/* ss_db_exec inside a write request (rq.on). */
static int exec_captured(ss_dbc *c, const char *sql, int nparams, const char *const *params,
                         PGresult **out)
{
    int rc;

    if (c == rq.held && !rq.htx) {
        /* After the handler's commit: this statement alone, under a savepoint. */
        if ((rc = simple(c, "SAVEPOINT ss_s")) != 0)
            return rc;
        rc = exec_plain(c, sql, nparams, params, out);
        if (rc != 0 && PQstatus(c->conn) == CONNECTION_OK) {
            char st[6];

            memcpy(st, c->sqlstate, sizeof(st));
            (void)simple(c, "ROLLBACK TO SAVEPOINT ss_s");
            memcpy(c->sqlstate, st, sizeof(st));
        }
        if (PQstatus(c->conn) == CONNECTION_OK)
            (void)simple(c, "RELEASE SAVEPOINT ss_s");
        return rc;
    }
    if (rq.held == NULL && PQtransactionStatus(c->conn) == PQTRANS_IDLE && is_write_sql(sql)) {
        /* An autocommit change: it becomes the request's transaction. */
        if ((rc = simple(c, "BEGIN")) != 0)
            return rc;
        rc = exec_plain(c, sql, nparams, params, out);
        if (rc != 0) {
            char st[6];

            memcpy(st, c->sqlstate, sizeof(st));
            if (PQstatus(c->conn) == CONNECTION_OK)
                (void)simple(c, "ROLLBACK");
            memcpy(c->sqlstate, st, sizeof(st));
            return rc;
        }
        rq.held = c;
        rq.leased = true;
        rq.htx = false;
        rq.sp = false;
        return 0;
    }
    return exec_plain(c, sql, nparams, params, out);
}

int ss_db_exec(ss_dbc *c, const char *sql, int nparams, const char *const *params, PGresult **out)
{
    if (out != NULL)
        *out = NULL;
    if (ensure_conn(c) != 0)
        return SS_ERR_UNAVAILABLE;
    if (rq.on)
        return exec_captured(c, sql, nparams, params, out);
    return exec_plain(c, sql, nparams, params, out);
}

static int exec_plain(ss_dbc *c, const char *sql, int nparams, const char *const *params,
                      PGresult **out)
{
    bool in_tx;
    int rc;

    in_tx = PQtransactionStatus(c->conn) != PQTRANS_IDLE;
    rc = exec_once(c, sql, nparams, params, out);
    /* A connection lost outside a transaction is retried once on a fresh one
     * (the database restarted); inside a transaction the work is lost. */
    if (rc == SS_ERR_UNAVAILABLE && !in_tx && PQstatus(c->conn) != CONNECTION_OK &&
        ensure_conn(c) == 0)
        rc = exec_once(c, sql, nparams, params, out);
    return rc;
}

static int simple(ss_dbc *c, const char *sql)
{
    PGresult *res;
    int rc = 0;

    if (ensure_conn(c) != 0)
        return SS_ERR_UNAVAILABLE;
    res = PQexec(c->conn, sql);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = result_error(c, res);
    PQclear(res);
    return rc;
}

int ss_db_command(ss_dbc *c, const char *sql)
{
    return simple(c, sql);
}

void ss_db_pin(ss_dbc *c, bool on)
{
    c->pinned = on;
}

int ss_db_begin(ss_dbc *c)
{
    int rc;

    if (!rq.on)
        return simple(c, "BEGIN");
    if (c == rq.held) {
        if (rq.htx)
            return 0; /* BEGIN inside a transaction: a no-op, as in PostgreSQL */
        if ((rc = simple(c, "SAVEPOINT ss_h")) == 0)
            rq.htx = rq.sp = true;
        return rc;
    }
    if ((rc = simple(c, "BEGIN")) == 0 && rq.held == NULL) {
        rq.held = c;
        rq.leased = true;
        rq.htx = true;
        rq.sp = false;
    }
    return rc;
}

/* The held connection's transaction is given up (rolled back): nothing to carry. */
static void drop_held(void)
{
    rq.held = NULL;
    rq.htx = rq.sp = false;
}

int ss_db_commit(ss_dbc *c)
{
    if (!rq.on || c != rq.held)
        return simple(c, "COMMIT");
    if (!rq.htx)
        return 0;
    if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
        drop_held();
        snprintf(c->sqlstate, sizeof(c->sqlstate), "08006");
        return SS_ERR_UNAVAILABLE;
    }
    if (PQtransactionStatus(c->conn) == PQTRANS_INERROR) {
        /* COMMIT of a failed transaction rolls it back (and PostgreSQL reports success). */
        rq.htx = false;
        if (rq.sp) {
            rq.sp = false;
            (void)simple(c, "ROLLBACK TO SAVEPOINT ss_h");
            return simple(c, "RELEASE SAVEPOINT ss_h");
        }
        drop_held();
        return simple(c, "ROLLBACK");
    }
    rq.htx = false;
    if (rq.sp) {
        rq.sp = false;
        return simple(c, "RELEASE SAVEPOINT ss_h");
    }
    return 0; /* the outer transaction: committed by the dispatcher with its log row */
}

int ss_db_rollback(ss_dbc *c)
{
    if (!rq.on || c != rq.held)
        return simple(c, "ROLLBACK");
    if (rq.htx && rq.sp) {
        int rc = simple(c, "ROLLBACK TO SAVEPOINT ss_h");

        rq.htx = rq.sp = false;
        return rc != 0 ? rc : simple(c, "RELEASE SAVEPOINT ss_h");
    }
    if (!rq.htx)
        return 0; /* nothing of the handler's is open */
    drop_held();
    return simple(c, "ROLLBACK");
}

void ss_db_request_begin(void)
{
    memset(&rq, 0, sizeof(rq));
    rq.on = true;
}

ss_dbc *ss_db_request_end(void)
{
    ss_dbc *c = rq.held;

    if (c != NULL && rq.htx) {
        /* The handler never committed: its work is rolled back, as on release. */
        (void)ss_db_rollback(c);
        c = rq.held;
    }
    memset(&rq, 0, sizeof(rq));
    return c;
}

int ss_db_query(ss_db *db, const char *sql, int nparams, const char *const *params, PGresult **out)
{
    ss_dbc *c = NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    rc = ss_db_acquire(db, &c);
    if (rc != 0)
        return rc;
    rc = ss_db_exec(c, sql, nparams, params, out);
    ss_db_release(c);
    return rc;
}

void ss_db_discard(ss_dbc *c)
{
    if (c->conn != NULL && !(rq.on && c == rq.held)) {
        PQfinish(c->conn);
        c->conn = NULL;
        forget_prepared(c);
    }
}

const char *ss_db_sqlstate(const ss_dbc *c)
{
    return c->sqlstate;
}

int ss_db_conn_index(const ss_dbc *c)
{
    return c->index;
}

const char *ss_db_constraint(const ss_dbc *c)
{
    return c->constraint;
}

PGconn *ss_db_conn(ss_dbc *c)
{
    return c->conn;
}

int ss_db_ping(ss_db *db)
{
    return ss_db_query(db, "SELECT 1", 0, NULL, NULL) == 0 ? 0 : SS_ERR_UNAVAILABLE;
}

const char *ss_db_val(const PGresult *r, int row, int col)
{
    if (r == NULL || row >= PQntuples(r) || col >= PQnfields(r) || PQgetisnull(r, row, col))
        return NULL;
    return PQgetvalue(r, row, col);
}
