/* es256.c - ES256 (ECDSA P-256 with SHA-256, RFC 7518 3.4) on parsed keys.
 *
 * libjwt parses the PEM key on every call (~400 us a signature or a
 * verification); here the EVP_PKEY is parsed once when the key is loaded
 * and each operation costs the ECDSA arithmetic only. JWS signatures are
 * the raw 64-byte R || S, not DER. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/es256.h"

bool ss_es256_is_p256(void *key)
{
    char group[32];
    size_t glen = 0;

    return key != NULL && EVP_PKEY_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                          &glen) &&
           strcmp(group, "prime256v1") == 0;
}

int ss_es256_jwk(void *key, char kid[48], char x[48], char y[48])
{
    BIGNUM *bx = NULL, *by = NULL;
    unsigned char x32[32], y32[32], digest[32];
    char *ex = NULL, *ey = NULL, *t = NULL, in[256];
    unsigned int dlen = 0;
    int rc = SS_ERR_INTERNAL;

    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) ||
        BN_bn2binpad(bx, x32, 32) != 32 || BN_bn2binpad(by, y32, 32) != 32 ||
        (ex = ss_b64url_encode(x32, 32)) == NULL || (ey = ss_b64url_encode(y32, 32)) == NULL)
        goto out;
    /* RFC 7638: the required members in lexicographic order, no white space. */
    snprintf(in, sizeof(in), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", ex,
             ey);
    if (EVP_Digest(in, strlen(in), digest, &dlen, EVP_sha256(), NULL) != 1 ||
        (t = ss_b64url_encode(digest, dlen)) == NULL)
        goto out;
    snprintf(kid, 48, "%s", t);
    snprintf(x, 48, "%s", ex);
    snprintf(y, 48, "%s", ey);
    rc = 0;
out:
    BN_free(bx);
    BN_free(by);
    free(ex);
    free(ey);
    free(t);
    return rc;
}

/* A signing context prepared once per thread and key, copied for each signature:
 * EVP_DigestSignInit looks the digest and signature methods up, under locks, on every call
 * (about 5% of a token grant). The template holds a reference to its key (its EVP_PKEY_CTX),
 * so a key freed by rotation stays allocated while its template lives and a new key can never
 * be taken for it at the same address. Freed when its thread ends, the main thread's at exit. */
typedef struct sign_tmpl {
    void *key;
    EVP_MD_CTX *ctx;
} sign_tmpl;

static pthread_key_t tmpl_key;
static pthread_once_t tmpl_once = PTHREAD_ONCE_INIT;
static bool tmpl_ok;

static void tmpl_free(void *p)
{
    sign_tmpl *t = p;

    if (t != NULL)
        EVP_MD_CTX_free(t->ctx);
    free(t);
}

static void tmpl_at_exit(void)
{
    tmpl_free(pthread_getspecific(tmpl_key));
    pthread_setspecific(tmpl_key, NULL);
}

static void tmpl_init(void)
{
    tmpl_ok = pthread_key_create(&tmpl_key, tmpl_free) == 0;
    if (tmpl_ok)
        atexit(tmpl_at_exit);
}

/* This thread's template for key (NULL when it cannot be made). */
static const EVP_MD_CTX *sign_template(void *key)
{
    sign_tmpl *t;

    pthread_once(&tmpl_once, tmpl_init);
    if (!tmpl_ok)
        return NULL;
    if ((t = pthread_getspecific(tmpl_key)) == NULL) {
        if ((t = calloc(1, sizeof(*t))) == NULL || pthread_setspecific(tmpl_key, t) != 0) {
            free(t);
            return NULL;
        }
    }
    if (t->key != key || t->ctx == NULL) {
        EVP_MD_CTX_free(t->ctx);
        t->key = NULL;
        if ((t->ctx = EVP_MD_CTX_new()) != NULL &&
            EVP_DigestSignInit(t->ctx, NULL, EVP_sha256(), NULL, key) == 1)
            t->key = key;
        else {
            EVP_MD_CTX_free(t->ctx);
            t->ctx = NULL;
        }
    }
    return t->ctx;
}

/* A context ready for one EVP_DigestSign with key: a copy of the template, else initialised. */
static EVP_MD_CTX *sign_ctx(void *key)
{
    const EVP_MD_CTX *tmpl = sign_template(key);
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    if (c == NULL)
        return NULL;
    if ((tmpl != NULL && EVP_MD_CTX_copy_ex(c, tmpl) == 1) ||
        EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, key) == 1)
        return c;
    EVP_MD_CTX_free(c);
    return NULL;
}

int ss_es256_sign(void *key, const char *input, size_t len, char **sig_b64)
{
    EVP_MD_CTX *ctx = key != NULL ? sign_ctx(key) : NULL;
    unsigned char der[80], raw[64];
    const unsigned char *p = der;
    size_t dlen = sizeof(der);
    ECDSA_SIG *sig = NULL;
    int rc = SS_ERR_INTERNAL;

    *sig_b64 = NULL;
    if (ctx == NULL || EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)input, len) != 1 ||
        (sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) == NULL ||
        BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) != 32)
        goto out;
    *sig_b64 = ss_b64url_encode(raw, sizeof(raw));
    rc = *sig_b64 ? 0 : SS_ERR_NOMEM;
out:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(ctx);
    return rc;
}

bool ss_es256_verify(void *key, const char *input, size_t len, const char *sig_b64)
{
    size_t rawlen = 0;
    unsigned char *raw = ss_b64url_decode(sig_b64, &rawlen), *der = NULL;
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *s = NULL;
    EVP_MD_CTX *ctx = NULL;
    int dlen;
    bool ok = false;

    if (raw == NULL || rawlen != 64 || (sig = ECDSA_SIG_new()) == NULL ||
        (r = BN_bin2bn(raw, 32, NULL)) == NULL || (s = BN_bin2bn(raw + 32, 32, NULL)) == NULL)
        goto out;
    if (ECDSA_SIG_set0(sig, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by sig now */
    if ((dlen = i2d_ECDSA_SIG(sig, &der)) <= 0 || (ctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1)
        goto out;
    ok = EVP_DigestVerify(ctx, der, (size_t)dlen, (const unsigned char *)input, len) == 1;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    free(raw);
    return ok;
}
