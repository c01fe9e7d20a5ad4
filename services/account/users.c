/* users.c - users of an organisation (H-1-2, H-1-4): create with a temporary
 * password, list, read, change (profile, role, disable, re-enable) and an
 * admin-issued password reset.
 *
 * An organisation admin acts on its own organisation's users only; another
 * organisation's user is "not found". A 国保中央会 admin (the holder of
 * organizations.create) may also act on the admin users of any
 * organisation, to rescue an organisation whose only admin is locked out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const role_values[] = {"admin", "user", NULL};
static const char *const status_set_values[] = {"active", "disabled", NULL};
static const char *const status_values[] = {"active", "suspended", "disabled", NULL};

static const ss_field new_user_fields[] = {
    {"user_id", SS_F_STRING, true, 3, 64, NULL, false},
    {"name", SS_F_STRING, true, 1, 100, NULL, false},
    {"name_kana", SS_F_STRING, true, 1, 100, NULL, false},
    {"email", SS_F_EMAIL, true, 3, 254, NULL, false},
    {"role", SS_F_ENUM, true, 0, 0, role_values, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Prefix the field names of the errors recorded from index `from` on. */
static void prefix_errors(ss_req *r, size_t from, const char *prefix)
{
    size_t i;
    json_t *e;
    char name[300];

    if (prefix == NULL || prefix[0] == '\0' || r->errors == NULL)
        return;
    json_array_foreach (r->errors, i, e) {
        const char *f = ss_json_str(e, "field");
        if (i < from || f == NULL)
            continue;
        snprintf(name, sizeof(name), "%s%s", prefix, f);
        json_object_set_new(e, "field", json_string(name));
    }
}

int acct_user_fields_check(ss_req *r, const json_t *obj, bool with_role, const char *prefix)
{
    /* Without the role: the same table ending before it. */
    static const ss_field no_role[] = {
        {"user_id", SS_F_STRING, true, 3, 64, NULL, false},
        {"name", SS_F_STRING, true, 1, 100, NULL, false},
        {"name_kana", SS_F_STRING, true, 1, 100, NULL, false},
        {"email", SS_F_EMAIL, true, 3, 254, NULL, false},
        {NULL, 0, false, 0, 0, NULL, false},
    };
    size_t from = r->errors ? json_array_size(r->errors) : 0;
    const char *login;
    int rc;

    if (!json_is_object(obj))
        return SS_ERR_VALIDATION; /* the caller's own field table recorded why */
    rc = ss_json_check(r, obj, with_role ? new_user_fields : no_role);
    login = ss_json_str(obj, "user_id");
    /* Content checks only on well-typed members, so one field gets one error. */
    if (rc == 0 && !acct_login_id_ok(login))
        rc = ss_req_field_error(r, "user_id", "must be 3 to 64 of A-Z a-z 0-9 . _ @ -");
    if (rc == 0 && acct_kana_field(r, obj, "name_kana") != 0)
        rc = SS_ERR_VALIDATION;
    prefix_errors(r, from, prefix);
    return rc;
}

/* A login ID is unique whatever its case (users_login_id_key on lower(login_id)). */
static const ss_sql_constraint acct_user_constraints[] = {
    {"users_login_id_key", SS_ERR_CONFLICT, NULL, "the user ID is already in use"},
    {NULL, 0, NULL, NULL},
};

int acct_user_insert(ss_req *r, ss_dbc *c, const char *org_id, const json_t *obj, const char *role,
                     const char *phc, json_t **user_out)
{
    char ttl[24];
    const char *params[] = {ss_json_str(obj, "user_id"),
                            org_id,
                            ss_json_str(obj, "name"),
                            ss_json_str(obj, "name_kana"),
                            ss_json_str(obj, "email"),
                            role,
                            phc,
                            acct_num(ttl, acct_cfg.temp_pw_ttl_h)};
    PGresult *res = NULL;
    int rc;

    *user_out = NULL;
    rc = ss_db_exec(c, sql_acct_user_insert, 8, params, &res);
    if (rc != 0)
        return ss_sql_constraint_error(r, c, rc, acct_user_constraints);
    *user_out = acct_json_col(res, 0, 0);
    PQclear(res);
    return *user_out ? 0 : SS_ERR_NOMEM;
}

int acct_h_user_create(ss_req *r)
{
    char pw[ACCT_TEMP_PW_LEN + 1];
    char *phc = NULL;
    ss_dbc *c = NULL;
    json_t *user = NULL;
    int rc;

    if (r->body == NULL)
        return ss_body_check(r, new_user_fields);
    if ((rc = acct_user_fields_check(r, r->body, true, NULL)) != 0)
        return rc;
    if ((rc = acct_temp_password(pw, &phc)) != 0 || (rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        goto out;
    rc = acct_user_insert(r, c, r->who.org_id, r->body, ss_json_str(r->body, "role"), phc, &user);
    if (rc != 0)
        goto out;
    snprintf(r->res_id, sizeof(r->res_id), "%s", ss_json_str(user, "id"));
    rc = ss_reply_json_new(r, 201, json_pack("{s:O,s:s}", "user", user, "temporary_password", pw));
out:
    explicit_bzero(pw, sizeof(pw));
    json_decref(user);
    ss_db_release(c);
    free(phc);
    return rc;
}

/* The user named by :id if the caller may manage it; its organisation and
 * role in org/role. Records the resource for the access log. */
static int target_load(ss_req *r, char org[40], char role[8])
{
    const char *id = ss_req_param(r, "id");
    const char *params[] = {id};
    PGresult *res = NULL;
    int rc;

    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such user");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rc = ss_db_query(ss_server_db(), sql_acct_user_org_role, 1, params, &res);
    if (rc != 0)
        return rc;
    rc = PQntuples(res) == 1 ? 0 : SS_ERR_NOT_FOUND;
    if (rc == 0) {
        snprintf(org, 40, "%s", PQgetvalue(res, 0, 0));
        snprintf(role, 8, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    if (rc != 0)
        return ss_req_fail(r, rc, "no such user");
    if (ss_authz_same_org(&r->who, org) == 0)
        return 0;
    if (strcmp(role, "admin") != 0 || !ss_authz_has(&r->who, SS_PERM_ORGS_CREATE))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such user");
    snprintf(r->subject_org_id, sizeof(r->subject_org_id), "%s", org);
    return 0;
}

int acct_h_user_get(ss_req *r)
{
    char org[40], role[8];
    const char *params[1];
    PGresult *res = NULL;
    int rc;

    if ((rc = target_load(r, org, role)) != 0)
        return rc;
    params[0] = r->res_id;
    rc = ss_db_query(ss_server_db(), sql_acct_user_get, 1, params, &res);
    if (rc != 0)
        return rc;
    rc = PQntuples(res) == 1 ? ss_reply_json_new(r, 200, acct_json_col(res, 0, 0))
                             : SS_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}

static bool in_list(const char *s, const char *const *values)
{
    for (; *values != NULL; values++)
        if (strcmp(*values, s) == 0)
            return true;
    return false;
}

/* Filters of GET /users; *org is the organisation to list. */
static int list_filters(ss_req *r, const char **status, const char **role, const char **org)
{
    const char *o = ss_req_query(r, "organization_id");
    int rc = 0;

    *status = ss_req_query(r, "status");
    *role = ss_req_query(r, "role");
    *org = r->who.org_id;
    if (*status != NULL && !in_list(*status, status_values))
        rc = ss_req_field_error(r, "status", "is not one of the allowed values");
    if (*role != NULL && !in_list(*role, role_values))
        rc = ss_req_field_error(r, "role", "is not one of the allowed values");
    if (o == NULL || rc != 0 || ss_authz_same_org(&r->who, o) == 0)
        return rc;
    /* Another organisation: only its admins, and only for the 国保中央会 admin. */
    if (!ss_uuid_ok(o) || !ss_authz_has(&r->who, SS_PERM_ORGS_CREATE))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such organization");
    if (*role != NULL && strcmp(*role, "admin") != 0)
        return ss_req_field_error(r, "role", "only admin users of another organization are listed");
    *role = "admin";
    *org = o;
    snprintf(r->subject_org_id, sizeof(r->subject_org_id), "%s", o);
    return 0;
}

int acct_h_user_list(ss_req *r)
{
    const char *status, *role, *org;
    char ts[64], id[40], lim[24];
    const char *params[6];
    PGresult *res = NULL;
    int limit, rc;

    if ((rc = list_filters(r, &status, &role, &org)) != 0 ||
        (rc = acct_page(r, &limit, ts, id)) != 0)
        return rc;
    params[0] = org;
    params[1] = status;
    params[2] = role;
    params[3] = ts[0] ? ts : NULL;
    params[4] = id[0] ? id : NULL;
    params[5] = acct_num(lim, limit + 1);
    rc = ss_db_query(ss_server_db(), sql_acct_user_list, 6, params, &res);
    if (rc != 0)
        return rc;
    rc = acct_list_reply(r, res, limit);
    PQclear(res);
    return rc;
}

static const ss_field patch_fields[] = {
    {"name", SS_F_STRING, false, 1, 100, NULL, false},
    {"name_kana", SS_F_STRING, false, 1, 100, NULL, false},
    {"email", SS_F_EMAIL, false, 3, 254, NULL, false},
    {"role", SS_F_ENUM, false, 0, 0, role_values, false},
    {"status", SS_F_ENUM, false, 0, 0, status_set_values, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Update the row; "active" also lifts a lock and restarts the inactivity clock. */
static int patch_exec(ss_dbc *c, const char *id, const json_t *b, PGresult **res)
{
    const char *params[] = {id,
                            ss_json_str(b, "name"),
                            ss_json_str(b, "name_kana"),
                            ss_json_str(b, "email"),
                            ss_json_str(b, "role"),
                            ss_json_str(b, "status")};

    int rc;

    /* Re-enabling lifts every source's lock too (before the row is read back below). */
    if (ss_json_str(b, "status") != NULL && strcmp(ss_json_str(b, "status"), "active") == 0 &&
        (rc = ss_db_exec(c, sql_acct_user_unlock, 1, params, NULL)) != 0)
        return rc;
    return ss_db_exec(c, sql_acct_user_update, 6, params, res);
}

int acct_h_user_patch(ss_req *r)
{
    char org[40], role[8];
    const char *new_role, *new_status;
    bool end_sessions;
    ss_dbc *c = NULL;
    PGresult *res = NULL, *revoked = NULL;
    int rc;

    if ((rc = ss_body_check(r, patch_fields)) != 0 ||
        (rc = acct_kana_field(r, r->body, "name_kana")) != 0 ||
        (rc = target_load(r, org, role)) != 0)
        return rc;
    new_role = ss_json_str(r->body, "role");
    new_status = ss_json_str(r->body, "status");
    end_sessions = (new_status && strcmp(new_status, "disabled") == 0) ||
                   (new_role && strcmp(new_role, role) != 0);
    if (strcasecmp(r->res_id, r->who.sub) == 0 && end_sessions)
        return ss_req_fail(r, SS_ERR_CONFLICT,
                           "an administrator cannot disable or demote themselves");
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = patch_exec(c, r->res_id, r->body, &res)) != 0)
        goto out;
    /* Tokens carry the role: a changed role, like disabling, ends the sessions. */
    if (end_sessions && (rc = acct_revoke(c, ACCT_REV_USER, r->res_id, &revoked)) != 0)
        goto out;
    if ((rc = ss_db_commit(c)) != 0)
        goto out;
    acct_revoke_apply(revoked);
    revoked = NULL;
    rc = PQntuples(res) == 1 ? ss_reply_json_new(r, 200, acct_json_col(res, 0, 0))
                             : SS_ERR_NOT_FOUND;
out:
    PQclear(res);
    PQclear(revoked);
    ss_db_release(c);
    return rc;
}

int acct_h_user_reset(ss_req *r)
{
    char org[40], role[8], expires[40] = "";
    char pw[ACCT_TEMP_PW_LEN + 1] = "";
    char *phc = NULL;
    ss_dbc *c = NULL;
    PGresult *revoked = NULL;
    int rc;

    if ((rc = acct_empty_body(r)) != 0 || (rc = target_load(r, org, role)) != 0)
        return rc;
    if ((rc = acct_temp_password(pw, &phc)) != 0 || (rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        goto out;
    if ((rc = ss_db_begin(c)) != 0 || (rc = acct_pw_store(c, r->res_id, phc, true, expires)) != 0 ||
        (rc = acct_revoke(c, ACCT_REV_USER, r->res_id, &revoked)) != 0 ||
        (rc = ss_db_commit(c)) != 0)
        goto out;
    acct_revoke_apply(revoked);
    revoked = NULL;
    rc = ss_reply_json_new(r, 200,
                           json_pack("{s:s,s:s}", "temporary_password", pw, "expires_at", expires));
out:
    explicit_bzero(pw, sizeof(pw));
    PQclear(revoked);
    ss_db_release(c);
    free(phc);
    return rc;
}
