/* group.c - group commit of write requests (group.h): a queue of changes, lanes that each run a
 * batch of them in one transaction, a savepoint each, their access-log rows in one
 * audit.append, one COMMIT. */
#include "sesshu/group.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http_internal.h"
#include "sesshu/audit.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/server.h"

#define G_LANES_MAX 8

enum { G_QUEUED, G_RUNNING, G_DONE };

/* How a change ended: committed with its row; failed alone (fn's answer stands, nothing of it
 * kept); lost with its batch (nothing kept, answer 503); commit outcome unknown. */
enum { G_COMMITTED, G_FAILED, G_LOST, G_UNKNOWN };

typedef struct gjob {
    ss_req *r;
    ss_group_fn fn;
    void *arg;
    int rc, state, outcome;
    const char *why; /* G_LOST: the 503's detail */
    ss_audit_row row;
    char path[512], ip[64];
    pthread_cond_t cv;
    struct gjob *next;
} gjob;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    gjob *head, *tail;
    pthread_t lane[G_LANES_MAX];
    int nlanes;
    bool started, stopping;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .work_cv = PTHREAD_COND_INITIALIZER};

static void lose_all(gjob **jobs, int n, const char *why)
{
    for (int i = 0; i < n; i++)
        if (jobs[i]->outcome == G_COMMITTED) {
            jobs[i]->outcome = G_LOST;
            jobs[i]->why = why;
        }
}

/* Run each change under the savepoint g (one round trip between two changes: the previous one's
 * RELEASE and the next one's SAVEPOINT). A change that fails is rolled back to g alone. The rows
 * of the changes that succeeded are filled into rows[]; returns how many, or -1 when the
 * transaction is gone (then every change is lost). */
static int run_changes(ss_dbc *c, gjob **jobs, int n, const ss_audit_row **rows)
{
    int nok = 0;

    /* The first savepoint came with the BEGIN (run_batch); a change alone needs none: if it
     * fails, the transaction is rolled back whole, with nothing else in it. */
    for (int i = 0; i < n; i++) {
        gjob *j = jobs[i];
        ss_req *r = j->r;

        if (i > 0 && ss_db_command(c, "RELEASE SAVEPOINT g; SAVEPOINT g") != 0)
            return -1;
        ss_log_set_request_id(r->request_id);
        j->rc = j->fn(r, c, j->arg);
        ss_log_set_request_id(NULL);
        if (j->rc == 0 && r->status > 0 && r->status < 400) {
            ss_req_audit_row(r, &j->row, j->path, sizeof(j->path), j->ip, sizeof(j->ip));
            rows[nok++] = &j->row;
            continue;
        }
        j->outcome = G_FAILED;
        if (n > 1 && ss_db_command(c, "ROLLBACK TO SAVEPOINT g") != 0)
            return -1;
    }
    return nok;
}

/* The COMMIT went unanswered: did the batch commit? Its first committed row tells (all of the
 * batch's rows are in one statement of the one transaction). */
static void settle_lost_commit(gjob **jobs, int n)
{
    const gjob *first = NULL;
    int outcome;

    for (int i = 0; i < n && first == NULL; i++)
        if (jobs[i]->outcome == G_COMMITTED)
            first = jobs[i];
    if (first == NULL)
        return;
    outcome = ss_commit_outcome(first->r->request_id, first->r->svc->name);
    if (outcome == 1)
        return;
    if (outcome == 0) {
        lose_all(jobs, n, "the database connection was lost; nothing was changed");
        return;
    }
    SS_ERROR("group commit outcome unknown for request %s and %d others", first->r->request_id,
             n - 1);
    for (int i = 0; i < n; i++)
        if (jobs[i]->outcome == G_COMMITTED)
            jobs[i]->outcome = G_UNKNOWN;
}

static void run_batch(gjob **jobs, int n)
{
    const ss_audit_row *rows[SS_GROUP_MAX];
    ss_dbc *c = NULL;
    int nok = -1;

    for (int i = 0; i < n; i++) {
        jobs[i]->outcome = G_COMMITTED;
        jobs[i]->rc = SS_ERR_UNAVAILABLE; /* until it has run */
    }
    if (ss_db_acquire(ss_server_db(), &c) == 0 &&
        ss_db_command(c, n > 1 ? "BEGIN; SAVEPOINT g" : "BEGIN") == 0) {
        ss_db_pin(c, true);
        nok = run_changes(c, jobs, n, rows);
    }
    if (nok < 0)
        lose_all(jobs, n, "the database connection was lost; nothing was changed");
    else if (nok > 0 && ss_audit_insert_tx_rows(c, rows, nok) != 0) {
        SS_ERROR("access log unavailable; %d changes rolled back, answering 503", nok);
        lose_all(jobs, n, "the access log is unavailable; nothing was changed");
    } else if (nok > 0 && ss_db_command(c, "COMMIT") != 0) {
        PGconn *pc = ss_db_conn(c);

        if (pc != NULL && PQstatus(pc) == CONNECTION_OK) /* answered: not committed */
            lose_all(jobs, n, "the change could not be committed; nothing was changed");
        else
            settle_lost_commit(jobs, n);
    }
    SS_DEBUG("group commit: %d changes, %d of them succeeded", n, nok < 0 ? 0 : nok);
    if (c != NULL) {
        ss_db_pin(c, false);
        ss_db_release(c); /* rolls back what is still open (a failure, or no change at all) */
    }
}

/* Take up to SS_GROUP_MAX queued changes. Mutex held. */
static int claim(gjob **jobs)
{
    int n = 0;

    while (g.head != NULL && n < SS_GROUP_MAX) {
        gjob *j = g.head;

        g.head = j->next;
        j->next = NULL;
        j->state = G_RUNNING;
        jobs[n++] = j;
    }
    if (g.head == NULL)
        g.tail = NULL;
    return n;
}

static void *lane_main(void *arg)
{
    gjob *jobs[SS_GROUP_MAX];

    (void)arg;
    pthread_mutex_lock(&g.mu);
    for (;;) {
        int n;

        while (g.head == NULL && !g.stopping)
            pthread_cond_wait(&g.work_cv, &g.mu);
        if (g.head == NULL)
            break; /* stopping and drained */
        n = claim(jobs);
        pthread_mutex_unlock(&g.mu);
        run_batch(jobs, n);
        pthread_mutex_lock(&g.mu);
        for (int i = 0; i < n; i++) {
            jobs[i]->state = G_DONE;
            pthread_cond_signal(&jobs[i]->cv);
        }
    }
    pthread_mutex_unlock(&g.mu);
    return NULL;
}

/* Start the lanes on first use. Mutex held. */
static int start_lanes(void)
{
    long pool = 4, lanes;

    if (g.started)
        return 0;
    /* Half the pool by default: as many shared transactions in flight as are useful on the
     * machine (docs/architecture.md §10.3), the other half for the requests' reads. Two lanes
     * on a loaded two-core machine left too few commits in flight: every round trip of a batch
     * waits for the lane's thread to be scheduled again. */
    if (ss_cfg_long(SS_ENV_DB_POOL, 4, 1, 64, &pool) != 0)
        return SS_ERR_INTERNAL;
    lanes = pool / 2 < 1 ? 1 : pool / 2 > G_LANES_MAX ? G_LANES_MAX : pool / 2;
    if (ss_cfg_long(SS_ENV_GROUP_LANES, lanes, 1, G_LANES_MAX, &lanes) != 0)
        return SS_ERR_INTERNAL;
    for (g.nlanes = 0; g.nlanes < lanes; g.nlanes++)
        if (pthread_create(&g.lane[g.nlanes], NULL, lane_main, NULL) != 0)
            break;
    g.started = g.nlanes > 0;
    return g.started ? 0 : SS_ERR_INTERNAL;
}

/* The request's answer after its batch. */
static int settle(ss_req *r, const gjob *j)
{
    switch (j->outcome) {
    case G_COMMITTED: r->logged = true; return 0;
    case G_FAILED: return j->rc;
    case G_UNKNOWN:
        r->logged = true; /* no row can be written now; if the change committed, its row did */
        return ss_req_fail(r, SS_ERR_UNAVAILABLE,
                           "the database connection was lost while committing: the change may "
                           "have been made; look it up (or retry with the same Idempotency-Key) "
                           "before repeating it");
    default:
        r->status = 0; /* fn's answer is not the truth any more */
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "%s", j->why);
    }
}

int ss_group_write(ss_req *r, ss_group_fn fn, void *arg)
{
    gjob j;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.fn = fn;
    j.arg = arg;
    pthread_cond_init(&j.cv, NULL);
    pthread_mutex_lock(&g.mu);
    if (g.stopping || start_lanes() != 0) {
        pthread_mutex_unlock(&g.mu);
        pthread_cond_destroy(&j.cv);
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the service is stopping");
    }
    j.state = G_QUEUED;
    if (g.tail != NULL)
        g.tail->next = &j;
    else
        g.head = &j;
    g.tail = &j;
    pthread_cond_signal(&g.work_cv);
    /* No timeout: a lane may be running fn on r, which lives on this thread's stack. The
     * statements are bounded by the database's own timeouts. */
    while (j.state != G_DONE)
        pthread_cond_wait(&j.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    pthread_cond_destroy(&j.cv);
    return settle(r, &j);
}

void ss_group_stop(void)
{
    pthread_mutex_lock(&g.mu);
    if (!g.started) {
        pthread_mutex_unlock(&g.mu);
        return;
    }
    g.stopping = true;
    pthread_cond_broadcast(&g.work_cv);
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < g.nlanes; i++)
        pthread_join(g.lane[i], NULL);
    pthread_mutex_lock(&g.mu);
    g.started = g.stopping = false;
    g.nlanes = 0;
    pthread_mutex_unlock(&g.mu);
}
