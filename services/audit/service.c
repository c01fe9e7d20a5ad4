/* service.c - the audit service's routes and shared request helpers.
 *
 * Every service appends to audit.access_log through the library's writer
 * (group commit); this service owns the table (migrations/) and answers
 * queries on it. The dispatcher logs these queries too (res_type
 * "access_log"). */
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const ss_route aud_routes[] = {
    {"GET", "/api/v1/access-logs", aud_h_query, SS_PERM_ACCESS_LOGS_READ, 0, "access_log"},
    {"GET", "/api/v1/access-logs/verify", aud_h_verify, SS_PERM_ACCESS_LOGS_VERIFY, 0,
     "access_log"},
    {"GET", "/api/v1/access-logs/about-me", aud_h_about_me, SS_PERM_SELF_READ, 0, "access_log"},
    /* Published for anyone to check (RFC 9162 style); the proofs reveal row hashes only. */
    {"GET", "/api/v1/access-logs/checkpoints/latest", aud_h_checkpoint, SS_PERM_PUBLIC, 0,
     "access_log_checkpoint"},
    {"GET", "/api/v1/access-logs/proofs/inclusion", aud_h_inclusion, SS_PERM_ACCESS_LOGS_VERIFY, 0,
     "access_log"},
    {"GET", "/api/v1/access-logs/proofs/consistency", aud_h_consistency, SS_PERM_ACCESS_LOGS_VERIFY,
     0, "access_log"},
    {NULL, NULL, NULL, 0, 0, NULL},
};

static int aud_init(ss_db *db)
{
    return aud_gateway_import_start(db);
}

const ss_service aud_service = {
    .name = "audit",
    .env_name = "AUDIT",
    .schema = "audit",
    .default_port = SS_PORT_AUDIT,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = aud_routes,
    .init = aud_init,
    .shutdown = aud_gateway_import_stop,
};

/* Short, valid UTF-8 without control characters: safe to echo in `errors`. */
static bool echo_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 || !ss_utf8_valid(s, n))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return false;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Form-decode s[0..n) into out (room for n+1); returns the decoded length. */
static size_t form_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return o;
}

/* Check one raw "name=value" segment: both must decode to UTF-8 text
 * (ulfius silently drops a pair that does not), and a name may come only
 * once (ulfius silently joins repeated values with commas). seen holds the
 * names met so far, separated by NUL, in a buffer the size of the query. */
static void check_segment(ss_req *r, const char *seg, size_t n, char *seen, size_t *seen_len)
{
    const char *eq = memchr(seg, '=', n);
    size_t kn = eq != NULL ? (size_t)(eq - seg) : n;
    char *key = malloc(kn + 1), *val = malloc(n + 1);
    size_t klen, vlen;

    if (key == NULL || val == NULL)
        goto out;
    klen = form_decode(seg, kn, key);
    vlen = eq != NULL ? form_decode(eq + 1, n - kn - 1, val) : 0;
    if (!ss_utf8_valid(key, klen)) {
        ss_req_field_error(r, "(query)", "names a parameter that is not UTF-8 text");
        goto out;
    }
    if (vlen > 0 && !ss_utf8_valid(val, vlen)) {
        ss_req_field_error(r, echo_ok(key) ? key : "(query)", "must be UTF-8 text");
        goto out;
    }
    for (size_t i = 0; i < *seen_len; i += strlen(seen + i) + 1) {
        if (strcmp(seen + i, key) == 0) {
            ss_req_field_error(r, echo_ok(key) ? key : "(query)", "must be given only once");
            goto out;
        }
    }
    memcpy(seen + *seen_len, key, klen + 1);
    *seen_len += klen + 1;
out:
    free(key);
    free(val);
}

static void check_raw_query(ss_req *r)
{
    const char *q = r->u->http_url != NULL ? strchr(r->u->http_url, '?') : NULL;
    char *seen = NULL;
    size_t seen_len = 0;

    if (q == NULL || (seen = malloc(strlen(q) + 1)) == NULL)
        return;
    for (const char *p = q + 1; *p != '\0';) {
        size_t n = strcspn(p, "&");

        if (n > 0)
            check_segment(r, p, n, seen, &seen_len);
        p += n + (p[n] == '&');
    }
    free(seen);
}

int aud_check_params(ss_req *r, const char *const *allowed)
{
    const char **keys = u_map_enum_keys(r->u->map_url);
    int rc = 0;

    check_raw_query(r);

    for (int i = 0; keys != NULL && keys[i] != NULL; i++) {
        const char *v = u_map_get(r->u->map_url, keys[i]);
        bool known = false;

        for (int k = 0; allowed[k] != NULL && !known; k++)
            known = strcmp(keys[i], allowed[k]) == 0;
        /* A typo in a filter must not silently widen the answer. */
        if (!known)
            rc = ss_req_field_error(r, echo_ok(keys[i]) ? keys[i] : "(query)",
                                    "is not a known query parameter");
        else if (v == NULL || v[0] == '\0')
            rc = ss_req_field_error(r, keys[i], "must not be empty");
    }
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : rc;
}

int aud_parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    long long v;

    if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 19)
        return SS_ERR_VALIDATION;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return SS_ERR_VALIDATION;
    *out = v;
    return 0;
}
