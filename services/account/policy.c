/* policy.c - the account service's configuration knobs and the password
 * policy: at least N characters, not containing the login ID, not one of
 * the last N passwords (argon2 verify against each stored hash). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr; the build defines it too */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "sesshu/config.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/log.h"
#include "sesshu/server.h"
#include "sesshu/text.h"

acct_config acct_cfg = {
    .pw_min_length = 13,
    .pw_history = 5,
    .temp_pw_ttl_h = 72,
    .login_max_failures = 5,
    .login_max_failures_all = 50,
    .lock_minutes = 15,
    .access_ttl_s = 900,
    .refresh_ttl_s = 28800,
    .reset_ttl_min = 30,
    .inactive_days = 90,
    .inactive_warn_days = 14,
};

int acct_config_load(void)
{
    static const struct {
        const char *name;
        long def, min, max;
        long *dst;
    } knobs[] = {
        {"SESSHU_PW_MIN_LENGTH", 13, 8, 128, &acct_cfg.pw_min_length},
        {"SESSHU_PW_HISTORY", 5, 0, 24, &acct_cfg.pw_history},
        {"SESSHU_TEMP_PW_TTL_H", 72, 1, 720, &acct_cfg.temp_pw_ttl_h},
        {"SESSHU_LOGIN_MAX_FAILURES", 5, 1, 100, &acct_cfg.login_max_failures},
        {"SESSHU_LOGIN_MAX_FAILURES_ALL", 50, 1, 10000, &acct_cfg.login_max_failures_all},
        {"SESSHU_LOCK_MINUTES", 15, 1, 1440, &acct_cfg.lock_minutes},
        {"SESSHU_ACCESS_TTL_S", 900, 60, 3600, &acct_cfg.access_ttl_s},
        {"SESSHU_REFRESH_TTL_S", 28800, 300, 2592000, &acct_cfg.refresh_ttl_s},
        {"SESSHU_RESET_TTL_MIN", 30, 5, 1440, &acct_cfg.reset_ttl_min},
        {"SESSHU_INACTIVE_DAYS", 90, 1, 3650, &acct_cfg.inactive_days},
        {"SESSHU_INACTIVE_WARN_DAYS", 14, 0, 3649, &acct_cfg.inactive_warn_days},
    };
    int rc;

    for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
        if ((rc = ss_cfg_long(knobs[i].name, knobs[i].def, knobs[i].min, knobs[i].max,
                              knobs[i].dst)) != 0)
            return rc;
    if (acct_cfg.inactive_warn_days >= acct_cfg.inactive_days) {
        SS_ERROR("SESSHU_INACTIVE_WARN_DAYS must be less than SESSHU_INACTIVE_DAYS");
        return SS_ERR_VALIDATION;
    }
    if (acct_cfg.refresh_ttl_s < acct_cfg.access_ttl_s) {
        SS_ERROR("SESSHU_REFRESH_TTL_S must be at least SESSHU_ACCESS_TTL_S");
        return SS_ERR_VALIDATION;
    }
    return 0;
}

const char *acct_num(char *buf, long v)
{
    snprintf(buf, 24, "%ld", v);
    return buf;
}

/* Fewer distinct bytes than this, or one run of equal steps ("aaaa…", "abcd…", "9876…"), is
 * refused: NIST SP 800-63B 3.1.1.2 lists repetitive and sequential characters among what a
 * verifier must reject, whatever the length. */
#define PW_MIN_DISTINCT 5

static bool pw_repetitive(const char *pw)
{
    bool seen[256] = {false};
    int distinct = 0;

    for (const unsigned char *p = (const unsigned char *)pw; *p != '\0'; p++)
        if (!seen[*p]) {
            seen[*p] = true;
            distinct++;
        }
    return distinct < PW_MIN_DISTINCT;
}

static bool pw_sequential(const char *pw)
{
    size_t n = strlen(pw);
    int step;

    if (n < 3)
        return false;
    step = (unsigned char)pw[1] - (unsigned char)pw[0];
    if (step < -1 || step > 1)
        return false;
    for (size_t i = 2; i < n; i++)
        if ((unsigned char)pw[i] - (unsigned char)pw[i - 1] != step)
            return false;
    return true;
}

const char *acct_pw_weak(const char *login_id, const char *pw)
{
    size_t n = ss_utf8_len(pw);

    if ((long)n < acct_cfg.pw_min_length)
        return "too-short";
    if (n > ACCT_PW_MAX_CHARS)
        return "too-long";
    if (login_id != NULL && login_id[0] != '\0' && strcasestr(pw, login_id) != NULL)
        return "contains-user-id";
    if (pw_repetitive(pw))
        return "repetitive";
    if (pw_sequential(pw))
        return "sequential";
    return NULL;
}

/* Is pw the current password or one of the last N chosen ones? */
static int pw_reused(const char *user_id, const char *pw, bool *reused)
{
    char n[24];
    const char *params[] = {user_id, acct_num(n, acct_cfg.pw_history)};
    PGresult *res = NULL;
    int rc;

    *reused = false;
    rc = ss_db_query(ss_server_db(), sql_acct_pw_recent_hashes, 2, params, &res);
    if (rc != 0)
        return rc;
    for (int i = 0; i < PQntuples(res) && !*reused; i++) {
        int vr = ss_pw_verify(PQgetvalue(res, i, 0), pw);
        if (vr == 0)
            *reused = true;
        else if (vr != SS_ERR_UNAUTHORIZED)
            rc = vr;
    }
    PQclear(res);
    return rc;
}

int acct_pw_policy(ss_req *r, const char *field, const char *login_id, const char *pw,
                   const char *user_id)
{
    const char *weak = acct_pw_weak(login_id, pw);
    bool reused = false;
    int rc;

    if (weak != NULL) {
        ss_req_field_error(r, field, weak);
        return ss_req_fail(r, SS_ERR_POLICY,
                           "at least %ld characters, at least %d different ones and not a "
                           "sequence, not containing the user ID, not one of the last %ld "
                           "passwords",
                           acct_cfg.pw_min_length, PW_MIN_DISTINCT, acct_cfg.pw_history);
    }
    if (user_id == NULL || acct_cfg.pw_history == 0)
        return 0;
    if ((rc = pw_reused(user_id, pw, &reused)) != 0)
        return rc;
    if (!reused)
        return 0;
    ss_req_field_error(r, field, "reused");
    return ss_req_fail(r, SS_ERR_POLICY, "the password must not be one of the last %ld",
                       acct_cfg.pw_history);
}

int acct_pw_store(ss_dbc *c, const char *user_id, const char *phc, bool temporary,
                  char *expires_out)
{
    char ttl[24];
    const char *params[] = {user_id, phc, temporary ? "true" : "false",
                            acct_num(ttl, acct_cfg.temp_pw_ttl_h)};
    const char *hist[] = {user_id, phc};
    PGresult *res = NULL;
    int rc;

    rc = ss_db_exec(c, sql_acct_pw_set, 4, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return SS_ERR_NOT_FOUND;
    }
    if (expires_out != NULL)
        snprintf(expires_out, 40, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    /* A new password, whoever set it, ends every reset and every e-mail change the user has
     * outstanding (a change requested through a stolen session among them). */
    rc = ss_db_exec(c, sql_acct_pw_tokens_void, 1, params, NULL);
    if (rc != 0 || temporary)
        return rc;
    rc = ss_db_exec(c, sql_acct_pw_history_add, 2, hist, NULL);
    if (rc != 0)
        return rc;
    return ss_db_exec(c, sql_acct_pw_history_trim, 1, params, NULL);
}
