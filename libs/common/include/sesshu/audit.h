/* audit.h - access-log emission with group commit.
 *
 * Every request writes one row to audit.access_log (schema owned by the
 * audit service; every service role is a member of sesshu_audit_writer,
 * which may only INSERT and call audit.append). A writer thread with its own connection takes
 * every row queued so far, inserts them in one transaction, commits once
 * and wakes each waiting request: each request still waits for its own
 * row's commit, but N requests share one WAL flush. The database links
 * each batch into the hash chain of this writer's own stream, under that
 * stream's lock only, in the one statement (audit.append, audit_batch.h;
 * services/audit/migrations/007): no lock is shared by all writers. */
#ifndef SESSHU_AUDIT_H
#define SESSHU_AUDIT_H

#include <stdbool.h>

#include "sesshu/db.h"

typedef struct ss_audit_row {
    const char *request_id;
    const char *service;
    const char *actor_kind;  /* "user", "client", "anonymous", "system" */
    const char *actor_id;    /* user uuid / client id, or NULL */
    const char *actor_login; /* login id or NULL */
    const char *org_id;      /* actor's organisation, or NULL */
    const char *org_type;    /* wire name, or NULL */
    const char *muni_code;   /* actor's municipality, or NULL */
    const char *role;        /* "admin"/"user", or NULL */
    const char *method;
    const char *route;          /* route template, e.g. /api/v1/users/:id */
    const char *path;           /* actual path (no query string) */
    const char *res_type;       /* resource type or NULL */
    const char *res_id;         /* resource id or NULL */
    const char *person_id;      /* person concerned or NULL */
    const char *subject_org_id; /* organisation the resource belongs to, or NULL */
    const char *subject_muni;   /* municipality the resource/person belongs to, or NULL */
    int status;
    const char *client_ip;
    long long duration_us;
} ss_audit_row;

/* Start the writer on its own connection (conninfo copied). */
int ss_audit_start(const char *conninfo);
void ss_audit_stop(void);
/* Announce that this thread will write a row soon (the dispatcher calls it
 * when a request starts): the writer may wait up to SESSHU_AUDIT_LINGER_US
 * (default 200, 0 = never) for announced rows before it commits a batch.
 * The next ss_audit_write on this thread takes the announcement back. */
void ss_audit_expect(void);
/* Queue the row and wait until it is committed (or failed). Strings are
 * copied before return. 0, or SS_ERR_UNAVAILABLE if the commit failed or
 * did not happen within SESSHU_AUDIT_TIMEOUT_MS (default 5000). */
int ss_audit_write(const ss_audit_row *row);
/* Take the announcement back without a row through the writer: this thread's row went into its
 * change's transaction instead (the writer need not linger for it). */
void ss_audit_unexpect(void);

/* The row of a write request, in the request's own transaction on c (ss_db_request_end): it
 * commits with the change or not at all. 0 or an SS_ERR_* code (the transaction is then failed:
 * roll it back). */
int ss_audit_insert_tx(ss_dbc *c, const ss_audit_row *row);
/* The rows of several changes that share c's transaction (group.h), in one audit.append. */
#define SS_AUDIT_TX_ROWS_MAX 64
int ss_audit_insert_tx_rows(ss_dbc *c, const ss_audit_row *const *rows, int n);
/* After a COMMIT whose answer was lost: did the row of request_id (service) commit? Rows of the
 * last ten minutes are searched. 0 with *found, or SS_ERR_UNAVAILABLE. */
int ss_audit_logged(ss_db *db, const char *request_id, const char *service, bool *found);

/* Counters for /metrics. */
typedef struct ss_audit_stats {
    unsigned long long rows, batches, failures;
} ss_audit_stats;
void ss_audit_get_stats(ss_audit_stats *out);

#endif
