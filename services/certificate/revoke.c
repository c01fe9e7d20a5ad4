/* revoke.c - municipality staff revoke a certificate by hand (H-5-4: issued in error, to the
 * wrong person, lost, at the holder's request...): a certificate of their own residents' log
 * (the municipality the person lived in when it was issued, so every paper certificate they
 * issued too), with a reason code and an optional note. Its card's rid goes on the key's
 * revocation list like a record void's; who revoked it and why stay in the log; the access log
 * row commits with the change (dispatcher). A certificate already revoked is 409; a superseded
 * one may still be revoked (its rid is on the list already). Idempotency-Key accepted. */
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/idem.h"
#include "sesshu/server.h"

static const char *const reasons[] = {
    "issued-in-error", "wrong-person", "lost-or-stolen", "holder-request", "fraud", "other", NULL};

static const ss_field revoke_fields[] = {
    {"reason", SS_F_ENUM, true, 0, 0, reasons, false},
    {"note", SS_F_STRING, false, 1, 400, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static int revoke_tx(ss_req *r, const char *id)
{
    ss_dbc *c = NULL;
    ss_idem st;
    PGresult *res = NULL;
    const char *p[] = {id,
                       r->who.muni_code,
                       ss_json_str(r->body, "reason"),
                       r->who.login_id,
                       r->who.org_id,
                       ss_json_str(r->body, "note")};
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = ss_idem_claim(r, c, &st)) != 0 || st.replayed)
        goto out;
    if ((rc = ss_db_exec(c, sql_cert_revoke, 6, p, &res)) != 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the certificate is revoked already");
        goto out;
    }
    if ((rc = ss_idem_store(r, c, &st, 200, PQgetvalue(res, 0, 0))) != 0 ||
        (rc = ss_db_commit(c)) != 0)
        goto out;
    rc = ss_reply_raw(r, 200, "application/json", PQgetvalue(res, 0, 0),
                      strlen(PQgetvalue(res, 0, 0)));
out:
    PQclear(res);
    ss_db_release(c);
    return rc;
}

int cert_h_revoke(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    json_t *cert = NULL;
    int rc;

    if (!cert_is_staff(r) || !ss_authz_has(&r->who, SS_PERM_RECORDS_WRITE))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "certificates are revoked by municipality staff");
    if ((rc = ss_body_check(r, revoke_fields)) != 0)
        return rc;
    /* 404 for anything outside the caller's residents' log, before anything changes. */
    if ((rc = cert_load(r, id, &cert, NULL)) != 0)
        return rc;
    json_decref(cert);
    return revoke_tx(r, id);
}
