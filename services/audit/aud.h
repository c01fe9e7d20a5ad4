/* aud.h - what the audit service's files share: the service, its handlers
 * and the query-parameter check. */
#ifndef AUD_H
#define AUD_H

#include "aud_sql.h"
#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"

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
/* The log's tree size now (logs_tree.c): rows whose transaction ended before the oldest open. */
int aud_tree_size(long long *n);

/* The Merkle tree (logs_tree.c, RFC 9162 2.1.1) over the rows in tree order (the key
 * (coalesce(xid, 0), chain_pos)), from the stored subtree hashes of migration 009. */
typedef unsigned char aud_h32[32];
#define AUD_BASE_LEVEL 8 /* the lowest stored level: blocks of 256 leaves */
#define AUD_BLOCK      256
void aud_leaf_hash(const unsigned char in[32], aud_h32 out);
void aud_node_hash(const aud_h32 l, const aud_h32 r, aud_h32 out);
/* Largest power of two smaller than n (n >= 2). */
long long aud_split(long long n);
/* MTH(D[lo:hi]) over leaf hashes in memory. */
void aud_mth_mem(const aud_h32 *lv, long long lo, long long hi, aud_h32 out);
/* The full recompute (the reference): leaf hashes of the first n rows (malloc'd into *out) and
 * their chain_pos (into *pos_out when not NULL). SS_ERR_CONFLICT when rows are missing. */
int aud_load_leaves(long long n, aud_h32 **out, long long **pos_out);
/* Store the hashes of every complete subtree (from level 8) of the first `size` leaves not
 * stored yet. size must not exceed the log's tree size (those leaves never move). */
int aud_tree_fill(long long size);
/* A tree of `size` leaves read from the stored hashes (filled first) and the rows of the few
 * blocks a proof touches. Errors are sticky: aud_tree_error after the walk. */
typedef struct aud_tree aud_tree;
int aud_tree_open(long long size, aud_tree **out);
void aud_tree_close(aud_tree *t);
int aud_tree_error(const aud_tree *t);
void aud_tree_mth(aud_tree *t, long long lo, long long hi, aud_h32 out);
void aud_tree_leaf(aud_tree *t, long long i, aud_h32 out);
/* The leaf index of the row at chain_pos in the tree (-1 when not among its leaves). */
int aud_tree_leaf_of(aud_tree *t, long long chain_pos, long long *leaf);
/* Every stored subtree hash recomputed from the rows (verify): adds "subtrees" to body and
 * clears "ok" on a difference. */
int aud_subtrees_check(json_t *body);

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
