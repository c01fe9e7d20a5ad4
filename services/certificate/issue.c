/* issue.c - issuing a certificate (H-5-1 through the portal, H-5-2/H-5-3 on paper by
 * municipality staff): the person and its current records come from the records service as
 * the caller may see them (sources.c), names and makers from the masters as of each dose's
 * date, the card is signed (shc.c, card.c), and the certificate, the records and versions it
 * carries, and who issued it for whom by which channel go into the log in one statement
 * (sql/issue.sql cert_issue), its status set there against the corrections the feed has told
 * of. H-5-3 in one request: staff may send `paper_doses`, entered through the records API as
 * the caller before the records are read (paper.c). Idempotency-Key: a retry gets the first answer;
 * without a key every request is a new certificate (a re-issue is a new certificate; the old one
 * stays in the log). */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/group.h"
#include "sesshu/idem.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"
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
    {"paper_doses", SS_F_ARRAY, false, 1, CERT_PAPER_MAX, NULL, false},
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
    const json_t *paper;    /* H-5-3: doses to enter from paper first, or NULL */
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
        for (j = 0; j < i; j++)
            if (json_equal(json_array_get(ids, j), id))
                return ss_req_field_error(r, "immunization_ids", "repeats-a-record");
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

/* The doses as certified (names and makers from the masters as of each dose's date, `held`
 * by the issuing municipality) and the municipality for 首長名, in one round trip (cert_doses):
 * *doses, *muni_j. */
static int doses_and_muni(ss_dbc *c, const char *const *params, json_t **doses, json_t **muni_j)
{
    PGresult *res = NULL;
    int rc = ss_db_exec(c, sql_cert_doses, 4, params, &res);

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

/* What a violated constraint of cert_issue means to the caller. */
static const ss_sql_constraint issue_constraints[] = {
    {"certificate_records_pkey", SS_ERR_VALIDATION, "immunization_ids", "repeats-a-record"},
    {"certificates_certificate_no_key", SS_ERR_CONFLICT, NULL,
     "a certificate number was drawn twice; retry"},
    {NULL, 0, NULL, NULL},
};

typedef struct issue_tx {
    const issue_in *in;
    const char *muni;
    json_t *person, *doses;
} issue_tx;

/* The certificate as filed: its number, card and snapshots made before any transaction (the
 * signing and the JSON need none), and cert_issue's parameters pointing into them. */
typedef struct issue_prep {
    char id[37], no[17], rid[16];
    char *jws, *person, *doses, *ident;
    const char *p[16];
} issue_prep;

static void prep_free(issue_prep *q)
{
    free(q->jws);
    free(q->person);
    free(q->doses);
    free(q->ident);
}

static int prepare(ss_req *r, const issue_tx *t, issue_prep *q)
{
    json_t *payload = NULL, *cd = card_doses(t->doses);
    bool vac = cert_is_vaccinee(r);
    int rc;

    if (cd == NULL || json_array_size(cd) == 0) {
        rc = ss_req_fail(r, SS_ERR_VALIDATION,
                         "none of the chosen records is held by this municipality");
        goto out;
    }
    if ((rc = ss_uuid(q->id)) != 0 || (rc = make_number(q->no)) != 0 ||
        (rc = cert_rid(cert_signing_kid(), q->id, q->rid)) != 0)
        goto out;
    rc = SS_ERR_NOMEM;
    if ((payload = cert_card_payload(t->person, cd, q->rid, ss_now_s())) == NULL ||
        (rc = cert_jws_sign(payload, &q->jws)) != 0)
        goto out;
    rc = SS_ERR_NOMEM;
    if ((q->person = json_dumps(t->person, JSON_COMPACT)) == NULL ||
        (q->doses = json_dumps(t->doses, JSON_COMPACT)) == NULL ||
        (t->in->identity != NULL && (q->ident = json_dumps(t->in->identity, JSON_COMPACT)) == NULL))
        goto out;
    {
        const char *p[] = {q->id,
                           q->no,
                           t->in->person_id,
                           t->muni,
                           t->in->channel,
                           t->in->kind,
                           vac ? "vaccinee" : "user",
                           vac ? r->who.person_id : r->who.login_id,
                           vac ? NULL : r->who.org_id,
                           q->ident,
                           q->person,
                           q->doses,
                           cert_signing_kid(),
                           q->rid,
                           q->jws,
                           t->in->reissue_of};
        memcpy(q->p, p, sizeof(p));
    }
    rc = 0;
out:
    json_decref(payload);
    json_decref(cd);
    return rc;
}

/* File the prepared certificate on c, keep the answer under the key, answer 201; commit when
 * the request has a transaction of its own (not in a group, whose lane commits). */
static int file_cert(ss_req *r, ss_dbc *c, const issue_prep *q, const ss_idem *st, bool commit)
{
    json_t *answer = NULL;
    PGresult *res = NULL;
    char *text = NULL;
    int rc = ss_db_exec(c, sql_cert_issue, 16, q->p, &res);

    if (rc != 0)
        rc = ss_sql_constraint_error(r, c, rc, issue_constraints);
    else if (PQntuples(res) != 1)
        rc = ss_req_field_error(r, "reissue_of", "not-a-certificate-of-the-person");
    else if ((answer = ss_json_col(res, 0, 0)) == NULL ||
             (text = json_dumps(answer, JSON_COMPACT)) == NULL)
        rc = SS_ERR_NOMEM;
    PQclear(res);
    if (rc == 0)
        snprintf(r->res_id, sizeof(r->res_id), "%s", q->id);
    if (rc == 0 && (rc = ss_idem_store(r, c, st, 201, text)) == 0 &&
        (!commit || (rc = ss_db_commit(c)) == 0))
        rc = ss_reply_raw(r, 201, "application/json", text, strlen(text));
    json_decref(answer);
    free(text);
    return rc;
}

/* The change in a shared transaction (ss_group_write): the key claimed, the certificate filed. */
static int file_in_group(ss_req *r, ss_dbc *c, void *arg)
{
    ss_idem st;
    int rc = ss_idem_claim(r, c, &st);

    if (rc != 0 || st.replayed)
        return rc;
    return file_cert(r, c, arg, &st, false);
}

/* The request's transaction, begun on *c, with its Idempotency-Key claimed (st.replayed: the
 * first answer was sent, nothing more to do). */
static int open_tx(ss_req *r, ss_dbc **c, ss_idem *st)
{
    int rc;

    if ((rc = ss_db_acquire(ss_server_db(), c)) != 0)
        return rc;
    if ((rc = ss_db_begin(*c)) != 0 || (rc = ss_idem_claim(r, *c, st)) != 0) {
        ss_db_release(*c);
        *c = NULL;
    }
    return rc;
}

/* Group commit of issuances (group.h): SESSHU_CERTIFICATE_GROUP_COMMIT, default on. */
static bool grouped(void)
{
    static int on = -1;
    bool v = true;

    if (on < 0)
        on = ss_cfg_bool(CERT_ENV_GROUP, true, &v) == 0 && v;
    return on == 1;
}

/* The chosen ids with the paper doses just registered (H-5-3); NULL (all current) stays NULL. */
static json_t *with_new(const json_t *ids, const json_t *fresh)
{
    json_t *all;

    if (ids == NULL)
        return NULL;
    if ((all = json_copy((json_t *)(uintptr_t)ids)) != NULL)
        json_array_extend(all, (json_t *)(uintptr_t)fresh);
    return all;
}

/* The doses and the municipality from the masters (cert_doses, a read). On c when the request
 * has its own transaction there (a second connection taken from the pool while holding one
 * would deadlock the pool under load, every request holding one and waiting for another); in a
 * group (c NULL) on a connection of its own for the one statement, as the request holds none. */
static int read_doses(ss_dbc *c, const char *const *params, json_t **doses, json_t **muni_j)
{
    ss_dbc *own = NULL;
    int rc;

    if (c != NULL)
        return doses_and_muni(c, params, doses, muni_j);
    if ((rc = ss_db_acquire(ss_server_db(), &own)) != 0)
        return rc;
    rc = doses_and_muni(own, params, doses, muni_j);
    ss_db_release(own);
    return rc;
}

/* The doses, the card and the certificate: filed on c (the request's own transaction) or, with
 * c NULL, in the next shared transaction of issuances (ss_group_write). */
static int file_it(ss_req *r, const issue_in *in, const json_t *person, const json_t *chosen,
                   ss_dbc *c, const ss_idem *st)
{
    const char *muni = json_string_value(json_object_get(person, "muni_code"));
    char *recs = json_dumps(chosen, JSON_COMPACT);
    json_t *doses = NULL, *m = NULL;
    issue_prep q;
    int rc;

    if (recs == NULL)
        return SS_ERR_NOMEM;
    memset(&q, 0, sizeof(q));
    {
        const char *p[] = {recs, in->channel, cert_is_staff(r) ? r->who.muni_code : muni, muni};
        rc = read_doses(c, p, &doses, &m);
    }
    free(recs);
    if (rc == 0) {
        issue_tx t = {in, muni, person_snapshot(person, muni, m), doses};
        m = NULL; /* stolen by the snapshot */
        rc = t.person ? prepare(r, &t, &q) : SS_ERR_NOMEM;
        if (rc == 0)
            rc = c != NULL ? file_cert(r, c, &q, st, true) : ss_group_write(r, file_in_group, &q);
        json_decref(t.person);
    }
    prep_free(&q);
    json_decref(m);
    json_decref(doses);
    return rc;
}

static int issue(ss_req *r, const issue_in *in)
{
    json_t *person = NULL, *records = NULL, *chosen = NULL, *fresh = json_array(), *ids = NULL;
    const char *muni;
    ss_dbc *c = NULL;
    ss_idem st;
    int rc;

    memset(&st, 0, sizeof(st));
    if (fresh == NULL)
        return SS_ERR_NOMEM;
    if (in->reissue_of != NULL && !ss_uuid_ok(in->reissue_of)) {
        rc = ss_req_field_error(r, "reissue_of", "not-a-uuid");
        goto out;
    }
    /* With paper doses, a retry under the same key must not enter them again: the key is
     * claimed before anything is registered (and released with everything on a failure). */
    if (in->paper != NULL && ss_req_header(r, "Idempotency-Key") != NULL &&
        ((rc = open_tx(r, &c, &st)) != 0 || st.replayed))
        goto out;
    if ((rc = cert_fetch_person(r, in->person_id, in->paper, fresh, &person, &records)) != 0)
        goto out;
    snprintf(r->person_id, sizeof(r->person_id), "%s", in->person_id);
    muni = json_string_value(json_object_get(person, "muni_code"));
    if (muni == NULL || strlen(muni) != 6) {
        rc = ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service answered no municipality");
        goto out;
    }
    snprintf(r->subject_muni, sizeof(r->subject_muni), "%s", muni);
    ids = with_new(in->ids, fresh);
    if ((rc = choose(r, records, in->ids ? ids : NULL, &chosen)) != 0)
        goto out;
    if (c == NULL && !grouped() && ((rc = open_tx(r, &c, &st)) != 0 || st.replayed))
        goto out;
    rc = file_it(r, in, person, chosen, c, &st);
out:
    ss_db_release(c);
    json_decref(person);
    json_decref(records);
    json_decref(chosen);
    json_decref(fresh);
    json_decref(ids);
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
    in.paper = json_object_get(r->body, "paper_doses");
    /* Entering doses is a records write: refused here as the records service would. */
    if (in.paper != NULL && !ss_authz_has(&r->who, SS_PERM_RECORDS_WRITE))
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "entering paper doses needs records.write");
    return issue(r, &in);
}
