/* test_crypto.c - argon2id PHC strings, random tokens, base64url, SHA-256. */
#include <string.h>

#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "unit.h"

START_TEST(password_hash_roundtrip)
{
    char *phc = NULL;

    ck_assert_int_eq(ss_pw_hash("correct horse battery staple", &phc), 0);
    ck_assert_ptr_nonnull(phc);
    ck_assert(strncmp(phc, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    ck_assert_int_eq(ss_pw_verify(phc, "correct horse battery staple"), 0);
    ck_assert_int_eq(ss_pw_verify(phc, "correct horse battery stapl"), SS_ERR_UNAUTHORIZED);
    ck_assert_int_ne(ss_pw_verify("$2b$10$notargon", "x"), 0);
    free(phc);
}
END_TEST

START_TEST(salts_differ)
{
    char *a = NULL, *b = NULL;

    ck_assert_int_eq(ss_pw_hash("same password here", &a), 0);
    ck_assert_int_eq(ss_pw_hash("same password here", &b), 0);
    ck_assert_str_ne(a, b);
    free(a);
    free(b);
}
END_TEST

START_TEST(generated_passwords)
{
    char pw[21];

    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(ss_pw_generate(pw, 20), 0);
        ck_assert_uint_eq(strlen(pw), 20);
        ck_assert(strpbrk(pw, "ABCDEFGHJKLMNPQRSTUVWXYZ") != NULL);
        ck_assert(strpbrk(pw, "abcdefghijkmnopqrstuvwxyz") != NULL);
        ck_assert(strpbrk(pw, "23456789") != NULL);
        ck_assert(strpbrk(pw, "#%+-=@_") != NULL);
        ck_assert(strpbrk(pw, "0O1lI") == NULL);
    }
    ck_assert_int_ne(ss_pw_generate(pw, 8), 0);
}
END_TEST

START_TEST(base64url_roundtrip)
{
    const unsigned char data[] = {0xfb, 0xff, 0x00, 0x41, 0x42};
    size_t n = 0;

    for (size_t len = 0; len <= sizeof(data); len++) {
        char *e = ss_b64url_encode(data, len);
        unsigned char *d = ss_b64url_decode(e, &n);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(n, len);
        ck_assert(memcmp(d, data, len) == 0);
        ck_assert(strpbrk(e, "+/=") == NULL);
        free(e);
        free(d);
    }
    ck_assert_ptr_null(ss_b64url_decode("ab+c", &n));
    ck_assert_ptr_null(ss_b64url_decode("a", &n));
}
END_TEST

START_TEST(tokens_and_hashes)
{
    char a[64], b[64], u[37], h[65];

    ck_assert_int_eq(ss_random_token(a, sizeof(a), 32), 0);
    ck_assert_int_eq(ss_random_token(b, sizeof(b), 32), 0);
    ck_assert_uint_eq(strlen(a), 43);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(ss_uuid(u), 0);
    ck_assert_uint_eq(strlen(u), 36);
    ck_assert_int_eq(u[14], '4');
    ss_sha256_hex("abc", 3, h);
    ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert(ss_ct_streq("abc", "abc"));
    ck_assert(!ss_ct_streq("abc", "abd"));
    ck_assert(!ss_ct_streq("abc", "abcd"));
}
END_TEST

UNIT_MAIN("crypto", password_hash_roundtrip, salts_differ, generated_passwords, base64url_roundtrip,
          tokens_and_hashes)
