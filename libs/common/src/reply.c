/* reply.c - responses and request accessors (http.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "sesshu/body.h"
#include "sesshu/err.h"

static int set_body(ss_req *r, int status, const char *ctype, const char *data, size_t len)
{
    r->status = status;
    r->resp->status = (long)status;
    u_map_put(r->resp->map_header, "Content-Type", ctype);
    u_map_put(r->resp->map_header, "Cache-Control", "no-store");
    if (len > 0 && ulfius_set_binary_body_response(r->resp, (unsigned)status, data, len) != U_OK)
        return SS_ERR_NOMEM;
    return 0;
}

int ss_reply_json(ss_req *r, int status, const json_t *body)
{
    char *s = json_dumps(body, SS_JSON_COMPACT);
    int rc;

    if (s == NULL)
        return SS_ERR_NOMEM;
    rc = set_body(r, status, "application/json", s, strlen(s));
    free(s);
    return rc;
}

int ss_reply_json_new(ss_req *r, int status, json_t *body)
{
    int rc;

    if (body == NULL)
        return SS_ERR_NOMEM;
    rc = ss_reply_json(r, status, body);
    json_decref(body);
    return rc;
}

int ss_reply_raw(ss_req *r, int status, const char *content_type, const char *data, size_t len)
{
    return set_body(r, status, content_type, data, len);
}

int ss_reply_empty(ss_req *r, int status)
{
    r->status = status;
    r->resp->status = (long)status;
    u_map_put(r->resp->map_header, "Cache-Control", "no-store");
    return 0;
}

void ss_reply_header(ss_req *r, const char *name, const char *value)
{
    u_map_put(r->resp->map_header, name, value);
}

int ss_reply_problem(ss_req *r, int err, const char *detail)
{
    char type[96];
    json_t *p;
    int status = ss_err_http(err);

    snprintf(type, sizeof(type), "urn:sesshu:problem:%s", ss_err_slug(err));
    p = json_pack("{s:s,s:s,s:i,s:s}", "type", type, "title", ss_err_title(err), "status", status,
                  "request_id", r->request_id);
    if (p == NULL)
        return SS_ERR_NOMEM;
    json_object_set_new(p, "detail", json_string(detail ? detail : ss_err_title(err)));
    if (r->errors != NULL && json_array_size(r->errors) > 0)
        json_object_set(p, "errors", r->errors);
    if (r->u->url_path != NULL)
        json_object_set_new(p, "instance", json_string(r->u->url_path));
    {
        char *s = json_dumps(p, SS_JSON_COMPACT);
        json_decref(p);
        if (s == NULL)
            return SS_ERR_NOMEM;
        set_body(r, status, "application/problem+json", s, strlen(s));
        free(s);
    }
    /* 503: the database or the access log is away for a moment (a restart, a failover takes a
     * few seconds): tell the client when to try again (RFC 9110 10.2.3). */
    if (status == 503 && u_map_get(r->resp->map_header, "Retry-After") == NULL)
        u_map_put(r->resp->map_header, "Retry-After", "2");
    /* RFC 6750 3: no error code when no credentials came; invalid_request, invalid_token or
     * insufficient_scope (a 403) otherwise. */
    if (status == 401 || (status == 403 && r->bearer_error != NULL)) {
        char challenge[160];

        if (r->bearer_error != NULL)
            snprintf(challenge, sizeof(challenge), "Bearer realm=\"sesshu\", error=\"%s\"",
                     r->bearer_error);
        else
            snprintf(challenge, sizeof(challenge), "Bearer realm=\"sesshu\"");
        u_map_put(r->resp->map_header, "WWW-Authenticate", challenge);
    }
    return 0;
}

int ss_req_fail(ss_req *r, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->detail_buf, sizeof(r->detail_buf), fmt, ap);
    va_end(ap);
    r->detail = r->detail_buf;
    return err;
}

int ss_req_field_error(ss_req *r, const char *field, const char *reason)
{
    if (r->errors == NULL)
        r->errors = json_array();
    if (r->errors != NULL && json_array_size(r->errors) < 100)
        json_array_append_new(r->errors, json_pack("{s:s,s:s}", "field", field, "reason", reason));
    if (r->detail == NULL)
        r->detail = "one or more fields are invalid";
    return SS_ERR_VALIDATION;
}

/* Route parameter by name: the path segment at the position of ":name" in
 * the route's pattern, percent-decoded into a per-thread buffer. Query
 * parameters can never shadow it. */
const char *ss_req_param(const ss_req *r, const char *name)
{
    static _Thread_local char buf[8][256];
    static _Thread_local unsigned next;
    const char *pat, *path;
    int seg_pat = 0, target = -1;
    size_t nlen = strlen(name);
    char *out;
    size_t o = 0;

    if (r->route == NULL || r->u->url_path == NULL)
        return NULL;
    for (pat = r->route->path; *pat; pat++) {
        if (*pat == '/')
            seg_pat++;
        else if (*pat == ':' && pat[-1] == '/' && strncmp(pat + 1, name, nlen) == 0 &&
                 (pat[1 + nlen] == '/' || pat[1 + nlen] == '\0'))
            target = seg_pat;
    }
    if (target < 0)
        return NULL;
    path = r->u->url_path;
    for (int seg = 0; *path && seg < target; path++)
        if (*path == '/')
            seg++;
    out = buf[next++ % 8];
    for (; *path && *path != '/' && *path != '?' && o < 255; path++) {
        if (*path == '%' && path[1] && path[2]) {
            char hex[3] = {path[1], path[2], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            path += 2;
        } else {
            out[o++] = *path;
        }
    }
    out[o] = '\0';
    return o > 0 ? out : NULL;
}

const char *ss_req_query(const ss_req *r, const char *name)
{
    return u_map_get(r->u->map_url, name);
}

const char *ss_req_header(const ss_req *r, const char *name)
{
    return u_map_get_case(r->u->map_header, name);
}
