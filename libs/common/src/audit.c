/* audit.c - the access-log writer with group commit (audit.h).
 *
 * A request thread makes a cleaned copy of its row (strings made valid
 * UTF-8 and capped), queues it and waits on a condition variable. One
 * writer thread, on its own libpq connection (not the pool: a pooled
 * connection would be held for every batch), takes everything queued (at
 * most AUD_BATCH_MAX rows) and sends it, one array per column
 * (audit_batch.c), to one prepared SELECT audit.append(...): the database
 * locks the head of this writer's own stream (no other writer uses it),
 * links the rows into the stream's hash chain and inserts them in that one
 * statement (services/audit/migrations/007), which is its own transaction, so one round trip
 * and one commit (one WAL flush) serve the whole batch; every waiter of the
 * batch is then woken with the outcome. Rows queued while a batch commits
 * form the next batch.
 * Linger: a request announces itself when it starts (ss_audit_expect);
 * before sending a batch, the writer waits, at most SESSHU_AUDIT_LINGER_US
 * (default 200 µs), while announced requests have not queued their rows
 * yet, so under load a commit serves tens of rows instead of a few (each
 * batch costs a fixed statement start and commit). With no
 * other request in flight it does not wait at all.
 *
 * Locking: one mutex guards the queue, the in-flight slots and the stats;
 * the writer never holds it while talking to the database. A waiter that
 * times out unlinks its node (queued) or clears its in-flight slot, so the
 * writer never touches a node whose owner has returned (nodes live on the
 * waiters' stacks). */
#include "sesshu/audit.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sesshu/audit_batch.h"
#include "sesshu/config.h"
#include "sesshu/db.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/text.h"

#define AUD_BATCH_MAX      1000
#define AUD_QUEUE_MAX      20000 /* beyond this, writes fail at once: memory stays bounded */
#define AUD_FIELD_MAX      256   /* bytes kept of an ordinary text field */
#define AUD_PATH_MAX       2048  /* bytes kept of the path */
#define AUD_BACKOFF_MIN_MS 100
#define AUD_BACKOFF_MAX_MS 250 /* back as soon as the pool is (it reconnects on use) */
#define AUD_ENV_TIMEOUT    "SESSHU_AUDIT_TIMEOUT_MS"
#define AUD_ENV_LINGER     "SESSHU_AUDIT_LINGER_US"
#define AUD_STMT           "ss_audit_insert"

/* A cleaned copy of a row: r's strings point into own[] (NULL stays NULL,
 * except that required columns get ""). */
typedef struct aud_row {
    ss_audit_row r; /* first: &row->r is the row */
    char *own[18];
} aud_row;

enum aud_state { AUD_QUEUED = 1, AUD_INFLIGHT, AUD_DONE };

typedef struct aud_node {
    struct aud_node *next;
    aud_row *row;      /* owned by the queue, then by the writer */
    int state;         /* enum aud_state */
    int slot;          /* index in inflight[] while AUD_INFLIGHT */
    int result;        /* 0 or SS_ERR_* once AUD_DONE */
    pthread_cond_t cv; /* its waiter: signalled alone, so a batch wakes no herd */
} aud_node;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;     /* writer: rows queued or stop requested */
    pthread_condattr_t cv_attr; /* CLOCK_MONOTONIC, for every node's cv */
    bool cv_ready;
    bool running; /* accepting writes */
    bool stopping;
    pthread_t thread;
    char *conninfo; /* owned */
    long timeout_ms;
    long linger_us;
    int expected;          /* announced requests that have not queued their row yet */
    aud_node *head, *tail; /* pending queue */
    int pending;
    aud_node *inflight[AUD_BATCH_MAX];
    int ninflight;
    ss_audit_stats stats;
} aud = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Writer-thread-only connection state. */
static struct {
    PGconn *conn;
    bool prepared;
    bool stale_stmt;    /* prepared, then an insert failed on a live session */
    bool down;          /* last attempt failed; reported once per outage */
    long long retry_at; /* monotonic ms before which no reconnect is tried */
    long backoff_ms;
} wc;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- building a row (caller's thread) -------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

/* A copy of s, valid UTF-8 (each invalid byte becomes U+FFFD) and at most
 * max bytes, cut on a character boundary. malloc'd; NULL on NOMEM. A bad
 * byte must not make the whole batch fail in the database. */
static char *clean_text(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    char *out = malloc(max + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        const char *src = n > 0 ? s + i : "\xEF\xBF\xBD";
        size_t w = n > 0 ? n : 3;

        if (o + w > max)
            break;
        memcpy(out + o, src, w);
        o += w;
        i += n > 0 ? n : 1;
    }
    out[o] = '\0';
    return out;
}

static void row_free(aud_row *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < sizeof(a->own) / sizeof(a->own[0]); i++)
        free(a->own[i]);
    free(a);
}

/* The text columns: where in ss_audit_row, bytes kept, required (NULL
 * becomes ""). */
static const struct {
    size_t off, max;
    bool req;
} aud_fields[18] = {
    {offsetof(ss_audit_row, request_id), AUD_FIELD_MAX, true},
    {offsetof(ss_audit_row, service), AUD_FIELD_MAX, true},
    {offsetof(ss_audit_row, actor_kind), AUD_FIELD_MAX, true},
    {offsetof(ss_audit_row, actor_id), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, actor_login), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, org_id), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, org_type), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, muni_code), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, role), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, method), AUD_FIELD_MAX, true},
    {offsetof(ss_audit_row, route), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, path), AUD_PATH_MAX, false},
    {offsetof(ss_audit_row, res_type), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, res_id), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, person_id), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, subject_org_id), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, subject_muni), AUD_FIELD_MAX, false},
    {offsetof(ss_audit_row, client_ip), AUD_FIELD_MAX, false},
};

/* The row cleaned (valid UTF-8, capped), malloc'd; NULL on NOMEM. */
static aud_row *row_dup(const ss_audit_row *row)
{
    aud_row *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return NULL;
    a->r = *row;
    for (size_t i = 0; i < sizeof(aud_fields) / sizeof(aud_fields[0]); i++) {
        const char *v = *(const char *const *)((const char *)row + aud_fields[i].off);
        const char **dst = (const char **)((char *)&a->r + aud_fields[i].off);

        if (v == NULL && aud_fields[i].req)
            v = "";
        if (v != NULL && (a->own[i] = clean_text(v, aud_fields[i].max)) == NULL) {
            row_free(a);
            return NULL;
        }
        *dst = a->own[i];
    }
    return a;
}

/* ---- the database side (writer thread only) --------------------------- */

/* Note a failure: log it once per outage (on one line), forget the prepared
 * statement and push the next connection attempt back. */
static void conn_failed(const char *what)
{
    char msg[512];

    if (!wc.down) {
        snprintf(msg, sizeof(msg), "%s",
                 wc.conn != NULL ? PQerrorMessage(wc.conn) : "out of memory");
        for (char *p = msg; *p != '\0'; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        SS_WARN("access-log writer: %s: %s", what, msg);
    }
    wc.down = true;
    wc.prepared = false;
    wc.backoff_ms = wc.backoff_ms == 0 ? AUD_BACKOFF_MIN_MS : wc.backoff_ms * 2;
    if (wc.backoff_ms > AUD_BACKOFF_MAX_MS)
        wc.backoff_ms = AUD_BACKOFF_MAX_MS;
    wc.retry_at = now_ms() + wc.backoff_ms;
}

static int exec_ok(const char *sql)
{
    PGresult *r = PQexec(wc.conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

    PQclear(r);
    return ok ? 0 : SS_ERR_UNAVAILABLE;
}

/* Make sure there is a live connection with the statement prepared. Fails
 * at once while backing off, so waiters are not held for a dead database. */
static int conn_ready(const char *conninfo, long timeout_ms)
{
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {conninfo, "5", "sesshu-audit-writer", NULL};
    char sql[64];
    PGresult *r = NULL;
    int ok;

    if (wc.conn != NULL && PQstatus(wc.conn) == CONNECTION_OK && wc.prepared)
        return 0;
    if (wc.conn != NULL && PQstatus(wc.conn) == CONNECTION_OK)
        goto prepare;
    if (wc.down && now_ms() < wc.retry_at)
        return SS_ERR_UNAVAILABLE;
    if (wc.conn == NULL)
        wc.conn = PQconnectdbParams(keys, vals, 1);
    else
        PQreset(wc.conn);
    if (wc.conn == NULL || PQstatus(wc.conn) != CONNECTION_OK) {
        conn_failed("cannot connect");
        return SS_ERR_UNAVAILABLE;
    }
prepare:
    /* A batch waits no longer in the database than its waiters do. */
    snprintf(sql, sizeof(sql), "SET statement_timeout = %ld", timeout_ms);
    if (exec_ok(sql) != 0 || exec_ok("SET synchronous_commit = on") != 0) {
        conn_failed("cannot configure the session");
        return SS_ERR_UNAVAILABLE;
    }
    /* After a failed insert the statement still exists on this session. */
    if (wc.stale_stmt)
        PQclear(PQexec(wc.conn, "DEALLOCATE " AUD_STMT));
    wc.stale_stmt = false;
    r = PQprepare(wc.conn, AUD_STMT, ss_audit_batch_sql, 0, NULL);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        conn_failed("cannot prepare the insert");
        return SS_ERR_UNAVAILABLE;
    }
    wc.prepared = true;
    return 0;
}

/* The name of a writer stream: "<service>/<host>/<slot>", where slot is "w" for the group-commit
 * writer or a pool connection's index; the host name tells service instances apart. A stream
 * is never used by two transactions at once, so its head's lock is never waited for. */
static char aud_host[64];
static pthread_once_t aud_host_once = PTHREAD_ONCE_INIT;

static void host_init(void)
{
    if (gethostname(aud_host, sizeof(aud_host)) != 0 || aud_host[0] == '\0')
        snprintf(aud_host, sizeof(aud_host), "localhost");
    aud_host[sizeof(aud_host) - 1] = '\0';
    for (char *p = aud_host; *p != '\0'; p++)
        if (*p == '/')
            *p = '_';
}

static void stream_name(char *out, size_t n, const char *service, const char *slot)
{
    pthread_once(&aud_host_once, host_init);
    snprintf(out, n, "%.64s/%s/%s", service != NULL && service[0] != '\0' ? service : "unknown",
             aud_host, slot);
}

/* Run audit.append for rows[0..n-1]: one statement, its own transaction.
 * On failure *state is the SQLSTATE, or "" when there is none. */
static int append_rows(aud_row *const *rows, int n, char state[6])
{
    const ss_audit_row *view[AUD_BATCH_MAX];
    ss_audit_batch b = {0};
    char stream[160];
    PGresult *r;
    const char *st;
    int ok;

    state[0] = '\0';

    for (int i = 0; i < n; i++)
        view[i] = &rows[i]->r;
    stream_name(stream, sizeof(stream), n > 0 ? rows[0]->r.service : NULL, "w");
    if (ss_audit_batch_build(&b, stream, view, n) != 0)
        return SS_ERR_NOMEM;
    r = PQexecPrepared(wc.conn, AUD_STMT, SS_AUDIT_BATCH_NPARAMS, (const char *const *)b.param,
                       NULL, NULL, 0);
    ss_audit_batch_free(&b);
    ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok && (st = PQresultErrorField(r, PG_DIAG_SQLSTATE)) != NULL)
        snprintf(state, 6, "%s", st);
    PQclear(r);
    return ok ? 0 : SS_ERR_UNAVAILABLE;
}

/* Write rows[0..n-1] in one statement, once. */
static int insert_once(const char *conninfo, long timeout_ms, aud_row *const *rows, int n,
                       bool *lost)
{
    char state[6];
    int rc;

    *lost = false;
    if ((rc = conn_ready(conninfo, timeout_ms)) != 0)
        return rc;
    if ((rc = append_rows(rows, n, state)) == 0) {
        if (wc.down)
            SS_WARN("access-log writer: writing again");
        wc.down = false;
        wc.backoff_ms = 0;
        return 0;
    }
    if (rc == SS_ERR_NOMEM)
        return SS_ERR_UNAVAILABLE;
    rc = strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ? SS_ERR_VALIDATION
                                                                      : SS_ERR_UNAVAILABLE;
    if (PQstatus(wc.conn) != CONNECTION_OK || state[0] == '\0' || strncmp(state, "08", 2) == 0) {
        *lost = true;
        conn_failed("connection lost");
    } else if (strcmp(state, "25006") == 0) {
        /* The server became a standby (failover): redial the list to reach the new primary. */
        *lost = true;
        conn_failed("the server is read-only");
        PQfinish(wc.conn);
        wc.conn = NULL;
    } else if (rc == SS_ERR_UNAVAILABLE) {
        conn_failed("insert failed"); /* e.g. table replaced: prepare again */
        wc.stale_stmt = true;
    }
    return rc;
}

/* Write rows[0..n-1]. Returns 0, SS_ERR_VALIDATION for a data error
 * (SQLSTATE class 22/23: some row is at fault, the others may be fine), or
 * SS_ERR_UNAVAILABLE. A connection that was healthy and turns out dead
 * (database restarted, idle connection cut) is reconnected and the batch
 * tried again at once, so a restart costs no request its answer. */
static int insert_rows(const char *conninfo, long timeout_ms, aud_row *const *rows, int n)
{
    bool was_up = !wc.down && wc.conn != NULL;
    bool lost = false;
    int rc = insert_once(conninfo, timeout_ms, rows, n, &lost);

    if (rc != 0 && lost && was_up) {
        wc.retry_at = 0;
        rc = insert_once(conninfo, timeout_ms, rows, n, &lost);
    }
    return rc;
}

/* ---- the writer thread --------------------------------------------------- */

/* The batch being written: rows moved out of the nodes when claimed, so
 * the writer needs no node (whose waiter may have gone) to write them. */
static struct {
    aud_row *row[AUD_BATCH_MAX];
    int rc[AUD_BATCH_MAX];
    int n;
    int batch_rc; /* outcome of the one statement for the whole batch */
} wb;

/* Move up to AUD_BATCH_MAX queued nodes into the in-flight slots and their
 * rows into wb. Mutex held. */
static void claim_batch(void)
{
    aud.ninflight = 0;
    wb.n = 0;
    while (aud.head != NULL && aud.ninflight < AUD_BATCH_MAX) {
        aud_node *n = aud.head;

        aud.head = n->next;
        n->next = NULL;
        n->state = AUD_INFLIGHT;
        n->slot = aud.ninflight;
        aud.inflight[aud.ninflight++] = n;
        aud.pending--;
        wb.row[wb.n++] = n->row;
        n->row = NULL;
    }
    if (aud.head == NULL)
        aud.tail = NULL;
}

/* Write wb: one statement for the whole batch. A data error means some row
 * is at fault (SQLSTATE class 22/23): then each row alone, so one bad row
 * does not fail its neighbours. Fills wb.rc[]. Without the mutex. */
static void write_batch(const char *conninfo, long timeout_ms)
{
    int rc = insert_rows(conninfo, timeout_ms, wb.row, wb.n);

    wb.batch_rc = rc;
    for (int i = 0; i < wb.n; i++)
        wb.rc[i] = rc;
    if (rc == SS_ERR_VALIDATION && wb.n > 1)
        for (int i = 0; i < wb.n; i++)
            wb.rc[i] = insert_rows(conninfo, timeout_ms, &wb.row[i], 1);
    for (int i = 0; i < wb.n; i++) {
        row_free(wb.row[i]);
        wb.row[i] = NULL;
    }
}

/* Hand results to the waiters still there (slots of waiters that timed
 * out are NULL). Mutex held. */
static void finish_batch(void)
{
    for (int i = 0; i < aud.ninflight; i++) {
        aud_node *n = aud.inflight[i];

        if (wb.rc[i] == 0)
            aud.stats.rows++;
        if (n == NULL)
            continue;
        n->result = wb.rc[i] != 0 ? SS_ERR_UNAVAILABLE : 0;
        n->state = AUD_DONE;
        pthread_cond_signal(&n->cv);
        if (wb.rc[i] != 0)
            aud.stats.failures++;
    }
    if (wb.batch_rc == 0)
        aud.stats.batches++;
    aud.ninflight = 0;
}

/* Stopping with the database failing: answer every queued waiter at once
 * instead of trying each remaining batch for the full timeout. Mutex held. */
static void fail_pending(void)
{
    while (aud.head != NULL) {
        aud_node *n = aud.head;

        aud.head = n->next;
        row_free(n->row);
        n->row = NULL;
        n->result = SS_ERR_UNAVAILABLE;
        n->state = AUD_DONE;
        pthread_cond_signal(&n->cv);
        aud.stats.failures++;
    }
    aud.tail = NULL;
    aud.pending = 0;
}

/* Wait (at most linger_us) while announced requests may still add rows to
 * the batch about to be claimed. Mutex held. */
static void linger(void)
{
    struct timespec until;

    if (aud.linger_us <= 0 || aud.expected <= 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += aud.linger_us * 1000;
    until.tv_sec += until.tv_nsec / 1000000000;
    until.tv_nsec %= 1000000000;
    while (!aud.stopping && aud.expected > 0 && aud.pending < AUD_BATCH_MAX)
        if (pthread_cond_timedwait(&aud.work_cv, &aud.mu, &until) != 0)
            break;
}

static void *writer_main(void *arg)
{
    const char *conninfo = aud.conninfo;
    long timeout_ms = aud.timeout_ms;

    (void)arg;
    pthread_mutex_lock(&aud.mu);
    for (;;) {
        while (aud.head == NULL && !aud.stopping)
            pthread_cond_wait(&aud.work_cv, &aud.mu);
        if (aud.head == NULL)
            break; /* stopping and drained */
        linger();
        if (aud.head == NULL)
            continue; /* every queued waiter timed out meanwhile */
        claim_batch();
        pthread_mutex_unlock(&aud.mu);
        write_batch(conninfo, timeout_ms);
        pthread_mutex_lock(&aud.mu);
        finish_batch();
        if (aud.stopping && wb.batch_rc == SS_ERR_UNAVAILABLE)
            fail_pending();
    }
    pthread_mutex_unlock(&aud.mu);
    PQfinish(wc.conn);
    memset(&wc, 0, sizeof(wc));
    return NULL;
}

/* ---- public API ------------------------------------------------------------ */

static int init_cvs(void)
{
    int rc = 0;

    if (aud.cv_ready)
        return 0;
    if (pthread_condattr_init(&aud.cv_attr) != 0)
        return SS_ERR_INTERNAL;
    if (pthread_condattr_setclock(&aud.cv_attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&aud.work_cv, &aud.cv_attr) != 0)
        rc = SS_ERR_INTERNAL;
    aud.cv_ready = rc == 0;
    if (rc != 0)
        pthread_condattr_destroy(&aud.cv_attr);
    return rc;
}

int ss_audit_start(const char *conninfo)
{
    long timeout_ms = 5000, linger_us = 200;
    int rc;

    if (conninfo == NULL)
        return SS_ERR_INTERNAL;
    if ((rc = ss_cfg_long(AUD_ENV_TIMEOUT, 5000, 10, 600000, &timeout_ms)) != 0 ||
        (rc = ss_cfg_long(AUD_ENV_LINGER, 200, 0, 100000, &linger_us)) != 0)
        return rc;
    pthread_mutex_lock(&aud.mu);
    if (aud.running || aud.stopping) {
        pthread_mutex_unlock(&aud.mu);
        return SS_ERR_CONFLICT;
    }
    rc = init_cvs();
    if (rc == 0 && (aud.conninfo = strdup(conninfo)) == NULL)
        rc = SS_ERR_NOMEM;
    aud.timeout_ms = timeout_ms;
    aud.linger_us = linger_us;
    if (rc == 0 && pthread_create(&aud.thread, NULL, writer_main, NULL) != 0)
        rc = SS_ERR_INTERNAL;
    if (rc == 0)
        aud.running = true;
    if (rc != 0) {
        free(aud.conninfo);
        aud.conninfo = NULL;
    }
    pthread_mutex_unlock(&aud.mu);
    return rc;
}

void ss_audit_stop(void)
{
    pthread_mutex_lock(&aud.mu);
    if (!aud.running) {
        pthread_mutex_unlock(&aud.mu);
        return;
    }
    aud.running = false; /* new writes fail from now on */
    aud.stopping = true;
    pthread_cond_signal(&aud.work_cv);
    pthread_mutex_unlock(&aud.mu);
    /* The writer drains the queue (each batch fails fast if the database is
     * gone) and exits; every waiter has been answered by then. */
    pthread_join(aud.thread, NULL);
    pthread_mutex_lock(&aud.mu);
    aud.stopping = false;
    free(aud.conninfo);
    aud.conninfo = NULL;
    pthread_mutex_unlock(&aud.mu);
}

/* Give up on a node after the timeout. Mutex held. */
static void abandon(aud_node *n)
{
    if (n->state == AUD_QUEUED) {
        aud_node **pp = &aud.head;
        aud_node *prev = NULL;

        while (*pp != NULL && *pp != n) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp == n) {
            *pp = n->next;
            if (aud.tail == n)
                aud.tail = prev;
            aud.pending--;
        }
        row_free(n->row);
        n->row = NULL;
    } else if (n->state == AUD_INFLIGHT) {
        /* The writer owns the text now; the row may still be committed. */
        aud.inflight[n->slot] = NULL;
    }
    aud.stats.failures++;
}

/* Whether this thread announced a row (ss_audit_expect) not yet written. */
static _Thread_local bool announced;

void ss_audit_expect(void)
{
    if (announced)
        return;
    pthread_mutex_lock(&aud.mu);
    aud.expected++;
    announced = true;
    pthread_mutex_unlock(&aud.mu);
}

/* Take back this thread's announcement. Mutex held. */
static void unannounce(void)
{
    if (!announced)
        return;
    announced = false;
    if (aud.expected > 0)
        aud.expected--;
}

void ss_audit_unexpect(void)
{
    if (!announced)
        return;
    pthread_mutex_lock(&aud.mu);
    unannounce();
    pthread_mutex_unlock(&aud.mu);
}

int ss_audit_write(const ss_audit_row *row)
{
    aud_node node = {0};
    struct timespec deadline;
    int rc;

    if (row == NULL || (node.row = row_dup(row)) == NULL) {
        pthread_mutex_lock(&aud.mu);
        unannounce();
        pthread_mutex_unlock(&aud.mu);
        /* out of memory: the row cannot be written either */
        return row == NULL ? SS_ERR_INTERNAL : SS_ERR_UNAVAILABLE;
    }
    pthread_mutex_lock(&aud.mu);
    unannounce();
    if (!aud.running || aud.pending >= AUD_QUEUE_MAX) {
        aud.stats.failures++;
        pthread_mutex_unlock(&aud.mu);
        row_free(node.row);
        return SS_ERR_UNAVAILABLE;
    }
    ss_deadline(&deadline, CLOCK_MONOTONIC, aud.timeout_ms);
    pthread_cond_init(&node.cv, &aud.cv_attr);
    node.state = AUD_QUEUED;
    if (aud.tail != NULL)
        aud.tail->next = &node;
    else
        aud.head = &node;
    aud.tail = &node;
    aud.pending++;
    /* The writer waits for a first row (idle) or for the last announced one (linger). */
    if (aud.pending == 1 || aud.expected == 0 || aud.pending >= AUD_BATCH_MAX)
        pthread_cond_signal(&aud.work_cv);
    while (node.state != AUD_DONE)
        if (pthread_cond_timedwait(&node.cv, &aud.mu, &deadline) != 0 && node.state != AUD_DONE)
            break;
    if (node.state == AUD_DONE)
        rc = node.result;
    else {
        abandon(&node);
        rc = SS_ERR_UNAVAILABLE;
    }
    pthread_mutex_unlock(&aud.mu);
    pthread_cond_destroy(&node.cv);
    return rc;
}

void ss_audit_get_stats(ss_audit_stats *out)
{
    if (out == NULL)
        return;
    pthread_mutex_lock(&aud.mu);
    *out = aud.stats;
    pthread_mutex_unlock(&aud.mu);
}

/* ---- rows that commit with the change (write requests) ------------------- */

int ss_audit_insert_tx_rows(ss_dbc *c, const ss_audit_row *const *rows, int n)
{
    aud_row *a[SS_AUDIT_TX_ROWS_MAX] = {0};
    const ss_audit_row *view[SS_AUDIT_TX_ROWS_MAX];
    ss_audit_batch b = {0};
    char stream[160], slot[16];
    int rc = 0;

    if (c == NULL || rows == NULL || n < 1 || n > SS_AUDIT_TX_ROWS_MAX)
        return SS_ERR_INTERNAL;
    for (int i = 0; i < n && rc == 0; i++)
        if ((a[i] = row_dup(rows[i])) == NULL)
            rc = SS_ERR_NOMEM;
        else
            view[i] = &a[i]->r;
    /* The connection's stream: no two transactions use one connection at once. */
    snprintf(slot, sizeof(slot), "%d", ss_db_conn_index(c));
    if (rc == 0) {
        stream_name(stream, sizeof(stream), a[0]->r.service, slot);
        rc = ss_audit_batch_build(&b, stream, view, n);
    }
    if (rc == 0)
        rc = ss_db_exec(c, ss_audit_batch_sql, SS_AUDIT_BATCH_NPARAMS, (const char *const *)b.param,
                        NULL);
    ss_audit_batch_free(&b);
    for (int i = 0; i < n; i++)
        row_free(a[i]);
    pthread_mutex_lock(&aud.mu);
    if (rc == 0)
        aud.stats.rows += (unsigned long long)n;
    else
        aud.stats.failures += (unsigned long long)n;
    pthread_mutex_unlock(&aud.mu);
    return rc;
}

int ss_audit_insert_tx(ss_dbc *c, const ss_audit_row *row)
{
    const ss_audit_row *rows[1] = {row};

    if (row == NULL)
        return SS_ERR_INTERNAL;
    return ss_audit_insert_tx_rows(c, rows, 1);
}

int ss_audit_logged(ss_db *db, const char *request_id, const char *service, bool *found)
{
    const char *p[2] = {request_id, service};
    PGresult *res = NULL;
    int rc;

    *found = false;
    rc = ss_db_query(db, "SELECT audit.logged($1, $2)", 2, p, &res);
    if (rc == 0) {
        const char *v = ss_db_val(res, 0, 0);

        *found = v != NULL && v[0] == 't';
    }
    PQclear(res);
    return rc;
}
