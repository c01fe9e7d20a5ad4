/* service.c - the account service (H-1): its routes, its init hook (config,
 * the first 国保中央会 admin, the mail sender and the daily inactivity
 * timer), its shutdown hook and the `suspend-inactive` subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/log.h"
#include "sesshu/server.h"

#ifndef SS_MIGRATIONS_DIR
#define SS_MIGRATIONS_DIR "services/account/migrations"
#endif

#define ADMIN_LOGIN  "chuokai-admin"
#define CHUOKAI_CODE "CHUOKAI"

#define Q SS_ROUTE_LOGIN_QUEUE /* routes that hash passwords */
#define T SS_ROUTE_TEMP_PW_OK

static const ss_route routes[] = {
    {"POST", "/api/v1/auth/login", acct_h_login, SS_PERM_PUBLIC, Q, "session"},
    {"POST", "/api/v1/auth/refresh", acct_h_refresh, SS_PERM_PUBLIC, 0, "session"},
    {"POST", "/api/v1/auth/logout", acct_h_logout, SS_PERM_AUTHENTICATED, T, "session"},
    {"POST", "/api/v1/auth/password", acct_h_password, SS_PERM_AUTHENTICATED, T | Q, "user"},
    {"POST", "/api/v1/auth/password-reset", acct_h_reset, SS_PERM_PUBLIC, Q, "user"},
    {"POST", "/api/v1/auth/password-reset/confirm", acct_h_reset_confirm, SS_PERM_PUBLIC, Q,
     "user"},
    {"POST", "/api/v1/auth/user-id-reminder", acct_h_reminder, SS_PERM_PUBLIC, 0, "user"},
    {"GET", "/api/v1/me", acct_h_me_get, SS_PERM_AUTHENTICATED, T, "user"},
    {"PATCH", "/api/v1/me", acct_h_me_patch, SS_PERM_PROFILE, Q, "user"},
    {"POST", "/api/v1/me/email-confirmation", acct_h_email_confirm, SS_PERM_PUBLIC, 0, "user"},
    {"POST", "/api/v1/organizations", acct_h_org_create, SS_PERM_ORGS_CREATE, Q, "organization"},
    {"GET", "/api/v1/organizations", acct_h_org_list, SS_PERM_AUTHENTICATED, 0, "organization"},
    {"GET", "/api/v1/organizations/:id", acct_h_org_get, SS_PERM_AUTHENTICATED, 0, "organization"},
    {"PATCH", "/api/v1/organizations/:id", acct_h_org_patch, SS_PERM_ORGS_CREATE, 0,
     "organization"},
    {"POST", "/api/v1/users", acct_h_user_create, SS_PERM_USERS_MANAGE, Q, "user"},
    {"GET", "/api/v1/users", acct_h_user_list, SS_PERM_USERS_MANAGE, 0, "user"},
    {"GET", "/api/v1/users/:id", acct_h_user_get, SS_PERM_USERS_MANAGE, 0, "user"},
    {"PATCH", "/api/v1/users/:id", acct_h_user_patch, SS_PERM_USERS_MANAGE, 0, "user"},
    {"POST", "/api/v1/users/:id/password-reset", acct_h_user_reset, SS_PERM_USERS_MANAGE, Q,
     "user"},
    {"GET", "/.well-known/jwks.json", acct_h_jwks, SS_PERM_PUBLIC, 0, "jwks"},
    {NULL, NULL, NULL, 0, 0, NULL},
};

#undef Q
#undef T

/* The 国保中央会 organisation, and whether its first admin exists; org_id
 * receives the organisation's id. */
static int seed_org(ss_db *db, char org_id[40], bool *admin_exists)
{
    PGresult *res = NULL;
    int rc;

    rc = ss_db_query(db, sql_acct_seed_chuokai_org, 0, NULL, NULL);
    if (rc == 0)
        rc = ss_db_query(db, sql_acct_seed_chuokai_state, 0, NULL, &res);
    if (rc != 0)
        return rc;
    rc = PQntuples(res) == 1 ? 0 : SS_ERR_INTERNAL;
    if (rc == 0) {
        snprintf(org_id, 40, "%s", PQgetvalue(res, 0, 0));
        *admin_exists = PQgetvalue(res, 0, 1)[0] == 't';
    }
    PQclear(res);
    return rc;
}

/* Insert the admin unless a concurrent start did; *inserted says which. */
static int seed_user(ss_db *db, const char *org_id, const char *phc, bool temporary, bool *inserted)
{
    char ttl[24];
    const char *params[] = {org_id, ss_cfg_str("SESSHU_ADMIN_EMAIL", "chuokai-admin@sesshu.local"),
                            phc, temporary ? "true" : "false",
                            acct_num(ttl, acct_cfg.temp_pw_ttl_h)};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_query(db, sql_acct_seed_admin, 5, params, &res);
    if (rc != 0)
        return rc;
    *inserted = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    PQclear(res);
    return 0;
}

/* The 国保中央会 organisation and its first admin `chuokai-admin`, once. The
 * password comes from SESSHU_ADMIN_PASSWORD (then it is not temporary) or
 * is generated, temporary, and printed once on stdout. */
static int seed_admin(ss_db *db)
{
    char gen[ACCT_TEMP_PW_LEN + 1] = "", org_id[40];
    char *secret = NULL, *phc = NULL;
    const char *weak;
    bool exists = false, inserted = false;
    int rc;

    if ((rc = seed_org(db, org_id, &exists)) != 0 || exists)
        return rc;
    secret = ss_cfg_secret("SESSHU_ADMIN_PASSWORD");
    if (secret != NULL && (weak = acct_pw_weak(ADMIN_LOGIN, secret)) != NULL) {
        SS_ERROR("SESSHU_ADMIN_PASSWORD does not meet the password policy (%s)", weak);
        rc = SS_ERR_VALIDATION;
        goto out;
    }
    if ((secret == NULL && (rc = ss_pw_generate(gen, ACCT_TEMP_PW_LEN)) != 0) ||
        (rc = ss_pw_hash(secret ? secret : gen, &phc)) != 0 ||
        (rc = seed_user(db, org_id, phc, secret == NULL, &inserted)) != 0)
        goto out;
    if (inserted && secret == NULL) {
        printf("%s: created %s with the temporary password %s (shown once; it expires in %ld h)\n",
               acct_service.name, ADMIN_LOGIN, gen, acct_cfg.temp_pw_ttl_h);
        fflush(stdout);
    }
out:
    explicit_bzero(gen, sizeof(gen));
    if (secret != NULL)
        explicit_bzero(secret, strlen(secret));
    free(secret);
    free(phc);
    return rc;
}

/* Refuse to start without a key to sign session tokens with. */
static int signing_probe(void)
{
    json_t *claims = json_pack("{s:s}", "probe", "account");
    char *tok = NULL;
    int rc = claims ? ss_jwt_sign(claims, &tok) : SS_ERR_NOMEM;

    json_decref(claims);
    free(tok);
    if (rc != 0)
        SS_ERROR("cannot sign tokens: %s must name an EC P-256 private key", SS_ENV_JWT_KEY);
    return rc;
}

static int acct_init(ss_db *db)
{
    int rc;

    if ((rc = acct_config_load()) != 0 || (rc = signing_probe()) != 0 || (rc = seed_admin(db)) != 0)
        return rc;
    if ((rc = acct_mail_start(db)) != 0 || (rc = acct_timer_start(db)) != 0)
        return rc;
    return 0;
}

static void acct_shutdown(void)
{
    acct_timer_stop();
    acct_mail_stop();
}

static int acct_command(ss_db *db, int argc, char **argv)
{
    long suspended = 0, warned = 0;
    int sent = 0, rc;

    if (argc < 2 || strcmp(argv[1], "suspend-inactive") != 0)
        return -1;
    /* This process does the job once, then sends its mail itself. */
    acct_timer_stop();
    acct_mail_stop();
    if ((rc = acct_suspend_run(db, &suspended, &warned)) != 0) {
        SS_ERROR("suspend-inactive: %s", ss_err_title(rc));
        return 1;
    }
    if ((rc = acct_housekeep(db)) != 0)
        SS_WARN("suspend-inactive: housekeeping failed: %s", ss_err_title(rc));
    if ((rc = acct_mail_flush(db, &sent)) != 0)
        SS_WARN("suspend-inactive: mail not sent: %s", ss_err_title(rc));
    printf("suspended %ld\nwarned %ld\nmails_sent %d\n", suspended, warned, sent);
    fflush(stdout);
    return 0;
}

const ss_service acct_service = {
    .name = "account",
    .env_name = "ACCOUNT",
    .schema = "account",
    .default_port = SS_PORT_ACCOUNT,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = routes,
    .init = acct_init,
    .shutdown = acct_shutdown,
    .command = acct_command,
};
