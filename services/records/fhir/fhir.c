/* fhir.c - the FHIR R4 interface (JP-Core profiles): who may read it, replies as
 * application/fhir+json, errors as OperationOutcome, GET /fhir/metadata and
 * GET /fhir/Patient/{id}. The router, the general parameters and the other reads are in
 * fhir_read.c, the searches in fhir_search.c (Patient, Immunization) and fhir_recommend.c
 * (ImmunizationRecommendation).
 *
 * Authorisation is the staff queries' own: municipality staff (and their API clients holding
 * records:read) read their current residents; a vaccinee token reads its person and its
 * children. Anything else is 404 (another tenant's person) or 403 (no FHIR access at all).
 * Errors found by these handlers are OperationOutcome; errors before them (401 no token, 413,
 * 429, gateway 5xx) stay application/problem+json like every other path of the API. */
#include <stdio.h>
#include <string.h>

#include "rec.h"
#include "self.h"
#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

int rec_fhir_error(ss_req *r, int status, const char *code, const char *diagnostics)
{
    return rec_fhir_reply(r, status,
                          json_pack("{s:s,s:[{s:s,s:s,s:s}]}", "resourceType", "OperationOutcome",
                                    "issue", "severity", "error", "code", code, "diagnostics",
                                    diagnostics));
}

const char *rec_fhir_base(void)
{
    static _Thread_local char base[512];

    snprintf(base, sizeof(base), "%s/fhir", ss_cfg_str(SS_ENV_JWT_ISSUER, "http://localhost:8080"));
    return base;
}

int rec_fhir_caller(ss_req *r, bool *replied)
{
    *replied = false;
    if (r->who.kind == SS_PRINCIPAL_VACCINEE && ss_authz_has(&r->who, SS_PERM_SELF_READ))
        return 0;
    if (rec_muni(r) != NULL && ss_authz_has(&r->who, SS_PERM_RECORDS_READ))
        return 0;
    *replied = true;
    return rec_fhir_error(r, 403, "forbidden",
                          "FHIR reads are for municipality staff and vaccinees");
}

int rec_fhir_person_ok(const ss_req *r, const char *person_id)
{
    const char *muni = rec_muni(r);
    PGresult *res = NULL;
    int rc;

    if (!ss_uuid_ok(person_id))
        return SS_ERR_NOT_FOUND;
    if (r->who.kind == SS_PRINCIPAL_VACCINEE)
        return rec_self_may_read(r, person_id);
    if (muni == NULL)
        return SS_ERR_NOT_FOUND;
    {
        const char *params[] = {person_id, muni};

        rc = ss_db_query(ss_server_db(), sql_rec_fhir_person_ok, 2, params, &res);
    }
    if (rc == 0 && PQntuples(res) != 1)
        rc = SS_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}

int rec_fhir_patient_read(ss_req *r, const char *id)
{
    const char *params[] = {id};
    PGresult *res = NULL;
    bool replied;
    int rc;

    if ((rc = rec_fhir_caller(r, &replied)) != 0 || replied)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", ss_uuid_ok(id) ? id : "");
    if ((rc = rec_fhir_person_ok(r, id)) == SS_ERR_NOT_FOUND)
        return rec_fhir_error(r, 404, "not-found", "Patient/{id} is not known");
    if (rc != 0)
        return rc;
    rec_touch_person(r, id);
    if ((rc = ss_db_query(ss_server_db(), sql_rec_fhir_patient_get, 1, params, &res)) != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return rec_fhir_error(r, 404, "not-found", "Patient/{id} is not known");
    }
    rc = rec_fhir_etag(r, PQgetvalue(res, 0, 1)) == 1
             ? 0
             : rec_fhir_reply(r, 200, ss_json_col(res, 0, 0));
    PQclear(res);
    return rc;
}

/* The CapabilityStatement: what this server answers (public, as FHIR clients expect), and how a
 * client gets its bearer token (rest.security: OAuth 2.0, RFC 6750, from our token endpoint). */
int rec_h_fhir_metadata(ss_req *r)
{
    char token_url[600], desc[1200];
    json_t *imm_params =
        json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "name",
                  "patient", "type", "reference", "name", "date", "type", "date", "name",
                  "vaccine-code", "type", "token", "name", "lot-number", "type", "string", "name",
                  "identifier", "type", "token", "name", "status", "type", "token");
    json_t *pat_params =
        json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "name",
                  "identifier", "type", "token", "name", "_id", "type", "token", "name", "name",
                  "type", "string", "name", "family", "type", "string", "name", "given", "type",
                  "string", "name", "birthdate", "type", "date", "name", "gender", "type", "token");
    json_t *security;

    snprintf(token_url, sizeof(token_url), "%s/oauth2/token",
             ss_cfg_str(SS_ENV_JWT_ISSUER, "http://localhost:8080"));
    snprintf(desc, sizeof(desc),
             "Bearer tokens (RFC 6750) only: a municipality's staff session, its API client's "
             "token (OAuth 2.0 client credentials with scope records:read at %s), or a "
             "vaccinee token (RFC 8693 token exchange by a portal client). A municipality reads "
             "its current residents, a vaccinee its own records and its minor children's; "
             "anything else is 404.",
             token_url);
    security =
        json_pack("{s:[{s:s,s:[{s:s,s:s}]}],s:[{s:[{s:s,s:s,s:s}],s:s}],s:s}", "extension", "url",
                  "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                  "extension", "url", "token", "valueUri", token_url, "service", "coding", "system",
                  "http://terminology.hl7.org/CodeSystem/restful-security-service", "code", "OAuth",
                  "display", "OAuth", "text", "OAuth 2.0 bearer tokens", "description", desc);
    if (imm_params == NULL || pat_params == NULL || security == NULL) {
        json_decref(imm_params);
        json_decref(pat_params);
        json_decref(security);
        return SS_ERR_NOMEM;
    }
    return rec_fhir_reply(
        r, 200,
        json_pack(
            "{s:s,s:s,s:s,s:s,s:{s:s},s:s,s:[s,s],s:{s:s},s:[{s:s,s:o,s:[{s:s,s:[{s:s},{s:s}],"
            "s:o},{s:s,s:[{s:s},{s:s}],s:o},{s:s,s:[{s:s},{s:s}],s:[{s:s,s:s}]}]}]}",
            "resourceType", "CapabilityStatement", "status", "active", "date", "2026-12-02", "kind",
            "instance", "software", "name", "sesshu records", "fhirVersion", "4.0.1", "format",
            "json", "application/fhir+json", "implementation", "description",
            "sesshu records (予防接種記録) FHIR R4", "rest", "mode", "server", "security", security,
            "resource", "type", "Patient", "interaction", "code", "read", "code", "search-type",
            "searchParam", pat_params, "type", "Immunization", "interaction", "code", "read",
            "code", "search-type", "searchParam", imm_params, "type", "ImmunizationRecommendation",
            "interaction", "code", "read", "code", "search-type", "searchParam", "name", "patient",
            "type", "reference"));
}
