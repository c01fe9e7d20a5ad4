/* records.c - vaccination records (接種記録), H-3 §2: register, read, correct (a new version,
 * the old one kept), void (with a reason), history. Every rule is checked by the one set-based
 * check (sql/rules.sql explains it) as of the vaccination date; each violation is named in the 422.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/text.h"

static const char *const categories[] = {"routine", "temporary", "voluntary", NULL};
static const char *const sources[] = {"institution", "paper",    "health_system",      "api",
                                      "foreign",     "handbook", "other_municipality", NULL};

/* History entered from outside the system: a 母子健康手帳, another municipality, abroad. */
static bool history_source(const char *src)
{
    return src != NULL && (strcmp(src, "foreign") == 0 || strcmp(src, "handbook") == 0 ||
                           strcmp(src, "other_municipality") == 0);
}

#define IMM_FIELDS(req)                                               \
    {"vaccinated_on", SS_F_DATE, req, 0, 0, NULL, false},             \
        {"vaccine_code", SS_F_STRING, req, 9, 13, NULL, false},       \
        {"disease_codes", SS_F_ARRAY, false, 1, 8, NULL, false},      \
        {"dose_number", SS_F_INT, req, 1, 20, NULL, false},           \
        {"dose_label", SS_F_STRING, false, 1, 40, NULL, true},        \
        {"lot_no", SS_F_STRING, false, 1, 20, NULL, true},            \
        {"institution_code", SS_F_STRING, false, 10, 10, NULL, true}, \
        {"doctor_name", SS_F_STRING, false, 1, 100, NULL, true},      \
        {"dose_ml", SS_F_OBJECT, false, 0, 0, NULL, true},            \
        {"site", SS_F_STRING, false, 1, 40, NULL, true},              \
        {"category", SS_F_ENUM, req, 0, 0, categories, false},        \
        {"source", SS_F_ENUM, false, 0, 0, sources, false},           \
        {"pregnancy_weeks", SS_F_INT, false, 0, 45, NULL, true},      \
        {"questionnaire_id", SS_F_STRING, false, 36, 36, NULL, true}, \
    {                                                                 \
        "note", SS_F_STRING, false, 0, 1000, NULL, true               \
    }

static const ss_field create_fields[] = {{"person_id", SS_F_STRING, true, 36, 36, NULL, false},
                                         IMM_FIELDS(true),
                                         {NULL, 0, false, 0, 0, NULL, false}};
static const ss_field correct_fields[] = {{"version", SS_F_INT, true, 1, 1000000, NULL, false},
                                          {"reason", SS_F_STRING, true, 1, 500, NULL, false},
                                          IMM_FIELDS(false),
                                          {NULL, 0, false, 0, 0, NULL, false}};

/* ss_json_check with dose_ml (a JSON number the table cannot type) checked here. */
static int imm_body_check(ss_req *r, const ss_field *fields)
{
    json_t *rest = NULL, *ml;
    int rc;

    if (r->body == NULL)
        return ss_body_check(r, fields);
    if ((rest = json_copy(r->body)) == NULL)
        return SS_ERR_NOMEM;
    json_object_del(rest, "dose_ml");
    rc = ss_json_check(r, rest, fields);
    json_decref(rest);
    ml = json_object_get(r->body, "dose_ml");
    if (ml != NULL && !json_is_null(ml) &&
        (!json_is_number(ml) || json_number_value(ml) <= 0 || json_number_value(ml) > 10))
        ss_req_field_error(r, "dose_ml", "must be a number of millilitres in (0, 10]");
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : rc;
}

bool rec_vaccine_code_ok(const char *s)
{
    size_t n = strlen(s);

    if (n != 9 && n != 12 && n != 13)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool digit = s[i] >= '0' && s[i] <= '9', upper = s[i] >= 'A' && s[i] <= 'Z';
        if (!(digit || (n == 12 && i >= 7 && upper)))
            return false;
    }
    return true;
}

/* 医療機関コード, or the non-insurance pseudo-code (digit 3 = 9, same Luhn digit). */
bool rec_inst_code_ok(const char *s)
{
    int sum = 0;

    if (ss_code_institution_ok(s))
        return true;
    if (strlen(s) != 10 || s[2] != '9' || !ss_code_prefecture_ok((char[]){s[0], s[1], 0}))
        return false;
    for (int i = 8, k = 0; i >= 0; i--, k++) {
        int d = s[i] - '0';
        if (d < 0 || d > 9)
            return false;
        if (k % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return s[9] - '0' == (10 - sum % 10) % 10;
}

/* Format rules the database need not see: codes with their check digits, arrays. */
static int imm_rules(ss_req *r, const json_t *doc)
{
    const char *vc = ss_json_str(doc, "vaccine_code"), *ic = ss_json_str(doc, "institution_code");
    const char *q = ss_json_str(doc, "questionnaire_id"), *src = ss_json_str(doc, "source");
    const json_t *dc = json_object_get(doc, "disease_codes"), *v;
    size_t i;

    if (vc != NULL && !rec_vaccine_code_ok(vc))
        ss_req_field_error(r, "vaccine_code", "must be a HOT9, HOT13 or YJ code");
    if (ic != NULL && !rec_inst_code_ok(ic))
        ss_req_field_error(r, "institution_code",
                           "is not a valid 医療機関コード (10 digits, check digit)");
    if (q != NULL && !ss_uuid_ok(q))
        ss_req_field_error(r, "questionnaire_id", "must be a uuid");
    json_array_foreach (dc, i, v) {
        const char *s = json_string_value(v);
        if (s == NULL || strlen(s) < 1 || strlen(s) > 32)
            ss_req_field_error(r, "disease_codes", "must hold disease codes of the master");
    }
    if (src != NULL && !history_source(src) && ss_json_str(doc, "doctor_name") == NULL)
        ss_req_field_error(r, "doctor_name", "is required (予防接種法施行規則 §3)");
    if (src != NULL && !history_source(src) && ic == NULL)
        ss_req_field_error(r, "institution_code", "is required");
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

/* The caller's default source: an institution's staff or client, a municipality's paper entry
 * or its health-management system. */
static const char *default_source(const ss_req *r)
{
    if (rec_is_institution(r))
        return r->who.kind == SS_PRINCIPAL_CLIENT ? "api" : "institution";
    return r->who.kind == SS_PRINCIPAL_CLIENT ? "health_system" : "paper";
}

/* Who registers: an institution registers its own vaccinations (institution_code is its own
 * code) for a person it identified; a municipality for its residents, from paper or its
 * health-management system (institution_code from the body). */
static int fill_defaults(ss_req *r, json_t *doc)
{
    const char *ic = ss_json_str(doc, "institution_code"), *src = ss_json_str(doc, "source");

    if (!rec_is_institution(r) && rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "records are registered by medical institutions and municipalities");
    if (rec_is_institution(r)) {
        if (ic != NULL && strcmp(ic, r->who.org_code) != 0)
            return ss_req_field_error(r, "institution_code", "must be your own code");
        if (src != NULL && strcmp(src, default_source(r)) != 0)
            return ss_req_field_error(r, "source", "is set by the service for institutions");
        json_object_set_new(doc, "institution_code", json_string(r->who.org_code));
    } else if (src != NULL && strcmp(src, "paper") != 0 && !history_source(src) &&
               strcmp(src, default_source(r)) != 0) {
        return ss_req_field_error(r, "source",
                                  "must be paper, handbook, other_municipality, "
                                  "foreign or your own channel");
    }
    if (src == NULL)
        json_object_set_new(doc, "source", json_string(default_source(r)));
    return 0;
}

/* The arguments of a statement that checks one record (rec_imm_insert, rec_imm_correct,
 * rec_imm_check), by the names of its .sql file, from a record document (borrowed: doc must
 * outlive the statement); the statement's own others are the caller's. */
typedef struct imm_args {
    ss_sql_args a;
    char dc[512];
} imm_args;

static void imm_args_of(imm_args *p, const ss_sql_param *defs, const json_t *doc,
                        const char *exclude)
{
    const json_t *dc = json_object_get(doc, "disease_codes"), *ml = json_object_get(doc, "dose_ml");
    const json_t *pw = json_object_get(doc, "pregnancy_weeks");
    char *t = dc != NULL && json_is_array(dc) ? json_dumps(dc, JSON_COMPACT) : NULL;
    ss_sql_args *a = &p->a;

    snprintf(p->dc, sizeof(p->dc), "%s", t ? t : "");
    free(t);
    ss_sql_args_init(a, defs);
    ss_sql_arg(a, "person_id", ss_json_str(doc, "person_id"));
    ss_sql_arg(a, "vaccinated_on", ss_json_str(doc, "vaccinated_on"));
    ss_sql_arg(a, "vaccine_code", ss_json_str(doc, "vaccine_code"));
    ss_sql_arg(a, "disease_codes", p->dc[0] ? p->dc : NULL);
    ss_sql_arg_int(a, "dose_number", json_integer_value(json_object_get(doc, "dose_number")));
    ss_sql_arg(a, "lot_no", ss_json_str(doc, "lot_no"));
    ss_sql_arg(a, "institution_code", ss_json_str(doc, "institution_code"));
    ss_sql_arg(a, "category", ss_json_str(doc, "category"));
    if (json_is_integer(pw))
        ss_sql_arg_int(a, "pregnancy_weeks", json_integer_value(pw));
    else
        ss_sql_arg(a, "pregnancy_weeks", NULL);
    ss_sql_arg(a, "exclude_id", exclude);
    ss_sql_arg(a, "source", ss_json_str(doc, "source"));
    ss_sql_arg(a, "dose_label", ss_json_str(doc, "dose_label"));
    if (!ss_sql_args_has(a, "doctor_name"))
        return; /* the dry run stores nothing more */
    ss_sql_arg(a, "doctor_name", ss_json_str(doc, "doctor_name"));
    if (json_is_number(ml))
        ss_sql_arg_num(a, "dose_ml", json_number_value(ml), 2);
    else
        ss_sql_arg(a, "dose_ml", NULL);
    ss_sql_arg(a, "site", ss_json_str(doc, "site"));
    ss_sql_arg(a, "questionnaire_id", ss_json_str(doc, "questionnaire_id"));
    ss_sql_arg(a, "note", ss_json_str(doc, "note"));
}

/* Every argument set, each of its type; a mistake is the code's (logged, 500). */
static int imm_args_done(imm_args *p)
{
    if (ss_sql_args_done(&p->a) == 0)
        return 0;
    SS_ERROR("immunization statement: %s", p->a.err);
    return SS_ERR_INTERNAL;
}

/* The check's verdict on one row (columns: errors, duplicate, dup_rule): 0, a 409 for a
 * duplicate naming its rule, or a 422 naming every rule broken with its field. */
static int verdict(ss_req *r, const PGresult *res)
{
    json_t *errs;
    size_t i;
    json_t *e;

    if (PQntuples(res) != 1)
        return SS_ERR_INTERNAL;
    if (strcmp(ss_db_val(res, 0, 1), "t") == 0)
        return ss_req_fail(r, SS_ERR_CONFLICT,
                           "%s: this vaccination is already recorded (same dose of the same "
                           "disease, or the same product on the same day)",
                           PQgetisnull(res, 0, 3) ? "R-DUPLICATE" : ss_db_val(res, 0, 3));
    if ((errs = ss_json_col(res, 0, 0)) == NULL)
        return 0;
    json_array_foreach (errs, i, e) {
        json_t *last;

        ss_req_field_error(r, json_string_value(json_object_get(e, "field")),
                           json_string_value(json_object_get(e, "reason")));
        last = json_array_get(r->errors, json_array_size(r->errors) - 1);
        if (last != NULL && json_object_get(e, "rule") != NULL)
            json_object_set(last, "rule", json_object_get(e, "rule"));
    }
    json_decref(errs);
    return SS_ERR_VALIDATION;
}

/* Lock the person for this transaction (dose order is per person) and check the caller may
 * record for them: the municipality that holds them, or an institution that identified them.
 * The check's statement is planned once per connection (a generic plan): planning its CTEs
 * costs ten times more than running them for one record, and without JIT, which a generic
 * plan's estimates would switch on for every execution.
 * The transaction commits synchronously: it carries the request's access-log row (the
 * dispatcher appends it before COMMIT, docs/architecture.md §4), so its one WAL flush makes
 * both the record and its row durable before the client sees 201. (It used to commit without
 * waiting, when the row followed in a transaction of its own; with the row inside, that would
 * acknowledge a write a crash of PostgreSQL could still lose.) Concurrent registrations share
 * flushes: no lock is held across a commit any more (the access log's writer streams). */
static int person_for_write(ss_req *r, ss_dbc *c, const char *person_id)
{
    const char *params[] = {person_id, rec_muni(r), r->who.org_id};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_rec_imm_person_for_write, 3, params, &res);
    if (rc == 0 && PQntuples(res) != 1)
        rc = ss_req_field_error(r, "person_id", "is not a person of yours");
    PQclear(res);
    return rc;
}

static int create_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    imm_args p;
    PGresult *res = NULL;
    int rc;

    if ((rc = person_for_write(r, c, ss_json_str(arg, "person_id"))) != 0)
        return rc;
    imm_args_of(&p, sql_rec_imm_insert_params, arg, NULL);
    ss_sql_arg(&p.a, "org_id", r->who.org_id);
    ss_sql_arg(&p.a, "by", r->who.sub);
    if ((rc = imm_args_done(&p)) != 0)
        return rc;
    rc = ss_db_exec(c, sql_rec_imm_insert, p.a.n, p.a.v, &res);
    if (rc == 0 && (rc = verdict(r, res)) == 0)
        *doc = ss_json_col(res, 0, 2);
    PQclear(res);
    *status = 201;
    return rc != 0 ? rc : (*doc == NULL ? SS_ERR_INTERNAL : 0);
}

/* A new dose's body (registration, or the dry run of one): checked, the defaults filled, then
 * `tx` in a write transaction. */
static int new_dose(ss_req *r, rec_tx_fn tx)
{
    json_t *doc = NULL;
    int rc;

    if ((rc = imm_body_check(r, create_fields)) != 0)
        return rc;
    if (!ss_uuid_ok(ss_json_str(r->body, "person_id")))
        return ss_req_field_error(r, "person_id", "must be a person id");
    if ((doc = json_copy(r->body)) == NULL)
        return SS_ERR_NOMEM;
    if ((rc = fill_defaults(r, doc)) == 0 && (rc = imm_rules(r, doc)) == 0)
        rc = rec_write_tx(r, tx, doc, false);
    json_decref(doc);
    return rc;
}

int rec_h_imm_create(ss_req *r)
{
    return new_dose(r, create_tx);
}

/* Corrections: the current record merged with the body, checked again without itself. */
static int correct_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *id = arg;
    json_t *cur = NULL;
    imm_args p;
    PGresult *res = NULL;
    int rc;

    const char *lp[] = {id, rec_muni(r), r->who.org_id};
    rc = rec_exec_doc(r, c, sql_rec_imm_for_correction, 3, lp, &cur, "record");
    if (rc != 0)
        return rc;
    /* A voided record is there, but in a state that takes no correction: 409, not 404. */
    if (strcmp(ss_json_str(cur, "status") ? ss_json_str(cur, "status") : "", "voided") == 0) {
        json_decref(cur);
        return ss_req_fail(r, SS_ERR_CONFLICT, "the record is voided; it takes no correction");
    }
    /* The current version is read before cur is released: the 409 names it. */
    long long current = json_integer_value(json_object_get(cur, "version"));
    if (current != json_integer_value(json_object_get(r->body, "version"))) {
        json_decref(cur);
        return ss_req_fail(r, SS_ERR_CONFLICT, "the record has changed: version %lld is current",
                           current);
    }
    json_object_update(cur, r->body);
    json_object_del(cur, "version");
    if ((rc = imm_rules(r, cur)) != 0 ||
        (rc = person_for_write(r, c, ss_json_str(cur, "person_id"))) != 0) {
        json_decref(cur);
        return rc == SS_ERR_VALIDATION && json_array_size(r->errors) == 0 ? SS_ERR_NOT_FOUND : rc;
    }
    imm_args_of(&p, sql_rec_imm_correct_params, cur, id);
    ss_sql_arg(&p.a, "reason", ss_json_str(r->body, "reason"));
    ss_sql_arg(&p.a, "by", r->who.sub);
    if ((rc = imm_args_done(&p)) != 0) {
        json_decref(cur);
        return rc;
    }
    rc = ss_db_exec(c, sql_rec_imm_correct, p.a.n, p.a.v, &res);
    if (rc == 0 && (rc = verdict(r, res)) == 0)
        *doc = ss_json_col(res, 0, 2);
    PQclear(res);
    if (rc == 0 && *doc != NULL)
        rc = rec_later_doses_check(r, c, ss_json_str(cur, "person_id"), id);
    json_decref(cur);
    *status = 200;
    return rc != 0 ? rc : (*doc == NULL ? SS_ERR_INTERNAL : 0);
}

int rec_h_imm_correct(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    int rc;

    if (!rec_is_institution(r) && rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "records are corrected by their institution or municipality");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such record of yours");
    if ((rc = imm_body_check(r, correct_fields)) != 0)
        return rc;
    if (rec_is_institution(r) && (json_object_get(r->body, "institution_code") != NULL ||
                                  json_object_get(r->body, "source") != NULL))
        return ss_req_field_error(r, "institution_code", "an institution's own records keep it");
    return rec_write_tx(r, correct_tx, id, false);
}

/* POST /api/v1/immunizations/check: the dry run of a registration. The same body, the same
 * defaults and the same rules as POST /api/v1/immunizations, nothing written: 200 with what the
 * record would become (outcome recorded / refused / duplicate, category, claimable, flags, every
 * rule hit with its effect and field). */

static int check_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    imm_args p;
    int rc;

    if ((rc = person_for_write(r, c, ss_json_str(arg, "person_id"))) != 0)
        return rc;
    imm_args_of(&p, sql_rec_imm_check_params, arg, NULL);
    if ((rc = imm_args_done(&p)) != 0)
        return rc;
    *status = 200;
    return rec_exec_doc(r, c, sql_rec_imm_check, p.a.n, p.a.v, doc, "check");
}

int rec_h_imm_check(ss_req *r)
{
    return new_dose(r, check_tx);
}
