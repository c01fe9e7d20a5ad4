/* sync.c - keeps the issuance log's statuses current: the records service's change feed of
 * corrected and voided records and changed persons (GET /internal/v1/immunization-changes,
 * authenticated by a service token of this service) is read after the last cursor through the
 * library's feed client (sesshu/feed.h: paging, the token, what a bad page means); every
 * record's latest state goes into certificate.record_states, every changed person's identity
 * digest (name, birth date) into person_states, and every valid certificate carrying an older
 * record version becomes superseded (corrected) or revoked (voided), every one printed with
 * another name or birth date superseded (person-corrected), with the cursor advanced in the
 * same transaction. Called before anything that shows a status (verify, the log, the CRL), single
 * flight, at most every SESSHU_CERTIFICATE_SYNC_MS (default 0: every time). A certificate
 * issued after the feed told of a correction gets its status in its own insert (cert_issue). */
#include <pthread.h>
#include <stdlib.h>

#include "cert.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/feed.h"
#include "sesshu/log.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
static long long last_sync_us;
static long sync_min_ms;

/* A page's statuses, in the transaction that advances the cursor (sesshu/feed.h). */
static int apply_states(ss_dbc *c, json_t *items, void *ud)
{
    char *doc = json_dumps(items, JSON_COMPACT);
    const char *p[] = {doc};
    int rc;

    (void)ud;
    if (doc == NULL)
        return SS_ERR_NOMEM;
    if ((rc = ss_db_exec(c, sql_cert_feed_record_states, 1, p, NULL)) == 0 &&
        (rc = ss_db_exec(c, sql_cert_feed_person_states, 1, p, NULL)) == 0)
        rc = ss_db_exec(c, sql_cert_feed_apply, 1, p, NULL);
    free(doc);
    return rc;
}

/* A page another replica applied first does not end the poll: the caller (verify, the log, the
 * CRL) wants the statuses current now, and the pages after it are still to be read. */
static ss_feed feed = {
    .svc = "certificate",
    .path = "/internal/v1/immunization-changes",
    .limit = 500,
    .max_pages = 20,
    .timeout_ms = 3000,
    .sql_advance = sql_cert_feed_advance,
    .apply = apply_states,
};

/* Start the feed at the records service's current head: what was corrected before this
 * service's first run concerns no certificate. */
static int start_feed(void)
{
    char head[SS_FEED_CURSOR];
    const char *p[] = {head};
    int rc;

    if ((rc = ss_feed_head(&feed, head)) != 0)
        return rc;
    return ss_db_query(ss_server_db(), sql_cert_feed_start, 1, p, NULL);
}

static int sync_locked(void)
{
    char after[SS_FEED_CURSOR];
    ss_feed_result done;
    int rc;

    if ((rc = ss_feed_load(sql_cert_feed_after, after, sizeof(after))) != 0)
        return rc;
    if (after[0] == '\0') {
        if ((rc = start_feed()) != 0 ||
            (rc = ss_feed_load(sql_cert_feed_after, after, sizeof(after))) != 0)
            return rc;
    }
    return ss_feed_poll(&feed, after, &done);
}

/* Coalesced: a caller needs a poll that started after it arrived. While one runs, every caller
 * that arrives waits for the next one, which one of them starts and all share; so a burst of
 * requests costs two polls, not one each (and nobody holds the mutex across the HTTP call). */
int cert_sync(void)
{
    static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
    static unsigned long started, done;
    static bool running;
    static int last_rc;
    unsigned long mine;
    int rc = 0;

    pthread_mutex_lock(&sync_mu);
    if (sync_min_ms != 0 && ss_now_us() - last_sync_us < sync_min_ms * 1000LL) {
        pthread_mutex_unlock(&sync_mu);
        return 0;
    }
    mine = started + 1;
    while (done < mine) {
        if (running) {
            pthread_cond_wait(&done_cv, &sync_mu);
            continue;
        }
        running = true;
        unsigned long gen = ++started;
        long long at = ss_now_us();
        pthread_mutex_unlock(&sync_mu);
        rc = sync_locked();
        if (rc != 0)
            SS_WARN("the records change feed could not be read (%d): statuses may lag", rc);
        pthread_mutex_lock(&sync_mu);
        running = false;
        done = gen;
        last_rc = rc;
        if (rc == 0)
            last_sync_us = at;
        pthread_cond_broadcast(&done_cv);
    }
    rc = last_rc;
    pthread_mutex_unlock(&sync_mu);
    return rc;
}

int cert_sync_init(void)
{
    return ss_cfg_long(CERT_ENV_SYNC_MS, 0, 0, 600000, &sync_min_ms);
}
