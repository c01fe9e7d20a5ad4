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
 * is at least a second old. The tree is computed from the row hashes on each call: O(n) in
 * the log's size (stored subtree hashes are left for a larger log). */
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/text.h"

#define AUD_TREE_MAX 20000000LL /* rows a proof may cover in one call */

typedef unsigned char h32[32];

static void leaf_hash(const unsigned char in[32], h32 out)
{
    unsigned char buf[33];

    buf[0] = 0x00;
    memcpy(buf + 1, in, 32);
    SHA256(buf, sizeof(buf), out);
}

static void node_hash(const h32 l, const h32 r, h32 out)
{
    unsigned char buf[65];

    buf[0] = 0x01;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    SHA256(buf, sizeof(buf), out);
}

/* Largest power of two smaller than n (n >= 2). */
static long long split(long long n)
{
    long long k = 1;

    while (k * 2 < n)
        k *= 2;
    return k;
}

/* MTH(D[lo:hi]) over leaf hashes lv. */
static void mth(const h32 *lv, long long lo, long long hi, h32 out)
{
    h32 l, r;
    long long k;

    if (hi - lo == 0) {
        SHA256((const unsigned char *)"", 0, out);
        return;
    }
    if (hi - lo == 1) {
        memcpy(out, lv[lo], 32);
        return;
    }
    k = split(hi - lo);
    mth(lv, lo, lo + k, l);
    mth(lv, lo + k, hi, r);
    node_hash(l, r, out);
}

static int push_hex(json_t *arr, const h32 h)
{
    char hex[65];

    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    return json_array_append_new(arr, json_string(hex));
}

static void to_hex(const h32 h, char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* PATH(m, D[lo:hi]) (RFC 9162 2.1.3.1), appended to arr, leaf first. */
static void path(const h32 *lv, long long m, long long lo, long long hi, json_t *arr)
{
    long long k;
    h32 h;

    if (hi - lo <= 1)
        return;
    k = split(hi - lo);
    if (m < k) {
        path(lv, m, lo, lo + k, arr);
        mth(lv, lo + k, hi, h);
    } else {
        path(lv, m - k, lo + k, hi, arr);
        mth(lv, lo, lo + k, h);
    }
    push_hex(arr, h);
}

/* SUBPROOF(m, D[lo:hi], b) (RFC 9162 2.1.4.1). */
static void subproof(const h32 *lv, long long m, long long lo, long long hi, bool b, json_t *arr)
{
    long long n = hi - lo, k;
    h32 h;

    if (m == n) {
        if (!b) {
            mth(lv, lo, hi, h);
            push_hex(arr, h);
        }
        return;
    }
    k = split(n);
    if (m <= k) {
        subproof(lv, m, lo, lo + k, b, arr);
        mth(lv, lo + k, hi, h);
    } else {
        subproof(lv, m - k, lo + k, hi, false, arr);
        mth(lv, lo, lo + k, h);
    }
    push_hex(arr, h);
}

static int hexnib(char c)
{
    return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Leaf hashes of the first n rows of the tree's order (malloc'd into *out), and their
 * chain_pos (into *pos_out when not NULL). SS_ERR_CONFLICT when fewer rows are there or a hash
 * is malformed: rows were removed (verify names where). */
static int load_leaves(long long n, h32 **out, long long **pos_out)
{
    static const char sql[] = "SELECT chain_pos, encode(hash, 'hex') FROM audit.access_log "
                              "ORDER BY xid NULLS FIRST, chain_pos LIMIT $1::bigint";
    char nb[24];
    const char *p[1] = {nb};
    PGresult *res = NULL;
    h32 *lv;
    long long *pos = NULL;
    size_t cnt = (size_t)(n > 0 ? n : 1);
    int rc;

    *out = NULL;
    snprintf(nb, sizeof(nb), "%lld", n);
    if ((rc = ss_db_query(ss_server_db(), sql, 1, p, &res)) != 0)
        return rc;
    if (PQntuples(res) != n) {
        PQclear(res);
        return SS_ERR_CONFLICT;
    }
    lv = malloc(sizeof(h32) * cnt);
    pos = pos_out != NULL ? malloc(sizeof(long long) * cnt) : NULL;
    if (lv == NULL || (pos_out != NULL && pos == NULL)) {
        free(lv);
        free(pos);
        PQclear(res);
        return SS_ERR_NOMEM;
    }
    for (long long i = 0; i < n; i++) {
        const char *cp = ss_db_val(res, (int)i, 0), *hex = ss_db_val(res, (int)i, 1);
        unsigned char in[32];

        if (cp == NULL || hex == NULL || strlen(hex) != 64) {
            rc = SS_ERR_CONFLICT;
            break;
        }
        if (pos != NULL)
            pos[i] = strtoll(cp, NULL, 10);
        for (int j = 0; j < 32; j++)
            in[j] = (unsigned char)(hexnib(hex[2 * j]) * 16 + hexnib(hex[2 * j + 1]));
        leaf_hash(in, lv[i]);
    }
    PQclear(res);
    if (rc != 0) {
        free(lv);
        free(pos);
        return rc;
    }
    *out = lv;
    if (pos_out != NULL)
        *pos_out = pos;
    return 0;
}

/* The log's tree size now: the rows whose transaction ended before the oldest one running. */
static int head_pos(long long *n)
{
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(),
                         "SELECT count(*) FROM audit.access_log WHERE xid IS NULL "
                         "OR xid < pg_snapshot_xmin(pg_current_snapshot())",
                         0, NULL, &res);

    if (rc == 0)
        *n = PQntuples(res) == 1 ? strtoll(ss_db_val(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return rc;
}

int aud_tree_size(long long *n)
{
    return head_pos(n);
}

int aud_tree_root(long long n, char hex[65])
{
    h32 *lv = NULL, root;
    int rc = load_leaves(n, &lv, NULL);

    if (rc != 0)
        return rc;
    mth(lv, 0, n, root);
    free(lv);
    to_hex(root, hex);
    return 0;
}

static const char cp_latest_sql[] =
    "SELECT tree_size, root_hash, signed_at_ms, jws, signed_at > now() - interval '1 second' "
    "FROM audit.checkpoints ORDER BY tree_size DESC LIMIT 1";

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
    h32 *lv = NULL, root;
    char hex[65], nb[24], tb[24];
    char *jws = NULL;
    json_t *claims;
    int rc;

    if ((rc = head_pos(&n)) != 0 || (rc = load_leaves(n, &lv, NULL)) != 0)
        return rc;
    mth(lv, 0, n, root);
    free(lv);
    to_hex(root, hex);
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

        rc = ss_db_query(ss_server_db(),
                         "INSERT INTO audit.checkpoints (tree_size, root_hash, signed_at_ms, jws) "
                         "VALUES ($1::bigint, $2, $3::bigint, $4) ON CONFLICT DO NOTHING",
                         4, p, NULL);
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
    if ((rc = head_pos(&n)) != 0 ||
        (rc = ss_db_query(ss_server_db(), cp_latest_sql, 0, NULL, &res)) != 0)
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
        if ((rc = ss_db_query(ss_server_db(), cp_latest_sql, 0, NULL, &res)) != 0)
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

/* The leaf index of the row at chain_pos among the first n leaves, or -1. */
static long long leaf_of(const long long *pos, long long n, long long chain_pos)
{
    for (long long i = 0; i < n; i++)
        if (pos[i] == chain_pos)
            return i;
    return -1;
}

int aud_h_inclusion(ss_req *r)
{
    static const char *const allowed[] = {"chain_pos", "tree_size", NULL};
    long long head = 0, pos = 0, size = 0, leaf;
    long long *cps = NULL;
    h32 *lv = NULL;
    json_t *arr;
    char hex[65];
    int rc;

    if ((rc = head_pos(&head)) != 0)
        return rc;
    aud_check_params(r, allowed);
    const char *cp = ss_req_query(r, "chain_pos");

    if (aud_parse_ll(cp != NULL ? cp : "", 1, INT64_MAX, &pos) != 0)
        ss_req_field_error(r, "chain_pos", "must be a row's chain position (an integer from 1)");
    size_param(r, "tree_size", head, &size);
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if ((rc = load_leaves(size, &lv, &cps)) != 0)
        return rc == SS_ERR_CONFLICT ? ss_req_fail(r, SS_ERR_CONFLICT,
                                                   "the chain is broken: run verify to find where")
                                     : rc;
    if ((leaf = leaf_of(cps, size, pos)) < 0 || (arr = json_array()) == NULL) {
        free(lv);
        free(cps);
        return leaf < 0 ? ss_req_field_error(r, "chain_pos", "is not a row of a tree this size")
                        : SS_ERR_NOMEM;
    }
    free(cps);
    path(lv, leaf, 0, size, arr);
    to_hex(lv[leaf], hex);
    free(lv);
    return ss_reply_json_new(r, 200,
                             json_pack("{s:I,s:I,s:I,s:s,s:o}", "chain_pos", (json_int_t)pos,
                                       "leaf_index", (json_int_t)leaf, "tree_size",
                                       (json_int_t)size, "leaf_hash", hex, "audit_path", arr));
}

int aud_h_consistency(ss_req *r)
{
    static const char *const allowed[] = {"first", "second", NULL};
    long long head = 0, m = 0, n = 0;
    h32 *lv = NULL;
    json_t *arr;
    int rc;

    if ((rc = head_pos(&head)) != 0)
        return rc;
    aud_check_params(r, allowed);
    size_param(r, "first", head, &m);
    size_param(r, "second", head, &n);
    if (json_array_size(r->errors) == 0 && m > n)
        ss_req_field_error(r, "first", "must not be larger than second");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if ((rc = load_leaves(n, &lv, NULL)) != 0)
        return rc == SS_ERR_CONFLICT ? ss_req_fail(r, SS_ERR_CONFLICT,
                                                   "the chain is broken: run verify to find where")
                                     : rc;
    if ((arr = json_array()) == NULL) {
        free(lv);
        return SS_ERR_NOMEM;
    }
    if (m < n)
        subproof(lv, m, 0, n, true, arr);
    free(lv);
    return ss_reply_json_new(r, 200,
                             json_pack("{s:I,s:I,s:o}", "first", (json_int_t)m, "second",
                                       (json_int_t)n, "consistency_path", arr));
}
