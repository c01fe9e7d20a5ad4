/* test_jwt.c - ES256 sign/verify, key ids, tampering, expiry, revocation. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/text.h"
#include "unit.h"

static char keyfile[] = "/tmp/ss-jwt-test-XXXXXX";

static void make_key(void)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    int fd = mkstemp(keyfile);
    FILE *f = fdopen(fd, "w");

    ck_assert_ptr_nonnull(pk);
    ck_assert(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL));
    fclose(f);
    EVP_PKEY_free(pk);
    setenv("SESSHU_JWT_SIGNING_KEY_FILE", keyfile, 1);
    setenv("SESSHU_JWT_ISSUER", "https://sesshu.test", 1);
    ck_assert_int_eq(ss_jwt_init(true), 0);
}

static ss_principal alice(void)
{
    ss_principal p;

    memset(&p, 0, sizeof(p));
    p.kind = SS_PRINCIPAL_USER;
    strcpy(p.sub, "6f1c1d1e-0000-4000-8000-000000000001");
    strcpy(p.login_id, "alice");
    strcpy(p.org_id, "6f1c1d1e-0000-4000-8000-0000000000aa");
    p.org_type = SS_ORG_MUNICIPALITY;
    strcpy(p.org_code, "131130");
    strcpy(p.muni_code, "131130");
    p.role = SS_ROLE_ADMIN;
    strcpy(p.sid, "6f1c1d1e-0000-4000-8000-0000000000ff");
    return p;
}

static char *sign(long ttl)
{
    ss_principal p = alice();
    json_t *c = ss_jwt_user_claims(&p, ttl);
    char *tok = NULL;

    ck_assert_int_eq(ss_jwt_sign(c, &tok), 0);
    json_decref(c);
    return tok;
}

START_TEST(sign_and_verify)
{
    char *tok;
    ss_principal p;
    json_t *jwks, *claims = NULL;

    make_key();
    tok = sign(900);
    ck_assert_int_eq(ss_jwt_verify(tok, &claims), 0);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "iss")), "https://sesshu.test");
    json_decref(claims);
    ck_assert_int_eq(ss_jwt_principal(tok, &p), 0);
    ck_assert_str_eq(p.login_id, "alice");
    ck_assert_int_eq(p.org_type, SS_ORG_MUNICIPALITY);
    ck_assert_str_eq(p.muni_code, "131130");
    ck_assert_int_eq(ss_jwt_principal(tok, &p), 0); /* from the cache */
    jwks = ss_jwt_jwks();
    ck_assert_uint_eq(json_array_size(json_object_get(jwks, "keys")), 1);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(
                          json_array_get(json_object_get(jwks, "keys"), 0), "kid"))),
                      43);
    json_decref(jwks);
    free(tok);
    ss_jwt_shutdown();
    unlink(keyfile);
}
END_TEST

START_TEST(refuses_tampered_expired_and_foreign)
{
    char *tok;
    char *bad;
    size_t n;
    ss_principal p;

    make_key();
    tok = sign(900);
    bad = strdup(tok);
    n = strlen(bad);
    bad[n - 3] = bad[n - 3] == 'A' ? 'B' : 'A'; /* signature */
    ck_assert_int_eq(ss_jwt_principal(bad, &p), SS_ERR_UNAUTHORIZED);
    strcpy(bad, tok);
    bad[strchr(bad, '.') - bad + 5] ^= 1; /* payload */
    ck_assert_int_eq(ss_jwt_verify(bad, NULL), SS_ERR_UNAUTHORIZED);
    free(bad);
    /* alg none */
    ck_assert_int_eq(ss_jwt_verify("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.", NULL),
                     SS_ERR_UNAUTHORIZED);
    ck_assert_int_eq(ss_jwt_verify("not a token", NULL), SS_ERR_UNAUTHORIZED);
    free(tok);
    tok = sign(-120); /* expired two minutes ago, beyond the leeway */
    ck_assert_int_eq(ss_jwt_principal(tok, &p), SS_ERR_UNAUTHORIZED);
    free(tok);
    ss_jwt_shutdown();
    unlink(keyfile);
}
END_TEST

START_TEST(revocation)
{
    char *tok;
    ss_principal p;

    make_key();
    tok = sign(900);
    ck_assert_int_eq(ss_jwt_principal(tok, &p), 0);
    ss_jwt_revoke_local(p.sid, ss_now_s() + 900);
    ck_assert(ss_jwt_is_revoked(p.sid));
    ck_assert_int_eq(ss_jwt_principal(tok, &p), SS_ERR_UNAUTHORIZED);
    /* An organisation's revocation refuses tokens issued up to it, not after. */
    ss_jwt_revoke_local("org:abc", ss_now_s() + 900);
    ck_assert(ss_jwt_is_revoked_since("org:abc", ss_now_s() - 60));
    ck_assert(!ss_jwt_is_revoked_since("org:abc", ss_now_s() + 1));
    ck_assert(!ss_jwt_is_revoked_since("org:other", 0));
    free(tok);
    ss_jwt_shutdown();
    unlink(keyfile);
}
END_TEST

UNIT_MAIN("jwt", sign_and_verify, refuses_tampered_expired_and_foreign, revocation)
