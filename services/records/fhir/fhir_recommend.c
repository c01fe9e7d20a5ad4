/* fhir_recommend.c - GET /fhir/ImmunizationRecommendation?patient={id}: the vaccinations due
 * and overdue for one person, computed from the schedule master (master.schedules, as of
 * today) and the person's records (voided ones do not count).
 *
 * The same rules as the check (sql/rules.sql, master.rules / master.schedules, as of today in
 * Japan): for each schedule row (disease, dose n) that fits the person's sex and birth cohort
 * (a 特例 row: 日本脳炎, MR, 風しん第5期), needs no pregnancy and, when it needs a per-person
 * condition (60-64 with a disability, the MR 特例, the 風しん第5期 antibody test), whose condition
 * the person has on file today (with its evidence date, when the row sets one):
 *   - done when a record of that disease with dose n or a later dose exists;
 *   - it opens on master.age_on(birth, age_from), on the first day of the fiscal year whose
 *     年度末年齢 enters fy_age_from .. fy_age_to (every fy_age_step years), on
 *     master.after_interval(dose n-1, min_interval) (翌日起算), and, for a disease with injected
 *     live products, on after_interval(the last injected live dose, R-LIVE-INJ-27D's days) -
 *     and on the row's valid_from - whichever is latest; it closes on master.age_on(birth, age_to)
 *     (inclusive), the end of the fiscal-year window, master.within_interval(dose n-1,
 *     max_interval) or the row's valid_to - whichever is first;
 *   - a row with the 長期療養特例 (ltc_extension) has a second window for a long_term_illness
 *     condition on file whose illness overlapped the row's window, as the check reads it: from
 *     the day the reason ended (and the lower ends, intervals) to ltc_extension after it or
 *     ltc_age_to, whichever is first - so a dose only the 特例 makes 定期 is proposed, and its
 *     description names the rule (R-LONG-TERM-ILLNESS; a 特例 row names its rule_code);
 *   - dose n > 1 is considered only once dose n-1 is recorded;
 *   - "due" when open today; "overdue" when it closed without the dose less than
 *     REC_OVERDUE_DAYS ago (an older gap is history: past the window the dose is 任意).
 * One entry per (disease, dose): a window open today before one that has closed, then the
 * earliest opening, among rows for several vaccines and the 特例 windows.
 * The answer is a searchset Bundle with at most one ImmunizationRecommendation; a person the
 * caller may not read gives an empty Bundle, like one that does not exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec.h"
#include "self.h"
#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

#define REC_OVERDUE_DAYS "365"

static void now_iso(char out[40])
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The ImmunizationRecommendation of a person (recs stolen; NULL: nothing due). */
static json_t *recommendation(const char *person, json_t *recs)
{
    char ts[40], ref[64];

    now_iso(ts);
    snprintf(ref, sizeof(ref), "Patient/%s", person);
    return json_pack("{s:s,s:s,s:{s:s},s:s,s:o}", "resourceType", "ImmunizationRecommendation",
                     "id", person, "patient", "reference", ref, "date", ts, "recommendation", recs);
}

/* The searchset Bundle of zero or one recommendation (recs stolen; NULL: none). */
static json_t *bundle(ss_req *r, const char *person, json_t *recs)
{
    char ts[40], full[600], self[700];
    json_t *b;

    now_iso(ts);
    snprintf(self, sizeof(self), "%s/ImmunizationRecommendation?patient=%s", rec_fhir_base(),
             person);
    b = json_pack("{s:s,s:s,s:s,s:i,s:[{s:s,s:s}],s:[]}", "resourceType", "Bundle", "type",
                  "searchset", "timestamp", ts, "total", recs ? 1 : 0, "link", "relation", "self",
                  "url", self, "entry");
    (void)r;
    if (b == NULL || recs == NULL) {
        json_decref(recs);
        return b;
    }
    snprintf(full, sizeof(full), "%s/ImmunizationRecommendation/%s", rec_fhir_base(), person);
    json_array_append_new(json_object_get(b, "entry"),
                          json_pack("{s:s,s:o,s:{s:s}}", "fullUrl", full, "resource",
                                    recommendation(person, recs), "search", "mode", "match"));
    return b;
}

/* The due and overdue doses of a person the caller may read, as an array (new reference; NULL
 * when none is due) in *recs. 0, SS_ERR_NOT_FOUND or a database error. */
static int recommend(ss_req *r, const char *pid, json_t **recs)
{
    PGresult *res = NULL;
    const char *params[] = {pid};
    int rc;

    *recs = NULL;
    if ((rc = rec_fhir_person_ok(r, pid)) != 0)
        return rc;
    rec_touch_person(r, pid);
    if ((rc = ss_db_query(ss_server_db(), sql_rec_fhir_recommend, 1, params, &res)) != 0)
        return rc;
    if (PQntuples(res) > 0 && (*recs = json_array()) != NULL)
        for (int i = 0; i < PQntuples(res); i++)
            json_array_append_new(*recs, ss_json_col(res, i, 0));
    PQclear(res);
    return 0;
}

/* patient=: the one search parameter (the general ones aside); its value, or NULL. */
static const char *patient_param(const ss_req *r, char out[48])
{
    const char *q = r->u->http_url != NULL ? strchr(r->u->http_url, '?') : NULL;
    const char *found = NULL;

    for (const char *p = q ? q + 1 : ""; *p != '\0';) {
        size_t n = strcspn(p, "&"), nn = strcspn(p, "=&");
        char name[16] = "";

        if (nn < sizeof(name)) {
            memcpy(name, p, nn);
            name[nn] = '\0';
        }
        if (strcmp(name, "patient") == 0 && p[nn] == '=' && found == NULL && n - nn - 1 < 48) {
            snprintf(out, 48, "%.*s", (int)(n - nn - 1), p + nn + 1);
            found = out;
        } else if (n > 0 && !rec_fhir_general_param(name)) {
            return NULL;
        }
        p += n + (p[n] == '&');
    }
    return found;
}

int rec_h_fhir_recommendations(ss_req *r)
{
    char buf[48];
    const char *pid;
    json_t *recs = NULL;
    bool replied = false;
    int rc;

    if ((rc = rec_fhir_caller(r, &replied)) != 0 || replied)
        return rc;
    if ((pid = patient_param(r, buf)) == NULL)
        return rec_fhir_error(r, 400, "required", "search parameter patient (only) is required");
    if (strncmp(pid, "Patient/", 8) == 0 || strncmp(pid, "Patient%2F", 10) == 0)
        pid += pid[7] == '/' ? 8 : 10;
    if (!ss_uuid_ok(pid))
        return rec_fhir_error(r, 400, "invalid", "patient must be Patient/{id} or {id}");
    if ((rc = recommend(r, pid, &recs)) == SS_ERR_NOT_FOUND)
        return rec_fhir_reply(r, 200, bundle(r, pid, NULL));
    if (rc != 0)
        return rc;
    return rec_fhir_reply(r, 200, bundle(r, pid, recs));
}

/* GET /fhir/ImmunizationRecommendation/{id}: what the search's fullUrl names. Computed from
 * today's schedule, it has no version: the ETag is a digest of the recommendations. */
int rec_fhir_recommendation_read(ss_req *r, const char *id)
{
    json_t *recs = NULL;
    char *text, digest[65];
    bool replied = false;
    int rc;

    if ((rc = rec_fhir_caller(r, &replied)) != 0 || replied)
        return rc;
    if (!ss_uuid_ok(id))
        return rec_fhir_error(r, 404, "not-found", "ImmunizationRecommendation/{id} is not known");
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
    if ((rc = recommend(r, id, &recs)) == SS_ERR_NOT_FOUND)
        return rec_fhir_error(r, 404, "not-found", "ImmunizationRecommendation/{id} is not known");
    if (rc != 0)
        return rc;
    /* Nothing due is still the person's recommendation: an empty list is not a valid R4
     * resource (recommendation 1..*), so there is no resource to read. */
    if (recs == NULL)
        return rec_fhir_error(r, 404, "not-found", "nothing is due or overdue for this person");
    if ((text = json_dumps(recs, SS_JSON_COMPACT)) == NULL) {
        json_decref(recs);
        return SS_ERR_NOMEM;
    }
    ss_sha256_hex(text, strlen(text), digest);
    free(text);
    digest[16] = '\0';
    if (rec_fhir_etag(r, digest) == 1) {
        json_decref(recs);
        return 0;
    }
    return rec_fhir_reply(r, 200, recommendation(id, recs));
}
