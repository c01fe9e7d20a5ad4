/* feed.h - the client of the records service's change feeds (GET /internal/v1/<feed>?after=
 * <cursor>&limit=N, answering {items: [...], next_after: "<cursor>"}), which the certificate
 * (immunization-changes) and stats (stats-feed) services poll instead of reading records'
 * tables (docs/architecture.md). One client, so paging, the service token and what a bad page
 * means are the same for every reader of a feed.
 *
 * A poll reads pages after the caller's stored cursor and hands each to the caller's apply
 * function inside one transaction that also moves the stored cursor from `after` to the page's
 * next_after (the caller's advance statement: $1 next, $2 after, then the cursor's key if the
 * reader keeps several; one row when the cursor was still `after`). A page is never applied twice:
 * a replica that finds the cursor moved rolls its page back. The poll stops at an empty or short
 * page, a malformed page (no items array, no next_after, a cursor of SS_FEED_CURSOR bytes or more:
 * as if nothing were new), an error, or after max_pages. There is no retry inside a poll: the
 * services poll before each read, so the next read is the retry, and a poll that failed leaves the
 * cursor where the last good page put it.
 *
 * Not thread-safe per ss_feed (the token it keeps): one poll at a time, the caller's single
 * flight (both services have one). */
#ifndef SESSHU_FEED_H
#define SESSHU_FEED_H

#include <jansson.h>
#include <stdbool.h>

#include "sesshu/db.h"

#define SS_FEED_CURSOR  64 /* bytes a cursor may take with its NUL */
#define SS_FEED_REUSE_S 30 /* seconds a service token is reused (it lives 60) */
#define SS_FEED_KEYS    4  /* parameters that name a stored cursor, at most */

/* A page's work on the leased connection, inside the transaction that advances the cursor:
 * 0 or an error (the transaction is rolled back). items may be changed (stats pseudonymises
 * them before it writes them). */
typedef int (*ss_feed_apply_fn)(ss_dbc *c, json_t *items, void *ud);

typedef struct ss_feed {
    const char *svc;         /* the calling service, the token's subject ("stats") */
    const char *path;        /* the feed on the records service ("/internal/v1/stats-feed") */
    int limit;               /* items a page asks for; a shorter page is the last */
    int max_pages;           /* pages a poll reads at most; the next poll reads on */
    long timeout_ms;         /* a page's call */
    const char *sql_advance; /* $1 next, $2 after: moves the stored cursor (see above) */
    const char *const *key;  /* $3.. of sql_advance: which stored cursor, when a reader keeps
                                several (payment: one per institution and month); or NULL */
    int nkey;                /* how many (at most SS_FEED_KEYS) */
    ss_feed_apply_fn apply;
    void *ud;          /* handed to apply */
    bool race_ends;    /* a page another replica applied first ends the poll (else it reads on) */
    char auth[2048];   /* "Bearer <service token>", kept SS_FEED_REUSE_S */
    long long auth_at; /* when auth was made (s) */
} ss_feed;

/* A feed's answer, read: items borrowed from answer (both NULL when there is nothing). */
typedef struct ss_feed_page {
    json_t *answer;
    json_t *items;
    char next[SS_FEED_CURSOR];
} ss_feed_page;

/* What a poll did: pages applied (and committed) by this process; whether it met a page another
 * replica had applied. */
typedef struct ss_feed_result {
    int applied;
    bool raced;
} ss_feed_result;

/* The path of a page after `after` (NULL: the feed without a cursor, which answers its head) into
 * out (n bytes); a path with a query of its own (a feed filtered by the reader:
 * "/internal/v1/claims-feed?institution_code=...") gets the cursor after an '&'. 0, or
 * SS_ERR_TOO_LARGE when it does not fit. */
int ss_feed_path(const ss_feed *f, const char *after, char *out, size_t n);
/* Read an answer (stolen) into pg: 0 with pg->items an array of at least one item and pg->next
 * the next cursor; SS_ERR_NOT_FOUND (nothing to apply: pg holds nothing) for an empty or
 * malformed page. ss_feed_page_free frees pg either way. */
int ss_feed_page_parse(json_t *answer, ss_feed_page *pg);
void ss_feed_page_free(ss_feed_page *pg);

/* One page after `after` (NULL: the head) through ss_svc_call on the records service, with a
 * service token of f->svc for audience records: 0 with *answer (new reference), or
 * SS_ERR_UNAVAILABLE (no answer, or not 200 with a JSON object), or the token's error. */
int ss_feed_get(ss_feed *f, const char *after, json_t **answer);
/* The feed's head, the cursor a reader that starts now starts from (next_after of the page
 * without a cursor) into head: 0, or SS_ERR_UNAVAILABLE (no answer, no usable cursor). */
int ss_feed_head(ss_feed *f, char head[SS_FEED_CURSOR]);
/* Poll the feed after the stored cursor `after` (see above): 0 or the first error; *out says
 * what was done (also on an error). */
int ss_feed_poll(ss_feed *f, const char *after, ss_feed_result *out);

/* A stored value, such as the cursor: the first column of the one row of sql (no parameters, on
 * ss_server_db) into out (n bytes, cut to fit), "" when there is no row. 0 or the database
 * error. */
int ss_feed_load(const char *sql, char *out, size_t n);

#endif
