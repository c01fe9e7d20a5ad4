/* sources.c - the person and the records a certificate certifies, read from the records
 * service over HTTP (services never read another's tables) with the caller's own token, so the
 * records service decides what the caller may see, exactly as for the caller's own reads (and
 * logs the read): a vaccinee token reads its own person and its minor, disclosed children
 * (GET /api/v1/persons/me…); municipality staff read a person and its records
 * (GET /api/v1/persons/:id, …/immunizations). The person and its records come in one request
 * (?include=immunizations: one token check and one access-log row at the records service, not
 * two). Voided records are never certified. */
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "sesshu/err.h"
#include "sesshu/svc.h"
#include "sesshu/text.h"

#define RECORDS_TIMEOUT_MS 5000
#define RECORDS_PAGES_MAX  5

/* GET path at the records service as the caller: 0 and *ans on 200; 404 for 403/404; 503. */
static int get(ss_req *r, const char *path, json_t **ans)
{
    long status = 0;
    int rc = ss_svc_call("RECORDS", SS_PORT_RECORDS, "GET", path, ss_req_header(r, "Authorization"),
                         r->request_id, NULL, RECORDS_TIMEOUT_MS, &status, ans);

    if (rc != 0)
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service cannot be reached");
    if (status == 200 && *ans != NULL)
        return 0;
    json_decref(*ans);
    *ans = NULL;
    if (status == 404 || status == 403)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service answered %ld", status);
}

/* Append the current records of items to out. */
static void keep_current(json_t *out, const json_t *items)
{
    size_t i;
    json_t *it;

    json_array_foreach (items, i, it) {
        const char *st = json_string_value(json_object_get(it, "status"));
        if (st != NULL && strcmp(st, "voided") != 0)
            json_array_append(out, it);
    }
}

/* A person read with ?include=immunizations without its records (not part of the person as
 * certified). */
static void drop_records(json_t *person)
{
    json_object_del(person, "immunizations");
    json_object_del(person, "immunizations_next_cursor");
}

/* The person and its records in one request (records' ?include=immunizations). */
static int fetch_self(ss_req *r, const char *person_id, json_t **person, json_t **records)
{
    char path[160];
    json_t *a = NULL, *recs;
    int rc;
    bool self = strcmp(person_id, r->who.person_id) == 0;

    if (self)
        snprintf(path, sizeof(path), "/api/v1/persons/me?include=immunizations");
    else
        snprintf(path, sizeof(path), "/api/v1/persons/me/children/%s?include=immunizations",
                 person_id);
    if ((rc = get(r, path, &a)) != 0)
        return rc;
    *person = json_incref(self ? json_object_get(a, "person") : a);
    recs = json_incref(json_object_get(a, "immunizations"));
    json_decref(a);
    if (*person == NULL || !json_is_object(*person) || !json_is_array(recs)) {
        json_decref(recs);
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the records service answered no person");
    }
    keep_current(*records, recs);
    json_decref(recs);
    drop_records(*person);
    /* The self view names it municipality_code; the staff view muni_code. */
    if (json_object_get(*person, "muni_code") == NULL)
        json_object_set(*person, "muni_code", json_object_get(*person, "municipality_code"));
    return 0;
}

/* The person's current records from its listing (staff), after cursor `from` ("" for the
 * start), in pages of 200, into out. */
static int list_records(ss_req *r, const char *person_id, const char *from, json_t *out)
{
    char path[512], cur[320];
    const char *cursor;
    int rc;

    snprintf(cur, sizeof(cur), "%s", from);
    for (int page = 0; page < RECORDS_PAGES_MAX; page++) {
        json_t *ans = NULL;
        /* A cursor goes back into a URL: only base64url characters, bounded. */
        if (strlen(cur) >= sizeof(cur) - 1 ||
            strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
                strlen(cur))
            return 0;
        if (cur[0] == '\0')
            snprintf(path, sizeof(path), "/api/v1/persons/%s/immunizations?limit=200", person_id);
        else
            snprintf(path, sizeof(path), "/api/v1/persons/%s/immunizations?limit=200&cursor=%s",
                     person_id, cur);
        if ((rc = get(r, path, &ans)) != 0)
            return rc;
        keep_current(out, json_object_get(ans, "items"));
        cursor = json_string_value(json_object_get(ans, "next_cursor"));
        if (cursor == NULL || strlen(cursor) >= sizeof(cur) - 1) {
            json_decref(ans);
            return 0;
        }
        snprintf(cur, sizeof(cur), "%s", cursor);
        json_decref(ans);
    }
    return 0;
}

/* The person with its first records in one request (records' ?include=immunizations), the
 * rest of them, if any, from the listing. */
static int fetch_staff(ss_req *r, const char *person_id, const json_t *paper, json_t *fresh,
                       json_t **person, json_t **records)
{
    char path[160];
    json_t *a = NULL;
    const char *muni, *rel;
    json_t *more;
    int rc;

    /* With paper doses the records are read after they are entered, not with the person. */
    snprintf(path, sizeof(path), "/api/v1/persons/%s%s", person_id,
             paper != NULL ? "" : "?include=immunizations");
    if ((rc = get(r, path, &a)) != 0)
        return rc;
    *person = a;
    muni = json_string_value(json_object_get(a, "muni_code"));
    rel = json_string_value(json_object_get(a, "relationship"));
    /* A municipality certifies its current residents only (a former one, and so a person
     * under non-disclosure, is not its to certify). */
    if (muni == NULL || strcmp(muni, r->who.muni_code) != 0 || rel == NULL ||
        strcmp(rel, "resident") != 0)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such resident of yours");
    /* H-5-3: the paper doses go in now, so the records read next include them. */
    if (paper != NULL) {
        if ((rc = cert_paper_register(r, person_id, paper, fresh)) != 0)
            return rc;
        return list_records(r, person_id, "", *records);
    }
    keep_current(*records, json_object_get(a, "immunizations"));
    more = json_incref(json_object_get(a, "immunizations_next_cursor"));
    drop_records(a);
    rc = json_is_string(more) ? list_records(r, person_id, json_string_value(more), *records) : 0;
    json_decref(more);
    return rc;
}

int cert_fetch_person(ss_req *r, const char *person_id, const json_t *paper, json_t *fresh,
                      json_t **person, json_t **records)
{
    int rc;

    *person = NULL;
    if ((*records = json_array()) == NULL)
        return SS_ERR_NOMEM;
    if (!ss_uuid_ok(person_id))
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "no such person of yours");
    else if (cert_is_vaccinee(r))
        rc = fetch_self(r, person_id, person, records);
    else if (cert_is_staff(r))
        rc = fetch_staff(r, person_id, paper, fresh, person, records);
    else
        rc = ss_req_fail(r, SS_ERR_FORBIDDEN,
                         "certificates are issued to vaccinees and by municipality staff");
    if (rc != 0) {
        json_decref(*person);
        json_decref(*records);
        *person = *records = NULL;
    }
    return rc;
}

int cert_fetch_family(ss_req *r, json_t **ids)
{
    json_t *a = NULL, *c;
    size_t i;
    int rc;

    if ((*ids = json_array()) == NULL)
        return SS_ERR_NOMEM;
    if ((rc = get(r, "/api/v1/persons/me", &a)) != 0) {
        json_decref(*ids);
        *ids = NULL;
        return rc;
    }
    json_array_append(*ids, json_object_get(json_object_get(a, "person"), "id"));
    json_array_foreach (json_object_get(a, "children"), i, c) {
        json_array_append(*ids, json_object_get(c, "id"));
    }
    json_decref(a);
    return 0;
}
