/* crypto.c - password hashing (argon2id), random tokens, hashes, base64url (crypto.h). */
#include "sesshu/crypto.h"

#include <argon2.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

#define SS_ARGON2_SALT 16
#define SS_ARGON2_HASH 32

static pthread_once_t params_once = PTHREAD_ONCE_INIT;
static long p_m_kib = 19456, p_t = 2, p_queue_ms = 5000;
static sem_t pw_sem;
static char *dummy_phc;

static void params_init(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    /* Bad values fall back to OWASP defaults; the service validated them at start. */
    if (ss_cfg_long("SESSHU_ARGON2_M_KIB", 19456, 1024, 1048576, &p_m_kib) != 0)
        p_m_kib = 19456;
    if (ss_cfg_long("SESSHU_ARGON2_T", 2, 1, 16, &p_t) != 0)
        p_t = 2;
    if (ss_cfg_long("SESSHU_LOGIN_QUEUE_MS", 5000, 1, 600000, &p_queue_ms) != 0)
        p_queue_ms = 5000;
    sem_init(&pw_sem, 0, (unsigned)(cores > 0 ? cores : 1));
}

int ss_pw_hash(const char *password, char **phc_out)
{
    unsigned char salt[SS_ARGON2_SALT];
    size_t enclen;
    char *enc = NULL;
    int rc;

    pthread_once(&params_once, params_init);
    *phc_out = NULL;
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return SS_ERR_INTERNAL;
    enclen = argon2_encodedlen((uint32_t)p_t, (uint32_t)p_m_kib, 1, SS_ARGON2_SALT, SS_ARGON2_HASH,
                               Argon2_id);
    enc = malloc(enclen);
    if (enc == NULL)
        return SS_ERR_NOMEM;
    rc = argon2id_hash_encoded((uint32_t)p_t, (uint32_t)p_m_kib, 1, password, strlen(password),
                               salt, sizeof(salt), SS_ARGON2_HASH, enc, enclen);
    if (rc != ARGON2_OK) {
        free(enc);
        return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? SS_ERR_NOMEM : SS_ERR_INTERNAL;
    }
    *phc_out = enc;
    return 0;
}

int ss_pw_verify(const char *phc, const char *password)
{
    int rc;

    if (phc == NULL || password == NULL || strncmp(phc, "$argon2id$", 10) != 0)
        return SS_ERR_INTERNAL;
    rc = argon2id_verify(phc, password, strlen(password));
    if (rc == ARGON2_OK)
        return 0;
    if (rc == ARGON2_VERIFY_MISMATCH)
        return SS_ERR_UNAUTHORIZED;
    return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? SS_ERR_NOMEM : SS_ERR_INTERNAL;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
    char pw[33];

    if (ss_random_token(pw, sizeof(pw), 16) == 0)
        (void)ss_pw_hash(pw, &dummy_phc);
}

void ss_pw_dummy_verify(const char *password)
{
    pthread_once(&dummy_once, dummy_init);
    if (dummy_phc != NULL)
        (void)ss_pw_verify(dummy_phc, password);
}

int ss_pw_queue_enter(void)
{
    struct timespec ts;

    pthread_once(&params_once, params_init);
    ss_deadline(&ts, CLOCK_REALTIME, p_queue_ms);
    while (sem_timedwait(&pw_sem, &ts) != 0) {
        if (errno != EINTR)
            return SS_ERR_RATE_LIMITED;
    }
    return 0;
}

void ss_pw_queue_leave(void)
{
    sem_post(&pw_sem);
}

int ss_pw_generate(char *buf, size_t len)
{
    /* No 0/O, 1/l/I: temporary passwords are read aloud and typed by hand. */
    static const char *const sets[4] = {"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz",
                                        "23456789", "#%+-=@_"};
    static const char all[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789#%+-=@_";
    unsigned char rnd[128];

    if (len < 16 || len > sizeof(rnd) - 8)
        return SS_ERR_VALIDATION;
    if (RAND_bytes(rnd, (int)len + 4) != 1)
        return SS_ERR_INTERNAL;
    for (size_t i = 0; i < len; i++)
        buf[i] = all[rnd[i] % (sizeof(all) - 1)];
    /* One of each class at positions chosen by the extra random bytes. */
    for (size_t k = 0; k < 4; k++) {
        size_t pos = (k * (len / 4)) + rnd[len + k] % (len / 4);
        buf[pos] = sets[k][rnd[pos] % strlen(sets[k])];
    }
    buf[len] = '\0';
    return 0;
}

char *ss_b64url_encode(const unsigned char *data, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(len / 3 * 4 + 5);
    size_t o = 0;
    size_t i = 0;

    if (out == NULL)
        return NULL;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
        out[o++] = tbl[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)data[i] << 16 | (i + 1 < len ? (unsigned)data[i + 1] << 8 : 0);
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        if (i + 1 < len)
            out[o++] = tbl[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

unsigned char *ss_b64url_decode(const char *s, size_t *len_out)
{
    size_t n = strlen(s);
    unsigned char *out;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    if (n % 4 == 1)
        return NULL;
    out = malloc(n * 3 / 4 + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    out[o] = '\0';
    *len_out = o;
    return out;
}

int ss_random_token(char *buf, size_t bufsize, size_t nbytes)
{
    unsigned char rnd[128];
    char *enc;

    if (nbytes > sizeof(rnd) || bufsize < nbytes * 4 / 3 + 2 || RAND_bytes(rnd, (int)nbytes) != 1)
        return SS_ERR_INTERNAL;
    enc = ss_b64url_encode(rnd, nbytes);
    if (enc == NULL)
        return SS_ERR_NOMEM;
    snprintf(buf, bufsize, "%s", enc);
    free(enc);
    return 0;
}

int ss_uuid(char out[37])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return SS_ERR_INTERNAL;
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

void ss_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
}

bool ss_ct_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}
