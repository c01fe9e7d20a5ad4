/* records_rules.c - GET /api/v1/immunizations/rules: the vaccination rules in force on `as_of`
 * (default today in Japan), from master.rules, the same rows the check applies
 * (sql/rules.sql). `?format=markdown` answers the table README.md carries, made by the same
 * SQL (records.rules_markdown, migrations/041_rules_markdown.sql). */
#include <string.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

int rec_h_imm_rules(ss_req *r)
{
    const char *as_of = ss_req_query(r, "as_of"), *fmt = ss_req_query(r, "format");
    PGresult *res = NULL;
    int rc;

    if (as_of != NULL && !ss_date_ok(as_of))
        return ss_req_field_error(r, "as_of", "must be a date (YYYY-MM-DD)");
    if (fmt != NULL && strcmp(fmt, "json") != 0 && strcmp(fmt, "markdown") != 0)
        return ss_req_field_error(r, "format", "must be json or markdown");
    const char *params[] = {as_of};
    if (fmt != NULL && strcmp(fmt, "markdown") == 0) {
        rc = ss_db_query(ss_server_db(), sql_rec_rules_markdown, 1, params, &res);
        if (rc == 0)
            rc = ss_reply_raw(r, 200, "text/markdown; charset=utf-8", ss_db_val(res, 0, 0),
                              strlen(ss_db_val(res, 0, 0)));
        PQclear(res);
        return rc;
    }
    rc = ss_db_query(ss_server_db(), sql_rec_rules_list, 1, params, &res);
    if (rc == 0) {
        json_t *doc = ss_json_col(res, 0, 0);
        rc = doc != NULL ? ss_reply_json_new(r, 200, doc) : SS_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}
