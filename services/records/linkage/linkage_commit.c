/* linkage_commit.c - bulk import, part 3: committing a job. The staged lines go through the
 * same set-based check as a single registration (sql/rules.sql), in one statement that
 * also writes the per-line error report and - all lines, none (all_or_nothing with any error),
 * or the good ones (good_lines) - the records. Each error names its rule (master.rules). Persons
 * are new persons only: a line whose resident number or 個人番号 is already registered is an error
 * (changes go through PATCH). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkage_import.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

static int commit_tx(ss_req *r, ss_dbc *c, const void *arg, json_t **doc, int *status)
{
    char kind[16], mode[16];
    long long base;
    PGresult *res = NULL;
    int rc;

    if ((rc = rec_import_lock(r, c, arg, kind, mode, &base)) != 0)
        return rc;
    /* One statement over up to millions of lines: room for its hashes and sorts, and no JIT
     * (compiling its expressions took a third of the time). The joins run in the order they are
     * written (join_collapse_limit 1): the staging table has no statistics, and the planner,
     * guessing a few hundred lines, joined every line to every schedule of its dose number
     * before unnesting its diseases (3.3 million rows for 200,000 lines instead of 880,000). */
    if ((rc = ss_db_exec(c, sql_rec_import_commit_settings, 0, NULL, NULL)) != 0)
        return rc;
    const char *params[] = {arg, rec_muni(r), mode, r->who.org_id, r->who.sub};
    rc = ss_db_exec(c,
                    strcmp(kind, "persons") == 0 ? sql_rec_import_commit_persons
                                                 : sql_rec_import_commit_immunizations,
                    5, params, &res);
    if (rc != 0)
        return rc;
    const char *up[] = {arg, ss_db_val(res, 0, 0),
                        strcmp(ss_db_val(res, 0, 1), "t") == 0 ? "committed" : "rejected"};
    rc = rec_exec_doc(r, c, sql_rec_import_job_finish, 3, up, doc, "job");
    PQclear(res);
    *status = 200;
    return rc;
}

int rec_h_import_commit(ss_req *r)
{
    const char *id = ss_req_param(r, "id");

    if (rec_muni(r) == NULL)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "imports come from a municipality's systems");
    if (!ss_uuid_ok(id))
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such job of yours");
    if (r->body != NULL && json_object_size(r->body) > 0)
        return ss_req_field_error(r, "(body)", "takes no members");
    return rec_write_tx(r, commit_tx, id, false);
}
