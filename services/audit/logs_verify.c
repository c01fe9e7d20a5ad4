/* logs_verify.c - GET /api/v1/access-logs/verify: walk the hash chains.
 *
 * The walk runs in the database (audit.verify_chain, migrations/007): rows
 * from chain position `from` in chain_pos order, at most `limit` of them, each
 * checked against its predecessor in its own writer stream (a longer log is
 * walked in several calls following `next_from`); at the end every stream's
 * head must be its last row. Then the log is held against the last signed
 * checkpoint (logs_proof.c), and every stored subtree hash the proofs are read from is
 * recomputed from the rows (logs_tree.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

#define AUD_VERIFY_DEFAULT 1000000LL
#define AUD_VERIFY_MAX     10000000LL

static const char *const aud_verify_params[] = {"from", "limit", NULL};

enum {
    V_CHECKED,
    V_LAST,
    V_BROKEN_POS,
    V_BROKEN_SEQ,
    V_REASON,
    V_HEAD_POS,
    V_HEAD_HASH,
    V_COMPLETE
};

static json_t *int_or_null(const PGresult *res, int col)
{
    const char *v = ss_db_val(res, 0, col);

    return v != NULL ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

static json_t *verify_body(const PGresult *res, long long from)
{
    const char *reason = ss_db_val(res, 0, V_REASON);
    const char *last = ss_db_val(res, 0, V_LAST);
    bool complete = strcmp(ss_db_val(res, 0, V_COMPLETE), "t") == 0;
    json_t *broken = json_null();
    json_t *next = json_null();

    if (reason != NULL)
        broken = json_pack("{s:o,s:o,s:s}", "chain_pos", int_or_null(res, V_BROKEN_POS), "seq",
                           int_or_null(res, V_BROKEN_SEQ), "reason", reason);
    else if (!complete && last != NULL)
        next = json_integer(strtoll(last, NULL, 10) + 1);
    return json_pack("{s:b,s:o,s:I,s:o,s:b,s:o,s:o,s:{s:o,s:s}}", "ok", reason == NULL, "checked",
                     int_or_null(res, V_CHECKED), "from", (json_int_t)from, "last_checked",
                     int_or_null(res, V_LAST), "complete", complete, "next_from", next,
                     "first_broken", broken, "head", "chain_pos", int_or_null(res, V_HEAD_POS),
                     "hash", ss_db_val(res, 0, V_HEAD_HASH));
}

/* Hold the log against the last signed checkpoint: a tail cut off (fewer rows than it covers)
 * or rows 1..tree_size rewritten consistently (another tree head) is what the chain alone cannot
 * show. Adds "checkpoint" {tree_size, ok, reason} and clears "ok" on a mismatch. */
static int check_checkpoint(json_t *body)
{
    PGresult *res = NULL;
    const char *reason = NULL;
    long long size, head = 0;
    char root[65];
    int rc = ss_db_query(ss_server_db(), sql_aud_checkpoint_last, 0, NULL, &res);

    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return json_object_set_new(body, "checkpoint", json_null());
    }
    size = strtoll(ss_db_val(res, 0, 0), NULL, 10);
    if ((rc = aud_tree_size(&head)) != 0) {
        PQclear(res);
        return rc;
    }
    if (head < size)
        reason = "the log ends before the last signed checkpoint (a truncated tail)";
    else if ((rc = aud_tree_root(size, root)) == SS_ERR_CONFLICT)
        reason = "rows covered by the last signed checkpoint are missing";
    else if (rc != 0) {
        PQclear(res);
        return rc;
    } else if (strcmp(root, ss_db_val(res, 0, 1)) != 0)
        reason = "rows covered by the last signed checkpoint were changed (another tree head)";
    PQclear(res);
    if (reason != NULL)
        json_object_set_new(body, "ok", json_false());
    return json_object_set_new(
        body, "checkpoint",
        reason != NULL ? json_pack("{s:I,s:b,s:s}", "tree_size", (json_int_t)size, "ok", false,
                                   "reason", reason)
                       : json_pack("{s:I,s:b}", "tree_size", (json_int_t)size, "ok", true));
}

int aud_h_verify(ss_req *r)
{
    json_t *body;
    const char *from_s = ss_req_query(r, "from");
    const char *limit_s = ss_req_query(r, "limit");
    long long from = 1, limit = AUD_VERIFY_DEFAULT;
    char pbuf[2][24];
    const char *params[2] = {pbuf[0], pbuf[1]};
    PGresult *res = NULL;
    int rc;

    aud_check_params(r, aud_verify_params);
    if (from_s != NULL && from_s[0] != '\0' && aud_parse_ll(from_s, 1, INT64_MAX, &from) != 0)
        ss_req_field_error(r, "from", "must be a chain position (an integer from 1)");
    if (limit_s != NULL && limit_s[0] != '\0' &&
        aud_parse_ll(limit_s, 1, AUD_VERIFY_MAX, &limit) != 0)
        ss_req_field_error(r, "limit", "must be an integer from 1 to 10000000");
    if (json_array_size(r->errors) > 0)
        return SS_ERR_VALIDATION;
    snprintf(pbuf[0], sizeof(pbuf[0]), "%lld", from);
    snprintf(pbuf[1], sizeof(pbuf[1]), "%lld", limit);
    if ((rc = ss_db_query(ss_server_db(), sql_aud_verify_chain, 2, params, &res)) != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return SS_ERR_INTERNAL;
    }
    body = verify_body(res, from);
    PQclear(res);
    if (body == NULL || (rc = check_checkpoint(body)) != 0 ||
        (rc = aud_subtrees_check(body)) != 0) {
        json_decref(body);
        return body == NULL ? SS_ERR_NOMEM : rc;
    }
    return ss_reply_json_new(r, 200, body);
}
