/* records_util.c - request helpers the records service's handlers share: who the caller is,
 * one-record replies, constraint errors, statements and write transactions (query strings,
 * pages and JSON columns are the library's: page.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

const char *rec_muni(const ss_req *r)
{
    if (r->who.org_type != SS_ORG_MUNICIPALITY || r->who.muni_code[0] == '\0')
        return NULL;
    if (r->who.kind != SS_PRINCIPAL_USER && r->who.kind != SS_PRINCIPAL_CLIENT)
        return NULL;
    return r->who.muni_code;
}

bool rec_is_institution(const ss_req *r)
{
    return (r->who.kind == SS_PRINCIPAL_USER || r->who.kind == SS_PRINCIPAL_CLIENT) &&
           (r->who.org_type == SS_ORG_MEDICAL || r->who.org_type == SS_ORG_NONINS_MEDICAL);
}

bool rec_feed_cursor(const char *a, char txid[24], char seq[24])
{
    const char *dash = strchr(a, '-');
    size_t n1, n2;

    if (dash == NULL)
        return false;
    n1 = (size_t)(dash - a);
    n2 = strlen(dash + 1);
    if (n1 == 0 || n1 > 19 || n2 == 0 || n2 > 19 || strspn(a, "0123456789") != n1 ||
        strspn(dash + 1, "0123456789") != n2)
        return false;
    memcpy(txid, a, n1);
    txid[n1] = '\0';
    memcpy(seq, dash + 1, n2 + 1);
    return true;
}

void rec_touch_person(ss_req *r, const char *person_id)
{
    if (person_id != NULL)
        snprintf(r->person_id, sizeof(r->person_id), "%s", person_id);
}

int rec_person_items(ss_req *r, const char *sql, int col)
{
    const char *id = ss_req_param(r, "id");
    PGresult *res = NULL;
    json_t *items;
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "persons are kept by municipalities");
    if ((rc = ss_query_check(r, (const char *[]){"id", NULL})) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    const char *params[] = {id, rec_muni(r)};
    rc = ss_db_query(ss_server_db(), sql, 2, params, &res);
    if (rc != 0)
        return rc;
    if (col == REC_ITEMS_ROWS ? PQntuples(res) == 0 : PQntuples(res) != 1) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    }
    if (col != REC_ITEMS_ROWS) {
        items = ss_json_col(res, 0, col);
    } else {
        items = json_array();
        for (int i = 0; items != NULL && i < PQntuples(res); i++)
            json_array_append_new(items, ss_json_col(res, i, 0));
    }
    PQclear(res);
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rec_touch_person(r, id);
    if (items == NULL)
        return SS_ERR_INTERNAL;
    return ss_reply_json_new(r, 200, json_pack("{s:s,s:o}", "person_id", id, "items", items));
}

int rec_reply_one(ss_req *r, const PGresult *res, int status, const char *what, bool is_person)
{
    json_t *v;
    const char *pid;

    if (PQntuples(res) != 1)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such %s of yours", what);
    if ((v = ss_json_col(res, 0, 0)) == NULL)
        return SS_ERR_INTERNAL;
    snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(v, "id")));
    pid = json_string_value(json_object_get(v, is_person ? "id" : "person_id"));
    rec_touch_person(r, pid);
    return ss_reply_json_new(r, status, v);
}

/* The constraints whose violation means something to the client (migrations/001, 023), by
 * name (PG_DIAG_CONSTRAINT_NAME, sesshu/sql.h); any other keeps the SQLSTATE mapping. */
static const ss_sql_constraint rec_constraints[] = {
    {"persons_resident_no", SS_ERR_CONFLICT, NULL,
     "resident_no is already registered in your municipality"},
    {"persons_my_number", SS_ERR_CONFLICT, NULL, "my_number is already registered to a person"},
    {"immunizations_same_day", SS_ERR_CONFLICT, NULL,
     "vaccinated_on this product is already recorded for the person on that day"},
    {"guardians_pkey", SS_ERR_CONFLICT, NULL, "guardian_id is already a guardian of this person"},
    {"immunizations_questionnaire", SS_ERR_VALIDATION, "questionnaire_id",
     "is not a screening questionnaire (予診票) of this person"},
    {NULL, 0, NULL, NULL},
};

int rec_db_error(ss_req *r, ss_dbc *c, int rc)
{
    return ss_sql_constraint_error(r, c, rc, rec_constraints);
}

int rec_exec(ss_req *r, const char *sql, int n, const char *const *params, PGresult **out)
{
    ss_dbc *c = NULL;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    rc = ss_db_exec(c, sql, n, params, out);
    if (rc != 0)
        rc = rec_db_error(r, c, rc);
    ss_db_release(c);
    return rc;
}

int rec_write_tx(ss_req *r, rec_tx_fn fn, const void *arg, bool is_person)
{
    ss_dbc *c = NULL;
    ss_idem st;
    json_t *doc = NULL;
    char *text = NULL;
    int status = 200, rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = ss_idem_claim(r, c, &st)) != 0 || st.replayed)
        goto out;
    if ((rc = fn(r, c, arg, &doc, &status)) != 0) {
        rc = rec_db_error(r, c, rc);
        goto out;
    }
    if ((text = json_dumps(doc, SS_JSON_COMPACT)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    if ((rc = ss_idem_store(r, c, &st, status, text)) != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(doc, "id")));
    rec_touch_person(r, json_string_value(json_object_get(doc, is_person ? "id" : "person_id")));
    rc = ss_reply_raw(r, status, "application/json", text, strlen(text));
out:
    ss_db_release(c); /* rolls back whatever is still open */
    json_decref(doc);
    free(text);
    return rc;
}

int rec_exec_doc(ss_req *r, ss_dbc *c, const char *sql, int n, const char *const *params,
                 json_t **doc, const char *what)
{
    PGresult *res = NULL;
    int rc;

    *doc = NULL;
    if ((rc = ss_db_exec(c, sql, n, params, &res)) != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such %s of yours", what);
    else if ((*doc = ss_json_col(res, 0, 0)) == NULL)
        rc = SS_ERR_INTERNAL;
    PQclear(res);
    return rc;
}
