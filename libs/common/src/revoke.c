/* revoke.c - the set of revoked session ids and its poller (jwt.h).
 *
 * Writers (account, later token) insert into authz.revocations and call
 * ss_jwt_revoke_local; every process polls the table, so a revocation is
 * honoured everywhere within SESSHU_REVOCATION_POLL_MS. Entries are dropped
 * once the tokens they refuse have expired. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwt_internal.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/log.h"
#include "sesshu/text.h"

#define SS_REV_BUCKETS 4096

typedef struct rev {
    struct rev *next;
    long long exp;
    long long revoked_at; /* unix seconds: tokens issued up to then are refused */
    char sid[48];
} rev;

static rev *buckets[SS_REV_BUCKETS];
static pthread_rwlock_t rev_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_t poller;
static bool poller_running;
static bool poller_stop;
static pthread_mutex_t poll_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poll_cv = PTHREAD_COND_INITIALIZER;
static ss_db *poll_db;

ss_db *ss_jwt_db(void)
{
    return __atomic_load_n(&poll_db, __ATOMIC_ACQUIRE);
}
static long poll_ms = 1000;

static unsigned hash_sid(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % SS_REV_BUCKETS;
}

static void revoke_at(const char *sid, long long exp, long long revoked_at);

void ss_jwt_revoke_local(const char *sid, long long exp)
{
    revoke_at(sid, exp, ss_now_s());
}

static void revoke_at(const char *sid, long long exp, long long revoked_at)
{
    unsigned b;
    rev *r;

    if (sid == NULL || sid[0] == '\0')
        return;
    b = hash_sid(sid);
    pthread_rwlock_wrlock(&rev_lock);
    for (r = buckets[b]; r != NULL; r = r->next)
        if (strcmp(r->sid, sid) == 0)
            break;
    if (r == NULL && (r = calloc(1, sizeof(*r))) != NULL) {
        snprintf(r->sid, sizeof(r->sid), "%s", sid);
        r->next = buckets[b];
        buckets[b] = r;
    }
    if (r != NULL && exp > r->exp)
        r->exp = exp;
    if (r != NULL && revoked_at > r->revoked_at)
        r->revoked_at = revoked_at;
    pthread_rwlock_unlock(&rev_lock);
}

bool ss_jwt_is_revoked_since(const char *key, long long iat)
{
    bool found = false;

    if (key == NULL || key[0] == '\0')
        return false;
    pthread_rwlock_rdlock(&rev_lock);
    for (rev *r = buckets[hash_sid(key)]; r != NULL && !found; r = r->next)
        found = strcmp(r->sid, key) == 0 && iat < r->revoked_at;
    pthread_rwlock_unlock(&rev_lock);
    return found;
}

bool ss_jwt_is_revoked(const char *sid)
{
    bool found = false;

    if (sid == NULL || sid[0] == '\0')
        return false;
    pthread_rwlock_rdlock(&rev_lock);
    for (rev *r = buckets[hash_sid(sid)]; r != NULL && !found; r = r->next)
        found = strcmp(r->sid, sid) == 0;
    pthread_rwlock_unlock(&rev_lock);
    return found;
}

/* Drop entries whose tokens have expired (with the verifier's leeway). */
static void purge_expired(void)
{
    long long now = ss_now_s();

    pthread_rwlock_wrlock(&rev_lock);
    for (int b = 0; b < SS_REV_BUCKETS; b++) {
        rev **pp = &buckets[b];
        while (*pp != NULL) {
            rev *r = *pp;
            if (r->exp + 60 < now) {
                *pp = r->next;
                free(r);
            } else {
                pp = &r->next;
            }
        }
    }
    pthread_rwlock_unlock(&rev_lock);
}

/* One poll; `since_us` advances to the newest revoked_at seen. */
static void poll_once(long long *since_us)
{
    char since[32];
    const char *params[1] = {since};
    PGresult *res = NULL;

    /* 10 s overlap: a revocation committed late with an earlier revoked_at is not missed. */
    snprintf(since, sizeof(since), "%lld", *since_us - 10000000LL);
    if (ss_db_query(poll_db,
                    "SELECT sid, extract(epoch FROM expires_at)::bigint, "
                    "(extract(epoch FROM revoked_at) * 1000000)::bigint FROM authz.revocations "
                    "WHERE revoked_at > to_timestamp($1::bigint / 1000000.0) AND expires_at > "
                    "now() - interval '1 minute'",
                    1, params, &res) != 0)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        long long rat = atoll(PQgetvalue(res, i, 2));
        revoke_at(PQgetvalue(res, i, 0), atoll(PQgetvalue(res, i, 1)), rat / 1000000LL);
        if (rat > *since_us)
            *since_us = rat;
    }
    PQclear(res);
}

static void *poll_main(void *arg)
{
    long long since_us = 10000000LL; /* first poll loads every live revocation */
    unsigned ticks = 0;

    (void)arg;
    ss_log_set_request_id("revocation-poller");
    pthread_mutex_lock(&poll_mu);
    while (!poller_stop) {
        struct timespec ts;

        pthread_mutex_unlock(&poll_mu);
        poll_once(&since_us);
        if (++ticks % 60 == 0)
            purge_expired();
        ss_deadline(&ts, CLOCK_REALTIME, poll_ms);
        pthread_mutex_lock(&poll_mu);
        if (!poller_stop)
            pthread_cond_timedwait(&poll_cv, &poll_mu, &ts);
    }
    pthread_mutex_unlock(&poll_mu);
    return NULL;
}

int ss_jwt_start_revocation_poller(ss_db *db)
{
    int rc = ss_cfg_long(SS_ENV_REVOCATION_POLL_MS, 1000, 50, 60000, &poll_ms);

    if (rc != 0)
        return rc;
    poll_db = db;
    poller_stop = false;
    if (pthread_create(&poller, NULL, poll_main, NULL) != 0)
        return SS_ERR_INTERNAL;
    poller_running = true;
    return 0;
}

void ss_jwt_stop_revocation_poller(void)
{
    if (!poller_running)
        return;
    pthread_mutex_lock(&poll_mu);
    poller_stop = true;
    pthread_cond_signal(&poll_cv);
    pthread_mutex_unlock(&poll_mu);
    pthread_join(poller, NULL);
    poller_running = false;
    pthread_rwlock_wrlock(&rev_lock);
    for (int b = 0; b < SS_REV_BUCKETS; b++) {
        while (buckets[b] != NULL) {
            rev *r = buckets[b];
            buckets[b] = r->next;
            free(r);
        }
    }
    pthread_rwlock_unlock(&rev_lock);
}
