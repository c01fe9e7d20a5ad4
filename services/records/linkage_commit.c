/* linkage_commit.c - bulk import, part 3: committing a job. The staged lines go through the
 * same set-based check as a single registration (records_check.h), in one statement that
 * also writes the per-line error report and - all lines, none (all_or_nothing with any error),
 * or the good ones (good_lines) - the records. Each error names its rule (master.rules). Persons
 * are new persons only: a line whose resident number or 個人番号 is already registered is an error
 * (changes go through PATCH). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkage_import.h"
#include "records_check.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

/* clang-format off */
#define IMPORT_IMM_SQL \
    "WITH inp AS (SELECT s.ln, coalesce(p1.id, p2.id) AS person_id, s.vaccinated_on, " \
    "  s.vaccine_code, s.disease_codes, s.dose_number, s.lot_no, s.institution_code, s.category, " \
    "  s.pregnancy_weeks, NULL::uuid AS exclude_id, 'health_system'::text AS source, s.dose_label, " \
    "  s.doctor_name, s.dose_ml, s.site, s.note FROM records.import_imm_lines s " \
    "  LEFT JOIN records.persons p1 ON p1.id = s.person_id AND p1.muni_code = $2 " \
    "  LEFT JOIN records.persons p2 ON s.person_id IS NULL AND p2.muni_code = $2 " \
    "  AND p2.resident_no = s.resident_no WHERE s.job_id = $1::uuid), " \
    REC_CHECK_CTES ", " \
    "bad AS (SELECT ln, coalesce(errors, '[]'::jsonb) || CASE WHEN duplicate THEN " \
    "  jsonb_build_array(jsonb_build_object('field', '(line)', 'reason', " \
    "  'this vaccination is already recorded', 'rule', dup_rule)) ELSE '[]'::jsonb END AS errors FROM chk " \
    "  WHERE errors IS NOT NULL OR duplicate), " \
    "e AS (INSERT INTO records.import_errors (job_id, ln, errors) SELECT $1::uuid, ln, errors " \
    "  FROM bad RETURNING 1), " \
    "go AS (SELECT $3 = 'good_lines' OR (NOT EXISTS (SELECT 1 FROM bad) AND NOT EXISTS " \
    "  (SELECT 1 FROM records.import_errors x WHERE x.job_id = $1::uuid)) AS ok), " \
    "ins AS (INSERT INTO records.immunizations (person_id, muni_code, vaccinated_on, " \
    "  vaccine_code, disease_codes, dose_number, dose_label, lot_no, institution_code, " \
    "  doctor_name, dose_ml, site, category, requested_category, source, schedule_code, " \
    "  claimable, flags, pregnancy_weeks, note, registered_org_id, registered_by, updated_by) " \
    "  SELECT i.person_id, chk.muni_code, i.vaccinated_on, i.vaccine_code, chk.diseases, " \
    "  i.dose_number, coalesce(i.dose_label, chk.dose_label), i.lot_no, i.institution_code, " \
    "  i.doctor_name, i.dose_ml, i.site, " REC_CATEGORY("i.category") ", i.category, i.source, " \
    "  " REC_SCHEDULE_CODE ", " REC_CLAIMABLE("i.category") ", " REC_FLAGS("i.category") ", " \
    "  coalesce(i.pregnancy_weeks, chk.pregnancy_weeks), i.note, " \
    "  $4::uuid, $5, $5 FROM chk JOIN inp i ON i.ln = chk.ln, go " \
    "  WHERE go.ok AND chk.errors IS NULL AND NOT chk.duplicate RETURNING 1) " \
    "SELECT (SELECT count(*) FROM ins), (SELECT ok FROM go)"

#define IMPORT_PERSON_SQL \
    "WITH inp AS (SELECT s.*, row_number() OVER (PARTITION BY s.resident_no ORDER BY s.ln) " \
    "  AS rn, row_number() OVER (PARTITION BY s.my_number_hash ORDER BY s.ln) AS mn " \
    "  FROM records.import_person_lines s WHERE s.job_id = $1::uuid), " \
    "errs AS (SELECT ln, 'resident_no' AS f, 'is already registered in your municipality' AS r " \
    "  FROM inp s WHERE s.rn > 1 OR EXISTS (SELECT 1 FROM records.persons p WHERE " \
    "  p.muni_code = $2 AND p.resident_no = s.resident_no) " \
    "  UNION ALL SELECT ln, 'my_number', 'is already registered to a person' FROM inp s " \
    "  WHERE s.my_number_hash IS NOT NULL AND (s.mn > 1 OR EXISTS (SELECT 1 FROM " \
    "  records.persons p WHERE p.my_number_hash = s.my_number_hash)) " \
    "  UNION ALL SELECT ln, 'birth_date', 'must be between 1890-01-01 and today' FROM inp s " \
    "  WHERE s.birth_date > master.today_jp() OR s.birth_date < '1890-01-01'), " \
    "bad AS (SELECT ln, jsonb_agg(jsonb_build_object('field', f, 'reason', r)) AS errors " \
    "  FROM errs GROUP BY ln), " \
    "e AS (INSERT INTO records.import_errors (job_id, ln, errors) SELECT $1::uuid, ln, errors " \
    "  FROM bad RETURNING 1), " \
    "go AS (SELECT $3 = 'good_lines' OR (NOT EXISTS (SELECT 1 FROM bad) AND NOT EXISTS " \
    "  (SELECT 1 FROM records.import_errors x WHERE x.job_id = $1::uuid)) AS ok), " \
    "p AS (INSERT INTO records.persons (id, muni_code, resident_no, name, name_kana, " \
    "  name_romaji, former_name, birth_date, sex, postal_code, address, non_disclosure, " \
    "  my_number_sealed, my_number_hash, created_by, updated_by) SELECT s.id, $2, " \
    "  s.resident_no, s.name, s.name_kana, s.name_romaji, s.former_name, s.birth_date, s.sex, " \
    "  s.postal_code, s.address, coalesce(s.non_disclosure, false), s.my_number_sealed, " \
    "  s.my_number_hash, $5, $5 FROM inp s, go WHERE go.ok AND s.ln NOT IN (SELECT ln FROM bad) " \
    "  RETURNING *), " \
    "r AS (INSERT INTO records.residences (person_id, muni_code, resident_no) " \
    "  SELECT id, muni_code, resident_no FROM p), " \
    "v AS (INSERT INTO records.person_versions (person_id, version, change, doc, changed_by) " \
    "  SELECT p.id, 1, 'imported', records.person_json(p, NULL), $5 FROM p) " \
    "SELECT (SELECT count(*) FROM p), (SELECT ok FROM go) WHERE $4::uuid IS NOT NULL"
/* clang-format on */

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
    if ((rc = ss_db_exec(c,
                         "SELECT set_config('work_mem', '1GB', true), set_config('jit', 'off', "
                         "true), set_config('join_collapse_limit', '1', true)",
                         0, NULL, NULL)) != 0)
        return rc;
    const char *params[] = {arg, rec_muni(r), mode, r->who.org_id, r->who.sub};
    rc = ss_db_exec(c, strcmp(kind, "persons") == 0 ? IMPORT_PERSON_SQL : IMPORT_IMM_SQL, 5, params,
                    &res);
    if (rc != 0)
        return rc;
    const char *up[] = {arg, ss_db_val(res, 0, 0),
                        strcmp(ss_db_val(res, 0, 1), "t") == 0 ? "committed" : "rejected"};
    rc = rec_exec_doc(
        r, c,
        "WITH j AS (UPDATE records.import_jobs SET status = $3, imported = $2::bigint, rejected "
        "= (SELECT count(*) FROM records.import_errors e WHERE e.job_id = $1::uuid), "
        "finished_at = now() WHERE id = $1::uuid RETURNING *), d1 AS (DELETE FROM "
        "records.import_imm_lines WHERE job_id = $1::uuid), d2 AS (DELETE FROM "
        "records.import_person_lines WHERE job_id = $1::uuid) SELECT jsonb_build_object('id', "
        "j.id, 'kind', j.kind, 'mode', j.mode, 'status', j.status, 'lines', j.lines, "
        "'imported', j.imported, 'rejected', j.rejected, 'errors', j.rejected, 'created_at', "
        "j.created_at, 'finished_at', j.finished_at)::text FROM j",
        3, up, doc, "job");
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
