/* exchange.c - OAuth 2.0 Token Exchange (RFC 8693) for vaccinees (H-3-3).
 *
 * A portal client (a Mynaportal-style front end, kind 'portal') has verified a
 * person by the マイナンバーカード and asks for a token bound to that person:
 *   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
 *   subject_token=<ES256 JWT signed with the portal's registered subject key>
 *   subject_token_type=urn:ietf:params:oauth:token-type:jwt
 * The subject token says iss = the portal client id, aud = our issuer (or the
 * token endpoint), a lifetime of at most 5 minutes, a jti never used before,
 * and the person: either `my_number` (個人番号, 12 digits) or
 * `municipality_code` + `resident_no` (宛名番号). The person is resolved by the
 * records service (which owns persons) over HTTP on its service port, with a
 * service token of ours; the answer is an ES256 vaccinee token carrying
 * person_id, the portal as actor (act.sub) and the portal's generation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/jwt.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"
#include "tok.h"

#define TYPE_JWT          "urn:ietf:params:oauth:token-type:jwt"
#define TYPE_ACCESS       "urn:ietf:params:oauth:token-type:access_token"
#define SUBJECT_MAX_LIFE  300 /* seconds from now to exp, and from iat to exp */
#define SUBJECT_MAX_BYTES 4096
#define RESOLVE_PATH      "/internal/v1/person-resolutions"
#define RESOLVE_TIMEOUT   3000L /* ms */

/* The form's parameters other than the subject token are acceptable. */
static int form_ok(ss_req *r, const tok_form *f, bool *replied)
{
    const char *st = tok_form_get(f, "subject_token");
    const char *stt = tok_form_get(f, "subject_token_type");
    const char *rtt = tok_form_get(f, "requested_token_type");
    const char *aud = tok_form_get(f, "audience");

    *replied = true;
    if (st == NULL || stt == NULL)
        return tok_oauth_error(r, 400, "invalid_request",
                               "subject_token and subject_token_type are required");
    if (strcmp(stt, TYPE_JWT) != 0)
        return tok_oauth_error(r, 400, "invalid_request", "subject_token_type must be " TYPE_JWT);
    if (rtt != NULL && strcmp(rtt, TYPE_ACCESS) != 0)
        return tok_oauth_error(r, 400, "invalid_request",
                               "requested_token_type must be " TYPE_ACCESS);
    if (tok_form_get(f, "actor_token") != NULL || tok_form_get(f, "actor_token_type") != NULL)
        return tok_oauth_error(r, 400, "invalid_request", "actor tokens are not accepted");
    if (tok_form_get(f, "scope") != NULL)
        return tok_oauth_error(r, 400, "invalid_scope", "a vaccinee token has no scope to ask");
    if (tok_form_get(f, "resource") != NULL ||
        (aud != NULL && strcmp(aud, ss_cfg_str(SS_ENV_JWT_ISSUER, "http://localhost:8080")) != 0))
        return tok_oauth_error(r, 400, "invalid_target", "the only audience is this API");
    if (strlen(st) > SUBJECT_MAX_BYTES)
        return tok_oauth_error(r, 400, "invalid_request", "subject_token is too long");
    *replied = false;
    return 0;
}

/* The person the claims name, as the body of the records service's
 * resolution (new reference), or NULL when they name none or both ways. */
static json_t *person_ref(const json_t *c)
{
    const char *mn = json_string_value(json_object_get(c, "my_number"));
    const char *muni = json_string_value(json_object_get(c, "municipality_code"));
    const char *rno = json_string_value(json_object_get(c, "resident_no"));
    bool by_mn = json_object_get(c, "my_number") != NULL;
    bool by_res = json_object_get(c, "municipality_code") != NULL ||
                  json_object_get(c, "resident_no") != NULL;

    if (by_mn == by_res)
        return NULL;
    if (by_mn)
        return ss_code_my_number_ok(mn) ? json_pack("{s:s}", "my_number", mn) : NULL;
    if (!ss_code_municipality_ok(muni) || rno == NULL || rno[0] == '\0' || strlen(rno) > 100 ||
        !ss_utf8_valid(rno, strlen(rno)))
        return NULL;
    return json_pack("{s:s,s:s}", "municipality_code", muni, "resident_no", rno);
}

/* iss, aud, lifetime and jti of a verified subject token. */
static bool subject_claims_ok(const json_t *c, const char *client_id)
{
    long long now = ss_now_s();
    const json_t *exp = json_object_get(c, "exp"), *iat = json_object_get(c, "iat");
    const char *iss = json_string_value(json_object_get(c, "iss"));
    const char *jti = json_string_value(json_object_get(c, "jti"));

    return iss != NULL && strcmp(iss, client_id) == 0 && tok_aud_ok(json_object_get(c, "aud")) &&
           json_is_integer(exp) && json_is_integer(iat) && json_integer_value(exp) + 30 >= now &&
           json_integer_value(exp) <= now + SUBJECT_MAX_LIFE &&
           json_integer_value(iat) <= now + 30 &&
           json_integer_value(exp) - json_integer_value(iat) <= SUBJECT_MAX_LIFE && jti != NULL &&
           jti[0] != '\0' && strlen(jti) <= 200;
}

/* The subject token's claims if signed by the portal's subject key and
 * acceptable (new reference), else NULL. */
static json_t *subject_claims(const tok_client *c, const char *st, int *err)
{
    const char *params[] = {c->id};
    PGresult *res = NULL;
    json_t *claims = NULL;

    *err = ss_db_query(ss_server_db(), sql_tok_exchange_subject_key, 1, params, &res);
    if (*err == 0 && PQntuples(res) == 1)
        claims = tok_jws_verify(st, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (claims != NULL && !subject_claims_ok(claims, c->id)) {
        json_decref(claims);
        claims = NULL;
    }
    return claims;
}

/* Record the subject token's jti for the client: SS_ERR_CONFLICT when it
 * was used before (replay). */
static int spend_jti(const tok_client *c, const json_t *claims)
{
    char exp[24], jti[210];
    const char *params[] = {c->id, jti, exp};

    snprintf(jti, sizeof(jti), "st:%s", json_string_value(json_object_get(claims, "jti")));
    snprintf(exp, sizeof(exp), "%lld",
             (long long)json_integer_value(json_object_get(claims, "exp")));
    return ss_db_query(ss_server_db(), sql_tok_exchange_jti_spend, 3, params, NULL);
}

/* The person id from the records service: 0, SS_ERR_NOT_FOUND, or
 * SS_ERR_UNAVAILABLE. */
static int resolve(ss_req *r, const json_t *ref, char person[40])
{
    char *svc_tok = NULL, auth[1200];
    json_t *ans = NULL;
    long status = 0;
    int rc;

    if ((rc = ss_svc_token("token", "records", &svc_tok)) != 0)
        return rc;
    snprintf(auth, sizeof(auth), "Bearer %s", svc_tok);
    free(svc_tok);
    rc = ss_svc_call("RECORDS", SS_PORT_RECORDS, "POST", RESOLVE_PATH, auth, r->request_id, ref,
                     RESOLVE_TIMEOUT, &status, &ans);
    if (rc == 0 && status == 200 && ss_uuid_ok(ss_json_str(ans, "person_id")))
        snprintf(person, 40, "%s", ss_json_str(ans, "person_id"));
    else
        rc = rc == 0 && status == 404 ? SS_ERR_NOT_FOUND : SS_ERR_UNAVAILABLE;
    json_decref(ans);
    return rc;
}

static int issue(ss_req *r, const tok_client *c, const char *person)
{
    char jti[37];
    char *tok = NULL;
    json_t *claims = ss_jwt_vaccinee_claims(person, c->id, c->gen, tok_cfg.vaccinee_ttl_s, jti);
    int rc = claims ? ss_jwt_sign(claims, &tok) : SS_ERR_NOMEM;

    json_decref(claims);
    if (rc != 0)
        return rc;
    rc = ss_reply_json_new(r, 200,
                           json_pack("{s:s,s:s,s:s,s:I}", "access_token", tok, "issued_token_type",
                                     TYPE_ACCESS, "token_type", "Bearer", "expires_in",
                                     (json_int_t)tok_cfg.vaccinee_ttl_s));
    ss_reply_header(r, "Cache-Control", "no-store");
    ss_reply_header(r, "Pragma", "no-cache");
    free(tok);
    return rc;
}

int tok_exchange(ss_req *r, const tok_form *f, const tok_client *c)
{
    json_t *claims = NULL, *ref = NULL;
    char person[40];
    bool replied = false;
    int rc;

    if ((rc = form_ok(r, f, &replied)) != 0 || replied)
        return replied ? 0 : rc;
    claims = subject_claims(c, tok_form_get(f, "subject_token"), &rc);
    if (rc != 0)
        goto out;
    /* RFC 8693 2.2.2: an invalid or unacceptable subject token is invalid_request. */
    if (claims == NULL || (ref = person_ref(claims)) == NULL) {
        rc = tok_oauth_error(r, 400, "invalid_request",
                             claims ? "subject_token names no person (my_number, or "
                                      "municipality_code and resident_no)"
                                    : "subject_token is not valid");
        goto out;
    }
    if ((rc = spend_jti(c, claims)) == SS_ERR_CONFLICT) {
        rc = tok_oauth_error(r, 400, "invalid_request", "subject_token was used before");
        goto out;
    }
    if (rc == 0)
        rc = resolve(r, ref, person);
    if (rc == SS_ERR_NOT_FOUND)
        rc = tok_oauth_error(r, 400, "invalid_grant", "no such person");
    else if (rc == SS_ERR_UNAVAILABLE)
        rc = tok_oauth_error(r, 503, "temporarily_unavailable", "persons cannot be resolved now");
    else if (rc == 0) {
        snprintf(r->person_id, sizeof(r->person_id), "%s", person);
        rc = issue(r, c, person);
    }
out:
    json_decref(claims);
    json_decref(ref);
    return rc;
}
