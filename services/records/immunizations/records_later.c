/* records_later.c - a correction or void must not break a later dose (issue 17, R-CORRECTION-LATER,
 * docs/rules.md §7). After the change, in its transaction, every other non-voided dose of the
 * person is checked again by the one check (sql/rules.sql, rec_rules_later_doses) as a batch, each
 * without itself; a dose that would newly hit a series rule - order, duplicate, once-per, an
 * interval, the 27-day live rule - with an effect that changes what it is (refused, duplicate, or
 * 定期 made 任意) refuses the change with a 422 naming that dose and its rule, and the transaction
 * rolls back. A flag-only consequence (a later dose whose predecessor was voided:
 * R-DOSE-PREV-MISSING) does not refuse: a missing earlier dose never makes a dose by age non-定期.
 * The later dose is then corrected first, each change with its own reason. */
#include <stdio.h>
#include <string.h>

#include "rec.h"
#include "sesshu/err.h"

int rec_later_doses_check(ss_req *r, ss_dbc *c, const char *person_id, const char *changed_id)
{
    const char *params[] = {person_id, changed_id};
    PGresult *res = NULL;
    int rc;

    if (person_id == NULL)
        return SS_ERR_INTERNAL;
    if ((rc = ss_db_exec(c, sql_rec_rules_later_doses, 2, params, &res)) != 0)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *last;

        ss_req_field_error(r, ss_db_val(res, i, 0), ss_db_val(res, i, 1));
        last = json_array_get(r->errors, json_array_size(r->errors) - 1);
        if (last != NULL)
            json_object_set_new(last, "rule", json_string("R-CORRECTION-LATER"));
    }
    rc = PQntuples(res) > 0 ? SS_ERR_VALIDATION : 0;
    PQclear(res);
    return rc;
}
