/* logs_tree.c - the checkpoints' Merkle tree (RFC 9162 2.1.1) from stored subtree hashes.
 *
 * audit.subtrees (migration 009) keeps the hash of every complete, aligned subtree of 2^8 leaves
 * and more over the leaves a tree size has covered. In an RFC 9162 tree every left subtree is
 * complete and aligned, so MTH of any prefix, PATH and PROOF need O(log n) stored hashes plus
 * the leaves of at most a few blocks of 256 (the proven leaf's block, the block at the boundary
 * of a consistency proof, the incomplete last block), which are read from the log by key range
 * (index access_log_tree). aud_tree_fill extends the stored hashes incrementally (new base blocks
 * hashed here, the levels above in SQL from their children); verify recomputes all of them from
 * the rows (aud_subtrees_check) and the full recompute aud_load_leaves stays as the reference. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

#define AUD_FILL_CHUNK 64 /* base blocks hashed per read while filling */

void aud_leaf_hash(const unsigned char in[32], aud_h32 out)
{
    unsigned char buf[33];

    buf[0] = 0x00;
    memcpy(buf + 1, in, 32);
    SHA256(buf, sizeof(buf), out);
}

void aud_node_hash(const aud_h32 l, const aud_h32 r, aud_h32 out)
{
    unsigned char buf[65];

    buf[0] = 0x01;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    SHA256(buf, sizeof(buf), out);
}

long long aud_split(long long n)
{
    long long k = 1;

    while (k * 2 < n)
        k *= 2;
    return k;
}

void aud_mth_mem(const aud_h32 *lv, long long lo, long long hi, aud_h32 out)
{
    aud_h32 l, r;
    long long k;

    if (hi - lo == 0) {
        SHA256((const unsigned char *)"", 0, out);
        return;
    }
    if (hi - lo == 1) {
        memcpy(out, lv[lo], 32);
        return;
    }
    k = aud_split(hi - lo);
    aud_mth_mem(lv, lo, lo + k, l);
    aud_mth_mem(lv, lo + k, hi, r);
    aud_node_hash(l, r, out);
}

static int hexnib(char c)
{
    return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* 64 hex digits into 32 bytes; -1 when malformed. */
static int unhex32(const char *hex, unsigned char out[32])
{
    if (hex == NULL || strlen(hex) != 64)
        return -1;
    for (int j = 0; j < 32; j++) {
        int hi = hexnib(hex[2 * j]), lo = hexnib(hex[2 * j + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[j] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
}

/* Leaf hashes and chain positions of the rows of res (chain_pos, xid key, hash hex), want rows. */
static int leaves_of(const PGresult *res, long long want, aud_h32 *lv, long long *pos)
{
    if (PQntuples(res) != want)
        return SS_ERR_CONFLICT;
    for (long long i = 0; i < want; i++) {
        unsigned char in[32];

        if (unhex32(ss_db_val(res, (int)i, 2), in) != 0)
            return SS_ERR_CONFLICT;
        if (pos != NULL)
            pos[i] = strtoll(ss_db_val(res, (int)i, 0), NULL, 10);
        aud_leaf_hash(in, lv[i]);
    }
    return 0;
}

/* Rows after the tree key (xid, pos) ("0", "0": from the first), up to n of them. */
/* One statement on c (the fill's transaction), or on the pool when c is NULL. */
static int run(ss_dbc *c, const char *sql, int n, const char *const *p, PGresult **res)
{
    return c != NULL ? ss_db_exec(c, sql, n, p, res) : ss_db_query(ss_server_db(), sql, n, p, res);
}

static int rows_after_on(ss_dbc *c, const char *xid, const char *pos, long long n, PGresult **res)
{
    char nb[24];
    const char *p[3] = {xid, pos, nb};

    snprintf(nb, sizeof(nb), "%lld", n);
    return run(c, sql_aud_tree_rows, 3, p, res);
}

static int rows_after(const char *xid, const char *pos, long long n, PGresult **res)
{
    return rows_after_on(NULL, xid, pos, n, res);
}

int aud_load_leaves(long long n, aud_h32 **out, long long **pos_out)
{
    PGresult *res = NULL;
    size_t cnt = (size_t)(n > 0 ? n : 1);
    aud_h32 *lv;
    long long *pos;
    int rc;

    *out = NULL;
    if ((rc = rows_after("0", "0", n, &res)) != 0)
        return rc;
    lv = malloc(sizeof(aud_h32) * cnt);
    pos = malloc(sizeof(long long) * cnt);
    rc = lv == NULL || pos == NULL ? SS_ERR_NOMEM : leaves_of(res, n, lv, pos);
    PQclear(res);
    if (rc != 0 || pos_out == NULL)
        free(pos);
    if (rc != 0) {
        free(lv);
        return rc;
    }
    *out = lv;
    if (pos_out != NULL)
        *pos_out = pos;
    return 0;
}

/* The stored base blocks: how many, and the tree key of the last one's last leaf. */
static int base_end_on(ss_dbc *c, long long *nb, char xid[24], char pos[24])
{
    PGresult *res = NULL;
    int rc = run(c, sql_aud_subtree_base_end, 0, NULL, &res);

    if (rc != 0)
        return rc;
    *nb = 0;
    snprintf(xid, 24, "0");
    snprintf(pos, 24, "0");
    if (PQntuples(res) == 1) {
        *nb = strtoll(ss_db_val(res, 0, 0), NULL, 10);
        snprintf(xid, 24, "%s", ss_db_val(res, 0, 1));
        snprintf(pos, 24, "%s", ss_db_val(res, 0, 2));
    }
    PQclear(res);
    return 0;
}

static int base_end(long long *nb, char xid[24], char pos[24])
{
    return base_end_on(NULL, nb, xid, pos);
}

/* The log's tree size now: the rows whose transaction ended before the oldest one running.
 * The stored base blocks cover such rows only, so this counts just the rows after them. */
int aud_tree_size(long long *n)
{
    long long nb = 0;
    char xid[24], pos[24];
    const char *p[2] = {xid, pos};
    PGresult *res = NULL;
    int rc = base_end(&nb, xid, pos);

    if (rc == 0 && (rc = ss_db_query(ss_server_db(), sql_aud_tree_tail_count, 2, p, &res)) == 0)
        *n = nb * AUD_BLOCK + (PQntuples(res) == 1 ? strtoll(ss_db_val(res, 0, 0), NULL, 10) : 0);
    PQclear(res);
    return rc;
}

/* Store base block b from rows r0 .. r0+255 of res (leaf hashes lv of those rows). */
static int store_block(ss_dbc *c, const PGresult *res, int r0, const aud_h32 *lv, long long b)
{
    char ib[24], hex[65];
    aud_h32 h;
    const char *p[6];

    aud_mth_mem(lv, r0, r0 + AUD_BLOCK, h);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    snprintf(ib, sizeof(ib), "%lld", b);
    p[0] = ib;
    p[1] = hex;
    p[2] = ss_db_val(res, r0, 1);
    p[3] = ss_db_val(res, r0, 0);
    p[4] = ss_db_val(res, r0 + AUD_BLOCK - 1, 1);
    p[5] = ss_db_val(res, r0 + AUD_BLOCK - 1, 0);
    return run(c, sql_aud_subtree_base_insert, 6, p, NULL);
}

/* The levels above the base: every parent whose two children are stored and itself is not. */
static int fill_upper(ss_dbc *c, long long nb)
{
    char lb[16];
    const char *p[1] = {lb};
    int rc = 0;

    for (int level = AUD_BASE_LEVEL; rc == 0 && (nb >> (level + 1 - AUD_BASE_LEVEL)) > 0; level++) {
        snprintf(lb, sizeof(lb), "%d", level);
        rc = run(c, sql_aud_subtree_fill_level, 1, p, NULL);
    }
    return rc;
}

/* The base blocks nb .. want-1 after the tree key (xid, pos), then the levels above, on c. */
static int fill_on(ss_dbc *c, long long nb, long long want, char xid[24], char pos[24])
{
    aud_h32 *lv = malloc(sizeof(aud_h32) * AUD_BLOCK * AUD_FILL_CHUNK);
    int rc = lv == NULL ? SS_ERR_NOMEM : 0;

    while (rc == 0 && nb < want) {
        long long k = want - nb < AUD_FILL_CHUNK ? want - nb : AUD_FILL_CHUNK;
        PGresult *res = NULL;

        if ((rc = rows_after_on(c, xid, pos, k * AUD_BLOCK, &res)) == 0)
            rc = leaves_of(res, k * AUD_BLOCK, lv, NULL);
        for (long long b = 0; rc == 0 && b < k; b++)
            rc = store_block(c, res, (int)(b * AUD_BLOCK), lv, nb + b);
        if (rc == 0) {
            snprintf(xid, 24, "%s", ss_db_val(res, (int)(k * AUD_BLOCK - 1), 1));
            snprintf(pos, 24, "%s", ss_db_val(res, (int)(k * AUD_BLOCK - 1), 0));
            nb += k;
        }
        PQclear(res);
    }
    free(lv);
    return rc == 0 ? fill_upper(c, nb) : rc;
}

/* One transaction, so verify never sees base blocks without the levels above them (a second
 * filler waits on the first one's rows, then finds them stored: ON CONFLICT DO NOTHING). */
int aud_tree_fill(long long size)
{
    long long nb = 0, want = size / AUD_BLOCK;
    char xid[24], pos[24];
    ss_dbc *c = NULL;
    int rc = base_end(&nb, xid, pos);

    if (rc != 0 || nb >= want)
        return rc;
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) == 0 && (rc = base_end_on(c, &nb, xid, pos)) == 0 &&
        (rc = fill_on(c, nb, want, xid, pos)) == 0)
        rc = ss_db_commit(c);
    if (rc != 0)
        ss_db_rollback(c);
    ss_db_release(c);
    return rc;
}

/* ---- a tree of one size over the stored hashes ------------------------------------------- */

typedef struct {
    long long blk; /* block number, -1 when empty */
    long long n;   /* leaves in it */
    aud_h32 lv[AUD_BLOCK];
    long long pos[AUD_BLOCK];
} aud_slot;

struct aud_tree {
    long long size, nb; /* leaves; stored base blocks inside them */
    char end_xid[24], end_pos[24];
    int rc, next;
    aud_slot slot[2];
};

int aud_tree_open(long long size, aud_tree **out)
{
    aud_tree *t = calloc(1, sizeof(*t));
    int rc = t == NULL ? SS_ERR_NOMEM : aud_tree_fill(size);

    if (rc == 0)
        rc = base_end(&t->nb, t->end_xid, t->end_pos);
    if (rc != 0) {
        free(t);
        return rc;
    }
    t->size = size;
    if (t->nb > size / AUD_BLOCK)
        t->nb = size / AUD_BLOCK; /* blocks past this size: read as rows, never as a tail */
    t->slot[0].blk = t->slot[1].blk = -1;
    *out = t;
    return 0;
}

void aud_tree_close(aud_tree *t)
{
    free(t);
}

int aud_tree_error(const aud_tree *t)
{
    return t->rc;
}

/* Where block b's rows start: after the last leaf of block b-1 (stored), or of the last stored
 * block for the block after them. */
static int block_start(aud_tree *t, long long b, char xid[24], char pos[24])
{
    PGresult *res = NULL;
    char ib[24];
    const char *p[1] = {ib};
    int rc;

    if (b == 0) {
        snprintf(xid, 24, "0");
        snprintf(pos, 24, "0");
        return 0;
    }
    snprintf(ib, sizeof(ib), "%lld", b - 1);
    rc = ss_db_query(ss_server_db(), sql_aud_subtree_base_last, 1, p, &res);
    if (rc == 0 && PQntuples(res) != 1)
        rc = SS_ERR_CONFLICT;
    if (rc == 0) {
        snprintf(xid, 24, "%s", ss_db_val(res, 0, 0));
        snprintf(pos, 24, "%s", ss_db_val(res, 0, 1));
    }
    PQclear(res);
    (void)t;
    return rc;
}

/* Block b's leaves, read into a slot (the two most recent are kept). NULL on error (t->rc). */
static aud_slot *block(aud_tree *t, long long b)
{
    long long n = b < t->size / AUD_BLOCK ? AUD_BLOCK : t->size - b * AUD_BLOCK;
    char xid[24], pos[24];
    PGresult *res = NULL;
    aud_slot *s;
    int rc;

    for (int i = 0; i < 2; i++)
        if (t->slot[i].blk == b)
            return &t->slot[i];
    if (t->rc != 0)
        return NULL;
    s = &t->slot[t->next];
    t->next = 1 - t->next;
    s->blk = -1;
    rc = b <= t->nb ? block_start(t, b, xid, pos) : SS_ERR_CONFLICT;
    if (rc == 0 && (rc = rows_after(xid, pos, n, &res)) == 0)
        rc = leaves_of(res, n, s->lv, s->pos);
    PQclear(res);
    if (rc != 0) {
        t->rc = rc;
        return NULL;
    }
    s->blk = b;
    s->n = n;
    return s;
}

/* The stored hash of the complete subtree (level, idx); 1 when not stored. */
static int stored(aud_tree *t, int level, long long idx, aud_h32 out)
{
    PGresult *res = NULL;
    char lb[16], ib[24];
    const char *p[2] = {lb, ib};
    int rc;

    snprintf(lb, sizeof(lb), "%d", level);
    snprintf(ib, sizeof(ib), "%lld", idx);
    rc = ss_db_query(ss_server_db(), sql_aud_subtree_hash, 2, p, &res);
    if (rc == 0)
        rc = PQntuples(res) != 1                       ? 1
             : unhex32(ss_db_val(res, 0, 0), out) != 0 ? SS_ERR_CONFLICT
                                                       : 0;
    PQclear(res);
    if (rc < 0)
        t->rc = rc;
    return rc;
}

static int level_of(long long n)
{
    int l = 0;

    while ((1LL << l) < n)
        l++;
    return l;
}

void aud_tree_mth(aud_tree *t, long long lo, long long hi, aud_h32 out)
{
    long long n = hi - lo;
    aud_h32 l, r;

    memset(out, 0, 32);
    if (t->rc != 0)
        return;
    if (n == 0) {
        SHA256((const unsigned char *)"", 0, out);
        return;
    }
    if (n >= AUD_BLOCK && (n & (n - 1)) == 0 && lo % n == 0 && hi <= t->nb * AUD_BLOCK &&
        stored(t, level_of(n), lo / n, out) != 1)
        return; /* stored (or t->rc set) */
    if (lo / AUD_BLOCK == (hi - 1) / AUD_BLOCK) {
        aud_slot *s = block(t, lo / AUD_BLOCK);

        if (s != NULL)
            aud_mth_mem(s->lv, lo % AUD_BLOCK, lo % AUD_BLOCK + n, out);
        return;
    }
    aud_tree_mth(t, lo, lo + aud_split(n), l);
    aud_tree_mth(t, lo + aud_split(n), hi, r);
    aud_node_hash(l, r, out);
}

void aud_tree_leaf(aud_tree *t, long long i, aud_h32 out)
{
    aud_slot *s = block(t, i / AUD_BLOCK);

    if (s != NULL)
        memcpy(out, s->lv[i % AUD_BLOCK], 32);
    else
        memset(out, 0, 32);
}

/* The block holding the row with this tree key: the last stored one starting at or before it,
 * or the block after the stored ones. */
static int block_of_key(aud_tree *t, const char *xid, const char *pos, long long *b)
{
    PGresult *res = NULL;
    const char *p[4] = {xid, pos, t->end_xid, t->end_pos};
    int rc = ss_db_query(ss_server_db(), sql_aud_subtree_block_of_key, 4, p, &res);

    if (rc == 0) {
        const char *v = ss_db_val(res, 0, 0);

        *b = v != NULL ? strtoll(v, NULL, 10) : -1;
    }
    PQclear(res);
    return rc;
}

int aud_tree_leaf_of(aud_tree *t, long long chain_pos, long long *leaf)
{
    PGresult *res = NULL;
    char cb[24], xid[24], pos[24];
    const char *p[1] = {cb};
    long long b = -1;
    aud_slot *s;
    int rc;

    *leaf = -1;
    snprintf(cb, sizeof(cb), "%lld", chain_pos);
    rc = ss_db_query(ss_server_db(), sql_aud_tree_row_key, 1, p, &res);
    if (rc != 0 || PQntuples(res) != 1) {
        PQclear(res);
        return rc;
    }
    snprintf(xid, sizeof(xid), "%s", ss_db_val(res, 0, 0));
    snprintf(pos, sizeof(pos), "%s", ss_db_val(res, 0, 1));
    PQclear(res);
    if ((rc = block_of_key(t, xid, pos, &b)) != 0)
        return rc;
    if (b < 0 || b >= t->nb)
        b = t->nb; /* after the stored blocks (or past this size: not found below) */
    if (b * AUD_BLOCK >= t->size || (s = block(t, b)) == NULL)
        return t->rc;
    for (long long j = 0; j < s->n; j++)
        if (s->pos[j] == chain_pos)
            *leaf = b * AUD_BLOCK + j;
    return 0;
}

/* ---- verify: every stored hash against the rows ------------------------------------------ */

/* The hashes of level l+1 from those of level l (cnt of them) in place. */
static long long level_up(aud_h32 *h, long long cnt)
{
    for (long long i = 0; i + 1 < cnt; i += 2)
        aud_node_hash(h[i], h[i + 1], h[i / 2]);
    return cnt / 2;
}

/* Row i of the stored hashes (level, idx, hash hex, first_pos, last_pos) against the hashes of
 * its level recomputed from the rows (h, cnt of them); NULL when it matches. */
static const char *check_row(const PGresult *res, int i, const aud_h32 *h, long long cnt,
                             const long long *pos)
{
    long long idx = strtoll(ss_db_val(res, i, 1), NULL, 10);
    int level = atoi(ss_db_val(res, i, 0));
    unsigned char got[32];

    if (idx >= cnt)
        return "a stored subtree hash covers leaves the log does not have";
    if (unhex32(ss_db_val(res, i, 2), got) != 0 || memcmp(got, h[idx], 32) != 0)
        return "a stored subtree hash does not match the rows it covers";
    if (level == AUD_BASE_LEVEL &&
        (strtoll(ss_db_val(res, i, 3), NULL, 10) != pos[idx * AUD_BLOCK] ||
         strtoll(ss_db_val(res, i, 4), NULL, 10) != pos[idx * AUD_BLOCK + AUD_BLOCK - 1]))
        return "a stored block's first or last row is not the row at its place";
    return NULL;
}

/* Walk the stored rows (ordered by level, idx) against h (the base level's hashes, nb). */
static json_t *check_rows(const PGresult *res, aud_h32 *h, long long nb, const long long *pos)
{
    long long cnt = nb, want = 0, checked = 0;
    int level = AUD_BASE_LEVEL, n = PQntuples(res);
    const char *why = NULL;
    int i;

    for (long long c = nb; c > 0; c /= 2)
        want += c;
    for (i = 0; i < n && why == NULL; i++, checked++) {
        int l = atoi(ss_db_val(res, i, 0));

        while (level < l && cnt > 0) {
            cnt = level_up(h, cnt);
            level++;
        }
        why = level == l ? check_row(res, i, h, cnt, pos)
                         : "a stored subtree hash covers leaves the log does not have";
    }
    if (why == NULL && checked != want)
        why = "stored subtree hashes are missing";
    if (why == NULL)
        return json_pack("{s:b,s:I,s:I,s:n}", "ok", true, "checked", (json_int_t)checked, "leaves",
                         (json_int_t)(nb * AUD_BLOCK), "first_bad");
    return json_pack(
        "{s:b,s:I,s:I,s:{s:o,s:o,s:s}}", "ok", false, "checked",
        (json_int_t)(checked > 0 ? checked - 1 : 0), "leaves", (json_int_t)(nb * AUD_BLOCK),
        "first_bad", "level", i > 0 ? json_integer(atoi(ss_db_val(res, i - 1, 0))) : json_null(),
        "index", i > 0 ? json_integer(strtoll(ss_db_val(res, i - 1, 1), NULL, 10)) : json_null(),
        "reason", why);
}

int aud_subtrees_check(json_t *body)
{
    long long nb = 0, *pos = NULL;
    aud_h32 *lv = NULL, *h = NULL;
    char xid[24], last[24];
    PGresult *res = NULL;
    json_t *out;
    int rc = base_end(&nb, xid, last);

    if (rc == 0)
        rc = aud_load_leaves(nb * AUD_BLOCK, &lv, &pos);
    if (rc == SS_ERR_CONFLICT) { /* the rows a stored block covers are not there */
        json_object_set_new(body, "ok", json_false());
        return json_object_set_new(body, "subtrees",
                                   json_pack("{s:b,s:s}", "ok", false, "reason",
                                             "rows covered by stored subtree hashes are missing"));
    }
    if (rc == 0 && (h = malloc(sizeof(aud_h32) * (size_t)(nb > 0 ? nb : 1))) == NULL)
        rc = SS_ERR_NOMEM;
    for (long long b = 0; rc == 0 && b < nb; b++)
        aud_mth_mem(lv, b * AUD_BLOCK, (b + 1) * AUD_BLOCK, h[b]);
    free(lv);
    if (rc == 0)
        rc = ss_db_query(ss_server_db(), sql_aud_subtree_all, 0, NULL, &res);
    out = rc == 0 ? check_rows(res, h, nb, pos) : NULL;
    PQclear(res);
    free(h);
    free(pos);
    if (rc != 0 || out == NULL)
        return rc != 0 ? rc : SS_ERR_NOMEM;
    if (json_is_false(json_object_get(out, "ok")))
        json_object_set_new(body, "ok", json_false());
    return json_object_set_new(body, "subtrees", out);
}
