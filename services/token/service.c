/* service.c - the token service (H-2): its routes, its configuration and
 * the init hook that refuses to start without a signing key. */
#include <stdlib.h>

#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/log.h"
#include "sesshu/server.h"
#include "tok.h"

#ifndef SS_MIGRATIONS_DIR
#define SS_MIGRATIONS_DIR "services/token/migrations"
#endif

#define RAW (SS_ROUTE_RAW_BODY | SS_ROUTE_OWN_AUTH)
#define M   SS_PERM_API_CLIENTS_MANAGE
#define PM  SS_PERM_PORTAL_CLIENTS_MANAGE

tok_config tok_cfg;

static const ss_route routes[] = {
    {"POST", "/oauth2/token", tok_h_token, SS_PERM_PUBLIC, RAW, "access_token"},
    {"POST", "/oauth2/introspect", tok_h_introspect, SS_PERM_PUBLIC, RAW, "access_token"},
    {"POST", "/oauth2/revoke", tok_h_revoke, SS_PERM_PUBLIC, RAW, "access_token"},
    {"GET", "/.well-known/jwks.json", tok_h_jwks, SS_PERM_PUBLIC, 0, "jwks"},
    {"GET", "/.well-known/oauth-authorization-server", tok_h_metadata, SS_PERM_PUBLIC, 0,
     "metadata"},
    {"POST", "/api/v1/api-clients", tok_h_client_create, M, 0, "api_client"},
    {"GET", "/api/v1/api-clients", tok_h_client_list, M, 0, "api_client"},
    {"GET", "/api/v1/api-clients/:id", tok_h_client_get, M, 0, "api_client"},
    {"PATCH", "/api/v1/api-clients/:id", tok_h_client_patch, M, 0, "api_client"},
    {"DELETE", "/api/v1/api-clients/:id", tok_h_client_delete, M, 0, "api_client"},
    {"POST", "/api/v1/api-clients/:id/rotate-secret", tok_h_client_rotate, M, 0, "api_client"},
    /* H-3-3: the portal clients of the vaccinee token exchange (exchange.c). */
    {"POST", "/api/v1/portal-clients", tok_h_portal_create, PM, 0, "portal_client"},
    {"GET", "/api/v1/portal-clients", tok_h_portal_list, PM, 0, "portal_client"},
    {"GET", "/api/v1/portal-clients/:id", tok_h_portal_get, PM, 0, "portal_client"},
    {"PATCH", "/api/v1/portal-clients/:id", tok_h_portal_patch, PM, 0, "portal_client"},
    {"DELETE", "/api/v1/portal-clients/:id", tok_h_portal_delete, PM, 0, "portal_client"},
    {NULL, NULL, NULL, 0, 0, NULL},
};

#undef RAW
#undef M
#undef PM

/* Refuse to start without a key to sign access tokens with. */
static int signing_probe(void)
{
    json_t *claims = json_pack("{s:s}", "probe", "token");
    char *tok = NULL;
    int rc = claims ? ss_jwt_sign(claims, &tok) : SS_ERR_NOMEM;

    json_decref(claims);
    free(tok);
    if (rc != 0)
        SS_ERROR("cannot sign tokens: SESSHU_TOKEN_SIGNING_KEY_FILE (or %s) must name an EC "
                 "P-256 private key",
                 SS_ENV_JWT_KEY);
    return rc;
}

static int tok_init(ss_db *db)
{
    if (ss_cfg_long("SESSHU_TOKEN_TTL_S", 600, 60, 3600, &tok_cfg.token_ttl_s) != 0 ||
        ss_cfg_long("SESSHU_TOKEN_SECRET_GRACE_S", 86400, 0, 30L * 86400, &tok_cfg.grace_s) != 0 ||
        ss_cfg_long("SESSHU_TOKEN_VACCINEE_TTL_S", 600, 60, 3600, &tok_cfg.vaccinee_ttl_s) != 0 ||
        ss_cfg_long("SESSHU_TOKEN_CLIENT_CACHE_MS", 1000, 0, 1000, &tok_cfg.client_cache_ms) != 0)
        return SS_ERR_VALIDATION;
    if (signing_probe() != 0)
        return SS_ERR_INTERNAL;
    return tok_usage_start(db);
}

const ss_service tok_service = {
    .name = "token",
    .env_name = "TOKEN",
    .schema = "token",
    .default_port = SS_PORT_TOKEN,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = routes,
    .init = tok_init,
    .shutdown = tok_usage_stop,
    .command = NULL,
};
