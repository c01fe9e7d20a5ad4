/* db.h - the PostgreSQL pool.
 *
 * A fixed pool of libpq connections (not one connection behind a mutex).
 * Statements are always parameterised ($1..$n) and prepared once per
 * connection automatically (named by a hash of the SQL text). SQLSTATEs map
 * to SS_ERR_* once, here: 23505 -> CONFLICT, 23503/23514/22xxx -> VALIDATION,
 * 40001/40P01 -> RETRY, 08xxx / lost connection -> UNAVAILABLE.
 * A broken connection is reset on next use; while the database is down,
 * calls return SS_ERR_UNAVAILABLE (503), never crash. */
#ifndef SESSHU_DB_H
#define SESSHU_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct ss_db ss_db;   /* the pool */
typedef struct ss_dbc ss_dbc; /* one leased connection */

/* Open a pool of `size` connections with a libpq conninfo string. The
 * connections are made lazily; opening never fails because the database is
 * down. *out is freed with ss_db_close(). */
int ss_db_open(ss_db **out, const char *conninfo, int size);
/* Conninfo for a service from the SESSHU_DB_* variables; malloc'd, caller
 * frees. `service` is the upper-case service name, e.g. "ACCOUNT". With several
 * servers in SESSHU_DB_HOST/SESSHU_DB_PORT it reaches the one that takes writes
 * (target_session_attrs=read-write, SESSHU_DB_TARGET_SESSION_ATTRS): after a
 * failover a dropped connection redials the list and finds the new primary. */
char *ss_db_conninfo(const char *service);
/* The same for heavy reads that may lag (statistics): prefer a standby
 * (SESSHU_DB_READ_TARGET_SESSION_ATTRS, default prefer-standby). */
char *ss_db_conninfo_read(const char *service);

/* Close a leased connection's session (not the request's transaction): its next lease dials
 * the server list again (a read pool that sits on a primary looks for a standby). */
void ss_db_discard(ss_dbc *c);
/* Where a ss_db_query_read ran: on a standby, and its replay lag then (ms; 0 on the primary). */
typedef struct {
    bool standby;
    long lag_ms;
} ss_db_read_info;
/* ss_db_query on the `read` pool (ss_db_conninfo_read: a standby if there is one) when its
 * replay lag is known and at most max_lag_ms, else on `primary`. info says which it was. */
int ss_db_query_read(ss_db *read, ss_db *primary, long max_lag_ms, const char *sql, int nparams,
                     const char *const *params, PGresult **out, ss_db_read_info *info);
void ss_db_close(ss_db *db); /* NULL-safe */

/* Lease a connection (waits up to 5 s for a free one). Returns 0 or
 * SS_ERR_UNAVAILABLE. Give it back with ss_db_release(). */
int ss_db_acquire(ss_db *db, ss_dbc **out);
/* NULL-safe. Rolls back an open transaction first. */
void ss_db_release(ss_dbc *c);

/* Run a parameterised statement on a leased connection. params may hold
 * NULLs (SQL NULL). On success *out (if out not NULL) receives the result,
 * which the caller frees with PQclear; on error *out is NULL. */
int ss_db_exec(ss_dbc *c, const char *sql, int nparams, const char *const *params, PGresult **out);
int ss_db_begin(ss_dbc *c);
int ss_db_commit(ss_dbc *c);
int ss_db_rollback(ss_dbc *c);
/* A transaction-control command without parameters, in the simple protocol (several may be
 * joined with ';': "RELEASE SAVEPOINT g; SAVEPOINT g" is one round trip). Not captured by a
 * request transaction: for a connection the caller runs its own transaction on (group.c). */
int ss_db_command(ss_dbc *c, const char *sql);
/* While pinned, a connection found lost is not redialled: statements on it fail (08006), as its
 * transaction is gone, rather than run on a fresh session in autocommit. Unpin before release. */
void ss_db_pin(ss_dbc *c, bool on);

/* The request transaction of a write request (the dispatcher's, see dispatch.c): between
 * ss_db_request_begin and ss_db_request_end on this thread, the first connection that changes
 * data (a BEGIN, or an INSERT/UPDATE/DELETE/WITH/MERGE outside a transaction) keeps its
 * transaction open: the handler's COMMIT of it is deferred, later transactions on it become
 * savepoints, later statements run each under a savepoint, and ss_db_acquire hands the same
 * connection back while the handler does not hold it. ss_db_request_end returns that connection
 * (still in its transaction, or failed) or NULL; the caller adds the access-log row, commits or
 * rolls back (capture is off by then) and releases it. Other threads are unaffected. */
void ss_db_request_begin(void);
ss_dbc *ss_db_request_end(void);

/* One statement on the pool: acquire, exec, release. */
int ss_db_query(ss_db *db, const char *sql, int nparams, const char *const *params, PGresult **out);

/* SQLSTATE of the last error on this connection ("" if none). */
const char *ss_db_sqlstate(const ss_dbc *c);
/* The connection's place in its pool (0 .. size-1): stable for the pool's life, used by no
 * other connection of the pool at the same time (the access log's writer streams). */
int ss_db_conn_index(const ss_dbc *c);
/* The constraint the last error on this connection violated (PG_DIAG_CONSTRAINT_NAME), or "".
 * Map it with ss_sql_constraint_error (sql.h), never by searching the message. */
const char *ss_db_constraint(const ss_dbc *c);
/* The raw libpq connection, for COPY and the like. Do not close it. */
PGconn *ss_db_conn(ss_dbc *c);

/* Is the database reachable? (SELECT 1) 0 or SS_ERR_UNAVAILABLE. */
int ss_db_ping(ss_db *db);

/* Map a SQLSTATE to an SS_ERR_* code. */
int ss_db_map_sqlstate(const char *sqlstate);

/* Helpers on results: value or NULL for SQL NULL. */
const char *ss_db_val(const PGresult *r, int row, int col);

#endif
