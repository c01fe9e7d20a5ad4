/* es256.c - ES256 (ECDSA P-256 with SHA-256, RFC 7518 3.4) on parsed keys.
 *
 * libjwt parses the PEM key on every call (~400 us a signature or a
 * verification); here the EVP_PKEY is parsed once when the key is loaded
 * and each operation costs the ECDSA arithmetic only. JWS signatures are
 * the raw 64-byte R || S, not DER. */
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "jwt_internal.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"

int ss_es256_sign(void *key, const char *input, size_t len, char **sig_b64)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[80], raw[64];
    const unsigned char *p = der;
    size_t dlen = sizeof(der);
    ECDSA_SIG *sig = NULL;
    int rc = SS_ERR_INTERNAL;

    *sig_b64 = NULL;
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)input, len) != 1 ||
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
