/* fhir_recommend.c - GET /fhir/ImmunizationRecommendation?patient={id}: the vaccinations due
 * and overdue for one person, computed from the schedule master (master.schedules, as of
 * today) and the person's records (voided ones do not count).
 *
 * The same rules as the check (records_check.h, master.rules / master.schedules, as of today in
 * Japan): for each schedule row (disease, dose n) that fits the person's sex and needs no
 * pregnancy and, when it needs a per-person condition (60-64 with a disability), whose
 * condition the person has on file today:
 *   - done when a record of that disease with dose n or a later dose exists;
 *   - it opens on master.age_on(birth, age_from), on the first day of the fiscal year whose
 *     年度末年齢 enters fy_age_from .. fy_age_to (every fy_age_step years), on
 *     master.after_interval(dose n-1, min_interval) (翌日起算), and, for a disease with injected
 *     live products, on after_interval(the last injected live dose, R-LIVE-INJ-27D's days) -
 *     whichever is latest; it closes on master.age_on(birth, age_to) (inclusive), the end of the
 *     fiscal-year window, or master.within_interval(dose n-1, max_interval) - whichever is first;
 *   - dose n > 1 is considered only once dose n-1 is recorded;
 *   - "due" when open today; "overdue" when it closed without the dose less than
 *     REC_OVERDUE_DAYS ago (an older gap is history: past the window the dose is 任意).
 * One entry per (disease, dose): the earliest opening wins among rows for several vaccines.
 * The answer is a searchset Bundle with at most one ImmunizationRecommendation; a person the
 * caller may not read gives an empty Bundle, like one that does not exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec.h"
#include "self.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

#define REC_OVERDUE_DAYS "365"

#define SYS_STATUS "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status"

/* clang-format off */
#define RECOMMEND_SQL \
    "WITH t AS (SELECT master.today_jp() AS t), p AS (SELECT id, birth_date, sex, " \
    "  extract(year FROM (birth_date - 1) - interval '3 months')::int AS cohort, " \
    "  master.fy_age(birth_date, master.today_jp()) AS fya FROM records.persons WHERE id = $1::uuid), " \
    "s AS (SELECT m.* FROM master.schedules m, t WHERE m.superseded_at IS NULL AND m.valid_from <= t.t " \
    "  AND (m.valid_to IS NULL OR m.valid_to >= t.t) AND m.pregnancy_weeks_from IS NULL " \
    "  AND (m.person_conditions IS NULL OR EXISTS (SELECT 1 FROM records.person_conditions pc " \
    "  WHERE pc.person_id = $1::uuid AND pc.revoked_at IS NULL AND pc.kind = ANY (m.person_conditions) " \
    "  AND pc.valid_from <= t.t AND (pc.valid_to IS NULL OR pc.valid_to >= t.t)))), " \
    "lv AS (SELECT master.after_interval(max(i.vaccinated_on), make_interval(days => (SELECT " \
    "  r.param_days FROM master.rules r, t WHERE r.code = 'R-LIVE-INJ-27D' AND r.superseded_at IS NULL " \
    "  AND r.valid_from <= t.t AND (r.valid_to IS NULL OR r.valid_to >= t.t) LIMIT 1))) AS next_live " \
    "  FROM records.immunizations i JOIN master.vaccines v ON v.code = i.vaccine_code AND " \
    "  v.superseded_at IS NULL AND v.live_injected WHERE i.person_id = $1::uuid AND i.status <> 'voided'), " \
    "d AS (SELECT s.code, s.disease_code, s.vaccine_code, s.category, s.dose_number, s.dose_label, " \
    "  s.doses_total, master.age_on(p.birth_date, s.age_from) AS a_from, " \
    "  master.age_on(p.birth_date, s.age_to) AS a_to, s.min_interval, s.max_interval, " \
    "  CASE WHEN s.fy_age_step IS NULL THEN s.fy_age_from ELSE greatest(s.fy_age_from, s.fy_age_from " \
    "  + ((p.fya - s.fy_age_from + s.fy_age_step - 1) / s.fy_age_step) * s.fy_age_step) END AS fy_a, " \
    "  CASE WHEN s.fy_age_step IS NULL THEN s.fy_age_to ELSE greatest(s.fy_age_from, s.fy_age_from " \
    "  + ((p.fya - s.fy_age_from + s.fy_age_step - 1) / s.fy_age_step) * s.fy_age_step) END AS fy_b, " \
    "  s.fy_age_to AS fy_max, p.cohort, EXISTS (SELECT 1 FROM master.vaccines v WHERE " \
    "  v.superseded_at IS NULL AND v.live_injected AND s.disease_code = ANY (v.disease_codes) AND " \
    "  (s.vaccine_code IS NULL OR v.code = s.vaccine_code)) AS live, (SELECT " \
    "  max(i.vaccinated_on) FROM records.immunizations i WHERE i.person_id = p.id AND i.status " \
    "  <> 'voided' AND s.disease_code = ANY (i.disease_codes) AND i.dose_number = s.dose_number " \
    "  - 1) AS prev_on, EXISTS (SELECT 1 FROM records.immunizations i WHERE i.person_id = p.id " \
    "  AND i.status <> 'voided' AND s.disease_code = ANY (i.disease_codes) AND i.dose_number >= " \
    "  s.dose_number) AS done FROM s, p WHERE s.sex IS NULL OR s.sex = p.sex), " \
    "e AS (SELECT d.*, greatest(d.a_from, CASE WHEN d.fy_a IS NOT NULL THEN make_date(d.cohort + " \
    "  d.fy_a, 4, 1) END, CASE WHEN d.prev_on IS NOT NULL AND d.min_interval IS NOT NULL THEN " \
    "  master.after_interval(d.prev_on, d.min_interval) END, CASE WHEN d.live THEN lv.next_live END) " \
    "  AS earliest, least(d.a_to, CASE WHEN d.fy_b IS NOT NULL THEN make_date(d.cohort + d.fy_b + 1, " \
    "  3, 31) END, CASE WHEN d.prev_on IS NOT NULL AND d.max_interval IS NOT NULL THEN " \
    "  master.within_interval(d.prev_on, d.max_interval) END) AS closes FROM d, lv WHERE NOT d.done " \
    "  AND (d.dose_number = 1 OR d.prev_on IS NOT NULL) AND (d.fy_a IS NULL OR d.fy_a <= d.fy_max)), " \
    "f AS (SELECT DISTINCT ON (e.disease_code, e.dose_number) e.*, CASE WHEN " \
    "  t.t > e.closes THEN 'overdue' ELSE 'due' END AS forecast FROM e, t WHERE " \
    "  e.earliest <= t.t AND e.earliest <= e.closes AND e.closes >= t.t " \
    "  - " REC_OVERDUE_DAYS " ORDER BY e.disease_code, e.dose_number, e.earliest, e.code) SELECT " \
    "json_strip_nulls(json_build_object('vaccineCode', CASE WHEN f.vaccine_code IS NOT NULL "     \
    "THEN json_build_array(json_build_object('coding', json_build_array(json_build_object("       \
    "'system', " REC_VACCINE_SYS("f.vaccine_code") ", 'code', f.vaccine_code), "                \
    "json_build_object('system', " REC_VACCINE_OID("f.vaccine_code") ", 'code', f.vaccine_code)))) " \
    "END, 'targetDisease', json_build_object('coding', "                                          \
    "json_build_array(json_build_object('system', 'urn:sesshu:disease', 'code', "                 \
    "f.disease_code, 'display', (SELECT x.name FROM master.diseases x WHERE x.code = "            \
    "f.disease_code AND x.superseded_at IS NULL AND x.valid_from <= master.today_jp() AND "            \
    "(x.valid_to IS NULL OR x.valid_to >= master.today_jp()) ORDER BY x.valid_from DESC LIMIT 1)))), " \
    "'forecastStatus', json_build_object('coding', json_build_array(json_build_object("           \
    "'system', '" SYS_STATUS "', 'code', f.forecast))), 'dateCriterion', json_build_array("       \
    "json_build_object('code', json_build_object('coding', json_build_array("                     \
    "json_build_object('system', 'http://loinc.org', 'code', '30981-5', 'display', 'Earliest "    \
    "date to give'))), 'value', f.earliest), json_build_object('code', json_build_object("        \
    "'coding', json_build_array(json_build_object('system', 'http://loinc.org', 'code', "         \
    "'59777-3', 'display', 'Latest date to give'))), 'value', f.closes)), "                 \
    "'description', f.code || ' (' || f.category || ')', 'series', f.dose_label, "                \
    "'doseNumberPositiveInt', f.dose_number, 'seriesDosesPositiveInt', f.doses_total)) FROM f "   \
    "ORDER BY f.earliest, f.disease_code, f.dose_number"
/* clang-format on */

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
    if ((rc = ss_db_query(ss_server_db(), RECOMMEND_SQL, 1, params, &res)) != 0)
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
