/* rec.h - what the records service's files share: the service and its handlers.
 *
 * Ownership of the files (a folder per domain; README.md "Files"):
 *   persons/, immunizations/, linkage/, feeds/   H-3: persons, records and staff queries,
 *                                                linkage, the feeds of certificate and stats
 *   self/, fhir/ (self.h)                        H-3-3 vaccinee self-view, FHIR R4
 *   questionnaires/, mch/                        H-4 予診票, H-7 母子保健・健診情報
 *
 * Tables other files may rely on (migrations/001_persons_records.sql):
 *   records.persons (id, muni_code, resident_no, name, name_kana, birth_date, sex, address,
 *                    status, non_disclosure, ...), records.guardians (child_id, guardian_id),
 *   records.immunizations (id, person_id, muni_code, status 'registered'|'corrected'|'voided',
 *                    vaccinated_on, vaccine_code, disease_codes, dose_number, lot_no, ...). */
#ifndef REC_H
#define REC_H

#include <stdbool.h>

#include "rec_sql.h" /* generated from sql/<resource>.sql (cmake/sesshu_sql.cmake) */
#include "sesshu/db.h"
#include "sesshu/http.h"
#include "sesshu/idem.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"

/* The service (service.c); main.c runs it, tests start it in-process. */
extern const ss_service rec_service;

/* ---- H-3 persons (persons*.c) ---- */
int rec_h_person_create(ss_req *r);
int rec_h_person_get(ss_req *r);
int rec_h_person_patch(ss_req *r);
int rec_h_person_list(ss_req *r);
int rec_h_person_move_in(ss_req *r);
int rec_h_person_history(ss_req *r);
int rec_h_person_lookup(ss_req *r);
int rec_h_person_search(ss_req *r);
int rec_h_guardian_add(ss_req *r);
int rec_h_guardian_list(ss_req *r);
int rec_h_guardian_remove(ss_req *r);
/* persons_records.c: GET /api/v1/persons/:id?include=immunizations (id a uuid, checked) */
int rec_person_get_with_records(ss_req *r, const char *id);
/* persons_conditions.c: per-person conditions the rules read (60-64 disability, 長期療養特例) */
int rec_h_condition_add(ss_req *r);
int rec_h_condition_list(ss_req *r);
int rec_h_condition_revoke(ss_req *r);

/* ---- H-3 records (records*.c) ---- */
int rec_h_imm_create(ss_req *r);
int rec_h_imm_get(ss_req *r);
int rec_h_imm_correct(ss_req *r);
int rec_h_imm_void(ss_req *r);
/* POST /api/v1/immunizations/check: what a registration would become, nothing written. */
int rec_h_imm_check(ss_req *r);
/* GET /api/v1/immunizations/rules (reached through rec_h_imm_get): the rules as of a date. */
int rec_h_imm_rules(ss_req *r);
int rec_h_imm_history(ss_req *r);
int rec_h_person_immunizations(ss_req *r);

/* ---- H-3-1 linkage (linkage*.c), H-3-2 queries (query*.c) ---- */
int rec_h_feed_immunizations(ss_req *r);
int rec_h_feed_persons(ss_req *r);
int rec_h_import_create(ss_req *r);
int rec_h_import_chunk(ss_req *r);
int rec_h_import_commit(ss_req *r);
int rec_h_import_get(ss_req *r);
int rec_h_import_errors(ss_req *r);
int rec_h_imm_search(ss_req *r);

/* ---- the 個人番号 (persons_mynumber.c) ---- */
/* Load both keys (SESSHU_RECORDS_MYNUMBER_KEY[_FILE], SESSHU_RECORDS_MYNUMBER_HMAC_KEY[_FILE]);
 * the service's init hook. */
int rec_mynumber_init(void);
/* Keyed hash (64 hex + NUL) of a 個人番号 for look-ups. */
void rec_mynumber_hash(const char *my_number, char out[65]);
/* Seal for storage, bound to the person id: bytea hex text "\\x..." (malloc'd) in *out. */
int rec_mynumber_seal(const char *my_number, const char *person_id, char **out);
/* Open a sealed value as returned by PostgreSQL (bytea hex text); out has 13 bytes. */
int rec_mynumber_open(const char *bytea_hex, const char *person_id, char out[13]);

/* ---- code formats (records.c, persons.c) ---- */
bool rec_vaccine_code_ok(const char *s); /* HOT9, HOT13 or YJ */
bool rec_inst_code_ok(const char *s); /* 医療機関コード or the non-insurance pseudo-code */
bool rec_kana_ok(const char *s);      /* full-width katakana and spaces */

/* ---- shared request helpers (records_util.c) ---- */
/* The caller's municipality code when it is a municipality (user or API client), else NULL. */
const char *rec_muni(const ss_req *r);
/* Who reads records: "muni", "inst", "kokuhoren", "mhlw", or NULL (records_read.c). */
const char *rec_viewer(const ss_req *r);
/* Who sees which record (rec_viewer): a municipality the records of its residents, and of
 * people who moved in the records it registered while they were its residents
 * (records.person_visible); an institution what it registered and the records of the persons
 * in its care (records.care_links); a 国保連合会 the claimable records of its prefecture's
 * institutions; the ministry every record, without the person. The statements write this out
 * (sql/immunizations.sql: rec_imm_get_<viewer> one per viewer, the others as a CASE over $1). */

/* Is the caller a medical institution (insurance or not)? */
bool rec_is_institution(const ss_req *r);
/* Reply with the JSON text in column 0 of a one-row result or 404 with `what`; fills res_id
 * from the member "id" and person_id from "person_id" (or "id" when is_person). */
int rec_reply_one(ss_req *r, const PGresult *res, int status, const char *what, bool is_person);
/* GET /api/v1/persons/:id/<list> of the caller's municipality: `sql` ($1 the person id, $2 the
 * municipality) answers one row when the person is the caller's, its column `col` the JSON
 * array of items (conditions, guardians), or with col REC_ITEMS_ROWS one item a row in column
 * 0, at least one (the history: a row a version of the person); the reply is
 * {person_id, items}, else 404. */
#define REC_ITEMS_ROWS (-1)
int rec_person_items(ss_req *r, const char *sql, int col);
/* Copy the person id into r->person_id for the access log. */
void rec_touch_person(ss_req *r, const char *person_id);
/* A change-feed cursor "<txid>-<seq>" (each 1 to 19 decimal digits, so a bigint) into txid and
 * seq; false when it is not one. The linkage, certificate and statistics feeds share it. */
bool rec_feed_cursor(const char *a, char txid[24], char seq[24]);
/* One statement on a leased connection, mapping constraint violations to field errors. */
int rec_exec(ss_req *r, const char *sql, int n, const char *const *params, PGresult **out);
/* Map the constraint the last statement on c violated (by name, records_util.c's table) to a
 * problem or field error; returns rc unchanged when it is not in the table. */
int rec_db_error(ss_req *r, ss_dbc *c, int rc);

/* A write in one transaction with Idempotency-Key: fn does the work on c and hands back the
 * answer (*doc, new reference; *status). Commits, replies with it and fills res_id and
 * person_id from its "id" / "person_id" (or "id" when is_person); a replay answers the first
 * reply and calls nothing. */
typedef int (*rec_tx_fn)(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status);
int rec_write_tx(ss_req *r, rec_tx_fn fn, const void *arg, bool is_person);
/* records_later.c: after a correction or void of changed_id (in its transaction), 0 when no
 * other dose of the person would newly break a series rule, else SS_ERR_VALIDATION with one
 * error per such dose (rule R-CORRECTION-LATER). */
int rec_later_doses_check(ss_req *r, ss_dbc *c, const char *person_id, const char *changed_id);
/* Column 0 of the single row of `sql` as JSON (new reference in *doc), or 404 with `what`. */
int rec_exec_doc(ss_req *r, ss_dbc *c, const char *sql, int n, const char *const *params,
                 json_t **doc, const char *what);

#endif
