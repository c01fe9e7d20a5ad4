/* verify.c - POST /api/v1/certificates/verify (no login; the gateway rate-limits it) and the
 * issuer's public documents under /shc/.well-known (CORS open, as SMART Health Cards asks).
 *
 * Verify takes {"credential": "<JWS>" | "shc:/<digits>"} or a .smart-health-card file's content
 * {"verifiableCredential": ["<JWS>"]} (one card at a time) and answers
 *   valid | invalid (reason) | revoked | superseded,
 * with what the card itself holds (patient name and birth date, doses) once its signature is
 * ours: nothing from the log the card does not carry. The log is consulted only for the
 * status, found by the card's rid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const ss_field fields[] = {
    {"credential", SS_F_STRING, false, 1, 2 * CERT_JWS_MAX + 5, NULL, false},
    {"verifiableCredential", SS_F_ARRAY, false, 1, 1, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static int answer(ss_req *r, const char *result, const char *reason, json_t *decoded,
                  const char *kid, long long nbf)
{
    json_t *a = json_pack("{s:s,s:s?}", "result", result, "reason", reason);

    if (a == NULL) {
        json_decref(decoded);
        return SS_ERR_NOMEM;
    }
    if (decoded != NULL) {
        json_object_update(a, decoded);
        json_decref(decoded);
        json_object_set_new(a, "issuer", json_string(cert_issuer()));
        json_object_set_new(a, "kid", json_string(kid));
        json_object_set_new(a, "nbf", json_integer(nbf));
    }
    return ss_reply_json_new(r, 200, a);
}

static bool has_type(const json_t *vc, const char *t)
{
    size_t i;
    json_t *v;

    json_array_foreach (json_object_get(vc, "type"), i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), t) == 0)
            return true;
    }
    return false;
}

/* The status in the log of the card with this rid: "valid", "superseded", "revoked", or NULL
 * (no such certificate), with the reason in why (64 bytes). */
static int log_status(const char *rid, const char *kid, char st[16], char why[64])
{
    const char *p[] = {rid, kid};
    PGresult *res = NULL;
    int rc;

    st[0] = why[0] = '\0';
    cert_sync();
    rc = ss_db_query(ss_server_db(), sql_cert_status_by_rid, 2, p, &res);
    if (rc == 0 && PQntuples(res) == 1) {
        snprintf(st, 16, "%s", PQgetvalue(res, 0, 0));
        snprintf(why, 64, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

static int check_card(ss_req *r, const char *jws)
{
    json_t *payload = NULL, *decoded;
    char kid[48], st[16], why[64];
    const char *reason = NULL, *iss, *rid;
    const json_t *vc;
    long long nbf;
    int rc;

    if (cert_jws_verify(jws, &payload, kid, &reason) != 0)
        return answer(r, "invalid", reason, NULL, NULL, 0);
    vc = json_object_get(payload, "vc");
    iss = json_string_value(json_object_get(payload, "iss"));
    rid = json_string_value(json_object_get(vc, "rid"));
    nbf = json_integer_value(json_object_get(payload, "nbf"));
    if (iss == NULL || strcmp(iss, cert_issuer()) != 0)
        reason = "wrong-issuer";
    else if (!json_is_integer(json_object_get(payload, "nbf")) || nbf > ss_now_s() + 60)
        reason = "not-yet-valid";
    else if (!has_type(vc, "https://smarthealth.cards#health-card"))
        reason = "not-a-health-card";
    else if (!json_is_array(json_object_get(
                 json_object_get(json_object_get(vc, "credentialSubject"), "fhirBundle"), "entry")))
        reason = "no-fhir-bundle";
    else if (rid == NULL || strlen(rid) > 24)
        reason = "no-rid";
    if (reason != NULL) {
        json_decref(payload);
        return answer(r, "invalid", reason, NULL, NULL, 0);
    }
    decoded = cert_card_decode(payload);
    rc = log_status(rid, kid, st, why);
    json_decref(payload);
    if (rc != 0) {
        json_decref(decoded);
        return rc;
    }
    if (st[0] == '\0') {
        json_decref(decoded);
        return answer(r, "invalid", "unknown-certificate", NULL, NULL, 0);
    }
    return answer(r, strcmp(st, "valid") == 0 ? "valid" : st, why[0] ? why : NULL, decoded, kid,
                  nbf);
}

int cert_h_verify(ss_req *r)
{
    const char *cred;
    const json_t *vcs;
    char *jws = NULL;
    int rc;

    if ((rc = ss_body_check(r, fields)) != 0)
        return rc;
    cred = ss_json_str(r->body, "credential");
    vcs = json_object_get(r->body, "verifiableCredential");
    if ((cred == NULL) == (vcs == NULL))
        return ss_req_fail(r, SS_ERR_VALIDATION,
                           "credential, or verifiableCredential: one of the two");
    if (vcs != NULL) {
        cred = json_string_value(json_array_get(vcs, 0));
        if (cred == NULL || strlen(cred) > CERT_JWS_MAX)
            return ss_req_field_error(r, "verifiableCredential", "not-a-jws");
    }
    if (strncmp(cred, "shc:/", 5) == 0) {
        if ((jws = cert_shc_numeric_decode(cred)) == NULL)
            return answer(r, "invalid", "malformed-qr", NULL, NULL, 0);
        rc = check_card(r, jws);
        free(jws);
        return rc;
    }
    return check_card(r, cred);
}

static long revoked_count(const char *kid)
{
    const char *p[] = {kid};
    PGresult *res = NULL;
    long n = 0;

    if (ss_db_query(ss_server_db(), sql_cert_revoked_count, 1, p, &res) == 0)
        n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

static void cors(ss_req *r)
{
    ss_reply_header(r, "Access-Control-Allow-Origin", "*");
    ss_reply_header(r, "Cache-Control", "public, max-age=60");
}

int cert_h_jwks(ss_req *r)
{
    json_t *j;

    if (ss_query_check(r, (const char *[]){"file", NULL}) != 0)
        return SS_ERR_VALIDATION;
    cert_sync();
    j = cert_jwks(revoked_count);
    cors(r);
    return ss_reply_json_new(r, 200, j);
}

int cert_h_crl(ss_req *r)
{
    const char *file = ss_req_param(r, "file");
    char kid[48];
    size_t n = file ? strlen(file) : 0;
    PGresult *res = NULL;
    json_t *rids;
    int rc;

    if (ss_query_check(r, (const char *[]){"file", NULL}) != 0)
        return SS_ERR_VALIDATION;
    if (n <= 5 || n - 5 >= sizeof(kid) || strcmp(file + n - 5, ".json") != 0)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such revocation list");
    snprintf(kid, sizeof(kid), "%.*s", (int)(n - 5), file);
    if (!cert_kid_known(kid))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such key");
    cert_sync();
    {
        const char *p[] = {kid};
        rc = ss_db_query(ss_server_db(), sql_cert_crl_rids, 1, p, &res);
    }
    if (rc != 0)
        return rc;
    rids = json_array();
    for (int i = 0; rids != NULL && i < PQntuples(res); i++)
        json_array_append_new(rids, json_string(PQgetvalue(res, i, 0)));
    cors(r);
    rc = ss_reply_json_new(r, 200,
                           rids ? json_pack("{s:s,s:s,s:i,s:o}", "kid", kid, "method", "rid", "ctr",
                                            PQntuples(res), "rids", rids)
                                : NULL);
    PQclear(res);
    return rc;
}
