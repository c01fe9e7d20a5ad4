/* service.c - the notice service's routes and shared request helpers.
 *
 * Every route needs only an authenticated principal: whether the caller may
 * author notices is the library's permission notices.post on the author
 * routes, plus ntc_require_author() (a 国保連合会 must have its prefecture). Static
 * paths never share a method and depth with a /:id pattern, so route order
 * does not matter to ulfius. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntc.h"
#include "sesshu/err.h"
#include "sesshu/server.h"

#define AUTH   SS_PERM_AUTHENTICATED
#define AUTHOR SS_PERM_NOTICES_POST

static const ss_route ntc_routes[] = {
    {"POST", "/api/v1/notices", ntc_h_create, AUTHOR, 0, "notice"},
    {"GET", "/api/v1/notices", ntc_h_list, AUTH, 0, "notice"},
    {"GET", "/api/v1/notices/authored", ntc_h_authored, AUTHOR, 0, "notice"},
    /* /me asks for this on behalf of a session that may still hold a temporary password. */
    {"GET", "/api/v1/notices/unread-count", ntc_h_unread_count, AUTH, SS_ROUTE_TEMP_PW_OK,
     "notice"},
    {"PATCH", "/api/v1/notices/:id", ntc_h_patch, AUTHOR, 0, "notice"},
    {"POST", "/api/v1/notices/:id/withdraw", ntc_h_withdraw, AUTHOR, 0, "notice"},
    {"GET", "/api/v1/notices/:id/history", ntc_h_history, AUTHOR, 0, "notice"},
    {"POST", "/api/v1/notices/:id/read", ntc_h_mark_read, AUTH, 0, "notice"},
    {NULL, NULL, NULL, 0, 0, NULL},
};

const ss_service ntc_service = {
    .name = "notice",
    .env_name = "NOTICE",
    .schema = "notice",
    .default_port = SS_PORT_NOTICE,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = ntc_routes,
};

bool ntc_is_author(const ss_principal *p)
{
    /* The library's matrix decides; a 国保連合会 needs its prefecture to pin the audience. */
    return ss_authz_has(p, SS_PERM_NOTICES_POST) &&
           (p->org_type != SS_ORG_KOKUHOREN || p->pref_code[0] != '\0');
}

int ntc_require_author(ss_req *r)
{
    if (ntc_is_author(&r->who))
        return 0;
    return ss_req_fail(r, SS_ERR_FORBIDDEN,
                       "only 国保中央会, 厚生労働省, the operator and a "
                       "国保連合会 post notices");
}

int ntc_require_user(ss_req *r)
{
    if (r->who.kind == SS_PRINCIPAL_USER)
        return 0;
    return ss_req_fail(r, SS_ERR_FORBIDDEN, "notices are read by user sessions");
}
