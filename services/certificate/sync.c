/* sync.c - keeps the issuance log's statuses current: the records service's change feed of
 * corrected and voided records and changed persons (GET /internal/v1/immunization-changes,
 * authenticated by a service token of this service) is read after the last cursor; every
 * record's latest state goes into certificate.record_states, every changed person's identity
 * digest (name, birth date) into person_states, and every valid certificate carrying an older
 * record version becomes superseded (corrected) or revoked (voided), every one printed with
 * another name or birth date superseded (person-corrected), with the cursor advanced in the
 * same transaction. Called before anything that shows a status (verify, the log, the CRL), single
 * flight, at most every SESSHU_CERTIFICATE_SYNC_MS (default 0: every time). A certificate
 * issued after the feed told of a correction gets its status in its own insert (cert_issue). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

#define FEED_PATH     "/internal/v1/immunization-changes"
#define FEED_PAGE     500
#define FEED_PAGES    20
#define FEED_TIMEOUT  3000
#define TOKEN_REUSE_S 30

static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
static long long last_sync_us;
static long sync_min_ms;
static char auth[2048];
static long long auth_at;

static int feed_get(const char *after, json_t **ans)
{
    char path[160], *tok = NULL;
    long status = 0;
    int rc;

    if (auth_at + TOKEN_REUSE_S < ss_now_s()) {
        if ((rc = ss_svc_token("certificate", "records", &tok)) != 0)
            return rc;
        snprintf(auth, sizeof(auth), "Bearer %s", tok);
        free(tok);
        auth_at = ss_now_s();
    }
    if (after != NULL)
        snprintf(path, sizeof(path), FEED_PATH "?after=%s&limit=%d", after, FEED_PAGE);
    else
        snprintf(path, sizeof(path), FEED_PATH);
    rc = ss_svc_call("RECORDS", SS_PORT_RECORDS, "GET", path, auth, NULL, NULL, FEED_TIMEOUT,
                     &status, ans);
    if (rc == 0 && (status != 200 || !json_is_object(*ans))) {
        json_decref(*ans);
        *ans = NULL;
        rc = SS_ERR_UNAVAILABLE;
    }
    return rc;
}

/* The stored cursor into after (64 bytes); "" when the feed was never started. */
static int load_after(char after[64])
{
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_cert_feed_after, 0, NULL, &res);

    after[0] = '\0';
    if (rc == 0 && PQntuples(res) == 1)
        snprintf(after, 64, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* Start the feed at the records service's current head: what was corrected before this
 * service's first run concerns no certificate. */
static int start_feed(void)
{
    json_t *ans = NULL;
    const char *head;
    int rc;

    if ((rc = feed_get(NULL, &ans)) != 0)
        return rc;
    head = json_string_value(json_object_get(ans, "next_after"));
    if (head != NULL && strlen(head) < 64) {
        const char *p[] = {head};
        rc = ss_db_query(ss_server_db(), sql_cert_feed_start, 1, p, NULL);
    } else {
        rc = SS_ERR_UNAVAILABLE;
    }
    json_decref(ans);
    return rc;
}

/* Apply one page (items, next) after cursor `after`, in one transaction. */
static int apply_page(const char *after, const json_t *items, const char *next)
{
    ss_dbc *c = NULL;
    char *doc = json_dumps(items, JSON_COMPACT);
    const char *p1[] = {doc}, *p2[] = {next, after};
    PGresult *res = NULL;
    int rc;

    if (doc == NULL)
        return SS_ERR_NOMEM;
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        goto out;
    if ((rc = ss_db_begin(c)) != 0 ||
        (rc = ss_db_exec(c, sql_cert_feed_record_states, 1, p1, NULL)) != 0 ||
        (rc = ss_db_exec(c, sql_cert_feed_person_states, 1, p1, NULL)) != 0 ||
        (rc = ss_db_exec(c, sql_cert_feed_apply, 1, p1, NULL)) != 0 ||
        (rc = ss_db_exec(c, sql_cert_feed_advance, 2, p2, &res)) != 0)
        goto out;
    /* Another replica moved the cursor meanwhile: its work stands, ours is not needed. */
    if (atoi(PQcmdTuples(res)) != 1) {
        rc = ss_db_rollback(c);
        goto out;
    }
    rc = ss_db_commit(c);
out:
    PQclear(res);
    ss_db_release(c);
    free(doc);
    return rc;
}

static int sync_locked(void)
{
    char after[64];
    json_t *ans = NULL;
    int rc;

    if ((rc = load_after(after)) != 0)
        return rc;
    if (after[0] == '\0') {
        if ((rc = start_feed()) != 0 || (rc = load_after(after)) != 0)
            return rc;
    }
    for (int page = 0; page < FEED_PAGES && after[0] != '\0'; page++) {
        const json_t *items;
        const char *next;

        if ((rc = feed_get(after, &ans)) != 0)
            return rc;
        items = json_object_get(ans, "items");
        next = json_string_value(json_object_get(ans, "next_after"));
        if (!json_is_array(items) || json_array_size(items) == 0 || next == NULL ||
            strlen(next) >= 64) {
            json_decref(ans);
            return 0;
        }
        rc = apply_page(after, items, next);
        snprintf(after, sizeof(after), "%s", next);
        json_decref(ans);
        ans = NULL;
        if (rc != 0 || json_array_size(items) < FEED_PAGE)
            return rc;
    }
    return 0;
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
