/* svc.h - calls from one service to another over HTTP (services never read
 * another service's tables), and the short-lived service tokens that
 * authenticate such calls on internal routes.
 *
 * The base URL of service NAME is SESSHU_<NAME>_URL, else
 * http://127.0.0.1:SESSHU_<NAME>_PORT, else http://127.0.0.1:<default port>.
 * One libcurl handle per calling thread keeps its connections alive. */
#ifndef SESSHU_SVC_H
#define SESSHU_SVC_H

#include <jansson.h>
#include <stdbool.h>

#include "sesshu/services.h" /* SS_PORT_<NAME>, from services/registry.tsv */

/* Bytes of an answer we accept: a feed page of thousands of records (payment's claims feed,
 * ~300 bytes an item) fits; the buffer lives for one call. */
#define SS_SVC_MAX_ANSWER (8 * 1024 * 1024)

/* One call: method and path (with query) on service env_name ("RECORDS"),
 * default_port when nothing is configured; auth (the whole Authorization
 * header value, or NULL), request_id (forwarded as X-Request-Id, or NULL),
 * body (JSON, not stolen, or NULL), timeout in ms. On a completed exchange
 * returns 0 with *status and *answer (new reference: the JSON answer, NULL
 * when the body is empty or not JSON). SS_ERR_UNAVAILABLE when the service
 * cannot be reached, times out or answers more than SS_SVC_MAX_ANSWER. */
int ss_svc_call(const char *env_name, int default_port, const char *method, const char *path,
                const char *auth, const char *request_id, const json_t *body, long timeout_ms,
                long *status, json_t **answer);

/* A service token: an ES256 JWT from this process's signing key with
 * {iss, sub "service:<svc>", svc, aud, iat, exp (+60 s), jti}. It is no
 * user, client or vaccinee token (ss_jwt_principal refuses it), so it opens
 * only routes that check it with ss_svc_token_verify. *out malloc'd. */
int ss_svc_token(const char *svc, const char *aud, char **out);
/* 0 when auth_header is "Bearer <token>" of a verified service token from
 * service svc for audience aud; SS_ERR_UNAUTHORIZED otherwise. */
int ss_svc_token_verify(const char *auth_header, const char *svc, const char *aud);

#endif
