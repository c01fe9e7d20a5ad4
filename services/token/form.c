/* form.c - the OAuth endpoints' request side: form bodies
 * (application/x-www-form-urlencoded, parsed here because the dispatcher
 * only parses JSON), RFC 6749 5.2 error answers, and client authentication
 * by client_secret_basic or client_secret_post. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"
#include "tok.h"

int tok_oauth_error(ss_req *r, int status, const char *error, const char *desc)
{
    json_t *b = json_pack("{s:s,s:s}", "error", error, "error_description", desc);

    if (status == 401)
        ss_reply_header(r, "WWW-Authenticate", "Basic realm=\"sesshu\", charset=\"UTF-8\"");
    return ss_reply_json_new(r, status, b);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) ('+' is a space) into a new string, or NULL if
 * malformed or not UTF-8 without NUL. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] != '%') {
            out[o++] = s[i];
        } else if (i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            free(out);
            return NULL;
        }
    }
    out[o] = '\0';
    if (!ss_utf8_valid(out, o)) {
        free(out);
        return NULL;
    }
    return out;
}

void tok_form_free(tok_form *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->key[i]);
        if (f->val[i] != NULL)
            explicit_bzero(f->val[i], strlen(f->val[i]));
        free(f->val[i]);
    }
    f->n = 0;
}

const char *tok_form_get(const tok_form *f, const char *key)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->key[i], key) == 0)
            return f->val[i];
    return NULL;
}

/* One "key=value" pair; 0 or a description of what is wrong. */
static const char *form_pair(tok_form *f, const char *p, size_t n)
{
    const char *eq = memchr(p, '=', n);
    char *k, *v;

    if (eq == NULL)
        return "a form parameter without '='";
    if (f->n >= TOK_FORM_MAX_PARAMS)
        return "too many form parameters";
    k = pct_decode(p, (size_t)(eq - p));
    v = pct_decode(eq + 1, n - (size_t)(eq - p) - 1);
    if (k == NULL || v == NULL || k[0] == '\0') {
        free(k);
        free(v);
        return "malformed percent-encoding or invalid UTF-8 in the form";
    }
    if (tok_form_get(f, k) != NULL) {
        free(k);
        free(v);
        return "a form parameter is repeated";
    }
    f->key[f->n] = k;
    f->val[f->n++] = v;
    return NULL;
}

int tok_form_parse(ss_req *r, tok_form *f, bool *replied)
{
    const char *ct = ss_req_header(r, "Content-Type");
    const char *data = r->u->binary_body, *p, *end, *why = NULL;
    size_t len = r->u->binary_body_length;

    memset(f, 0, sizeof(*f));
    *replied = true;
    if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        (ct[33] != '\0' && ct[33] != ';'))
        return tok_oauth_error(r, 400, "invalid_request",
                               "the body must be application/x-www-form-urlencoded");
    if (len > TOK_FORM_MAX)
        return tok_oauth_error(r, 413, "invalid_request", "the form body is too large");
    for (p = data, end = data ? data + len : NULL; p != NULL && p < end && why == NULL;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);

        if (n > 0)
            why = form_pair(f, p, n);
        p += n + 1;
    }
    if (why != NULL) {
        tok_form_free(f);
        return tok_oauth_error(r, 400, "invalid_request", why);
    }
    *replied = false;
    return 0;
}

/* "Basic base64(urlenc(id):urlenc(secret))" -> id, secret (RFC 6749 2.3.1).
 * Returns false if the header is not a well-formed Basic credential. */
static bool basic_creds(const char *hdr, char **id, char **secret)
{
    unsigned char *raw = NULL;
    char *std = NULL, *colon;
    size_t rawlen = 0, n;
    bool ok = false;

    *id = *secret = NULL;
    if (strncasecmp(hdr, "Basic ", 6) != 0 || (n = strlen(hdr + 6)) == 0 || n > 1024)
        return false;
    /* base64 -> base64url for the library's decoder. */
    std = strdup(hdr + 6);
    if (std == NULL)
        return false;
    for (char *q = std; *q; q++)
        *q = *q == '+' ? '-' : *q == '/' ? '_' : *q == '=' ? '\0' : *q;
    raw = ss_b64url_decode(std, &rawlen);
    if (raw != NULL && (colon = memchr(raw, ':', rawlen)) != NULL) {
        *id = pct_decode((char *)raw, (size_t)(colon - (char *)raw));
        *secret = pct_decode(colon + 1, rawlen - (size_t)(colon - (char *)raw) - 1);
        ok = *id != NULL && *secret != NULL;
    }
    if (raw != NULL)
        explicit_bzero(raw, rawlen);
    free(raw);
    free(std);
    return ok;
}

int tok_client_fill(const PGresult *res, const char *id, tok_client *c)
{
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->org_id, sizeof(c->org_id), "%s", PQgetvalue(res, 0, 0));
    snprintf(c->org_type, sizeof(c->org_type), "%s", PQgetvalue(res, 0, 1));
    snprintf(c->org_code, sizeof(c->org_code), "%s", PQgetvalue(res, 0, 2));
    snprintf(c->muni, sizeof(c->muni), "%s", PQgetvalue(res, 0, 3));
    snprintf(c->pref, sizeof(c->pref), "%s", PQgetvalue(res, 0, 4));
    snprintf(c->gen, sizeof(c->gen), "%s", PQgetvalue(res, 0, 5));
    c->portal = strcmp(PQgetvalue(res, 0, 7), "portal") == 0;
    return ss_scopes_parse(PQgetvalue(res, 0, 6), &c->scopes) == 0 ? 0 : SS_ERR_INTERNAL;
}

/* The client row when id and secret match a usable client: one read, no
 * write (the use is counted in memory, usage.c), or none when the same
 * secret passed that read within the last second (cache.c). */
static int client_lookup(ss_req *r, const char *id, const char *secret, tok_client *c)
{
    char hash[65];
    const char *params[3];
    PGresult *res = NULL;
    unsigned long long epoch;
    long long read_s;
    int rc;

    ss_sha256_hex(secret, strlen(secret), hash);
    if (tok_cache_get(id, hash, c)) {
        tok_usage_count(id);
        return 0;
    }
    epoch = tok_cache_epoch();
    read_s = ss_now_s();
    params[0] = id;
    params[1] = ss_req_client_ip(r);
    params[2] = hash;
    rc = ss_db_query(ss_server_db(), sql_tok_oauth_client_load, 3, params, &res);
    if (rc == SS_ERR_UNAVAILABLE || rc == SS_ERR_RETRY)
        return rc;
    rc = (rc == 0 && PQntuples(res) == 1) ? tok_client_fill(res, id, c) : SS_ERR_UNAUTHORIZED;
    if (rc == 0 && strcmp(PQgetvalue(res, 0, 8), "t") == 0)
        tok_cache_put(c, hash, epoch, read_s);
    PQclear(res);
    if (rc == 0)
        tok_usage_count(id);
    return rc;
}

/* Authentication by a client assertion; `other` says another method was
 * used as well (RFC 6749 2.3: only one). */
static int assertion_auth(ss_req *r, const tok_form *f, bool other, tok_client *c, bool *replied)
{
    const char *type = tok_form_get(f, "client_assertion_type");
    const char *a = tok_form_get(f, "client_assertion");
    int rc;

    if (other || type == NULL || a == NULL || strcmp(type, TOK_ASSERTION_TYPE) != 0)
        return tok_oauth_error(r, 400, "invalid_request",
                               "client_assertion needs client_assertion_type jwt-bearer and no "
                               "other client authentication");
    rc = tok_assertion_auth(r, a, tok_form_get(f, "client_id"), c);
    if (rc == SS_ERR_UNAUTHORIZED)
        return tok_oauth_error(r, 401, "invalid_client", "client authentication failed");
    *replied = false;
    if (rc == 0) {
        snprintf(r->res_id, sizeof(r->res_id), "%s", c->id);
        snprintf(r->subject_org_id, sizeof(r->subject_org_id), "%s", c->org_id);
    }
    return rc;
}

int tok_client_auth(ss_req *r, const tok_form *f, tok_client *c, bool *replied)
{
    const char *hdr = ss_req_header(r, "Authorization");
    const char *fid = tok_form_get(f, "client_id"), *fsecret = tok_form_get(f, "client_secret");
    char *bid = NULL, *bsecret = NULL;
    const char *id, *secret;
    int rc;

    memset(c, 0, sizeof(*c));
    *replied = true;
    if (tok_form_get(f, "client_assertion") != NULL || tok_form_get(f, "client_assertion_type"))
        return assertion_auth(r, f, hdr != NULL || fsecret != NULL, c, replied);
    if (hdr != NULL && !basic_creds(hdr, &bid, &bsecret)) {
        rc = tok_oauth_error(r, 401, "invalid_client", "malformed Basic credentials");
        goto out;
    }
    if (bid != NULL && fsecret != NULL) {
        rc = tok_oauth_error(r, 400, "invalid_request", "more than one client authentication");
        goto out;
    }
    id = bid ? bid : fid;
    secret = bid ? bsecret : fsecret;
    if (id == NULL || secret == NULL || (bid != NULL && fid != NULL && strcmp(fid, bid) != 0)) {
        rc = tok_oauth_error(r, 401, "invalid_client", "client authentication is required");
        goto out;
    }
    rc = ss_uuid_ok(id) && strlen(secret) <= 256 ? client_lookup(r, id, secret, c)
                                                 : SS_ERR_UNAUTHORIZED;
    if (rc == SS_ERR_UNAUTHORIZED) {
        rc = tok_oauth_error(r, 401, "invalid_client", "client authentication failed");
    } else if (rc == 0) {
        snprintf(r->res_id, sizeof(r->res_id), "%s", c->id);
        snprintf(r->subject_org_id, sizeof(r->subject_org_id), "%s", c->org_id);
        *replied = false;
    } else {
        *replied = false; /* the dispatcher answers 503 */
    }
out:
    if (bsecret != NULL)
        explicit_bzero(bsecret, strlen(bsecret));
    free(bid);
    free(bsecret);
    return rc;
}
