/* persons_records.c - GET /api/v1/persons/:id?include=immunizations: a person and its records in
 * one read (one statement, one request, one access-log row) for a caller that needs both, as
 * the certificate service issuing a paper certificate does (it used to make two requests, each
 * with its token check and log row). The person is shown as without the include; the records
 * as the person's listing (GET /api/v1/persons/:id/immunizations) shows them to the
 * municipality, oldest first, at most SS_PAGE_MAX: `immunizations_next_cursor` continues with
 * that listing when there are more, null otherwise. */
#include <stdio.h>
#include <stdlib.h>

#include "rec.h"
#include "sesshu/body.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

/* The listing's cursor after the last record kept, when the statement gave one more than a
 * page (dropped here); JSON null otherwise. */
static json_t *next_cursor(json_t *items)
{
    json_t *last, *key;
    char *cur;

    if (json_array_size(items) <= SS_PAGE_MAX)
        return json_null();
    json_array_remove(items, SS_PAGE_MAX);
    last = json_array_get(items, SS_PAGE_MAX - 1);
    key = json_pack("[OO]", json_object_get(last, "vaccinated_on"), json_object_get(last, "id"));
    cur = key ? ss_page_cursor(key) : NULL;
    json_decref(key);
    key = cur ? json_string(cur) : NULL;
    free(cur);
    return key;
}

int rec_person_get_with_records(ss_req *r, const char *id)
{
    char lim[16];
    const char *params[] = {id, rec_muni(r), lim};
    PGresult *res = NULL;
    json_t *doc = NULL, *items = NULL, *cursor = NULL;
    int rc;

    snprintf(lim, sizeof(lim), "%d", SS_PAGE_MAX + 1);
    if ((rc = ss_db_query(ss_server_db(), sql_rec_person_get_records, 3, params, &res)) != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    }
    doc = ss_json_col(res, 0, 0);
    items = ss_json_col(res, 0, 1);
    PQclear(res);
    if (!json_is_object(doc) || !json_is_array(items) || (cursor = next_cursor(items)) == NULL) {
        json_decref(doc);
        json_decref(items);
        return SS_ERR_INTERNAL;
    }
    json_object_set_new(doc, "immunizations", items);
    json_object_set_new(doc, "immunizations_next_cursor", cursor);
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    rec_touch_person(r, id);
    return ss_reply_json_new(r, 200, doc);
}
