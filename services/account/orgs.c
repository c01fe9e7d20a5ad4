/* orgs.c - organisations (H-1-1): the 国保中央会 admin creates an
 * organisation together with its first admin, reads and changes them;
 * everyone reads their own organisation, national organisations read all.
 *
 * Codes are checked per type (docs/domain.md §2): municipality 6 digits with
 * the JIS X 0402 check digit; medical institution 10 digits, digit 3 in
 * {1,3,4}, Luhn; non-insurance institution 10 digits, digit 3 = 9 (our
 * pseudo-code range), same Luhn; kokuhoren the prefecture code; others
 * 1-16 of [A-Z0-9-]. The prefecture follows from the code where it can. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const type_values[] = {"chuokai",
                                          "kokuhoren",
                                          "municipality",
                                          "medical_institution",
                                          "non_insurance_medical_institution",
                                          "mhlw",
                                          "operator",
                                          NULL};
static const char *const status_values[] = {"active", "disabled", NULL};

static const ss_field org_fields[] = {
    {"type", SS_F_ENUM, true, 0, 0, type_values, false},
    {"code", SS_F_STRING, true, 1, 16, NULL, false},
    {"name", SS_F_STRING, true, 1, 200, NULL, false},
    {"name_kana", SS_F_STRING, true, 1, 200, NULL, false},
    {"prefecture_code", SS_F_STRING, false, 2, 2, NULL, true},
    {"admin", SS_F_OBJECT, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static bool all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* 10 digits whose last is the Luhn digit of the first nine (weights 2,1,...
 * from the right of the nine). */
static bool luhn10_ok(const char *s)
{
    int sum = 0;

    if (!all_digits(s, 10))
        return false;
    for (int i = 8, w = 2; i >= 0; i--, w = 3 - w) {
        int v = (s[i] - '0') * w;
        sum += v / 10 + v % 10;
    }
    return (10 - sum % 10) % 10 == s[9] - '0';
}

static bool free_code_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool code_ok(int type, const char *code)
{
    switch (type) {
    case SS_ORG_MUNICIPALITY:
        return ss_code_municipality_ok(code) &&
               ss_code_prefecture_ok((char[3]){code[0], code[1], 0});
    case SS_ORG_MEDICAL:
        return ss_code_institution_ok(code) &&
               ss_code_prefecture_ok((char[3]){code[0], code[1], 0});
    case SS_ORG_NONINS_MEDICAL:
        return luhn10_ok(code) && code[2] == '9' &&
               ss_code_prefecture_ok((char[3]){code[0], code[1], 0});
    case SS_ORG_KOKUHOREN: return ss_code_prefecture_ok(code);
    default: return free_code_ok(code);
    }
}

/* Type, code, prefecture and kana of a new organisation; pref receives the
 * prefecture code ("" if none). */
static int org_semantics(ss_req *r, char pref[4])
{
    int type = ss_org_type_parse(ss_json_str(r->body, "type"));
    const char *code = ss_json_str(r->body, "code");
    const char *given = ss_json_str(r->body, "prefecture_code");
    int rc = 0;

    pref[0] = '\0';
    if (type == SS_ORG_CHUOKAI) /* exactly one, made at initialisation */
        return ss_req_field_error(r, "type", "the 国保中央会 organisation cannot be created");
    if (!code_ok(type, code))
        return ss_req_field_error(r, "code", "is not a valid code for this organization type");
    /* A code longer than the token's claim could carry is refused, not cut. */
    if (strlen(code) >= sizeof(((ss_principal *)0)->org_code))
        return ss_req_field_error(r, "code", "is too long");
    if (type == SS_ORG_MUNICIPALITY || type == SS_ORG_MEDICAL || type == SS_ORG_NONINS_MEDICAL ||
        type == SS_ORG_KOKUHOREN)
        snprintf(pref, 4, "%.2s", code);
    if (given != NULL && !ss_code_prefecture_ok(given))
        rc = ss_req_field_error(r, "prefecture_code", "must be a prefecture code 01 to 47");
    else if (given != NULL && pref[0] != '\0' && strcmp(given, pref) != 0)
        rc = ss_req_field_error(r, "prefecture_code", "does not match the code");
    else if (given != NULL)
        snprintf(pref, 4, "%s", given);
    if (acct_kana_field(r, r->body, "name_kana") != 0)
        rc = SS_ERR_VALIDATION;
    return rc;
}

static const ss_sql_constraint acct_org_constraints[] = {
    {"organizations_type_code_key", SS_ERR_CONFLICT, NULL,
     "an organization of this type with this code already exists"},
    {NULL, 0, NULL, NULL},
};

static int org_insert(ss_req *r, ss_dbc *c, const char *pref, json_t **org_out)
{
    const char *params[] = {ss_json_str(r->body, "type"), ss_json_str(r->body, "code"),
                            ss_json_str(r->body, "name"), ss_json_str(r->body, "name_kana"),
                            pref[0] ? pref : NULL};
    PGresult *res = NULL;
    int rc;

    *org_out = NULL;
    rc = ss_db_exec(c, sql_acct_org_insert, 5, params, &res);
    if (rc != 0)
        return ss_sql_constraint_error(r, c, rc, acct_org_constraints);
    *org_out = acct_json_col(res, 0, 0);
    PQclear(res);
    return *org_out ? 0 : SS_ERR_NOMEM;
}

static int org_create_commit(ss_req *r, const char *pref, const char *phc, const char *pw)
{
    ss_dbc *c = NULL;
    json_t *org = NULL, *admin = NULL;
    const char *org_id;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = org_insert(r, c, pref, &org)) != 0)
        goto out;
    org_id = ss_json_str(org, "id");
    snprintf(r->res_id, sizeof(r->res_id), "%s", org_id);
    snprintf(r->subject_org_id, sizeof(r->subject_org_id), "%s", org_id);
    rc = acct_user_insert(r, c, org_id, json_object_get(r->body, "admin"), "admin", phc, &admin);
    if (rc != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    rc = ss_reply_json_new(
        r, 201,
        json_pack("{s:O,s:O,s:s}", "organization", org, "admin", admin, "temporary_password", pw));
out:
    json_decref(org);
    json_decref(admin);
    ss_db_release(c);
    return rc;
}

int acct_h_org_create(ss_req *r)
{
    char pref[4], pw[ACCT_TEMP_PW_LEN + 1] = "";
    const json_t *admin;
    char *phc = NULL;
    int rc;

    if (r->body == NULL)
        return ss_body_check(r, org_fields);
    rc = ss_json_check(r, r->body, org_fields);
    admin = json_object_get(r->body, "admin");
    if (json_is_object(admin) && acct_user_fields_check(r, admin, false, "admin.") != 0)
        rc = SS_ERR_VALIDATION;
    if (rc != 0 || (rc = org_semantics(r, pref)) != 0)
        return rc;
    if ((rc = acct_temp_password(pw, &phc)) == 0)
        rc = org_create_commit(r, pref, phc, pw);
    explicit_bzero(pw, sizeof(pw));
    free(phc);
    return rc;
}

int acct_h_org_list(ss_req *r)
{
    const char *type = ss_req_query(r, "type");
    char ts[64], id[40], lim[24];
    const char *params[5];
    PGresult *res = NULL;
    int limit, rc = 0;

    if (type != NULL && ss_org_type_parse(type) == SS_ORG_NONE)
        rc = ss_req_field_error(r, "type", "is not one of the allowed values");
    if (acct_page(r, &limit, ts, id) != 0 || rc != 0)
        return SS_ERR_VALIDATION;
    params[0] = ss_authz_is_national(&r->who) ? NULL : r->who.org_id;
    params[1] = type;
    params[2] = ts[0] ? ts : NULL;
    params[3] = id[0] ? id : NULL;
    params[4] = acct_num(lim, limit + 1);
    rc = ss_db_query(ss_server_db(), sql_acct_org_list, 5, params, &res);
    if (rc != 0)
        return rc;
    rc = acct_list_reply(r, res, limit);
    PQclear(res);
    return rc;
}

/* :id, if the caller may see it; records it for the access log. */
static int org_target(ss_req *r, const char **id)
{
    *id = ss_req_param(r, "id");
    if (!ss_uuid_ok(*id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such organization");
    snprintf(r->res_id, sizeof(r->res_id), "%s", *id);
    if (ss_authz_same_org(&r->who, *id) == 0)
        return 0;
    if (!ss_authz_is_national(&r->who))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such organization");
    snprintf(r->subject_org_id, sizeof(r->subject_org_id), "%s", *id);
    return 0;
}

int acct_h_org_get(ss_req *r)
{
    const char *params[1];
    PGresult *res = NULL;
    int rc;

    if ((rc = org_target(r, &params[0])) != 0)
        return rc;
    rc = ss_db_query(ss_server_db(), sql_acct_org_get, 1, params, &res);
    if (rc != 0)
        return rc;
    rc = PQntuples(res) == 1 ? ss_reply_json_new(r, 200, acct_json_col(res, 0, 0))
                             : ss_req_fail(r, SS_ERR_NOT_FOUND, "no such organization");
    PQclear(res);
    return rc;
}

static const ss_field patch_fields[] = {
    {"name", SS_F_STRING, false, 1, 200, NULL, false},
    {"name_kana", SS_F_STRING, false, 1, 200, NULL, false},
    {"status", SS_F_ENUM, false, 0, 0, status_values, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Disabling ends every session of the organisation's users, in the same transaction. */
static int org_patch_commit(ss_req *r, const char *id, bool disable)
{
    const char *params[] = {id, ss_json_str(r->body, "name"), ss_json_str(r->body, "name_kana"),
                            ss_json_str(r->body, "status")};
    ss_dbc *c = NULL;
    PGresult *res = NULL, *revoked = NULL;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 ||
        (rc = ss_db_exec(c, sql_acct_org_update, 4, params, &res)) != 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such organization");
        goto out;
    }
    /* Disabling also refuses every token issued to the organisation so far, API clients'
     * included: "org:<id>" is matched by every service against each token's iat. */
    if (disable && ((rc = acct_revoke(c, ACCT_REV_ORG, id, &revoked)) != 0 ||
                    (rc = ss_db_exec(c, sql_acct_org_revoke, 1, params, NULL)) != 0))
        goto out;
    if ((rc = ss_db_commit(c)) != 0)
        goto out;
    acct_revoke_apply(revoked);
    revoked = NULL;
    rc = ss_reply_json_new(r, 200, acct_json_col(res, 0, 0));
out:
    PQclear(res);
    PQclear(revoked);
    ss_db_release(c);
    return rc;
}

int acct_h_org_patch(ss_req *r)
{
    const char *id, *status;
    bool disable;
    int rc;

    if ((rc = ss_body_check(r, patch_fields)) != 0 ||
        (rc = acct_kana_field(r, r->body, "name_kana")) != 0 || (rc = org_target(r, &id)) != 0)
        return rc;
    status = ss_json_str(r->body, "status");
    disable = status != NULL && strcmp(status, "disabled") == 0;
    /* Disabling one's own organisation would lock out every 国保中央会 admin. */
    if (disable && ss_authz_same_org(&r->who, id) == 0)
        return ss_req_fail(r, SS_ERR_CONFLICT,
                           "an administrator cannot disable their own organization");
    return org_patch_commit(r, id, disable);
}
