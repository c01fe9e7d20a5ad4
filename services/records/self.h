/* self.h - what the vaccinee self-view (self*.c, H-3-3) and the FHIR R4 interface (fhir*.c)
 * share inside the records service (prefix rec_). Tables: records.persons, records.guardians,
 * records.immunizations (migrations/001_persons_records.sql, the records core's); masters read
 * from schema master.
 *
 * Ownership: functions returning json_t* give a new reference (json_decref). */
#ifndef REC_SELF_H
#define REC_SELF_H

#include <jansson.h>
#include <stdbool.h>

#include "sesshu/http.h"

/* The persons a vaccinee token may read: its own person and the children linked to it as
 * guardian (records.guardians) who are minors (under 18, 民法 §4) and not under a
 * non-disclosure flag. SQL: $1 = the token's person id; one column, id. */
#define REC_SELF_FAMILY_SQL                                                                    \
    "SELECT $1::uuid AS id UNION SELECT c.id FROM records.guardians g JOIN records.persons c " \
    "ON c.id = g.child_id WHERE g.guardian_id = $1::uuid AND NOT c.non_disclosure AND "        \
    "c.birth_date > (current_date - interval '18 years')::date"

/* The name of a vaccine as of its record's date ($n: vaccine code, $m: date), from the master. */
#define REC_VACCINE_NAME(code, on)                                                               \
    "(SELECT v.name FROM master.vaccines v WHERE v.code = " code " AND v.superseded_at IS NULL " \
    "AND v.valid_from <= " on " AND (v.valid_to IS NULL OR v.valid_to >= " on                    \
    ") ORDER BY v.valid_from DESC LIMIT 1)"
#define REC_INSTITUTION_NAME(code, on)                                                    \
    "(SELECT m.name FROM master.institutions m WHERE m.code = " code                      \
    " AND m.superseded_at IS NULL AND m.valid_from <= " on " AND (m.valid_to IS NULL OR " \
    "m.valid_to >= " on ") ORDER BY m.valid_from DESC LIMIT 1)"

/* Code systems. Vaccines follow the current JP-Core (jami-fhir-jp-wg/jp-core-v1x,
 * input/fsh/aliases-jpcore.fsh: $JP_MedicationCodeHOT9_CS, ..._HOT13_CS, ..._YJ_CS, bound by
 * JP_Immunization.vaccineCode to JP_MedicationCode_Immunization_VS): the MEDIS / YJ URLs, with
 * the OIDs of JP-Core 1.1 (urn:oid:...) as a second coding of the same code, which older
 * clients still send and search by. */
#define REC_SYS_HOT9        "http://medis.or.jp/CodeSystem/master-HOT9"
#define REC_SYS_HOT13       "http://medis.or.jp/CodeSystem/master-HOT13"
#define REC_SYS_YJ          "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code"
#define REC_OID_HOT9        "urn:oid:1.2.392.200119.4.403.1"
#define REC_OID_HOT13       "urn:oid:1.2.392.200119.4.402.1"
#define REC_OID_YJ          "urn:oid:1.2.392.100495.20.1.73"
#define REC_SYS_URI         "urn:ietf:rfc:3986"
#define REC_SYS_RESIDENT_NO "urn:sesshu:resident-no:" /* + the municipality code */
#define REC_SYS_DISEASE     "urn:sesshu:disease"
#define REC_SYS_CATEGORY    "urn:sesshu:immunization-category"
/* The code system (URL, then OID) of a vaccine code column, by its length. */
#define REC_VACCINE_SYS(c)                                                           \
    "CASE length(" c ") WHEN 9 THEN '" REC_SYS_HOT9 "' WHEN 13 THEN '" REC_SYS_HOT13 \
    "' ELSE '" REC_SYS_YJ "' END"
#define REC_VACCINE_OID(c)                                                           \
    "CASE length(" c ") WHEN 9 THEN '" REC_OID_HOT9 "' WHEN 13 THEN '" REC_OID_HOT13 \
    "' ELSE '" REC_OID_YJ "' END"

/* The Immunization resource (JP_Immunization) of row i (with v = vaccine name, n = the
 * institution's name), nulls stripped. */
#define REC_FHIR_IMMUNIZATION_JSON                                                                 \
    "json_strip_nulls(json_build_object('resourceType', 'Immunization', 'id', i.id, 'meta', "      \
    "json_build_object('versionId', i.version::text, 'lastUpdated', i.updated_at, 'profile', "     \
    "json_build_array('http://jpfhir.jp/fhir/core/StructureDefinition/JP_Immunization')), "        \
    "'identifier', json_build_array(json_build_object('system', '" REC_SYS_URI "', 'value', "      \
    "'urn:uuid:' || i.id)), 'status', CASE WHEN i.status = 'voided' THEN 'entered-in-error' "      \
    "ELSE 'completed' END, 'vaccineCode', json_build_object('coding', "                            \
    "json_build_array(json_build_object('system', " REC_VACCINE_SYS(                               \
        "i.vaccine_code") ", 'code', "                                                             \
                          "i.vaccine_code, 'display', v.name), "                                   \
                          "json_build_object('system', " REC_VACCINE_OID(                          \
                              "i.vaccine_code") ", 'code', i.vaccine_code, 'display', v.name)), "  \
                                                "'text', v.name), "                                \
                                                "'patient', json_build_object('reference', "       \
                                                "'Patient/' || i.person_id), "                     \
                                                "'occurrenceDateTime', i.vaccinated_on, "          \
                                                "'recorded', "                                     \
                                                "i.registered_at, 'primarySource', i.source IN "   \
                                                "('institution', 'api'), 'lotNumber', "            \
                                                "i.lot_no, 'site', CASE WHEN i.site IS NOT NULL "  \
                                                "THEN json_build_object('text', i.site) "          \
                                                "END, 'doseQuantity', CASE WHEN i.dose_ml IS NOT " \
                                                "NULL THEN json_build_object('value', "            \
                                                "i.dose_ml, 'unit', 'mL', 'system', "              \
                                                "'http://unitsofmeasure.org', 'code', 'mL') END, " \
                                                "'performer', CASE WHEN i.institution_code IS "    \
                                                "NOT NULL THEN "                                   \
                                                "json_build_array(json_build_object('actor', "     \
                                                "json_build_object('identifier', "                 \
                                                "json_build_object('system', "                     \
                                                "'http://jpfhir.jp/fhir/core/IdSystem/"            \
                                                "insurance-medical-institution-no', 'value', "     \
                                                "i.institution_code), 'display', "                 \
                                                "coalesce(n.name, i.doctor_name)))) WHEN "         \
                                                "i.doctor_name IS "                                \
                                                "NOT NULL THEN "                                   \
                                                "json_build_array(json_build_object('actor', "     \
                                                "json_build_object('display', "                    \
                                                "i.doctor_name))) END, 'programEligibility', "     \
                                                "json_build_array(json_build_object('coding', "    \
                                                "json_build_array(json_build_object('system', "    \
                                                "'" REC_SYS_CATEGORY "', 'code', i.category)))), " \
                                                "'protocolApplied', "                              \
                                                "json_build_array(json_build_object('series', "    \
                                                "i.dose_label, "                                   \
                                                "'targetDisease', (SELECT "                        \
                                                "json_agg(json_build_object('coding', "            \
                                                "json_build_array(json_build_object('system', "    \
                                                "'" REC_SYS_DISEASE "', 'code', d)))) FROM "       \
                                                "unnest(i.disease_codes) d), "                     \
                                                "'doseNumberPositiveInt', i.dose_number))))"

#define REC_FHIR_IMM_FROM                                                                   \
    " FROM records.immunizations i JOIN records.persons p ON p.id = i.person_id LEFT JOIN " \
    "LATERAL " REC_VACCINE_NAME(                                                            \
        "i.vaccine_code", "i.vaccinated_on") " AS v(name) ON true LEFT "                    \
                                             "JOIN LATERAL " REC_INSTITUTION_NAME(          \
                                                 "i.institution_code",                      \
                                                 "i.vaccinated_on") " AS n(name) ON true WHERE "

/* The Patient resource (JP_Patient) of row p, nulls stripped. */
#define REC_FHIR_PATIENT_JSON                                                                 \
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

/* Does the request carry a query string? (ulfius's map_url also holds the path's :params.) */
bool rec_has_query(const ss_req *r);

/* ---- self.c: GET /api/v1/persons/me… (self.read) ---- */
int rec_h_self_get(ss_req *r);
int rec_h_self_immunizations(ss_req *r);
int rec_h_self_child_get(ss_req *r);
int rec_h_self_child_immunizations(ss_req *r);
/* Is person_id the token's person or one of its children (REC_SELF_FAMILY_SQL)? 0, or
 * SS_ERR_NOT_FOUND, or a database error. */
int rec_self_may_read(const ss_req *r, const char *person_id);

/* ---- self_resolve.c: POST /internal/v1/person-resolutions (the token service only) ---- */
int rec_h_person_resolve(ss_req *r);

/* ---- cert_changes.c: GET /internal/v1/immunization-changes (the certificate service only) ---- */
int rec_h_cert_changes(ss_req *r);
/* GET /internal/v1/stats-feed (stats_feed.c): every record for the stats service (H-6). */
int rec_h_stats_feed(ss_req *r);

/* ---- fhir*.c: /fhir (FHIR R4, JP-Core) ---- */
#define REC_FHIR_JSON "application/fhir+json; charset=utf-8"
/* Reply with a FHIR resource (stolen) as application/fhir+json. */
int rec_fhir_reply(ss_req *r, int status, json_t *resource);
/* Reply with an OperationOutcome (issue severity error, code, diagnostics); returns 0. */
int rec_fhir_error(ss_req *r, int status, const char *code, const char *diagnostics);
/* Who may read FHIR: a vaccinee (its family), or municipality staff or API client holding
 * records.read (its current residents). 0, or an OperationOutcome 403 was sent (*replied). */
int rec_fhir_caller(ss_req *r, bool *replied);
/* The FHIR base URL, e.g. "http://localhost:8080/fhir" (static storage). */
const char *rec_fhir_base(void);
/* May the caller read this person (see rec_fhir_caller)? 0, SS_ERR_NOT_FOUND, or db error. */
int rec_fhir_person_ok(const ss_req *r, const char *person_id);
/* Is name one of the general parameters every FHIR interaction takes (_format, _pretty,
 * _summary, _elements; checked once by the router, fhir_read.c)? */
bool rec_fhir_general_param(const char *name);
/* Set ETag W/"tag" and answer 304 when If-None-Match names it: 1 (answered), 0 (go on). */
int rec_fhir_etag(ss_req *r, const char *tag);
/* The whole of /fhir (GET and HEAD; other methods 405, unknown paths 404, all OperationOutcome):
 * the one route of service.c; it hands each request to the handlers below (fhir_read.c). */
int rec_h_fhir(ss_req *r);
int rec_h_fhir_metadata(ss_req *r);
int rec_fhir_patient_read(ss_req *r, const char *id);
int rec_h_fhir_patients(ss_req *r);
int rec_h_fhir_immunizations(ss_req *r);
int rec_fhir_immunization_read(ss_req *r, const char *id);
int rec_h_fhir_recommendations(ss_req *r);
/* The ImmunizationRecommendation of a person the caller may read ("id" is the person's). */
int rec_fhir_recommendation_read(ss_req *r, const char *id);

#endif
