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
#include "sesshu/crypto.h"
#include "sesshu/err.h"

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
    return ss_db_query(
        db,
        "WITH s AS (INSERT INTO account.login_locks AS l (user_id, source, failed_count, "
        "locked_until) VALUES ($1::uuid, $4, CASE WHEN $2::int <= 1 THEN 0 ELSE 1 END, CASE WHEN "
        "$2::int <= 1 THEN now() + make_interval(mins => $3::int) END) ON CONFLICT (user_id, "
        "source) DO UPDATE SET failed_count = CASE WHEN l.locked_until > now() THEN "
        "l.failed_count WHEN l.failed_count + 1 >= $2::int THEN 0 ELSE l.failed_count + 1 END, "
        "locked_until = CASE WHEN l.locked_until > now() THEN l.locked_until WHEN "
        "l.failed_count + 1 >= $2::int THEN now() + make_interval(mins => $3::int) ELSE "
        "l.locked_until END, updated_at = now()) "
        "UPDATE account.users SET failed_count = CASE WHEN failed_count + 1 >= $5::int THEN 0 "
        "ELSE failed_count + 1 END, locked_until = CASE WHEN failed_count + 1 >= $5::int THEN "
        "now() + make_interval(mins => $3::int) ELSE locked_until END WHERE id = $1::uuid AND "
        "(locked_until IS NULL OR locked_until <= now())",
        5, params, NULL);
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
    rc = ss_db_exec(c,
                    "WITH s AS (DELETE FROM account.login_locks WHERE user_id = $1::uuid AND "
                    "source = $2 AND (locked_until IS NULL OR locked_until <= now())) "
                    "UPDATE account.users SET failed_count = 0, locked_until = NULL, "
                    "last_login_at = now(), warned_at = NULL WHERE id = $1::uuid "
                    "AND (locked_until IS NULL OR locked_until <= now()) AND NOT EXISTS (SELECT "
                    "1 FROM account.login_locks l WHERE l.user_id = $1::uuid AND l.source = $2 "
                    "AND l.locked_until > now()) RETURNING id",
                    2, params, &res);
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
    rc = ss_db_query(ss_server_db(),
                     "SELECT u.id, u.pw_hash, u.status, o.status, "
                     "(u.pw_temporary AND u.pw_expires_at <= now()), "
                     "(u.locked_until IS NOT NULL AND u.locked_until > now()) OR EXISTS (SELECT 1 "
                     "FROM account.login_locks l WHERE l.user_id = u.id AND l.source = $2 AND "
                     "l.locked_until > now()) "
                     "FROM account.users u JOIN account.organizations o ON o.id = u.org_id "
                     "WHERE lower(u.login_id) = lower($1)",
                     2, params, &res);
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
