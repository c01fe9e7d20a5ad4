/* mch.h - what the maternal/child health files (H-7) share: the record's JSON, the caller's
 * scope, the checks and the insert used by the single and the bulk write. */
#ifndef REC_MCH_H
#define REC_MCH_H

#include <stdbool.h>

#include "questionnaires/questionnaire.h"
#include "rec.h"

/* Handlers: mch.c (single write), mch_bulk.c (NDJSON), mch_query.c (reads). */
int rec_mch_h_create(ss_req *r);
int rec_mch_h_bulk(ss_req *r);
int rec_mch_h_list(ss_req *r);
int rec_mch_h_get(ss_req *r);
int rec_mch_h_self_list(ss_req *r);

/* The caller's municipality (users and API clients of a municipality); else 403. */
int rec_mch_scope(ss_req *r, const char **muni);
/* A record object's members and typed data (field errors, names as in the body). 0 or
 * SS_ERR_VALIDATION. */
int rec_mch_check(ss_req *r, const json_t *obj);
/* mch_check.c: the kind's data, names prefixed with pfx; examined_on may be NULL. */
int rec_mch_data_check(ss_req *r, const char *kind, const json_t *data, const char *examined_on,
                       const char *pfx);
/* Age window in months (inclusive) of a check-up age code; false for an unknown code. */
bool rec_mch_age_window(const char *checkup_age, int *from_months, int *to_months);
/* Person rules then the insert, on c (caller's transaction). *out: one row (JSON text, id);
 * the caller PQclears it. SS_ERR_VALIDATION (field errors), SS_ERR_CONFLICT (external_id
 * already stored) or a database error. */
int rec_mch_insert(ss_req *r, ss_dbc *c, const json_t *obj, const char *muni, PGresult **out);

#endif
