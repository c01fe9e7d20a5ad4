/* aud.h - what the audit service's files share: the service, its handlers
 * and the query-parameter check. */
#ifndef AUD_H
#define AUD_H

#include "sesshu/http.h"

/* The service (service.c); main.c runs it, tests start it in-process. */
extern const ss_service aud_service;

/* GET /api/v1/access-logs (logs_query.c). */
int aud_h_query(ss_req *r);
/* GET /api/v1/access-logs/about-me: a vaccinee's "who viewed my records" (logs_about_me.c). */
int aud_h_about_me(ss_req *r);
/* GET /api/v1/access-logs/verify (logs_verify.c). */
int aud_h_verify(ss_req *r);

/* Signed checkpoints and their proofs (logs_proof.c): GET
 * /api/v1/access-logs/checkpoints/latest, /proofs/inclusion, /proofs/consistency. */
int aud_h_checkpoint(ss_req *r);
int aud_h_inclusion(ss_req *r);
int aud_h_consistency(ss_req *r);
/* The Merkle tree head of rows 1..n as hex. SS_ERR_CONFLICT when a row is missing. */
int aud_tree_root(long long n, char hex[65]);
/* The log's tree size now (logs_proof.c): rows whose transaction ended before the oldest open. */
int aud_tree_size(long long *n);

/* The gateway's refusals into the log (gateway_import.c): a thread reading
 * SESSHU_AUDIT_GATEWAY_LOG (unset: nothing is started). */
int aud_gateway_import_start(ss_db *db);
void aud_gateway_import_stop(void);

/* Record a field error for every query parameter not in `allowed`
 * (NULL-terminated) and for every empty one. 0 or SS_ERR_VALIDATION. */
int aud_check_params(ss_req *r, const char *const *allowed);
/* Strict decimal integer in [min,max]. */
int aud_parse_ll(const char *s, long long min, long long max, long long *out);

#endif
