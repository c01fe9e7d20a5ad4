/* issue.c - issuing a certificate (H-5-1 through the portal, H-5-2/H-5-3 on paper by
 * municipality staff): the person and its current records come from the records service as
 * the caller may see them (sources.c), names and makers from the masters as of each dose's
 * date, the card is signed (shc.c, card.c), and the certificate, the records and versions it
 * carries, and who issued it for whom by which channel go into the log in one transaction.
 * Idempotency-Key: a retry gets the first answer; without a key every request is a new
 * certificate (a re-issue is a new certificate; the old one stays in the log). */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/idem.h"
#include "sesshu/text.h"

static const char *const kinds[] = {"certificate", "receipt", NULL};
static const char *const id_methods[] = {
    "my_number_card", "driver_license", "passport", "health_insurance_card",
    "residence_card", "other",          NULL};
static const char *const applicants[] = {"self", "guardian", "proxy", NULL};

static const ss_field self_fields[] = {
    {"person_id", SS_F_STRING, false, 36, 36, NULL, false},
    {"immunization_ids", SS_F_ARRAY, false, 1, CERT_DOSES_MAX, NULL, false},
    {"kind", SS_F_ENUM, false, 0, 0, kinds, false},
    {"reissue_of", SS_F_STRING, false, 36, 36, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};
static const ss_field staff_fields[] = {
    {"person_id", SS_F_STRING, true, 36, 36, NULL, false},
    {"immunization_ids", SS_F_ARRAY, false, 1, CERT_DOSES_MAX, NULL, false},
    {"kind", SS_F_ENUM, false, 0, 0, kinds, false},
    {"reissue_of", SS_F_STRING, false, 36, 36, NULL, false},
    {"identity_check", SS_F_OBJECT, true, 0, 0, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};
static const ss_field identity_fields[] = {
    {"method", SS_F_ENUM, true, 0, 0, id_methods, false},
    {"applicant", SS_F_ENUM, false, 0, 0, applicants, false},
    {"note", SS_F_STRING, false, 1, 200, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

typedef struct issue_in {
    const char *person_id;
    const char *channel; /* portal | paper */
    const char *kind;
    const char *reissue_of;
    const json_t *ids;      /* chosen records or NULL (all current) */
    const json_t *identity; /* paper: how the applicant's identity was checked */
} issue_in;

/* 16 digits: the year, 11 random digits, a Luhn check digit. */
static int make_number(char out[17])
{
    unsigned char rnd[11];
    int sum = 0;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return SS_ERR_INTERNAL;
    snprintf(out, 5, "%04d", (int)(1970 + ss_now_s() / 31556952));
    for (int i = 0; i < 11; i++)
        out[4 + i] = (char)('0' + rnd[i] % 10);
    for (int i = 14, dbl = 1; i >= 0; i--, dbl = !dbl) {
        int d = out[i] - '0';
        if (dbl && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    out[15] = (char)('0' + (10 - sum % 10) % 10);
    out[16] = '\0';
    return 0;
}

/* The records to certify: the chosen ones (each must be a current record of the person), or
 * all. A new array of the records. */
static int choose(ss_req *r, const json_t *records, const json_t *ids, json_t **out)
{
    size_t i, j;
    json_t *id, *rec;

    if (ids == NULL) {
        *out = json_incref((json_t *)(uintptr_t)records);
        return json_array_size(records) > 0
                   ? 0
                   : ss_req_fail(r, SS_ERR_VALIDATION,
                                 "the person has no current record to certify");
    }
    *out = json_array();
    json_array_foreach (ids, i, id) {
        bool found = false;
        if (!json_is_string(id) || !ss_uuid_ok(json_string_value(id)))
            return ss_req_field_error(r, "immunization_ids", "not-a-uuid");
        json_array_foreach (records, j, rec) {
            if (json_equal(json_object_get(rec, "id"), id)) {
                json_array_append(*out, rec);
                found = true;
                break;
            }
        }
        if (!found)
            return ss_req_field_error(r, "immunization_ids", "not-a-current-record-of-the-person");
    }
    return 0;
}

/* Doses with names from the masters as of each dose's date, oldest first; `held` says whether
 * the issuing municipality holds the record (paper: its own records only; portal: all). */
#define DOSES_SQL                                                                                  \
    "SELECT coalesce(jsonb_agg(jsonb_build_object('immunization_id', x.id, 'version', x.version, " \
    "'vaccinated_on', x.vaccinated_on, 'vaccine_code', x.vaccine_code, 'vaccine_name', "           \
    "(SELECT v.name FROM master.vaccines v WHERE v.code = x.vaccine_code AND v.superseded_at IS "  \
    "NULL AND v.valid_from <= x.vaccinated_on AND (v.valid_to IS NULL OR v.valid_to >= "           \
    "x.vaccinated_on) ORDER BY v.valid_from DESC LIMIT 1), 'manufacturer', (SELECT "               \
    "v.manufacturer FROM master.vaccines v WHERE v.code = x.vaccine_code AND v.superseded_at IS "  \
    "NULL AND v.valid_from <= x.vaccinated_on AND (v.valid_to IS NULL OR v.valid_to >= "           \
    "x.vaccinated_on) ORDER BY v.valid_from DESC LIMIT 1), 'lot_no', x.lot_no, 'dose_number', "    \
    "x.dose_number, 'dose_label', x.dose_label, 'institution_code', x.institution_code, "          \
    "'institution_name', coalesce((SELECT m.name FROM master.institutions m WHERE m.code = "       \
    "x.institution_code AND m.superseded_at IS NULL AND m.valid_from <= x.vaccinated_on AND "      \
    "(m.valid_to IS NULL OR m.valid_to >= x.vaccinated_on) ORDER BY m.valid_from DESC LIMIT 1), "  \
    "x.institution_name), 'source', x.source, 'paper', coalesce(x.source = 'paper', false), "      \
    "'record_municipality_code', x.muni_code, 'held', ($2 = 'portal' OR x.muni_code IS NULL OR "   \
    "x.muni_code = $3)) ORDER BY x.vaccinated_on, x.id), '[]'::jsonb)::text FROM "                 \
    "jsonb_to_recordset($1::jsonb) AS x(id uuid, version int, vaccinated_on date, vaccine_code "   \
    "text, lot_no text, dose_number int, dose_label text, institution_code text, "                 \
    "institution_name text, source text, muni_code text)"

/* The municipality (name, prefecture name) of code $4, for 首長名; from the masters. */
#define MUNI_SQL                                                                                 \
    "SELECT jsonb_build_object('code', $4::text, 'name', (SELECT m.name FROM "                   \
    "master.municipalities m WHERE m.code = $4 AND m.superseded_at IS NULL AND m.valid_from <= " \
    "current_date AND (m.valid_to IS NULL OR m.valid_to >= current_date) ORDER BY m.valid_from " \
    "DESC LIMIT 1), 'prefecture_name', (SELECT p.name FROM master.prefectures p WHERE p.code = " \
    "substr($4, 1, 2) AND p.superseded_at IS NULL AND p.valid_from <= current_date AND "         \
    "(p.valid_to IS NULL OR p.valid_to >= current_date) ORDER BY p.valid_from DESC LIMIT "       \
    "1))::text"

/* The doses (DOSES_SQL) and the municipality (MUNI_SQL) in one round trip: *doses, *muni_j. */
static int doses_and_muni(const char *const *params, json_t **doses, json_t **muni_j)
{
    PGresult *res = NULL;
    int rc = ss_db_query(ss_server_db(), "SELECT (" DOSES_SQL "), (" MUNI_SQL ")", 4, params, &res);

    *doses = *muni_j = NULL;
    if (rc == 0 && PQntuples(res) == 1) {
        *doses = ss_json_col(res, 0, 0);
        *muni_j = ss_json_col(res, 0, 1);
    }
    PQclear(res);
    return rc != 0 ? rc : *doses != NULL ? 0 : SS_ERR_UNAVAILABLE;
}

/* The person as certified: a snapshot, with the municipality for 首長名 (m: stolen). */
static json_t *person_snapshot(const json_t *p, const char *muni, json_t *m)
{
    return json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:s,s:o?}", "name", json_object_get(p, "name"),
                     "name_kana", json_object_get(p, "name_kana"), "birth_date",
                     json_object_get(p, "birth_date"), "sex", json_object_get(p, "sex"), "address",
                     json_object_get(p, "address"), "municipality_code", muni, "municipality", m);
}

/* Only the doses the card carries (held), without what the card does not need. */
static json_t *card_doses(const json_t *doses)
{
    json_t *out = json_array(), *d;
    size_t i;

    json_array_foreach (doses, i, d) {
        if (json_is_true(json_object_get(d, "held")))
            json_array_append(out, d);
    }
    return out;
}

typedef struct issue_tx {
    const issue_in *in;
    const char *muni;
    json_t *person, *doses;
} issue_tx;

static int insert(ss_req *r, ss_dbc *c, const issue_tx *t, json_t **answer)
{
    char id[37], no[17], rid[16], *jws = NULL, *person = NULL, *doses = NULL, *ident = NULL;
    json_t *payload = NULL, *cd = card_doses(t->doses);
    PGresult *res = NULL;
    int rc;
    bool vac = cert_is_vaccinee(r);

    if (cd == NULL || json_array_size(cd) == 0) {
        rc = ss_req_fail(r, SS_ERR_VALIDATION,
                         "none of the chosen records is held by this municipality");
        goto out;
    }
    if ((rc = ss_uuid(id)) != 0 || (rc = make_number(no)) != 0 ||
        (rc = cert_rid(cert_signing_kid(), id, rid)) != 0)
        goto out;
    rc = SS_ERR_NOMEM;
    if ((payload = cert_card_payload(t->person, cd, rid, ss_now_s())) == NULL ||
        (rc = cert_jws_sign(payload, &jws)) != 0)
        goto out;
    rc = SS_ERR_NOMEM;
    if ((person = json_dumps(t->person, JSON_COMPACT)) == NULL ||
        (doses = json_dumps(t->doses, JSON_COMPACT)) == NULL ||
        (t->in->identity != NULL && (ident = json_dumps(t->in->identity, JSON_COMPACT)) == NULL))
        goto out;
    {
        const char *p[] = {id,
                           no,
                           t->in->person_id,
                           t->muni,
                           t->in->channel,
                           t->in->kind,
                           vac ? "vaccinee" : "user",
                           vac ? r->who.person_id : r->who.login_id,
                           vac ? NULL : r->who.org_id,
                           ident,
                           person,
                           doses,
                           cert_signing_kid(),
                           rid,
                           jws,
                           t->in->reissue_of};
        rc = ss_db_exec(
            c,
            "WITH c AS (INSERT INTO certificate.certificates (id, certificate_no, person_id, "
            "muni_code, channel, kind, issued_by_kind, issued_by, issued_by_org_id, "
            "identity_check, person, doses, kid, rid, jws, reissue_of) SELECT $1::uuid, $2, "
            "$3::uuid, $4, $5, $6, $7, $8, $9::uuid, $10::jsonb, $11::jsonb, $12::jsonb, $13, "
            "$14, $15, o.id FROM (SELECT NULL) z LEFT JOIN certificate.certificates o ON o.id = "
            "$16::uuid AND o.person_id = $3::uuid WHERE $16::uuid IS NULL OR o.id IS NOT NULL "
            "RETURNING *), r AS (INSERT INTO certificate.certificate_records (certificate_id, "
            "immunization_id, version) SELECT c.id, (d->>'immunization_id')::uuid, "
            "(d->>'version')::int FROM c, jsonb_array_elements(c.doses) d WHERE (d->>'held')::bool "
            "RETURNING 1) SELECT (certificate.cert_json(c) - 'records' || jsonb_build_object("
            "'records', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', "
            "d->>'immunization_id', 'version', (d->>'version')::int)), '[]') FROM "
            "jsonb_array_elements(c.doses) d WHERE (d->>'held')::bool), 'jws', c.jws))::text, "
            "(SELECT count(*) FROM r) FROM c",
            16, p, &res);
    }
    if (rc != 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ss_req_field_error(r, "reissue_of", "not-a-certificate-of-the-person");
        goto out;
    }
    *answer = ss_json_col(res, 0, 0);
    rc = *answer ? 0 : SS_ERR_INTERNAL;
    snprintf(r->res_id, sizeof(r->res_id), "%s", id);
out:
    PQclear(res);
    json_decref(payload);
    json_decref(cd);
    free(jws);
    free(person);
    free(doses);
    free(ident);
    return rc;
}

static int commit_issue(ss_req *r, const issue_tx *t)
{
    ss_dbc *c = NULL;
    ss_idem st;
    json_t *answer = NULL;
    char *text = NULL;
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 || (rc = ss_idem_claim(r, c, &st)) != 0)
        goto out;
    if (st.replayed)
        goto out;
    if ((rc = insert(r, c, t, &answer)) != 0)
        goto out;
    if ((text = json_dumps(answer, JSON_COMPACT)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    if ((rc = ss_idem_store(r, c, &st, 201, text)) != 0 || (rc = ss_db_commit(c)) != 0)
        goto out;
    ss_db_release(c);
    c = NULL;
    /* A correction the feed already told of, made while this one was being issued. */
    cert_apply_known(json_string_value(json_object_get(answer, "id")));
    rc = ss_reply_raw(r, 201, "application/json", text, strlen(text));
out:
    ss_db_release(c);
    json_decref(answer);
    free(text);
    return rc;
}

static int issue(ss_req *r, const issue_in *in)
{
    json_t *person = NULL, *records = NULL, *chosen = NULL, *doses = NULL;
    char *recs = NULL;
    const char *muni;
    int rc;

    if (in->reissue_of != NULL && !ss_uuid_ok(in->reissue_of))
        return ss_req_field_error(r, "reissue_of", "not-a-uuid");
    if ((rc = cert_fetch_person(r, in->person_id, &person, &records)) != 0)
        return rc;
    snprintf(r->person_id, sizeof(r->person_id), "%s", in->person_id);
    muni = json_string_value(json_object_get(person, "muni_code"));
    if (muni == NULL || strlen(muni) != 6) {
        rc = ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service answered no municipality");
        goto out;
    }
    snprintf(r->subject_muni, sizeof(r->subject_muni), "%s", muni);
    if ((rc = choose(r, records, in->ids, &chosen)) != 0)
        goto out;
    if ((recs = json_dumps(chosen, JSON_COMPACT)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    {
        const char *p[] = {recs, in->channel, cert_is_staff(r) ? r->who.muni_code : muni, muni};
        json_t *m = NULL;
        if ((rc = doses_and_muni(p, &doses, &m)) != 0)
            goto out;
        issue_tx t = {in, muni, person_snapshot(person, muni, m), doses};
        rc = t.person ? commit_issue(r, &t) : SS_ERR_NOMEM;
        json_decref(t.person);
    }
out:
    json_decref(person);
    json_decref(records);
    json_decref(chosen);
    json_decref(doses);
    free(recs);
    return rc;
}

int cert_h_issue_self(ss_req *r)
{
    issue_in in = {0};
    int rc;

    if (!cert_is_vaccinee(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a vaccinee token issues through the portal");
    if ((rc = ss_body_check(r, self_fields)) != 0)
        return rc;
    in.person_id = ss_json_str(r->body, "person_id");
    if (in.person_id == NULL)
        in.person_id = r->who.person_id;
    in.channel = "portal";
    in.kind = ss_json_str(r->body, "kind") ? ss_json_str(r->body, "kind") : "certificate";
    in.reissue_of = ss_json_str(r->body, "reissue_of");
    in.ids = json_object_get(r->body, "immunization_ids");
    return issue(r, &in);
}

int cert_h_issue_staff(ss_req *r)
{
    issue_in in = {0};
    int rc;

    if (!cert_is_staff(r))
        return ss_req_fail(r, SS_ERR_FORBIDDEN,
                           "paper certificates are issued by municipality staff");
    if ((rc = ss_body_check(r, staff_fields)) != 0)
        return rc;
    in.identity = json_object_get(r->body, "identity_check");
    if ((rc = ss_json_check(r, in.identity, identity_fields)) != 0)
        return rc;
    in.person_id = ss_json_str(r->body, "person_id");
    in.channel = "paper";
    in.kind = ss_json_str(r->body, "kind") ? ss_json_str(r->body, "kind") : "certificate";
    in.reissue_of = ss_json_str(r->body, "reissue_of");
    in.ids = json_object_get(r->body, "immunization_ids");
    return issue(r, &in);
}
