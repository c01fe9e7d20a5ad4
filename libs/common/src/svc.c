/* svc.c - service-to-service HTTP calls and service tokens (svc.h). */
#include "sesshu/svc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/http.h"
#include "sesshu/jwt.h"
#include "sesshu/text.h"

#define SVC_TOKEN_TTL_S 60

static pthread_once_t svc_once = PTHREAD_ONCE_INIT;
static pthread_key_t svc_key;

static void svc_handle_free(void *c)
{
    curl_easy_cleanup(c);
}

static void svc_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_key_create(&svc_key, svc_handle_free);
}

/* The calling thread's handle (kept for the thread's life, freed by the key's
 * destructor), reset for a new transfer; its connection cache stays. */
static CURL *thread_handle(void)
{
    CURL *c;

    pthread_once(&svc_once, svc_init_once);
    if ((c = pthread_getspecific(svc_key)) != NULL) {
        curl_easy_reset(c);
        return c;
    }
    if ((c = curl_easy_init()) != NULL && pthread_setspecific(svc_key, c) != 0) {
        curl_easy_cleanup(c);
        c = NULL;
    }
    return c;
}

typedef struct svc_buf {
    char *data;
    size_t len;
} svc_buf;

static size_t svc_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    svc_buf *b = ud;
    size_t n = size * nmemb;
    char *grown;

    if (b->len + n > SS_SVC_MAX_ANSWER || (grown = realloc(b->data, b->len + n + 1)) == NULL)
        return 0; /* aborts the transfer */
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static void base_url(const char *env_name, int default_port, char *out, size_t n)
{
    char name[64];
    const char *v;

    snprintf(name, sizeof(name), "SESSHU_%s_URL", env_name);
    if ((v = ss_cfg_str(name, NULL)) != NULL) {
        snprintf(out, n, "%s", v);
        return;
    }
    snprintf(name, sizeof(name), "SESSHU_%s_PORT", env_name);
    if ((v = ss_cfg_str(name, NULL)) != NULL)
        snprintf(out, n, "http://127.0.0.1:%s", v);
    else
        snprintf(out, n, "http://127.0.0.1:%d", default_port);
}

/* Request headers (a new list, NULL on allocation failure). */
static struct curl_slist *headers(const char *auth, const char *request_id, bool json_body)
{
    char h[4400];
    struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json");

    if (l != NULL && json_body)
        l = curl_slist_append(l, "Content-Type: application/json");
    if (l != NULL && auth != NULL && strlen(auth) < 4096) {
        snprintf(h, sizeof(h), "Authorization: %s", auth);
        l = curl_slist_append(l, h);
    }
    if (l != NULL && request_id != NULL && request_id[0] != '\0' && strlen(request_id) < 100) {
        snprintf(h, sizeof(h), "X-Request-Id: %s", request_id);
        l = curl_slist_append(l, h);
    }
    return l;
}

int ss_svc_call(const char *env_name, int default_port, const char *method, const char *path,
                const char *auth, const char *request_id, const json_t *body, long timeout_ms,
                long *status, json_t **answer)
{
    char url[1024], base[512];
    char *payload = NULL;
    struct curl_slist *hdrs = NULL;
    svc_buf buf = {NULL, 0};
    CURL *c;
    int rc = SS_ERR_UNAVAILABLE;

    *status = 0;
    *answer = NULL;
    base_url(env_name, default_port, base, sizeof(base));
    snprintf(url, sizeof(url), "%s%s", base, path);
    if ((c = thread_handle()) == NULL ||
        (body != NULL && (payload = json_dumps(body, SS_JSON_COMPACT)) == NULL) ||
        (hdrs = headers(auth, request_id, body != NULL)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, svc_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    if (payload != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    if (curl_easy_perform(c) != CURLE_OK ||
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status) != CURLE_OK)
        goto out;
    if (buf.len > 0)
        *answer = json_loadb(buf.data, buf.len, JSON_REJECT_DUPLICATES, NULL);
    rc = 0;
out:
    if (c != NULL) { /* the handle must not keep pointing at what is freed below */
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    }
    curl_slist_free_all(hdrs);
    free(payload);
    free(buf.data);
    return rc;
}

int ss_svc_token(const char *svc, const char *aud, char **out)
{
    long long now = ss_now_s();
    char jti[37], sub[80];
    json_t *claims;
    int rc;

    *out = NULL;
    if (ss_uuid(jti) != 0)
        return SS_ERR_INTERNAL;
    snprintf(sub, sizeof(sub), "service:%s", svc);
    claims = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "iss",
                       ss_cfg_str(SS_ENV_JWT_ISSUER, "http://localhost:8080"), "sub", sub, "svc",
                       svc, "aud", aud, "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + SVC_TOKEN_TTL_S), "jti", jti);
    if (claims == NULL)
        return SS_ERR_NOMEM;
    rc = ss_jwt_sign(claims, out);
    json_decref(claims);
    return rc;
}

int ss_svc_token_verify(const char *auth_header, const char *svc, const char *aud)
{
    json_t *c = NULL;
    const char *s, *a;
    char owner[SS_JWT_OWNER_MAX];
    long long exp;
    int rc = SS_ERR_UNAUTHORIZED;

    if (auth_header == NULL || strncmp(auth_header, "Bearer ", 7) != 0 ||
        ss_jwt_verify_owned(auth_header + 7, &c, owner) != 0)
        return SS_ERR_UNAUTHORIZED;
    /* Signed by the service it names: another service's key cannot speak for it. */
    if (!ss_jwt_owner_is(owner, svc)) {
        json_decref(c);
        return SS_ERR_UNAUTHORIZED;
    }
    s = json_string_value(json_object_get(c, "svc"));
    a = json_string_value(json_object_get(c, "aud"));
    exp = json_integer_value(json_object_get(c, "exp"));
    /* A service token is short-lived: a long one was not minted by ss_svc_token. */
    if (s != NULL && a != NULL && strcmp(s, svc) == 0 && strcmp(a, aud) == 0 &&
        exp <= ss_now_s() + SVC_TOKEN_TTL_S + 30 && json_object_get(c, "person_id") == NULL &&
        json_object_get(c, "client_id") == NULL && json_object_get(c, "org") == NULL)
        rc = 0;
    json_decref(c);
    return rc;
}
