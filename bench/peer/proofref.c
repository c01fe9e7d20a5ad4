/* proofref.c - the reference of bench/audit-proof.sh: an inclusion proof as the audit service
 * computed it before the stored subtree hashes (migration 009): every row of the tree read in
 * the tree's order (the old statement, unchanged), every leaf hashed, PATH (RFC 9162 2.1.3.1)
 * recomputed from the leaf hashes. Prints the median and p90 milliseconds of `iterations`
 * proofs of pseudo-random leaves, and checks each path has the length RFC 9162 gives.
 * Usage: sesshu-bench-proofref CONNINFO TREE_SIZE ITERATIONS */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aud.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int hexnib(char c)
{
    return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : 0;
}

/* PATH(m, D[lo:hi]) over the leaf hashes: its length. */
static int path_len(const aud_h32 *lv, long long m, long long lo, long long hi)
{
    long long k;
    aud_h32 h;
    int n;

    if (hi - lo <= 1)
        return 0;
    k = aud_split(hi - lo);
    if (m < k) {
        n = path_len(lv, m, lo, lo + k);
        aud_mth_mem(lv, lo + k, hi, h);
    } else {
        n = path_len(lv, m - k, lo + k, hi);
        aud_mth_mem(lv, lo, lo + k, h);
    }
    return n + 1;
}

/* One proof: the old load_leaves and PATH. -1 on error. */
static int one_proof(PGconn *c, long long n, long long leaf)
{
    static const char sql[] = "SELECT chain_pos, encode(hash, 'hex') FROM audit.access_log "
                              "ORDER BY xid NULLS FIRST, chain_pos LIMIT $1::bigint";
    char nb[24];
    const char *p[1] = {nb};
    PGresult *res;
    aud_h32 *lv;
    int len;

    snprintf(nb, sizeof(nb), "%lld", n);
    res = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != n) {
        fprintf(stderr, "proofref: %s", PQerrorMessage(c));
        PQclear(res);
        return -1;
    }
    lv = malloc(sizeof(aud_h32) * (size_t)n);
    if (lv == NULL) {
        PQclear(res);
        return -1;
    }
    for (long long i = 0; i < n; i++) {
        const char *hex = PQgetvalue(res, (int)i, 1);
        unsigned char in[32];

        for (int j = 0; j < 32; j++)
            in[j] = (unsigned char)(hexnib(hex[2 * j]) * 16 + hexnib(hex[2 * j + 1]));
        aud_leaf_hash(in, lv[i]);
    }
    PQclear(res);
    len = path_len(lv, leaf, 0, n);
    free(lv);
    return len;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long long n, iters;
    double *ms;
    PGconn *c;
    unsigned long long seed = 88172645463325252ULL;

    if (argc != 4 || (n = atoll(argv[2])) < 2 || (iters = atoll(argv[3])) < 1) {
        fprintf(stderr, "usage: sesshu-bench-proofref CONNINFO TREE_SIZE ITERATIONS\n");
        return 2;
    }
    c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "proofref: %s", PQerrorMessage(c));
        return 1;
    }
    ms = calloc((size_t)iters, sizeof(double));
    for (long long i = 0; ms != NULL && i < iters; i++) {
        double t0 = now_ms();

        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        if (one_proof(c, n, (long long)(seed % (unsigned long long)n)) < 1) {
            PQfinish(c);
            free(ms);
            return 1;
        }
        ms[i] = now_ms() - t0;
    }
    PQfinish(c);
    if (ms == NULL)
        return 1;
    qsort(ms, (size_t)iters, sizeof(double), cmp_double);
    printf("%.3f %.3f\n", ms[iters / 2], ms[(iters * 9) / 10]);
    free(ms);
    return 0;
}
