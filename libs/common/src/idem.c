/* idem.c - Idempotency-Key on writes (idem.h). The table lives in the calling service's
 * schema; its name is built from the service's compiled schema name, never from input. */
#include "sesshu/idem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

static bool key_ok(const char *k)
{
    size_t n = strlen(k);

    if (n == 0 || n > SS_IDEM_KEY_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (*p < 0x21 || *p > 0x7E)
            return false;
    return true;
}

static void request_hash(const ss_req *r, char out[65])
{
    const char *m = r->u->http_verb, *p = r->u->url_path;
    size_t lm = strlen(m), lp = strlen(p), lb = r->u->binary_body_length;
    char *buf = malloc(lm + lp + lb + 2);

    if (buf == NULL) {
        out[0] = '\0';
        return;
    }
    memcpy(buf, m, lm);
    buf[lm] = ' ';
    memcpy(buf + lm + 1, p, lp);
    buf[lm + 1 + lp] = '\n';
    if (lb > 0)
        memcpy(buf + lm + lp + 2, r->u->binary_body, lb);
    ss_sha256_hex(buf, lm + lp + lb + 2, out);
    free(buf);
}

static int replay(ss_req *r, ss_dbc *c, ss_idem *st)
{
    char sql[256];
    const char *params[] = {st->actor, st->key};
    PGresult *res = NULL;
    int rc;

    snprintf(sql, sizeof(sql),
             "SELECT request_hash, status, body FROM %s.idempotency_keys WHERE actor = $1 AND "
             "key = $2",
             r->svc->schema);
    if ((rc = ss_db_exec(c, sql, 2, params, &res)) != 0)
        return rc;
    if (PQntuples(res) != 1 || ss_db_val(res, 0, 1) == NULL)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "a request with this Idempotency-Key is in progress");
    else if (strcmp(ss_db_val(res, 0, 0), st->hash) != 0)
        rc = ss_req_fail(r, SS_ERR_VALIDATION,
                         "this Idempotency-Key was used for a different request");
    else {
        const char *body = ss_db_val(res, 0, 2);

        ss_reply_header(r, "Idempotent-Replayed", "true");
        rc = ss_reply_raw(r, atoi(ss_db_val(res, 0, 1)), "application/json", body ? body : "",
                          body ? strlen(body) : 0);
        st->replayed = true;
    }
    PQclear(res);
    return rc;
}

int ss_idem_claim(ss_req *r, ss_dbc *c, ss_idem *st)
{
    const char *k = ss_req_header(r, "Idempotency-Key");
    char sql[256];
    PGresult *res = NULL;
    int rc;

    memset(st, 0, sizeof(*st));
    if (k == NULL)
        return 0;
    if (!key_ok(k))
        return ss_req_fail(r, SS_ERR_BAD_REQUEST,
                           "Idempotency-Key must be 1 to 255 printable ASCII characters");
    st->active = true;
    snprintf(st->key, sizeof(st->key), "%s", k);
    snprintf(st->actor, sizeof(st->actor), "%s:%s", r->who.org_id, r->who.sub);
    request_hash(r, st->hash);
    if (st->hash[0] == '\0')
        return SS_ERR_NOMEM;
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s.idempotency_keys (actor, key, request_hash) VALUES ($1, $2, $3) ON "
             "CONFLICT (actor, key) DO NOTHING RETURNING 1",
             r->svc->schema);
    const char *params[] = {st->actor, st->key, st->hash};
    if ((rc = ss_db_exec(c, sql, 3, params, &res)) != 0)
        return rc;
    rc = PQntuples(res) == 1 ? 0 : replay(r, c, st);
    PQclear(res);
    return rc;
}

int ss_idem_store(ss_req *r, ss_dbc *c, const ss_idem *st, int status, const char *body)
{
    char sql[256], sbuf[16];

    if (!st->active)
        return 0;
    snprintf(sbuf, sizeof(sbuf), "%d", status);
    snprintf(sql, sizeof(sql),
             "UPDATE %s.idempotency_keys SET status = $3::int, body = $4 WHERE actor = $1 AND "
             "key = $2",
             r->svc->schema);
    const char *params[] = {st->actor, st->key, sbuf, body};
    return ss_db_exec(c, sql, 4, params, NULL);
}
