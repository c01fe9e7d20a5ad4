/* clients.c - /api/v1/api-clients: an organisation's API clients for its
 * external systems (H-2). Only admins of a municipality or a non-insurance
 * medical institution (SS_PERM_API_CLIENTS_MANAGE) reach these handlers, and
 * only for their own organisation's clients: another's is 404. The secret
 * is shown once (create, rotate) and stored as SHA-256 hex. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/server.h"
#include "sesshu/text.h"
#include "tok.h"

static const char *const statuses[] = {"active", "disabled", NULL};

int tok_revoke_gen(ss_dbc *c, const char *gen)
{
    char ttl[24];
    const char *params[] = {gen, ttl};

    /* Long enough for the longest token the generation may have signed (vaccinee tokens too). */
    snprintf(ttl, sizeof(ttl), "%ld",
             (tok_cfg.vaccinee_ttl_s > tok_cfg.token_ttl_s ? tok_cfg.vaccinee_ttl_s
                                                           : tok_cfg.token_ttl_s) +
                 60);
    return ss_db_exec(c, sql_tok_revocation_insert, 2, params, NULL);
}

/* One array element: a scope of the fixed list not seen before, or an
 * address in CIDR notation (characters checked here, syntax by PostgreSQL's
 * cidr type). */
static bool element_ok(const char *s, bool scopes, unsigned *seen)
{
    unsigned bit = 0;

    if (s == NULL || s[0] == '\0' || strlen(s) > 43)
        return false;
    if (!scopes)
        return strspn(s, "0123456789abcdefABCDEF.:/") == strlen(s);
    if (strchr(s, ' ') != NULL || ss_scopes_parse(s, &bit) != 0 || (*seen & bit) != 0)
        return false;
    *seen |= bit;
    return true;
}

/* A JSON array of scopes or addresses as a PostgreSQL array literal. */
static int array_literal(ss_req *r, const json_t *arr, const char *field, bool scopes, char **out)
{
    size_t i, used = 0;
    json_t *v;
    unsigned seen = 0;
    char *buf = calloc(1, 64 * 48 + 4);

    *out = NULL;
    if (buf == NULL)
        return SS_ERR_NOMEM;
    buf[used++] = '{';
    json_array_foreach (arr, i, v) {
        if (i >= 32 || !element_ok(json_string_value(v), scopes, &seen)) {
            free(buf);
            return ss_req_field_error(r, field,
                                      scopes ? "unknown-or-repeated-scope" : "invalid-address");
        }
        used += (size_t)snprintf(buf + used, 64, "%s\"%s\"", i ? "," : "", json_string_value(v));
    }
    buf[used++] = '}';
    *out = buf;
    return 0;
}

/* An organisation names each of its clients once (UNIQUE (org_id, name), 001_token.sql). */
static const ss_sql_constraint client_constraints[] = {
    {"clients_org_id_name_key", SS_ERR_CONFLICT, NULL,
     "the organisation already has an API client of that name"},
    {NULL, 0, NULL, NULL},
};

static const ss_field create_fields[] = {
    {"name", SS_F_STRING, true, 1, 100, NULL, false},
    {"scopes", SS_F_ARRAY, true, 1, 7, NULL, false},
    {"allowed_addresses", SS_F_ARRAY, false, 0, 32, NULL, false},
    {"public_key_jwk", SS_F_OBJECT, false, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* The PEM text is multi-line, which the declarative string check refuses
 * (control characters): taken out of the body and checked here. *out is a
 * copy (NULL when absent). */
static int take_pem(ss_req *r, char **out)
{
    const json_t *v = json_object_get(r->body, "public_key_pem");

    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 4096)
        return ss_req_field_error(r, "public_key_pem", "must be a PEM text of 1-4096 characters");
    if ((*out = strdup(json_string_value(v))) == NULL)
        return SS_ERR_NOMEM;
    json_object_del(r->body, "public_key_pem");
    return 0;
}

/* A client with a registered public key (private_key_jwt) gets no secret. */
static int credential(ss_req *r, const char *text, char secret[64], char hash[65], char **pem)
{
    const json_t *jwk = json_object_get(r->body, "public_key_jwk");
    int rc;

    *pem = NULL;
    if (jwk != NULL && text != NULL)
        return ss_req_field_error(r, "public_key_pem", "only-one-of-public_key_jwk-public_key_pem");
    if (jwk != NULL || text != NULL) {
        rc = tok_public_key_pem(jwk, text, pem);
        return rc == SS_ERR_VALIDATION
                   ? ss_req_field_error(r, jwk ? "public_key_jwk" : "public_key_pem",
                                        "not-an-ec-p256-public-key")
                   : rc;
    }
    if ((rc = ss_random_token(secret, 64, TOK_SECRET_BYTES)) == 0)
        ss_sha256_hex(secret, strlen(secret), hash);
    return rc;
}

static int reply_client(ss_req *r, int status, const PGresult *res, const char *secret)
{
    json_error_t jerr;
    json_t *client = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);

    if (client == NULL)
        return SS_ERR_INTERNAL;
    snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(client, "id")));
    if (secret != NULL)
        json_object_set_new(client, "client_secret", json_string(secret));
    return ss_reply_json_new(r, status, client);
}

int tok_h_client_create(ss_req *r)
{
    char secret[64] = "", hash[65] = "";
    char *scopes = NULL, *addrs = NULL, *pem = NULL, *pem_text = NULL;
    const char *params[11];
    PGresult *res = NULL;
    int rc;

    if ((rc = take_pem(r, &pem_text)) != 0 || (rc = ss_body_check(r, create_fields)) != 0 ||
        (rc = array_literal(r, json_object_get(r->body, "scopes"), "scopes", true, &scopes)) != 0 ||
        (rc = array_literal(r, json_object_get(r->body, "allowed_addresses"), "allowed_addresses",
                            false, &addrs)) != 0 ||
        (rc = credential(r, pem_text, secret, hash, &pem)) != 0)
        goto out;
    params[0] = r->who.org_id;
    params[1] = ss_org_type_name(r->who.org_type);
    params[2] = r->who.org_code;
    params[3] = r->who.muni_code[0] ? r->who.muni_code : NULL;
    params[4] = r->who.pref_code[0] ? r->who.pref_code : NULL;
    params[5] = ss_json_str(r->body, "name");
    params[6] = scopes;
    params[7] = addrs;
    params[8] = pem ? NULL : hash;
    params[9] = r->who.sub;
    params[10] = pem;
    rc = ss_sql_query(r, ss_server_db(), sql_tok_client_insert, 11, params, &res,
                      client_constraints);
    if (rc == SS_ERR_VALIDATION && r->errors == NULL)
        rc = ss_req_field_error(r, "allowed_addresses", "invalid-address");
    if (rc == 0)
        rc = reply_client(r, 201, res, pem ? NULL : secret);
out:
    explicit_bzero(secret, sizeof(secret));
    PQclear(res);
    free(pem);
    free(pem_text);
    free(scopes);
    free(addrs);
    return rc;
}

int tok_own_list(ss_req *r, const char *sql)
{
    const char *params[] = {r->who.org_id};
    PGresult *res = NULL;
    json_t *items;
    int rc;

    tok_usage_flush(); /* the counts shown include this process's last second */
    if ((rc = ss_db_query(ss_server_db(), sql, 1, params, &res)) != 0)
        return rc;
    items = json_array();
    for (int i = 0; items != NULL && i < PQntuples(res); i++)
        json_array_append_new(items, json_loads(PQgetvalue(res, i, 0), 0, NULL));
    PQclear(res);
    return ss_reply_json_new(r, 200, items ? json_pack("{s:o}", "items", items) : NULL);
}

int tok_own_load(ss_req *r, ss_dbc *c, const char *sql, PGresult **res)
{
    const char *id = ss_req_param(r, "id");
    const char *params[] = {id, r->who.org_id};
    int rc;

    *res = NULL;
    if (!ss_uuid_ok(id))
        return SS_ERR_NOT_FOUND;
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rc = ss_db_exec(c, sql, 2, params, res);
    if (rc == 0 && PQntuples(*res) != 1) {
        PQclear(*res);
        *res = NULL;
        rc = SS_ERR_NOT_FOUND;
    }
    return rc;
}

int tok_own_get(ss_req *r, const char *sql,
                int (*reply)(ss_req *, int, const PGresult *, const char *))
{
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    int rc;

    tok_usage_flush();
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    rc = tok_own_load(r, c, sql, &res);
    ss_db_release(c);
    if (rc == 0)
        rc = reply(r, 200, res, NULL);
    PQclear(res);
    return rc;
}

int tok_h_client_list(ss_req *r)
{
    return tok_own_list(r, sql_tok_client_list);
}

static int load_own(ss_req *r, ss_dbc *c, PGresult **res)
{
    return tok_own_load(r, c, sql_tok_client_load_own, res);
}

int tok_h_client_get(ss_req *r)
{
    return tok_own_get(r, sql_tok_client_load_own, reply_client);
}

int tok_h_client_delete(ss_req *r)
{
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) == 0 && (rc = load_own(r, c, &res)) == 0 &&
        (rc = tok_revoke_gen(c, PQgetvalue(res, 0, 1))) == 0) {
        const char *params[] = {ss_req_param(r, "id")};

        rc = ss_db_exec(c, sql_tok_client_delete, 1, params, NULL);
    }
    if (rc == 0)
        rc = ss_db_commit(c);
    if (rc == 0) {
        ss_jwt_revoke_local(PQgetvalue(res, 0, 1), ss_now_s() + tok_cfg.token_ttl_s + 60);
        tok_cache_forget(ss_req_param(r, "id"));
    }
    ss_db_release(c);
    PQclear(res);
    return rc != 0 ? rc : ss_reply_empty(r, 204);
}

int tok_h_client_rotate(ss_req *r)
{
    char secret[64] = "", hash[65], grace[24];
    ss_dbc *c = NULL;
    PGresult *res = NULL, *upd = NULL;
    int rc;

    if (r->u->binary_body_length > 0 && (r->body == NULL || json_object_size(r->body) != 0))
        return ss_req_fail(r, SS_ERR_VALIDATION, "this action takes no body");
    if ((rc = ss_random_token(secret, sizeof(secret), TOK_SECRET_BYTES)) != 0 ||
        (rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    ss_sha256_hex(secret, strlen(secret), hash);
    snprintf(grace, sizeof(grace), "%ld", tok_cfg.grace_s);
    if ((rc = ss_db_begin(c)) == 0 && (rc = load_own(r, c, &res)) == 0) {
        const char *params[] = {ss_req_param(r, "id"), hash, grace};

        rc = ss_db_exec(c, sql_tok_client_rotate_secret, 3, params, &upd);
        if (rc == 0 && PQntuples(upd) != 1)
            rc =
                ss_req_fail(r, SS_ERR_CONFLICT, "a private_key_jwt client has no secret to rotate");
    }
    if (rc == 0 && (rc = ss_db_commit(c)) == 0) {
        tok_cache_forget(ss_req_param(r, "id")); /* the old secret: only the database's grace */
        rc = reply_client(r, 200, upd, secret);
    }
    ss_db_release(c);
    explicit_bzero(secret, sizeof(secret));
    PQclear(res);
    PQclear(upd);
    return rc;
}

static const ss_field patch_fields[] = {
    {"name", SS_F_STRING, false, 1, 100, NULL, false},
    {"scopes", SS_F_ARRAY, false, 1, 7, NULL, false},
    {"allowed_addresses", SS_F_ARRAY, false, 0, 32, NULL, false},
    {"status", SS_F_ENUM, false, 0, 0, statuses, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Changing what the tokens may do (scopes, addresses) or disabling ends
 * the client's current generation: its live tokens are refused at once. */
static int patch_apply(ss_req *r, ss_dbc *c, const char *gen, const char *scopes, const char *addrs,
                       PGresult **upd)
{
    const char *st = ss_json_str(r->body, "status");
    bool cut = scopes != NULL || addrs != NULL || (st != NULL && strcmp(st, "disabled") == 0);
    const char *params[] = {ss_req_param(r, "id"), ss_json_str(r->body, "name"), scopes, addrs, st,
                            cut ? "true" : "false"};
    int rc = cut ? tok_revoke_gen(c, gen) : 0;

    if (rc == 0)
        rc = ss_db_exec(c, sql_tok_client_update, 6, params, upd);
    return ss_sql_constraint_error(r, c, rc, client_constraints);
}

int tok_h_client_patch(ss_req *r)
{
    char *scopes = NULL, *addrs = NULL;
    ss_dbc *c = NULL;
    PGresult *res = NULL, *upd = NULL;
    const json_t *v;
    bool cut = false;
    int rc;

    if ((rc = ss_body_check(r, patch_fields)) != 0)
        return rc;
    if ((v = json_object_get(r->body, "scopes")) != NULL &&
        (rc = array_literal(r, v, "scopes", true, &scopes)) != 0)
        goto out;
    if ((v = json_object_get(r->body, "allowed_addresses")) != NULL &&
        (rc = array_literal(r, v, "allowed_addresses", false, &addrs)) != 0)
        goto out;
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        goto out;
    if ((rc = ss_db_begin(c)) == 0 && (rc = load_own(r, c, &res)) == 0)
        rc = patch_apply(r, c, PQgetvalue(res, 0, 1), scopes, addrs, &upd);
    if (rc == 0 && (rc = ss_db_commit(c)) == 0) {
        const char *st = ss_json_str(r->body, "status");

        cut = scopes != NULL || addrs != NULL || (st != NULL && strcmp(st, "disabled") == 0);
        if (cut)
            ss_jwt_revoke_local(PQgetvalue(res, 0, 1), ss_now_s() + tok_cfg.token_ttl_s + 60);
        tok_cache_forget(ss_req_param(r, "id"));
        rc = reply_client(r, 200, upd, NULL);
    }
    if (rc == SS_ERR_VALIDATION && r->errors == NULL)
        rc = ss_req_field_error(r, "allowed_addresses", "invalid-address");
out:
    ss_db_release(c);
    PQclear(res);
    PQclear(upd);
    free(scopes);
    free(addrs);
    return rc;
}
