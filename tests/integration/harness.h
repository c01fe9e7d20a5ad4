/* harness.h - in-process HTTP test harness: start one service's routes on an
 * ephemeral loopback port against the real database (SESSHU_* variables from
 * scripts/test.sh) and call it with libcurl. */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <check.h>
#include <jansson.h>

#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"

/* Tests must run with srunner_set_fork_status(sr, CK_NOFORK): the server
 * threads live in this process. Start the service (migrations, init hook,
 * server) on a free port. Returns
 * the port, or -1 (and prints why). Call once per process. */
int it_start(const ss_service *svc);
void it_stop(void);
/* main() of a suite of one service: the run's signing key, the service started, the suite run
 * without fork, everything stopped again. Returns the process exit status. */
int it_main(const ss_service *svc, Suite *suite);

typedef struct it_resp {
    long status;
    json_t *json; /* parsed body when it is JSON, else NULL */
    char *raw;    /* body as received (NUL-terminated) */
    char content_type[128];
    char request_id[80];   /* X-Request-Id answered */
    char next_cursor[256]; /* X-Next-Cursor answered (CSV pages), or "" */
} it_resp;

/* One request. bearer and body may be NULL; body is sent as
 * application/json unless content_type says otherwise. 0 or -1. */
int it_call(const char *method, const char *path, const char *bearer, const char *body,
            it_resp *out);
int it_call_ct(const char *method, const char *path, const char *bearer, const char *body,
               const char *content_type, it_resp *out);
/* GET with an Accept header (e.g. text/csv); accept may be NULL. 0 or -1. */
int it_get_accept(const char *path, const char *bearer, const char *accept, it_resp *out);
/* One request that must answer `expect` (a check assertion otherwise, naming the answer); an
 * answer of 400 or more must be problem+json. Returns the JSON body (new reference) or NULL. */
json_t *it_expect(const char *method, const char *path, const char *bearer, const char *body,
                  long expect);
void it_resp_free(it_resp *r); /* NULL-safe; frees json and raw */

/* A fresh EC P-256 signing key in a private temporary directory, named by
 * SESSHU_JWT_SIGNING_KEY_FILE, for tests that mint their own tokens. 0 or -1.
 * it_drop_signing_key removes it. */
int it_make_signing_key(void);
void it_drop_signing_key(void);

/* A user token for a made-up user of a made-up organisation (fresh uuids for user, organisation
 * and session; login "it-<user>"), signed with the run's key (it_make_signing_key), valid an
 * hour. org_code, muni and pref may be NULL (none); org_id (room for 40) receives the
 * organisation's id when not NULL. NULL when it cannot be signed (no check assertion here:
 * some suites mint before their tests run). */
char *it_user_token(int org_type, int role, const char *org_code, const char *muni,
                    const char *pref, char *org_id);

/* Run SQL as the service's own database user (for setup and checks).
 * Returns the first column of the first row as a malloc'd string (or NULL). */
char *it_sql_value(const char *sql);

/* Prepare every statement of a service's sql/ files (its <prefix>_sql_all) against the migrated
 * schema through the running service's pool (ss_sql_check); prints the first failure. 0 or -1. */
int it_sql_prepare_all(const ss_sql_stmt *all);

/* The whole main() of a service without an in-process suite of its own: one test that opens a
 * pool as the service's own database user (no server: scripts/test.sh exports SESSHU_DB_*, and
 * the stack has run the migrations) and prepares every statement of `all` (ss_sql_check), as
 * suite "<svc>_sql". Returns the exit status. */
int it_sql_files_main(const ss_service *svc, const ss_sql_stmt *all);

#endif
