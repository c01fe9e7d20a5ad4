/* oauth.c - POST /oauth2/token (RFC 6749 4.4 client credentials),
 * /oauth2/introspect (RFC 7662) and /oauth2/revoke (RFC 7009), and the
 * public documents: the JWK Set of every key that signs a bearer token the
 * API accepts, and the RFC 8414 authorization server metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/server.h"
#include "sesshu/text.h"
#include "tok.h"

static const char *issuer(void)
{
    return ss_cfg_str(SS_ENV_JWT_ISSUER, "http://localhost:8080");
}

/* Requested scope: a subset of the client's, all of them when absent. */
static int grant_scopes(const tok_client *c, const char *req, unsigned *out)
{
    unsigned want = 0;

    if (req == NULL) {
        *out = c->scopes;
        return 0;
    }
    if (ss_scopes_parse(req, &want) != 0 || want == 0 || (want & ~c->scopes) != 0)
        return SS_ERR_VALIDATION;
    *out = want;
    return 0;
}

static json_t *claims_for(const tok_client *c, unsigned scopes, char jti[37])
{
    long long now = ss_now_s();
    char sc[160];
    json_t *j;

    if (ss_uuid(jti) != 0)
        return NULL;
    j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "iss", issuer(), "sub", c->id,
                  "client_id", c->id, "org", c->org_id, "org_type", c->org_type, "org_code",
                  c->org_code, "scope", ss_scopes_format(scopes, sc, sizeof(sc)), "gen", c->gen,
                  "iat", (json_int_t)now, "exp", (json_int_t)(now + tok_cfg.token_ttl_s), "jti",
                  jti);
    if (j != NULL && c->muni[0])
        json_object_set_new(j, "muni", json_string(c->muni));
    if (j != NULL && c->pref[0])
        json_object_set_new(j, "pref", json_string(c->pref));
    return j;
}

static int issue(ss_req *r, const tok_client *c, unsigned scopes)
{
    char jti[37], sc[160];
    char *tok = NULL;
    json_t *claims = claims_for(c, scopes, jti);
    int rc = claims ? ss_jwt_sign(claims, &tok) : SS_ERR_NOMEM;

    json_decref(claims);
    if (rc != 0)
        return rc;
    rc = ss_reply_json_new(r, 200,
                           json_pack("{s:s,s:s,s:I,s:s}", "access_token", tok, "token_type",
                                     "Bearer", "expires_in", (json_int_t)tok_cfg.token_ttl_s,
                                     "scope", ss_scopes_format(scopes, sc, sizeof(sc))));
    ss_reply_header(r, "Pragma", "no-cache");
    free(tok);
    return rc;
}

int tok_h_token(ss_req *r)
{
    tok_form f;
    tok_client c;
    const char *gt;
    unsigned scopes = 0;
    bool replied = false;
    int rc;

    if ((rc = tok_form_parse(r, &f, &replied)) != 0 || replied)
        return replied ? 0 : rc;
    gt = tok_form_get(&f, "grant_type");
    if (gt == NULL) {
        rc = tok_oauth_error(r, 400, "invalid_request", "grant_type is required");
    } else if ((rc = tok_client_auth(r, &f, &c, &replied)) != 0 || replied) {
        rc = replied ? 0 : rc;
    } else if (strcmp(gt, TOK_GRANT_EXCHANGE) == 0) {
        rc = c.portal ? tok_exchange(r, &f, &c)
                      : tok_oauth_error(r, 400, "unauthorized_client",
                                        "only a portal client may exchange tokens");
    } else if (strcmp(gt, "client_credentials") != 0) {
        rc = tok_oauth_error(r, 400, "unsupported_grant_type",
                             "client_credentials or token-exchange");
    } else if (c.portal) {
        rc = tok_oauth_error(r, 400, "unauthorized_client",
                             "a portal client has only the token-exchange grant");
    } else if (grant_scopes(&c, tok_form_get(&f, "scope"), &scopes) != 0) {
        rc = tok_oauth_error(r, 400, "invalid_scope",
                             "unknown scope, or one the client is not registered for");
    } else {
        rc = issue(r, &c, scopes);
    }
    tok_form_free(&f);
    return rc;
}

/* The token's claims if it verifies, belongs to the caller and is not
 * revoked; NULL otherwise. */
static json_t *own_token(const tok_client *c, const char *token)
{
    json_t *claims = NULL;
    const char *cid, *jti, *gen;
    char org_key[64];

    if (token == NULL || ss_jwt_verify(token, &claims) != 0)
        return NULL;
    cid = json_string_value(json_object_get(claims, "client_id"));
    if (cid == NULL) /* a vaccinee token: the portal client that exchanged it (RFC 8693 act) */
        cid = json_string_value(json_object_get(json_object_get(claims, "act"), "sub"));
    jti = json_string_value(json_object_get(claims, "jti"));
    gen = json_string_value(json_object_get(claims, "gen"));
    snprintf(org_key, sizeof(org_key), "org:%s",
             json_is_string(json_object_get(claims, "org"))
                 ? json_string_value(json_object_get(claims, "org"))
                 : "");
    if (cid == NULL || jti == NULL || strcmp(cid, c->id) != 0 || ss_jwt_is_revoked(jti) ||
        (gen != NULL && ss_jwt_is_revoked(gen)) ||
        ss_jwt_is_revoked_since(org_key, json_integer_value(json_object_get(claims, "iat")))) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* What introspection (RFC 7662) and revocation (RFC 7009) both read: the client authenticated
 * from the form, and its `token`, checked to be one of the client's own. *done when the request
 * is answered already (the return value: 0 when replied, else an error); otherwise *claims is the
 * token's, or NULL when the token is not valid or not the client's. */
static int client_token(ss_req *r, tok_client *c, json_t **claims, bool *done)
{
    tok_form f;
    bool replied = false;
    int rc;

    *claims = NULL;
    *done = true;
    if ((rc = tok_form_parse(r, &f, &replied)) != 0 || replied)
        return replied ? 0 : rc;
    if ((rc = tok_client_auth(r, &f, c, &replied)) != 0 || replied) {
        tok_form_free(&f);
        return replied ? 0 : rc;
    }
    if (tok_form_get(&f, "token") == NULL) {
        tok_form_free(&f);
        return tok_oauth_error(r, 400, "invalid_request", "token is required");
    }
    *claims = own_token(c, tok_form_get(&f, "token"));
    tok_form_free(&f);
    *done = false;
    return 0;
}

int tok_h_introspect(ss_req *r)
{
    tok_client c;
    json_t *claims = NULL, *out;
    bool done;
    int rc;

    if ((rc = client_token(r, &c, &claims, &done)) != 0 || done)
        return rc;
    if (claims == NULL)
        return ss_reply_json_new(r, 200, json_pack("{s:b}", "active", 0));
    out =
        json_pack("{s:b,s:O,s:s,s:s,s:O,s:O,s:O,s:O,s:O}", "active", 1, "scope",
                  json_object_get(claims, "scope") ? json_object_get(claims, "scope")
                                                   : json_object_get(claims, "token_use"),
                  "client_id", c.id, "token_type", "Bearer", "exp", json_object_get(claims, "exp"),
                  "iat", json_object_get(claims, "iat"), "sub", json_object_get(claims, "sub"),
                  "iss", json_object_get(claims, "iss"), "jti", json_object_get(claims, "jti"));
    json_decref(claims);
    return ss_reply_json_new(r, 200, out);
}

int tok_h_revoke(ss_req *r)
{
    tok_client c;
    json_t *claims = NULL;
    const char *params[2];
    char exp[24];
    bool done;
    int rc;

    if ((rc = client_token(r, &c, &claims, &done)) != 0 || done)
        return rc;
    /* RFC 7009 2.2: an invalid or someone else's token is answered 200 too. */
    if (claims == NULL)
        return ss_reply_empty(r, 200);
    params[0] = json_string_value(json_object_get(claims, "jti"));
    snprintf(exp, sizeof(exp), "%lld",
             (long long)json_integer_value(json_object_get(claims, "exp")));
    params[1] = exp;
    rc = ss_db_query(ss_server_db(), sql_tok_oauth_revocation_insert, 2, params, NULL);
    if (rc == 0)
        ss_jwt_revoke_local(params[0], json_integer_value(json_object_get(claims, "exp")) + 60);
    json_decref(claims);
    return rc != 0 ? rc : ss_reply_empty(r, 200);
}

int tok_h_jwks(ss_req *r)
{
    int rc = ss_reply_json_new(r, 200, ss_jwt_jwks());

    if (rc == 0)
        ss_reply_header(r, "Cache-Control", "public, max-age=60");
    return rc;
}

int tok_h_metadata(ss_req *r)
{
    const char *iss = issuer();
    char tok[512], intro[512], rev[512], jwks[512];
    json_t *scopes = json_array();

    for (int b = 0; scopes != NULL && b < SS_SCOPE_COUNT_; b++)
        json_array_append_new(scopes, json_string(ss_scope_name(b)));
    snprintf(tok, sizeof(tok), "%s/oauth2/token", iss);
    snprintf(intro, sizeof(intro), "%s/oauth2/introspect", iss);
    snprintf(rev, sizeof(rev), "%s/oauth2/revoke", iss);
    snprintf(jwks, sizeof(jwks), "%s/.well-known/jwks.json", iss);
    return ss_reply_json_new(
        r, 200,
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:[s,s],s:[s,s,s],s:[s],s:[s,s,s],s:[s,s,s],s:[]}",
                  "issuer", iss, "token_endpoint", tok, "introspection_endpoint", intro,
                  "revocation_endpoint", rev, "jwks_uri", jwks, "scopes_supported", scopes,
                  "grant_types_supported", "client_credentials", TOK_GRANT_EXCHANGE,
                  "token_endpoint_auth_methods_supported", "client_secret_basic",
                  "client_secret_post", "private_key_jwt",
                  "token_endpoint_auth_signing_alg_values_supported", "ES256",
                  "introspection_endpoint_auth_methods_supported", "client_secret_basic",
                  "client_secret_post", "private_key_jwt",
                  "revocation_endpoint_auth_methods_supported", "client_secret_basic",
                  "client_secret_post", "private_key_jwt", "response_types_supported"));
}
