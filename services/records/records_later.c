/* records_later.c - a correction or void must not break a later dose (issue 17, R-CORRECTION-LATER,
 * docs/rules.md §7). After the change, in its transaction, every other non-voided dose of the
 * person is checked again by the one check (records_check.h) as a batch, each without itself;
 * a dose that would newly hit a series rule - order, duplicate, once-per, an interval, the
 * 27-day live rule - with an effect that changes what it is (refused, duplicate, or 定期 made
 * 任意) refuses the change with a 422 naming that dose and its rule, and the transaction rolls
 * back. A flag-only consequence (a later dose whose predecessor was voided: R-DOSE-PREV-MISSING)
 * does not refuse: a missing earlier dose never makes a dose by age non-定期. The later dose is
 * then corrected first, each change with its own reason. */
#include <stdio.h>
#include <string.h>

#include "rec.h"
#include "records_check.h"
#include "sesshu/err.h"

/* clang-format off */
#define LATER_SQL \
    "WITH inp AS (SELECT row_number() OVER (ORDER BY im.vaccinated_on, im.dose_number, im.id) AS ln, " \
    "  im.person_id, im.vaccinated_on, im.vaccine_code, im.disease_codes, im.dose_number, im.lot_no, " \
    "  im.institution_code, coalesce(im.requested_category, im.category) AS category, " \
    "  im.pregnancy_weeks, im.id AS exclude_id, im.source FROM records.immunizations im " \
    "  WHERE im.person_id = $1::uuid AND im.id <> $2::uuid AND im.status <> 'voided'), " \
    REC_CHECK_CTES ", " \
    "rr AS (SELECT r.field FROM master.rules r WHERE r.code = 'R-CORRECTION-LATER' AND " \
    "  r.effect = 'refuse' AND " REC_ASOF("r", "master.today_jp()") " LIMIT 1) " \
    "SELECT rr.field, format('would make the record %s (%s, dose %s of %s) break %s: %s', im.id, " \
    "  im.vaccinated_on, im.dose_number, array_to_string(im.disease_codes, ','), e->>'rule', " \
    "  e->>'reason') FROM chk JOIN inp ON inp.ln = chk.ln JOIN records.immunizations im ON " \
    "  im.id = inp.exclude_id CROSS JOIN LATERAL jsonb_array_elements(chk.rules) e, rr " \
    "  WHERE e->>'rule' IN ('R-DOSE-ORDER', 'R-DUPLICATE', 'R-ONCE-FY', 'R-ONCE-PREGNANCY', " \
    "  'R-INTERVAL-MIN', 'R-INTERVAL-FIRST', 'R-INTERVAL-MAX', 'R-LIVE-INJ-27D') " \
    "  AND (e->>'effect' IN ('refuse', 'duplicate') OR (e->>'effect' = 'voluntary' AND " \
    "  im.category IN ('routine', 'temporary'))) AND NOT (e->>'rule' = ANY (coalesce(im.flags, " \
    "  '{}'))) ORDER BY im.vaccinated_on, im.id LIMIT 20"
/* clang-format on */

int rec_later_doses_check(ss_req *r, ss_dbc *c, const char *person_id, const char *changed_id)
{
    const char *params[] = {person_id, changed_id};
    PGresult *res = NULL;
    int rc;

    if (person_id == NULL)
        return SS_ERR_INTERNAL;
    if ((rc = ss_db_exec(c, LATER_SQL, 2, params, &res)) != 0)
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
