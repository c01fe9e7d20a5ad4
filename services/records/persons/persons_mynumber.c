/* persons_mynumber.c - the 個人番号 at rest: sealed with AES-256-GCM (the person's id as
 * associated data, so a sealed value cannot be moved to another person) and found through
 * its HMAC-SHA256 under a second key. Neither key nor number is ever logged. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/seal.h"

#define REC_ENV_MYNUMBER_KEY  "SESSHU_RECORDS_MYNUMBER_KEY"      /* or _FILE: 64 hex characters */
#define REC_ENV_MYNUMBER_HMAC "SESSHU_RECORDS_MYNUMBER_HMAC_KEY" /* or _FILE: 64 hex characters */
#define REC_MYNUMBER_LEN      12

static unsigned char seal_key[SS_SEAL_KEY_BYTES], hash_key[SS_SEAL_KEY_BYTES];

int rec_mynumber_init(void)
{
    int rc = ss_seal_key_load(REC_ENV_MYNUMBER_KEY, seal_key);

    if (rc == 0)
        rc = ss_seal_key_load(REC_ENV_MYNUMBER_HMAC, hash_key);
    if (rc == 0 && CRYPTO_memcmp(seal_key, hash_key, sizeof(seal_key)) == 0) {
        SS_ERROR("configuration: %s and %s must differ", REC_ENV_MYNUMBER_KEY,
                 REC_ENV_MYNUMBER_HMAC);
        rc = SS_ERR_VALIDATION;
    }
    return rc;
}

void rec_mynumber_hash(const char *my_number, char out[65])
{
    ss_keyed_hash_hex(hash_key, sizeof(hash_key), my_number, strlen(my_number), out);
}

int rec_mynumber_seal(const char *my_number, const char *person_id, char **out)
{
    unsigned char sealed[REC_MYNUMBER_LEN + SS_SEAL_OVERHEAD];
    static const char hex[] = "0123456789abcdef";
    char *s;
    int rc;

    *out = NULL;
    if (strlen(my_number) != REC_MYNUMBER_LEN)
        return SS_ERR_VALIDATION;
    rc = ss_seal(seal_key, my_number, REC_MYNUMBER_LEN, person_id, strlen(person_id), sealed);
    if (rc != 0)
        return rc;
    if ((s = malloc(2 * sizeof(sealed) + 3)) == NULL)
        return SS_ERR_NOMEM;
    s[0] = '\\';
    s[1] = 'x';
    for (size_t i = 0; i < sizeof(sealed); i++) {
        s[2 + 2 * i] = hex[sealed[i] >> 4];
        s[3 + 2 * i] = hex[sealed[i] & 15];
    }
    s[2 + 2 * sizeof(sealed)] = '\0';
    *out = s;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int rec_mynumber_open(const char *bytea_hex, const char *person_id, char out[13])
{
    unsigned char sealed[REC_MYNUMBER_LEN + SS_SEAL_OVERHEAD];
    int rc;

    out[0] = '\0';
    if (bytea_hex == NULL || strlen(bytea_hex) != 2 + 2 * sizeof(sealed) ||
        strncmp(bytea_hex, "\\x", 2) != 0)
        return SS_ERR_INTERNAL;
    for (size_t i = 0; i < sizeof(sealed); i++) {
        int hi = hexval(bytea_hex[2 + 2 * i]), lo = hexval(bytea_hex[3 + 2 * i]);

        if (hi < 0 || lo < 0)
            return SS_ERR_INTERNAL;
        sealed[i] = (unsigned char)(hi << 4 | lo);
    }
    rc = ss_unseal(seal_key, sealed, sizeof(sealed), person_id, strlen(person_id),
                   (unsigned char *)out);
    out[rc == 0 ? REC_MYNUMBER_LEN : 0] = '\0';
    return rc == 0 ? 0 : SS_ERR_INTERNAL;
}
