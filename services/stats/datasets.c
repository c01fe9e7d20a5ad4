/* datasets.c - the published datasets (H-6-2) and their two public routes:
 * GET /api/v1/stats/datasets (the index, with each dataset's as-of time) and
 * GET /api/v1/stats/datasets/:name?format=ndjson|csv&charset=utf-8|shift_jis.
 *
 * A dataset is read as rendered at the last refresh (stats.outputs, render.c): one row, with
 * an ETag and Last-Modified a CDN honours (If-None-Match answers 304) and Cache-Control
 * public for SESSHU_STATS_MAX_AGE_S seconds.
 *
 * Small-cell suppression (municipality table): a count below k (SESSHU_STATS_K, default 10)
 * is published as null. Every published total is a sum over the municipality table's cells
 * that share vaccination date, prefecture, disease, product and dose (the prefecture table's
 * daily counts and their cumulative sums); within each such group
 *  - when the group's total is below k, none of its cells is listed (the prefecture table
 *    gives the total; no cell of it can be placed in a municipality, sex or age band);
 *  - otherwise, when a cell is suppressed, the smallest cell at or above k is suppressed too,
 *    so every group holds none or at least two suppressed cells, one of them at least k:
 *    the total less the published cells leaves a sum of two or more unknowns, none of them
 *    pinned (not even to 1: the sum exceeds their number). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/csv.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "stat.h"

static const char *const muni_cols[] = {"vaccinated_on",
                                        "prefecture_code",
                                        "municipality_code",
                                        "disease_code",
                                        "vaccine_code",
                                        "dose_number",
                                        "sex",
                                        "age_band",
                                        "count",
                                        "suppressed",
                                        NULL};
static const char muni_types[] = "tttttittib";

static const char *const pref_cols[] = {
    "vaccinated_on", "prefecture_code", "disease_code", "vaccine_code",
    "dose_number",   "count",           "cumulative",   NULL};
static const char *const reg_cols[] = {
    "registered_on", "prefecture_code", "disease_code", "vaccine_code",
    "dose_number",   "count",           "cumulative",   NULL};
static const char pref_types[] = "ttttiii";
static const char *const cov_cols[] = {
    "vaccinated_on", "prefecture_code", "disease_code", "vaccine_code", "dose_number",
    "count",         "cumulative",      "population",   "coverage",     NULL};
static const char cov_types[] = "ttttiiiir";
static const char *const band_cols[] = {
    "vaccinated_on", "prefecture_code", "disease_code", "vaccine_code", "dose_number", "age_band",
    "count",         "cumulative",      "population",   "coverage",     NULL};
static const char band_types[] = "ttttitiiir";

const stat_dataset stat_datasets[] = {
    {"vaccinations-by-municipality", "市区町村別・接種日別の接種回数",
     "接種日×都道府県×市区町村×対象疾病×ワクチン×接種回×性別×年齢区分の接種件数。"
     "k未満の小さな件数は秘匿 (count null, suppressed true)、合計から逆算できないよう補完秘匿。",
     sql_stat_ds_by_municipality, muni_cols, muni_types},
    {"vaccinations-by-prefecture", "都道府県別・接種日別の接種回数と累計",
     "接種日×都道府県×対象疾病×ワクチン×接種回の接種件数と、接種日までの累計。",
     sql_stat_ds_by_prefecture, pref_cols, pref_types},
    {"registrations-by-prefecture", "都道府県別・登録日別の接種回数と累計",
     "記録の登録日×都道府県×対象疾病×ワクチン×接種回の件数と累計 (登録の遅れが見える)。",
     sql_stat_ds_registrations, reg_cols, pref_types},
    {"coverage-by-prefecture", "都道府県別の接種率 (人口比)",
     "接種日×都道府県×対象疾病×ワクチン×接種回の累計接種件数を、人口マスタ "
     "(市区町村×性別×年齢区分) "
     "のある市区町村の人口の合計で割った接種率。人口マスタのない市区町村は分子にも分母にも含めない"
     "。",
     sql_stat_ds_coverage, cov_cols, cov_types},
    {"coverage-by-age-band", "都道府県別・対象年齢区分別の接種率",
     "接種日×都道府県×対象疾病×ワクチン×接種回×年齢区分 (接種時) の接種件数と累計を、その年齢区分の"
     "人口 (人口マスタのある市区町村の合計) で割った接種率。年齢区分は定期接種の対象年齢 "
     "(スケジュールマスタ) にかかるものだけ。区分の一部だけが対象年齢のときは、人口を対象年齢の"
     "年数の割合で按分する。女性だけが対象の接種 (HPV など) は女性の人口で割る (件数は男女とも)。",
     sql_stat_ds_coverage_by_age_band, band_cols, band_types},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

const stat_dataset *stat_dataset_find(const char *name)
{
    for (const stat_dataset *d = stat_datasets; name != NULL && d->name != NULL; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

static void cache_headers(ss_req *r, const char *etag, const char *last_modified)
{
    char cc[64];

    snprintf(cc, sizeof(cc), "public, max-age=%ld", stat_max_age());
    ss_reply_header(r, "Cache-Control", cc);
    ss_reply_header(r, "ETag", etag);
    ss_reply_header(r, "Last-Modified", last_modified);
}

/* Does If-None-Match name this ETag (or a weak form of it, as a gzipping proxy sends)? */
static bool etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);

    for (const char *p = inm; p != NULL && *p != '\0';) {
        p += strspn(p, " ,");
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        if (*p == '*')
            return true;
        p = strchr(p, ',');
    }
    return false;
}

int stat_h_index(ss_req *r)
{
    PGresult *res = NULL;
    json_t *items = NULL, *map = NULL;
    int rc;

    if ((rc = ss_query_check(r, (const char *[]){NULL})) != 0)
        return rc;
    (void)stat_refresh(); /* a records outage leaves the last figures, dated as they are */
    if ((rc = ss_db_query(ss_server_db(), sql_stat_output_index, 0, NULL, &res)) != 0)
        return rc;
    map = json_object();
    for (int i = 0; map != NULL && i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0), *fmt = PQgetvalue(res, i, 1);
        const stat_dataset *d = stat_dataset_find(name);
        json_t *it = json_object_get(map, name);
        char url[160];

        if (d == NULL)
            continue;
        if (it == NULL) {
            it = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:[]}", "name", name, "title", d->title,
                           "description", d->description, "as_of", PQgetvalue(res, i, 5),
                           "generated_at", PQgetvalue(res, i, 4), "rows",
                           atoi(PQgetvalue(res, i, 3)), "downloads");
            if (it == NULL || json_object_set_new(map, name, it) != 0)
                break;
        }
        for (int cs = 0; cs < (strcmp(fmt, "csv") == 0 ? 2 : 1); cs++) {
            snprintf(url, sizeof(url), "/api/v1/stats/datasets/%s?format=%s%s", name, fmt,
                     cs ? "&charset=shift_jis" : "");
            json_array_append_new(json_object_get(it, "downloads"),
                                  json_pack("{s:s,s:s,s:s}", "format", fmt, "charset",
                                            cs ? "shift_jis" : "utf-8", "url", url));
        }
    }
    PQclear(res);
    if (map == NULL)
        return SS_ERR_NOMEM;
    items = json_array();
    for (const stat_dataset *d = stat_datasets; items != NULL && d->name != NULL; d++)
        if (json_object_get(map, d->name) != NULL)
            json_array_append(items, json_object_get(map, d->name));
    json_decref(map);
    if (items == NULL)
        return SS_ERR_NOMEM;
    rc = ss_reply_json_new(r, 200,
                           json_pack("{s:o,s:I}", "items", items, "k", (json_int_t)stat_k()));
    if (rc == 0)
        ss_reply_header(r, "Cache-Control", "public, max-age=0, must-revalidate");
    return rc;
}

/* Reply with body (UTF-8) as the asked charset. */
static int reply_body(ss_req *r, const char *fmt, bool sjis, const char *body, size_t len)
{
    char *out = NULL;
    size_t outlen = 0, bad = 0;
    int rc;

    if (strcmp(fmt, "ndjson") == 0)
        return ss_reply_raw(r, 200, "application/x-ndjson", body, len);
    if (!sjis)
        return ss_reply_raw(r, 200, "text/csv; charset=utf-8", body, len);
    if ((rc = ss_iconv("UTF-8", "CP932", body, len, &out, &outlen, &bad)) != 0)
        return rc;
    rc = ss_reply_raw(r, 200, "text/csv; charset=Shift_JIS", out, outlen);
    free(out);
    return rc;
}

int stat_h_dataset(ss_req *r)
{
    const char *name = ss_req_param(r, "name"), *fmt = ss_req_query(r, "format");
    const char *cs = ss_req_query(r, "charset"), *inm = ss_req_header(r, "If-None-Match");
    const stat_dataset *d;
    PGresult *res = NULL;
    char etag[96], disp[160];
    bool sjis;
    int rc;

    if ((rc = ss_query_check(r, (const char *[]){"name", "format", "charset", NULL})) != 0)
        return rc;
    if ((d = stat_dataset_find(name)) == NULL)
        return ss_req_fail(r, SS_ERR_NOT_FOUND, "no such dataset");
    if (fmt == NULL)
        fmt = "ndjson";
    if (strcmp(fmt, "ndjson") != 0 && strcmp(fmt, "csv") != 0)
        return ss_req_field_error(r, "format", "is ndjson or csv");
    if (cs != NULL && strcmp(cs, "utf-8") != 0 && strcmp(cs, "shift_jis") != 0)
        return ss_req_field_error(r, "charset", "is utf-8 or shift_jis");
    sjis = cs != NULL && strcmp(cs, "shift_jis") == 0;
    if (sjis && strcmp(fmt, "csv") != 0)
        return ss_req_field_error(r, "charset", "shift_jis is for csv only");
    (void)stat_refresh();
    const char *p[] = {d->name, fmt};
    rc = ss_db_query(ss_server_db(), sql_stat_output_get, 2, p, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ss_req_fail(r, SS_ERR_UNAVAILABLE, "the dataset is being prepared");
    }
    snprintf(etag, sizeof(etag), "\"%s%s\"", PQgetvalue(res, 0, 1), sjis ? "-sjis" : "");
    if (inm != NULL && etag_matches(inm, etag)) {
        rc = ss_reply_empty(r, 304);
    } else {
        rc = reply_body(r, fmt, sjis, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s%s.%s\"", d->name,
                 sjis ? "-sjis" : "", fmt);
        if (rc == 0)
            ss_reply_header(r, "Content-Disposition", disp);
    }
    if (rc == 0)
        cache_headers(r, etag, PQgetvalue(res, 0, 2));
    PQclear(res);
    return rc;
}
