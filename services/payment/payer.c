/* payer.c - H-10: a 国保連合会's admin registers the federation's source accounts and links each
 * to the destination bank codes it pays (same-bank transfers cost less); one account is the
 * default for every other bank. Validated against the bank master, versioned like H-9 (every
 * version in payer_account_versions), read by every user of the federation.
 *
 * A destination bank code is linked to at most one active account of the federation, and at
 * most one active account is the default: both are checked under the federation's lock (and
 * by the primary key of payer_links and a unique index) and answered 409 naming the holder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const types[] = {"ordinary", "current", "savings", NULL};

static const ss_field payer_fields[] = {
    {"bank_code", SS_F_STRING, true, 1, 4, NULL, false},
    {"branch_code", SS_F_STRING, true, 1, 3, NULL, false},
    {"account_type", SS_F_ENUM, true, 0, 0, types, false},
    {"account_number", SS_F_STRING, true, 1, 7, NULL, false},
    {"holder_name", SS_F_STRING, true, 1, 100, NULL, false},
    {"client_code", SS_F_STRING, true, 1, 10, NULL, false},
    {"destination_bank_codes", SS_F_ARRAY, true, 0, 200, NULL, false},
    {"is_default", SS_F_BOOL, false, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

typedef struct payer_in {
    char holder[PAY_NAME_BUF];
    char *codes; /* JSON array text of the destination bank codes (malloc'd) */
    bool is_default;
} payer_in;

static void today(char out[11])
{
    time_t t = time(NULL) + 9 * 3600;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int parse_body(ss_req *r, payer_in *p)
{
    const json_t *arr;
    json_t *v, *copy = NULL;
    size_t i;
    char name[64];
    int rc;

    if ((rc = ss_body_check(r, payer_fields)) != 0)
        return rc;
    if (!ss_code_digits(ss_json_str(r->body, "bank_code"), 4))
        ss_req_field_error(r, "bank_code", "must be 4 digits");
    if (!ss_code_digits(ss_json_str(r->body, "branch_code"), 3))
        ss_req_field_error(r, "branch_code", "must be 3 digits");
    if (!ss_code_digits(ss_json_str(r->body, "account_number"), 7))
        ss_req_field_error(r, "account_number", "must be 7 digits (zero-padded on the left)");
    if (!ss_code_digits(ss_json_str(r->body, "client_code"), 10))
        ss_req_field_error(r, "client_code", "must be the 10-digit 依頼人コード of the bank");
    /* 依頼人名 is C(40) in the Zengin header. */
    pay_holder_name(r, "holder_name", ss_json_str(r->body, "holder_name"), 40, p->holder);
    p->is_default = json_is_true(json_object_get(r->body, "is_default"));
    arr = json_object_get(r->body, "destination_bank_codes");
    if ((copy = json_array()) == NULL)
        return SS_ERR_NOMEM;
    json_array_foreach (arr, i, v) {
        bool dup = false;

        for (size_t k = 0; k < i && !dup; k++)
            dup = json_equal(v, json_array_get(arr, k));
        snprintf(name, sizeof(name), "destination_bank_codes[%zu]", i);
        if (!ss_code_digits(json_string_value(v), 4))
            ss_req_field_error(r, name, "must be a 4-digit bank code");
        else if (dup)
            ss_req_field_error(r, name, "is repeated");
        else
            json_array_append(copy, v);
    }
    if (json_array_size(arr) == 0 && !p->is_default)
        ss_req_field_error(r, "destination_bank_codes",
                           "an account that is not the default needs at least one bank code");
    p->codes = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    if (p->codes == NULL)
        return SS_ERR_NOMEM;
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

/* Under the federation's lock: every destination bank exists today, none is linked to
 * another active account, and there is no other default. */
static int links_check(ss_req *r, ss_dbc *c, const payer_in *p, const char *self_id)
{
    const char *lock[] = {pay_pref(r)};
    char day[11], name[64], why[160];
    PGresult *res = NULL;
    int rc;

    today(day);
    if ((rc = ss_db_exec(c, sql_pay_payer_lock, 1, lock, NULL)) != 0)
        return rc;
    const char *params[] = {pay_pref(r), p->codes, self_id, day, p->is_default ? "t" : "f"};
    rc = ss_db_exec(c, sql_pay_payer_links_check, 5, params, &res);
    if (rc != 0)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *kind = PQgetvalue(res, i, 0);

        snprintf(name, sizeof(name), "destination_bank_codes[%d]", atoi(PQgetvalue(res, i, 1)) - 1);
        if (strcmp(kind, "unknown") == 0) {
            snprintf(why, sizeof(why), "no bank %s in the bank master", PQgetvalue(res, i, 2));
            rc = ss_req_field_error(r, name, why);
        } else if (rc == 0 && strcmp(kind, "linked") == 0) {
            rc = ss_req_fail(r, SS_ERR_CONFLICT, "bank %s is already paid from account %s",
                             PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
        } else if (rc == 0) {
            rc = ss_req_fail(r, SS_ERR_CONFLICT, "account %s is already the default",
                             PQgetvalue(res, i, 3));
        }
    }
    PQclear(res);
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : rc;
}

/* The constraints behind links_check's answers (migrations/001), by name: a write that races
 * another past the lock's checks still gets a 409 that says what. */
static const ss_sql_constraint payer_constraints[] = {
    {"payer_accounts_number", SS_ERR_CONFLICT, NULL,
     "another active account of your 国保連合会 has that bank, branch and number"},
    {"payer_accounts_one_default", SS_ERR_CONFLICT, NULL, "another active account is the default"},
    {"payer_links_pkey", SS_ERR_CONFLICT, NULL,
     "a destination bank is already paid from another active account"},
    {NULL, 0, NULL, NULL},
};

/* The parameters of pay_payer_insert and pay_payer_update (which adds the id), by name. */
static int payer_args(ss_sql_args *a, const ss_req *r, const payer_in *p, const char *self_id)
{
    ss_sql_args_init(a,
                     self_id != NULL ? sql_pay_payer_update_params : sql_pay_payer_insert_params);
    ss_sql_arg(a, "org_id", r->who.org_id);
    ss_sql_arg(a, "pref_code", pay_pref(r));
    ss_sql_arg(a, "bank_code", ss_json_str(r->body, "bank_code"));
    ss_sql_arg(a, "branch_code", ss_json_str(r->body, "branch_code"));
    ss_sql_arg(a, "account_type", ss_json_str(r->body, "account_type"));
    ss_sql_arg(a, "account_number", ss_json_str(r->body, "account_number"));
    ss_sql_arg(a, "holder_name", p->holder);
    ss_sql_arg(a, "client_code", ss_json_str(r->body, "client_code"));
    ss_sql_arg(a, "bank_codes", p->codes);
    ss_sql_arg_bool(a, "is_default", p->is_default);
    ss_sql_arg(a, "by", r->who.sub);
    if (self_id != NULL)
        ss_sql_arg(a, "id", self_id);
    if (ss_sql_args_done(a) == 0)
        return 0;
    SS_ERROR("source account statement: %s", a->err);
    return SS_ERR_INTERNAL;
}

static int write_payer(ss_req *r, const char *self_id)
{
    payer_in p = {0};
    ss_sql_args a;
    char day[11];
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    json_t *doc = NULL;
    int rc;

    if (pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "your 国保連合会 has no prefecture");
    if ((rc = parse_body(r, &p)) != 0)
        goto out;
    today(day);
    if ((rc = payer_args(&a, r, &p, self_id)) != 0 || (rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        goto out;
    if ((rc = ss_db_begin(c)) != 0 ||
        (rc = pay_bank_check(r, c, "", ss_json_str(r->body, "bank_code"),
                             ss_json_str(r->body, "branch_code"), day)) != 0 ||
        (rc = links_check(r, c, &p, self_id)) != 0)
        goto out;
    if (self_id == NULL)
        rc = ss_db_exec(c, sql_pay_payer_insert, a.n, a.v, &res);
    else if ((rc = ss_db_exec(c, sql_pay_payer_links_delete, 2,
                              (const char *[]){self_id, pay_pref(r)}, NULL)) == 0)
        rc = ss_db_exec(c, sql_pay_payer_update, a.n, a.v, &res);
    if (rc != 0)
        rc = ss_sql_constraint_error(r, c, rc, payer_constraints);
    if (rc != 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no active source account of your 国保連合会");
        goto out;
    }
    if ((doc = ss_json_col(res, 0, 0)) == NULL || (rc = ss_db_commit(c)) != 0) {
        rc = rc != 0 ? rc : SS_ERR_INTERNAL;
        goto out;
    }
    snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(doc, "id")));
    rc = ss_reply_json_new(r, self_id == NULL ? 201 : 200, doc);
    doc = NULL;
out:
    json_decref(doc);
    PQclear(res);
    ss_db_release(c);
    free(p.codes);
    return rc;
}

int pay_h_payer_create(ss_req *r)
{
    return write_payer(r, NULL);
}

int pay_h_payer_update(ss_req *r)
{
    const char *id;
    int rc;

    if ((rc = pay_id(r, &id, "no active source account of your 国保連合会")) != 0)
        return rc;
    return write_payer(r, id);
}

int pay_h_payer_retire(ss_req *r)
{
    const char *id;
    int rc;

    if ((rc = pay_id(r, &id, "no active source account of your 国保連合会")) != 0)
        return rc;
    if (r->body != NULL && json_object_size(r->body) > 0)
        return ss_req_field_error(r, "(body)", "takes no members");
    const char *params[] = {id, pay_pref(r), r->who.sub};
    return pay_reply_row(r, sql_pay_payer_retire, 3, params, 200,
                         "no active source account of your 国保連合会", NULL);
}

int pay_h_payer_get(ss_req *r)
{
    const char *id;
    int rc;

    if ((rc = pay_id(r, &id, "no source account of your 国保連合会")) != 0)
        return rc;
    const char *params[] = {id, pay_pref(r)};
    return pay_reply_row(r, sql_pay_payer_get, 2, params, 200,
                         "no source account of your 国保連合会", NULL);
}

int pay_h_payer_history(ss_req *r)
{
    const char *id;
    int rc;

    if ((rc = pay_id(r, &id, "no source account of your 国保連合会")) != 0)
        return rc;
    const char *params[] = {id, pay_pref(r)};
    return pay_reply_items(r, sql_pay_payer_history, 2, params, "account_id", id,
                           "no source account of your 国保連合会");
}

int pay_h_payer_list(ss_req *r)
{
    const char *st = ss_req_query(r, "status");
    int rc;

    if ((rc = ss_query_check(r, (const char *[]){"status", NULL})) != 0)
        return rc;
    if (st != NULL && strcmp(st, "active") != 0 && strcmp(st, "retired") != 0)
        return ss_req_field_error(r, "status", "must be active or retired");
    const char *params[] = {pay_pref(r), st};
    return pay_reply_items(r, sql_pay_payer_list, 2, params, "prefecture_code", pay_pref(r), NULL);
}

/* GET /payer-account-links/route?bank_code=: the source account that pays a destination bank
 * (its link, else the default); 404 when neither exists. */
int pay_h_payer_route(ss_req *r)
{
    const char *bank = ss_req_query(r, "bank_code");
    int rc;

    if ((rc = ss_query_check(r, (const char *[]){"bank_code", NULL})) != 0)
        return rc;
    if (!ss_code_digits(bank, 4))
        return ss_req_field_error(r, "bank_code", "must be 4 digits");
    const char *params[] = {pay_pref(r), bank};
    return pay_reply_row(r, sql_pay_payer_route, 2, params, 200,
                         "no source account pays that bank and there is no default", NULL);
}
