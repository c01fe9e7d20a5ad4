/* cache.c - clients that just authenticated by their current secret, kept for
 * SESSHU_TOKEN_CLIENT_CACHE_MS (default 1000, 0 = off), so that a busy
 * client's grants do not each wait for a database round trip (bench/token.sh:
 * the read and its wake-ups were the largest cost of a grant after the
 * access-log row itself).
 *
 * What stays exact: only a successful database check puts an entry (a wrong
 * secret never does); a hit needs the same SHA-256 of the presented secret,
 * compared in constant time; clients with allowed_addresses are never kept
 * (the address is checked by the database on every grant); an entry is
 * refused as soon as this process knows its generation revoked (disabled,
 * deleted, narrowed: every service polls authz.revocations) or its
 * organisation disabled at or after the entry was read ("org:<id>"); every
 * change of a client made through this process forgets the entry at once,
 * and a read that raced with such a change is not kept (epoch).
 * What may lag, by at most the lifetime: a change made through another
 * instance of this service, and the disabling of the organisation until the
 * revocation poll has seen it. Both are within the second the rest of the
 * system already takes to refuse a revoked token (README "Revocation"). */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sesshu/jwt.h"
#include "sesshu/text.h"
#include "tok.h"

#define CACHE_SLOTS 512 /* direct-mapped by client id; a collision only costs a read */

typedef struct cache_slot {
    tok_client c;
    char hash[65];      /* SHA-256 hex of the secret that was checked */
    long long until_us; /* usable before this */
    long long read_s;   /* when the database said yes (org revocations after it count) */
} cache_slot;

static cache_slot slots[CACHE_SLOTS];
static unsigned long long epoch; /* bumped by every forget; guarded by mu */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned slot_of(const char *id)
{
    unsigned h = 2166136261u;

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h % CACHE_SLOTS;
}

unsigned long long tok_cache_epoch(void)
{
    unsigned long long e;

    pthread_mutex_lock(&mu);
    e = epoch;
    pthread_mutex_unlock(&mu);
    return e;
}

bool tok_cache_get(const char *id, const char hash[65], tok_client *out)
{
    cache_slot s;
    char org_key[48];
    bool hit;

    if (tok_cfg.client_cache_ms <= 0)
        return false;
    pthread_mutex_lock(&mu);
    s = slots[slot_of(id)];
    pthread_mutex_unlock(&mu);
    hit = s.c.id[0] != '\0' && strcmp(s.c.id, id) == 0 && ss_now_us() < s.until_us &&
          CRYPTO_memcmp(s.hash, hash, 64) == 0;
    if (!hit)
        return false;
    snprintf(org_key, sizeof(org_key), "org:%s", s.c.org_id);
    /* read_s - 1: a revocation in the second of the read counts (see ss_jwt_is_revoked_since) */
    if (ss_jwt_is_revoked(s.c.gen) || ss_jwt_is_revoked_since(org_key, s.read_s - 1)) {
        tok_cache_forget(id);
        return false;
    }
    *out = s.c;
    return true;
}

void tok_cache_put(const tok_client *c, const char hash[65], unsigned long long read_epoch,
                   long long read_s)
{
    cache_slot *s;

    if (tok_cfg.client_cache_ms <= 0)
        return;
    pthread_mutex_lock(&mu);
    if (read_epoch == epoch) { /* no change of any client since the read began */
        s = &slots[slot_of(c->id)];
        s->c = *c;
        memcpy(s->hash, hash, 65);
        s->read_s = read_s;
        s->until_us = ss_now_us() + tok_cfg.client_cache_ms * 1000LL;
    }
    pthread_mutex_unlock(&mu);
}

void tok_cache_forget(const char *id)
{
    cache_slot *s;

    pthread_mutex_lock(&mu);
    epoch++;
    s = &slots[slot_of(id)];
    if (strcmp(s->c.id, id) == 0)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&mu);
}
