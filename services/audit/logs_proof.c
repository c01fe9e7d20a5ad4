/* logs_proof.c - signed checkpoints of the access log and their proofs, in the style of
 * Certificate Transparency (RFC 9162 section 2.1):
 *   GET /api/v1/access-logs/checkpoints/latest   the latest signed tree head
 *   GET /api/v1/access-logs/proofs/inclusion     ?chain_pos=&tree_size=  audit path of a row
 *   GET /api/v1/access-logs/proofs/consistency   ?first=&second=         between two tree sizes
 *
 * The tree's leaves are the rows in (xid, chain_pos) order, the rows of the single chain written
 * before the writer streams (migration 007; xid NULL) first, in chain_pos order: leaf i is the
 * i-th row of that order, its leaf input the row's 32-byte hash (which covers the row's contents
 * and its predecessor in its stream). The log's tree size is the number of rows whose
 * transaction ended before the oldest one still running (the snapshot's xmin): a transaction
 * still open sorts after every one of them when it commits, so the tree only grows at its end.
 * Leaf hash = SHA-256(0x00 || input), node hash = SHA-256(0x01 || left || right), and MTH,
 * PATH and PROOF as defined in RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1. A checkpoint is a compact
 * JWS (ES256, the audit service's own key SESSHU_AUDIT_SIGNING_KEY_FILE, public key
 * keys/audit-<kid>.pem) over {typ, tree_size, root_hash, timestamp}; it is stored in
 * audit.checkpoints (migration 005) and a new one is made when the log has grown and the last
 * is at least a second old. The tree is read from the stored subtree hashes (logs_tree.c,
 * migration 009): a proof costs O(log n) stored hashes and the rows of a few blocks of 256. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define AUD_TREE_MAX 20000000LL /* rows a proof may cover in one call */

static int push_hex(json_t *arr, const aud_h32 h)
{
    char hex[65];

    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    return json_array_append_new(arr, json_string(hex));
}

static void to_hex(const aud_h32 h, char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* PATH(m, D[lo:hi]) (RFC 9162 2.1.3.1), appended to arr, leaf first. */
static void path(aud_tree *t, long long m, long long lo, long long hi, json_t *arr)
{
    long long k;
    aud_h32 h;

    if (hi - lo <= 1)
        return;
    k = aud_split(hi - lo);
    if (m < k) {
        path(t, m, lo, lo + k, arr);
        aud_tree_mth(t, lo + k, hi, h);
    } else {
        path(t, m - k, lo + k, hi, arr);
        aud_tree_mth(t, lo, lo + k, h);
    }
    push_hex(arr, h);
}

/* SUBPROOF(m, D[lo:hi], b) (RFC 9162 2.1.4.1). */
static void subproof(aud_tree *t, long long m, long long lo, long long hi, bool b, json_t *arr)
{
    long long n = hi - lo, k;
    aud_h32 h;

    if (m == n) {
        if (!b) {
            aud_tree_mth(t, lo, hi, h);
            push_hex(arr, h);
        }
        return;
    }
    k = aud_split(n);
    if (m <= k) {
        subproof(t, m, lo, lo + k, b, arr);
        aud_tree_mth(t, lo + k, hi, h);
    } else {
        subproof(t, m - k, lo + k, hi, false, arr);
        aud_tree_mth(t, lo, lo + k, h);
    }
    push_hex(arr, h);
}

/* The reference: MTH recomputed from every row (verify's path). */
int aud_tree_root(long long n, char hex[65])
{
    aud_h32 *lv = NULL, root;
    int rc = aud_load_leaves(n, &lv, NULL);

    if (rc != 0)
        return rc;
    aud_mth_mem(lv, 0, n, root);
    free(lv);
    to_hex(root, hex);
    return 0;
}

/* MTH of the first n leaves from the stored hashes. */
static int stored_root(long long n, char hex[65])
{
    aud_tree *t = NULL;
    aud_h32 root;
    int rc = aud_tree_open(n, &t);

    if (rc != 0)
        return rc;
    aud_tree_mth(t, 0, n, root);
    rc = aud_tree_error(t);
    aud_tree_close(t);
    if (rc == 0)
        to_hex(root, hex);
    return rc;
}

static json_t *cp_body(const char *size, const char *root, const char *ts, const char *jws)
{
    return json_pack("{s:I,s:s,s:I,s:s,s:s}", "tree_size", (json_int_t)strtoll(size, NULL, 10),
                     "root_hash", root, "timestamp", (json_int_t)strtoll(ts, NULL, 10), "signature",
                     jws, "hash_algorithm", "SHA-256 (RFC 9162 2.1.1)");
}

/* Make, sign and store the checkpoint of the whole log now. */
static int make_checkpoint(void)
{
    long long n = 0, now_ms = ss_now_us() / 1000;
    char hex[65], nb[24], tb[24];
    char *jws = NULL;
    json_t *claims;
    int rc;

    if ((rc = aud_tree_size(&n)) != 0 || (rc = stored_root(n, hex)) != 0)
        return rc;
    claims = json_pack("{s:s,s:I,s:s,s:I}", "typ", "sesshu-access-log-checkpoint/v1", "tree_size",
                       (json_int_t)n, "root_hash", hex, "timestamp", (json_int_t)now_ms);
    if (claims == NULL)
        return SS_ERR_NOMEM;
    rc = ss_jwt_sign(claims, &jws);
    json_decref(claims);
    if (rc != 0)
        return rc;
    snprintf(nb, sizeof(nb), "%lld", n);
    snprintf(tb, sizeof(tb), "%lld", now_ms);
    {
        const char *p[4] = {nb, hex, tb, jws};

        rc = ss_db_query(ss_server_db(), sql_aud_checkpoint_insert, 4, p, NULL);
    }
    free(jws);
    return rc;
}

int aud_h_checkpoint(ss_req *r)
{
    static const char *const allowed[] = {NULL};
    PGresult *res = NULL;
    long long n = 0;
    int rc;

    if (aud_check_params(r, allowed) != 0)
        return SS_ERR_VALIDATION;
    if ((rc = aud_tree_size(&n)) != 0 ||
        (rc = ss_db_query(ss_server_db(), sql_aud_checkpoint_latest, 0, NULL, &res)) != 0)
        return rc;
    if (PQntuples(res) == 0 ||
        (strtoll(ss_db_val(res, 0, 0), NULL, 10) < n && ss_db_val(res, 0, 4)[0] != 't')) {
        PQclear(res);
        res = NULL;
        if ((rc = make_checkpoint()) != 0)
            return rc == SS_ERR_CONFLICT
                       ? ss_req_fail(r, SS_ERR_CONFLICT,
                                     "the chain is broken: run verify to find where")
                       : rc;
        if ((rc = ss_db_query(ss_server_db(), sql_aud_checkpoint_latest, 0, NULL, &res)) != 0)
            return rc;
    }
    rc = PQntuples(res) == 1
             ? ss_reply_json_new(r, 200,
                                 cp_body(ss_db_val(res, 0, 0), ss_db_val(res, 0, 1),
                                         ss_db_val(res, 0, 2), ss_db_val(res, 0, 3)))
             : SS_ERR_INTERNAL;
    PQclear(res);
    return rc;
}

/* A tree size parameter: 1 .. the head (and AUD_TREE_MAX). */
static void size_param(ss_req *r, const char *name, long long head, long long *out)
{
    const char *s = ss_req_query(r, name);

    if (s == NULL || s[0] == '\0')
        ss_req_field_error(r, name, "is required");
    else if (aud_parse_ll(s, 1, AUD_TREE_MAX, out) != 0 || *out > head)
        ss_req_field_error(r, name, "must be a tree size from 1 to the log's size");
}

static int broken(ss_req *r, int rc)
{
    return rc == SS_ERR_CONFLICT
               ? ss_req_fail(r, SS_ERR_CONFLICT, "the chain is broken: run verify to find where")
               : rc;
}

/* PATH of leaf `leaf` in t into a new array (NULL on error: aud_tree_error or no memory). */
static json_t *inclusion_path(aud_tree *t, long long leaf, long long size, char hex[65])
{
    json_t *arr = json_array();
    aud_h32 lh;

    if (arr == NULL)
        return NULL;
    path(t, leaf, 0, size, arr);
    aud_tree_leaf(t, leaf, lh);
    to_hex(lh, hex);
    if (aud_tree_error(t) != 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int aud_h_inclusion(ss_req *r)
{
    static const char *const allowed[] = {"chain_pos", "tree_size", NULL};
    long long head = 0, pos = 0, size = 0, leaf = -1;
    aud_tree *t = NULL;
    json_t *arr;
    char hex[65];
    int rc;

    if ((rc = aud_tree_size(&head)) != 0)
        return rc;
    aud_check_params(r, allowed);
    const char *cp = ss_req_query(r, "chain_pos");

    if (aud_parse_ll(cp != NULL ? cp : "", 1, INT64_MAX, &pos) != 0)
        ss_req_field_error(r, "chain_pos", "must be a row's chain position (an integer from 1)");
    size_param(r, "tree_size", head, &size);
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if ((rc = aud_tree_open(size, &t)) != 0)
        return broken(r, rc);
    if ((rc = aud_tree_leaf_of(t, pos, &leaf)) != 0 || leaf < 0) {
        aud_tree_close(t);
        return rc != 0 ? broken(r, rc)
                       : ss_req_field_error(r, "chain_pos", "is not a row of a tree this size");
    }
    arr = inclusion_path(t, leaf, size, hex);
    rc = aud_tree_error(t);
    aud_tree_close(t);
    if (arr == NULL)
        return rc != 0 ? broken(r, rc) : SS_ERR_NOMEM;
    return ss_reply_json_new(r, 200,
                             json_pack("{s:I,s:I,s:I,s:s,s:o}", "chain_pos", (json_int_t)pos,
                                       "leaf_index", (json_int_t)leaf, "tree_size",
                                       (json_int_t)size, "leaf_hash", hex, "audit_path", arr));
}

int aud_h_consistency(ss_req *r)
{
    static const char *const allowed[] = {"first", "second", NULL};
    long long head = 0, m = 0, n = 0;
    aud_tree *t = NULL;
    json_t *arr;
    int rc;

    if ((rc = aud_tree_size(&head)) != 0)
        return rc;
    aud_check_params(r, allowed);
    size_param(r, "first", head, &m);
    size_param(r, "second", head, &n);
    if (json_array_size(r->errors) == 0 && m > n)
        ss_req_field_error(r, "first", "must not be larger than second");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if ((rc = aud_tree_open(n, &t)) != 0)
        return broken(r, rc);
    if ((arr = json_array()) == NULL) {
        aud_tree_close(t);
        return SS_ERR_NOMEM;
    }
    if (m < n)
        subproof(t, m, 0, n, true, arr);
    rc = aud_tree_error(t);
    aud_tree_close(t);
    if (rc != 0) {
        json_decref(arr);
        return broken(r, rc);
    }
    return ss_reply_json_new(r, 200,
                             json_pack("{s:I,s:I,s:o}", "first", (json_int_t)m, "second",
                                       (json_int_t)n, "consistency_path", arr));
}
