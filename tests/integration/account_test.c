/* account_test.c - in-process HTTP tests of the account service (H-1)
 * against the test stack's database: login, lock, temporary-password gate,
 * organisations and their first admin, users, cross-organisation 404s,
 * body errors as problem+json, /me and its menu, refresh, logout.
 *
 * Every run makes its own data with a random suffix (its own 国保中央会
 * admin, medical institutions with random valid codes), so tests run in any
 * order and against a database other runs have used. The server runs in
 * this process, so check must not fork. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "harness.h"
#include "sesshu/crypto.h"

static char sfx[12];         /* random suffix of this run */
static char chu_token[2048]; /* the run's own 国保中央会 admin */
static int seq;              /* makes every name of the run unique */

#define PW_GOOD "a long and sufficiently random pass phrase"

/* One call; asserts the status and hands back the parsed JSON (caller decrefs). */
static void str_of(char *dst, size_t n, const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));

    ck_assert_msg(v != NULL, "missing %s", key);
    snprintf(dst, n, "%s", v);
}

static void login(const char *user, const char *pw, long expect, char *token, size_t n)
{
    char body[512];
    json_t *j;

    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"password\":\"%s\"}", user, pw);
    j = it_expect("POST", "/api/v1/auth/login", NULL, body, expect);
    if (token != NULL)
        str_of(token, n, j, "access_token");
    json_decref(j);
}

/* A valid random 医療機関コード: prefecture, 1 (医科), six random digits, Luhn. */
static void inst_code(char out[11])
{
    char rnd[32];
    int sum = 0;

    ck_assert_int_eq(ss_random_token(rnd, sizeof(rnd), 12), 0);
    snprintf(out, 11, "%02d1", 1 + (unsigned char)rnd[0] % 47);
    for (int i = 3; i < 9; i++)
        out[i] = (char)('0' + (unsigned char)rnd[i] % 10);
    for (int i = 8, w = 2; i >= 0; i--, w = 3 - w) {
        int v = (out[i] - '0') * w;
        sum += v / 10 + v % 10;
    }
    out[9] = (char)('0' + (10 - sum % 10) % 10);
    out[10] = '\0';
}

/* A new medical institution and its first admin, logged in with a chosen
 * password. Fills the organisation id, the admin's login ID and a token. */
static void new_org(char org_id[40], char login_id[72], char token[2048])
{
    char body[1024], code[11], temp[64], pwbody[512];
    json_t *j;

    snprintf(login_id, 72, "it-adm-%s-%d", sfx, ++seq);
    inst_code(code);
    snprintf(
        body, sizeof(body),
        "{\"type\":\"medical_institution\",\"code\":\"%s\",\"name\":\"試験医院%d\","
        "\"name_kana\":\"シケンイイン\",\"admin\":{\"user_id\":\"%s\",\"name\":\"試験 管理者\","
        "\"name_kana\":\"シケン カンリシャ\",\"email\":\"%s@example.org\"}}",
        code, seq, login_id, login_id);
    j = it_expect("POST", "/api/v1/organizations", chu_token, body, 201);
    str_of(org_id, 40, json_object_get(j, "organization"), "id");
    str_of(temp, sizeof(temp), j, "temporary_password");
    ck_assert_int_eq((int)strlen(temp), ACCT_TEMP_PW_LEN);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "admin"), "role")),
                     "admin");
    json_decref(j);
    login(login_id, temp, 200, token, 2048);
    snprintf(pwbody, sizeof(pwbody), "{\"current_password\":\"%s\",\"new_password\":\"%s\"}", temp,
             PW_GOOD);
    j = it_expect("POST", "/api/v1/auth/password", token, pwbody, 200);
    str_of(token, 2048, j, "access_token");
    json_decref(j);
}

/* A user of the organisation of admin_token; returns its id and temporary password. */
static void new_user(const char *admin_token, const char *role, char id[40], char login_id[72],
                     char temp[64])
{
    char body[512];
    json_t *j;

    snprintf(login_id, 72, "it-usr-%s-%d", sfx, ++seq);
    snprintf(body, sizeof(body),
             "{\"user_id\":\"%s\",\"name\":\"試験 利用者\",\"name_kana\":\"シケン リヨウシャ\","
             "\"email\":\"%s@example.org\",\"role\":\"%s\"}",
             login_id, login_id, role);
    j = it_expect("POST", "/api/v1/users", admin_token, body, 201);
    str_of(id, 40, json_object_get(j, "user"), "id");
    str_of(temp, 64, j, "temporary_password");
    json_decref(j);
}

/* ---- login ---------------------------------------------------------------- */

START_TEST(login_success)
{
    char org[40], adm[72], tok[2048], t2[2048];
    json_t *j;
    char body[512];

    new_org(org, adm, tok);
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"password\":\"%s\"}", adm, PW_GOOD);
    j = it_expect("POST", "/api/v1/auth/login", NULL, body, 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "token_type")), "Bearer");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "expires_in")), acct_cfg.access_ttl_s);
    ck_assert(json_is_false(json_object_get(j, "password_change_required")));
    ck_assert(json_string_length(json_object_get(j, "refresh_token")) >= 40);
    json_decref(j);
    /* Login IDs are case-insensitive. */
    for (char *p = adm; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    login(adm, PW_GOOD, 200, t2, sizeof(t2));
}
END_TEST

START_TEST(login_failures_look_alike)
{
    char org[40], adm[72], tok[2048], unknown[64];
    json_t *a, *b;
    char body[512];

    new_org(org, adm, tok);
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"password\":\"wrong password here\"}", adm);
    a = it_expect("POST", "/api/v1/auth/login", NULL, body, 401);
    snprintf(unknown, sizeof(unknown), "it-nobody-%s", sfx);
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"password\":\"wrong password here\"}",
             unknown);
    b = it_expect("POST", "/api/v1/auth/login", NULL, body, 401);
    ck_assert_str_eq(json_string_value(json_object_get(a, "detail")),
                     json_string_value(json_object_get(b, "detail")));
    json_decref(a);
    json_decref(b);
}
END_TEST

START_TEST(login_lock_and_reenable)
{
    char org[40], adm[72], tok[2048], uid[40], ulogin[72], temp[64], path[128];
    json_t *j;

    new_org(org, adm, tok);
    new_user(tok, "user", uid, ulogin, temp);
    for (long i = 0; i < acct_cfg.login_max_failures; i++)
        login(ulogin, "not the password at all", 401, NULL, 0);
    login(ulogin, temp, 401, NULL, 0); /* locked: even the right password fails, alike */
    snprintf(path, sizeof(path), "/api/v1/users/%s", uid);
    j = it_expect("GET", path, tok, NULL, 200);
    ck_assert(json_is_string(json_object_get(j, "locked_until")));
    json_decref(j);
    json_decref(it_expect("PATCH", path, tok, "{\"status\":\"active\"}", 200));
    login(ulogin, temp, 200, NULL, 0);
}
END_TEST

/* ---- temporary passwords (H-1-7) ----------------------------------------- */

START_TEST(temp_password_gates_everything_but_change)
{
    char org[40], adm[72], tok[2048], uid[40], ulogin[72], temp[64], ut[2048], body[512];
    json_t *j;

    new_org(org, adm, tok);
    new_user(tok, "admin", uid, ulogin, temp);
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"password\":\"%s\"}", ulogin, temp);
    j = it_expect("POST", "/api/v1/auth/login", NULL, body, 200);
    ck_assert(json_is_true(json_object_get(j, "password_change_required")));
    str_of(ut, sizeof(ut), j, "access_token");
    json_decref(j);
    j = it_expect("GET", "/api/v1/me", ut, NULL, 200);
    ck_assert(json_is_true(json_object_get(j, "password_change_required")));
    json_decref(j);
    j = it_expect("GET", "/api/v1/users", ut, NULL, 403);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")),
                     "urn:sesshu:problem:password-change-required");
    json_decref(j);
    /* The policy refuses a password containing the login ID. */
    snprintf(body, sizeof(body),
             "{\"current_password\":\"%s\",\"new_password\":\"xx%sxxxxxxxxxxxx\"}", temp, ulogin);
    j = it_expect("POST", "/api/v1/auth/password", ut, body, 422);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")),
                     "urn:sesshu:problem:password-policy");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(j, "errors"), 0), "reason")),
                     "contains-user-id");
    json_decref(j);
    snprintf(body, sizeof(body), "{\"current_password\":\"%s\",\"new_password\":\"%s\"}", temp,
             PW_GOOD);
    j = it_expect("POST", "/api/v1/auth/password", ut, body, 200);
    ck_assert(json_is_false(json_object_get(j, "password_change_required")));
    json_decref(it_expect("GET", "/api/v1/users",
                          json_string_value(json_object_get(j, "access_token")), NULL, 200));
    json_decref(j);
    json_decref(it_expect("GET", "/api/v1/me", ut, NULL, 401)); /* the old session ended */
}
END_TEST

START_TEST(temp_password_expires)
{
    char org[40], adm[72], tok[2048], uid[40], ulogin[72], temp[64], sql[256];
    json_t *j;
    char *v;

    new_org(org, adm, tok);
    new_user(tok, "user", uid, ulogin, temp);
    snprintf(sql, sizeof(sql),
             "UPDATE account.users SET pw_expires_at = now() - interval '1 minute' "
             "WHERE id = '%s' RETURNING id",
             uid);
    v = it_sql_value(sql);
    ck_assert_ptr_nonnull(v);
    free(v);
    {
        char body[512];
        snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"password\":\"%s\"}", ulogin, temp);
        j = it_expect("POST", "/api/v1/auth/login", NULL, body, 401);
    }
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "detail")), "expired"));
    json_decref(j);
}
END_TEST

/* ---- organisations (H-1-1) ------------------------------------------------ */

START_TEST(org_create_and_first_admin)
{
    char org[40], adm[72], tok[2048], path[128];
    json_t *j;

    new_org(org, adm, tok); /* creates, logs in with the temporary password, changes it */
    snprintf(path, sizeof(path), "/api/v1/organizations/%s", org);
    j = it_expect("GET", path, chu_token, NULL, 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "medical_institution");
    ck_assert(json_is_string(json_object_get(j, "prefecture_code")));
    json_decref(j);
    json_decref(it_expect("GET", path, tok, NULL, 200)); /* its own organisation */
}
END_TEST

START_TEST(org_code_check_digit)
{
    json_t *j;
    char body[512];

    /* 渋谷区 is 131130: a wrong check digit must be refused. */
    snprintf(body, sizeof(body),
             "{\"type\":\"municipality\",\"code\":\"131131\",\"name\":\"渋谷区\",\"name_kana\":"
             "\"シブヤク\","
             "\"admin\":{\"user_id\":\"it-x-%s\",\"name\":\"x\",\"name_kana\":\"エックス\","
             "\"email\":\"x@example.org\"}}",
             sfx);
    j = it_expect("POST", "/api/v1/organizations", chu_token, body, 422);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(j, "errors"), 0), "field")),
                     "code");
    json_decref(j);
}
END_TEST

START_TEST(org_duplicate_code_409)
{
    char org[40], adm[72], tok[2048], path[128], body[1024];
    json_t *j;
    const char *code;

    new_org(org, adm, tok);
    snprintf(path, sizeof(path), "/api/v1/organizations/%s", org);
    j = it_expect("GET", path, chu_token, NULL, 200);
    code = json_string_value(json_object_get(j, "code"));
    snprintf(body, sizeof(body),
             "{\"type\":\"medical_institution\",\"code\":\"%s\",\"name\":\"重複\",\"name_kana\":"
             "\"チョウフク\","
             "\"admin\":{\"user_id\":\"it-dup-%s\",\"name\":\"x\",\"name_kana\":\"エックス\","
             "\"email\":\"x@example.org\"}}",
             code, sfx);
    json_decref(j);
    json_decref(it_expect("POST", "/api/v1/organizations", chu_token, body, 409));
}
END_TEST

START_TEST(org_create_needs_chuokai)
{
    char org[40], adm[72], tok[2048];

    new_org(org, adm, tok);
    json_decref(it_expect("POST", "/api/v1/organizations", tok, "{}", 403));
}
END_TEST

/* ---- users (H-1-2, H-1-4) -------------------------------------------------- */

START_TEST(user_create_in_own_org)
{
    char org[40], adm[72], tok[2048], uid[40], ulogin[72], temp[64], path[128], body[512];
    json_t *j;

    new_org(org, adm, tok);
    new_user(tok, "user", uid, ulogin, temp);
    snprintf(path, sizeof(path), "/api/v1/users/%s", uid);
    j = it_expect("GET", path, tok, NULL, 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "organization_id")), org);
    ck_assert_ptr_null(json_object_get(j, "pw_hash"));
    ck_assert(json_is_true(json_object_get(j, "password_change_required")));
    json_decref(j);
    /* The same login ID again, in any case, is a conflict. */
    for (char *p = ulogin; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    snprintf(
        body, sizeof(body),
        "{\"user_id\":\"%s\",\"name\":\"x\",\"name_kana\":\"エックス\",\"email\":\"x@example.org\","
        "\"role\":\"user\"}",
        ulogin);
    json_decref(it_expect("POST", "/api/v1/users", tok, body, 409));
}
END_TEST

START_TEST(cross_org_is_not_found)
{
    char oa[40], aa[72], ta[2048], ob[40], ab[72], tb[2048];
    char uid[40], ulogin[72], temp[64], path[128];
    json_t *j;

    new_org(oa, aa, ta);
    new_org(ob, ab, tb);
    new_user(tb, "user", uid, ulogin, temp);
    snprintf(path, sizeof(path), "/api/v1/users/%s", uid);
    json_decref(it_expect("GET", path, ta, NULL, 404));
    json_decref(it_expect("PATCH", path, ta, "{\"status\":\"disabled\"}", 404));
    snprintf(path, sizeof(path), "/api/v1/users/%s/password-reset", uid);
    json_decref(it_expect("POST", path, ta, NULL, 404));
    snprintf(path, sizeof(path), "/api/v1/organizations/%s", ob);
    json_decref(it_expect("GET", path, ta, NULL, 404));
    /* The list shows only the caller's organisation. */
    j = it_expect("GET", "/api/v1/organizations", ta, NULL, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "items")), 1);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "id")),
        oa);
    json_decref(j);
    /* A 国保中央会 admin reaches another organisation's admin, not its users. */
    json_decref(
        it_expect("GET", "/api/v1/users/00000000-0000-4000-8000-000000000000", ta, NULL, 404));
    snprintf(path, sizeof(path), "/api/v1/users/%s", uid);
    json_decref(it_expect("GET", path, chu_token, NULL, 404));
}
END_TEST

START_TEST(admin_disable_ends_sessions)
{
    char org[40], adm[72], tok[2048], uid[40], ulogin[72], temp[64], ut[2048], path[128];

    new_org(org, adm, tok);
    new_user(tok, "user", uid, ulogin, temp);
    login(ulogin, temp, 200, ut, sizeof(ut));
    snprintf(path, sizeof(path), "/api/v1/users/%s", uid);
    json_decref(it_expect("PATCH", path, tok, "{\"status\":\"disabled\"}", 200));
    json_decref(it_expect("GET", "/api/v1/me", ut, NULL, 401));
    login(ulogin, temp, 403, NULL, 0);
}
END_TEST

/* ---- request errors --------------------------------------------------------- */

START_TEST(bad_bodies_are_problems)
{
    it_resp r;
    json_t *j;

    j = it_expect("POST", "/api/v1/auth/login", NULL, "{\"user_id\":", 400);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")),
                     "urn:sesshu:problem:invalid-json");
    json_decref(j);
    j = it_expect("POST", "/api/v1/auth/login", NULL,
                  "{\"user_id\":\"a\",\"password\":\"b\",\"x\":1}", 422);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(j, "errors"), 0), "field")),
                     "x");
    json_decref(j);
    j = it_expect("POST", "/api/v1/auth/login", NULL, "{\"user_id\":7,\"password\":\"b\"}", 422);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(j, "errors"), 0), "field")),
                     "user_id");
    json_decref(j);
    json_decref(it_expect("POST", "/api/v1/users", chu_token, "[1,2]", 400));
    ck_assert_int_eq(it_call_ct("POST", "/api/v1/auth/login", NULL, "user_id=a", "text/plain", &r),
                     0);
    ck_assert_int_eq(r.status, 415);
    it_resp_free(&r);
    json_decref(it_expect("GET", "/api/v1/me", NULL, NULL, 401));
    json_decref(it_expect("GET", "/api/v1/me", "not-a-token", NULL, 401));
}
END_TEST

/* ---- /me ------------------------------------------------------------------- */

static bool menu_has(const json_t *me, const char *perm)
{
    size_t i;
    json_t *e;

    json_array_foreach (json_object_get(me, "menu"), i, e)
        if (strcmp(json_string_value(json_object_get(e, "permission")), perm) == 0)
            return true;
    return false;
}

START_TEST(me_and_menu)
{
    char org[40], adm[72], tok[2048], uid[40], ulogin[72], temp[64], ut[2048], body[256];
    json_t *j;

    new_org(org, adm, tok);
    j = it_expect("GET", "/api/v1/me", tok, NULL, 200);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "user"), "user_id")),
                     adm);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "organization"), "id")),
                     org);
    ck_assert(menu_has(j, "users.manage"));
    ck_assert(!menu_has(j, "organizations.create"));
    /* "Who am I" asks no other service unless asked to (issue 14 §3) ... */
    ck_assert_ptr_null(json_object_get(j, "unread_notices"));
    json_decref(j);
    /* ... with include=unread_notices the stack's notice service answers the count ... */
    j = it_expect("GET", "/api/v1/me?include=unread_notices", tok, NULL, 200);
    ck_assert(json_is_integer(json_object_get(j, "unread_notices")));
    json_decref(j);
    /* ... and when it does not, /me still answers, with null. */
    {
        char *saved = getenv("SESSHU_NOTICE_URL") ? strdup(getenv("SESSHU_NOTICE_URL")) : NULL;

        setenv("SESSHU_NOTICE_URL", "http://127.0.0.1:1", 1);
        j = it_expect("GET", "/api/v1/me?include=unread_notices", tok, NULL, 200);
        ck_assert(json_is_null(json_object_get(j, "unread_notices")));
        json_decref(j);
        if (saved != NULL)
            setenv("SESSHU_NOTICE_URL", saved, 1);
        else
            unsetenv("SESSHU_NOTICE_URL");
        free(saved);
    }
    j = it_expect("GET", "/api/v1/me", chu_token, NULL, 200);
    ck_assert(menu_has(j, "organizations.create"));
    json_decref(j);
    new_user(tok, "user", uid, ulogin, temp);
    login(ulogin, temp, 200, ut, sizeof(ut));
    snprintf(body, sizeof(body), "{\"current_password\":\"%s\",\"new_password\":\"%s\"}", temp,
             PW_GOOD);
    j = it_expect("POST", "/api/v1/auth/password", ut, body, 200);
    str_of(ut, sizeof(ut), j, "access_token");
    json_decref(j);
    j = it_expect("GET", "/api/v1/me", ut, NULL, 200);
    ck_assert(menu_has(j, "profile"));
    ck_assert(!menu_has(j, "users.manage"));
    json_decref(j);
    json_decref(it_expect("GET", "/api/v1/users", ut, NULL, 403));
    j = it_expect("PATCH", "/api/v1/me", ut, "{\"name\":\"新しい 名前\"}", 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "新しい 名前");
    json_decref(j);
    json_decref(it_expect("PATCH", "/api/v1/me", ut, "{\"name_kana\":\"漢字\"}", 422));
}
END_TEST

/* ---- sessions --------------------------------------------------------------- */

START_TEST(refresh_rotates_and_reuse_revokes)
{
    char org[40], adm[72], tok[2048], body[512], rt[128], rt2[128], at2[2048];
    json_t *j;

    new_org(org, adm, tok);
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"password\":\"%s\"}", adm, PW_GOOD);
    j = it_expect("POST", "/api/v1/auth/login", NULL, body, 200);
    str_of(rt, sizeof(rt), j, "refresh_token");
    json_decref(j);
    snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
    j = it_expect("POST", "/api/v1/auth/refresh", NULL, body, 200);
    str_of(rt2, sizeof(rt2), j, "refresh_token");
    str_of(at2, sizeof(at2), j, "access_token");
    json_decref(j);
    ck_assert_str_ne(rt, rt2);
    json_decref(it_expect("GET", "/api/v1/me", at2, NULL, 200));
    json_decref(it_expect("POST", "/api/v1/auth/refresh", NULL, body, 401)); /* replayed */
    snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt2);
    json_decref(it_expect("POST", "/api/v1/auth/refresh", NULL, body, 401)); /* session ended */
    json_decref(it_expect("GET", "/api/v1/me", at2, NULL, 401));
}
END_TEST

START_TEST(logout_revokes_at_once)
{
    char org[40], adm[72], tok[2048], t2[2048];

    new_org(org, adm, tok);
    login(adm, PW_GOOD, 200, t2, sizeof(t2));
    json_decref(it_expect("POST", "/api/v1/auth/logout", t2, NULL, 204));
    json_decref(it_expect("GET", "/api/v1/me", t2, NULL, 401));
    json_decref(it_expect("GET", "/api/v1/me", tok, NULL, 200)); /* another session lives on */
}
END_TEST

START_TEST(reset_and_reminder_reveal_nothing)
{
    char org[40], adm[72], tok[2048], body[256], sql[256];
    char *v;

    new_org(org, adm, tok);
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\"}", adm);
    json_decref(it_expect("POST", "/api/v1/auth/password-reset", NULL, body, 202));
    snprintf(body, sizeof(body), "{\"user_id\":\"it-none-%s\"}", sfx);
    json_decref(it_expect("POST", "/api/v1/auth/password-reset", NULL, body, 202));
    snprintf(body, sizeof(body), "{\"email\":\"none-%s@example.org\"}", sfx);
    json_decref(it_expect("POST", "/api/v1/auth/user-id-reminder", NULL, body, 202));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM account.reset_tokens t JOIN account.users u ON u.id = t.user_id "
             "WHERE u.login_id = '%s'",
             adm);
    v = it_sql_value(sql);
    ck_assert_str_eq(v, "1");
    free(v);
    json_decref(it_expect("POST", "/api/v1/auth/password-reset/confirm", NULL,
                          "{\"token\":\"not-a-real-token\",\"new_password\":\"" PW_GOOD "x\"}",
                          400));
}
END_TEST

/* The run's own 国保中央会 admin, inserted directly with a known password. */
static void make_chuokai_admin(void)
{
    char login_id[64], pw[64], sql[1024];
    char *phc = NULL, *v;

    snprintf(login_id, sizeof(login_id), "it-chu-%s", sfx);
    snprintf(pw, sizeof(pw), "chuokai pass phrase %s", sfx);
    if (ss_pw_hash(pw, &phc) != 0) {
        fprintf(stderr, "cannot hash\n");
        exit(2);
    }
    snprintf(
        sql, sizeof(sql),
        "INSERT INTO account.users (login_id, org_id, name, name_kana, email, role, pw_hash, "
        "pw_temporary) SELECT '%s', id, '試験 中央会', 'シケン チュウオウカイ', 'chu@example.org', "
        "'admin', '%s', false FROM account.organizations WHERE type = 'chuokai' RETURNING id",
        login_id, phc);
    free(phc);
    v = it_sql_value(sql);
    if (v == NULL) {
        fprintf(stderr, "cannot create the test's 国保中央会 admin\n");
        exit(2);
    }
    free(v);
    {
        char body[256];
        it_resp r;
        snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"password\":\"%s\"}", login_id, pw);
        if (it_call("POST", "/api/v1/auth/login", NULL, body, &r) != 0 || r.status != 200 ||
            json_string_value(json_object_get(r.json, "access_token")) == NULL) {
            fprintf(stderr, "cannot log in as the test's 国保中央会 admin: %s\n", r.raw);
            exit(2);
        }
        snprintf(chu_token, sizeof(chu_token), "%s",
                 json_string_value(json_object_get(r.json, "access_token")));
        it_resp_free(&r);
    }
}

/* Every statement of the service's sql/ files parses against the migrated schema. */
START_TEST(sql_files_prepare)
{
    ck_assert_int_eq(it_sql_prepare_all(acct_sql_all), 0);
}
END_TEST

static Suite *account_suite(void)
{
    Suite *s = suite_create("account");
    TCase *tc = tcase_create("http");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sql_files_prepare);
    tcase_add_test(tc, login_success);
    tcase_add_test(tc, login_failures_look_alike);
    tcase_add_test(tc, login_lock_and_reenable);
    tcase_add_test(tc, temp_password_gates_everything_but_change);
    tcase_add_test(tc, temp_password_expires);
    tcase_add_test(tc, org_create_and_first_admin);
    tcase_add_test(tc, org_code_check_digit);
    tcase_add_test(tc, org_duplicate_code_409);
    tcase_add_test(tc, org_create_needs_chuokai);
    tcase_add_test(tc, user_create_in_own_org);
    tcase_add_test(tc, cross_org_is_not_found);
    tcase_add_test(tc, admin_disable_ends_sessions);
    tcase_add_test(tc, bad_bodies_are_problems);
    tcase_add_test(tc, me_and_menu);
    tcase_add_test(tc, refresh_rotates_and_reuse_revokes);
    tcase_add_test(tc, logout_revokes_at_once);
    tcase_add_test(tc, reset_and_reminder_reveal_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char tok[16];
    SRunner *sr;
    int failed;

    if (it_start(&acct_service) < 0)
        return 2;
    if (ss_random_token(tok, sizeof(tok), 6) != 0)
        return 2;
    /* Login IDs allow [A-Za-z0-9._@-]: keep the suffix to letters and digits. */
    for (int i = 0; tok[i]; i++)
        sfx[i] = (tok[i] == '-' || tok[i] == '_') ? 'x' : tok[i];
    make_chuokai_admin();
    sr = srunner_create(account_suite());
    srunner_set_fork_status(sr, CK_NOFORK); /* the server's threads live in this process */
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    it_stop(); /* also runs the service's shutdown hook */
    return failed == 0 ? 0 : 1;
}
