/* feed.c - keeps the statistics current from the records service's feed of every record
 * written (GET /internal/v1/stats-feed, authenticated by a service token of this service),
 * read through the library's feed client (sesshu/feed.h): each page after the stored cursor is
 * pseudonymised here (the person's id becomes a keyed hash under SESSHU_STATS_PSEUDONYM_KEY and
 * goes no further) and applied by stats.apply_page, which takes out what a changed record
 * counted for and counts its new state, with the cursor advanced in the same transaction: an
 * incremental refresh, never a rebuild. Called before every read, single flight, at most every
 * SESSHU_STATS_REFRESH_MS (default 0: every time); when a record changed, or the population or
 * schedules master did (the coverage datasets' denominators and target ages, stat_feed_inputs),
 * the published outputs are rendered again. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/feed.h"
#include "sesshu/log.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"
#include "stat.h"

static pthread_mutex_t feed_mu = PTHREAD_MUTEX_INITIALIZER;
static long long last_us;
static long refresh_ms;
static char *pkey;       /* the pseudonym key (owned, freed by stat_feed_free) */
static bool rendered;    /* the outputs were rendered by this process since it started */
static char inputs[128]; /* the other inputs of the datasets at that render (sql/feed.sql) */

/* HMAC-SHA256(key, person id) as hex into out (65 bytes). */
static void person_key(const char *id, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    HMAC(EVP_sha256(), pkey, (int)strlen(pkey), (const unsigned char *)id, strlen(id), mac, &n);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/* Replace each item's person_id by its keyed hash and number the items (ord). */
static int pseudonymise(json_t *items)
{
    size_t i;
    json_t *it;

    json_array_foreach (items, i, it) {
        const char *pid = json_string_value(json_object_get(it, "person_id"));
        char key[65];

        if (!json_is_object(it) || pid == NULL)
            return SS_ERR_UNAVAILABLE;
        person_key(pid, key);
        if (json_object_set_new(it, "person_key", json_string(key)) != 0 ||
            json_object_del(it, "person_id") != 0 ||
            json_object_set_new(it, "ord", json_integer((json_int_t)i)) != 0)
            return SS_ERR_NOMEM;
    }
    return 0;
}

/* A page, pseudonymised, counted by stats.apply_page in the transaction that advances the cursor
 * (sesshu/feed.h). */
static int apply_counts(ss_dbc *c, json_t *items, void *ud)
{
    char *doc;
    int rc;

    (void)ud;
    if ((rc = pseudonymise(items)) != 0)
        return rc;
    if ((doc = json_dumps(items, SS_JSON_COMPACT)) == NULL)
        return SS_ERR_NOMEM;
    const char *p[] = {doc};
    rc = ss_db_exec(c, sql_stat_feed_apply, 1, p, NULL);
    free(doc);
    return rc;
}

/* A page is about 550 bytes an item: 250 were chosen inside the library's answer limit when it
 * was 256 KiB (SS_SVC_MAX_ANSWER, 8 MiB since payment's claims feed; 1000 items broke every
 * refresh after a busy minute, found by
 * bench/stats.sh). Up to 400 pages (100,000 records) a refresh; what is left the next one reads.
 * A page another replica applied first ends the refresh: that replica carries on. */
static ss_feed feed = {
    .svc = "stats",
    .path = "/internal/v1/stats-feed",
    .limit = 250,
    .max_pages = 400,
    .timeout_ms = 5000,
    .sql_advance = sql_stat_feed_advance,
    .apply = apply_counts,
    .race_ends = true,
};

static int refresh_locked(bool *changed)
{
    char after[SS_FEED_CURSOR];
    ss_feed_result done;
    int rc;

    if ((rc = ss_feed_load(sql_stat_feed_cursor, after, sizeof(after))) != 0)
        return rc;
    if (after[0] == '\0')
        return SS_ERR_INTERNAL;
    rc = ss_feed_poll(&feed, after, &done);
    *changed = done.applied > 0;
    if (rc != 0 || done.raced)
        return rc;
    /* Nothing new is news too: the data is as of now. */
    return ss_db_query(ss_server_db(), sql_stat_feed_touch, 0, NULL, NULL);
}

int stat_refresh(void)
{
    long long now = ss_now_us();
    bool changed = false;
    char cur[128];
    int rc = 0;

    pthread_mutex_lock(&feed_mu);
    if (refresh_ms == 0 || last_us == 0 || now - last_us >= refresh_ms * 1000LL) {
        rc = refresh_locked(&changed);
        if (rc == 0) /* the datasets' inputs other than the counts, as of now */
            rc = ss_feed_load(sql_stat_feed_inputs, cur, sizeof(cur));
        if (rc == 0 && (changed || !rendered || strcmp(cur, inputs) != 0))
            rc = stat_render_all();
        if (rc == 0) {
            rendered = true;
            snprintf(inputs, sizeof(inputs), "%s", cur);
            last_us = now;
        } else {
            SS_WARN("the records feed could not be applied (%d): the figures may lag", rc);
        }
    }
    pthread_mutex_unlock(&feed_mu);
    return rc;
}

int stat_feed_init(void)
{
    int rc = ss_cfg_long(STAT_ENV_REFRESH_MS, 0, 0, 3600000, &refresh_ms);

    if (rc != 0)
        return rc;
    if ((pkey = ss_cfg_secret(STAT_ENV_PSEUDONYM_KEY)) == NULL || strlen(pkey) < 32) {
        SS_ERROR("%s(_FILE) must hold a key of at least 32 characters", STAT_ENV_PSEUDONYM_KEY);
        return SS_ERR_INTERNAL;
    }
    return 0;
}

void stat_feed_free(void)
{
    free(pkey);
    pkey = NULL;
}
