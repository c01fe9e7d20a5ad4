/* shcref.c - the bound of SMART Health Card issuance: cards per second on N threads doing only
 * what a card costs in OpenSSL and zlib, with nothing of ours: raw DEFLATE (level 9, window 15,
 * as the service) of a real card payload, base64url, one ES256 signature (P-256, SHA-256, DER
 * turned into r||s) and its base64url. The key is made once, as a service parses its key once.
 * Usage: sesshu-bench-shcref THREADS SECONDS PAYLOAD_FILE (the minified payload JSON) */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double deadline;
static EVP_PKEY *key;
static char *payload;
static size_t payload_len;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t b64url(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    size_t k = 0;

    for (int i = 0; i < len; i++) {
        char c = out[i];
        if (c == '=')
            break;
        out[k++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[k] = '\0';
    return k;
}

/* One card; 0 on success. */
static int card(unsigned char *z, size_t zcap, char *buf, size_t bcap)
{
    z_stream s;
    unsigned char der[80], rs[64];
    size_t dlen = sizeof(der), n;
    const unsigned char *p = der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *sig = NULL;
    int rc = -1;

    memset(&s, 0, sizeof(s));
    if (md == NULL || deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        goto out;
    s.next_in = (unsigned char *)payload;
    s.avail_in = (unsigned)payload_len;
    s.next_out = z;
    s.avail_out = (unsigned)zcap;
    if (deflate(&s, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&s);
        goto out;
    }
    deflateEnd(&s);
    n = (size_t)snprintf(buf, bcap, "eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.");
    if (4 * (s.total_out / 3 + 1) + n + 100 > bcap)
        goto out;
    n += b64url(z, s.total_out, buf + n);
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &dlen, (unsigned char *)buf, n) != 1 ||
        (sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) == NULL)
        goto out;
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
    buf[n++] = '.';
    b64url(rs, 64, buf + n);
    rc = 0;
out:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    return rc;
}

static void *worker(void *arg)
{
    long *count = arg;
    size_t cap = payload_len + 1024;
    unsigned char *z = malloc(cap);
    char *buf = malloc(2 * cap + 256);

    while (z != NULL && buf != NULL && now_s() < deadline && card(z, cap, buf, 2 * cap + 256) == 0)
        (*count)++;
    free(z);
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    double secs = argc > 2 ? atof(argv[2]) : 5, t0;
    pthread_t th[64];
    long counts[64] = {0}, total = 0;
    FILE *f = argc > 3 ? fopen(argv[3], "rb") : NULL;

    if (n < 1 || n > 64 || f == NULL)
        return 2;
    payload = malloc(1 << 20);
    payload_len = payload ? fread(payload, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (payload_len == 0 || (key = EVP_EC_gen("P-256")) == NULL)
        return 1;
    t0 = now_s();
    deadline = t0 + secs;
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, worker, &counts[i]);
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += counts[i];
    }
    printf("%.1f\n", (double)total / (now_s() - t0));
    EVP_PKEY_free(key);
    free(payload);
    return 0;
}
