/* export.c - CSV export (H-8-8, to the 集合契約システム): a master as of a date, Shift_JIS
 * (CP932) by default or UTF-8, CRLF line ends, the header naming the columns; the layout of
 * proto-schemas/master-files.md, so an export imports back unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

static int build_csv(const mst_master *m, const PGresult *res, ss_buf *out)
{
    int ncol = m->ncols + 4, rc = 0;
    static const char *const tail[] = {"valid_from", "valid_to", "version", "source"};

    for (int i = 0; i < ncol && rc == 0; i++)
        rc = (i ? ss_buf_str(out, ",") : 0) ||
             ss_buf_str(out, i < m->ncols ? m->cols[i].name : tail[i - m->ncols]);
    rc = rc ? rc : ss_buf_str(out, "\r\n");
    for (int row = 0; rc == 0 && row < PQntuples(res); row++) {
        for (int i = 0; i < ncol && rc == 0; i++) {
            const char *v = ss_db_val(res, row, i);
            rc = (i ? ss_buf_str(out, ",") : 0) || ss_csv_put(out, v ? v : "");
        }
        rc = rc ? rc : ss_buf_str(out, "\r\n");
    }
    return rc ? SS_ERR_NOMEM : 0;
}

int mst_h_export(ss_req *r)
{
    static const char *const allowed[] = {"as_of", "encoding", NULL};
    const char *enc = ss_req_query(r, "encoding");
    char as_of[11], disp[128];
    ss_buf csv = {0};
    PGresult *res = NULL;
    char *sjis = NULL;
    size_t slen = 0, bad = 0;
    bool utf8;
    mst_master *m;
    int rc = 0;

    if ((m = mst_req_master(r, &rc)) == NULL)
        return rc;
    if ((rc = mst_check_params(r, m, allowed, false)) != 0 || (rc = mst_as_of(r, as_of)) != 0)
        return rc;
    if (enc != NULL && strcmp(enc, "shift_jis") != 0 && strcmp(enc, "utf-8") != 0)
        return ss_req_field_error(r, "encoding", "must be shift_jis or utf-8");
    utf8 = enc != NULL && strcmp(enc, "utf-8") == 0;
    if ((rc = ss_db_query(ss_server_db(), m->sql->export_, 1, (const char *[]){as_of}, &res)) !=
            0 ||
        (rc = build_csv(m, res, &csv)) != 0)
        goto out;
    if (!utf8 && (rc = ss_iconv("UTF-8", "CP932", csv.s, csv.len, &sjis, &slen, &bad)) != 0) {
        if (rc == SS_ERR_VALIDATION)
            rc = ss_req_fail(r, SS_ERR_VALIDATION,
                             "a value has no Shift_JIS form (byte %zu of the UTF-8 text): ask for "
                             "encoding=utf-8",
                             bad);
        goto out;
    }
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%s.csv\"", m->name, as_of);
    rc = ss_reply_raw(r, 200, utf8 ? "text/csv; charset=UTF-8" : "text/csv; charset=Windows-31J",
                      utf8 ? csv.s : sjis, utf8 ? csv.len : slen);
    ss_reply_header(r, "Content-Disposition", disp);
out:
    free(sjis);
    ss_buf_free(&csv);
    PQclear(res);
    return rc;
}
