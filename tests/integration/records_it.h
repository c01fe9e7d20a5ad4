/* records_it.h - what the records integration tests share (records_it.c): day-number dates, the
 * table of rule cases and how one is run. Tests run against the real test database
 * (scripts/test.sh exports SESSHU_*), without fork, with a municipality token minted for the run;
 * each case makes its own person, so cases run in any order next to other traffic. */
#ifndef RECORDS_IT_H
#define RECORDS_IT_H

#include <jansson.h>

#include "harness.h"
#include "rec.h"

#define MUNI "131130"

#define V_5     "631300101"
#define V_4     "631300301"
#define V_DT    "631300501"
#define V_MR    "631300601"
#define V_BCG   "631300801"
#define V_HIB   "631300901"
#define V_PCV20 "631301001"
#define V_HEPB  "631301201"
#define V_ROTA1 "631301401"
#define V_ROTA5 "631301501"
#define V_VZ    "631301601"
#define V_JE    "631301701"
#define V_HPV9  "631301901"
#define V_HPV2  "631302001"
#define V_RSV   "631302101"
#define V_FLU   "631302201"
#define V_COVID "182110901"
#define V_PPSV  "631302401"
#define V_RZV   "631302701"
#define V_MUMPS "631302901"

/* ---- dates as day numbers (days since 1970-01-01) ---- */
long days_from_civil(int y, int m, int d);
void civil(long z, int *y, int *m, int *d);
int mdays(int y, int m);
/* The same day n months later; when it does not exist, the 1st of the next month (§1.1). */
long sdl(long t, int n);
long ymd(int y, int m, int d);
long today_jp(void);
void iso(long t, char out[11]);
/* The anchor: the 15th of the month two months back (set_anchor). */
extern long g_A;
void set_anchor(void);
/* A birth date such that the dose on A is `delta` days after 生後n月に至った日 M(n). */
long born_m(int n, int delta);
/* ... after birth + n days (出生n週0日後 = 7n days). */
long born_d(int n, int delta);

/* ---- cases ---- */
typedef struct dose {
    const char *vaccine; /* NULL: none */
    int dose;
    long on;
    int weeks;       /* pregnancy weeks, -1 none */
    const char *lot; /* NULL: none, with source handbook */
} dose;

typedef struct tcase {
    char name[120];
    long birth;
    char sex;
    const char *status; /* NULL, "deceased", "moved_out" */
    long status_on;
    dose hist[4];
    dose now;
    const char *outcome;  /* recorded, refused, duplicate */
    const char *category; /* routine, voluntary, or NULL (any) */
    const char *rule;     /* must be hit, or NULL */
    const char *no_rule;  /* must not be hit, or NULL */
    const char *sched;    /* the schedule row that governs it, or NULL (any) */
    /* a condition of the person entered through POST /persons/:id/conditions (NULL: none):
     * kind, disease codes ("a,b") or NULL, valid_from, valid_to (0: open), revoked afterwards */
    const char *cond;
    const char *cond_dz;
    long cond_from, cond_to;
    long cond_evidence_on; /* the condition's evidence_on (0: none) */
    int cond_revoked;
    long edd;    /* an H-7 pregnancy record with this expected delivery date (0: none) */
    int fix;     /* 1-based history dose to correct (or void) instead of checking `now` */
    long fix_on; /* the corrected vaccination date */
    int fix_void;
} tcase;

#define RT_MAX_CASES 400
extern tcase g_cases[RT_MAX_CASES];
extern int g_n;
extern char *g_tok; /* a municipality user's token (MUNI) */

tcase *add(const char *name, long birth, char sex, dose now, const char *outcome,
           const char *category, const char *rule, const char *no_rule);
dose D(const char *v, int n, long on);
/* Four cases at the edges of a window given in months (m_from, m_to) or days (d_from, d_to;
 * -1 = unused): the day before, the first day, the last day, the day after. */
void window4(const char *what, const char *v, int dose_n, int m_from, int d_from, int m_to,
             int d_to, const char *before_outcome, const char *before_rule);
/* Two cases at a day interval "N日以上": d+N is short, d+N+1 is the first day allowed. */
void interval_days(const char *what, const char *v, int dose_n, int n, long birth);
/* Two cases at a month interval "N月以上": the same date N months later, and the day before. */
void interval_months(const char *what, const char *v, int dose_n, int n, long birth, char sex);

/* ---- running ---- */
char *person_sql(const tcase *c);                  /* a new person's id (malloc'd) */
json_t *dose_body(const char *pid, const dose *d); /* a registration body (new reference) */
int rule_hit(const json_t *doc, const char *code); /* in "rules" (check) or "errors" */
int run_case(const tcase *c);                      /* 0 when the case holds, else 1 (printed) */
int run_cases(void);                               /* every case of g_cases; the failures */
char *mint_muni(void);

#endif
