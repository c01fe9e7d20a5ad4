/* seal.c - AES-256-GCM sealing and HMAC-SHA256 keyed hashes (seal.h). */
#include "sesshu/seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/log.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ss_seal_key_load(const char *name, unsigned char key[SS_SEAL_KEY_BYTES])
{
    char *hex = ss_cfg_secret(name);
    int rc = 0;

    if (hex == NULL || strlen(hex) != 2 * SS_SEAL_KEY_BYTES) {
        SS_ERROR("configuration: %s (or %s_FILE) must hold 64 hexadecimal characters", name, name);
        rc = SS_ERR_VALIDATION;
        goto out;
    }
    for (int i = 0; i < SS_SEAL_KEY_BYTES && rc == 0; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            rc = SS_ERR_VALIDATION;
        else
            key[i] = (unsigned char)(hi << 4 | lo);
    }
    if (rc != 0)
        SS_ERROR("configuration: %s is not hexadecimal", name);
out:
    if (hex != NULL) {
        OPENSSL_cleanse(hex, strlen(hex));
        free(hex);
    }
    return rc;
}

int ss_seal(const unsigned char key[SS_SEAL_KEY_BYTES], const void *pt, size_t len, const void *aad,
            size_t aadlen, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *nonce = out, *ct = out + SS_SEAL_NONCE_BYTES, *tag = ct + len;
    int n = 0, rc = SS_ERR_INTERNAL;

    if (len > (size_t)1 << 30 || aadlen > (size_t)1 << 30)
        return SS_ERR_VALIDATION;
    if (RAND_bytes(nonce, SS_SEAL_NONCE_BYTES) != 1 || (ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto out;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
        goto out;
    if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
        goto out;
    if (EVP_EncryptUpdate(ctx, ct, &n, pt, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + n, &n) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SS_SEAL_TAG_BYTES, tag) != 1)
        goto out;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int ss_unseal(const unsigned char key[SS_SEAL_KEY_BYTES], const unsigned char *sealed, size_t len,
              const void *aad, size_t aadlen, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    const unsigned char *nonce = sealed, *ct = sealed + SS_SEAL_NONCE_BYTES;
    size_t ctlen;
    unsigned char tag[SS_SEAL_TAG_BYTES];
    int n = 0, rc = SS_ERR_INTERNAL;

    if (len < SS_SEAL_OVERHEAD || len > ((size_t)1 << 30) || aadlen > (size_t)1 << 30)
        return SS_ERR_VALIDATION;
    ctlen = len - SS_SEAL_OVERHEAD;
    memcpy(tag, ct + ctlen, SS_SEAL_TAG_BYTES);
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto out;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
        goto out;
    if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
        goto out;
    if (EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SS_SEAL_TAG_BYTES, tag) != 1)
        goto out;
    /* The tag is checked here: a mismatch is bad input, not an internal failure. */
    rc = EVP_DecryptFinal_ex(ctx, out + n, &n) == 1 ? 0 : SS_ERR_VALIDATION;
    if (rc != 0)
        OPENSSL_cleanse(out, ctlen);
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

void ss_keyed_hash_hex(const unsigned char *key, size_t keylen, const void *data, size_t len,
                       char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    out[0] = '\0';
    if (HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen) == NULL || mdlen != 32)
        return;
    for (unsigned int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}
