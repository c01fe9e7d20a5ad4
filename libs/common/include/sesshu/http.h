/* http.h - routes, requests and replies: what a handler gets and gives.
 *
 * A service declares a table of ss_route and calls ss_server_run(). Every
 * route goes through one dispatcher (server.c) which, in order:
 *   1. takes or makes the request id (X-Request-Id) and starts the clock;
 *   2. authenticates (Bearer JWT, verified once and cached until expiry,
 *      revocations honoured) unless the route is SS_PERM_PUBLIC;
 *   3. refuses a temporary-password session anything but routes flagged
 *      SS_ROUTE_TEMP_PW_OK (403 password-change-required);
 *   4. checks the route's permission (403);
 *   5. for POST/PUT/PATCH with a body: content type (415), size (413),
 *      UTF-8, JSON syntax, depth and string-length limits (400), object at
 *      the top (400) -> r->body;
 *   6. calls the handler;
 *   7. writes the access-log row and waits for its commit (group commit);
 *      if that fails the answer becomes 503;
 *   8. sends the response, with X-Request-Id.
 * Handlers return 0 after ss_reply_*(), or a negative SS_ERR_* and the
 * dispatcher answers application/problem+json from the error table (with
 * r->errors as the `errors` array for validation failures).
 *
 * The rest of a handler's library: sesshu/server.h (the service and its lifecycle),
 * sesshu/body.h (JSON body checks, JSON text), sesshu/page.h (paging, query strings). */
#ifndef SESSHU_HTTP_H
#define SESSHU_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <ulfius.h>

#include "sesshu/authz.h"
#include "sesshu/db.h"

typedef struct ss_req {
    const struct _u_request *u; /* ulfius request (borrowed) */
    struct _u_response *resp;   /* ulfius response (borrowed) */
    const struct ss_route *route;
    const struct ss_service *svc;
    char request_id[72];
    ss_principal who;   /* kind NONE on public routes without a token */
    json_t *body;       /* parsed JSON object body or NULL; owned by the dispatcher */
    json_t *errors;     /* validation errors array or NULL; owned by the dispatcher */
    const char *detail; /* optional problem detail (static or pool-owned string) */
    char detail_buf[256];
    /* The RFC 6750 challenge of a 401 or a scope 403 (WWW-Authenticate), "" for the default. */
    const char *bearer_error;
    /* What the access log records; handlers fill these in. */
    char res_id[72];         /* resource id touched */
    char person_id[72];      /* person concerned, when personal data is touched */
    char subject_org_id[40]; /* organisation the resource belongs to, if not the caller's */
    char subject_muni[8];    /* municipality the resource belongs to, if known */
    int status;              /* HTTP status sent (set by ss_reply_*) */
    long long t_start_us;
    bool logged; /* its access-log row committed with its change (ss_group_write, group.h) */
} ss_req;

typedef int (*ss_handler)(ss_req *r);

/* Route flags. */
#define SS_ROUTE_TEMP_PW_OK  0x01u /* allowed while a temporary password is unchanged */
#define SS_ROUTE_NO_AUDIT    0x02u /* health and metrics only */
#define SS_ROUTE_RAW_BODY    0x04u /* do not parse the body as JSON (forms, CSV) */
#define SS_ROUTE_LOGIN_QUEUE 0x08u /* password hashing: bounded by the login queue */
#define SS_ROUTE_OWN_AUTH                                               \
    0x10u /* public route whose handler authenticates the caller itself \
             (OAuth client authentication: Authorization is Basic) */
#define SS_ROUTE_REPEAT_QUERY                                               \
    0x20u /* a query parameter may come more than once (FHIR search:        \
             date=ge…&date=le…); the handler reads the raw query itself \
             (ulfius joins repeated values with commas) */

/* A path without a :param is matched before patterns of the same shape
 * (/persons/me before /persons/:id). */
typedef struct ss_route {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* ulfius pattern, e.g. "/api/v1/users/:id" */
    ss_handler fn;
    int perm; /* enum ss_perm */
    unsigned flags;
    const char *res_type; /* resource type for the access log, e.g. "user" */
} ss_route;

/* ---- replies (status is recorded in r->status) ---------------------- */
/* JSON body; does NOT steal `body` (caller decrefs). */
int ss_reply_json(ss_req *r, int status, const json_t *body);
/* JSON body, steals `body`. Returns SS_ERR_NOMEM if body is NULL. */
int ss_reply_json_new(ss_req *r, int status, json_t *body);
/* Raw body with a content type (copied). */
int ss_reply_raw(ss_req *r, int status, const char *content_type, const char *data, size_t len);
/* 204 No Content. */
int ss_reply_empty(ss_req *r, int status);
/* problem+json for err; detail optional (NULL). Used by the dispatcher. */
int ss_reply_problem(ss_req *r, int err, const char *detail);
void ss_reply_header(ss_req *r, const char *name, const char *value);

/* ---- request helpers ------------------------------------------------ */
const char *ss_req_param(const ss_req *r, const char *name); /* URL :param */
const char *ss_req_query(const ss_req *r, const char *name); /* ?name= */
const char *ss_req_header(const ss_req *r, const char *name);
const char *ss_req_client_ip(const ss_req *r); /* X-Real-IP from the gateway, or peer */
/* The raw body of a SS_ROUTE_RAW_BODY route: 0 and (*data, *len) borrowed from the request,
 * or SS_ERR_TOO_LARGE (413) past the service's raw_body_max (or the library limit). */
int ss_req_raw_body(ss_req *r, const char **data, size_t *len);
/* Record a field error ({"field","reason"}) into r->errors; returns
 * SS_ERR_VALIDATION so a handler can `return ss_req_field_error(...)`. */
int ss_req_field_error(ss_req *r, const char *field, const char *reason);
/* printf-style detail for the problem answer; returns err. */
int ss_req_fail(ss_req *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
