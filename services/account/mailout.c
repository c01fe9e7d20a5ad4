/* mailout.c - the mail outbox and its sender thread.
 *
 * Handlers queue mail in account.outbox inside their own transaction, so a
 * mail exists exactly when the change that causes it committed, and the
 * answer never waits on SMTP (nor takes longer when a mail is due: H-1-5,
 * H-1-6 must not reveal whether an account exists). The sender claims due
 * rows with FOR UPDATE SKIP LOCKED (several instances may run), sends them
 * with ss_mail_send, retries with a growing delay, and wipes the body once
 * it is sent or given up, since it may hold a reset token. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "acct.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/mail.h"

#define IDLE_POLL_S 5

static pthread_mutex_t mo_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mo_cv;
static pthread_t mo_thread;
static bool mo_running, mo_stop, mo_kicked;
static ss_db *mo_db;

static int mark(ss_dbc *c, const char *id, int send_rc)
{
    const char *params[] = {id, send_rc == 0 ? NULL : ss_err_name(send_rc)};

    if (send_rc == 0)
        return ss_db_exec(c, sql_acct_outbox_sent, 1, params, NULL);
    return ss_db_exec(c, sql_acct_outbox_failed, 2, params, NULL);
}

/* One batch of due mail; *n receives how many rows were claimed. */
static int send_batch(ss_db *db, int *n, int *sent)
{
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    int rc;

    *n = 0;
    if ((rc = ss_db_acquire(db, &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = ss_db_exec(c, sql_acct_outbox_due, 0, NULL, &res)) != 0)
        goto out;
    *n = PQntuples(res);
    for (int i = 0; i < *n && rc == 0; i++) {
        int mrc = ss_mail_send(PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
        if (mrc != 0)
            SS_WARN("mail %s (%s) not sent: %s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 2),
                    ss_err_name(mrc));
        else if (sent != NULL)
            (*sent)++;
        rc = mark(c, PQgetvalue(res, i, 0), mrc);
    }
    if (rc == 0)
        rc = ss_db_commit(c);
out:
    PQclear(res);
    ss_db_release(c);
    return rc;
}

int acct_mail_flush(ss_db *db, int *sent)
{
    int n = 0, rc;

    if (sent != NULL)
        *sent = 0;
    /* Bounded: failures are rescheduled into the future, so each round shrinks the due set. */
    for (int round = 0; round < 1000; round++)
        if ((rc = send_batch(db, &n, sent)) != 0 || n == 0)
            return rc;
    return 0;
}

static void *mail_main(void *arg)
{
    int n = 0;

    (void)arg;
    ss_log_set_request_id("mail-sender");
    pthread_mutex_lock(&mo_mu);
    while (!mo_stop) {
        struct timespec ts;

        mo_kicked = false;
        pthread_mutex_unlock(&mo_mu);
        if (send_batch(mo_db, &n, NULL) != 0)
            n = 0; /* database down: try again after the idle wait */
        pthread_mutex_lock(&mo_mu);
        if (n > 0 || mo_kicked || mo_stop)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += IDLE_POLL_S;
        pthread_cond_timedwait(&mo_cv, &mo_mu, &ts);
    }
    pthread_mutex_unlock(&mo_mu);
    return NULL;
}

int acct_mail_start(ss_db *db)
{
    pthread_condattr_t attr;

    if (mo_running)
        return 0;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&mo_cv, &attr);
    pthread_condattr_destroy(&attr);
    mo_db = db;
    mo_stop = false;
    if (pthread_create(&mo_thread, NULL, mail_main, NULL) != 0)
        return SS_ERR_INTERNAL;
    mo_running = true;
    return 0;
}

void acct_mail_kick(void)
{
    pthread_mutex_lock(&mo_mu);
    mo_kicked = true;
    if (mo_running)
        pthread_cond_signal(&mo_cv);
    pthread_mutex_unlock(&mo_mu);
}

void acct_mail_stop(void)
{
    if (!mo_running)
        return;
    pthread_mutex_lock(&mo_mu);
    mo_stop = true;
    pthread_cond_signal(&mo_cv);
    pthread_mutex_unlock(&mo_mu);
    pthread_join(mo_thread, NULL);
    pthread_cond_destroy(&mo_cv);
    mo_running = false;
}
