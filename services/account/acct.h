/* acct.h - what the account service's files share (prefix acct_).
 *
 * Ownership: functions returning json_t* give a new reference (json_decref);
 * PGresult* out-parameters are the caller's (PQclear); const char* results
 * are borrowed from the argument they were taken from. */
#ifndef ACCT_H
#define ACCT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "acct_sql.h" /* generated from sql/<resource>.sql (cmake/sesshu_sql.cmake) */
#include "sesshu/authz.h"
#include "sesshu/db.h"
#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"

extern const ss_service acct_service;

/* ---- policy.c: configuration and the password policy ----------------- */
typedef struct acct_config {
    long pw_min_length;          /* SESSHU_PW_MIN_LENGTH */
    long pw_history;             /* SESSHU_PW_HISTORY */
    long temp_pw_ttl_h;          /* SESSHU_TEMP_PW_TTL_H */
    long login_max_failures;     /* SESSHU_LOGIN_MAX_FAILURES: per account and source address */
    long login_max_failures_all; /* SESSHU_LOGIN_MAX_FAILURES_ALL: per account, all sources */
    long lock_minutes;           /* SESSHU_LOCK_MINUTES */
    long access_ttl_s;           /* SESSHU_ACCESS_TTL_S */
    long refresh_ttl_s;          /* SESSHU_REFRESH_TTL_S */
    long reset_ttl_min;          /* SESSHU_RESET_TTL_MIN */
    long inactive_days;          /* SESSHU_INACTIVE_DAYS */
    long inactive_warn_days;     /* SESSHU_INACTIVE_WARN_DAYS */
} acct_config;
extern acct_config acct_cfg;

#define ACCT_TEMP_PW_LEN  20
#define ACCT_PW_MAX_CHARS 256 /* longer passwords are refused: bounds the hashing input */

/* Read every knob (0, or SS_ERR_VALIDATION after logging which one is bad). */
int acct_config_load(void);
/* The decimal text of a knob, for SQL parameters; buf of >= 24 bytes. */
const char *acct_num(char *buf, long v);
/* Static policy checks (length, login ID inside). Returns the reason of the
 * first failure ("too-short", "too-long", "contains-user-id") or NULL. */
const char *acct_pw_weak(const char *login_id, const char *pw);
/* Full policy for a new password of user_id (NULL: a new user, no history):
 * static checks and not one of the last N passwords. Records the reasons as
 * field errors on `field`; returns 0, SS_ERR_POLICY, or another error. */
int acct_pw_policy(ss_req *r, const char *field, const char *login_id, const char *pw,
                   const char *user_id);
/* Store a new password hash inside the caller's transaction: temporary ones
 * expire after temp_pw_ttl_h; chosen ones enter the history. Clears the
 * failure count and the lock. expires_out (optional, 40 bytes) receives the
 * temporary password's expiry as ISO 8601, "" for a chosen one. */
int acct_pw_store(ss_dbc *c, const char *user_id, const char *phc, bool temporary,
                  char *expires_out);

/* ---- auth_password.c: re-authentication -------------------------------- */
/* The caller's current password again, before a change that a stolen session must not make
 * (password, e-mail address): a locked account is refused (429) without a guess, a wrong
 * password counts towards the lock and is a field error on `field`. login_id (optional, 80
 * bytes) receives the user's login id. 0 when the password is right. */
int acct_reauth(ss_req *r, const char *field, const char *password, char login_id[80]);

/* ---- me_email.c: changing the caller's e-mail address ------------------- */
/* Inside the caller's transaction: queue the change of the caller's address to new_email (a
 * confirmation mail with a single-use token to the new address, a notice to the old one).
 * pending_out (optional) receives a new reference to {"new_email", "expires_at"}. */
int acct_email_change_start(ss_req *r, ss_dbc *c, const char *new_email, json_t **pending_out);
/* POST /api/v1/me/email-confirmation: the token from the mail sets the new address. */
int acct_h_email_confirm(ss_req *r);

/* ---- util.c: checks and JSON helpers ------------------------------------ */
bool acct_login_id_ok(const char *s); /* 3-64 of [A-Za-z0-9._@-] */
bool acct_kana_ok(const char *s);     /* kana, spaces, digits, latin, a little punctuation */
/* Kana checks for the optional "name_kana" member of obj (field named `field`). */
int acct_kana_field(ss_req *r, const json_t *obj, const char *field);
/* Column (JSON text from json_build_object) parsed: new reference or NULL. */
json_t *acct_json_col(const PGresult *res, int row, int col);
/* ?limit= and ?cursor= for lists ordered by (created_at, id). ts and id
 * receive the cursor's key, or "" when there is none. */
int acct_page(ss_req *r, int *limit, char ts[64], char id[40]);
/* Reply 200 {items, next_cursor} from column 0 (JSON objects with
 * created_at and id) of up to limit+1 rows. */
int acct_list_reply(ss_req *r, const PGresult *res, int limit);
/* A bodyless action (POST .../password-reset): no body, or {}. */
int acct_empty_body(ss_req *r);
/* Generate a temporary password (ACCT_TEMP_PW_LEN+1 bytes) and its hash. */
int acct_temp_password(char *pw, char **phc_out);

/* ---- users.c: shared with orgs.c ---------------------------------------- */
/* Check a new user's members in obj ({user_id,name,name_kana,email} plus
 * role when with_role); field errors are prefixed with `prefix` (e.g.
 * "admin."). 0 or SS_ERR_VALIDATION. */
int acct_user_fields_check(ss_req *r, const json_t *obj, bool with_role, const char *prefix);
/* Insert a user with a temporary password hash into org_id on c. 409 with a
 * detail if the login ID is taken. *user_out: the user object. */
int acct_user_insert(ss_req *r, ss_dbc *c, const char *org_id, const json_t *obj, const char *role,
                     const char *phc, json_t **user_out);

/* ---- auth_login.c ------------------------------------------------------- */
/* Count one failed password for user_id from source: locks that source out at
 * SESSHU_LOGIN_MAX_FAILURES, the account at SESSHU_LOGIN_MAX_FAILURES_ALL. */
int acct_login_failed(ss_db *db, const char *user_id, const char *source);
/* The source a failure is counted for: the client's address (ss_req_client_ip), or "unknown". */
const char *acct_login_source(const ss_req *r);

/* ---- sessions.c --------------------------------------------------------- */
/* Inside the caller's transaction: load the user and organisation (both
 * must be active), create a session (sid NULL) or extend sid, store a new
 * refresh token and sign an access token. *out: the token-pair answer. */
int acct_session_issue(ss_dbc *c, const char *user_id, const char *sid, json_t **out);

enum acct_rev_scope {
    ACCT_REV_SESSION,  /* id: session id */
    ACCT_REV_USER,     /* id: user id, every live session */
    ACCT_REV_ORG,      /* id: organisation id, every live session of its users */
    ACCT_REV_INACTIVE, /* id: "active": sessions of every user whose status is not that */
};
/* Inside the caller's transaction: end sessions and write their revocation
 * rows. *revoked (sid, exp) goes to acct_revoke_apply after the commit. */
int acct_revoke(ss_dbc *c, int scope, const char *id, PGresult **revoked);
/* After the commit: refuse the revoked sessions in this process at once.
 * Takes and clears the result; NULL-safe. */
void acct_revoke_apply(PGresult *revoked);

/* ---- mailout.c ---------------------------------------------------------- */
int acct_mail_start(ss_db *db);
void acct_mail_stop(void); /* idempotent */
void acct_mail_kick(void); /* something was queued: send soon */
/* Send everything due now, in this thread; *sent (optional) counts mails. */
int acct_mail_flush(ss_db *db, int *sent);

/* ---- suspend.c ---------------------------------------------------------- */
/* The H-1-8 job: suspend inactive users, end their sessions, warn those
 * close to it. Counts are optional out-parameters. */
int acct_suspend_run(ss_db *db, long *suspended, long *warned);
/* Delete expired tokens, sessions, revocations and old sent mail. */
int acct_housekeep(ss_db *db);
int acct_timer_start(ss_db *db);
void acct_timer_stop(void); /* idempotent */

/* ---- handlers ----------------------------------------------------------- */
int acct_h_login(ss_req *r);
int acct_h_refresh(ss_req *r);
int acct_h_logout(ss_req *r);
int acct_h_password(ss_req *r);
int acct_h_reset(ss_req *r);
int acct_h_reset_confirm(ss_req *r);
int acct_h_reminder(ss_req *r);
int acct_h_me_get(ss_req *r);
int acct_h_me_patch(ss_req *r);
int acct_h_org_create(ss_req *r);
int acct_h_org_list(ss_req *r);
int acct_h_org_get(ss_req *r);
int acct_h_org_patch(ss_req *r);
int acct_h_user_create(ss_req *r);
int acct_h_user_list(ss_req *r);
int acct_h_user_get(ss_req *r);
int acct_h_user_patch(ss_req *r);
int acct_h_user_reset(ss_req *r);
int acct_h_jwks(ss_req *r);

#endif
