/* auth_login.c - POST /api/v1/auth/login (H-1-9, H-1-7).
 *
 * An unknown user, a wrong password and a locked account get the same 401
 * after the same amount of hashing. Failures are counted per account and source address
 * (SESSHU_LOGIN_MAX_FAILURES locks that source out for SESSHU_LOCK_MINUTES) and over all
 * sources (SESSHU_LOGIN_MAX_FAILURES_ALL locks the account), in one statement, so concurrent
 * guesses cannot overshoot a limit and a stranger cannot lock the owner out.
 * Only a correct password learns that the account or its organisation is
 * suspended or disabled (403), or that a temporary password expired (401). */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

#define BAD_LOGIN "invalid user ID or password"

static const ss_field login_fields[] = {
    {"user_id", SS_F_STRING, true, 1, 128, NULL, false},
    {"password", SS_F_STRING, true, 1, 1024, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

enum { COL_ID, COL_HASH, COL_STATUS, COL_ORG_STATUS, COL_EXPIRED, COL_LOCKED };

const char *acct_login_source(const ss_req *r)
{
    const char *ip = ss_req_client_ip(r);

    return ip != NULL && ip[0] != '\0' ? ip : "unknown";
}

int acct_login_failed(ss_db *db, const char *user_id, const char *source)
{
    char max[24], mins[24], all[24];
    const char *params[] = {user_id, acct_num(max, acct_cfg.login_max_failures),
                            acct_num(mins, acct_cfg.lock_minutes), source,
                            acct_num(all, acct_cfg.login_max_failures_all)};

    /* This source's count, and the count over all sources, in one statement. Reaching a limit
     * locks (that source, or the account) and restarts the count, so the full number of tries
     * comes back once the lock has passed; guesses during a lock count for nothing. */
    return ss_db_query(db, sql_acct_login_lock_failure, 5, params, NULL);
}

/* Correct password: which state keeps the user out, if any. */
static int refuse_state(ss_req *r, const PGresult *res)
{
    if (strcmp(PQgetvalue(res, 0, COL_STATUS), "suspended") == 0)
        return ss_req_fail(
            r, SS_ERR_FORBIDDEN,
            "account suspended: ask an administrator of your organisation to re-enable it");
    if (strcmp(PQgetvalue(res, 0, COL_STATUS), "active") != 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "account disabled");
    if (strcmp(PQgetvalue(res, 0, COL_ORG_STATUS), "active") != 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "organization disabled");
    if (PQgetvalue(res, 0, COL_EXPIRED)[0] == 't')
        return ss_req_fail(r, SS_ERR_UNAUTHORIZED,
                           "temporary password expired: ask an administrator for a new one");
    return 0;
}

/* Record the login and open a session, in one transaction. */
static int login_commit(ss_req *r, const char *uid)
{
    const char *params[] = {uid, acct_login_source(r)};
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    json_t *tok = NULL;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0)
        goto out;
    /* The lock conditions again: a concurrent failure may have locked it since. A success
     * clears this source's count (not another source's lock). */
    rc = ss_db_exec(c, sql_acct_login_success, 2, params, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_UNAUTHORIZED, BAD_LOGIN);
        goto out;
    }
    if ((rc = acct_session_issue(c, uid, NULL, &tok)) != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    rc = ss_reply_json_new(r, 200, tok);
    tok = NULL;
out:
    json_decref(tok);
    PQclear(res);
    ss_db_release(c);
    return rc;
}

int acct_h_login(ss_req *r)
{
    PGresult *res = NULL;
    const char *login, *pw, *uid;
    const char *params[2];
    int rc, vr;

    if ((rc = ss_body_check(r, login_fields)) != 0)
        return rc;
    login = ss_json_str(r->body, "user_id");
    pw = ss_json_str(r->body, "password");
    params[0] = login;
    params[1] = acct_login_source(r);
    rc = ss_db_query(ss_server_db(), sql_acct_login_user, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        ss_pw_dummy_verify(pw);
        rc = ss_req_fail(r, SS_ERR_UNAUTHORIZED, BAD_LOGIN);
        goto out;
    }
    uid = PQgetvalue(res, 0, COL_ID);
    snprintf(r->res_id, sizeof(r->res_id), "%s", uid);
    vr = ss_pw_verify(PQgetvalue(res, 0, COL_HASH), pw);
    if (PQgetvalue(res, 0, COL_LOCKED)[0] == 't') {
        rc = ss_req_fail(r, SS_ERR_UNAUTHORIZED, BAD_LOGIN);
        goto out;
    }
    if (vr == SS_ERR_UNAUTHORIZED) {
        rc = acct_login_failed(ss_server_db(), uid, acct_login_source(r));
        rc = rc != 0 ? rc : ss_req_fail(r, SS_ERR_UNAUTHORIZED, BAD_LOGIN);
        goto out;
    }
    if (vr != 0) {
        rc = vr;
        goto out;
    }
    if ((rc = refuse_state(r, res)) == 0)
        rc = login_commit(r, uid);
out:
    PQclear(res);
    return rc;
}
