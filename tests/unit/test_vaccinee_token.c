/* test_vaccinee_token.c - vaccinee tokens (H-3-3) in the shared library: the
 * claims the token service's exchange issues, claims -> SS_PRINCIPAL_VACCINEE
 * with person_id, the checks on malformed claims, the cache, revocation by
 * jti and by the portal client's generation, and the permissions. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"
#include "unit.h"

#define PERSON "6f1c1d1e-0000-4000-8000-00000000b001"
#define PORTAL "6f1c1d1e-0000-4000-8000-00000000c0de"

static char keyfile[] = "/tmp/ss-vt-key-XXXXXX";

static void init_keys(void)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    int fd = mkstemp(keyfile);
    FILE *f = fdopen(fd, "w");

    ck_assert_ptr_nonnull(pk);
    ck_assert_ptr_nonnull(f);
    ck_assert(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL));
    fclose(f);
    EVP_PKEY_free(pk);
    setenv("SESSHU_JWT_SIGNING_KEY_FILE", keyfile, 1);
    unsetenv("SESSHU_JWT_PUBLIC_KEY_DIR");
    setenv("SESSHU_JWT_ISSUER", "https://sesshu.test", 1);
    ck_assert_int_eq(ss_jwt_init(true), 0);
}

static char *sign(json_t *claims)
{
    char *tok = NULL;

    ck_assert_ptr_nonnull(claims);
    ck_assert_int_eq(ss_jwt_sign(claims, &tok), 0);
    json_decref(claims);
    return tok;
}

/* The library's claims with one member changed (value stolen) or removed (NULL). */
static char *sign_with(const char *key, json_t *value)
{
    char jti[37];
    json_t *c = ss_jwt_vaccinee_claims(PERSON, PORTAL, "gen-x", 300, jti);

    ck_assert_ptr_nonnull(c);
    if (value != NULL)
        json_object_set_new(c, key, value);
    else
        json_object_del(c, key);
    return sign(c);
}

START_TEST(claims_to_principal)
{
    char jti[37];
    json_t *c;
    char *tok;
    ss_principal p;

    init_keys();
    c = ss_jwt_vaccinee_claims(PERSON, PORTAL, "gen-1", 300, jti);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), PERSON);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "act"), "sub")), PORTAL);
    ck_assert_str_eq(json_string_value(json_object_get(c, "jti")), jti);
    ck_assert_ptr_null(json_object_get(c, "client_id")); /* never mistaken for an API client */
    tok = sign(c);
    ck_assert_int_eq(ss_jwt_principal(tok, &p), 0);
    ck_assert_int_eq(p.kind, SS_PRINCIPAL_VACCINEE);
    ck_assert_str_eq(p.person_id, PERSON);
    ck_assert_str_eq(p.sub, PERSON);
    ck_assert_str_eq(p.login_id, PORTAL);
    ck_assert_str_eq(p.sid, jti);
    ck_assert_str_eq(p.client_gen, "gen-1");
    ck_assert_str_eq(p.org_id, "");
    ck_assert_int_eq(p.org_type, SS_ORG_NONE);
    ck_assert_int_eq(p.role, SS_ROLE_NONE);
    ck_assert_uint_eq(p.scopes, 0);
    ck_assert_int_eq(ss_jwt_principal(tok, &p), 0); /* cached */
    ck_assert_str_eq(p.person_id, PERSON);
    /* No person, no claims. */
    ck_assert_ptr_null(ss_jwt_vaccinee_claims("not-a-uuid", PORTAL, "g", 300, jti));
    ck_assert_ptr_null(ss_jwt_vaccinee_claims(PERSON, NULL, "g", 300, jti));
    free(tok);
    ss_jwt_shutdown();
}
END_TEST

START_TEST(malformed_claims)
{
    char *t[8];
    ss_principal p;

    init_keys();
    t[0] = sign_with("person_id", json_string("not-a-uuid"));
    t[1] =
        sign_with("sub", json_string("6f1c1d1e-0000-4000-8000-00000000b002")); /* sub != person */
    t[2] = sign_with("jti", NULL);
    t[3] = sign_with("gen", NULL);
    t[4] = sign_with("act", json_string(PORTAL));       /* act must be an object */
    t[5] = sign_with("client_id", json_string(PORTAL)); /* a client and a vaccinee at once */
    t[6] = sign_with("org", json_string("6f1c1d1e-0000-4000-8000-0000000000aa"));
    t[7] = sign_with("person_id", json_integer(7));
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(ss_jwt_principal(t[i], &p) == SS_ERR_UNAUTHORIZED, "case %d accepted", i);
        ck_assert_int_eq(p.kind, SS_PRINCIPAL_NONE);
        free(t[i]);
    }
    ss_jwt_shutdown();
}
END_TEST

START_TEST(revocation)
{
    char jti1[37], jti2[37], jti3[37];
    char *a, *b, *c;
    ss_principal p;

    init_keys();
    a = sign(ss_jwt_vaccinee_claims(PERSON, PORTAL, "gen-a", 300, jti1));
    b = sign(ss_jwt_vaccinee_claims(PERSON, PORTAL, "gen-a", 300, jti2));
    c = sign(ss_jwt_vaccinee_claims(PERSON, PORTAL, "gen-b", 300, jti3));
    ck_assert_int_eq(ss_jwt_principal(a, &p), 0);
    ck_assert_int_eq(ss_jwt_principal(b, &p), 0);
    /* One token by its jti, even though it is cached. */
    ss_jwt_revoke_local(jti1, ss_now_s() + 600);
    ck_assert_int_eq(ss_jwt_principal(a, &p), SS_ERR_UNAUTHORIZED);
    ck_assert_int_eq(ss_jwt_principal(b, &p), 0);
    /* Every token of the portal client's generation. */
    ss_jwt_revoke_local("gen-a", ss_now_s() + 600);
    ck_assert_int_eq(ss_jwt_principal(b, &p), SS_ERR_UNAUTHORIZED);
    ck_assert_int_eq(ss_jwt_principal(c, &p), 0);
    free(a);
    free(b);
    free(c);
    ss_jwt_shutdown();
}
END_TEST

START_TEST(expired)
{
    char jti[37];
    char *tok;
    ss_principal p;

    init_keys();
    tok = sign(ss_jwt_vaccinee_claims(PERSON, PORTAL, "gen-e", -120, jti));
    ck_assert_int_eq(ss_jwt_principal(tok, &p), SS_ERR_UNAUTHORIZED);
    free(tok);
    ss_jwt_shutdown();
}
END_TEST

START_TEST(permissions)
{
    ss_principal v;

    memset(&v, 0, sizeof(v));
    v.kind = SS_PRINCIPAL_VACCINEE;
    snprintf(v.person_id, sizeof(v.person_id), "%s", PERSON);
    for (int perm = SS_PERM_AUTHENTICATED + 1; perm < SS_PERM_COUNT_; perm++) {
        bool want = perm == SS_PERM_SELF_READ || perm == SS_PERM_SELF_WRITE;

        ck_assert_msg(ss_authz_has(&v, perm) == want, "a vaccinee %s %s", want ? "lacks" : "holds",
                      ss_perm_name(perm));
    }
    ck_assert_int_eq(ss_authz_same_org(&v, ""), SS_ERR_NOT_FOUND);
    ck_assert(!ss_authz_is_national(&v));
    v.person_id[0] = '\0';
    ck_assert(!ss_authz_has(&v, SS_PERM_SELF_READ));
}
END_TEST

/* The token service resolves a person at the records service with a service
 * token: accepted only by ss_svc_token_verify for its svc and aud, never as a
 * principal. */
START_TEST(service_token)
{
    char *tok = NULL, hdr[1200];
    ss_principal p;

    init_keys();
    ck_assert_int_eq(ss_svc_token("token", "records", &tok), 0);
    snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
    ck_assert_int_eq(ss_svc_token_verify(hdr, "token", "records"), 0);
    ck_assert_int_eq(ss_svc_token_verify(hdr, "account", "records"), SS_ERR_UNAUTHORIZED);
    ck_assert_int_eq(ss_svc_token_verify(hdr, "token", "audit"), SS_ERR_UNAUTHORIZED);
    ck_assert_int_eq(ss_svc_token_verify(tok, "token", "records"), SS_ERR_UNAUTHORIZED);
    ck_assert_int_eq(ss_svc_token_verify(NULL, "token", "records"), SS_ERR_UNAUTHORIZED);
    ck_assert_int_eq(ss_jwt_principal(tok, &p), SS_ERR_UNAUTHORIZED);
    hdr[strlen(hdr) - 3] ^= 1; /* a changed signature */
    ck_assert_int_eq(ss_svc_token_verify(hdr, "token", "records"), SS_ERR_UNAUTHORIZED);
    free(tok);
    ss_jwt_shutdown();
}
END_TEST

UNIT_MAIN("vaccinee_token", claims_to_principal, malformed_claims, revocation, expired, permissions,
          service_token)
