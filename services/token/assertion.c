/* assertion.c - private_key_jwt client authentication (RFC 7523 2.2, RFC
 * 7521 4.2): the client signs a short-lived ES256 JWT with its own key; we
 * verify it with the public key it registered (PEM or JWK, P-256), check
 * iss = sub = client id, aud = our issuer or endpoint, a bounded lifetime,
 * and refuse a jti seen before. */
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"
#include "tok.h"

#define ASSERTION_MAX_LIFE_S 600

/* One segment of a compact JWS, decoded as a JSON object (new ref) or NULL. */
static json_t *segment_json(const char *jwt, int which)
{
    const char *p = jwt, *end;
    char buf[2048];
    unsigned char *raw;
    size_t n, rawlen = 0;
    json_t *j = NULL;

    for (int i = 0; i < which && p != NULL; i++)
        p = (p = strchr(p, '.')) ? p + 1 : NULL;
    if (p == NULL || (end = strchr(p, '.')) == NULL || (n = (size_t)(end - p)) >= sizeof(buf))
        return NULL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    raw = ss_b64url_decode(buf, &rawlen);
    if (raw != NULL)
        j = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static bool aud_match(const json_t *aud, const char *a, const char *b)
{
    size_t i;
    json_t *v;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), a) == 0 || strcmp(json_string_value(aud), b) == 0;
    if (!json_is_array(aud))
        return false;
    json_array_foreach (aud, i, v) {
        if (aud_match(v, a, b))
            return true;
    }
    return false;
}

bool tok_aud_ok(const json_t *aud)
{
    const char *iss = ss_cfg_str(SS_ENV_JWT_ISSUER, "http://localhost:8080");
    char tep[512];

    snprintf(tep, sizeof(tep), "%s/oauth2/token", iss);
    return aud_match(aud, iss, tep);
}

/* The claims of a verified assertion are acceptable for client id. */
static bool claims_ok(const json_t *c, const char *id)
{
    long long now = ss_now_s();
    const json_t *exp = json_object_get(c, "exp"), *jti = json_object_get(c, "jti");

    return json_is_string(json_object_get(c, "iss")) && json_is_string(json_object_get(c, "sub")) &&
           strcmp(json_string_value(json_object_get(c, "iss")), id) == 0 &&
           strcmp(json_string_value(json_object_get(c, "sub")), id) == 0 &&
           tok_aud_ok(json_object_get(c, "aud")) && json_is_integer(exp) &&
           json_integer_value(exp) + 30 >= now &&
           json_integer_value(exp) <= now + ASSERTION_MAX_LIFE_S && json_is_string(jti) &&
           strlen(json_string_value(jti)) >= 1 && strlen(json_string_value(jti)) <= 200;
}

json_t *tok_jws_verify(const char *assertion, const char *pem)
{
    json_t *hdr = segment_json(assertion, 0), *claims = NULL;
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    jwt_t *j = NULL;
    char *grants = NULL;

    if (alg != NULL && strcmp(alg, "ES256") == 0 &&
        jwt_decode(&j, assertion, (const unsigned char *)pem, (int)strlen(pem)) == 0 && j != NULL &&
        jwt_get_alg(j) == JWT_ALG_ES256 && (grants = jwt_get_grants_json(j, NULL)) != NULL)
        claims = json_loads(grants, JSON_REJECT_DUPLICATES, NULL);
    free(grants);
    jwt_free(j);
    json_decref(hdr);
    return claims;
}

/* Load the client's key, verify, record the jti and count the use (one
 * transaction). 0 with *c filled, SS_ERR_UNAUTHORIZED, or another error. */
int tok_assertion_auth(ss_req *r, const char *assertion, const char *form_id, tok_client *c)
{
    json_t *peek = NULL, *claims = NULL;
    const char *id;
    PGresult *res = NULL;
    ss_dbc *dbc = NULL;
    char exp[24];
    int rc = SS_ERR_UNAUTHORIZED;

    if (strlen(assertion) > 4096 || (peek = segment_json(assertion, 1)) == NULL)
        return SS_ERR_UNAUTHORIZED;
    id = json_string_value(json_object_get(peek, "sub"));
    if (!ss_uuid_ok(id) || (form_id != NULL && strcmp(form_id, id) != 0))
        goto out;
    {
        const char *params[] = {id, ss_req_client_ip(r)};

        if ((rc = ss_db_acquire(ss_server_db(), &dbc)) != 0 || (rc = ss_db_begin(dbc)) != 0)
            goto out;
        rc = ss_db_exec(dbc, sql_tok_assertion_client_key, 2, params, &res);
    }
    if (rc != 0 || PQntuples(res) != 1 ||
        (claims = tok_jws_verify(assertion, PQgetvalue(res, 0, 0))) == NULL ||
        !claims_ok(claims, id)) {
        rc = rc == SS_ERR_UNAVAILABLE ? rc : SS_ERR_UNAUTHORIZED;
        goto out;
    }
    PQclear(res);
    res = NULL;
    snprintf(exp, sizeof(exp), "%lld",
             (long long)json_integer_value(json_object_get(claims, "exp")));
    {
        const char *params[] = {id, json_string_value(json_object_get(claims, "jti")), exp};

        rc = ss_db_exec(dbc, sql_tok_assertion_jti_spend, 3, params, &res);
    }
    if (rc == 0 && PQntuples(res) == 1 && (rc = tok_client_fill(res, id, c)) == 0)
        rc = ss_db_commit(dbc);
    else if (rc != SS_ERR_UNAVAILABLE)
        rc = SS_ERR_UNAUTHORIZED; /* a replayed jti (unique violation) among others */
out:
    ss_db_release(dbc);
    PQclear(res);
    json_decref(peek);
    json_decref(claims);
    return rc;
}

/* A P-256 public key from a JWK object {kty:"EC", crv:"P-256", x, y}. */
static EVP_PKEY *jwk_key(const json_t *jwk)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const char *x = json_string_value(json_object_get(jwk, "x"));
    const char *y = json_string_value(json_object_get(jwk, "y"));
    unsigned char *bx = NULL, *by = NULL, point[65];
    size_t lx = 0, ly = 0;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;

    if (kty == NULL || crv == NULL || x == NULL || y == NULL || strcmp(kty, "EC") != 0 ||
        strcmp(crv, "P-256") != 0 || json_object_get(jwk, "d") != NULL)
        return NULL;
    bx = ss_b64url_decode(x, &lx);
    by = ss_b64url_decode(y, &ly);
    if (bx != NULL && by != NULL && lx == 32 && ly == 32) {
        point[0] = 0x04;
        memcpy(point + 1, bx, 32);
        memcpy(point + 33, by, 32);
        if ((bld = OSSL_PARAM_BLD_new()) != NULL &&
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 65) &&
            (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
            (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
            EVP_PKEY_fromdata_init(ctx) > 0)
            EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    free(bx);
    free(by);
    return pk;
}

int tok_public_key_pem(const json_t *jwk, const char *pem_in, char **pem_out)
{
    EVP_PKEY *pk = NULL;
    BIO *in = NULL, *out = NULL;
    BUF_MEM *mem = NULL;
    char group[32];
    size_t glen = 0;
    int rc = SS_ERR_VALIDATION;

    *pem_out = NULL;
    if (jwk != NULL)
        pk = jwk_key(jwk);
    else if (pem_in != NULL && (in = BIO_new_mem_buf(pem_in, -1)) != NULL)
        pk = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL);
    if (pk != NULL && EVP_PKEY_base_id(pk) == EVP_PKEY_EC &&
        EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) &&
        strcmp(group, "prime256v1") == 0 && (out = BIO_new(BIO_s_mem())) != NULL &&
        PEM_write_bio_PUBKEY(out, pk)) {
        BIO_get_mem_ptr(out, &mem);
        *pem_out = strndup(mem->data, mem->length);
        rc = *pem_out ? 0 : SS_ERR_NOMEM;
    }
    EVP_PKEY_free(pk);
    BIO_free(in);
    BIO_free(out);
    return rc;
}
