/* suspend.c - automatic suspension of unused accounts (H-1-8) and the
 * daily housekeeping, run by `sesshu-account suspend-inactive` and by a
 * daily timer thread in the service.
 *
 * A user's inactivity counts from the latest of: last login, creation, and
 * an admin re-enabling it (else a re-enabled user would be suspended again
 * by the next run). Users past SESSHU_INACTIVE_DAYS are suspended and their
 * sessions end; those past (days - SESSHU_INACTIVE_WARN_DAYS) get one
 * warning mail (warned_at, cleared by a login). The run holds an advisory
 * lock, so instances and the subcommand never run it twice at once, and it
 * is idempotent anyway.
 *
 * The built-in `chuokai-admin` is the break-glass account that re-enables
 * everyone else; it is warned but never suspended, or one quiet quarter
 * would lock the whole country out. Its use is in the access log. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "acct.h"
#include "sesshu/err.h"
#include "sesshu/log.h"

#define FIRST_RUN_DELAY_S 300 /* let a fresh start settle; restarts never skip a day */
#define PERIOD_S          86400

static int suspend_exec(ss_dbc *c, long *suspended, long *warned, PGresult **revoked)
{
    char days[24], warn[24];
    const char *params[] = {
        acct_num(days, acct_cfg.inactive_days), acct_num(warn, acct_cfg.inactive_warn_days),
        "【接種事務システム】アカウント停止の予告",
        "ユーザID %s のアカウントは、長期間ログインがないため %s に停止されます。\n"
        "引き続き利用する場合は、それまでにログインしてください。\n"
        "停止後は、組織の管理者ユーザに再開を依頼してください。\n"};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_acct_suspend_lock, 0, NULL, NULL);
    if (rc == 0)
        rc = ss_db_exec(c, sql_acct_suspend_inactive, 1, params, &res);
    if (rc != 0)
        return rc;
    *suspended = atol(PQcmdTuples(res));
    PQclear(res);
    res = NULL;
    if ((rc = acct_revoke(c, ACCT_REV_INACTIVE, "active", revoked)) != 0)
        return rc;
    rc = ss_db_exec(c, sql_acct_suspend_warn, 4, params, &res);
    if (rc != 0)
        return rc;
    *warned = atol(PQcmdTuples(res));
    PQclear(res);
    return 0;
}

int acct_suspend_run(ss_db *db, long *suspended, long *warned)
{
    ss_dbc *c = NULL;
    PGresult *revoked = NULL;
    long s = 0, w = 0;
    int rc;

    if ((rc = ss_db_acquire(db, &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) == 0 && (rc = suspend_exec(c, &s, &w, &revoked)) == 0 &&
        (rc = ss_db_commit(c)) == 0) {
        acct_revoke_apply(revoked);
        revoked = NULL;
        acct_mail_kick();
    }
    PQclear(revoked);
    ss_db_release(c);
    if (suspended != NULL)
        *suspended = rc == 0 ? s : 0;
    if (warned != NULL)
        *warned = rc == 0 ? w : 0;
    return rc;
}

int acct_housekeep(ss_db *db)
{
    static const char *const sql[] = {
        sql_acct_housekeep_sessions,     sql_acct_housekeep_refresh_tokens,
        sql_acct_housekeep_reset_tokens, sql_acct_housekeep_revocations,
        sql_acct_housekeep_outbox,
    };
    int rc = 0;

    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && rc == 0; i++)
        rc = ss_db_query(db, sql[i], 0, NULL, NULL);
    return rc;
}

/* ---- the daily timer ---------------------------------------------------- */

static pthread_mutex_t tm_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tm_cv;
static pthread_t tm_thread;
static bool tm_running, tm_stop;
static ss_db *tm_db;

static void run_once(void)
{
    long s = 0, w = 0;
    int rc = acct_suspend_run(tm_db, &s, &w);

    if (rc != 0)
        SS_ERROR("inactivity job failed: %s", ss_err_name(rc));
    else
        SS_INFO("inactivity job: %ld suspended, %ld warned", s, w);
    if ((rc = acct_housekeep(tm_db)) != 0)
        SS_WARN("housekeeping failed: %s", ss_err_name(rc));
}

static void *timer_main(void *arg)
{
    struct timespec due;

    (void)arg;
    ss_log_set_request_id("inactivity-timer");
    clock_gettime(CLOCK_MONOTONIC, &due);
    due.tv_sec += FIRST_RUN_DELAY_S;
    pthread_mutex_lock(&tm_mu);
    while (!tm_stop) {
        if (pthread_cond_timedwait(&tm_cv, &tm_mu, &due) == 0 || tm_stop)
            continue; /* woken to stop (or spuriously): re-check before the due time */
        pthread_mutex_unlock(&tm_mu);
        run_once();
        due.tv_sec += PERIOD_S;
        pthread_mutex_lock(&tm_mu);
    }
    pthread_mutex_unlock(&tm_mu);
    return NULL;
}

int acct_timer_start(ss_db *db)
{
    pthread_condattr_t attr;

    if (tm_running)
        return 0;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&tm_cv, &attr);
    pthread_condattr_destroy(&attr);
    tm_db = db;
    tm_stop = false;
    if (pthread_create(&tm_thread, NULL, timer_main, NULL) != 0)
        return SS_ERR_INTERNAL;
    tm_running = true;
    return 0;
}

void acct_timer_stop(void)
{
    if (!tm_running)
        return;
    pthread_mutex_lock(&tm_mu);
    tm_stop = true;
    pthread_cond_signal(&tm_cv);
    pthread_mutex_unlock(&tm_mu);
    pthread_join(tm_thread, NULL);
    pthread_cond_destroy(&tm_cv);
    tm_running = false;
}
