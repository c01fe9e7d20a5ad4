/* auth_password.c - the password lifecycle a user drives (H-1-5, H-1-6, H-1-7):
 * change (also of a temporary password), self-service reset by a mailed
 * single-use token, and the user-ID reminder.
 *
 * The reset request and the reminder answer 202 whatever the input: each is
 * a single statement that queues mail only when an account matches, and the
 * mail goes out later from the outbox, so neither the answer nor its timing
 * tells whether an account or an address exists. A user or address gets at
 * most one such mail a minute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

#define RESET_BYTES 32

static const ss_field change_fields[] = {
    {"current_password", SS_F_STRING, true, 1, 1024, NULL, false},
    {"new_password", SS_F_STRING, true, 1, 1024, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Store the new password, end every session, open a new one; one transaction. */
static int change_commit(ss_req *r, const char *uid, const char *phc)
{
    ss_dbc *c = NULL;
    PGresult *revoked = NULL;
    json_t *tok = NULL;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = acct_pw_store(c, uid, phc, false, NULL)) != 0 ||
        (rc = acct_revoke(c, ACCT_REV_USER, uid, &revoked)) != 0 ||
        (rc = acct_session_issue(c, uid, NULL, &tok)) != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    acct_revoke_apply(revoked);
    revoked = NULL;
    rc = ss_reply_json_new(r, 200, tok);
    tok = NULL;
out:
    json_decref(tok);
    PQclear(revoked);
    ss_db_release(c);
    return rc;
}

int acct_reauth(ss_req *r, const char *field, const char *password, char login_id[80])
{
    const char *params[] = {r->who.sub, acct_login_source(r)};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_query(ss_server_db(), sql_acct_reauth_user, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return SS_ERR_UNAUTHORIZED;
    }
    /* A locked account takes no guesses here either, and the right password does not lift the
     * lock: it passes only when the lock has. */
    if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
        ss_pw_dummy_verify(password);
        rc = ss_req_fail(r, SS_ERR_RATE_LIMITED,
                         "the account is locked after repeated failures; try again later");
    } else if ((rc = ss_pw_verify(PQgetvalue(res, 0, 0), password)) == SS_ERR_UNAUTHORIZED) {
        /* Guesses through a stolen session count towards the lock like logins. */
        rc = acct_login_failed(ss_server_db(), r->who.sub, acct_login_source(r));
        rc = rc != 0 ? rc : ss_req_field_error(r, field, "incorrect");
    }
    if (rc == 0 && login_id != NULL)
        snprintf(login_id, 80, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return rc;
}

int acct_h_password(ss_req *r)
{
    const char *uid = r->who.sub;
    const char *next;
    char login_id[80];
    char *phc = NULL;
    int rc;

    if (r->who.kind != SS_PRINCIPAL_USER)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a user has a password");
    if ((rc = ss_body_check(r, change_fields)) != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", uid);
    next = ss_json_str(r->body, "new_password");
    if ((rc = acct_reauth(r, "current_password", ss_json_str(r->body, "current_password"),
                          login_id)) != 0 ||
        (rc = acct_pw_policy(r, "new_password", login_id, next, uid)) != 0 ||
        (rc = ss_pw_hash(next, &phc)) != 0)
        goto out;
    rc = change_commit(r, uid, phc);
out:
    free(phc);
    return rc;
}

static const ss_field reset_fields[] = {
    {"user_id", SS_F_STRING, true, 1, 128, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

int acct_h_reset(ss_req *r)
{
    char token[64], hash[65], ttl[24], body[1024];
    const char *params[5];
    int rc;

    if ((rc = ss_body_check(r, reset_fields)) != 0)
        return rc;
    if ((rc = ss_random_token(token, sizeof(token), RESET_BYTES)) != 0)
        return rc;
    ss_sha256_hex(token, strlen(token), hash);
    snprintf(
        body, sizeof(body),
        "パスワード再設定の依頼を受け付けました。\n\n"
        "次のリンクを開き、新しいパスワードを設定してください（%ld 分間、1 回だけ有効です）。\n"
        "%s%s\n\n"
        "再設定トークン: %s\n\n"
        "この依頼に心当たりがない場合は、このメールを破棄してください。パスワードは変更されません。"
        "\n",
        acct_cfg.reset_ttl_min,
        ss_cfg_str("SESSHU_RESET_URL", "http://localhost:8080/reset-password#token="), token,
        token);
    params[0] = ss_json_str(r->body, "user_id");
    params[1] = hash;
    params[2] = acct_num(ttl, acct_cfg.reset_ttl_min);
    params[3] = "【接種事務システム】パスワード再設定のご案内";
    params[4] = body;
    rc = ss_db_query(ss_server_db(), sql_acct_reset_token_issue, 5, params, NULL);
    explicit_bzero(token, sizeof(token));
    explicit_bzero(body, sizeof(body));
    if (rc != 0)
        return rc;
    acct_mail_kick();
    return ss_reply_json_new(r, 202, json_pack("{s:s}", "status", "accepted"));
}

static const ss_field confirm_fields[] = {
    {"token", SS_F_STRING, true, 1, 200, NULL, false},
    {"new_password", SS_F_STRING, true, 1, 1024, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

#define BAD_TOKEN "the reset token is invalid, expired or already used"

/* Consume the token (winning any race), store the password (which ends every other
 * outstanding token of the user) and end every session. */
static int confirm_commit(ss_req *r, const char *hash, const char *phc)
{
    const char *params[] = {hash};
    ss_dbc *c = NULL;
    PGresult *res = NULL, *revoked = NULL;
    char uid[40];
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 ||
        (rc = ss_db_exec(c, sql_acct_reset_token_use, 1, params, &res)) != 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_BAD_REQUEST, BAD_TOKEN);
        goto out;
    }
    snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
    params[0] = uid;
    if ((rc = acct_pw_store(c, uid, phc, false, NULL)) != 0 ||
        (rc = acct_revoke(c, ACCT_REV_USER, uid, &revoked)) != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    acct_revoke_apply(revoked);
    revoked = NULL;
    rc = ss_reply_empty(r, 204);
out:
    PQclear(res);
    PQclear(revoked);
    ss_db_release(c);
    return rc;
}

int acct_h_reset_confirm(ss_req *r)
{
    const char *pw, *params[1];
    char hash[65];
    PGresult *res = NULL;
    char *phc = NULL;
    int rc;

    if ((rc = ss_body_check(r, confirm_fields)) != 0)
        return rc;
    pw = ss_json_str(r->body, "new_password");
    ss_sha256_hex(ss_json_str(r->body, "token"), strlen(ss_json_str(r->body, "token")), hash);
    params[0] = hash;
    rc = ss_db_query(ss_server_db(), sql_acct_reset_token_peek, 1, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        ss_pw_dummy_verify(pw); /* same work as a real reset, up to the hash */
        rc = ss_req_fail(r, SS_ERR_BAD_REQUEST, BAD_TOKEN);
        goto out;
    }
    snprintf(r->res_id, sizeof(r->res_id), "%s", PQgetvalue(res, 0, 0));
    if ((rc = acct_pw_policy(r, "new_password", PQgetvalue(res, 0, 1), pw,
                             PQgetvalue(res, 0, 0))) != 0 ||
        (rc = ss_pw_hash(pw, &phc)) != 0)
        goto out;
    rc = confirm_commit(r, hash, phc);
out:
    free(phc);
    PQclear(res);
    return rc;
}

static const ss_field reminder_fields[] = {
    {"email", SS_F_EMAIL, true, 3, 254, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

int acct_h_reminder(ss_req *r)
{
    const char *params[3];
    int rc;

    if ((rc = ss_body_check(r, reminder_fields)) != 0)
        return rc;
    params[0] = ss_json_str(r->body, "email");
    params[1] = "【接種事務システム】ユーザIDのお知らせ";
    params[2] = "このメールアドレスで登録されているユーザIDは次のとおりです。\n\n";
    /* Suspended users are told their ID too: they need it to ask for re-enabling. */
    rc = ss_db_query(ss_server_db(), sql_acct_reminder_outbox, 3, params, NULL);
    if (rc != 0)
        return rc;
    acct_mail_kick();
    return ss_reply_json_new(r, 202, json_pack("{s:s}", "status", "accepted"));
}
