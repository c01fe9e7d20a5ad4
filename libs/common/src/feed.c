/* feed.c - the client of the records service's change feeds (feed.h): one page through
 * ss_svc_call, read, applied in the transaction that advances the stored cursor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/err.h"
#include "sesshu/feed.h"
#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

int ss_feed_path(const ss_feed *f, const char *after, char *out, size_t n)
{
    const char *sep = strchr(f->path, '?') != NULL ? "&" : "?";
    int len = after == NULL
                  ? snprintf(out, n, "%s", f->path)
                  : snprintf(out, n, "%s%safter=%s&limit=%d", f->path, sep, after, f->limit);

    return len < 0 || (size_t)len >= n ? SS_ERR_TOO_LARGE : 0;
}

void ss_feed_page_free(ss_feed_page *pg)
{
    json_decref(pg->answer);
    pg->answer = pg->items = NULL;
    pg->next[0] = '\0';
}

int ss_feed_page_parse(json_t *answer, ss_feed_page *pg)
{
    json_t *items = json_object_get(answer, "items");
    const char *next = json_string_value(json_object_get(answer, "next_after"));

    pg->answer = answer;
    pg->items = NULL;
    pg->next[0] = '\0';
    if (!json_is_array(items) || json_array_size(items) == 0 || next == NULL ||
        strlen(next) >= SS_FEED_CURSOR)
        return SS_ERR_NOT_FOUND;
    pg->items = items;
    snprintf(pg->next, sizeof(pg->next), "%s", next);
    return 0;
}

/* Refresh f->auth when it is older than SS_FEED_REUSE_S: a token is made per poll at most, not
 * per page. */
static int feed_auth(ss_feed *f)
{
    char *tok = NULL;
    int rc;

    if (f->auth_at + SS_FEED_REUSE_S >= ss_now_s())
        return 0;
    if ((rc = ss_svc_token(f->svc, "records", &tok)) != 0)
        return rc;
    snprintf(f->auth, sizeof(f->auth), "Bearer %s", tok);
    free(tok);
    f->auth_at = ss_now_s();
    return 0;
}

int ss_feed_get(ss_feed *f, const char *after, json_t **answer)
{
    char path[256];
    long status = 0;
    int rc;

    *answer = NULL;
    if ((rc = feed_auth(f)) != 0 || (rc = ss_feed_path(f, after, path, sizeof(path))) != 0)
        return rc;
    rc = ss_svc_call("RECORDS", SS_PORT_RECORDS, "GET", path, f->auth, NULL, NULL, f->timeout_ms,
                     &status, answer);
    if (rc == 0 && (status != 200 || !json_is_object(*answer))) {
        json_decref(*answer);
        *answer = NULL;
        rc = SS_ERR_UNAVAILABLE;
    }
    return rc;
}

int ss_feed_head(ss_feed *f, char head[SS_FEED_CURSOR])
{
    json_t *ans = NULL;
    const char *next;
    int rc;

    head[0] = '\0';
    if ((rc = ss_feed_get(f, NULL, &ans)) != 0)
        return rc;
    next = json_string_value(json_object_get(ans, "next_after"));
    if (next != NULL && strlen(next) < SS_FEED_CURSOR)
        snprintf(head, SS_FEED_CURSOR, "%s", next);
    else
        rc = SS_ERR_UNAVAILABLE;
    json_decref(ans);
    return rc;
}

/* One page after `after` in one transaction: the cursor first (so a replica that lost the race
 * does none of the page's work), then the caller's work. *moved: committed. */
static int apply_page(ss_feed *f, const char *after, ss_feed_page *pg, bool *moved)
{
    const char *p[2 + SS_FEED_KEYS] = {pg->next, after};
    int np = 2;
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    int rc;

    *moved = false;
    for (int i = 0; i < f->nkey && i < SS_FEED_KEYS; i++)
        p[np++] = f->key[i];
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = ss_db_exec(c, f->sql_advance, np, p, &res)) != 0)
        goto out;
    if (atoi(PQcmdTuples(res)) != 1) { /* another replica moved it: its work stands */
        rc = ss_db_rollback(c);
        goto out;
    }
    if ((rc = f->apply(c, pg->items, f->ud)) != 0)
        goto out;
    rc = ss_db_commit(c);
    *moved = rc == 0;
out:
    PQclear(res);
    ss_db_release(c);
    return rc;
}

int ss_feed_poll(ss_feed *f, const char *after, ss_feed_result *out)
{
    char cur[SS_FEED_CURSOR];

    out->applied = 0;
    out->raced = false;
    snprintf(cur, sizeof(cur), "%s", after);
    for (int page = 0; page < f->max_pages && cur[0] != '\0'; page++) {
        ss_feed_page pg = {0};
        json_t *ans = NULL;
        bool moved = false, full;
        int rc;

        if ((rc = ss_feed_get(f, cur, &ans)) != 0)
            return rc;
        if (ss_feed_page_parse(ans, &pg) != 0) { /* nothing new (or nothing usable) */
            ss_feed_page_free(&pg);
            return 0;
        }
        rc = apply_page(f, cur, &pg, &moved);
        out->applied += moved;
        out->raced = out->raced || (!moved && rc == 0);
        full = json_array_size(pg.items) >= (size_t)f->limit;
        snprintf(cur, sizeof(cur), "%s", pg.next);
        ss_feed_page_free(&pg);
        if (rc != 0 || !full || (!moved && f->race_ends))
            return rc;
    }
    return 0;
}

int ss_feed_load(const char *sql, char *out, size_t n)
{
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), sql, 0, NULL, &res);

    out[0] = '\0';
    if (rc == 0 && PQntuples(res) == 1)
        snprintf(out, n, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}
