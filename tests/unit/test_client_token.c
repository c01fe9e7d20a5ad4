/* test_client_token.c - API client tokens (H-2) in the shared library: the
 * scope list, the scope table of ss_authz_has for clients, client claims to
 * principal, generation revocation, and the key-directory rescan on an
 * unknown kid (key rotation without restarts). */
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/text.h"
#include "unit.h"

static char keyfile[] = "/tmp/ss-ct-key-XXXXXX";
static char keydir[] = "/tmp/ss-ct-dir-XXXXXX";

static void write_key(EVP_PKEY *pk, const char *path, bool private_key)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert(private_key ? PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_PUBKEY(f, pk));
    fclose(f);
}

static void init_keys(void)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    int fd = mkstemp(keyfile);

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_ptr_nonnull(mkdtemp(keydir));
    write_key(pk, keyfile, true);
    EVP_PKEY_free(pk);
    setenv("SESSHU_JWT_SIGNING_KEY_FILE", keyfile, 1);
    setenv("SESSHU_JWT_PUBLIC_KEY_DIR", keydir, 1);
    setenv("SESSHU_JWT_ISSUER", "https://sesshu.test", 1);
    ck_assert_int_eq(ss_jwt_init(true), 0);
}

static json_t *client_claims(const char *scope, const char *jti, const char *gen)
{
    long long now = ss_now_s();

    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "iss", "https://sesshu.test",
                     "sub", "6f1c1d1e-0000-4000-8000-0000000000c1", "client_id",
                     "6f1c1d1e-0000-4000-8000-0000000000c1", "org",
                     "6f1c1d1e-0000-4000-8000-0000000000aa", "org_type", "municipality", "muni",
                     "131130", "scope", scope, "jti", jti, "gen", gen, "iat", (json_int_t)now,
                     "exp", (json_int_t)(now + 600));
}

static char *sign(json_t *claims)
{
    char *tok = NULL;

    ck_assert_int_eq(ss_jwt_sign(claims, &tok), 0);
    json_decref(claims);
    return tok;
}

START_TEST(scope_list)
{
    unsigned m = 99;
    char buf[160];

    ck_assert_int_eq(ss_scopes_parse("records:read persons:write", &m), 0);
    ck_assert_uint_eq(m, SS_SCOPE(RECORDS_READ) | SS_SCOPE(PERSONS_WRITE));
    ck_assert_str_eq(ss_scopes_format(m, buf, sizeof(buf)), "persons:write records:read");
    ck_assert_int_eq(ss_scopes_parse("", &m), 0);
    ck_assert_uint_eq(m, 0);
    ck_assert_int_eq(ss_scopes_parse("records:delete", &m), SS_ERR_VALIDATION);
    ck_assert_int_eq(ss_scopes_parse("records:read  mch:write", &m), SS_ERR_VALIDATION);
    ck_assert_int_eq(ss_scopes_parse("records:read ", &m), SS_ERR_VALIDATION);
    ck_assert_int_eq(ss_scopes_parse(" records:read", &m), SS_ERR_VALIDATION);
    ck_assert_int_eq(ss_scopes_parse("records:rea", &m), SS_ERR_VALIDATION);
    ck_assert_int_eq(ss_scopes_parse("masters:read linkage:read questionnaires:read mch:write "
                                     "records:write records:read persons:write",
                                     &m),
                     0);
    ck_assert_uint_eq(m, (1u << SS_SCOPE_COUNT_) - 1);
    ck_assert_str_eq(ss_scope_name(0), "persons:write");
    ck_assert_ptr_null(ss_scope_name(SS_SCOPE_COUNT_));
}
END_TEST

START_TEST(client_authz)
{
    ss_principal c, u;

    memset(&c, 0, sizeof(c));
    c.kind = SS_PRINCIPAL_CLIENT;
    c.org_type = SS_ORG_MUNICIPALITY;
    c.role = SS_ROLE_ADMIN; /* never consulted for a client */
    c.scopes = (1u << SS_SCOPE_COUNT_) - 1;
    strcpy(c.org_id, "o1");
    ck_assert(ss_authz_has(&c, SS_PERM_PUBLIC));
    ck_assert(ss_authz_has(&c, SS_PERM_AUTHENTICATED));
    /* Exactly the scope table's permissions, never a user-only one. */
    for (int perm = SS_PERM_AUTHENTICATED + 1; perm < SS_PERM_COUNT_; perm++) {
        bool want = perm == SS_PERM_PERSONS_READ || perm == SS_PERM_PERSONS_WRITE ||
                    perm == SS_PERM_RECORDS_READ || perm == SS_PERM_RECORDS_WRITE ||
                    perm == SS_PERM_QUESTIONNAIRES_READ || perm == SS_PERM_MCH_READ ||
                    perm == SS_PERM_MCH_WRITE || perm == SS_PERM_MASTERS_READ ||
                    perm == SS_PERM_LINKAGE_READ;

        ck_assert_msg(ss_authz_has(&c, perm) == want, "a client %s %s", want ? "lacks" : "holds",
                      ss_perm_name(perm));
    }
    c.scopes = SS_SCOPE(RECORDS_READ);
    ck_assert(ss_authz_has(&c, SS_PERM_RECORDS_READ));
    ck_assert(!ss_authz_has(&c, SS_PERM_RECORDS_WRITE));
    ck_assert(!ss_authz_has(&c, SS_PERM_MASTERS_READ));
    ck_assert_int_eq(ss_authz_same_org(&c, "o1"), 0);
    ck_assert_int_eq(ss_authz_same_org(&c, "o2"), SS_ERR_NOT_FOUND);
    ck_assert(!ss_authz_is_national(&c));

    memset(&u, 0, sizeof(u));
    u.kind = SS_PRINCIPAL_USER;
    u.role = SS_ROLE_ADMIN;
    u.org_type = SS_ORG_MUNICIPALITY;
    ck_assert(ss_authz_has(&u, SS_PERM_API_CLIENTS_MANAGE));
    u.org_type = SS_ORG_NONINS_MEDICAL;
    ck_assert(ss_authz_has(&u, SS_PERM_API_CLIENTS_MANAGE));
    u.org_type = SS_ORG_MEDICAL;
    ck_assert(!ss_authz_has(&u, SS_PERM_API_CLIENTS_MANAGE));
    u.org_type = SS_ORG_CHUOKAI;
    ck_assert(!ss_authz_has(&u, SS_PERM_API_CLIENTS_MANAGE));
    u.org_type = SS_ORG_MUNICIPALITY;
    u.role = SS_ROLE_USER;
    ck_assert(!ss_authz_has(&u, SS_PERM_API_CLIENTS_MANAGE));
}
END_TEST

START_TEST(client_principal)
{
    char *tok, *bad, *gen2;
    ss_principal p;

    init_keys();
    tok = sign(client_claims("records:read mch:write", "jti-1", "gen-1"));
    ck_assert_int_eq(ss_jwt_principal(tok, &p), 0);
    ck_assert_int_eq(p.kind, SS_PRINCIPAL_CLIENT);
    ck_assert_str_eq(p.sub, "6f1c1d1e-0000-4000-8000-0000000000c1");
    ck_assert_str_eq(p.org_id, "6f1c1d1e-0000-4000-8000-0000000000aa");
    ck_assert_int_eq(p.org_type, SS_ORG_MUNICIPALITY);
    ck_assert_str_eq(p.muni_code, "131130");
    ck_assert_str_eq(p.sid, "jti-1");
    ck_assert_str_eq(p.client_gen, "gen-1");
    ck_assert_int_eq(p.role, SS_ROLE_NONE);
    ck_assert_uint_eq(p.scopes, SS_SCOPE(RECORDS_READ) | SS_SCOPE(MCH_WRITE));
    /* An unknown scope in a signed token: refused, not silently dropped. */
    bad = sign(client_claims("records:read root", "jti-2", "gen-1"));
    ck_assert_int_eq(ss_jwt_principal(bad, &p), SS_ERR_UNAUTHORIZED);
    /* Revoking the generation refuses every token of it, even cached. */
    gen2 = sign(client_claims("records:read", "jti-3", "gen-2"));
    ck_assert_int_eq(ss_jwt_principal(gen2, &p), 0);
    ss_jwt_revoke_local("gen-1", ss_now_s() + 600);
    ck_assert_int_eq(ss_jwt_principal(tok, &p), SS_ERR_UNAUTHORIZED);
    ck_assert_int_eq(ss_jwt_principal(gen2, &p), 0);
    ss_jwt_revoke_local("jti-3", ss_now_s() + 600);
    ck_assert_int_eq(ss_jwt_principal(gen2, &p), SS_ERR_UNAUTHORIZED);
    free(tok);
    free(bad);
    free(gen2);
    ss_jwt_shutdown();
}
END_TEST

/* RFC 7638 thumbprint of a P-256 key. */
static char *thumbprint(EVP_PKEY *pk)
{
    BIGNUM *bx = NULL, *by = NULL;
    unsigned char x[32], y[32], d[32];
    unsigned int dl = 0;
    char *ex, *ey, in[256];

    ck_assert(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bx));
    ck_assert(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &by));
    BN_bn2binpad(bx, x, 32);
    BN_bn2binpad(by, y, 32);
    ex = ss_b64url_encode(x, 32);
    ey = ss_b64url_encode(y, 32);
    snprintf(in, sizeof(in), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", ex,
             ey);
    EVP_Digest(in, strlen(in), d, &dl, EVP_sha256(), NULL);
    free(ex);
    free(ey);
    BN_free(bx);
    BN_free(by);
    return ss_b64url_encode(d, dl);
}

/* A token signed by another issuer's key (libjwt directly). */
static char *foreign_token(EVP_PKEY *pk, const char *kid)
{
    BIO *bio = BIO_new(BIO_s_mem());
    BUF_MEM *mem = NULL;
    json_t *c = client_claims("masters:read", "jti-9", "gen-9");
    char *grants = json_dumps(c, JSON_COMPACT), *out, *tok;
    jwt_t *j = NULL;

    ck_assert(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL));
    BIO_get_mem_ptr(bio, &mem);
    ck_assert_int_eq(jwt_new(&j), 0);
    ck_assert_int_eq(jwt_add_grants_json(j, grants), 0);
    ck_assert_int_eq(jwt_add_header(j, "kid", kid), 0);
    ck_assert_int_eq(
        jwt_set_alg(j, JWT_ALG_ES256, (const unsigned char *)mem->data, (int)mem->length), 0);
    tok = jwt_encode_str(j);
    out = strdup(tok);
    free(tok);
    jwt_free(j);
    free(grants);
    json_decref(c);
    BIO_free(bio);
    return out;
}

START_TEST(key_rescan)
{
    EVP_PKEY *other = EVP_EC_gen("P-256"), *wrong = EVP_EC_gen("P-256");
    char *kid = thumbprint(other), *tok = foreign_token(other, kid), path[256], wpath[256];
    char *wkid = thumbprint(wrong), *wtok = foreign_token(wrong, wkid);
    ss_principal p;
    json_t *jwks;

    init_keys();
    ck_assert_int_eq(ss_jwt_principal(tok, &p), SS_ERR_UNAUTHORIZED);
    /* The token service rotates its key in: after the rescan interval the token verifies
     * without a restart, and the JWK Set lists the key. A key the directory names as the
     * account service's signs no client token (jwt.h: each kind only from its issuer). */
    snprintf(path, sizeof(path), "%s/token-other.pem", keydir);
    write_key(other, path, false);
    snprintf(wpath, sizeof(wpath), "%s/account-wrong.pem", keydir);
    write_key(wrong, wpath, false);
    sleep(4);
    ck_assert_int_eq(ss_jwt_principal(tok, &p), 0);
    ck_assert_int_eq(p.kind, SS_PRINCIPAL_CLIENT);
    ck_assert_int_eq(ss_jwt_principal(wtok, &p), SS_ERR_UNAUTHORIZED);
    jwks = ss_jwt_jwks();
    ck_assert_uint_eq(json_array_size(json_object_get(jwks, "keys")), 3);
    json_decref(jwks);
    unlink(path);
    unlink(wpath);
    ss_jwt_shutdown();
    EVP_PKEY_free(other);
    EVP_PKEY_free(wrong);
    free(kid);
    free(tok);
    free(wkid);
    free(wtok);
}
END_TEST

UNIT_MAIN("client_token", scope_list, client_authz, client_principal, key_rescan)
