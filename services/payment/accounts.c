/* accounts.c - H-9: an institution's admin registers its bank accounts per purpose
 * (予防接種用 `vaccination`, 債権譲渡用 `assignment`), resubmits a rejected one, and both sides
 * read them; every state an account went through is kept (bank_account_versions).
 *
 * One live (submitted or approved) account per organisation, purpose and month: a new
 * vaccination account starts in a month no other live one starts in (it runs until a later one
 * takes over); an assignment account's months may not overlap another live assignment
 * account's. Both are checked under a per-organisation lock (and the vaccination rule also by
 * a unique index). An account never takes effect in a month before the current one. */
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

static const char *const purposes[] = {"vaccination", "assignment", NULL};
static const char *const types[] = {"ordinary", "current", "savings", NULL};
static const char *const statuses[] = {"submitted", "approved", "rejected", NULL};

static const ss_field account_fields[] = {
    {"purpose", SS_F_ENUM, true, 0, 0, purposes, false},
    {"bank_code", SS_F_STRING, true, 1, 4, NULL, false},
    {"branch_code", SS_F_STRING, true, 1, 3, NULL, false},
    {"account_type", SS_F_ENUM, true, 0, 0, types, false},
    {"account_number", SS_F_STRING, true, 1, 7, NULL, false},
    {"holder_name", SS_F_STRING, true, 1, 100, NULL, false},
    {"effective_from", SS_F_STRING, true, 7, 7, NULL, false},
    {"assignment", SS_F_OBJECT, false, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static const ss_field assignment_fields[] = {
    {"assignee_name", SS_F_STRING, true, 1, 200, NULL, false},
    {"from", SS_F_DATE, true, 0, 0, NULL, false},
    {"to", SS_F_DATE, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* A checked request body. */
typedef struct acct_in {
    const char *purpose, *bank, *branch, *type, *number, *holder_input;
    const char *assignee, *a_from, *a_to;
    char holder[PAY_NAME_BUF];
    char from_month[11], to_month[11];
} acct_in;

/* Shapes and the Zengin rule, no database: field errors for every problem. */
static int parse_body(ss_req *r, acct_in *a)
{
    const json_t *as;
    char this_month[11];
    int rc;

    if ((rc = ss_body_check(r, account_fields)) != 0)
        return rc;
    a->purpose = ss_json_str(r->body, "purpose");
    a->bank = ss_json_str(r->body, "bank_code");
    a->branch = ss_json_str(r->body, "branch_code");
    a->type = ss_json_str(r->body, "account_type");
    a->number = ss_json_str(r->body, "account_number");
    a->holder_input = ss_json_str(r->body, "holder_name");
    as = json_object_get(r->body, "assignment");
    if (!ss_code_digits(a->bank, 4))
        ss_req_field_error(r, "bank_code", "must be 4 digits");
    if (!ss_code_digits(a->branch, 3))
        ss_req_field_error(r, "branch_code", "must be 3 digits");
    if (!ss_code_digits(a->number, 7))
        ss_req_field_error(r, "account_number", "must be 7 digits (zero-padded on the left)");
    pay_holder_name(r, "holder_name", a->holder_input, 30, a->holder);
    pay_this_month(this_month);
    if (!pay_month_parse(ss_json_str(r->body, "effective_from"), a->from_month))
        ss_req_field_error(r, "effective_from", "must be a claim month YYYY-MM");
    else if (strcmp(a->from_month, this_month) < 0)
        ss_req_field_error(r, "effective_from", "must not be before the current month");
    if (strcmp(a->purpose, "assignment") == 0 && as == NULL)
        ss_req_field_error(r, "assignment", "is required for an assignment (債権譲渡) account");
    if (strcmp(a->purpose, "vaccination") == 0 && as != NULL)
        ss_req_field_error(r, "assignment", "belongs to assignment accounts only");
    if (as != NULL && strcmp(a->purpose, "assignment") == 0 &&
        ss_json_check(r, as, assignment_fields) == 0) {
        a->assignee = ss_json_str(as, "assignee_name");
        a->a_from = ss_json_str(as, "from");
        a->a_to = ss_json_str(as, "to");
        snprintf(a->to_month, sizeof(a->to_month), "%.7s-01", a->a_to);
        if (strcmp(a->a_to, a->a_from) < 0)
            ss_req_field_error(r, "assignment.to", "must not be before assignment.from");
        else if (a->from_month[0] != '\0' && strcmp(a->to_month, a->from_month) < 0)
            ss_req_field_error(r, "assignment.to", "ends before effective_from");
        else if (a->from_month[0] != '\0' && strncmp(a->a_from, a->from_month, 7) > 0)
            ss_req_field_error(r, "effective_from", "is before the assignment starts");
    }
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

/* The later of today (Japan) and the first effective day: the bank master must know the
 * branch then. */
static void bank_day(const acct_in *a, char out[11])
{
    time_t t = time(NULL) + 9 * 3600;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    if (strcmp(a->from_month, out) > 0)
        memcpy(out, a->from_month, 11);
}

/* Under the organisation's lock: is another live account of the purpose in effect in any of
 * the months? 0, or 409 naming it. */
static int overlap_check(ss_req *r, ss_dbc *c, const acct_in *a, const char *self_id)
{
    const char *lock[] = {r->who.org_id};
    const char *params[] = {r->who.org_id, a->purpose, a->from_month,
                            a->to_month[0] ? a->to_month : NULL, self_id};
    PGresult *res = NULL;
    int rc;

    if ((rc = ss_db_exec(c, sql_pay_account_lock, 1, lock, NULL)) != 0)
        return rc;
    rc = ss_db_exec(c, sql_pay_account_overlap, 5, params, &res);
    if (rc == 0 && PQntuples(res) == 1)
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "the %s account %s (%s, from %s) is already in effect for these months: "
                         "one account per purpose and month",
                         PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 0), a->purpose,
                         PQgetvalue(res, 0, 1));
    PQclear(res);
    return rc;
}

/* The constraints whose violation means something to the client (migrations/001), by name. */
static const ss_sql_constraint acct_constraints[] = {
    {"bank_accounts_one_per_month", SS_ERR_CONFLICT, NULL,
     "another account of the purpose starts that month"},
    {NULL, 0, NULL, NULL},
};

/* The parameters of pay_account_insert and pay_account_resubmit (which adds the id), by name. */
static int account_args(ss_sql_args *p, const ss_sql_param *defs, const ss_req *r, const acct_in *a,
                        const char *self_id)
{
    ss_sql_args_init(p, defs);
    ss_sql_arg(p, "org_id", r->who.org_id);
    ss_sql_arg(p, "institution_code", r->who.org_code);
    ss_sql_arg(p, "pref_code", pay_pref(r));
    ss_sql_arg(p, "purpose", a->purpose);
    ss_sql_arg(p, "bank_code", a->bank);
    ss_sql_arg(p, "branch_code", a->branch);
    ss_sql_arg(p, "account_type", a->type);
    ss_sql_arg(p, "account_number", a->number);
    ss_sql_arg(p, "holder_name", a->holder);
    ss_sql_arg(p, "holder_name_input", a->holder_input);
    ss_sql_arg(p, "assignee_name", a->assignee);
    ss_sql_arg(p, "assignment_from", a->a_from);
    ss_sql_arg(p, "assignment_to", a->a_to);
    ss_sql_arg(p, "effective_from", a->from_month);
    ss_sql_arg(p, "effective_to", a->to_month[0] ? a->to_month : NULL);
    ss_sql_arg(p, "by", r->who.sub);
    if (self_id != NULL)
        ss_sql_arg(p, "id", self_id);
    if (ss_sql_args_done(p) == 0)
        return 0;
    SS_ERROR("bank account statement: %s", p->err);
    return SS_ERR_INTERNAL;
}

/* The shared work of create and resubmit: lock, master and overlap checks, the statement
 * (pay_account_insert, or pay_account_resubmit of self_id), commit, reply. */
static int write_account(ss_req *r, const acct_in *a, const char *self_id, int status)
{
    const char *sql = self_id != NULL ? sql_pay_account_resubmit : sql_pay_account_insert;
    ss_sql_args p;
    char day[11];
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    json_t *doc = NULL;
    int rc;

    if ((rc = account_args(
             &p, self_id != NULL ? sql_pay_account_resubmit_params : sql_pay_account_insert_params,
             r, a, self_id)) != 0)
        return rc;
    bank_day(a, day);
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 ||
        (rc = pay_bank_check(r, c, "", a->bank, a->branch, day)) != 0 ||
        (rc = overlap_check(r, c, a, self_id)) != 0)
        goto out;
    if ((rc = ss_db_exec(c, sql, p.n, p.v, &res)) != 0) {
        rc = ss_sql_constraint_error(r, c, rc, acct_constraints);
        goto out;
    }
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "only a rejected account of your organisation can "
                         "be resubmitted");
        goto out;
    }
    if ((doc = ss_json_col(res, 0, 0)) == NULL) {
        rc = SS_ERR_INTERNAL;
        goto out;
    }
    if ((rc = ss_db_commit(c)) != 0)
        goto out;
    snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(doc, "id")));
    rc = ss_reply_json_new(r, status, doc);
    doc = NULL;
out:
    json_decref(doc);
    PQclear(res);
    ss_db_release(c);
    return rc;
}

int pay_h_account_create(ss_req *r)
{
    acct_in a = {0};
    int rc;

    if (pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "your organisation has no prefecture");
    if ((rc = parse_body(r, &a)) != 0)
        return rc;
    return write_account(r, &a, NULL, 201);
}

int pay_h_account_resubmit(ss_req *r)
{
    acct_in a = {0};
    const char *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such bank account of your organisation")) != 0 ||
        (rc = parse_body(r, &a)) != 0)
        return rc;
    /* Purpose stays: a different purpose is a new account. */
    return write_account(r, &a, id, 200);
}

/* The visibility parameters $1 viewer, $2 org, $3 prefecture. */
#define VIS_PARAMS(r, viewer) viewer, (r)->who.org_id, pay_pref(r)

int pay_h_account_get(ss_req *r)
{
    const char *viewer = pay_viewer(r, SS_PERM_BANK_ACCOUNTS_MANAGE, SS_PERM_BANK_ACCOUNTS_REVIEW);
    const char *id;
    int rc;

    if (viewer == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "bank accounts are their institution's admins' "
                           "and their 国保連合会's");
    if ((rc = pay_id(r, &id, "no such bank account")) != 0)
        return rc;
    const char *params[] = {VIS_PARAMS(r, viewer), id};
    return pay_reply_row(r, sql_pay_account_get, 4, params, 200, "no such bank account", NULL);
}

int pay_h_account_history(ss_req *r)
{
    const char *viewer = pay_viewer(r, SS_PERM_BANK_ACCOUNTS_MANAGE, SS_PERM_BANK_ACCOUNTS_REVIEW);
    const char *id;
    int rc;

    if (viewer == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "bank accounts are their institution's admins' "
                           "and their 国保連合会's");
    if ((rc = pay_id(r, &id, "no such bank account")) != 0)
        return rc;
    const char *params[] = {VIS_PARAMS(r, viewer), id};
    return pay_reply_items(r, sql_pay_account_history, 4, params, "account_id", id,
                           "no such bank account");
}

static const char *const list_params[] = {"status", "purpose", "org_id", "limit", "cursor", NULL};

int pay_h_account_list(ss_req *r)
{
    const char *viewer = pay_viewer(r, SS_PERM_BANK_ACCOUNTS_MANAGE, SS_PERM_BANK_ACCOUNTS_REVIEW);
    const char *st = ss_req_query(r, "status"), *pu = ss_req_query(r, "purpose");
    const char *org = ss_req_query(r, "org_id");
    char keys[2][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if (viewer == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "bank accounts are their institution's admins' "
                           "and their 国保連合会's");
    if ((rc = ss_query_check(r, list_params)) != 0)
        return rc;
    if (st != NULL && !pay_in(st, statuses))
        ss_req_field_error(r, "status", "must be submitted, approved or rejected");
    if (pu != NULL && !pay_in(pu, purposes))
        ss_req_field_error(r, "purpose", "must be vaccination or assignment");
    if (org != NULL && !ss_uuid_ok(org))
        ss_req_field_error(r, "org_id", "must be an organisation id");
    if ((rc = ss_page_keys(r, &limit, 2, keys)) != 0 || json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    if (keys[1][0] != '\0' && !ss_uuid_ok(keys[1]))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *params[] = {VIS_PARAMS(r, viewer),       st, pu, org, keys[0][0] ? keys[0] : NULL,
                            keys[1][0] ? keys[1] : NULL, lim};
    rc = ss_db_query(ss_server_db(), sql_pay_account_list, 9, params, &res);
    if (rc != 0)
        return rc;
    rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}

/* GET /bank-accounts/effective?purpose=&month=[&org_id=]: the approved account that pays the
 * organisation's claims of that month for the purpose (an institution: its own; a 国保連合会:
 * org_id of its prefecture). 404 when none. */
int pay_h_account_effective(ss_req *r)
{
    const char *viewer = pay_viewer(r, SS_PERM_BANK_ACCOUNTS_MANAGE, SS_PERM_BANK_ACCOUNTS_REVIEW);
    const char *pu = ss_req_query(r, "purpose"), *org = ss_req_query(r, "org_id");
    char month[11];
    int rc;

    if (viewer == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "bank accounts are their institution's admins' "
                           "and their 国保連合会's");
    if ((rc = ss_query_check(r, (const char *[]){"purpose", "month", "org_id", NULL})) != 0)
        return rc;
    if (pu == NULL || !pay_in(pu, purposes))
        ss_req_field_error(r, "purpose", "must be vaccination or assignment");
    if (!pay_month_parse(ss_req_query(r, "month"), month))
        ss_req_field_error(r, "month", "must be a claim month YYYY-MM");
    if (strcmp(viewer, "fed") == 0 && (org == NULL || !ss_uuid_ok(org)))
        ss_req_field_error(r, "org_id", "a 国保連合会 names the institution's organisation id");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    const char *params[] = {VIS_PARAMS(r, viewer), strcmp(viewer, "fed") == 0 ? org : r->who.org_id,
                            pu, month};
    return pay_reply_row(r, sql_pay_account_effective, 6, params, 200,
                         "no approved account of that purpose in that month", NULL);
}
