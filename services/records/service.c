/* service.c - the records service's routes.
 *
 * One table; each group of routes is kept together under its flow. Static paths never share a
 * method and depth with a /:id pattern, so route order does not matter to ulfius. */
#include "mch/mch.h"
#include "questionnaires/questionnaire.h"
#include "rec.h"
#include "self.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

#ifndef SS_MIGRATIONS_DIR
#define SS_MIGRATIONS_DIR "services/records/migrations"
#endif

#define P_READ  SS_PERM_PERSONS_READ
#define P_WRITE SS_PERM_PERSONS_WRITE
#define R_READ  SS_PERM_RECORDS_READ
#define R_WRITE SS_PERM_RECORDS_WRITE
#define L_READ  SS_PERM_LINKAGE_READ

static const ss_route routes[] = {
    /* ---- H-3: persons, records, linkage, staff queries ---- */
    {"POST", "/api/v1/persons", rec_h_person_create, P_WRITE, 0, "person"},
    {"GET", "/api/v1/persons", rec_h_person_list, P_READ, 0, "person"},
    {"POST", "/api/v1/persons/search", rec_h_person_search, P_READ, 0, "person"},
    {"POST", "/api/v1/persons/lookup", rec_h_person_lookup, R_WRITE, 0, "person"},
    {"POST", "/api/v1/persons/move-in", rec_h_person_move_in, P_WRITE, 0, "person"},
    {"GET", "/api/v1/persons/:id", rec_h_person_get, P_READ, 0, "person"},
    {"PATCH", "/api/v1/persons/:id", rec_h_person_patch, P_WRITE, 0, "person"},
    {"GET", "/api/v1/persons/:id/history", rec_h_person_history, P_READ, 0, "person"},
    {"GET", "/api/v1/persons/:id/guardians", rec_h_guardian_list, P_READ, 0, "person"},
    {"POST", "/api/v1/persons/:id/guardians", rec_h_guardian_add, P_WRITE, 0, "person"},
    {"DELETE", "/api/v1/persons/:id/guardians/:guardian_id", rec_h_guardian_remove, P_WRITE, 0,
     "person"},
    {"GET", "/api/v1/persons/:id/conditions", rec_h_condition_list, P_READ, 0, "person"},
    {"POST", "/api/v1/persons/:id/conditions", rec_h_condition_add, P_WRITE, 0, "person"},
    {"POST", "/api/v1/persons/:id/conditions/:condition_id/revoke", rec_h_condition_revoke, P_WRITE,
     0, "person"},
    {"GET", "/api/v1/persons/:id/immunizations", rec_h_person_immunizations, R_READ, 0,
     "immunization"},
    {"POST", "/api/v1/immunizations", rec_h_imm_create, R_WRITE, 0, "immunization"},
    {"POST", "/api/v1/immunizations/check", rec_h_imm_check, R_WRITE, 0, "immunization"},
    {"GET", "/api/v1/immunizations", rec_h_imm_search, R_READ, 0, "immunization"},
    {"GET", "/api/v1/immunizations/:id", rec_h_imm_get, R_READ, 0, "immunization"},
    {"GET", "/api/v1/immunizations/:id/history", rec_h_imm_history, R_READ, 0, "immunization"},
    {"POST", "/api/v1/immunizations/:id/corrections", rec_h_imm_correct, R_WRITE, 0,
     "immunization"},
    {"POST", "/api/v1/immunizations/:id/void", rec_h_imm_void, R_WRITE, 0, "immunization"},
    {"GET", "/api/v1/linkage/immunizations", rec_h_feed_immunizations, L_READ, 0, "immunization"},
    {"GET", "/api/v1/linkage/persons", rec_h_feed_persons, L_READ, 0, "person"},
    /* Bulk import: NDJSON in chunks of at most 1 MiB (the gateway's and the service's limit). */
    {"POST", "/api/v1/linkage/imports", rec_h_import_create, P_WRITE, 0, "import"},
    {"GET", "/api/v1/linkage/imports/:id", rec_h_import_get, P_WRITE, 0, "import"},
    {"POST", "/api/v1/linkage/imports/:id/lines", rec_h_import_chunk, P_WRITE, SS_ROUTE_RAW_BODY,
     "import"},
    {"POST", "/api/v1/linkage/imports/:id/commit", rec_h_import_commit, P_WRITE, 0, "import"},
    {"GET", "/api/v1/linkage/imports/:id/errors", rec_h_import_errors, P_WRITE, 0, "import"},

    /* ---- H-3-3: vaccinee self-view; FHIR ---- */
    {"GET", "/api/v1/persons/me", rec_h_self_get, SS_PERM_SELF_READ, 0, "person"},
    {"GET", "/api/v1/persons/me/immunizations", rec_h_self_immunizations, SS_PERM_SELF_READ, 0,
     "immunization"},
    {"GET", "/api/v1/persons/me/children/:id", rec_h_self_child_get, SS_PERM_SELF_READ, 0,
     "person"},
    {"GET", "/api/v1/persons/me/children/:id/immunizations", rec_h_self_child_immunizations,
     SS_PERM_SELF_READ, 0, "immunization"},
    {"POST", "/internal/v1/person-resolutions", rec_h_person_resolve, SS_PERM_PUBLIC,
     SS_ROUTE_OWN_AUTH, "person"},
    {"GET", "/internal/v1/immunization-changes", rec_h_cert_changes, SS_PERM_PUBLIC,
     SS_ROUTE_OWN_AUTH, "immunization"},
    {"GET", "/internal/v1/stats-feed", rec_h_stats_feed, SS_PERM_PUBLIC, SS_ROUTE_OWN_AUTH,
     "immunization"},
    {"GET", "/internal/v1/claims-feed", rec_h_claims_feed, SS_PERM_PUBLIC, SS_ROUTE_OWN_AUTH,
     "immunization"},
    /* All of /fhir, every method: fhir_read.c routes it (each path answers an OperationOutcome,
     * unknown ones too) and names the interaction for the access log. */
    {"*", "/fhir/*", rec_h_fhir, SS_PERM_PUBLIC, SS_ROUTE_REPEAT_QUERY | SS_ROUTE_RAW_BODY, "fhir"},

    /* ---- H-4 questionnaires, H-7 maternal/child health ---- */
    {"GET", "/api/v1/questionnaires/templates", rec_q_h_template_list, SS_PERM_AUTHENTICATED, 0,
     "questionnaire_template"},
    {"POST", "/api/v1/questionnaires/templates", rec_q_h_template_create,
     SS_PERM_QUESTIONNAIRE_TEMPLATES, 0, "questionnaire_template"},
    {"GET", "/api/v1/questionnaires/templates/:id", rec_q_h_template_get, SS_PERM_AUTHENTICATED, 0,
     "questionnaire_template"},
    {"PUT", "/api/v1/questionnaires/templates/:id", rec_q_h_template_update,
     SS_PERM_QUESTIONNAIRE_TEMPLATES, 0, "questionnaire_template"},
    {"POST", "/api/v1/questionnaires/answers", rec_q_h_answer_create, SS_PERM_QUESTIONNAIRES_WRITE,
     0, "questionnaire"},
    {"GET", "/api/v1/questionnaires/answers", rec_q_h_answer_list, SS_PERM_QUESTIONNAIRES_READ, 0,
     "questionnaire"},
    {"GET", "/api/v1/questionnaires/answers/:id", rec_q_h_answer_get, SS_PERM_QUESTIONNAIRES_READ,
     0, "questionnaire"},
    {"POST", "/api/v1/questionnaires/answers/:id/judgement", rec_q_h_answer_judge,
     SS_PERM_QUESTIONNAIRES_WRITE, 0, "questionnaire"},
    {"POST", "/api/v1/questionnaires/answers/:id/record", rec_q_h_answer_link,
     SS_PERM_QUESTIONNAIRES_WRITE, 0, "questionnaire"},
    {"POST", "/api/v1/questionnaires/self", rec_q_h_self_create, SS_PERM_SELF_WRITE, 0,
     "questionnaire"},
    {"GET", "/api/v1/questionnaires/self", rec_q_h_self_list, SS_PERM_SELF_READ, 0,
     "questionnaire"},
    {"GET", "/api/v1/questionnaires/self/:id", rec_q_h_self_get, SS_PERM_SELF_READ, 0,
     "questionnaire"},
    {"POST", "/api/v1/maternal-child-health/records", rec_mch_h_create, SS_PERM_MCH_WRITE, 0,
     "mch_record"},
    {"POST", "/api/v1/maternal-child-health/records/bulk", rec_mch_h_bulk, SS_PERM_MCH_WRITE,
     SS_ROUTE_RAW_BODY, "mch_record"},
    {"GET", "/api/v1/maternal-child-health/records", rec_mch_h_list, SS_PERM_MCH_READ, 0,
     "mch_record"},
    {"GET", "/api/v1/maternal-child-health/records/:id", rec_mch_h_get, SS_PERM_MCH_READ, 0,
     "mch_record"},
    {"GET", "/api/v1/maternal-child-health/self", rec_mch_h_self_list, SS_PERM_SELF_READ, 0,
     "mch_record"},

    {NULL, NULL, NULL, 0, 0, NULL},
};

/* Start-up: the 個人番号 keys (the service refuses to start without them). Other parts of
 * the service add their start-up here. */
static int rec_init(ss_db *db)
{
    (void)db;
    return rec_mynumber_init();
}

const ss_service rec_service = {
    .name = "records",
    .env_name = "RECORDS",
    .schema = "records",
    .default_port = SS_PORT_RECORDS,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = routes,
    .init = rec_init,
};
