/* certificate_test.c - the certificate service (H-5) in-process, against the real test
 * database: a card signed by the service's own code (card.c, shc.c) and filed in the log as an
 * issuance would, then verified, revoked by staff (role, tenant, bad input, once only) and
 * found on the key's revocation list; and the person-correction rule of migration 002 (a
 * changed name or birth date supersedes, a digest equal to the snapshot's does not, and the
 * digest is the one the records service's feed computes), and an issuance's status set in its
 * own insert against the record and person states already known (sql/issue.sql cert_issue).
 *
 * The records service is not needed: staff reads of the log do not call it, and the feed poll
 * before a status read fails softly (statuses stay as stored). Tokens are signed with a key
 * made for this run, for made-up municipality users. Tests run without fork. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "harness.h"
#include "sesshu/crypto.h"
#include "sesshu/jwt.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

static char *mint(int org_type, const char *muni)
{
    char *tok = it_user_token(org_type, SS_ROLE_USER, "IT", muni, "13", NULL);

    ck_assert_ptr_nonnull(tok);
    return tok;
}

/* A certificate for a made-up person of muni, signed and filed as issue.c does: id and jws
 * (malloc'd) out. */
static char *file_card(const char *muni, const char *name, char id[37])
{
    char rid[16], pid[37], no[17], sql[8192];
    json_t *person = json_pack("{s:s,s:s}", "name", name, "birth_date", "2025-06-01");
    json_t *doses = json_pack("[{s:s,s:s,s:s,s:s,s:i}]", "vaccinated_on", "2026-06-15",
                              "vaccine_code", "631300601", "lot_no", "MR123", "institution_name",
                              "渋谷クリニック", "dose_number", 1);
    json_t *payload;
    char *jws = NULL, *ps, *v;

    ck_assert_int_eq(ss_uuid(id), 0);
    ck_assert_int_eq(ss_uuid(pid), 0);
    ck_assert_int_eq(cert_rid(cert_signing_kid(), id, rid), 0);
    payload = cert_card_payload(person, doses, rid, ss_now_s());
    ck_assert_ptr_nonnull(payload);
    ck_assert_int_eq(cert_jws_sign(payload, &jws), 0);
    /* 16 digits, unique: the year and digits of the id's random part (the log checks only
     * the form; the Luhn digit is issue.c's). */
    snprintf(no, sizeof(no), "2026");
    for (int i = 0, k = 4; id[i] != '\0' && k < 16; i++)
        if (id[i] != '-')
            no[k++] = (char)('0' + (unsigned char)id[i] % 10);
    no[16] = '\0';
    ps = json_dumps(person, JSON_COMPACT);
    snprintf(sql, sizeof(sql),
             "INSERT INTO certificate.certificates (id, certificate_no, person_id, muni_code, "
             "channel, issued_by_kind, issued_by, person, doses, kid, rid, jws) VALUES ('%s', "
             "'%s', '%s', '%s', 'paper', 'user', 'it', '%s', '[]', '%s', '%s', '%s') RETURNING "
             "id",
             id, no, pid, muni, ps, cert_signing_kid(), rid, jws);
    v = it_sql_value(sql);
    ck_assert_ptr_nonnull(v);
    free(v);
    free(ps);
    json_decref(person);
    json_decref(doses);
    json_decref(payload);
    return jws;
}

static const char *verify_result(const char *jws, char *reason, size_t n)
{
    static char result[32];
    char *body = NULL;
    json_t *b = json_pack("{s:s}", "credential", jws), *j;

    body = json_dumps(b, JSON_COMPACT);
    j = it_expect("POST", "/api/v1/certificates/verify", NULL, body, 200);
    snprintf(result, sizeof(result), "%s", json_string_value(json_object_get(j, "result")));
    snprintf(reason, n, "%s",
             json_string_value(json_object_get(j, "reason"))
                 ? json_string_value(json_object_get(j, "reason"))
                 : "");
    json_decref(j);
    json_decref(b);
    free(body);
    return result;
}

START_TEST(staff_revoke)
{
    char id[37], path[128], why[64], sql[256];
    char *jws = file_card("131016", "結合 太郎", id);
    char *staff = mint(SS_ORG_MUNICIPALITY, "131016");
    char *other = mint(SS_ORG_MUNICIPALITY, "271004");
    char *federation = mint(SS_ORG_KOKUHOREN, NULL); /* reads records, not a municipality */
    json_t *j;
    char *v;

    ck_assert_str_eq(verify_result(jws, why, sizeof(why)), "valid");
    snprintf(path, sizeof(path), "/api/v1/certificates/%s/revoke", id);
    json_decref(it_expect("POST", path, NULL, "{\"reason\":\"other\"}", 401));
    json_decref(it_expect("POST", path, federation, "{\"reason\":\"other\"}", 403));
    json_decref(it_expect("POST", path, other, "{\"reason\":\"other\"}", 404));
    json_decref(it_expect("POST", path, staff, "{\"reason\":\"nope\"}", 422));
    json_decref(it_expect("POST", path, staff, "{\"reason\":\"other\",\"x\":1}", 422));
    json_decref(it_expect("POST", path, staff, "{\"note\":\"n\"}", 422));
    json_decref(it_expect("POST", path, staff, "[1]", 400));
    json_decref(it_expect("POST", "/api/v1/certificates/nope/revoke", staff,
                          "{\"reason\":\"other\"}", 404));
    ck_assert_str_eq(verify_result(jws, why, sizeof(why)), "valid");
    j = it_expect("POST", path, staff, "{\"reason\":\"lost-or-stolen\",\"note\":\"紛失届\"}", 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "revoked");
    ck_assert_str_eq(json_string_value(json_object_get(j, "status_reason")), "lost-or-stolen");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "status_by"), "note")),
                     "紛失届");
    json_decref(j);
    json_decref(it_expect("POST", path, staff, "{\"reason\":\"other\"}", 409));
    ck_assert_str_eq(verify_result(jws, why, sizeof(why)), "revoked");
    ck_assert_str_eq(why, "lost-or-stolen");
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM certificate.certificates WHERE id = '%s' AND status_by IS NOT "
             "NULL AND status_at IS NOT NULL",
             id);
    v = it_sql_value(sql);
    ck_assert_str_eq(v, "1");
    free(v);
    snprintf(path, sizeof(path), "/shc/.well-known/crl/%s.json", cert_signing_kid());
    j = it_expect("GET", path, NULL, NULL, 200);
    ck_assert_int_ge(json_array_size(json_object_get(j, "rids")), 1);
    json_decref(j);
    free(jws);
    free(staff);
    free(other);
    free(federation);
}
END_TEST

START_TEST(person_correction_supersedes)
{
    char id[37], id2[37], sql[1024];
    char *jws = file_card("131016", "結合 花子", id), *jws2 = file_card("131016", "結合 次郎", id2);
    char *v;

    free(jws);
    free(jws2);
    /* The snapshot's digest is the one the records feed computes (records/feeds/cert_changes.c). */
    v = it_sql_value("SELECT certificate.person_identity('{\"name\":\"結合 花子\",\"birth_date\":"
                     "\"2025-06-01\"}') = encode(sha256(convert_to('結合 花子' || E'\\n' || "
                     "to_char('2025-06-01'::date, 'YYYY-MM-DD'), 'UTF8')), 'hex')");
    ck_assert_str_eq(v, "t");
    free(v);
    /* Same identity (e.g. after a move): nothing happens. */
    snprintf(sql, sizeof(sql),
             "WITH s AS (INSERT INTO certificate.person_states (person_id, version, identity) "
             "SELECT person_id, 2, certificate.person_identity(person) FROM "
             "certificate.certificates WHERE id = '%s' RETURNING person_id) SELECT "
             "certificate.apply_person_states(ARRAY(SELECT person_id FROM s))",
             id2);
    v = it_sql_value(sql);
    ck_assert_str_eq(v, "0");
    free(v);
    /* Another name: superseded, person-corrected. */
    snprintf(sql, sizeof(sql),
             "WITH s AS (INSERT INTO certificate.person_states (person_id, version, identity) "
             "SELECT person_id, 2, certificate.person_identity('{\"name\":\"結合 華子\","
             "\"birth_date\":\"2025-06-01\"}') FROM certificate.certificates WHERE id = '%s' "
             "RETURNING person_id) SELECT certificate.apply_person_states(ARRAY(SELECT person_id "
             "FROM s))",
             id);
    v = it_sql_value(sql);
    ck_assert_str_eq(v, "1");
    free(v);
    snprintf(sql, sizeof(sql),
             "SELECT status || '/' || status_reason FROM certificate.certificates WHERE id = '%s'",
             id);
    v = it_sql_value(sql);
    ck_assert_str_eq(v, "superseded/person-corrected");
    free(v);
}
END_TEST

/* Issuance's own check (sql/issue.sql cert_issue): a certificate filed after the feed told of a
 * newer version of a record it carries is superseded in its own insert; of a void, revoked; with
 * the person's known identity alone, valid. */
static char *issue_with(const char *imm, const char *person_id, const char *name)
{
    char id[37], no[17], rid[16], doses[256], person[160], sql[256];
    const char *p[16];
    PGresult *res = NULL;
    char *v;

    ck_assert_int_eq(ss_uuid(id), 0);
    ck_assert_int_eq(cert_rid(cert_signing_kid(), id, rid), 0);
    snprintf(no, sizeof(no), "2026%.4s%.8s", id + 9, id + 24);
    for (int i = 4; i < 16; i++)
        no[i] = (char)('0' + (unsigned char)no[i] % 10);
    snprintf(doses, sizeof(doses),
             "[{\"immunization_id\":\"%s\",\"version\":1,\"held\":true},"
             "{\"immunization_id\":\"%s\",\"version\":1,\"held\":false}]",
             imm, person_id);
    snprintf(person, sizeof(person), "{\"name\":\"%s\",\"birth_date\":\"2025-06-01\"}", name);
    p[0] = id, p[1] = no, p[2] = person_id, p[3] = "131016", p[4] = "paper", p[5] = "certificate";
    p[6] = "user", p[7] = "it", p[8] = NULL, p[9] = NULL, p[10] = person, p[11] = doses;
    p[12] = cert_signing_kid(), p[13] = rid, p[14] = "x.y.z", p[15] = NULL;
    ck_assert_int_eq(ss_db_query(ss_server_db(), sql_cert_issue, 16, p, &res), 0);
    ck_assert_int_eq(PQntuples(res), 1);
    PQclear(res);
    snprintf(sql, sizeof(sql),
             "SELECT status || '/' || coalesce(status_reason, '-') || '/' || records::text FROM "
             "certificate.certificates WHERE id = '%s'",
             id);
    v = it_sql_value(sql);
    ck_assert_ptr_nonnull(v);
    return v;
}

START_TEST(issue_sets_known_states)
{
    char imm[37], pid[37], sql[512], want[160];
    char *v;

    ck_assert_int_eq(ss_uuid(imm), 0);
    ck_assert_int_eq(ss_uuid(pid), 0);
    /* Nothing known: valid, carrying the held record only. */
    v = issue_with(imm, pid, "発行 一郎");
    snprintf(want, sizeof(want), "valid/-/[{\"id\": \"%s\", \"version\": 1}]", imm);
    ck_assert_str_eq(v, want);
    free(v);
    /* The person's identity as printed: still valid. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO certificate.person_states (person_id, version, identity) VALUES ('%s', "
             "2, certificate.person_identity('{\"name\":\"発行 一郎\",\"birth_date\":"
             "\"2025-06-01\"}')) RETURNING 1",
             pid);
    free(it_sql_value(sql));
    v = issue_with(imm, pid, "発行 一郎");
    ck_assert_str_eq(v, want);
    free(v);
    /* Another name known: person-corrected. */
    v = issue_with(imm, pid, "発行 二郎");
    ck_assert_ptr_nonnull(strstr(v, "superseded/person-corrected/"));
    free(v);
    /* A newer version of the record: record-corrected; voided: revoked. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO certificate.record_states (immunization_id, version, status) VALUES "
             "('%s', 2, 'corrected') RETURNING 1",
             imm);
    free(it_sql_value(sql));
    v = issue_with(imm, pid, "発行 一郎");
    ck_assert_ptr_nonnull(strstr(v, "superseded/record-corrected/"));
    free(v);
    snprintf(sql, sizeof(sql),
             "UPDATE certificate.record_states SET status = 'voided' WHERE immunization_id = '%s' "
             "RETURNING 1",
             imm);
    free(it_sql_value(sql));
    v = issue_with(imm, pid, "発行 一郎");
    ck_assert_ptr_nonnull(strstr(v, "revoked/record-voided/"));
    free(v);
}
END_TEST

/* Every statement of services/certificate/sql parses against the migrated schema. */
START_TEST(sql_files_prepare)
{
    ck_assert_int_eq(it_sql_prepare_all(cert_sql_all), 0);
}
END_TEST

static Suite *certificate_suite(void)
{
    Suite *s = suite_create("certificate");
    TCase *t = tcase_create("certificates");

    tcase_set_timeout(t, 60);
    tcase_add_test(t, sql_files_prepare);
    tcase_add_test(t, staff_revoke);
    tcase_add_test(t, person_correction_supersedes);
    tcase_add_test(t, issue_sets_known_states);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    /* The service's own key signs its service tokens, and a user token signed with it is
     * refused (server.c own_signing_key): the test's key signs the users' tokens here. The
     * feed poll then fails softly at the records service, as the header says. */
    unsetenv("SESSHU_CERTIFICATE_SIGNING_KEY_FILE");
    return it_main(&cert_service, certificate_suite());
}
