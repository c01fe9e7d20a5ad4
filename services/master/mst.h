/* mst.h - what the master service's files share: the master descriptors, their statements,
 * the row validator, the write engine and the handlers.
 *
 * Every master is described once (masters.c): its columns (keys first), who may edit it and
 * which column names the owner. Its statements are written from the descriptor into
 * sql/masters.sql by sqlgen/sqlgen.c (identifiers only; every value is a $n parameter or goes
 * through COPY) and looked up by name at start-up (sql.c). */
#ifndef MST_H
#define MST_H

#include <stdbool.h>
#include <stddef.h>

#include "mst_sql.h" /* generated from sql/<resource>.sql (cmake/sesshu_sql.cmake) */
#include "sesshu/csv.h"
#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"

/* The service (service.c); main.c runs it, tests start it in-process. */
extern const ss_service mst_service;

#define MST_MAX_COLS   32 /* columns of the widest master (schedules: 27) */
#define MST_MAX_KEYS   3
#define MST_MAX_ROWS   200000   /* rows in one import */
#define MST_LIST_MAX   1000     /* diff entries listed per kind in an import answer */
#define MST_IMPORT_MAX 33554432 /* import body bytes (32 MiB); others keep the library limit */

enum mst_type {
    MST_TEXT = 1, /* text, char(n), domains over text */
    MST_INT,
    MST_BOOL,
    MST_DATE,
    MST_INTERVAL,
    MST_NUMERIC,
    MST_TEXT_ARRAY, /* text[]; "a|b" in CSV, an array of strings in JSON */
};

/* How a value is checked beyond its type. */
enum mst_check {
    MST_C_NONE = 0,
    MST_C_CODE, /* [A-Za-z0-9][A-Za-z0-9_.-]{0,31} */
    MST_C_PREF, /* 01..47 */
    MST_C_MUNI, /* 全国地方公共団体コード with check digit */
    MST_C_INST, /* 医療機関コード or non-insurance pseudo-code (kind decides, row check) */
    MST_C_VACCINE, /* HOT9/HOT13/YJ */
    MST_C_DIGITS,  /* exactly `max` ASCII digits (Zengin codes) */
    MST_C_LOT,     /* [A-Za-z0-9-]{1,20} */
    MST_C_ENUM,    /* one of `values` */
    MST_C_HANKANA, /* Zengin half-width kana, A-Z, 0-9, space and ().-/ */
};

typedef struct mst_col {
    const char *name;
    int type;            /* enum mst_type */
    const char *sqltype; /* for casts of parameters: "text", "int", "date", ... */
    bool required;
    int check;                 /* enum mst_check */
    long min, max;             /* text: code points (max 0 = 200); int: range; digits: count */
    const char *const *values; /* MST_C_ENUM */
} mst_col;

/* Who owns a row, for the organisations that edit only their own rows. */
enum mst_own { MST_OWN_NONE = 0, MST_OWN_MUNI, MST_OWN_ORG_CODE, MST_OWN_PREF };

typedef struct mst_sql mst_sql; /* built SQL of one master (sql.c) */

typedef struct mst_master {
    const char *name;    /* URL segment and table name */
    const char *label;   /* 日本語 */
    const mst_col *cols; /* keys first; terminated by name NULL */
    int nkeys;
    unsigned editors;     /* bit (1 << SS_ORG_*) per org type that edits every row */
    unsigned own_editors; /* org types that edit the rows they own */
    int own_col;          /* column naming the owner (own_editors) */
    int own_kind;         /* enum mst_own */
    /* Cross-column rule on a valid row: NULL or a reason. */
    const char *(*row_check)(const char *const *vals);
    mst_sql *sql; /* filled by mst_sql_build */
    int ncols;    /* filled by mst_sql_build */
} mst_master;

#define MST_ORG(t) (1u << (t))

/* The masters (masters.c). */
extern mst_master mst_masters[];
/* By URL segment; NULL if unknown. */
mst_master *mst_find(const char *name);

/* ---- a master's statements (sql/masters.sql, generated from the descriptor by sqlgen/) -- */
struct mst_sql {
    const char *list; /* $1 as_of, $2.. one filter per scalar column, then keys (cursor), limit */
    const char *get;  /* $1 as_of, $2.. keys */
    const char *history;   /* $1.. keys */
    const char *changes;   /* $1 since change, $2 since version, $3 limit */
    const char *export_;   /* $1 as_of */
    const char *stage;     /* DELETE the transaction's rows of stage_<master> (005_stage.sql) */
    const char *copy;      /* COPY stage_<master> FROM STDIN */
    const char *diff;      /* INSERT INTO stage_diff: the op of every staged line */
    const char *diff_list; /* the listed entries of stage_diff, with before/after */
    const char *missing;   /* $1 effective date, $2 owner or NULL: current keys not staged */
    const char
        *supersede;     /* $1 batch: supersede what the staged rows overlap, re-insert the rest */
    const char *insert; /* $1 source, $2 created_by: the staged rows as new versions */
    const char *retire; /* $1 effective date, $2 owner or NULL, $3 batch: retire missing keys */
    const char *retire_key; /* $1 batch, $2 last day, $3.. keys: end one key */
    const char *lock;       /* LOCK TABLE */
    const char *written;    /* $1 batch: the current versions written by it, newest last */
    const char *analyze;    /* ANALYZE the master (after a large write, apply.c) */
    int list_nparams;
};
/* Point every master at its statements of sql/masters.sql (sql.c). 0, SS_ERR_NOMEM, or
 * SS_ERR_INTERNAL when one is missing (masters.sql is stale). */
int mst_sql_build(void);
void mst_sql_free(void);

/* ---- values and rows (row.c) ------------------------------------------------------------ */
/* One column's text (CSV field or JSON scalar as text) checked and appended to a COPY line
 * (escaped; empty -> \N). NULL on success, else a static reason. */
const char *mst_value_copy(const mst_col *c, const char *text, ss_buf *copy);
/* The owner value of a row for the principal's edit right: NULL if the principal may edit
 * this row, else a static reason. own is the row's owner column value (or NULL). */
const char *mst_row_owner_ok(const mst_master *m, const ss_principal *p, const char *own);
/* May the principal edit this master at all (every row or its own)? */
bool mst_may_edit(const mst_master *m, const ss_principal *p);
/* The owner value the principal's own rows carry (muni code, org code, prefecture), or NULL
 * when it edits every row. */
const char *mst_owner_of(const mst_master *m, const ss_principal *p);
/* The source recorded for the principal's writes. */
const char *mst_source_of(const ss_principal *p);

/* ---- the write engine (apply.c) --------------------------------------------------------- */
enum mst_strategy { MST_INSERT_ONLY = 1, MST_UPDATE_ONLY, MST_UPSERT };

/* Rows already checked, as COPY text lines "line\tcol...\tvalid_from\tvalid_to\n". */
typedef struct mst_batch {
    mst_master *m;
    ss_buf copy;
    long nrows;
    int strategy;
    bool dry_run;
    bool retire_missing;
    char effective[11]; /* YYYY-MM-DD: default valid_from, retire date */
    const char *source;
    const char *owner; /* the principal's own-row value, or NULL (edits every row) */
    json_t *errors;    /* [{line, field?, reason}] found so far (owned) */
    long nerrors;
    long strategy_errors; /* rows refused by the strategy (key exists / no such key) */
    const char *created_by;
    const ss_principal *who;
    bool poison; /* the next row already has an error (set by mst_json_texts) */
    /* Keys seen so far (duplicate detection): open addressing over "k1~k2~k3" strings. */
    char **keys;
    long *key_lines;
    size_t kcap, kn;
} mst_batch;

/* A value that was already refused (wrong JSON type): vals[i] == mst_bad. */
extern const char mst_bad[];
/* Check one row given as text (vals[i] for column i, then valid_from, valid_to; NULL or ""
 * = absent) and append it to the COPY text. Row errors go to b->errors (0 returned); a row
 * the principal may not edit returns SS_ERR_FORBIDDEN; SS_ERR_NOMEM. */
int mst_stage_row(mst_batch *b, const char *const *vals, long line);
/* A JSON object row as texts for mst_stage_row: vals (MST_MAX_COLS + 2 entries) point into
 * store (bufsz bytes). Unknown members and wrong types are row errors: the row is marked so
 * that mst_stage_row still checks the rest but never stages it. 1 when the row cannot be
 * checked further (not an object, too long); 0 otherwise. */
int mst_json_texts(mst_batch *b, const json_t *row, long line, const char **vals, char *store,
                   size_t bufsz);

/* Stage, diff and, unless dry_run or any error, apply all in one transaction. 0 and
 * *result (new reference): {master, strategy, dry_run, effective_date, rows, counts{added,
 * changed, unchanged, retired, errors}, added[], changed[], retired[], errors[], committed,
 * change, written[]}; or a negative SS_ERR_* (nothing applied). Replies nothing. */
int mst_apply(ss_req *r, mst_batch *b, json_t **result);
/* Append a row error to b->errors (capped); always counts it. */
void mst_batch_error(mst_batch *b, long line, const char *field, const char *reason);
void mst_batch_free(mst_batch *b);

/* ---- helpers (service.c) ---------------------------------------------------------------- */
/* The master named by :master, or a 404 through ss_req_fail (returns NULL, *rc set). */
mst_master *mst_req_master(ss_req *r, int *rc);
/* ?as_of= (default: today in Japan) into buf (11 bytes). 0 or SS_ERR_VALIDATION. */
int mst_as_of(ss_req *r, char *buf);
/* Split a :key path segment "a~b~c" into m->nkeys values (buf holds them). 0 or 404. */
int mst_split_key(ss_req *r, const mst_master *m, const char *key, char *buf, size_t bufsz,
                  const char **vals);
/* Today's date in Japan (Asia/Tokyo), YYYY-MM-DD into buf (11 bytes). */
void mst_today(char *buf);
/* The table's change counter (ETag basis). 0 or an error. */
int mst_last_change(const mst_master *m, long long *out);
/* Weak ETag of a read; answers 304 (returns 1) when If-None-Match matches, else sets the
 * ETag header and returns 0; negative on error. */
int mst_etag(ss_req *r, const mst_master *m, const char *as_of);
/* Every query parameter must be in allowed (NULL-terminated) or a column name when
 * allow_cols. 0 or SS_ERR_VALIDATION. */
int mst_check_params(ss_req *r, const mst_master *m, const char *const *allowed, bool allow_cols);

/* ---- handlers --------------------------------------------------------------------------- */
int mst_h_index(ss_req *r); /* read.c */
int mst_h_list(ss_req *r);
int mst_h_get(ss_req *r);
int mst_h_history(ss_req *r);
int mst_h_changes(ss_req *r);
int mst_h_create(ss_req *r); /* write.c */
int mst_h_update(ss_req *r);
int mst_h_retire(ss_req *r);
int mst_h_import(ss_req *r); /* import.c */
int mst_h_export(ss_req *r); /* export.c */

#endif
