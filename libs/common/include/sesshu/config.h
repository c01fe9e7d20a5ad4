/* config.h - configuration from the environment.
 *
 * Every knob is an environment variable named SESSHU_*, with a compiled
 * default. Numbers are parsed strictly and range-checked; a bad value makes
 * ss_cfg_* return an error and the caller (main) exits with one clear line.
 * Secrets: ss_cfg_secret() reads NAME, or the file named by NAME_FILE. */
#ifndef SESSHU_CONFIG_H
#define SESSHU_CONFIG_H

#include <stdbool.h>

/* Common variables (each service adds its own). */
#define SS_ENV_BIND     "SESSHU_BIND"    /* default 127.0.0.1 */
#define SS_ENV_PORT_FMT "SESSHU_%s_PORT" /* e.g. SESSHU_ACCOUNT_PORT */
#define SS_ENV_THREADS                                                                       \
    "SESSHU_HTTP_THREADS" /* MHD thread pool, default 32 (handlers wait for their access-log \
                             commit) */
#define SS_ENV_MAX_CONN           "SESSHU_HTTP_MAX_CONNECTIONS" /* default 4096 */
#define SS_ENV_CONN_TIMEOUT       "SESSHU_HTTP_TIMEOUT_S" /* idle keep-alive timeout, default 30 */
#define SS_ENV_MAX_BODY           "SESSHU_MAX_BODY_BYTES" /* default 1048576 */
#define SS_ENV_LOG_LEVEL          "SESSHU_LOG_LEVEL" /* error|warning|info|debug, default info */
#define SS_ENV_DB_HOST            "SESSHU_DB_HOST"   /* default 127.0.0.1; "a,b" lists servers */
#define SS_ENV_DB_PORT            "SESSHU_DB_PORT"   /* default 5433; "5432,5433" one per host */
#define SS_ENV_DB_TARGET          "SESSHU_DB_TARGET_SESSION_ATTRS"      /* default read-write */
#define SS_ENV_DB_READ_TARGET     "SESSHU_DB_READ_TARGET_SESSION_ATTRS" /* prefer-standby */
#define SS_ENV_DB_NAME            "SESSHU_DB_NAME"                      /* default sesshu */
#define SS_ENV_DB_USER_FMT        "SESSHU_%s_DB_USER"           /* default sesshu_<service> */
#define SS_ENV_DB_PASSWORD_FMT    "SESSHU_%s_DB_PASSWORD"       /* or ..._FILE */
#define SS_ENV_DB_POOL            "SESSHU_DB_POOL"              /* default 4 */
#define SS_ENV_AUDIT_DB_USER      "SESSHU_AUDIT_WRITER_DB_USER" /* default: the service's own user */
#define SS_ENV_JWT_KEY            "SESSHU_JWT_SIGNING_KEY_FILE" /* PEM EC P-256 private key (issuers) */
#define SS_ENV_JWT_PUBDIR         "SESSHU_JWT_PUBLIC_KEY_DIR" /* dir of *.pem public keys (all) */
#define SS_ENV_JWT_ISSUER         "SESSHU_JWT_ISSUER"         /* default http://localhost:8080 */
#define SS_ENV_MIGRATIONS         "SESSHU_MIGRATIONS_DIR"     /* default: compiled source path */
#define SS_ENV_REVOCATION_POLL_MS "SESSHU_REVOCATION_POLL_MS" /* default 1000 */
#define SS_ENV_GROUP_LANES \
    "SESSHU_GROUP_LANES" /* group commit's lanes, default half of SESSHU_DB_POOL */

/* Value of NAME or def. Never NULL when def is not NULL. Static storage. */
const char *ss_cfg_str(const char *name, const char *def);
/* Strict integer in [min,max]; unset -> def. Returns 0 or SS_ERR_VALIDATION
 * (after logging "NAME must be an integer in [min,max]"). */
int ss_cfg_long(const char *name, long def, long min, long max, long *out);
/* Boolean: 1/0/true/false/yes/no. */
int ss_cfg_bool(const char *name, bool def, bool *out);
/* Secret from NAME or from the file named by NAME_FILE (trailing newline
 * stripped). Returns a malloc'd string the caller frees, or NULL if unset
 * or unreadable. Never logged. */
char *ss_cfg_secret(const char *name);

#endif
