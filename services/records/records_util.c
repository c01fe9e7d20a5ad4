/* records_util.c - request helpers the records service's handlers share: who the caller is,
 * query parameters, pagination, JSON columns and replies, constraint errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "sesshu/err.h"

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

/* Short printable ASCII: safe to echo as a field name in `errors`. */
static bool echo_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7F)
            return false;
    return true;
}

int rec_check_params(ss_req *r, const char *const *allowed)
{
    const char **keys = u_map_enum_keys(r->u->map_url);

    for (int i = 0; keys != NULL && keys[i] != NULL; i++) {
        const char *v = u_map_get(r->u->map_url, keys[i]);
        bool known = false;

        for (int k = 0; allowed[k] != NULL && !known; k++)
            known = strcmp(keys[i], allowed[k]) == 0;
        if (!known)
            ss_req_field_error(r, echo_ok(keys[i]) ? keys[i] : "(query)",
                               "is not a known query parameter");
        else if (v == NULL || v[0] == '\0')
            ss_req_field_error(r, keys[i], "must not be empty");
    }
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

int rec_page(ss_req *r, int *limit, int nkeys, char keys[][64])
{
    json_t *cur = NULL;
    int rc;

    for (int i = 0; i < nkeys; i++)
        keys[i][0] = '\0';
    if ((rc = ss_page_params(r, SS_PAGE_DEFAULT, SS_PAGE_MAX, limit, &cur)) != 0)
        return rc;
    if (json_array_size(r->errors) > 0) {
        json_decref(cur);
        return SS_ERR_VALIDATION;
    }
    if (cur == NULL)
        return 0;
    if (!json_is_array(cur) || json_array_size(cur) != (size_t)nkeys)
        rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    for (int i = 0; rc == 0 && i < nkeys; i++) {
        const char *s = json_string_value(json_array_get(cur, (size_t)i));

        if (s == NULL || strlen(s) >= 64)
            rc = ss_req_field_error(r, "cursor", "is not a cursor this service issued");
        else
            snprintf(keys[i], 64, "%s", s);
    }
    json_decref(cur);
    return rc;
}

json_t *rec_json_col(const PGresult *res, int row, int col)
{
    const char *v = ss_db_val(res, row, col);

    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
}

static json_t *cursor_of(const PGresult *res, int row, int nkeys)
{
    json_t *key = json_array(), *out = NULL;
    char *cursor = NULL;

    if (key == NULL)
        return NULL;
    for (int k = 1; k <= nkeys; k++)
        json_array_append_new(key, json_string(ss_db_val(res, row, k)));
    cursor = ss_page_cursor(key);
    json_decref(key);
    if (cursor != NULL)
        out = json_string(cursor);
    free(cursor);
    return out;
}

int rec_list_reply(ss_req *r, const PGresult *res, int limit, int nkeys)
{
    json_t *items = json_array(), *cursor_js = NULL;
    int n = PQntuples(res);

    if (items == NULL)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n && i < limit; i++) {
        json_t *it = rec_json_col(res, i, 0);

        if (it == NULL || json_array_append_new(items, it) != 0) {
            json_decref(items);
            return SS_ERR_INTERNAL;
        }
    }
    cursor_js = n > limit ? cursor_of(res, limit - 1, nkeys) : json_null();
    if (cursor_js == NULL) {
        json_decref(items);
        return SS_ERR_NOMEM;
    }
    return ss_reply_json_new(r, 200,
                             json_pack("{s:o,s:o}", "items", items, "next_cursor", cursor_js));
}

void rec_touch_person(ss_req *r, const char *person_id)
{
    if (person_id != NULL)
        snprintf(r->person_id, sizeof(r->person_id), "%s", person_id);
}

int rec_reply_one(ss_req *r, const PGresult *res, int status, const char *what, bool is_person)
{
    json_t *v;
    const char *pid;

    if (PQntuples(res) != 1)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such %s of yours", what);
    if ((v = rec_json_col(res, 0, 0)) == NULL)
        return SS_ERR_INTERNAL;
    snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(json_object_get(v, "id")));
    pid = json_string_value(json_object_get(v, is_person ? "id" : "person_id"));
    rec_touch_person(r, pid);
    return ss_reply_json_new(r, status, v);
}

/* Constraint names the handlers turn into field errors. */
static const struct {
    const char *constraint, *field, *reason;
    int err;
} known[] = {
    {"persons_resident_no", "resident_no", "is already registered in your municipality",
     SS_ERR_CONFLICT},
    {"persons_my_number", "my_number", "is already registered to a person", SS_ERR_CONFLICT},
    {"immunizations_same_day", "vaccinated_on",
     "this product is already recorded for the person on that day", SS_ERR_CONFLICT},
    {"guardians_pkey", "guardian_id", "is already a guardian of this person", SS_ERR_CONFLICT},
    {"immunizations_questionnaire", "questionnaire_id",
     "is not a screening questionnaire (予診票) of this person", SS_ERR_VALIDATION},
};

int rec_db_error(ss_req *r, ss_dbc *c, int rc)
{
    const char *msg;

    if (c == NULL || strncmp(ss_db_sqlstate(c), "23", 2) != 0)
        return rc;
    /* libpq's message names the violated constraint: "... constraint \"name\"". */
    msg = PQerrorMessage(ss_db_conn(c));
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strstr(msg, known[i].constraint) == NULL)
            continue;
        if (known[i].err == SS_ERR_CONFLICT)
            return ss_req_fail(r, SS_ERR_CONFLICT, "%s %s", known[i].field, known[i].reason);
        return ss_req_field_error(r, known[i].field, known[i].reason);
    }
    return rc;
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
    if ((text = json_dumps(doc, JSON_COMPACT)) == NULL) {
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
    else if ((*doc = rec_json_col(res, 0, 0)) == NULL)
        rc = SS_ERR_INTERNAL;
    PQclear(res);
    return rc;
}
