/* portal.c - /api/v1/portal-clients: the Mynaportal-style front ends that may
 * exchange a verified person's subject token for a vaccinee token (H-3-3,
 * exchange.c). Registered by the admins of the 国保中央会 and the operator
 * (portal_clients.manage), each for its own organisation (another's is 404).
 * A portal client registers the P-256 key that signs its subject tokens
 * (subject_key_jwk) and authenticates at the token endpoint with a secret
 * (shown once) or, when it registers public_key_jwk, by private_key_jwt. */
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

/* Portal and API clients share token.clients and its UNIQUE (org_id, name). */
static const ss_sql_constraint portal_constraints[] = {
    {"clients_org_id_name_key", SS_ERR_CONFLICT, NULL,
     "the organisation already has a client of that name"},
    {NULL, 0, NULL, NULL},
};

static const ss_field create_fields[] = {
    {"name", SS_F_STRING, true, 1, 100, NULL, false},
    {"subject_key_jwk", SS_F_OBJECT, true, 0, 0, NULL, false},
    {"public_key_jwk", SS_F_OBJECT, false, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static const ss_field patch_fields[] = {
    {"name", SS_F_STRING, false, 1, 100, NULL, false},
    {"status", SS_F_ENUM, false, 0, 0, statuses, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static int reply_portal(ss_req *r, int status, const PGresult *res, const char *secret)
{
    json_t *client = json_loads(PQgetvalue(res, 0, 0), 0, NULL);

    if (client == NULL)
        return SS_ERR_INTERNAL;
    snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(client, "id")));
    if (secret != NULL)
        json_object_set_new(client, "client_secret", json_string(secret));
    return ss_reply_json_new(r, status, client);
}

/* Only the members of a P-256 signing key: kty, crv, x, y, and optionally kid, alg ES256,
 * use sig (a private "d" or anything else is refused, not ignored). */
static bool jwk_members_ok(json_t *jwk)
{
    const char *k;
    json_t *v;

    json_object_foreach (jwk, k, v) {
        bool ok = (strcmp(k, "kty") == 0 || strcmp(k, "crv") == 0 || strcmp(k, "x") == 0 ||
                   strcmp(k, "y") == 0 || strcmp(k, "kid") == 0) ||
                  (strcmp(k, "alg") == 0 && json_is_string(v) &&
                   strcmp(json_string_value(v), "ES256") == 0) ||
                  (strcmp(k, "use") == 0 && json_is_string(v) &&
                   strcmp(json_string_value(v), "sig") == 0);

        if (!ok || (strcmp(k, "kid") == 0 && (!json_is_string(v) || json_string_length(v) > 200)))
            return false;
    }
    return true;
}

/* The body's keys as SPKI PEM (*auth_pem NULL: the client gets a secret). */
static int keys(ss_req *r, char **subject_pem, char **auth_pem)
{
    json_t *sk = json_object_get(r->body, "subject_key_jwk");
    json_t *pk = json_object_get(r->body, "public_key_jwk");

    *subject_pem = *auth_pem = NULL;
    if (!jwk_members_ok(sk))
        return ss_req_field_error(r, "subject_key_jwk", "unknown-member");
    if (pk != NULL && !jwk_members_ok(pk))
        return ss_req_field_error(r, "public_key_jwk", "unknown-member");
    if (tok_public_key_pem(sk, NULL, subject_pem) != 0)
        return ss_req_field_error(r, "subject_key_jwk", "not-an-ec-p256-public-key");
    if (pk != NULL && tok_public_key_pem(pk, NULL, auth_pem) != 0)
        return ss_req_field_error(r, "public_key_jwk", "not-an-ec-p256-public-key");
    return 0;
}

int tok_h_portal_create(ss_req *r)
{
    char secret[64] = "", hash[65] = "";
    char *spem = NULL, *apem = NULL;
    const char *params[8];
    PGresult *res = NULL;
    int rc;

    if ((rc = ss_body_check(r, create_fields)) != 0 || (rc = keys(r, &spem, &apem)) != 0)
        goto out;
    if (apem == NULL && (rc = ss_random_token(secret, sizeof(secret), TOK_SECRET_BYTES)) != 0)
        goto out;
    if (apem == NULL)
        ss_sha256_hex(secret, strlen(secret), hash);
    params[0] = r->who.org_id;
    params[1] = ss_org_type_name(r->who.org_type);
    params[2] = r->who.org_code;
    params[3] = ss_json_str(r->body, "name");
    params[4] = apem ? NULL : hash;
    params[5] = r->who.sub;
    params[6] = apem;
    params[7] = spem;
    rc =
        ss_sql_query(r, ss_server_db(), sql_tok_portal_insert, 8, params, &res, portal_constraints);
    if (rc == 0)
        rc = reply_portal(r, 201, res, apem ? NULL : secret);
out:
    explicit_bzero(secret, sizeof(secret));
    PQclear(res);
    free(spem);
    free(apem);
    return rc;
}

int tok_h_portal_list(ss_req *r)
{
    return tok_own_list(r, sql_tok_portal_list);
}

static int load_own(ss_req *r, ss_dbc *c, PGresult **res)
{
    return tok_own_load(r, c, sql_tok_portal_load_own, res);
}

int tok_h_portal_get(ss_req *r)
{
    return tok_own_get(r, sql_tok_portal_load_own, reply_portal);
}

/* After the revocation row (tok_revoke_gen, which every service polls) has
 * committed: refuse the generation's tokens here at once. */
static void cut_generation(const char *gen)
{
    long ttl =
        tok_cfg.vaccinee_ttl_s > tok_cfg.token_ttl_s ? tok_cfg.vaccinee_ttl_s : tok_cfg.token_ttl_s;

    ss_jwt_revoke_local(gen, ss_now_s() + ttl + 60);
}

/* Also forget the portal's kept authentication (cache.c) at once. */
static void forget(ss_req *r)
{
    tok_cache_forget(ss_req_param(r, "id"));
}

int tok_h_portal_delete(ss_req *r)
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
    if (rc == 0 && (rc = ss_db_commit(c)) == 0) {
        cut_generation(PQgetvalue(res, 0, 1));
        forget(r);
    }
    ss_db_release(c);
    PQclear(res);
    return rc != 0 ? rc : ss_reply_empty(r, 204);
}

/* Disabling ends the generation: every vaccinee token it exchanged is refused. */
int tok_h_portal_patch(ss_req *r)
{
    const char *st;
    bool cut;
    ss_dbc *c = NULL;
    PGresult *res = NULL, *upd = NULL;
    int rc;

    if ((rc = ss_body_check(r, patch_fields)) != 0)
        return rc;
    st = ss_json_str(r->body, "status");
    cut = st != NULL && strcmp(st, "disabled") == 0;
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) == 0 && (rc = load_own(r, c, &res)) == 0 && cut)
        rc = tok_revoke_gen(c, PQgetvalue(res, 0, 1));
    if (rc == 0) {
        const char *params[] = {ss_req_param(r, "id"), ss_json_str(r->body, "name"), st,
                                cut ? "true" : "false"};

        rc = ss_db_exec(c, sql_tok_portal_update, 4, params, &upd);
        rc = ss_sql_constraint_error(r, c, rc, portal_constraints);
    }
    if (rc == 0 && (rc = ss_db_commit(c)) == 0 && cut)
        cut_generation(PQgetvalue(res, 0, 1));
    if (rc == 0) {
        forget(r);
        rc = reply_portal(r, 200, upd, NULL);
    }
    ss_db_release(c);
    PQclear(res);
    PQclear(upd);
    return rc;
}
