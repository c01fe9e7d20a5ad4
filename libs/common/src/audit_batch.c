/* audit_batch.c - one group-commit batch as the arguments of audit.append
 * (audit_batch.h): one PostgreSQL array literal per column, text elements
 * quoted with '"' and '\\' escaped, NULL as NULL. */
#include "sesshu/audit_batch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/err.h"

/* Text columns first (in the order of audit.append's parameters), then
 * status integer[] and duration_us bigint[]; the stream last ($21, migration 007). */
const char ss_audit_batch_sql[] =
    "SELECT audit.append($21::text, $1::text[], $2::text[], $3::text[], $4::text[], "
    "$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], "
    "$12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], "
    "$19::integer[], $20::bigint[])";

/* A growable text; oom set once an allocation failed (then p may be NULL). */
typedef struct abuf {
    char *p;
    size_t len, cap;
    bool oom;
} abuf;

static void ab_put(abuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 256 : b->cap;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        if ((p = realloc(b->p, cap)) == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* One array element: NULL, or the text quoted with '"' and '\' escaped. */
static void ab_elem(abuf *b, const char *v)
{
    const char *run = v;

    if (v == NULL) {
        ab_put(b, "NULL", 4);
        return;
    }
    ab_put(b, "\"", 1);
    for (const char *s = v; *s != '\0'; s++)
        if (*s == '"' || *s == '\\') {
            ab_put(b, run, (size_t)(s - run));
            ab_put(b, "\\", 1);
            run = s;
        }
    ab_put(b, run, strlen(run));
    ab_put(b, "\"", 1);
}

#define AUD_NTEXT   18
#define AUD_NARRAYS (AUD_NTEXT + 2) /* the columns; then the stream */

/* The row's text columns, in the order of audit.append's parameters. */
static const char *text_col(const ss_audit_row *r, int i)
{
    const char *c[AUD_NTEXT] = {r->request_id,   r->service,  r->actor_kind, r->actor_id,
                                r->actor_login,  r->org_id,   r->org_type,   r->muni_code,
                                r->role,         r->method,   r->route,      r->path,
                                r->res_type,     r->res_id,   r->person_id,  r->subject_org_id,
                                r->subject_muni, r->client_ip};

    return c[i];
}

int ss_audit_batch_build(ss_audit_batch *b, const char *stream, const ss_audit_row *const *rows,
                         int n)
{
    abuf a[SS_AUDIT_BATCH_NPARAMS] = {0};
    char num[24];
    int rc = 0;

    for (int k = 0; k < AUD_NARRAYS; k++)
        ab_put(&a[k], "{", 1);
    for (int i = 0; i < n; i++) {
        const char *sep = i > 0 ? "," : "";

        for (int k = 0; k < AUD_NTEXT; k++) {
            ab_put(&a[k], sep, strlen(sep));
            ab_elem(&a[k], text_col(rows[i], k));
        }
        snprintf(num, sizeof(num), "%s%d", sep, rows[i]->status);
        ab_put(&a[AUD_NTEXT], num, strlen(num));
        snprintf(num, sizeof(num), "%s%lld", sep, rows[i]->duration_us);
        ab_put(&a[AUD_NTEXT + 1], num, strlen(num));
    }
    for (int k = 0; k < AUD_NARRAYS; k++)
        ab_put(&a[k], "}", 1);
    ab_put(&a[AUD_NARRAYS], stream, strlen(stream));
    for (int k = 0; k < SS_AUDIT_BATCH_NPARAMS; k++) {
        if (a[k].oom)
            rc = SS_ERR_NOMEM;
        b->param[k] = a[k].p;
    }
    if (rc != 0)
        ss_audit_batch_free(b);
    return rc;
}

void ss_audit_batch_free(ss_audit_batch *b)
{
    for (int k = 0; k < SS_AUDIT_BATCH_NPARAMS; k++) {
        free(b->param[k]);
        b->param[k] = NULL;
    }
}
