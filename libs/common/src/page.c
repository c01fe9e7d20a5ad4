/* page.c - cursor pagination parameters (http.h). Cursors are base64url of
 * a compact JSON array holding the last row's sort key. */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"

int ss_page_params(ss_req *r, int def, int max, int *limit_out, json_t **cursor_out)
{
    const char *l = ss_req_query(r, "limit");
    const char *c = ss_req_query(r, "cursor");
    int rc = 0;

    *limit_out = def;
    if (cursor_out != NULL)
        *cursor_out = NULL;
    if (max > SS_PAGE_MAX)
        max = SS_PAGE_MAX;
    if (l != NULL) {
        char *end = NULL;
        long v = strtol(l, &end, 10);
        if (l[0] == '\0' || *end != '\0' || strspn(l, "0123456789") != strlen(l) || v < 1 ||
            v > max)
            rc = ss_req_field_error(r, "limit",
                                    "must be an integer from 1 to the maximum page size");
        else
            *limit_out = (int)v;
    }
    if (c != NULL && cursor_out != NULL) {
        size_t n = 0;
        unsigned char *raw = strlen(c) <= 1024 ? ss_b64url_decode(c, &n) : NULL;
        json_t *key = raw ? json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
        free(raw);
        if (!json_is_array(key)) {
            json_decref(key);
            rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
        } else {
            *cursor_out = key;
        }
    }
    return rc;
}

char *ss_page_cursor(const json_t *key)
{
    char *s = json_dumps(key, JSON_COMPACT);
    char *enc;

    if (s == NULL)
        return NULL;
    enc = ss_b64url_encode((const unsigned char *)s, strlen(s));
    free(s);
    return enc;
}
