/* claims_read.c - reading claims: batches (an institution its own, a 国保連合会 its
 * prefecture's review queue), lines (also a municipality: its residents' lines of closed
 * months), and totals of a claim month (the 国保中央会: nationwide, per prefecture). Another
 * tenant's batch or line is 404. */
#include <stdio.h>
#include <string.h>

#include "claims.h"
#include "pay.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

const char *pay_claims_viewer(const ss_req *r)
{
    if (r->who.kind != SS_PRINCIPAL_USER)
        return NULL;
    if (ss_authz_has(&r->who, SS_PERM_CLAIMS_SUBMIT) && strlen(r->who.org_code) == 10)
        return "inst";
    if (ss_authz_has(&r->who, SS_PERM_CLAIMS_REVIEW) && pay_pref(r)[0] != '\0')
        return "fed";
    if (r->who.org_type == SS_ORG_MUNICIPALITY && r->who.muni_code[0] != '\0')
        return "muni";
    if (r->who.org_type == SS_ORG_CHUOKAI)
        return "chuo";
    return NULL;
}

/* The first four parameters of every read: viewer, institution code, prefecture, municipality. */
#define VIEW_PARAMS(r, v) v, (r)->who.org_code, pay_pref(r), (r)->who.muni_code

static const char *const batch_q[] = {"claim_month", "status", "institution_code",
                                      "limit",       "cursor", NULL};
static const char *const batch_st[] = {"open", "closed", "reviewed", NULL};

/* An optional ?name=YYYY-MM into out ("" when absent); a field error otherwise. */
static void month_q(ss_req *r, const char *name, char out[11])
{
    const char *v = ss_req_query(r, name);

    out[0] = '\0';
    if (v != NULL && !pay_month_parse(v, out))
        ss_req_field_error(r, name, "must be a month YYYY-MM");
}

int pay_h_batch_list(ss_req *r)
{
    const char *v = pay_claims_viewer(r), *st = ss_req_query(r, "status");
    char m[11], keys[2][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if (v == NULL || strcmp(v, "muni") == 0 || strcmp(v, "chuo") == 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "batches are the institution's and its 国保連合会's");
    if ((rc = ss_query_check(r, batch_q)) != 0)
        return rc;
    month_q(r, "claim_month", m);
    if (st != NULL && !pay_in(st, batch_st))
        ss_req_field_error(r, "status", "must be open, closed or reviewed");
    if ((rc = ss_page_keys(r, &limit, 2, keys)) != 0 || json_array_size(r->errors) > 0)
        return rc != 0 ? rc : SS_ERR_VALIDATION;
    if (keys[1][0] != '\0' && (!ss_date_ok(keys[0]) || !ss_uuid_ok(keys[1])))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *params[] = {VIEW_PARAMS(r, v),
                            m[0] ? m : NULL,
                            st,
                            ss_req_query(r, "institution_code"),
                            keys[0][0] ? keys[0] : NULL,
                            keys[1][0] ? keys[1] : NULL,
                            lim};
    rc = ss_db_query(
        ss_server_db(),
        "SELECT " PAY_BATCH_JSON(
            "b") "::text, b.claim_month::text, b.id::text FROM "
                 "payment.claim_batches b WHERE " PAY_BATCH_VISIBLE(
                     "b") " AND ($4::text IS "
                          "NOT NULL OR true) AND ($5::date IS NULL OR b.claim_month = $5::date) "
                          "AND "
                          "($6::text IS NULL OR b.status = $6) AND ($7::text IS NULL OR "
                          "b.institution_code = $7) AND ($8::date IS NULL OR (b.claim_month, b.id) "
                          "< "
                          "($8::date, $9::uuid)) ORDER BY b.claim_month DESC, b.id DESC LIMIT "
                          "$10::int",
        10, params, &res);
    if (rc != 0)
        return rc;
    rc = ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}

int pay_h_batch_get(ss_req *r)
{
    const char *v = pay_claims_viewer(r), *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such claim batch of yours")) != 0)
        return rc;
    if (v == NULL || strcmp(v, "muni") == 0 || strcmp(v, "chuo") == 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "batches are the institution's and its 国保連合会's");
    const char *params[] = {VIEW_PARAMS(r, v), id};
    return pay_reply_row(r,
                         "SELECT " PAY_BATCH_JSON("b") "::text FROM payment.claim_batches b WHERE "
                                                       "b.id = $5::uuid AND " PAY_BATCH_VISIBLE(
                                                           "b") " AND $4::text IS NOT NULL",
                         5, params, 200, "no such claim batch of yours", NULL);
}

static const char *const line_q[] = {"claim_month", "batch_id",  "status",           "kind",
                                     "muni_code",   "record_id", "institution_code", "limit",
                                     "cursor",      NULL};
static const char *const line_st[] = {"claimed", "returned", "accepted", "adjusted", NULL};
static const char *const line_kinds[] = {"claim", "adjustment", NULL};

int pay_h_line_list(ss_req *r)
{
    const char *v = pay_claims_viewer(r), *st = ss_req_query(r, "status");
    const char *kind = ss_req_query(r, "kind"), *bid = ss_req_query(r, "batch_id");
    const char *rid = ss_req_query(r, "record_id");
    char m[11], keys[1][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if (v == NULL || strcmp(v, "chuo") == 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "no access to claim lines");
    if ((rc = ss_query_check(r, line_q)) != 0)
        return rc;
    month_q(r, "claim_month", m);
    if (st != NULL && !pay_in(st, line_st))
        ss_req_field_error(r, "status", "must be claimed, returned, accepted or adjusted");
    if (kind != NULL && !pay_in(kind, line_kinds))
        ss_req_field_error(r, "kind", "must be claim or adjustment");
    if (bid != NULL && !ss_uuid_ok(bid))
        ss_req_field_error(r, "batch_id", "must be a batch id");
    if (rid != NULL && !ss_uuid_ok(rid))
        ss_req_field_error(r, "record_id", "must be a record id");
    if ((rc = ss_page_keys(r, &limit, 1, keys)) != 0 || json_array_size(r->errors) > 0)
        return rc != 0 ? rc : SS_ERR_VALIDATION;
    if (keys[0][0] != '\0' && strspn(keys[0], "0123456789") != strlen(keys[0]))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *params[] = {VIEW_PARAMS(r, v),
                            m[0] ? m : NULL,
                            bid,
                            st,
                            kind,
                            ss_req_query(r, "muni_code"),
                            ss_req_query(r, "institution_code"),
                            rid,
                            keys[0][0] ? keys[0] : NULL,
                            lim};
    rc = ss_db_query(
        ss_server_db(),
        "SELECT " PAY_LINE_JSON(
            "l", "b") "::text, l.seq::text FROM "
                      "payment.claim_lines l JOIN payment.claim_batches b ON b.id = l.batch_id "
                      "WHERE " PAY_LINE_VISIBLE(
                          "l",
                          "b") " AND ($5::date IS NULL OR "
                               "b.claim_month = $5::date) AND ($6::uuid IS NULL OR l.batch_id = "
                               "$6::uuid) "
                               "AND ($7::text IS NULL OR l.status = $7) AND ($8::text IS NULL OR "
                               "l.kind = "
                               "$8) AND ($9::text IS NULL OR l.muni_code = $9) AND ($10::text IS "
                               "NULL OR "
                               "l.institution_code = $10) AND ($11::uuid IS NULL OR l.record_id = "
                               "$11::uuid) AND ($12::bigint IS NULL OR l.seq > $12::bigint) ORDER "
                               "BY l.seq "
                               "LIMIT $13::int",
        13, params, &res);
    if (rc != 0)
        return rc;
    rc = ss_reply_page(r, res, limit, 1);
    PQclear(res);
    return rc;
}

int pay_h_line_get(ss_req *r)
{
    const char *v = pay_claims_viewer(r), *id;
    int rc;

    if ((rc = pay_id(r, &id, "no such claim line of yours")) != 0)
        return rc;
    if (v == NULL || strcmp(v, "chuo") == 0)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "no access to claim lines");
    const char *params[] = {VIEW_PARAMS(r, v), id};
    return pay_reply_row(
        r,
        "SELECT " PAY_LINE_JSON(
            "l", "b") "::text FROM payment.claim_lines l "
                      "JOIN payment.claim_batches b ON b.id = l.batch_id WHERE l.id = "
                      "$5::uuid AND " PAY_LINE_VISIBLE("l", "b"),
        5, params, 200, "no such claim line of yours", NULL);
}

/* GET /claims/totals?claim_month=: the month's lines summed per prefecture (the 国保中央会,
 * nationwide) or per institution (a 国保連合会: its prefecture; an institution: itself; a
 * municipality: its residents' lines of closed months), with the grand total. */
int pay_h_claims_totals(ss_req *r)
{
    static const char *const q[] = {"claim_month", NULL};
    const char *v = pay_claims_viewer(r);
    char m[11];
    int rc;

    if (v == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "no access to claim totals");
    if ((rc = ss_query_check(r, q)) != 0)
        return rc;
    month_q(r, "claim_month", m);
    if (m[0] == '\0' && ss_req_query(r, "claim_month") == NULL)
        ss_req_field_error(r, "claim_month", "is required");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    const char *params[] = {VIEW_PARAMS(r, v), m};
    return pay_reply_row(
        r,
        "WITH l AS (SELECT l.*, CASE WHEN $1::text = 'chuo' THEN l.pref_code ELSE "
        "l.institution_code END AS k FROM payment.claim_lines l JOIN payment.claim_batches b ON "
        "b.id = l.batch_id WHERE b.claim_month = $5::date AND ($1::text = 'chuo' "
        "OR " PAY_LINE_VISIBLE(
            "l",
            "b") ")), g AS (SELECT k, count(DISTINCT institution_code) AS institutions, "
                 "count(*) AS lines, sum(claim_yen) AS claimed_yen, coalesce(sum(approved_yen), "
                 "0) AS approved_yen, count(*) FILTER (WHERE status = 'returned') AS "
                 "returned_lines FROM l GROUP BY k) SELECT jsonb_build_object('claim_month', "
                 "to_char($5::date, 'YYYY-MM'), 'group_by', CASE WHEN $1::text = 'chuo' THEN "
                 "'prefecture_code' ELSE 'institution_code' END, 'items', (SELECT "
                 "coalesce(jsonb_agg(jsonb_build_object('key', k, 'institutions', "
                 "institutions, 'lines', lines, 'claimed_yen', claimed_yen, 'approved_yen', "
                 "approved_yen, 'returned_lines', returned_lines) ORDER BY k), '[]') FROM g), "
                 "'total', (SELECT jsonb_build_object('institutions', count(DISTINCT "
                 "institution_code), 'lines', count(*), 'claimed_yen', coalesce(sum(claim_yen), "
                 "0), 'approved_yen', coalesce(sum(approved_yen), 0), 'returned_lines', "
                 "count(*) FILTER (WHERE status = 'returned')) FROM l))::text",
        5, params, 200, "no totals", NULL);
}
