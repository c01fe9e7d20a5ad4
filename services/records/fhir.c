/* fhir.c - the FHIR R4 interface (JP-Core profiles): who may read it, replies as
 * application/fhir+json, errors as OperationOutcome, GET /fhir/metadata and
 * GET /fhir/Patient/{id}. The searches are in fhir_search.c (Immunization) and
 * fhir_recommend.c (ImmunizationRecommendation).
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
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

#define PATIENT_JSON                                                                          \
    "json_strip_nulls(json_build_object('resourceType', 'Patient', 'id', p.id, 'meta', "      \
    "json_build_object('versionId', p.version::text, 'lastUpdated', p.updated_at, "           \
    "'profile', json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/"            \
    "JP_Patient')), 'identifier', json_build_array(json_build_object('system', "              \
    "'urn:sesshu:resident-no:' || p.muni_code, 'value', p.resident_no)), 'active', p.status " \
    "= 'resident', 'name', json_build_array(json_build_object('extension', "                  \
    "json_build_array(json_build_object('url', "                                              \
    "'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', 'valueCode', "     \
    "'IDE')), 'use', 'official', 'text', p.name), json_build_object('extension', "            \
    "json_build_array(json_build_object('url', "                                              \
    "'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', 'valueCode', "     \
    "'SYL')), 'use', 'official', 'text', p.name_kana)), 'gender', CASE p.sex WHEN '1' THEN "  \
    "'male' WHEN '2' THEN 'female' ELSE 'unknown' END, 'birthDate', p.birth_date, "           \
    "'deceasedBoolean', p.status = 'deceased', 'address', json_build_array("                  \
    "json_build_object('text', p.address, 'postalCode', p.postal_code))))"

int rec_fhir_reply(ss_req *r, int status, json_t *resource)
{
    char *text;
    int rc;

    if (resource == NULL)
        return SS_ERR_NOMEM;
    text = json_dumps(resource, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(resource);
    if (text == NULL)
        return SS_ERR_NOMEM;
    rc = ss_reply_raw(r, status, REC_FHIR_JSON, text, strlen(text));
    free(text);
    return rc;
}

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

        rc = ss_db_query(ss_server_db(),
                         "SELECT 1 FROM records.persons WHERE id = $1::uuid AND muni_code = $2", 2,
                         params, &res);
    }
    if (rc == 0 && PQntuples(res) != 1)
        rc = SS_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}

int rec_h_fhir_patient(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    const char *params[] = {id};
    PGresult *res = NULL;
    bool replied;
    int rc;

    if ((rc = rec_fhir_caller(r, &replied)) != 0 || replied)
        return rc;
    if (rec_has_query(r))
        return rec_fhir_error(r, 400, "not-supported", "a read takes no parameters");
    snprintf(r->res_id, sizeof(r->res_id), "%s", ss_uuid_ok(id) ? id : "");
    if ((rc = rec_fhir_person_ok(r, id)) == SS_ERR_NOT_FOUND)
        return rec_fhir_error(r, 404, "not-found", "Patient/{id} is not known");
    if (rc != 0)
        return rc;
    rec_touch_person(r, id);
    if ((rc = ss_db_query(ss_server_db(),
                          "SELECT " PATIENT_JSON " FROM records.persons p WHERE p.id = $1::uuid", 1,
                          params, &res)) != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return rec_fhir_error(r, 404, "not-found", "Patient/{id} is not known");
    }
    rc = rec_fhir_reply(r, 200, ss_json_col(res, 0, 0));
    PQclear(res);
    return rc;
}

/* The CapabilityStatement: what this server answers (public, as FHIR clients expect). */
int rec_h_fhir_metadata(ss_req *r)
{
    json_t *imm_params =
        json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "name",
                  "patient", "type", "reference", "name", "date", "type", "date", "name",
                  "vaccine-code", "type", "token", "name", "lot-number", "type", "string", "name",
                  "identifier", "type", "token", "name", "status", "type", "token");

    if (imm_params == NULL)
        return SS_ERR_NOMEM;
    return rec_fhir_reply(
        r, 200,
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:[s],s:{s:s},s:[{s:s,s:[{s:s,s:[{s:s}]},{s:s,s:[{s:s}],"
                  "s:o},{s:s,s:[{s:s}],s:[{s:s,s:s}]}]}]}",
                  "resourceType", "CapabilityStatement", "status", "active", "date", "2026-11-29",
                  "kind", "instance", "fhirVersion", "4.0.1", "format", "json", "implementation",
                  "description", "sesshu records (予防接種記録) FHIR R4", "rest", "mode", "server",
                  "resource", "type", "Patient", "interaction", "code", "read", "type",
                  "Immunization", "interaction", "code", "search-type", "searchParam", imm_params,
                  "type", "ImmunizationRecommendation", "interaction", "code", "search-type",
                  "searchParam", "name", "patient", "type", "reference"));
}
