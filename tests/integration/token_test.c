/* token_test.c - the token service (H-2) in-process: its key set, API clients made, listed and
 * kept to their organisation, and the token endpoint's refusals (RFC 6749 §5.2).
 *
 * Runs against the real test database (scripts/test.sh exports SESSHU_*). Tokens are signed
 * with a key made for this run, for principals made up here (fresh organisation ids that are
 * not in account.organizations): so a client's grant is refused as invalid_client, the answer
 * for a client whose organisation is not active (authz.active_organizations). The grant that
 * succeeds, with a real organisation, is tests/api/token.test.mjs's. Tests run without fork. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sesshu/crypto.h"
#include "sesshu/jwt.h"
#include "tok.h"

/* An admin token for a made-up municipality; org_id (room for 40) receives its organisation. */
static char *mint_admin(char *org_id)
{
    char *tok = it_user_token(SS_ORG_MUNICIPALITY, SS_ROLE_ADMIN, "131016", "131016", "13", org_id);

    ck_assert_ptr_nonnull(tok);
    return tok;
}

/* A client of the admin's organisation: id and secret (room for 40 and 128). */
static void make_client(const char *admin, char *id, char *secret)
{
    json_t *j = it_expect("POST", "/api/v1/api-clients", admin,
                          "{\"name\":\"it client\",\"scopes\":[\"masters:read\"]}", 201);
    const char *cid = json_string_value(json_object_get(j, "id"));
    const char *sec = json_string_value(json_object_get(j, "client_secret"));

    ck_assert_ptr_nonnull(cid);
    ck_assert_ptr_nonnull(sec);
    snprintf(id, 40, "%s", cid);
    snprintf(secret, 128, "%s", sec);
    json_decref(j);
}

/* POST /oauth2/token with a form body; the answer in *out. */
static void grant(const char *form, it_resp *out)
{
    ck_assert_int_eq(
        it_call_ct("POST", "/oauth2/token", NULL, form, "application/x-www-form-urlencoded", out),
        0);
}

START_TEST(sql_files_prepare)
{
    ck_assert_int_eq(it_sql_prepare_all(tok_sql_all), 0);
}
END_TEST

START_TEST(jwks_has_the_signing_key)
{
    json_t *j = it_expect("GET", "/.well-known/jwks.json", NULL, NULL, 200);
    json_t *keys = json_object_get(j, "keys");
    json_t *k = json_array_get(keys, 0);

    ck_assert_int_ge(json_array_size(keys), 1);
    ck_assert_str_eq(json_string_value(json_object_get(k, "kty")), "EC");
    ck_assert_str_eq(json_string_value(json_object_get(k, "crv")), "P-256");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(k, "kid")));
    ck_assert_ptr_null(json_object_get(k, "d")); /* never the private part */
    json_decref(j);
}
END_TEST

START_TEST(clients_stay_in_their_organisation)
{
    char org[40], id[40], secret[128], path[128];
    char *admin = mint_admin(org), *other = mint_admin(NULL);
    json_t *j;

    make_client(admin, id, secret);
    snprintf(path, sizeof(path), "/api/v1/api-clients/%s", id);
    j = it_expect("GET", path, admin, NULL, 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
    ck_assert_ptr_null(json_object_get(j, "client_secret")); /* shown once, at creation */
    json_decref(j);
    json_decref(it_expect("GET", path, other, NULL, 404));
    json_decref(it_expect("DELETE", path, other, NULL, 404));
    j = it_expect("GET", "/api/v1/api-clients", other, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
    free(admin);
    free(other);
}
END_TEST

START_TEST(client_bad_inputs)
{
    char *admin = mint_admin(NULL);

    json_decref(it_expect("POST", "/api/v1/api-clients", admin, "{\"name\":", 400));
    json_decref(it_expect("POST", "/api/v1/api-clients", admin,
                          "{\"name\":\"x\",\"scopes\":[\"masters:read\"],\"secret\":\"mine\"}",
                          422));
    json_decref(it_expect("POST", "/api/v1/api-clients", admin,
                          "{\"name\":\"x\",\"scopes\":[\"records:delete\"]}", 422));
    json_decref(it_expect("POST", "/api/v1/api-clients", admin,
                          "{\"name\":\"x\",\"scopes\":\"masters:read\"}", 422));
    json_decref(it_expect("POST", "/api/v1/api-clients", NULL,
                          "{\"name\":\"x\",\"scopes\":[\"masters:read\"]}", 401));
    free(admin);
}
END_TEST

START_TEST(grants_refused)
{
    char id[40], secret[128], form[512];
    char *admin = mint_admin(NULL);
    it_resp r;

    make_client(admin, id, secret);
    /* The organisation is not an active one of account's: no token, even with the secret. */
    snprintf(form, sizeof(form), "grant_type=client_credentials&client_id=%s&client_secret=%s", id,
             secret);
    grant(form, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "error")), "invalid_client");
    it_resp_free(&r);
    snprintf(form, sizeof(form), "grant_type=client_credentials&client_id=%s&client_secret=x%s", id,
             secret);
    grant(form, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "error")), "invalid_client");
    it_resp_free(&r);
    grant("grant_type=password&username=a&password=b", &r);
    ck_assert_int_ge(r.status, 400);
    ck_assert_int_lt(r.status, 500);
    it_resp_free(&r);
    snprintf(form, sizeof(form), "client_id=%s&client_secret=%s", id, secret);
    grant(form, &r);
    ck_assert_int_ge(r.status, 400);
    ck_assert_int_lt(r.status, 500);
    it_resp_free(&r);
    free(admin);
}
END_TEST

static Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *t = tcase_create("token");

    tcase_set_timeout(t, 60);
    tcase_add_test(t, sql_files_prepare);
    tcase_add_test(t, jwks_has_the_signing_key);
    tcase_add_test(t, clients_stay_in_their_organisation);
    tcase_add_test(t, client_bad_inputs);
    tcase_add_test(t, grants_refused);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return it_main(&tok_service, token_suite());
}
