/* ntc.h - what the notice service's files share: the service, its handlers,
 * the author check and small request helpers. */
#ifndef NTC_H
#define NTC_H

#include <stdbool.h>

#include "ntc_sql.h" /* generated from sql/<resource>.sql (cmake/sesshu_sql.cmake) */
#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"

/* The service (service.c); main.c runs it, tests start it in-process. */
extern const ss_service ntc_service;

/* Author side (notices.c). */
int ntc_h_create(ss_req *r);
int ntc_h_patch(ss_req *r);
int ntc_h_withdraw(ss_req *r);
int ntc_h_authored(ss_req *r);
int ntc_h_history(ss_req *r);

/* Reader side (reading.c). */
int ntc_h_list(ss_req *r);
int ntc_h_unread_count(ss_req *r);
int ntc_h_mark_read(ss_req *r);

/* May the principal post notices? The library's notices.post permission,
 * and a 国保連合会 must carry its prefecture (its audience is pinned to it). */
bool ntc_is_author(const ss_principal *p);
/* Guard at the start of every author handler: 0, or a 403 through ss_req_fail. */
int ntc_require_author(ss_req *r);
/* Guard for reader handlers: a user session (read marks are per user). */
int ntc_require_user(ss_req *r);

#endif
