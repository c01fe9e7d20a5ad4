/* audit_it.h - helpers the access-log integration tests share (audit_it.c). Runs against the
 * real test database (scripts/test.sh exports SESSHU_*); tokens are signed with a key made for
 * the run and handed to the service before start. Every test makes its own rows, tagged with a
 * fresh UUID, and looks only at those, so tests run in any order and next to other services'
 * traffic. Tests run without fork: the service's threads and pool live in this process. */
#ifndef AUDIT_IT_H
#define AUDIT_IT_H

#include <check.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "aud.h"
#include "harness.h"
#include "sesshu/audit.h"

/* User tokens of four organisations (national admin, operator user, municipality 990001 user,
 * medical admin), minted by ait_main before the suite runs. */
extern char *ait_tok_national, *ait_tok_muni, *ait_tok_medical, *ait_tok_operator;

/* A user token of a fresh organisation (malloc'd, caller frees; NULL on failure). */
char *ait_mint(int org_type, const char *muni, int role);
/* A row with every text field set, tagged by tag (resource type); rid is its request id. */
ss_audit_row ait_row(const char *rid, const char *tag);
/* First column of a one-row result as a number, -1 otherwise; param may be NULL. */
long long ait_sql_ll(const char *sql, const char *param);
/* A fresh UUID tag. */
void ait_new_tag(char tag[37]);
/* GET as tok; asserts the status, returns the JSON body (caller decrefs). */
json_t *ait_get_json(const char *path, const char *tok, long want);
/* Number of CRLF-terminated lines. */
int ait_count_lines(const char *s);
/* Does the problem's `errors` name this field? */
bool ait_names_field(const json_t *problem, const char *field);
/* A raw libpq session as the service's own role (caller PQfinish-es). */
PGconn *ait_own_conn(void);
/* Run sql on c; its SQLSTATE ("00000" on success) in buf. */
const char *ait_exec_state(PGconn *c, const char *sql, char buf[8]);
/* Start the audit service, mint the tokens, run make()'s suite, stop: the process status. */
int ait_main(Suite *(*make)(void), const char *name);

#endif
