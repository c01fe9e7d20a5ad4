/* write_tx.c - the claims writes' one way through a transaction under the caller's
 * Idempotency-Key (sesshu/idem.h, table payment.idempotency_keys): a 国保連合会's or an
 * institution's system that retries a review, a reclaim, a close, an invoice, a payment record
 * or a payment run after a lost answer gets the first answer and changes nothing. The checks
 * that depend on state (already paid, already approved) run inside the transaction, after the
 * key is claimed, so a retry is replayed rather than refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/idem.h"
#include "sesshu/server.h"

int pay_write_tx(ss_req *r, pay_tx_fn fn, const void *arg)
{
    ss_dbc *c = NULL;
    ss_idem st;
    json_t *doc = NULL;
    const json_t *id;
    char *text = NULL;
    int status = 200, rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = ss_idem_claim(r, c, &st)) != 0 || st.replayed)
        goto out;
    if ((rc = fn(r, c, arg, &doc, &status)) != 0)
        goto out;
    if (doc == NULL || (text = json_dumps(doc, SS_JSON_COMPACT)) == NULL) {
        rc = doc == NULL ? SS_ERR_INTERNAL : SS_ERR_NOMEM;
        goto out;
    }
    if ((rc = ss_idem_store(r, c, &st, status, text)) != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    if (json_is_string(id = json_object_get(doc, "id")))
        snprintf(r->res_id, sizeof(r->res_id), "%s", json_string_value(id));
    rc = ss_reply_raw(r, status, "application/json", text, strlen(text));
out:
    ss_db_release(c); /* rolls back whatever is still open, the key's claim included */
    json_decref(doc);
    free(text);
    return rc;
}

int pay_tx_row(ss_req *r, ss_dbc *c, const char *sql, int n, const char *const *params,
               const char *notfound, json_t **doc)
{
    PGresult *res = NULL;
    int rc = ss_db_exec(c, sql, n, params, &res);

    if (rc != 0)
        return rc;
    if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "%s", notfound);
    else if ((*doc = ss_json_col(res, 0, 0)) == NULL)
        rc = SS_ERR_INTERNAL;
    PQclear(res);
    return rc;
}

struct row_arg {
    const char *sql;
    int n;
    const char *const *params;
    int status;
    const char *notfound;
};

static int row_fn(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const struct row_arg *a = arg;

    *status = a->status;
    return pay_tx_row(r, c, a->sql, a->n, a->params, a->notfound, doc);
}

int pay_write_row(ss_req *r, const char *sql, int n, const char *const *params, int status,
                  const char *notfound)
{
    const struct row_arg a = {sql, n, params, status, notfound};

    return pay_write_tx(r, row_fn, &a);
}
