/* feed.c - keeps the statistics current from the records service's feed of every record
 * written (GET /internal/v1/stats-feed, authenticated by a service token of this service):
 * each page after the stored cursor is pseudonymised here (the person's id becomes a keyed
 * hash under SESSHU_STATS_PSEUDONYM_KEY and goes no further) and applied by stats.apply_page,
 * which takes out what a changed record counted for and counts its new state, with the cursor
 * advanced in the same transaction: an incremental refresh, never a rebuild. Called before
 * every read, single flight, at most every SESSHU_STATS_REFRESH_MS (default 0: every time);
 * when a record changed, or the population or schedules master did (the coverage datasets'
 * denominators and target ages, stat_feed_inputs), the published outputs are rendered again. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"
#include "stat.h"

#define FEED_PATH "/internal/v1/stats-feed"
/* A page of the feed is about 550 bytes an item: 250 keep it well inside the library's 256 KiB
 * answer limit (SS_SVC_MAX_ANSWER; 1000 items broke every refresh after a busy minute, found by
 * bench/stats.sh). Up to 400 pages (100,000 records) a refresh; what is left the next one reads. */
#define FEED_PAGE     250
#define FEED_PAGES    400
#define FEED_TIMEOUT  5000
#define TOKEN_REUSE_S 30

static pthread_mutex_t feed_mu = PTHREAD_MUTEX_INITIALIZER;
static long long last_us;
static long refresh_ms;
static char auth[2048];
static long long auth_at;
static char *pkey;       /* the pseudonym key (owned, freed by stat_feed_free) */
static bool rendered;    /* the outputs were rendered by this process since it started */
static char inputs[128]; /* the other inputs of the datasets at that render (sql/feed.sql) */

static int feed_get(const char *after, json_t **ans)
{
    char path[160], *tok = NULL;
    long status = 0;
    int rc;

    if (auth_at + TOKEN_REUSE_S < ss_now_s()) {
        if ((rc = ss_svc_token("stats", "records", &tok)) != 0)
            return rc;
        snprintf(auth, sizeof(auth), "Bearer %s", tok);
        free(tok);
        auth_at = ss_now_s();
    }
    snprintf(path, sizeof(path), FEED_PATH "?after=%s&limit=%d", after, FEED_PAGE);
    rc = ss_svc_call("RECORDS", SS_PORT_RECORDS, "GET", path, auth, NULL, NULL, FEED_TIMEOUT,
                     &status, ans);
    if (rc == 0 && (status != 200 || !json_is_object(*ans))) {
        json_decref(*ans);
        *ans = NULL;
        rc = SS_ERR_UNAVAILABLE;
    }
    return rc;
}

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

/* Apply one page after cursor `after`, in one transaction; *moved false when another replica
 * moved the cursor meanwhile (its work stands). */
static int apply_page(const char *after, json_t *items, const char *next, bool *moved)
{
    ss_dbc *c = NULL;
    char *doc = NULL;
    PGresult *res = NULL;
    int rc;

    *moved = false;
    if ((rc = pseudonymise(items)) != 0)
        return rc;
    if ((doc = json_dumps(items, SS_JSON_COMPACT)) == NULL)
        return SS_ERR_NOMEM;
    const char *p1[] = {doc}, *p2[] = {next, after};
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        goto out;
    if ((rc = ss_db_begin(c)) != 0 || (rc = ss_db_exec(c, sql_stat_feed_advance, 2, p2, &res)) != 0)
        goto out;
    if (atoi(PQcmdTuples(res)) != 1) {
        rc = ss_db_rollback(c);
        goto out;
    }
    if ((rc = ss_db_exec(c, sql_stat_feed_apply, 1, p1, NULL)) != 0)
        goto out;
    rc = ss_db_commit(c);
    *moved = rc == 0;
out:
    PQclear(res);
    ss_db_release(c);
    free(doc);
    return rc;
}

static int load_after(char after[64])
{
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_stat_feed_cursor, 0, NULL, &res);

    after[0] = '\0';
    if (rc == 0 && PQntuples(res) == 1)
        snprintf(after, 64, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc == 0 && after[0] == '\0' ? SS_ERR_INTERNAL : rc;
}

static int refresh_locked(bool *changed)
{
    char after[64];
    json_t *ans = NULL;
    int rc;

    if ((rc = load_after(after)) != 0)
        return rc;
    for (int page = 0; page < FEED_PAGES; page++) {
        json_t *items;
        const char *next;
        bool moved = false;

        if ((rc = feed_get(after, &ans)) != 0)
            return rc;
        items = json_object_get(ans, "items");
        next = json_string_value(json_object_get(ans, "next_after"));
        if (!json_is_array(items) || json_array_size(items) == 0 || next == NULL ||
            strlen(next) >= 64) {
            json_decref(ans);
            break;
        }
        rc = apply_page(after, items, next, &moved);
        *changed = *changed || moved;
        snprintf(after, sizeof(after), "%s", next);
        if (rc != 0 || !moved || json_array_size(items) < FEED_PAGE) {
            json_decref(ans);
            if (rc != 0 || !moved)
                return rc;
            break;
        }
        json_decref(ans);
        ans = NULL;
    }
    /* Nothing new is news too: the data is as of now. */
    return ss_db_query(ss_server_db(), sql_stat_feed_touch, 0, NULL, NULL);
}

/* The datasets' inputs other than the counts, as of now, into cur. */
static int load_inputs(char cur[128])
{
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql_stat_feed_inputs, 0, NULL, &res);

    cur[0] = '\0';
    if (rc == 0 && PQntuples(res) == 1)
        snprintf(cur, 128, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
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
        if (rc == 0)
            rc = load_inputs(cur);
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
