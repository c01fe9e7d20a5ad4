/* me.c - the caller's own account (H-1-3, H-1-9): GET /me answers the user,
 * the organisation and the menu of functions the role may use (the main
 * menu after login); PATCH /me changes the caller's own profile. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "sesshu/config.h"
#include "sesshu/err.h"

/* The unread-notice count comes from the notice service (services never read
 * another's tables), over HTTP with the caller's own token. It is decoration:
 * if the notice service is slow or down, /me still answers, with null. */
#define ME_NOTICE_URL_ENV  "SESSHU_NOTICE_URL"
#define ME_NOTICE_URL_DEF  "http://127.0.0.1:8107"
#define ME_NOTICE_TIMEOUT  300L /* ms */
#define ME_NOTICE_MAX_BODY 4096

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t curl_key;

static void curl_handle_free(void *c)
{
    curl_easy_cleanup(c);
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_key_create(&curl_key, curl_handle_free);
}

/* One handle per server thread, kept for the thread's life: its connection to
 * the notice service stays open (keep-alive) instead of a TCP handshake per
 * GET /me. Freed by the key's destructor when the thread ends. */
static CURL *thread_handle(void)
{
    CURL *c = pthread_getspecific(curl_key);

    if (c != NULL) {
        curl_easy_reset(c); /* options go, the connection cache stays */
        return c;
    }
    if ((c = curl_easy_init()) != NULL && pthread_setspecific(curl_key, c) != 0) {
        curl_easy_cleanup(c);
        c = NULL;
    }
    return c;
}

typedef struct me_buf {
    char data[ME_NOTICE_MAX_BODY];
    size_t len;
} me_buf;

static size_t me_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    me_buf *b = ud;
    size_t n = size * nmemb;

    if (n >= sizeof(b->data) - b->len)
        return 0; /* too long for {"unread": N}: abort the transfer */
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* {"unread": N} from GET /api/v1/notices/unread-count, as a new JSON integer,
 * or JSON null on any failure. */
static json_t *me_unread_notices(const ss_req *r)
{
    const char *auth = ss_req_header(r, "Authorization");
    char url[512], h_auth[4200], h_rid[128];
    struct curl_slist *hdrs = NULL;
    me_buf *buf = NULL;
    json_t *doc = NULL, *out = NULL;
    CURL *c = NULL;
    long status = 0;

    if (auth == NULL || strlen(auth) >= sizeof(h_auth) - 16)
        return json_null();
    pthread_once(&curl_once, curl_init_once);
    if (ss_cfg_str(ME_NOTICE_URL_ENV, NULL) != NULL)
        snprintf(url, sizeof(url), "%s/api/v1/notices/unread-count",
                 ss_cfg_str(ME_NOTICE_URL_ENV, NULL));
    else if (ss_cfg_str("SESSHU_NOTICE_PORT", NULL) != NULL) /* same host, configured port */
        snprintf(url, sizeof(url), "http://127.0.0.1:%s/api/v1/notices/unread-count",
                 ss_cfg_str("SESSHU_NOTICE_PORT", NULL));
    else
        snprintf(url, sizeof(url), "%s/api/v1/notices/unread-count", ME_NOTICE_URL_DEF);
    snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
    snprintf(h_rid, sizeof(h_rid), "X-Request-Id: %s", r->request_id);
    if ((buf = calloc(1, sizeof(*buf))) == NULL || (c = thread_handle()) == NULL)
        goto out;
    hdrs = curl_slist_append(hdrs, h_auth);
    hdrs = hdrs ? curl_slist_append(hdrs, h_rid) : NULL;
    if (hdrs == NULL)
        goto out;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ME_NOTICE_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, me_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, buf);
    if (curl_easy_perform(c) != CURLE_OK ||
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
        goto out;
    doc = json_loadb(buf->data, buf->len, 0, NULL);
    if (json_is_integer(json_object_get(doc, "unread")) &&
        json_integer_value(json_object_get(doc, "unread")) >= 0)
        out = json_integer(json_integer_value(json_object_get(doc, "unread")));
out:
    json_decref(doc);
    if (c != NULL) /* the handle must not keep pointing at the headers freed below */
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    free(buf);
    return out != NULL ? out : json_null();
}

/* "Who am I" does not fan out (issue 14 §3): the unread count is another service's answer,
 * asked only with ?include=unread_notices (the portal usually calls notice itself). */
static int me_include(ss_req *r, bool *unread)
{
    static const char *const allowed[] = {"include", NULL};
    const char *inc = ss_req_query(r, "include");

    *unread = false;
    if (ss_query_check(r, allowed) != 0)
        return SS_ERR_VALIDATION;
    if (inc == NULL)
        return 0;
    if (strcmp(inc, "unread_notices") != 0)
        return ss_req_field_error(r, "include", "must be unread_notices");
    *unread = true;
    return 0;
}

int acct_h_me_get(ss_req *r)
{
    const char *params[] = {r->who.sub};
    PGresult *res = NULL;
    json_t *menu = NULL, *body;
    bool unread;
    int rc;

    if (r->who.kind != SS_PRINCIPAL_USER)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a user session has a profile");
    if ((rc = me_include(r, &unread)) != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.sub);
    rc = ss_db_query(ss_server_db(), sql_acct_me_get, 1, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "the account no longer exists");
        goto out;
    }
    if ((menu = ss_authz_menu(&r->who)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    body = json_pack("{s:o,s:o,s:o,s:b}", "user", acct_json_col(res, 0, 0), "organization",
                     acct_json_col(res, 0, 1), "menu", menu, "password_change_required",
                     r->who.pw_change_required);
    if (body != NULL && unread)
        json_object_set_new(body, "unread_notices", me_unread_notices(r));
    rc = body != NULL ? ss_reply_json_new(r, 200, body) : SS_ERR_NOMEM;
out:
    PQclear(res);
    return rc;
}

static const ss_field me_fields[] = {
    {"name", SS_F_STRING, false, 1, 100, NULL, false},
    {"name_kana", SS_F_STRING, false, 1, 100, NULL, false},
    {"email", SS_F_EMAIL, false, 3, 254, NULL, false},
    {"current_password", SS_F_STRING, false, 1, 1024, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Name and kana change at once; the e-mail address (where resets go) only with the current
 * password, and only once the new address confirms it (me_email.c). The answer is the user as
 * stored, with pending_email while a change waits for its confirmation. */
int acct_h_me_patch(ss_req *r)
{
    const char *email, *pw, *params[3];
    PGresult *res = NULL;
    json_t *user = NULL, *pending = NULL;
    ss_dbc *c = NULL;
    int rc;

    if (r->who.kind != SS_PRINCIPAL_USER)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a user session has a profile");
    if ((rc = ss_body_check(r, me_fields)) != 0 ||
        (rc = acct_kana_field(r, r->body, "name_kana")) != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.sub);
    email = ss_json_str(r->body, "email");
    pw = ss_json_str(r->body, "current_password");
    if (email != NULL && pw == NULL)
        return ss_req_field_error(r, "current_password",
                                  "is required to change the e-mail address");
    if (email == NULL && pw != NULL)
        return ss_req_field_error(r, "current_password", "is asked only with a new email");
    if (email != NULL && (rc = acct_reauth(r, "current_password", pw, NULL)) != 0)
        return rc;
    params[0] = r->who.sub;
    params[1] = ss_json_str(r->body, "name");
    params[2] = ss_json_str(r->body, "name_kana");
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0 || (rc = ss_db_begin(c)) != 0 ||
        (rc = ss_db_exec(c, sql_acct_me_update, 3, params, &res)) != 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "the account no longer exists");
        goto out;
    }
    if (email != NULL && strcasecmp(email, PQgetvalue(res, 0, 1)) != 0 &&
        (rc = acct_email_change_start(r, c, email, &pending)) != 0)
        goto out;
    if ((rc = ss_db_commit(c)) != 0 || (user = acct_json_col(res, 0, 0)) == NULL) {
        rc = rc != 0 ? rc : SS_ERR_INTERNAL;
        goto out;
    }
    if (pending != NULL) {
        json_object_set(user, "pending_email", json_object_get(pending, "new_email"));
        acct_mail_kick();
    }
    rc = ss_reply_json_new(r, 200, user);
    user = NULL;
out:
    json_decref(user);
    json_decref(pending);
    PQclear(res);
    ss_db_release(c);
    return rc;
}
