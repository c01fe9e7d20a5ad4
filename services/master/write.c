/* write.c - register (H-8-1..6), update and retire one key. An update inserts a new version
 * from its valid_from and never destroys the earlier one (apply.c); a retirement ends the key
 * on a last day. Who may edit which master and row: row.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static int forbid(ss_req *r, const mst_master *m)
{
    return ss_req_fail(r, SS_ERR_FORBIDDEN, "your organisation may not edit the master %s",
                       m->name);
}

/* The batch's row errors as the problem's field errors. */
static int row_errors(ss_req *r, const mst_batch *b)
{
    size_t i;
    json_t *e;

    json_array_foreach (b->errors, i, e) {
        const char *f = json_string_value(json_object_get(e, "field"));
        ss_req_field_error(r, f ? f : "(row)", json_string_value(json_object_get(e, "reason")));
    }
    return SS_ERR_VALIDATION;
}

static void batch_init(mst_batch *b, ss_req *r, mst_master *m, int strategy)
{
    memset(b, 0, sizeof(*b));
    b->m = m;
    b->strategy = strategy;
    b->who = &r->who;
    b->source = mst_source_of(&r->who);
    b->created_by = r->who.login_id[0] ? r->who.login_id : r->who.sub;
    mst_today(b->effective);
}

/* Stage the body as one row; key (update) overrides and must agree with the body's. */
static int stage_body(ss_req *r, mst_batch *b, const char *const *key)
{
    const char *vals[MST_MAX_COLS + 2];
    char store[16384];
    int rc;

    if (r->body == NULL)
        return ss_req_fail(r, SS_ERR_BAD_REQUEST, "a JSON object body is required");
    if (mst_json_texts(b, r->body, 1, vals, store, sizeof(store)) != 0)
        return row_errors(r, b);
    for (int i = 0; key != NULL && i < b->m->nkeys; i++) {
        if (vals[i] != NULL && strcmp(vals[i], key[i]) != 0)
            return ss_req_field_error(r, b->m->cols[i].name,
                                      "must equal the key in the path (or be left out)");
        vals[i] = key[i];
    }
    if ((rc = mst_stage_row(b, vals, 1)) == SS_ERR_FORBIDDEN)
        return ss_req_fail(r, rc, "this row belongs to another organisation");
    if (rc != 0)
        return rc;
    return b->nerrors > 0 ? row_errors(r, b) : 0;
}

static int write_one(ss_req *r, int strategy)
{
    static const char *const none[] = {NULL};
    const char *key[MST_MAX_KEYS];
    char kbuf[256];
    mst_batch b;
    json_t *res = NULL, *written;
    mst_master *m;
    int rc = 0;

    if ((m = mst_req_master(r, &rc)) == NULL)
        return rc;
    if (!mst_may_edit(m, &r->who))
        return forbid(r, m);
    if ((rc = mst_check_params(r, m, none, false)) != 0)
        return rc;
    if (strategy == MST_UPDATE_ONLY &&
        (rc = mst_split_key(r, m, ss_req_param(r, "key"), kbuf, sizeof(kbuf), key)) != 0)
        return rc;
    batch_init(&b, r, m, strategy);
    if ((rc = stage_body(r, &b, strategy == MST_UPDATE_ONLY ? key : NULL)) != 0 ||
        (rc = mst_apply(r, &b, &res)) != 0)
        goto out;
    if (b.strategy_errors > 0)
        rc = strategy == MST_INSERT_ONLY
                 ? ss_req_fail(r, SS_ERR_CONFLICT, "the key exists: update it with PUT")
                 : ss_req_fail(r, SS_ERR_NOT_FOUND, "no such key: register it with POST");
    else if (b.nerrors > 0)
        rc = row_errors(r, &b);
    if (rc != 0)
        goto out;
    written = json_object_get(res, "written");
    rc = ss_reply_json_new(r, strategy == MST_INSERT_ONLY ? 201 : 200,
                           json_pack("{s:s,s:O,s:O,s:O}", "master", m->name, "change",
                                     json_object_get(res, "change"), "version",
                                     json_array_size(written)
                                         ? json_array_get(written, json_array_size(written) - 1)
                                         : json_null(),
                                     "written", written));
out:
    json_decref(res);
    mst_batch_free(&b);
    return rc;
}

int mst_h_create(ss_req *r)
{
    return write_one(r, MST_INSERT_ONLY);
}

int mst_h_update(ss_req *r)
{
    return write_one(r, MST_UPDATE_ONLY);
}

static const ss_field retire_fields[] = {
    {"valid_to", SS_F_DATE, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* End the key on valid_to: versions running past it are superseded and re-inserted up to it. */
static int retire_tx(ss_req *r, mst_master *m, const char *const *key, const char *last,
                     json_t **out)
{
    const char *p[MST_MAX_KEYS + 2];
    char change[24];
    PGresult *res = NULL;
    ss_dbc *c = NULL;
    int rc;

    p[1] = last;
    for (int i = 0; i < m->nkeys; i++)
        p[2 + i] = key[i];
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0 || (rc = ss_db_begin(c)) != 0 ||
        (rc = ss_db_exec(c, m->sql->lock, 0, NULL, NULL)) != 0 ||
        (rc = ss_db_exec(c, m->sql->history, m->nkeys, key, &res)) != 0)
        goto out;
    if (PQntuples(res) == 0) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such key");
        goto out;
    }
    PQclear(res);
    res = NULL;
    if ((rc = ss_db_exec(c, sql_mst_change_next, 0, NULL, &res)) != 0)
        goto out;
    snprintf(change, sizeof(change), "%s", ss_db_val(res, 0, 0));
    PQclear(res);
    res = NULL;
    p[0] = change;
    if ((rc = ss_db_exec(c, m->sql->retire_key, m->nkeys + 2, p, &res)) != 0)
        goto out;
    PQclear(res);
    res = NULL;
    if ((rc = ss_db_exec(c, sql_mst_table_state_touch, 1, (const char *[]){m->name}, NULL)) != 0 ||
        (rc = ss_db_exec(c, m->sql->history, m->nkeys, key, &res)) != 0)
        goto out;
    *out = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(*out, json_loads(ss_db_val(res, i, 0), JSON_DECODE_ANY, NULL));
    rc = ss_db_commit(c);
out:
    PQclear(res);
    ss_db_release(c);
    return rc;
}

int mst_h_retire(ss_req *r)
{
    static const char *const none[] = {NULL};
    const char *key[MST_MAX_KEYS];
    char kbuf[256];
    json_t *hist = NULL;
    mst_master *m;
    int rc = 0;

    if ((m = mst_req_master(r, &rc)) == NULL)
        return rc;
    if (!mst_may_edit(m, &r->who))
        return forbid(r, m);
    if ((rc = mst_check_params(r, m, none, false)) != 0 ||
        (rc = mst_split_key(r, m, ss_req_param(r, "key"), kbuf, sizeof(kbuf), key)) != 0)
        return rc;
    if (mst_row_owner_ok(m, &r->who, key[m->own_col]) != NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "this row belongs to another organisation");
    if ((rc = ss_body_check(r, retire_fields)) != 0)
        return rc;
    if ((rc = retire_tx(r, m, key, ss_json_str(r->body, "valid_to"), &hist)) != 0)
        return rc;
    return ss_reply_json_new(r, 200,
                             json_pack("{s:s,s:s,s:o}", "master", m->name, "valid_to",
                                       ss_json_str(r->body, "valid_to"), "versions", hist));
}
