/* http.h - the ulfius server, routes, requests and replies.
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
 * r->errors as the `errors` array for validation failures). */
#ifndef SESSHU_HTTP_H
#define SESSHU_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <ulfius.h>

#include "sesshu/authz.h"
#include "sesshu/db.h"
#include "sesshu/services.h" /* SS_PORT_<NAME>, from services/registry.tsv */

/* Limits on JSON bodies (size comes from SESSHU_MAX_BODY_BYTES). */
#define SS_JSON_MAX_DEPTH  16
#define SS_JSON_MAX_STRING 65536
#define SS_PAGE_MAX        200
#define SS_PAGE_DEFAULT    50

/* How JSON is written, to a client or into the database: compact, and reals with 15
 * significant digits, which every decimal of up to 15 digits survives (8.8 stays 8.8, not the
 * binary double's 8.8000000000000007). */
#define SS_JSON_COMPACT (JSON_COMPACT | JSON_REAL_PRECISION(15))

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

typedef struct ss_service {
    const char *name;           /* "account" */
    const char *env_name;       /* "ACCOUNT": SESSHU_ACCOUNT_PORT, SESSHU_ACCOUNT_DB_USER ... */
    const char *schema;         /* database schema it owns, e.g. "account" */
    int default_port;           /* 8101 */
    const char *migrations_dir; /* compiled default (SS_MIGRATIONS_DIR), env SESSHU_MIGRATIONS_DIR
                                   overrides */
    const ss_route *routes;     /* terminated by a route with method NULL */
    /* Optional hooks; each returns 0 or a negative SS_ERR_*. */
    int (*init)(ss_db *db); /* after migrations, before listening */
    void (*shutdown)(void); /* after the server stopped */
    /* Optional command-line subcommands: returns exit status, or -1 if
     * argv[1] is not one of this service's commands. Called after init. */
    int (*command)(ss_db *db, int argc, char **argv);
    /* Largest body a SS_ROUTE_RAW_BODY route of this service may receive (bytes; 0 = the
     * library limit). The handler checks it (ss_req_raw_body); JSON bodies keep the library
     * limit (SESSHU_MAX_BODY_BYTES) whatever this says. */
    long raw_body_max;
} ss_service;

/* Parse config, start logs, pool, migrations, audit writer, key store,
 * init hook; then either run a subcommand or serve until SIGINT/SIGTERM.
 * Returns the process exit status. */
int ss_server_run(const ss_service *svc, int argc, char **argv);

/* For in-process tests: do everything ss_server_run does before serving,
 * then serve on `port` (0 = the configured port) from background threads
 * and return once listening. Stop with ss_server_stop(). */
int ss_server_start(const ss_service *svc, int port);
void ss_server_stop(void);

/* The service's pool (valid inside handlers and hooks). */
ss_db *ss_server_db(void);
/* A pool for heavy reads that may lag: a standby when SESSHU_DB_HOST lists one
 * (ss_db_conninfo_read); use it through ss_db_query_read. */
ss_db *ss_server_read_db(void);

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

/* ---- declarative JSON body checks ----------------------------------- */
enum ss_ftype {
    SS_F_STRING = 1, /* non-empty unless min==0; length in code points in [min,max] */
    SS_F_INT,        /* integer in [min,max] */
    SS_F_BOOL,
    SS_F_DATE,  /* YYYY-MM-DD, a real calendar date */
    SS_F_EMAIL, /* local@domain, <= 254 bytes */
    SS_F_ENUM,  /* string in `values` */
    SS_F_OBJECT,
    SS_F_ARRAY,     /* length in [min,max] */
    SS_F_TIMESTAMP, /* ISO 8601 with offset */
};
typedef struct ss_field {
    const char *name;
    int type; /* enum ss_ftype */
    bool required;
    long long min, max;        /* string length / int range / array length; 0,0 = defaults */
    const char *const *values; /* SS_F_ENUM: NULL-terminated */
    bool nullable;             /* JSON null accepted (means "clear") */
} ss_field;
/* Check obj against fields (terminated by name NULL): unknown members,
 * missing required members, wrong types, out-of-range values are each
 * recorded with ss_req_field_error(). Returns 0 or SS_ERR_VALIDATION. */
int ss_json_check(ss_req *r, const json_t *obj, const ss_field *fields);
/* Body must be present and pass ss_json_check. */
int ss_body_check(ss_req *r, const ss_field *fields);
/* Member as string or NULL (borrowed from the JSON). */
const char *ss_json_str(const json_t *obj, const char *key);

/* ---- pagination ----------------------------------------------------- */
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

/* ---- query strings and JSON columns ----------------------------------- */
/* A field error for every query parameter not in `allowed` (NULL-terminated) and for every
 * empty one; a name that is not short printable ASCII is reported as "(query)". ulfius puts
 * URL :params in the same map: list them too. 0 or SS_ERR_VALIDATION. */
int ss_query_check(ss_req *r, const char *const *allowed);
/* A JSON text column parsed (new reference, caller decrefs); NULL for SQL NULL or bad JSON. */
json_t *ss_json_col(const PGresult *res, int row, int col);

#endif
