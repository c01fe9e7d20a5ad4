/* test_seal.c - AES-256-GCM sealing round trip and tamper detection; HMAC-SHA256 keyed hash
 * against RFC 4231; key loading from the environment. */
#include <stdlib.h>
#include <string.h>

#include "sesshu/err.h"
#include "sesshu/seal.h"
#include "unit.h"

static const unsigned char key_a[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                        12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                        23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

START_TEST(seal_roundtrip)
{
    const char *pt = "983205673214";
    unsigned char sealed[12 + SS_SEAL_OVERHEAD], again[12 + SS_SEAL_OVERHEAD], out[12];

    ck_assert_int_eq(ss_seal(key_a, pt, 12, "person-1", 8, sealed), 0);
    ck_assert(memcmp(sealed + SS_SEAL_NONCE_BYTES, pt, 12) != 0);
    ck_assert_int_eq(ss_unseal(key_a, sealed, sizeof(sealed), "person-1", 8, out), 0);
    ck_assert(memcmp(out, pt, 12) == 0);
    /* A fresh nonce each time: the same plaintext never seals the same. */
    ck_assert_int_eq(ss_seal(key_a, pt, 12, "person-1", 8, again), 0);
    ck_assert(memcmp(sealed, again, sizeof(sealed)) != 0);
}
END_TEST

START_TEST(seal_detects_tampering)
{
    unsigned char sealed[12 + SS_SEAL_OVERHEAD], out[12], key_b[32];

    memcpy(key_b, key_a, 32);
    key_b[0] ^= 1;
    ck_assert_int_eq(ss_seal(key_a, "983205673214", 12, "p", 1, sealed), 0);
    ck_assert_int_eq(ss_unseal(key_b, sealed, sizeof(sealed), "p", 1, out), SS_ERR_VALIDATION);
    ck_assert_int_eq(ss_unseal(key_a, sealed, sizeof(sealed), "q", 1, out), SS_ERR_VALIDATION);
    sealed[SS_SEAL_NONCE_BYTES + 3] ^= 0x40;
    ck_assert_int_eq(ss_unseal(key_a, sealed, sizeof(sealed), "p", 1, out), SS_ERR_VALIDATION);
    ck_assert_int_eq(ss_unseal(key_a, sealed, 10, "p", 1, out), SS_ERR_VALIDATION);
}
END_TEST

START_TEST(keyed_hash_rfc4231)
{
    /* RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?". */
    char h[65], h2[65];

    ss_keyed_hash_hex((const unsigned char *)"Jefe", 4, "what do ya want for nothing?", 28, h);
    ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    ss_keyed_hash_hex(key_a, 32, "983205673214", 12, h);
    ss_keyed_hash_hex(key_a, 32, "983205673214", 12, h2);
    ck_assert_str_eq(h, h2);
    ss_keyed_hash_hex(key_a, 31, "983205673214", 12, h2);
    ck_assert_str_ne(h, h2);
}
END_TEST

START_TEST(key_loading)
{
    unsigned char k[32];

    setenv("SS_TEST_SEAL_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F",
           1);
    ck_assert_int_eq(ss_seal_key_load("SS_TEST_SEAL_KEY", k), 0);
    ck_assert_uint_eq(k[0], 0);
    ck_assert_uint_eq(k[31], 0x1f);
    setenv("SS_TEST_SEAL_KEY", "00010203", 1);
    ck_assert_int_eq(ss_seal_key_load("SS_TEST_SEAL_KEY", k), SS_ERR_VALIDATION);
    setenv("SS_TEST_SEAL_KEY", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
           1);
    ck_assert_int_eq(ss_seal_key_load("SS_TEST_SEAL_KEY", k), SS_ERR_VALIDATION);
    unsetenv("SS_TEST_SEAL_KEY");
    ck_assert_int_eq(ss_seal_key_load("SS_TEST_SEAL_KEY", k), SS_ERR_VALIDATION);
}
END_TEST

UNIT_MAIN("seal", seal_roundtrip, seal_detects_tampering, keyed_hash_rfc4231, key_loading)
