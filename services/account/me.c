/* me.c - the caller's own account (H-1-3, H-1-9): GET /me answers the user,
 * the organisation and the menu of functions the role may use (the main
 * menu after login); PATCH /me changes the caller's own profile. */
#include <stdio.h>

#include "acct.h"
#include "sesshu/err.h"

int acct_h_me_get(ss_req *r)
{
    const char *params[] = {r->who.sub};
    PGresult *res = NULL;
    json_t *menu = NULL;
    int rc;

    if (r->who.kind != SS_PRINCIPAL_USER)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a user session has a profile");
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.sub);
    rc = ss_db_query(ss_server_db(),
                     "SELECT " ACCT_USER_JSON ", " ACCT_ORG_JSON " FROM account.users u "
                     "JOIN account.organizations o ON o.id = u.org_id WHERE u.id = $1::uuid",
                     1, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "the account no longer exists");
        goto out;
    }
    if ((menu = ss_authz_menu(&r->who)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    rc = ss_reply_json_new(r, 200,
                           json_pack("{s:o,s:o,s:o,s:b}", "user", acct_json_col(res, 0, 0),
                                     "organization", acct_json_col(res, 0, 1), "menu", menu,
                                     "password_change_required", r->who.pw_change_required));
out:
    PQclear(res);
    return rc;
}

static const ss_field me_fields[] = {
    {"name", SS_F_STRING, false, 1, 100, NULL, false},
    {"name_kana", SS_F_STRING, false, 1, 100, NULL, false},
    {"email", SS_F_EMAIL, false, 3, 254, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

int acct_h_me_patch(ss_req *r)
{
    const char *params[4];
    PGresult *res = NULL;
    int rc;

    if (r->who.kind != SS_PRINCIPAL_USER)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a user session has a profile");
    if ((rc = ss_body_check(r, me_fields)) != 0 ||
        (rc = acct_kana_field(r, r->body, "name_kana")) != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.sub);
    params[0] = r->who.sub;
    params[1] = ss_json_str(r->body, "name");
    params[2] = ss_json_str(r->body, "name_kana");
    params[3] = ss_json_str(r->body, "email");
    rc = ss_db_query(ss_server_db(),
                     "UPDATE account.users u SET name = coalesce($2, u.name), "
                     "name_kana = coalesce($3, u.name_kana), email = coalesce($4, u.email), "
                     "updated_at = now() WHERE u.id = $1::uuid RETURNING " ACCT_USER_JSON,
                     4, params, &res);
    if (rc != 0)
        return rc;
    rc = PQntuples(res) == 1 ? ss_reply_json_new(r, 200, acct_json_col(res, 0, 0))
                             : ss_req_fail(r, SS_ERR_NOT_FOUND, "the account no longer exists");
    PQclear(res);
    return rc;
}
