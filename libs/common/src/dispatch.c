/* dispatch.c - the one request path: request id, authentication, temporary-
 * password gate, permission, body, handler, access log, response (http.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http_internal.h"
#include "sesshu/audit.h"
#include "sesshu/crypto.h"
#include "sesshu/db.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/log.h"
#include "sesshu/proxy.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

/* Accept the caller's id if the contract allows it (common.yaml XRequestId: 1-64 of
 * [A-Za-z0-9._-], as the gateway checks too), else make one. */
static void take_request_id(ss_req *r)
{
    const char *rid = u_map_get(r->u->map_header, "X-Request-Id");
    bool ok =
        rid != NULL && rid[0] != '\0' && strlen(rid) <= 64 && strlen(rid) < sizeof(r->request_id);

    for (const char *p = rid; ok && *p; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
             *p == '-' || *p == '_' || *p == '.';
    if (ok)
        snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
    else if (ss_uuid(r->request_id) != 0)
        snprintf(r->request_id, sizeof(r->request_id), "unknown");
    ss_log_set_request_id(r->request_id);
}

/* Bearer token -> principal. A public route with a bad token is still refused,
 * so a client never silently loses its identity. */
static int authenticate(ss_req *r)
{
    const char *h = u_map_get_case(r->u->map_header, "Authorization");
    int perm = r->route ? r->route->perm : SS_PERM_PUBLIC;

    /* The handler reads the header itself (client_secret_basic); never a principal here. */
    if (perm == SS_PERM_PUBLIC && r->route != NULL && (r->route->flags & SS_ROUTE_OWN_AUTH))
        return 0;
    if (h == NULL)
        return perm == SS_PERM_PUBLIC
                   ? 0
                   : ss_req_fail(r, SS_ERR_UNAUTHORIZED, "a bearer token is required");
    if (strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0') {
        r->bearer_error = "invalid_request";
        return ss_req_fail(r, SS_ERR_UNAUTHORIZED,
                           "the Authorization header must be Bearer <token>");
    }
    if (ss_jwt_principal(h + 7, &r->who) != 0) {
        r->bearer_error = "invalid_token";
        return ss_req_fail(r, SS_ERR_UNAUTHORIZED, "the token is invalid, expired or revoked");
    }
    return 0;
}

static int authorize(ss_req *r)
{
    const ss_route *rt = r->route;

    if (r->who.kind != SS_PRINCIPAL_NONE && r->who.pw_change_required &&
        !(rt->flags & SS_ROUTE_TEMP_PW_OK))
        return SS_ERR_PASSWORD_CHANGE;
    if (!ss_authz_has(&r->who, rt->perm) && r->who.kind == SS_PRINCIPAL_CLIENT) {
        r->bearer_error = "insufficient_scope"; /* RFC 6750 3.1: a token with more scope may */
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "the token's scopes do not allow this function");
    }
    if (!ss_authz_has(&r->who, rt->perm))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "this function is not available to your role");
    return 0;
}

static int hexval(char c)
{
    return (c >= '0' && c <= '9')   ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                    : -1;
}

/* Percent-decode [s, end) into out (size n); false if malformed or too long. */
static bool pct_decode(const char *s, const char *end, char *out, size_t n, size_t *len)
{
    size_t o = 0;

    for (; s < end; s++) {
        int c = (unsigned char)*s;
        if (*s == '%') {
            if (end - s < 3 || hexval(s[1]) < 0 || hexval(s[2]) < 0)
                return false;
            c = hexval(s[1]) * 16 + hexval(s[2]);
            s += 2;
        } else if (*s == '+') {
            c = ' ';
        }
        if (o + 1 >= n)
            return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *len = o;
    return true;
}

/* ulfius silently drops query pairs that are not UTF-8 and joins repeated
 * names; a filter that vanished would widen a query. Refuse them here, for
 * every service: each name and value valid UTF-8 without control
 * characters, no name twice, at most 32 pairs. */
static int check_query(ss_req *r)
{
    const char *q = r->u->http_url ? strchr(r->u->http_url, '?') : NULL;
    char names[32][64];
    int n = 0;

    if (q == NULL)
        return 0;
    for (q++; *q;) {
        const char *amp = strchr(q, '&');
        const char *end = amp ? amp : q + strlen(q);
        const char *eq = memchr(q, '=', (size_t)(end - q));
        char buf[2048];
        size_t len;

        if (end > q) {
            const char *nend = eq ? eq : end;
            if (n >= 32)
                return ss_req_fail(r, SS_ERR_BAD_REQUEST, "too many query parameters");
            if (!pct_decode(q, nend, names[n], sizeof(names[n]), &len) || len == 0 ||
                !ss_utf8_valid(names[n], len))
                return ss_req_fail(r, SS_ERR_BAD_REQUEST, "a query parameter name is malformed");
            for (int i = 0; i < n && !(r->route->flags & SS_ROUTE_REPEAT_QUERY); i++)
                if (strcmp(names[i], names[n]) == 0)
                    return ss_req_fail(r, SS_ERR_BAD_REQUEST, "query parameter %s is repeated",
                                       names[n]);
            if (eq != NULL && (!pct_decode(eq + 1, end, buf, sizeof(buf), &len) ||
                               (len > 0 && !ss_utf8_valid(buf, len))))
                return ss_req_fail(r, SS_ERR_BAD_REQUEST,
                                   "query parameter %s is not valid UTF-8 or too long", names[n]);
            for (size_t i = 0; eq != NULL && i < len; i++)
                if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7F)
                    return ss_req_fail(r, SS_ERR_BAD_REQUEST,
                                       "query parameter %s contains control characters", names[n]);
            n++;
        }
        q = amp ? amp + 1 : end;
    }
    return 0;
}

static bool is_read_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

static bool has_body_method(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
}

static const char *peer_ip(const ss_req *r, char *buf, size_t n)
{
    const struct sockaddr *sa = r->u->client_address;

    if (sa != NULL && sa->sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
    if (sa != NULL && sa->sa_family == AF_INET6)
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
                         (socklen_t)n);
    return NULL;
}

const char *ss_req_client_ip(const ss_req *r)
{
    static _Thread_local char buf[64];
    const char *peer = peer_ip(r, buf, sizeof(buf));
    const char *real = u_map_get_case(r->u->map_header, "X-Real-IP");

    /* Only the gateway (SESSHU_TRUSTED_PROXIES) may speak for the client. */
    if (real != NULL && peer != NULL && ss_proxy_trusted(r->u->client_address) &&
        strlen(real) < 64 && strspn(real, "0123456789abcdefABCDEF.:") == strlen(real)) {
        snprintf(buf, sizeof(buf), "%s", real);
        return buf;
    }
    return peer;
}

/* A change whose COMMIT went unanswered: ask the log (on a fresh connection) whether the row of
 * request_id committed, for up to the access-log timeout while the database comes back.
 * 1 committed, 0 not, -1 unknown. Also the group commit's (group.c). */
int ss_commit_outcome(const char *request_id, const char *service)
{
    long long until = ss_now_us() + 5000000;

    do {
        bool found = false;

        if (ss_audit_logged(ss_server_db(), request_id, service, &found) == 0)
            return found ? 1 : 0;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    } while (ss_now_us() < until);
    return -1;
}

/* Answer anew (the handler's answer is not the truth any more). */
static void reanswer(ss_req *r, int err, const char *detail)
{
    ulfius_clean_response(r->resp);
    ulfius_init_response(r->resp);
    ss_reply_problem(r, err, detail);
}

/* The row of a write request that changed data goes into the change's own transaction tx
 * (ss_db_request_end): both commit or neither. An answer of 5xx means the request failed, so
 * its change is rolled back rather than left half-done. Returns true when the row is settled
 * (committed with the change), false when the caller still writes it through the group commit
 * (nothing was changed). */
static bool commit_with_row(ss_req *r, ss_dbc *tx, const ss_audit_row *row)
{
    PGconn *pc = ss_db_conn(tx);
    int outcome;

    if (r->status >= 500 || pc == NULL || PQstatus(pc) != CONNECTION_OK ||
        PQtransactionStatus(pc) != PQTRANS_INTRANS) {
        bool lost = r->status < 500;

        (void)ss_db_rollback(tx);
        ss_db_release(tx);
        if (lost) /* the handler thought it had changed data, but its transaction is gone */
            reanswer(r, SS_ERR_UNAVAILABLE,
                     "the database connection was lost; nothing was changed");
        return false;
    }
    if (ss_audit_insert_tx(tx, row) != 0) {
        SS_ERROR("access log unavailable; the change is rolled back, answering 503");
        (void)ss_db_rollback(tx);
        ss_db_release(tx);
        reanswer(r, SS_ERR_UNAVAILABLE, "the access log is unavailable; nothing was changed");
        return false;
    }
    if (ss_db_commit(tx) == 0) {
        ss_db_release(tx);
        return true;
    }
    pc = ss_db_conn(tx);
    if (pc != NULL && PQstatus(pc) == CONNECTION_OK) {
        /* The server answered: the transaction did not commit. */
        ss_db_release(tx);
        reanswer(r, SS_ERR_UNAVAILABLE, "the change could not be committed; nothing was changed");
        return false;
    }
    ss_db_release(tx);
    outcome = ss_commit_outcome(r->request_id, r->svc->name);
    if (outcome == 1)
        return true; /* committed, with its row: the handler's answer stands */
    if (outcome == 0) {
        reanswer(r, SS_ERR_UNAVAILABLE, "the database connection was lost; nothing was changed");
        return false;
    }
    SS_ERROR("commit outcome unknown for request %s", r->request_id);
    reanswer(r, SS_ERR_UNAVAILABLE,
             "the database connection was lost while committing: the change may have been made; "
             "look it up (or retry with the same Idempotency-Key) before repeating it");
    return true; /* no row can be written now; if the change committed, its row did too */
}

void ss_req_audit_row(ss_req *r, ss_audit_row *row, char *path, size_t pathn, char *ip, size_t ipn)
{
    const ss_principal *w = &r->who;
    const char *id_param = NULL;
    const char *peer = ss_req_client_ip(r);

    if (r->route != NULL && strstr(r->route->path, ":id") != NULL)
        id_param = ss_req_param(r, "id");
    snprintf(path, pathn, "%s", r->u->url_path ? r->u->url_path : "");
    snprintf(ip, ipn, "%s", peer ? peer : "");
    memset(row, 0, sizeof(*row));
    row->request_id = r->request_id;
    row->service = r->svc->name;
    row->actor_kind = w->kind == SS_PRINCIPAL_USER       ? "user"
                      : w->kind == SS_PRINCIPAL_CLIENT   ? "client"
                      : w->kind == SS_PRINCIPAL_VACCINEE ? "vaccinee"
                                                         : "anonymous";
    row->actor_id = w->kind ? w->sub : NULL;
    row->actor_login = w->login_id[0] ? w->login_id : NULL;
    row->org_id = w->org_id[0] ? w->org_id : NULL;
    row->org_type = ss_org_type_name(w->org_type);
    row->muni_code = w->muni_code[0] ? w->muni_code : NULL;
    row->role = ss_role_name(w->role);
    row->method = r->u->http_verb;
    row->route = r->route ? r->route->path : NULL;
    row->path = path;
    row->res_type = r->route ? r->route->res_type : NULL;
    row->res_id = r->res_id[0] ? r->res_id : id_param;
    /* The person whose data the caller reached: only on a success (a refused probe names an id
     * the caller chose, which may not be theirs to see, or not exist); ss_reply_page also
     * forgets it when a filtered list showed nothing. A vaccinee's "who viewed me" lists these. */
    row->person_id = r->person_id[0] && r->status < 400 ? r->person_id : NULL;
    row->subject_org_id = r->subject_org_id[0] ? r->subject_org_id : NULL;
    row->subject_muni = r->subject_muni[0] ? r->subject_muni : NULL;
    row->status = r->status;
    row->client_ip = peer ? ip : NULL;
    row->duration_us = ss_now_us() - r->t_start_us;
}

static void write_audit(ss_req *r, ss_dbc *tx)
{
    ss_audit_row row;
    char path[512], ip[64];

    if (r->logged) { /* its row committed with its change (ss_group_write) */
        ss_audit_unexpect();
        if (tx != NULL) {
            SS_ERROR("a group-committed request changed data outside its group; rolled back");
            (void)ss_db_rollback(tx);
            ss_db_release(tx);
        }
        return;
    }
    ss_req_audit_row(r, &row, path, sizeof(path), ip, sizeof(ip));
    if (tx != NULL && commit_with_row(r, tx, &row)) {
        ss_audit_unexpect(); /* its row went in with the change: the writer need not wait for it */
        return;
    }
    row.status = r->status; /* it may have been answered anew */
    row.person_id = r->person_id[0] && r->status < 400 ? r->person_id : NULL;
    if (ss_audit_write(&row) != 0) {
        /* No answer leaves without its log row: a national system must not
         * serve or change data it cannot account for. */
        SS_ERROR("access log unavailable; answering 503");
        ulfius_clean_response(r->resp);
        ulfius_init_response(r->resp);
        ss_reply_problem(r, SS_ERR_UNAVAILABLE, "the access log is unavailable");
    }
}

static void finish_error(ss_req *r, int rc)
{
    if (rc == 0 && r->status == 0)
        rc = SS_ERR_INTERNAL; /* a handler that answered nothing */
    if (rc != 0) {
        if (ss_err_http(rc) >= 500)
            SS_ERROR("%s %s -> %s", r->u->http_verb, r->u->url_path, ss_err_name(rc));
        ulfius_clean_response(r->resp);
        ulfius_init_response(r->resp);
        ss_reply_problem(r, rc, r->detail);
    }
}

/* Password hashing routes wait in the login queue (as many at once as there
 * are cores), so a burst of logins cannot take every server thread. */
static int run_handler(ss_req *r)
{
    int rc;

    if (!(r->route->flags & SS_ROUTE_LOGIN_QUEUE))
        return r->route->fn(r);
    if ((rc = ss_pw_queue_enter()) != 0)
        return ss_req_fail(r, rc, "too many password checks in progress; retry shortly");
    rc = r->route->fn(r);
    ss_pw_queue_leave();
    return rc;
}

/* Does the URL path match the route pattern (":name" segments match any one segment)? Empty
 * segments (a trailing or doubled slash) are skipped, as ulfius does. */
static bool path_matches(const char *pattern, const char *path)
{
    const char *p = pattern, *u = path;

    for (;;) {
        p += strspn(p, "/");
        u += strspn(u, "/");
        if (*p == '\0' || *u == '\0')
            return *p == '\0' && *u == '\0';
        size_t pn = strcspn(p, "/"), un = strcspn(u, "/");
        if (p[0] != ':' && (pn != un || strncmp(p, u, pn) != 0))
            return false;
        p += pn;
        u += un;
    }
}

/* The methods the service answers at this path ("GET, HEAD, PATCH"), "" when none: a known
 * path with another method is 405 with Allow (RFC 9110 15.5.6), not 404. */
static void allowed_methods(const ss_service *svc, const char *path, char *out, size_t n)
{
    out[0] = '\0';
    if (path == NULL || svc->routes == NULL)
        return;
    for (const ss_route *rt = svc->routes; rt->method != NULL; rt++) {
        if (!path_matches(rt->path, path) || strstr(out, rt->method) != NULL)
            continue;
        snprintf(out + strlen(out), n - strlen(out), "%s%s%s", out[0] ? ", " : "", rt->method,
                 strcmp(rt->method, "GET") == 0 ? ", HEAD" : "");
    }
}

int ss_dispatch(const struct _u_request *req, struct _u_response *resp, void *user_data)
{
    char allow[96] = "";
    const ss_route_ctx *ctx = user_data;
    ss_dbc *tx;
    bool capture;
    ss_req r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.u = req;
    r.resp = resp;
    r.route = ctx->route;
    r.svc = ctx->svc;
    r.t_start_us = ss_now_us();
    take_request_id(&r);
    if (r.route == NULL || !(r.route->flags & SS_ROUTE_NO_AUDIT))
        ss_audit_expect();
    /* A change and its access-log row commit in one transaction (ss_db_request_begin). */
    capture = r.route != NULL && !is_read_method(req->http_verb);
    if (capture)
        ss_db_request_begin();
    if (r.route == NULL)
        allowed_methods(r.svc, req->url_path, allow, sizeof(allow));
    if (r.route == NULL && allow[0] != '\0')
        rc = ss_req_fail(&r, SS_ERR_METHOD, "this resource answers %s only", allow);
    else if (r.route == NULL)
        rc = ss_req_fail(&r, SS_ERR_NOT_FOUND, "no such resource");
    else if ((rc = check_query(&r)) == 0 && (rc = authenticate(&r)) == 0 &&
             (rc = authorize(&r)) == 0 &&
             (!has_body_method(req->http_verb) || (r.route->flags & SS_ROUTE_RAW_BODY) ||
              (rc = ss_body_parse(&r)) == 0))
        rc = run_handler(&r);
    finish_error(&r, rc);
    tx = capture ? ss_db_request_end() : NULL;
    if (allow[0] != '\0')
        u_map_put(resp->map_header, "Allow", allow);
    if (r.route == NULL || !(r.route->flags & SS_ROUTE_NO_AUDIT))
        write_audit(&r, tx);
    else if (tx != NULL) {
        (void)ss_db_commit(tx); /* no row for this route: commit as the handler meant */
        ss_db_release(tx);
    }
    u_map_put(resp->map_header, "X-Request-Id", r.request_id);
    ss_metrics_observe(ctx->index, r.status, ss_now_us() - r.t_start_us);
    json_decref(r.body);
    json_decref(r.errors);
    ss_log_set_request_id(NULL);
    return U_CALLBACK_COMPLETE;
}
