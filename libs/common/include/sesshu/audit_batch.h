/* audit_batch.h - a group-commit batch of access-log rows as the arguments
 * of the database's audit.append(...) (services/audit/migrations/007):
 * one array per column, then the writer stream's name. The database links
 * the rows into that stream's hash chain under the stream's own lock, in
 * the one statement. Used by the writer
 * (audit.c); separate so that it can be tested without a database. */
#ifndef SESSHU_AUDIT_BATCH_H
#define SESSHU_AUDIT_BATCH_H

#include "sesshu/audit.h"

#define SS_AUDIT_BATCH_NPARAMS 21

/* The statement: ss_audit_batch.param[0..20] are its $1..$21. */
extern const char ss_audit_batch_sql[];

typedef struct ss_audit_batch {
    char *param[SS_AUDIT_BATCH_NPARAMS]; /* owned, NUL-terminated array literals */
} ss_audit_batch;

/* Rows 0..n-1 (strings valid UTF-8 without NUL, as the writer keeps them;
 * NULL for SQL NULL) of the writer stream `stream` (one writer that never
 * runs two transactions at once, e.g. "records/host/3") into b.
 * 0 or SS_ERR_NOMEM (then b holds nothing). */
int ss_audit_batch_build(ss_audit_batch *b, const char *stream, const ss_audit_row *const *rows,
                         int n);
void ss_audit_batch_free(ss_audit_batch *b);

#endif
