/* http_internal.h - what server.c, dispatch.c, reply.c, body.c and metrics.c share. */
#ifndef SESSHU_HTTP_INTERNAL_H
#define SESSHU_HTTP_INTERNAL_H

#include "sesshu/audit.h"
#include "sesshu/http.h"
#include "sesshu/server.h"

#define SS_MAX_ROUTES 128

/* user_data of every registered ulfius endpoint. */
typedef struct ss_route_ctx {
    const ss_route *route; /* NULL for the default (404) endpoint */
    const ss_service *svc;
    int index; /* metrics slot */
} ss_route_ctx;

int ss_dispatch(const struct _u_request *req, struct _u_response *resp, void *user_data);
/* Parse and check the JSON body into r->body. 0 or an error. */
int ss_body_parse(ss_req *r);
long ss_http_max_body(void);
/* The access-log row of r as it stands (dispatch.c): its strings point into r, path and ip
 * (the path and the client address copied there), so it outlives the thread that made it. */
void ss_req_audit_row(ss_req *r, ss_audit_row *row, char *path, size_t pathn, char *ip, size_t ipn);
/* After a COMMIT whose answer was lost: did request_id's row commit? 1, 0, -1 unknown. */
int ss_commit_outcome(const char *request_id, const char *service);

/* metrics.c */
void ss_metrics_init(const ss_service *svc, int nroutes);
void ss_metrics_route_name(int index, const char *method, const char *path);
void ss_metrics_observe(int index, int status, long long duration_us);
char *ss_metrics_render(void); /* malloc'd Prometheus text */

/* server.c built-in routes */
int ss_h_healthz(ss_req *r);
int ss_h_readyz(ss_req *r);
int ss_h_metrics(ss_req *r);

#endif
