/* accounts_review.c - H-9 approval by the 国保連合会 of the institution's prefecture (approve or
 * reject with a reason; four eyes: the reviewer is neither the submitter nor of the
 * submitter's organisation), and the supporting documents (委任状, passbook copy) uploaded to
 * an account as PDF, PNG or JPEG of at most PAY_DOC_MAX bytes.
 *
 * An assignment (債権譲渡) account is approved only with a document of its current version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pay.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const ss_field approve_fields[] = {
    {"reason", SS_F_STRING, false, 1, 1000, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};
static const ss_field reject_fields[] = {
    {"reason", SS_F_STRING, true, 1, 1000, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Before the decision: the account must be of the reviewer's prefecture (404), submitted
 * (409), by someone else of another organisation (403), and an assignment account must carry
 * its documents (409, approvals only). */
static int review_guard(ss_req *r, ss_dbc *c, const char *id, bool approving)
{
    const char *params[] = {id, pay_pref(r)};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_pay_account_review_guard, 2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1)
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such bank account in your prefecture");
    else if (strcmp(PQgetvalue(res, 0, 0), "submitted") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT, "the account is %s, not awaiting review",
                         PQgetvalue(res, 0, 0));
    else if (strcmp(PQgetvalue(res, 0, 1), r->who.sub) == 0 ||
             strcmp(PQgetvalue(res, 0, 2), r->who.org_id) == 0)
        rc = ss_req_fail(r, SS_ERR_FORBIDDEN,
                         "four eyes: the submitter and the submitter's organisation cannot "
                         "review the account");
    else if (approving && strcmp(PQgetvalue(res, 0, 3), "assignment") == 0 &&
             strcmp(PQgetvalue(res, 0, 4), "t") != 0)
        rc = ss_req_fail(r, SS_ERR_CONFLICT,
                         "an assignment (債権譲渡) account needs its supporting documents "
                         "(委任状, passbook copy) before approval");
    PQclear(res);
    return rc;
}

static int decide(ss_req *r, bool approving)
{
    const char *id;
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    json_t *doc = NULL;
    int rc;

    if ((rc = pay_id(r, &id, "no such bank account in your prefecture")) != 0)
        return rc;
    if (pay_pref(r)[0] == '\0')
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "your 国保連合会 has no prefecture");
    /* An approval needs no body; a rejection needs its reason. */
    if ((!approving || r->body != NULL) &&
        (rc = ss_body_check(r, approving ? approve_fields : reject_fields)) != 0)
        return rc;
    const char *params[] = {id, approving ? "approved" : "rejected", r->who.sub, r->who.org_id,
                            ss_json_str(r->body, "reason")};
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = review_guard(r, c, id, approving)) != 0)
        goto out;
    rc = ss_db_exec(c, sql_pay_account_decide, 5, params, &res);
    if (rc != 0 || (rc = PQntuples(res) == 1 ? 0 : SS_ERR_INTERNAL) != 0)
        goto out;
    if ((doc = ss_json_col(res, 0, 0)) == NULL || (rc = ss_db_commit(c)) != 0) {
        rc = rc != 0 ? rc : SS_ERR_INTERNAL;
        goto out;
    }
    rc = ss_reply_json_new(r, 200, doc);
    doc = NULL;
out:
    json_decref(doc);
    PQclear(res);
    ss_db_release(c);
    return rc;
}

int pay_h_account_approve(ss_req *r)
{
    return decide(r, true);
}

int pay_h_account_reject(ss_req *r)
{
    return decide(r, false);
}

/* ---- documents ---------------------------------------------------------------------------- */

static const char *const doc_kinds[] = {"power_of_attorney", "passbook", "other", NULL};

/* The media type from Content-Type, confirmed by the file's first bytes; NULL otherwise. */
static const char *doc_type(const char *ct, const unsigned char *d, size_t n)
{
    if (ct == NULL)
        return NULL;
    if (strncasecmp(ct, "application/pdf", 15) == 0 && n >= 5 && memcmp(d, "%PDF-", 5) == 0)
        return "application/pdf";
    if (strncasecmp(ct, "image/png", 9) == 0 && n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (strncasecmp(ct, "image/jpeg", 10) == 0 && n >= 3 && memcmp(d, "\xFF\xD8\xFF", 3) == 0)
        return "image/jpeg";
    return NULL;
}

static char *hex_of(const unsigned char *d, size_t n, bool bytea)
{
    static const char hx[] = "0123456789abcdef";
    char *out = malloc(2 * n + 3), *p;

    if (out == NULL)
        return NULL;
    p = out;
    if (bytea) {
        *p++ = '\\';
        *p++ = 'x';
    }
    for (size_t i = 0; i < n; i++) {
        *p++ = hx[d[i] >> 4];
        *p++ = hx[d[i] & 15];
    }
    *p = '\0';
    return out;
}

int pay_h_document_upload(ss_req *r)
{
    const char *id, *data = NULL, *kind = ss_req_query(r, "kind"), *type;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *hex = NULL, *sha = NULL, size[24];
    size_t len = 0;
    int rc;

    if ((rc = pay_id(r, &id, "no such bank account of your organisation")) != 0 ||
        (rc = ss_query_check(r, (const char *[]){"id", "kind", NULL})) != 0)
        return rc;
    if (!pay_in(kind, doc_kinds))
        return ss_req_field_error(r, "kind", "must be power_of_attorney, passbook or other");
    if ((rc = ss_req_raw_body(r, &data, &len)) != 0)
        return rc;
    if (len == 0)
        return ss_req_fail(r, SS_ERR_BAD_REQUEST, "the document is empty");
    type = doc_type(ss_req_header(r, "Content-Type"), (const unsigned char *)data, len);
    if (type == NULL)
        return ss_req_fail(r, SS_ERR_MEDIA_TYPE,
                           "a document is application/pdf, image/png or image/jpeg, and its "
                           "content must be one");
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        (sha = hex_of(md, mdlen, false)) == NULL ||
        (hex = hex_of((const unsigned char *)data, len, true)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    snprintf(size, sizeof(size), "%zu", len);
    const char *params[] = {id, r->who.org_id, kind, type, size, sha, hex, r->who.sub};
    /* Documents go with a request still open to review (submitted or rejected). */
    rc = pay_reply_row(
        r, sql_pay_document_insert, 8, params, 201,
        "no open bank account request of your organisation with room for a document (at most 5; "
        "none once approved)",
        NULL);
out:
    free(hex);
    free(sha);
    return rc;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int pay_h_document_get(ss_req *r)
{
    const char *viewer = pay_viewer(r, SS_PERM_BANK_ACCOUNTS_MANAGE, SS_PERM_BANK_ACCOUNTS_REVIEW);
    const char *id, *doc_id = ss_req_param(r, "doc_id");
    PGresult *res = NULL;
    char *bin = NULL;
    int rc;

    if (viewer == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "documents are their account's readers'");
    if ((rc = pay_id(r, &id, "no such document")) != 0)
        return rc;
    if (!ss_uuid_ok(doc_id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such document");
    const char *params[] = {viewer, r->who.org_id, pay_pref(r), id, doc_id};
    rc = ss_db_query(ss_server_db(), sql_pay_document_get, 5, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such document");
        goto out;
    }
    const char *hx = PQgetvalue(res, 0, 1) + 2; /* "\x" */
    size_t n = strlen(hx) / 2;
    if ((bin = malloc(n + 1)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        bin[i] = (char)(hexval(hx[2 * i]) << 4 | hexval(hx[2 * i + 1]));
    rc = ss_reply_raw(r, 200, PQgetvalue(res, 0, 0), bin, n);
out:
    free(bin);
    PQclear(res);
    return rc;
}
