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
 * non-disclosure flag. The statements that apply it say so (sql/self.sql, sql/fhir.sql). */

/* The identifier system of a Patient: + the municipality code (sql/fhir.sql builds it). */
#define REC_SYS_RESIDENT_NO "urn:sesshu:resident-no:"

/* Does the request carry a query string? (ulfius's map_url also holds the path's :params.) */
bool rec_has_query(const ss_req *r);

/* ---- self.c: GET /api/v1/persons/me… (self.read) ---- */
int rec_h_self_get(ss_req *r);
int rec_h_self_immunizations(ss_req *r);
int rec_h_self_child_get(ss_req *r);
int rec_h_self_child_immunizations(ss_req *r);
/* Is person_id the token's person or one of its children (rec_self_may_read)? 0, or
 * SS_ERR_NOT_FOUND, or a database error. */
int rec_self_may_read(const ss_req *r, const char *person_id);

/* ---- self_resolve.c: POST /internal/v1/person-resolutions (the token service only) ---- */
int rec_h_person_resolve(ss_req *r);

/* ---- cert_changes.c: GET /internal/v1/immunization-changes (the certificate service only) ---- */
int rec_h_cert_changes(ss_req *r);
/* GET /internal/v1/stats-feed (stats_feed.c): every record for the stats service (H-6). */
int rec_h_stats_feed(ss_req *r);
/* GET /internal/v1/claims-feed (claims_feed.c): an institution's records of a month for the
 * payment service (請求). */
int rec_h_claims_feed(ss_req *r);

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
