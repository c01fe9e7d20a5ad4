/* linkage_copy.c - bulk import, part 2: one NDJSON chunk parsed line by line and streamed into
 * the staging table with COPY (text format). A line is checked here for what needs no
 * database: JSON syntax, members and types, code formats and check digits; the rules that
 * need the masters and the person's history run at commit, set-based. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkage_import.h"
#include "sesshu/body.h"
#include "sesshu/codes.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/text.h"

static const char *const categories[] = {"routine", "temporary", "voluntary", NULL};
static const char *const sexes[] = {"0", "1", "2", "9", NULL};

static const ss_field imm_line[] = {
    {"resident_no", SS_F_STRING, false, 1, 100, NULL, false},
    {"person_id", SS_F_STRING, false, 36, 36, NULL, false},
    {"vaccinated_on", SS_F_DATE, true, 0, 0, NULL, false},
    {"vaccine_code", SS_F_STRING, true, 9, 13, NULL, false},
    {"disease_codes", SS_F_ARRAY, false, 1, 8, NULL, false},
    {"dose_number", SS_F_INT, true, 1, 20, NULL, false},
    {"dose_label", SS_F_STRING, false, 1, 40, NULL, true},
    {"lot_no", SS_F_STRING, false, 1, 20, NULL, true},
    {"institution_code", SS_F_STRING, true, 10, 10, NULL, false},
    {"doctor_name", SS_F_STRING, true, 1, 100, NULL, false},
    {"dose_ml", SS_F_OBJECT, false, 0, 0, NULL, true},
    {"site", SS_F_STRING, false, 1, 40, NULL, true},
    {"category", SS_F_ENUM, true, 0, 0, categories, false},
    {"pregnancy_weeks", SS_F_INT, false, 0, 45, NULL, true},
    {"note", SS_F_STRING, false, 0, 1000, NULL, true},
    {NULL, 0, false, 0, 0, NULL, false},
};

static const ss_field person_line[] = {
    {"resident_no", SS_F_STRING, true, 1, 100, NULL, false},
    {"name", SS_F_STRING, true, 1, 100, NULL, false},
    {"name_kana", SS_F_STRING, true, 1, 100, NULL, false},
    {"name_romaji", SS_F_STRING, false, 1, 100, NULL, true},
    {"former_name", SS_F_STRING, false, 1, 100, NULL, true},
    {"birth_date", SS_F_DATE, true, 0, 0, NULL, false},
    {"sex", SS_F_ENUM, true, 0, 0, sexes, false},
    {"postal_code", SS_F_STRING, false, 7, 8, NULL, true},
    {"address", SS_F_STRING, true, 1, 200, NULL, false},
    {"non_disclosure", SS_F_BOOL, false, 0, 0, NULL, false},
    {"my_number", SS_F_STRING, false, 12, 12, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* A growing COPY buffer. */
typedef struct cbuf {
    char *p;
    size_t len, cap;
    bool oom;
} cbuf;

static void put(cbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        char *q;

        while (cap < b->len + n + 1)
            cap *= 2;
        if ((q = realloc(b->p, cap)) == NULL) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* One text column of the COPY text format: \N for NULL, backslash escapes otherwise. */
static void col(cbuf *b, const char *s, bool last)
{
    if (s == NULL)
        put(b, "\\N", 2);
    for (const char *p = s; p != NULL && *p; p++) {
        const char *e = *p == '\\'   ? "\\\\"
                        : *p == '\n' ? "\\n"
                        : *p == '\r' ? "\\r"
                        : *p == '\t' ? "\\t"
                                     : NULL;
        if (e != NULL)
            put(b, e, 2);
        else
            put(b, p, 1);
    }
    put(b, last ? "\n" : "\t", 1);
}

static const char *num(const json_t *v, char *buf, size_t n)
{
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%.2f", json_real_value(v));
    else
        return NULL;
    return buf;
}

/* Disease codes as a PostgreSQL array literal; codes are [A-Za-z0-9_.-] (checked). */
static bool diseases(const json_t *arr, char *out, size_t n)
{
    size_t i, o = 0;
    json_t *v;

    out[o++] = '{';
    json_array_foreach (arr, i, v) {
        const char *s = json_string_value(v);
        size_t l = s ? strlen(s) : 0;

        if (l == 0 || l > 32 ||
            strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != l ||
            o + l + 3 > n)
            return false;
        if (i > 0)
            out[o++] = ',';
        memcpy(out + o, s, l);
        o += l;
    }
    out[o++] = '}';
    out[o] = '\0';
    return true;
}

/* Checks beyond the declarative table; errors into r->errors. */
static void imm_line_rules(ss_req *r, const json_t *o, const json_t *ml, char *dc, size_t dcn)
{
    const char *pid = ss_json_str(o, "person_id"), *ic = ss_json_str(o, "institution_code");
    const char *vc = ss_json_str(o, "vaccine_code");
    const json_t *arr = json_object_get(o, "disease_codes");

    if ((pid == NULL) == (ss_json_str(o, "resident_no") == NULL))
        ss_req_field_error(r, "resident_no", "give exactly one of resident_no and person_id");
    if (pid != NULL && !ss_uuid_ok(pid))
        ss_req_field_error(r, "person_id", "must be a person id");
    if (vc != NULL && !rec_vaccine_code_ok(vc))
        ss_req_field_error(r, "vaccine_code", "must be a HOT9, HOT13 or YJ code");
    if (ic != NULL && !rec_inst_code_ok(ic))
        ss_req_field_error(r, "institution_code",
                           "is not a valid 医療機関コード (10 digits, check digit)");
    if (ml != NULL && !json_is_null(ml) &&
        (!json_is_number(ml) || json_number_value(ml) <= 0 || json_number_value(ml) > 10))
        ss_req_field_error(r, "dose_ml", "must be a number of millilitres in (0, 10]");
    dc[0] = '\0';
    if (arr != NULL && json_is_array(arr) && !diseases(arr, dc, dcn))
        ss_req_field_error(r, "disease_codes", "must hold disease codes of the master");
}

static void imm_row(cbuf *b, const char *job, const char *ln, const json_t *o, const char *dc)
{
    char n1[24], n2[24], n3[32];

    col(b, job, false);
    col(b, ln, false);
    col(b, ss_json_str(o, "resident_no"), false);
    col(b, ss_json_str(o, "person_id"), false);
    col(b, ss_json_str(o, "vaccinated_on"), false);
    col(b, ss_json_str(o, "vaccine_code"), false);
    col(b, dc[0] ? dc : NULL, false);
    col(b, num(json_object_get(o, "dose_number"), n1, sizeof(n1)), false);
    col(b, ss_json_str(o, "dose_label"), false);
    col(b, ss_json_str(o, "lot_no"), false);
    col(b, ss_json_str(o, "institution_code"), false);
    col(b, ss_json_str(o, "doctor_name"), false);
    col(b, num(json_object_get(o, "dose_ml"), n3, sizeof(n3)), false);
    col(b, ss_json_str(o, "site"), false);
    col(b, ss_json_str(o, "category"), false);
    col(b, num(json_object_get(o, "pregnancy_weeks"), n2, sizeof(n2)), false);
    col(b, ss_json_str(o, "note"), true);
}

static int person_row(ss_req *r, cbuf *b, const char *job, const char *ln, const json_t *o)
{
    const char *mn = ss_json_str(o, "my_number"), *kana = ss_json_str(o, "name_kana");
    char id[37], hash[65], *sealed = NULL;
    int rc;

    if (mn != NULL && !ss_code_my_number_ok(mn))
        ss_req_field_error(r, "my_number", "is not a valid 個人番号 (12 digits, check digit)");
    if (kana != NULL && !rec_kana_ok(kana))
        ss_req_field_error(r, "name_kana", "must be full-width katakana");
    if (json_array_size(r->errors) > 0)
        return 0;
    if ((rc = ss_uuid(id)) != 0)
        return rc;
    if (mn != NULL) {
        rec_mynumber_hash(mn, hash);
        if ((rc = rec_mynumber_seal(mn, id, &sealed)) != 0)
            return rc;
    }
    col(b, job, false);
    col(b, ln, false);
    col(b, id, false);
    col(b, ss_json_str(o, "resident_no"), false);
    col(b, ss_json_str(o, "name"), false);
    col(b, kana, false);
    col(b, ss_json_str(o, "name_romaji"), false);
    col(b, ss_json_str(o, "former_name"), false);
    col(b, ss_json_str(o, "birth_date"), false);
    col(b, ss_json_str(o, "sex"), false);
    col(b, ss_json_str(o, "postal_code"), false);
    col(b, ss_json_str(o, "address"), false);
    col(b, json_is_true(json_object_get(o, "non_disclosure")) ? "t" : "f", false);
    col(b, sealed, false);
    col(b, mn != NULL ? hash : NULL, true);
    free(sealed);
    return 0;
}

/* One line: parsed and checked with the request's error list borrowed; its errors (if any)
 * appended to errs as {ln, errors}, else its row to b. */
static int one_line(ss_req *r, cbuf *b, const char *job, bool persons, long long ln, const char *s,
                    size_t len, json_t *errs)
{
    json_error_t jerr;
    json_t *o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr), *saved = r->errors;
    const char *saved_detail = r->detail;
    char lnbuf[24], dc[300];
    int rc = 0;

    r->errors = NULL;
    snprintf(lnbuf, sizeof(lnbuf), "%lld", ln);
    if (o == NULL || !json_is_object(o))
        ss_req_field_error(r, "(line)", o == NULL ? jerr.text : "must be a JSON object");
    else if (persons)
        ss_json_check(r, o, person_line);
    else {
        /* dose_ml is a JSON number, which the declarative table cannot type. */
        json_t *ml = json_incref(json_object_get(o, "dose_ml"));

        json_object_del(o, "dose_ml");
        if (ss_json_check(r, o, imm_line) == 0)
            imm_line_rules(r, o, ml, dc, sizeof(dc));
        if (ml != NULL)
            json_object_set_new(o, "dose_ml", ml);
    }
    if (json_array_size(r->errors) == 0 && o != NULL) {
        if (persons)
            rc = person_row(r, b, job, lnbuf, o);
        else
            imm_row(b, job, lnbuf, o, dc);
    }
    if (json_array_size(r->errors) > 0)
        json_array_append_new(errs,
                              json_pack("{s:I,s:O}", "ln", (json_int_t)ln, "errors", r->errors));
    json_decref(r->errors);
    json_decref(o);
    r->errors = saved;
    r->detail = saved_detail;
    return rc;
}

static int copy_out(ss_req *r, ss_dbc *c, bool persons, const cbuf *b)
{
    PGconn *pg = ss_db_conn(c);
    PGresult *res;
    int rc = 0;

    (void)r;
    if (b->len == 0)
        return 0;
    res = PQexec(pg, persons ? sql_rec_import_copy_persons : sql_rec_import_copy_immunizations);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        rc = SS_ERR_UNAVAILABLE;
    PQclear(res);
    if (rc == 0 && (PQputCopyData(pg, b->p, (int)b->len) != 1 || PQputCopyEnd(pg, NULL) != 1))
        rc = SS_ERR_UNAVAILABLE;
    while ((res = PQgetResult(pg)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
            rc = SS_ERR_VALIDATION; /* a value the line checks let through (e.g. a date range) */
        PQclear(res);
    }
    return rc;
}

int rec_import_copy(ss_req *r, ss_dbc *c, const char *job, bool persons, long long base,
                    long long *n, json_t *errs)
{
    const char *s = r->u->binary_body, *end = s + r->u->binary_body_length;
    cbuf b = {0};
    int rc = 0;

    *n = 0;
    while (s < end && rc == 0) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = (size_t)((nl ? nl : end) - s);

        (*n)++;
        if (len > 0 && s[len - 1] == '\r')
            len--;
        if (len > 0)
            rc = one_line(r, &b, job, persons, base + *n, s, len, errs);
        s = nl ? nl + 1 : end;
    }
    if (rc == 0 && b.oom)
        rc = SS_ERR_NOMEM;
    if (rc == 0)
        rc = copy_out(r, c, persons, &b);
    if (rc == SS_ERR_VALIDATION)
        rc = ss_req_fail(r, SS_ERR_VALIDATION, "a line holds a value the database refused");
    free(b.p);
    return rc;
}
