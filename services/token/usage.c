/* usage.c - clients' last use and use counts. A grant must not write the
 * client's row (one hot row per busy client, a synchronous commit per
 * grant): uses are counted in memory and added to token.clients once a
 * second, and before any handler reads them (GET of clients), so an admin
 * never sees a count older than this process's last second. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sesshu/err.h"
#include "sesshu/log.h"
#include "tok.h"

#define USAGE_SLOTS 1024 /* distinct clients per second before an early flush */

typedef struct use_slot {
    char id[40];
    long long n;
} use_slot;

static use_slot slots[USAGE_SLOTS];
static int nused;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t flush_mu = PTHREAD_MUTEX_INITIALIZER; /* one flush at a time */
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool running, stopping;
static ss_db *usage_db;

static unsigned hash_id(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % USAGE_SLOTS;
}

/* Count one use; false when the table is too full (flush, then retry). */
static bool count_locked(const char *id)
{
    unsigned i = hash_id(id);

    if (nused >= USAGE_SLOTS * 3 / 4)
        return false;
    while (slots[i].id[0] != '\0' && strcmp(slots[i].id, id) != 0)
        i = (i + 1) % USAGE_SLOTS;
    if (slots[i].id[0] == '\0') {
        snprintf(slots[i].id, sizeof(slots[i].id), "%s", id);
        nused++;
    }
    slots[i].n++;
    return true;
}

void tok_usage_count(const char *id)
{
    bool ok;

    pthread_mutex_lock(&mu);
    ok = count_locked(id);
    pthread_mutex_unlock(&mu);
    if (!ok && tok_usage_flush() == 0) {
        pthread_mutex_lock(&mu);
        count_locked(id);
        pthread_mutex_unlock(&mu);
    }
}

/* Take the counts as two PostgreSQL array literals (ids, counts). */
static int take(char **ids, char **counts)
{
    size_t cap = (size_t)USAGE_SLOTS * 41 + 4, ui = 0, uc = 0;
    int rc = 0;

    *ids = malloc(cap);
    *counts = malloc(cap);
    if (*ids == NULL || *counts == NULL)
        return SS_ERR_NOMEM;
    (*ids)[ui++] = '{';
    (*counts)[uc++] = '{';
    pthread_mutex_lock(&mu);
    for (int i = 0; i < USAGE_SLOTS; i++) {
        if (slots[i].id[0] == '\0')
            continue;
        ui += (size_t)snprintf(*ids + ui, cap - ui, "%s%s", ui > 1 ? "," : "", slots[i].id);
        uc += (size_t)snprintf(*counts + uc, cap - uc, "%s%lld", uc > 1 ? "," : "", slots[i].n);
        slots[i].id[0] = '\0';
        slots[i].n = 0;
    }
    rc = nused;
    nused = 0;
    pthread_mutex_unlock(&mu);
    snprintf(*ids + ui, cap - ui, "}");
    snprintf(*counts + uc, cap - uc, "}");
    return rc;
}

int tok_usage_flush(void)
{
    char *ids = NULL, *counts = NULL;
    int n, rc = 0;

    if (usage_db == NULL)
        return 0;
    pthread_mutex_lock(&flush_mu);
    n = take(&ids, &counts);
    if (n > 0) {
        const char *params[] = {ids, counts};

        rc = ss_db_query(usage_db, sql_tok_usage_add, 2, params, NULL);
        if (rc != 0)
            SS_WARN("client use counts of %d clients not recorded: %s", n, ss_err_title(rc));
    } else if (n < 0) {
        rc = n;
    }
    pthread_mutex_unlock(&flush_mu);
    free(ids);
    free(counts);
    return rc;
}

static void *usage_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&cv, &mu, &ts);
        pthread_mutex_unlock(&mu);
        tok_usage_flush();
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int tok_usage_start(ss_db *db)
{
    usage_db = db;
    stopping = false;
    if (pthread_create(&thread, NULL, usage_loop, NULL) != 0)
        return SS_ERR_INTERNAL;
    running = true;
    return 0;
}

void tok_usage_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    running = false;
    tok_usage_flush(); /* what came in since */
}
