/* sessions.c - sessions, refresh tokens and revocation (H-1-9).
 *
 * A session is one login; its id is the `sid` of every access token issued
 * for it. Refresh tokens are 32 random bytes, stored only as SHA-256 hex,
 * single use: each refresh marks the old one used and stores a new one, and
 * the session's expiry slides to the new token's. Presenting a used token
 * again means it was copied: the whole session is revoked. Ending a session
 * writes authz.revocations (polled by every service) and refuses its tokens
 * in this process at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/log.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define REFRESH_BYTES 32

static const char *const revoke_sql[] = {
    [ACCT_REV_SESSION] = sql_acct_revoke_session,
    [ACCT_REV_USER] = sql_acct_revoke_user,
    [ACCT_REV_ORG] = sql_acct_revoke_org,
    [ACCT_REV_INACTIVE] = sql_acct_revoke_inactive,
};

int acct_revoke(ss_dbc *c, int scope, const char *id, PGresult **revoked)
{
    char ttl[24];
    const char *params[] = {id, acct_num(ttl, acct_cfg.access_ttl_s + 60)};

    *revoked = NULL;
    if (scope < ACCT_REV_SESSION || scope > ACCT_REV_INACTIVE)
        return SS_ERR_INTERNAL;
    return ss_db_exec(c, revoke_sql[scope], 2, params, revoked);
}

void acct_revoke_apply(PGresult *revoked)
{
    if (revoked == NULL)
        return;
    for (int i = 0; i < PQntuples(revoked); i++)
        ss_jwt_revoke_local(PQgetvalue(revoked, i, 0), atoll(PQgetvalue(revoked, i, 1)));
    PQclear(revoked);
}

/* The principal for user_id from its row and organisation; both must be active. */
static int principal_load(ss_dbc *c, const char *user_id, ss_principal *p)
{
    const char *params[] = {user_id};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_acct_principal_load, 1, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return SS_ERR_UNAUTHORIZED;
    }
    memset(p, 0, sizeof(*p));
    p->kind = SS_PRINCIPAL_USER;
    snprintf(p->sub, sizeof(p->sub), "%s", user_id);
    snprintf(p->login_id, sizeof(p->login_id), "%s", PQgetvalue(res, 0, 0));
    snprintf(p->org_id, sizeof(p->org_id), "%s", PQgetvalue(res, 0, 1));
    p->org_type = ss_org_type_parse(PQgetvalue(res, 0, 2));
    snprintf(p->org_code, sizeof(p->org_code), "%s", PQgetvalue(res, 0, 3));
    if (p->org_type == SS_ORG_MUNICIPALITY)
        snprintf(p->muni_code, sizeof(p->muni_code), "%s", PQgetvalue(res, 0, 3));
    snprintf(p->pref_code, sizeof(p->pref_code), "%s", PQgetvalue(res, 0, 4));
    p->role = ss_role_parse(PQgetvalue(res, 0, 5));
    p->pw_change_required = PQgetvalue(res, 0, 6)[0] == 't';
    PQclear(res);
    return 0;
}

/* A new session row, or the existing one's expiry slid forward. */
static int session_row(ss_dbc *c, const char *user_id, const char *sid, char out[37])
{
    char ttl[24];
    const char *params[] = {NULL, user_id, acct_num(ttl, acct_cfg.refresh_ttl_s)};
    PGresult *res = NULL;
    int rc;

    if (sid != NULL) {
        params[0] = sid;
        snprintf(out, 37, "%s", sid);
        rc = ss_db_exec(c, sql_acct_session_extend, 3, params, &res);
        if (rc == 0 && PQntuples(res) != 1)
            rc = SS_ERR_UNAUTHORIZED;
        PQclear(res);
        return rc;
    }
    if ((rc = ss_uuid(out)) != 0)
        return rc;
    params[0] = out;
    return ss_db_exec(c, sql_acct_session_insert, 3, params, NULL);
}

static int refresh_row(ss_dbc *c, const char *sid, char *token, size_t tokensz)
{
    char hash[65], ttl[24];
    const char *params[] = {hash, sid, acct_num(ttl, acct_cfg.refresh_ttl_s)};
    int rc;

    if ((rc = ss_random_token(token, tokensz, REFRESH_BYTES)) != 0)
        return rc;
    ss_sha256_hex(token, strlen(token), hash);
    return ss_db_exec(c, sql_acct_refresh_insert, 3, params, NULL);
}

int acct_session_issue(ss_dbc *c, const char *user_id, const char *sid, json_t **out)
{
    ss_principal p;
    char refresh[64];
    json_t *claims = NULL;
    char *jwt = NULL;
    int rc;

    *out = NULL;
    if ((rc = principal_load(c, user_id, &p)) != 0)
        return rc;
    if ((rc = session_row(c, user_id, sid, p.sid)) != 0 ||
        (rc = refresh_row(c, p.sid, refresh, sizeof(refresh))) != 0)
        return rc;
    p.exp = ss_now_s() + acct_cfg.access_ttl_s;
    claims = ss_jwt_user_claims(&p, acct_cfg.access_ttl_s);
    if (claims == NULL)
        return SS_ERR_NOMEM;
    rc = ss_jwt_sign(claims, &jwt);
    json_decref(claims);
    if (rc != 0)
        return rc;
    *out = json_pack("{s:s,s:s,s:s,s:I,s:b}", "access_token", jwt, "refresh_token", refresh,
                     "token_type", "Bearer", "expires_in", (json_int_t)acct_cfg.access_ttl_s,
                     "password_change_required", p.pw_change_required);
    free(jwt);
    return *out ? 0 : SS_ERR_NOMEM;
}

static const ss_field refresh_fields[] = {
    {"refresh_token", SS_F_STRING, true, 1, 200, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Inside the transaction: consume the token. sid and uid are set when the
 * token is good; a replayed token revokes its session (*revoked). */
static int consume_refresh(ss_dbc *c, const char *hash, char sid[40], char uid[40],
                           PGresult **revoked)
{
    const char *params[] = {hash};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_acct_refresh_consume, 1, params, &res);
    if (rc == 0 && PQntuples(res) == 1) {
        snprintf(sid, 40, "%s", PQgetvalue(res, 0, 0));
        snprintf(uid, 40, "%s", PQgetvalue(res, 0, 1));
        PQclear(res);
        return 0;
    }
    PQclear(res);
    res = NULL;
    if (rc != 0)
        return rc;
    rc = ss_db_exec(c, sql_acct_refresh_reused, 1, params, &res);
    if (rc == 0 && PQntuples(res) == 1) {
        SS_WARN("refresh token replayed; revoking session %s", PQgetvalue(res, 0, 0));
        snprintf(sid, 40, "%s", PQgetvalue(res, 0, 0));
        rc = acct_revoke(c, ACCT_REV_SESSION, sid, revoked);
        sid[0] = '\0';
    }
    PQclear(res);
    return rc != 0 ? rc : SS_ERR_UNAUTHORIZED;
}

int acct_h_refresh(ss_req *r)
{
    ss_dbc *c = NULL;
    PGresult *revoked = NULL;
    json_t *tok = NULL;
    char hash[65], sid[40] = "", uid[40] = "";
    int rc;

    if ((rc = ss_body_check(r, refresh_fields)) != 0)
        return rc;
    ss_sha256_hex(ss_json_str(r->body, "refresh_token"),
                  strlen(ss_json_str(r->body, "refresh_token")), hash);
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0 || (rc = ss_db_begin(c)) != 0)
        goto out;
    rc = consume_refresh(c, hash, sid, uid, &revoked);
    if (rc == SS_ERR_UNAUTHORIZED && revoked != NULL && ss_db_commit(c) == 0) {
        acct_revoke_apply(revoked); /* the replayed session ends even though we answer 401 */
        revoked = NULL;
    }
    if (rc != 0)
        goto out;
    snprintf(r->res_id, sizeof(r->res_id), "%s", sid);
    if ((rc = acct_session_issue(c, uid, sid, &tok)) != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    rc = ss_reply_json_new(r, 200, tok);
    tok = NULL;
out:
    if (rc == SS_ERR_UNAUTHORIZED)
        rc = ss_req_fail(r, rc, "the refresh token is invalid, expired or already used");
    json_decref(tok);
    PQclear(revoked);
    ss_db_release(c);
    return rc;
}

int acct_h_logout(ss_req *r)
{
    ss_dbc *c = NULL;
    PGresult *revoked = NULL;
    int rc;

    if (r->who.kind != SS_PRINCIPAL_USER)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a user session can log out");
    if ((rc = acct_empty_body(r)) != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.sid);
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) == 0 &&
        (rc = acct_revoke(c, ACCT_REV_SESSION, r->who.sid, &revoked)) == 0 &&
        (rc = ss_db_commit(c)) == 0) {
        acct_revoke_apply(revoked);
        revoked = NULL;
        /* The session may already be gone; the token is refused all the same. */
        ss_jwt_revoke_local(r->who.sid, r->who.exp);
        rc = ss_reply_empty(r, 204);
    }
    PQclear(revoked);
    ss_db_release(c);
    return rc;
}
