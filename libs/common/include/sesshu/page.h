/* page.h - pages of a list (limit, keyset cursor) and the query string's checks (split from http.h,
 * issue 16 §4). */
#ifndef SESSHU_PAGE_H
#define SESSHU_PAGE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "sesshu/http.h"

#define SS_PAGE_MAX     200
#define SS_PAGE_DEFAULT 50

/* Parse ?limit= (1..max, default def) and ?cursor= (opaque). The cursor
 * decodes to a JSON array (new reference in *cursor_out, NULL if absent).
 * Errors are recorded as field errors. */
int ss_page_params(ss_req *r, int def, int max, int *limit_out, json_t **cursor_out);
/* Encode a cursor from a JSON array (not stolen); malloc'd string. */
char *ss_page_cursor(const json_t *key);
/* ?limit= and ?cursor= for a keyset page whose cursor is an array of `nkeys` strings, each
 * copied into keys[i] (room for 64 bytes; "" when there is no cursor). 0 or SS_ERR_VALIDATION
 * (the errors recorded as field errors). */
int ss_page_keys(ss_req *r, int *limit, int nkeys, char keys[][64]);
/* {"items": [column 0 of each row, parsed as JSON, up to limit], "next_cursor": a cursor of
 * columns 1..nkeys of the last row shown when there are more than limit rows, else null}.
 * The query asks for limit + 1 rows. Replies itself; 0 or an SS_ERR_*. */
int ss_reply_page(ss_req *r, const PGresult *res, int limit, int nkeys);

/* A field error for every query parameter not in `allowed` (NULL-terminated) and for every
 * empty one; a name that is not short printable ASCII is reported as "(query)". ulfius puts
 * URL :params in the same map: list them too. 0 or SS_ERR_VALIDATION. */
int ss_query_check(ss_req *r, const char *const *allowed);

#endif
