/* me_email.c - a user changes their own e-mail address (H-1-3), which is where a password
 * reset is sent: so a change needs the current password (acct_reauth, in PATCH /me), takes
 * effect only when the new address confirms it with the single-use token mailed there, and the
 * old address is told at once. A stolen session alone cannot redirect the reset mail.
 *
 * A new request replaces any pending one; a token lives SESSHU_RESET_TTL_MIN minutes, like a
 * reset token; a new password or a confirmed change ends every pending one. */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

#define EMAIL_TOKEN_BYTES 32

int acct_email_change_start(ss_req *r, ss_dbc *c, const char *new_email, json_t **pending_out)
{
    char token[64], hash[65], ttl[24], body[1024];
    const char *params[7];
    PGresult *res = NULL;
    int rc;

    if ((rc = ss_random_token(token, sizeof(token), EMAIL_TOKEN_BYTES)) != 0)
        return rc;
    ss_sha256_hex(token, strlen(token), hash);
    snprintf(
        body, sizeof(body),
        "接種事務システムのメールアドレスをこのアドレスに変更する依頼を受け付けました。\n\n"
        "次のリンクを開いて変更を確定してください（%ld 分間、1 回だけ有効です）。\n"
        "%s%s\n\n"
        "確認トークン: %s\n\n"
        "この依頼に心当たりがない場合は、このメールを破棄してください。アドレスは変更されません。"
        "\n",
        acct_cfg.reset_ttl_min,
        ss_cfg_str("SESSHU_EMAIL_CONFIRM_URL", "http://localhost:8080/confirm-email#token="), token,
        token);
    params[0] = r->who.sub;
    params[1] = hash;
    params[2] = new_email;
    params[3] = acct_num(ttl, acct_cfg.reset_ttl_min);
    params[4] = "【接種事務システム】メールアドレス変更の確認";
    params[5] = body;
    params[6] = "【接種事務システム】メールアドレス変更の依頼がありました\n";
    /* One statement: end the pending requests, record this one, mail the new address, tell the
     * old one (which keeps receiving everything until the change is confirmed). */
    rc = ss_db_exec(c, sql_acct_email_change_start, 7, params, &res);
    explicit_bzero(token, sizeof(token));
    explicit_bzero(body, sizeof(body));
    if (rc == 0 && PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "the account no longer exists");
    if (rc == 0 && pending_out != NULL)
        *pending_out = acct_json_col(res, 0, 0);
    PQclear(res);
    return rc;
}

static const ss_field confirm_fields[] = {
    {"token", SS_F_STRING, true, 1, 200, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

int acct_h_email_confirm(ss_req *r)
{
    const char *params[1];
    char hash[65];
    PGresult *res = NULL;
    int rc;

    if ((rc = ss_body_check(r, confirm_fields)) != 0)
        return rc;
    ss_sha256_hex(ss_json_str(r->body, "token"), strlen(ss_json_str(r->body, "token")), hash);
    params[0] = hash;
    /* Consume the token (winning any race) and set the address, in one statement. */
    rc = ss_db_query(ss_server_db(), sql_acct_email_change_confirm, 1, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 1) {
        snprintf(r->res_id, sizeof(r->res_id), "%s", PQgetvalue(res, 0, 0));
        rc = ss_reply_empty(r, 204);
    } else {
        rc = ss_req_fail(r, SS_ERR_BAD_REQUEST,
                         "the confirmation token is invalid, expired or already used");
    }
    PQclear(res);
    return rc;
}
