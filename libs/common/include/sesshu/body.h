/* body.h - JSON bodies: limits, declarative checks, JSON text in and out (split from http.h, issue
 * 16 §4). */
#ifndef SESSHU_BODY_H
#define SESSHU_BODY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "sesshu/http.h"

/* Limits on JSON bodies (size comes from SESSHU_MAX_BODY_BYTES). */
#define SS_JSON_MAX_DEPTH  16
#define SS_JSON_MAX_STRING 65536

/* How JSON is written, to a client or into the database: compact, and reals with 15
 * significant digits, which every decimal of up to 15 digits survives (8.8 stays 8.8, not the
 * binary double's 8.8000000000000007). */
#define SS_JSON_COMPACT (JSON_COMPACT | JSON_REAL_PRECISION(15))

enum ss_ftype {
    SS_F_STRING = 1, /* non-empty unless min==0; length in code points in [min,max] */
    SS_F_INT,        /* integer in [min,max] */
    SS_F_BOOL,
    SS_F_DATE,  /* YYYY-MM-DD, a real calendar date */
    SS_F_EMAIL, /* local@domain, <= 254 bytes */
    SS_F_ENUM,  /* string in `values` */
    SS_F_OBJECT,
    SS_F_ARRAY,     /* length in [min,max] */
    SS_F_TIMESTAMP, /* ISO 8601 with offset */
};
typedef struct ss_field {
    const char *name;
    int type; /* enum ss_ftype */
    bool required;
    long long min, max;        /* string length / int range / array length; 0,0 = defaults */
    const char *const *values; /* SS_F_ENUM: NULL-terminated */
    bool nullable;             /* JSON null accepted (means "clear") */
} ss_field;
/* Check obj against fields (terminated by name NULL): unknown members,
 * missing required members, wrong types, out-of-range values are each
 * recorded with ss_req_field_error(). Returns 0 or SS_ERR_VALIDATION. */
int ss_json_check(ss_req *r, const json_t *obj, const ss_field *fields);
/* Body must be present and pass ss_json_check. */
int ss_body_check(ss_req *r, const ss_field *fields);
/* Member as string or NULL (borrowed from the JSON). */
const char *ss_json_str(const json_t *obj, const char *key);

/* A JSON text column parsed (new reference, caller decrefs); NULL for SQL NULL or bad JSON. */
json_t *ss_json_col(const PGresult *res, int row, int col);

#endif
