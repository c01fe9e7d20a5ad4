/* me.c - the caller's own account (H-1-3, H-1-9): GET /me answers the user,
 * the organisation and the menu of functions the role may use (the main
 * menu after login); PATCH /me changes the caller's own profile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "sesshu/body.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/server.h"
#include "sesshu/svc.h"

/* The unread-notice count comes from the notice service (services never read
 * another's tables), over HTTP with the caller's own token (ss_svc_call). It is
 * decoration: if the notice service is slow or down, /me still answers, with null. */
#define ME_NOTICE_TIMEOUT 1000L /* ms: asked for only with ?include=unread_notices */

/* {"unread": N} from GET /api/v1/notices/unread-count, as a new JSON integer,
 * or JSON null on any failure. */
static json_t *me_unread_notices(const ss_req *r)
{
    json_t *doc = NULL, *out = NULL, *n;
    long status = 0;

    if (ss_svc_call("NOTICE", SS_PORT_NOTICE, "GET", "/api/v1/notices/unread-count",
                    ss_req_header(r, "Authorization"), r->request_id, NULL, ME_NOTICE_TIMEOUT,
                    &status, &doc) == 0 &&
        status == 200 && json_is_integer(n = json_object_get(doc, "unread")) &&
        json_integer_value(n) >= 0)
        out = json_integer(json_integer_value(n));
    json_decref(doc);
    return out != NULL ? out : json_null();
}

/* "Who am I" does not fan out (issue 14 §3): the unread count is another service's answer,
 * asked only with ?include=unread_notices (the portal usually calls notice itself). */
static int me_include(ss_req *r, bool *unread)
{
    static const char *const allowed[] = {"include", NULL};
    const char *inc = ss_req_query(r, "include");

    *unread = false;
    if (ss_query_check(r, allowed) != 0)
        return SS_ERR_VALIDATION;
    if (inc == NULL)
        return 0;
    if (strcmp(inc, "unread_notices") != 0)
        return ss_req_field_error(r, "include", "must be unread_notices");
    *unread = true;
    return 0;
}

int acct_h_me_get(ss_req *r)
{
    const char *params[] = {r->who.sub};
    PGresult *res = NULL;
    json_t *menu = NULL, *body;
    bool unread;
    int rc;

    if (r->who.kind != SS_PRINCIPAL_USER)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a user session has a profile");
    if ((rc = me_include(r, &unread)) != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.sub);
    rc = ss_db_query(ss_server_db(), sql_acct_me_get, 1, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "the account no longer exists");
        goto out;
    }
    if ((menu = ss_authz_menu(&r->who)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    body = json_pack("{s:o,s:o,s:o,s:b}", "user", acct_json_col(res, 0, 0), "organization",
                     acct_json_col(res, 0, 1), "menu", menu, "password_change_required",
                     r->who.pw_change_required);
    if (body != NULL && unread)
        json_object_set_new(body, "unread_notices", me_unread_notices(r));
    rc = body != NULL ? ss_reply_json_new(r, 200, body) : SS_ERR_NOMEM;
out:
    PQclear(res);
    return rc;
}

static const ss_field me_fields[] = {
    {"name", SS_F_STRING, false, 1, 100, NULL, false},
    {"name_kana", SS_F_STRING, false, 1, 100, NULL, false},
    {"email", SS_F_EMAIL, false, 3, 254, NULL, false},
    {"current_password", SS_F_STRING, false, 1, 1024, NULL, false},
    {NULL, 0, false, 0, 0, NULL, false},
};

/* Name and kana change at once; the e-mail address (where resets go) only with the current
 * password, and only once the new address confirms it (me_email.c). The answer is the user as
 * stored, with pending_email while a change waits for its confirmation. */
int acct_h_me_patch(ss_req *r)
{
    const char *email, *pw, *params[3];
    PGresult *res = NULL;
    json_t *user = NULL, *pending = NULL;
    ss_dbc *c = NULL;
    int rc;

    if (r->who.kind != SS_PRINCIPAL_USER)
        return ss_req_fail(r, SS_ERR_FORBIDDEN, "only a user session has a profile");
    if ((rc = ss_body_check(r, me_fields)) != 0 ||
        (rc = acct_kana_field(r, r->body, "name_kana")) != 0)
        return rc;
    snprintf(r->res_id, sizeof(r->res_id), "%s", r->who.sub);
    email = ss_json_str(r->body, "email");
    pw = ss_json_str(r->body, "current_password");
    if (email != NULL && pw == NULL)
        return ss_req_field_error(r, "current_password",
                                  "is required to change the e-mail address");
    if (email == NULL && pw != NULL)
        return ss_req_field_error(r, "current_password", "is asked only with a new email");
    if (email != NULL && (rc = acct_reauth(r, "current_password", pw, NULL)) != 0)
        return rc;
    params[0] = r->who.sub;
    params[1] = ss_json_str(r->body, "name");
    params[2] = ss_json_str(r->body, "name_kana");
    if ((rc = ss_db_acquire(ss_server_db(), &c)) != 0 || (rc = ss_db_begin(c)) != 0 ||
        (rc = ss_db_exec(c, sql_acct_me_update, 3, params, &res)) != 0)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ss_req_fail(r, SS_ERR_NOT_FOUND, "the account no longer exists");
        goto out;
    }
    if (email != NULL && strcasecmp(email, PQgetvalue(res, 0, 1)) != 0 &&
        (rc = acct_email_change_start(r, c, email, &pending)) != 0)
        goto out;
    if ((rc = ss_db_commit(c)) != 0 || (user = acct_json_col(res, 0, 0)) == NULL) {
        rc = rc != 0 ? rc : SS_ERR_INTERNAL;
        goto out;
    }
    if (pending != NULL) {
        json_object_set(user, "pending_email", json_object_get(pending, "new_email"));
        acct_mail_kick();
    }
    rc = ss_reply_json_new(r, 200, user);
    user = NULL;
out:
    json_decref(user);
    json_decref(pending);
    PQclear(res);
    ss_db_release(c);
    return rc;
}
