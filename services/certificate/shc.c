/* shc.c - the SMART Health Card issuer's keys and the card's JWS (spec.smarthealth.cards):
 * ES256 over a minified payload compressed with raw DEFLATE (zip "DEF", no zlib header), kid =
 * the RFC 7638 thumbprint of the P-256 key. The issuer's keys are not the session keys: the
 * signing key is SESSHU_CERTIFICATE_SHC_KEY_FILE; every *.pem in SESSHU_CERTIFICATE_SHC_KEY_DIR
 * (private or public) is an earlier key, still published so its cards keep verifying
 * (rotation: move the old key file there, put a new one in place, restart). */
#include <dirent.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cert.h"
#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/es256.h"
#include "sesshu/log.h"

#define KEYS_MAX 32

typedef struct cert_key {
    EVP_PKEY *pk;
    char kid[48], x[48], y[48];
} cert_key;

static cert_key keys[KEYS_MAX];
static int nkeys;
static int signer = -1;
static char issuer[512];
static unsigned char rid_secret[32]; /* derived from the signing key: rids need no other secret */

static int describe(EVP_PKEY *pk, cert_key *k)
{
    if (ss_es256_jwk(pk, k->kid, k->x, k->y) != 0)
        return SS_ERR_INTERNAL;
    k->pk = pk;
    return 0;
}

/* Add the key in a PEM file (private or public); the index, or -1. */
static int add_file(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *pk = NULL;

    if (f == NULL)
        return -1;
    pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (pk == NULL) {
        rewind(f);
        pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    }
    fclose(f);
    if (!ss_es256_is_p256(pk) || nkeys >= KEYS_MAX || describe(pk, &keys[nkeys]) != 0) {
        EVP_PKEY_free(pk);
        return -1;
    }
    for (int i = 0; i < nkeys; i++)
        if (strcmp(keys[i].kid, keys[nkeys].kid) == 0) { /* the same key twice */
            EVP_PKEY_free(pk);
            return i;
        }
    return nkeys++;
}

static bool has_private(EVP_PKEY *pk)
{
    BIGNUM *d = NULL;
    bool ok = EVP_PKEY_get_bn_param(pk, "priv", &d) == 1;

    BN_clear_free(d);
    return ok;
}

int cert_keys_init(void)
{
    const char *sk = ss_cfg_str(CERT_ENV_SHC_KEY, NULL),
               *dir = ss_cfg_str(CERT_ENV_SHC_KEY_DIR, NULL);
    unsigned char *der = NULL;
    int dlen;
    unsigned int olen = 0;
    DIR *d;
    struct dirent *e;
    char path[4096];

    snprintf(issuer, sizeof(issuer), "%s", ss_cfg_str(CERT_ENV_SHC_ISSUER, ""));
    if (issuer[0] == '\0')
        snprintf(issuer, sizeof(issuer), "%s/shc",
                 ss_cfg_str("SESSHU_JWT_ISSUER", "http://localhost:8080"));
    if (sk == NULL || (signer = add_file(sk)) < 0 || !has_private(keys[signer].pk)) {
        SS_ERROR("certificate: %s must name an EC P-256 private key (PEM)", CERT_ENV_SHC_KEY);
        return SS_ERR_INTERNAL;
    }
    if ((dlen = i2d_PrivateKey(keys[signer].pk, &der)) <= 0 ||
        HMAC(EVP_sha256(), "sesshu-shc-rid", 14, der, (size_t)dlen, rid_secret, &olen) == NULL) {
        OPENSSL_free(der);
        return SS_ERR_INTERNAL;
    }
    OPENSSL_clear_free(der, (size_t)dlen);
    if (dir != NULL && (d = opendir(dir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n > 4 && strcmp(e->d_name + n - 4, ".pem") == 0 && e->d_name[0] != '.') {
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                if (add_file(path) < 0)
                    SS_WARN("certificate: ignoring %s (not an EC P-256 key)", path);
            }
        }
        closedir(d);
    }
    return 0;
}

void cert_keys_free(void)
{
    for (int i = 0; i < nkeys; i++)
        EVP_PKEY_free(keys[i].pk);
    nkeys = 0;
    signer = -1;
}

const char *cert_issuer(void)
{
    return issuer;
}

const char *cert_signing_kid(void)
{
    return signer >= 0 ? keys[signer].kid : "";
}

static const cert_key *find(const char *kid)
{
    for (int i = 0; kid != NULL && i < nkeys; i++)
        if (strcmp(keys[i].kid, kid) == 0)
            return &keys[i];
    return NULL;
}

bool cert_kid_known(const char *kid)
{
    return find(kid) != NULL;
}

json_t *cert_jwks(long (*ctr)(const char *kid))
{
    json_t *arr = json_array(), *k;

    for (int i = 0; arr != NULL && i < nkeys; i++) {
        long c = ctr != NULL ? ctr(keys[i].kid) : 0;
        k = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "kid", keys[i].kid, "use",
                      "sig", "alg", "ES256", "crv", "P-256", "x", keys[i].x, "y", keys[i].y);
        /* SHC revocation: a key whose cards were revoked announces its CRL's version. */
        if (k != NULL && c > 0)
            json_object_set_new(k, "crlVersion", json_integer(c));
        json_array_append_new(arr, k);
    }
    return arr ? json_pack("{s:o}", "keys", arr) : NULL;
}

/* Raw DEFLATE (windowBits -15) of in; *out malloc'd. */
static int deflate_raw(const char *in, size_t len, unsigned char **out, size_t *olen)
{
    z_stream z;
    uLong cap = compressBound((uLong)len) + 64;
    unsigned char *buf = malloc(cap);
    int zr;

    memset(&z, 0, sizeof(z));
    if (buf == NULL || deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(buf);
        return SS_ERR_NOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    zr = deflate(&z, Z_FINISH);
    *olen = z.total_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return SS_ERR_INTERNAL;
    }
    *out = buf;
    return 0;
}

/* Raw INFLATE, at most CERT_PAYLOAD_MAX bytes out (NUL-terminated); NULL on any error. */
static char *inflate_raw(const unsigned char *in, size_t len)
{
    z_stream z;
    char *buf = malloc(CERT_PAYLOAD_MAX + 1);
    int zr;

    memset(&z, 0, sizeof(z));
    if (buf == NULL || inflateInit2(&z, -15) != Z_OK) {
        free(buf);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = CERT_PAYLOAD_MAX;
    zr = inflate(&z, Z_FINISH);
    if (zr != Z_STREAM_END || z.avail_in != 0) {
        inflateEnd(&z);
        free(buf);
        return NULL;
    }
    buf[z.total_out] = '\0';
    inflateEnd(&z);
    return buf;
}

int cert_jws_sign(const json_t *payload, char **jws)
{
    char *json = NULL, *hb = NULL, *pb = NULL, *sig = NULL, *input = NULL, hdr[160];
    unsigned char *z = NULL;
    size_t zlen = 0, n;
    int rc = SS_ERR_NOMEM;

    *jws = NULL;
    if (signer < 0)
        return SS_ERR_INTERNAL;
    snprintf(hdr, sizeof(hdr), "{\"zip\":\"DEF\",\"alg\":\"ES256\",\"kid\":\"%s\"}",
             keys[signer].kid);
    if ((json = json_dumps(payload, JSON_COMPACT)) == NULL ||
        (rc = deflate_raw(json, strlen(json), &z, &zlen)) != 0)
        goto out;
    rc = SS_ERR_NOMEM;
    if ((hb = ss_b64url_encode((const unsigned char *)hdr, strlen(hdr))) == NULL ||
        (pb = ss_b64url_encode(z, zlen)) == NULL)
        goto out;
    n = strlen(hb) + strlen(pb) + 2;
    if ((input = malloc(n + 100)) == NULL)
        goto out;
    snprintf(input, n, "%s.%s", hb, pb);
    if ((rc = ss_es256_sign(keys[signer].pk, input, n - 1, &sig)) != 0)
        goto out;
    if ((*jws = malloc(n + strlen(sig) + 1)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    snprintf(*jws, n + strlen(sig) + 1, "%s.%s", input, sig);
    rc = 0;
out:
    free(json);
    free(z);
    free(hb);
    free(pb);
    free(sig);
    free(input);
    return rc;
}

static bool b64url_chars(const char *s, size_t n)
{
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") >= n;
}

int cert_jws_verify(const char *jws, json_t **payload, char kid[48], const char **why)
{
    const char *d1, *d2;
    char *hjson = NULL, *part = NULL, *text = NULL;
    unsigned char *hraw = NULL, *praw = NULL;
    size_t hl = 0, pl = 0, n = jws ? strlen(jws) : 0;
    json_t *h = NULL;
    const cert_key *k;
    const char *alg, *zip, *kd;
    int rc = SS_ERR_VALIDATION;

    *payload = NULL;
    kid[0] = '\0';
    *why = "malformed";
    if (n == 0 || n > CERT_JWS_MAX || (d1 = strchr(jws, '.')) == NULL ||
        (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL || d1 == jws ||
        d2 == d1 + 1 || d2[1] == '\0' || !b64url_chars(jws, (size_t)(d1 - jws)) ||
        !b64url_chars(d1 + 1, (size_t)(d2 - d1 - 1)) || !b64url_chars(d2 + 1, strlen(d2 + 1)))
        goto out;
    if ((part = strndup(jws, (size_t)(d1 - jws))) == NULL ||
        (hraw = ss_b64url_decode(part, &hl)) == NULL || hl > 1024 ||
        (hjson = strndup((const char *)hraw, hl)) == NULL ||
        (h = json_loads(hjson, JSON_REJECT_DUPLICATES, NULL)) == NULL || !json_is_object(h))
        goto out;
    *why = "unsupported-header";
    alg = json_string_value(json_object_get(h, "alg"));
    zip = json_string_value(json_object_get(h, "zip"));
    kd = json_string_value(json_object_get(h, "kid"));
    if (alg == NULL || strcmp(alg, "ES256") != 0 || zip == NULL || strcmp(zip, "DEF") != 0 ||
        kd == NULL || strlen(kd) >= 48)
        goto out;
    snprintf(kid, 48, "%s", kd);
    *why = "unknown-key";
    if ((k = find(kd)) == NULL)
        goto out;
    *why = "bad-signature";
    free(part);
    if ((part = strdup(d2 + 1)) == NULL || !ss_es256_verify(k->pk, jws, (size_t)(d2 - jws), part))
        goto out;
    *why = "not-deflated";
    free(part);
    if ((part = strndup(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL ||
        (praw = ss_b64url_decode(part, &pl)) == NULL || (text = inflate_raw(praw, pl)) == NULL)
        goto out;
    *why = "bad-payload";
    if ((*payload = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        !json_is_object(*payload)) {
        json_decref(*payload);
        *payload = NULL;
        goto out;
    }
    *why = NULL;
    rc = 0;
out:
    json_decref(h);
    free(hjson);
    free(part);
    free(text);
    free(hraw);
    free(praw);
    return rc;
}

int cert_rid(const char *kid, const char *cert_id, char out[16])
{
    unsigned char mac[32];
    unsigned int ml = 0;
    char in[160], *b;

    snprintf(in, sizeof(in), "%s|%s", kid, cert_id);
    if (HMAC(EVP_sha256(), rid_secret, sizeof(rid_secret), (const unsigned char *)in, strlen(in),
             mac, &ml) == NULL ||
        (b = ss_b64url_encode(mac, 8)) == NULL)
        return SS_ERR_INTERNAL;
    snprintf(out, 16, "%s", b);
    free(b);
    return 0;
}

char *cert_shc_numeric_encode(const char *jws)
{
    size_t n = strlen(jws);
    char *out = malloc(5 + 2 * n + 1), *p;

    if (out == NULL)
        return NULL;
    memcpy(out, "shc:/", 5);
    p = out + 5;
    for (size_t i = 0; i < n; i++) {
        int v = (unsigned char)jws[i] - 45;
        if (v < 0 || v > 99) {
            free(out);
            return NULL;
        }
        *p++ = (char)('0' + v / 10);
        *p++ = (char)('0' + v % 10);
    }
    *p = '\0';
    return out;
}

char *cert_shc_numeric_decode(const char *text)
{
    size_t n;
    char *out;

    if (strncmp(text, "shc:/", 5) != 0)
        return NULL;
    text += 5;
    n = strlen(text);
    if (n == 0 || n % 2 != 0 || n > 2 * CERT_JWS_MAX || strspn(text, "0123456789") != n)
        return NULL; /* also the deprecated chunked form shc:/C/N/... */
    if ((out = malloc(n / 2 + 1)) == NULL)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int v = (text[2 * i] - '0') * 10 + (text[2 * i + 1] - '0');
        if (v > 77) { /* 45 + 77 = 'z', the last base64url character */
            free(out);
            return NULL;
        }
        out[i] = (char)(v + 45);
    }
    out[n / 2] = '\0';
    return out;
}
