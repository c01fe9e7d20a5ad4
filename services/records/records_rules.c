/* records_rules.c - GET /api/v1/immunizations/rules: the vaccination rules in force on `as_of`
 * (default today in Japan), from master.rules, the same rows the check applies
 * (records_check.h). `?format=markdown` answers the table README.md carries, made by the same
 * SQL (records.rules_markdown, migrations/041_rules_markdown.sql). */
#include <string.h>

#include "rec.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

#define RULES_SQL                                                                                \
    "SELECT coalesce(jsonb_agg(jsonb_build_object('code', r.code, 'effect', r.effect, 'field', " \
    "r.field, 'statement_ja', r.statement_ja, 'statement_en', r.statement_en, 'source_ref', "    \
    "r.source_ref, 'param_days', r.param_days, 'valid_from', r.valid_from, 'valid_to', "         \
    "r.valid_to, 'version', r.version) ORDER BY r.code), '[]') FROM master.rules r WHERE "       \
    "r.superseded_at IS NULL AND r.valid_from <= d.d AND (r.valid_to IS NULL OR r.valid_to >= "  \
    "d.d)"

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
        rc = ss_db_query(ss_server_db(),
                         "SELECT records.rules_markdown(coalesce($1::date, master.today_jp()))", 1,
                         params, &res);
        if (rc == 0)
            rc = ss_reply_raw(r, 200, "text/markdown; charset=utf-8", ss_db_val(res, 0, 0),
                              strlen(ss_db_val(res, 0, 0)));
        PQclear(res);
        return rc;
    }
    rc = ss_db_query(ss_server_db(),
                     "SELECT jsonb_build_object('as_of', d.d, 'items', x.items)::text FROM (SELECT "
                     "coalesce($1::date, master.today_jp()) AS d) d, LATERAL (" RULES_SQL
                     ") x (items)",
                     1, params, &res);
    if (rc == 0) {
        json_t *doc = ss_json_col(res, 0, 0);
        rc = doc != NULL ? ss_reply_json_new(r, 200, doc) : SS_ERR_INTERNAL;
    }
    PQclear(res);
    return rc;
}
