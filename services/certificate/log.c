/* log.c - the issuance log (H-5-4) and a certificate's files: municipality staff query the
 * certificates of their residents (issued while the person lived there), with filters, cursor
 * pages and CSV (UTF-8, or Shift_JIS with ?charset=shift_jis); a vaccinee sees its family's
 * (itself and the minor children the records service links to it). One certificate, its
 * `.smart-health-card` file, its QR (PNG or SVG) and its PDF are open to the same callers;
 * anything else is 404. Statuses are brought up to date first (sync.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "sesshu/body.h"
#include "sesshu/csv.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static const char *const statuses[] = {"valid", "superseded", "revoked", NULL};
static const char *const channels[] = {"portal", "paper", NULL};

bool cert_is_vaccinee(const ss_req *r)
{
    return r->who.kind == SS_PRINCIPAL_VACCINEE && ss_uuid_ok(r->who.person_id);
}

bool cert_is_staff(const ss_req *r)
{
    return r->who.kind == SS_PRINCIPAL_USER && r->who.org_type == SS_ORG_MUNICIPALITY &&
           strlen(r->who.muni_code) == 6 && ss_authz_has(&r->who, SS_PERM_RECORDS_READ);
}

static bool in_list(const char *v, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(v, *list) == 0)
            return true;
    return false;
}

/* The vaccinee's family as a JSON text array of ids (malloc'd). */
static int family_text(ss_req *r, char **out)
{
    json_t *ids = NULL;
    int rc = cert_fetch_family(r, &ids);

    *out = NULL;
    if (rc == 0 && (*out = json_dumps(ids, JSON_COMPACT)) == NULL)
        rc = SS_ERR_NOMEM;
    json_decref(ids);
    return rc;
}

int cert_load(ss_req *r, const char *id, json_t **cert, char **jws)
{
    char *fam = NULL;
    PGresult *res = NULL;
    int rc;

    *cert = NULL;
    if (jws != NULL)
        *jws = NULL;
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such certificate of yours");
    if (!cert_is_staff(r) && !cert_is_vaccinee(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "certificates are seen by municipality staff and vaccinees");
    if (cert_is_vaccinee(r) && (rc = family_text(r, &fam)) != 0)
        return rc;
    cert_sync();
    {
        const char *p[] = {id, cert_is_staff(r) ? r->who.muni_code : NULL, fam};
        rc = ss_db_query(ss_server_db(), sql_cert_load, 3, p, &res);
    }
    free(fam);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such certificate of yours");
    }
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    snprintf(r->person_id, sizeof(r->person_id), "%s", PQgetvalue(res, 0, 2));
    snprintf(r->subject_muni, sizeof(r->subject_muni), "%s", PQgetvalue(res, 0, 3));
    *cert = ss_json_col(res, 0, 0);
    if (jws != NULL)
        *jws = strdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (*cert == NULL || (jws != NULL && *jws == NULL)) {
        json_decref(*cert);
        *cert = NULL;
        return SS_ERR_NOMEM;
    }
    return 0;
}

static int check_filters(ss_req *r)
{
    const char *v;

    if ((v = ss_req_query(r, "person_id")) != NULL && !ss_uuid_ok(v))
        ss_req_field_error(r, "person_id", "not-a-uuid");
    if ((v = ss_req_query(r, "status")) != NULL && !in_list(v, statuses))
        ss_req_field_error(r, "status", "not-one-of-the-values");
    if ((v = ss_req_query(r, "channel")) != NULL && !in_list(v, channels))
        ss_req_field_error(r, "channel", "not-one-of-the-values");
    if ((v = ss_req_query(r, "issued_from")) != NULL && !ss_date_ok(v))
        ss_req_field_error(r, "issued_from", "not-a-date");
    if ((v = ss_req_query(r, "issued_to")) != NULL && !ss_date_ok(v))
        ss_req_field_error(r, "issued_to", "not-a-date");
    if ((v = ss_req_query(r, "format")) != NULL && strcmp(v, "csv") != 0 && strcmp(v, "json") != 0)
        ss_req_field_error(r, "format", "not-one-of-the-values");
    if ((v = ss_req_query(r, "charset")) != NULL && strcmp(v, "utf-8") != 0 &&
        strcmp(v, "shift_jis") != 0)
        ss_req_field_error(r, "charset", "not-one-of-the-values");
    return json_array_size(r->errors) > 0 ? SS_ERR_VALIDATION : 0;
}

static const char *str_or(const json_t *o, const char *k, const char *def)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : def;
}

static int reply_csv(ss_req *r, const PGresult *res, int limit)
{
    ss_buf b = {0};
    char *conv = NULL;
    size_t clen = 0, bad = 0;
    int rc = 0;
    const char *cs = ss_req_query(r, "charset");
    bool sjis = cs != NULL && strcmp(cs, "shift_jis") == 0;
    static const char *const head[] = {"certificate_no", "issued_at", "status", "channel",
                                       "kind",           "person_id", "name",   "birth_date",
                                       "issued_by",      "doses",     "id"};

    for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
        rc |= ss_csv_put(&b, head[i]) |
              ss_buf_str(&b, i + 1 < sizeof(head) / sizeof(head[0]) ? "," : "\r\n");
    for (int i = 0; rc == 0 && i < PQntuples(res) && i < limit; i++) {
        json_t *c = ss_json_col(res, i, 0);
        const json_t *p = json_object_get(c, "person");
        char nd[16];
        const char *f[11];

        snprintf(nd, sizeof(nd), "%zu", json_array_size(json_object_get(c, "doses")));
        f[0] = str_or(c, "certificate_no", "");
        f[1] = str_or(c, "issued_at", "");
        f[2] = str_or(c, "status", "");
        f[3] = str_or(c, "channel", "");
        f[4] = str_or(c, "kind", "");
        f[5] = str_or(c, "person_id", "");
        f[6] = str_or(p, "name", "");
        f[7] = str_or(p, "birth_date", "");
        f[8] = str_or(json_object_get(c, "issued_by"), "id", "");
        f[9] = nd;
        f[10] = str_or(c, "id", "");
        for (int k = 0; k < 11; k++)
            rc |= ss_csv_put(&b, f[k]) | ss_buf_str(&b, k < 10 ? "," : "\r\n");
        json_decref(c);
    }
    if (rc != 0) {
        ss_buf_free(&b);
        return SS_ERR_NOMEM;
    }
    if (sjis) {
        rc = ss_iconv("UTF-8", "CP932", b.s, b.len, &conv, &clen, &bad);
        ss_buf_free(&b);
        if (rc != 0)
            return ss_req_fail(r, SS_ERR_VALIDATION,
                               "a value does not fit Shift_JIS; ask for utf-8");
        rc = ss_reply_raw(r, 200, "text/csv; charset=Shift_JIS", conv, clen);
        free(conv);
        return rc;
    }
    rc = ss_reply_raw(r, 200, "text/csv; charset=utf-8", b.s ? b.s : "", b.len);
    ss_buf_free(&b);
    return rc;
}

static int list(ss_req *r, const char *muni, const char *fam)
{
    char keys[2][64], lim[16];
    int limit, rc;
    PGresult *res = NULL;
    const char *fmt;

    if ((rc = ss_query_check(r, (const char *[]){"person_id", "status", "channel", "issued_from",
                                                 "issued_to", "limit", "cursor", "format",
                                                 "charset", NULL})) != 0 ||
        (rc = check_filters(r)) != 0 || (rc = ss_page_keys(r, &limit, 2, keys)) != 0)
        return rc;
    if (keys[1][0] != '\0' && !ss_uuid_ok(keys[1]))
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    cert_sync();
    snprintf(lim, sizeof(lim), "%d", limit + 1);
    {
        const char *p[] = {muni,
                           fam,
                           ss_req_query(r, "person_id"),
                           ss_req_query(r, "status"),
                           ss_req_query(r, "channel"),
                           ss_req_query(r, "issued_from"),
                           ss_req_query(r, "issued_to"),
                           keys[0][0] ? keys[0] : NULL,
                           keys[1][0] ? keys[1] : NULL,
                           lim};
        rc = ss_db_query(ss_server_db(), sql_cert_list, 10, p, &res);
    }
    if (rc != 0)
        return rc == SS_ERR_VALIDATION
                   ? ss_req_field_error(r, "cursor", "is not a cursor this service issued")
                   : rc;
    if (ss_req_query(r, "person_id") != NULL)
        snprintf(r->person_id, sizeof(r->person_id), "%s", ss_req_query(r, "person_id"));
    fmt = ss_req_query(r, "format");
    rc = fmt != NULL && strcmp(fmt, "csv") == 0 ? reply_csv(r, res, limit)
                                                : ss_reply_page(r, res, limit, 2);
    PQclear(res);
    return rc;
}

int cert_h_list_staff(ss_req *r)
{
    if (!cert_is_staff(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "the issuance log is municipality staff's");
    snprintf(r->subject_muni, sizeof(r->subject_muni), "%s", r->who.muni_code);
    return list(r, r->who.muni_code, "[]");
}

int cert_h_list_self(ss_req *r)
{
    char *fam = NULL;
    int rc;

    if (!cert_is_vaccinee(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a vaccinee token has its family's log");
    if ((rc = family_text(r, &fam)) != 0)
        return rc;
    rc = list(r, NULL, fam);
    free(fam);
    return rc;
}

int cert_h_get(ss_req *r)
{
    json_t *c = NULL;
    int rc;

    if ((rc = ss_query_check(r, (const char *[]){"id", NULL})) != 0 ||
        (rc = cert_load(r, ss_req_param(r, "id"), &c, NULL)) != 0)
        return rc;
    return ss_reply_json_new(r, 200, c);
}

int cert_h_file(ss_req *r)
{
    json_t *c = NULL, *file;
    char *jws = NULL, *text = NULL;
    int rc;

    if ((rc = ss_query_check(r, (const char *[]){"id", NULL})) != 0 ||
        (rc = cert_load(r, ss_req_param(r, "id"), &c, &jws)) != 0)
        return rc;
    file = json_pack("{s:[s]}", "verifiableCredential", jws);
    text = file ? json_dumps(file, JSON_COMPACT) : NULL;
    if (text == NULL) {
        rc = SS_ERR_NOMEM;
    } else {
        char disp[128];
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s.smart-health-card\"",
                 str_or(c, "certificate_no", "certificate"));
        ss_reply_header(r, "Content-Disposition", disp);
        rc = ss_reply_raw(r, 200, "application/smart-health-card", text, strlen(text));
    }
    json_decref(file);
    json_decref(c);
    free(jws);
    free(text);
    return rc;
}

int cert_h_qr(ss_req *r)
{
    json_t *c = NULL;
    char *jws = NULL, *svg = NULL;
    unsigned char *png = NULL;
    size_t len = 0;
    const char *fmt = ss_req_query(r, "format");
    int rc;

    if ((rc = ss_query_check(r, (const char *[]){"id", "format", NULL})) != 0)
        return rc;
    if (fmt != NULL && strcmp(fmt, "png") != 0 && strcmp(fmt, "svg") != 0)
        return ss_req_field_error(r, "format", "not-one-of-the-values");
    if ((rc = cert_load(r, ss_req_param(r, "id"), &c, &jws)) != 0)
        return rc;
    if (fmt != NULL && strcmp(fmt, "svg") == 0) {
        if ((rc = cert_qr_svg(jws, &svg)) == 0)
            rc = ss_reply_raw(r, 200, "image/svg+xml", svg, strlen(svg));
    } else if ((rc = cert_qr_png(jws, &png, &len)) == 0) {
        rc = ss_reply_raw(r, 200, "image/png", (const char *)png, len);
    }
    json_decref(c);
    free(jws);
    free(svg);
    free(png);
    return rc;
}

int cert_h_pdf(ss_req *r)
{
    json_t *c = NULL;
    char *jws = NULL;
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc;

    if ((rc = ss_query_check(r, (const char *[]){"id", NULL})) != 0 ||
        (rc = cert_load(r, ss_req_param(r, "id"), &c, &jws)) != 0)
        return rc;
    if ((rc = cert_pdf(c, jws, &pdf, &len)) == 0) {
        char disp[128];
        snprintf(disp, sizeof(disp), "inline; filename=\"%s.pdf\"",
                 str_or(c, "certificate_no", "certificate"));
        ss_reply_header(r, "Content-Disposition", disp);
        rc = ss_reply_raw(r, 200, "application/pdf", (const char *)pdf, len);
    }
    json_decref(c);
    free(jws);
    free(pdf);
    return rc;
}
