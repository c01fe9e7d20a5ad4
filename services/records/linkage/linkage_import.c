/* linkage_import.c - bulk import from health-management systems (H-3-1), part 1: import jobs
 * and their NDJSON chunks.
 *
 * Bodies stay within the service's and the gateway's 1 MiB limit: a large file is sent as a
 * job of chunks (POST .../imports, then POST .../imports/:id/lines as often as needed, then
 * POST .../imports/:id/commit). Each chunk is parsed line by line (JSON, types, code formats)
 * and streamed with COPY into an UNLOGGED staging table; a line that fails here gets its
 * errors in the report at once. The set-based check and the write are the commit's
 * (linkage_commit.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "linkage_import.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const kinds[] = {"immunizations", "persons", NULL};
static const char *const modes[] = {"all_or_nothing", "good_lines", NULL};

static const ss_field job_fields[] = {
    {"kind", SS_F_ENUM, true, 0, 0, kinds, false},
    {"mode", SS_F_ENUM, true, 0, 0, modes, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

static int create_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    const char *params[] = {r->who.org_id, rec_muni(r), ss_json_str(r->body, "kind"),
                            ss_json_str(r->body, "mode"), r->who.sub};

    (void)arg;
    *status = 201;
    return rec_exec_doc(r, c, sql_rec_import_create, 5, params, doc, "job");
}

int rec_h_import_create(ss_req *r)
{
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "imports come from a municipality's systems");
    if ((rc = ss_body_check(r, job_fields)) != 0)
        return rc;
    return rec_write_tx(r, create_tx, NULL, false);
}

int rec_h_import_get(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    PGresult *res = NULL;
    int rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "imports come from a municipality's systems");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such job of yours");
    const char *params[] = {id, r->who.org_id};
    rc = ss_db_query(ss_server_db(), sql_rec_import_get, 2, params, &res);
    if (rc == 0)
        rc = rec_reply_one(r, res, 200, "job", false);
    PQclear(res);
    return rc;
}

int rec_h_import_errors(ss_req *r)
{
    const char *id = ss_req_param(r, "id");
    char keys[1][64], lim[16];
    PGresult *res = NULL;
    int limit, rc;

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "imports come from a municipality's systems");
    if ((rc = ss_query_check(r, (const char *[]){"id", "limit", "cursor", NULL})) != 0 ||
        (rc = ss_page_keys(r, &limit, 1, keys)) != 0)
        return rc;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such job of yours");
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    const char *params[] = {id, r->who.org_id, keys[0][0] ? keys[0] : "0", lim};
    if (strspn(params[2], "0123456789") != strlen(params[2]) || strlen(params[2]) > 18)
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    rc = ss_db_query(ss_server_db(), sql_rec_import_errors, 4, params, &res);
    if (rc != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rc = ss_reply_page(r, res, limit, 1);
    PQclear(res);
    return rc;
}

/* The job, locked for this transaction: open and the caller's. *base = lines so far. */
int rec_import_lock(ss_req *r, ss_dbc *c, const char *id, char kind[16], char mode[16],
                    long long *base)
{
    const char *params[] = {id, r->who.org_id};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_rec_import_lock, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such job of yours");
    else if (strcmp(ss_db_val(res, 0, 3), "open") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the job is %s", ss_db_val(res, 0, 3));
    else {
        snprintf(kind, 16, "%s", ss_db_val(res, 0, 0));
        snprintf(mode, 16, "%s", ss_db_val(res, 0, 1));
        *base = atoll(ss_db_val(res, 0, 2));
    }
    PQclear(res);
    return rc;
}

/* Append the job's line errors (a JSON array of {ln, errors}) in one statement. */
static int store_line_errors(ss_dbc *c, const char *id, const json_t *errs)
{
    char *text;
    int rc;

    if (json_array_size(errs) == 0)
        return 0;
    if ((text = json_dumps(errs, JSON_COMPACT)) == NULL)
        return SS_ERR_NOMEM;
    const char *params[] = {id, text};
    rc = ss_db_exec(c, sql_rec_import_line_errors, 2, params, NULL);
    free(text);
    return rc;
}

static bool ndjson_type(const char *ct)
{
    return ct != NULL && (strncasecmp(ct, "application/x-ndjson", 20) == 0 ||
                          strncasecmp(ct, "application/jsonl", 17) == 0);
}

static int chunk_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    char kind[16], mode[16], cnt[24];
    long long base = 0, n = 0;
    json_t *errs = json_array();
    int rc;

    if (errs == NULL)
        return SS_ERR_NOMEM;
    if ((rc = rec_import_lock(r, c, arg, kind, mode, &base)) != 0)
        goto out;
    rc = rec_import_copy(r, c, arg, strcmp(kind, "persons") == 0, base, &n, errs);
    if (rc != 0 || (rc = store_line_errors(c, arg, errs)) != 0)
        goto out;
    snprintf(cnt, sizeof(cnt), "%lld", n);
    const char *params[] = {arg, cnt};
    rc = rec_exec_doc(r, c, sql_rec_import_chunk, 2, params, doc, "job");
    *status = 200;
out:
    json_decref(errs);
    return rc;
}

int rec_h_import_chunk(ss_req *r)
{
    const char *id = ss_req_param(r, "id");

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "imports come from a municipality's systems");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such job of yours");
    if (r->u->binary_body_length == 0)
        return ss_req_fail(r, SS_ERR_BAD_REQUEST, "the chunk is empty");
    if ((long)r->u->binary_body_length > 1048576)
        return ss_req_fail(r, SS_ERR_TOO_LARGE, "a chunk holds at most 1 MiB");
    if (!ndjson_type(ss_req_header(r, "Content-Type")))
        return ss_req_fail(r, SS_ERR_MEDIA_TYPE, "a chunk is application/x-ndjson");
    if (!ss_utf8_valid(r->u->binary_body, r->u->binary_body_length))
        return ss_req_fail(r, SS_ERR_BAD_REQUEST, "the chunk is not valid UTF-8");
    return rec_write_tx(r, chunk_tx, id, false);
}
