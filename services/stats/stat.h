/* stat.h - what the stats service's files share: the service, its handlers, the refresh
 * from the records feed and the rendering of the published datasets. */
#ifndef STAT_H
#define STAT_H

#include <stdbool.h>

#include "sesshu/http.h"
#include "sesshu/server.h"
#include "sesshu/sql.h"
#include "stat_sql.h"

#define STAT_ENV_REFRESH_MS    "SESSHU_STATS_REFRESH_MS"    /* least ms between two refreshes */
#define STAT_ENV_K             "SESSHU_STATS_K"             /* small-cell threshold */
#define STAT_ENV_MAX_AGE       "SESSHU_STATS_MAX_AGE_S"     /* Cache-Control max-age */
#define STAT_ENV_MAX_LAG       "SESSHU_STATS_MAX_LAG_MS"    /* analytics on a standby: bound */
#define STAT_ENV_PSEUDONYM_KEY "SESSHU_STATS_PSEUDONYM_KEY" /* HMAC key of the person key */

/* The service (service.c); main.c runs it, tests start it in-process. */
extern const ss_service stat_service;

/* Settings read at start (service.c). */
long stat_k(void);
long stat_max_age(void);
long stat_max_lag_ms(void);

/* One published dataset (datasets.c). The SQL (sql/datasets.sql) takes $1 = k and returns the
 * columns in order;
 * types has one letter a column: t text, i integer, r real, b boolean (a NULL is null in
 * NDJSON, empty in CSV: a suppressed count). */
typedef struct stat_dataset {
    const char *name;
    const char *title;
    const char *description;
    const char *sql;
    const char *const *columns;
    const char *types;
} stat_dataset;
extern const stat_dataset stat_datasets[];
const stat_dataset *stat_dataset_find(const char *name);

/* Render every dataset into stats.outputs (render.c); 0 or a negative SS_ERR_*. */
int stat_render_all(void);

/* Refresh from the records feed (feed.c): single flight, at most every SESSHU_STATS_REFRESH_MS;
 * re-renders the outputs when anything changed. 0 or a negative SS_ERR_*. */
int stat_refresh(void);
int stat_feed_init(void);
void stat_feed_free(void);

/* Handlers (datasets.c). */
int stat_h_index(ss_req *r);
int stat_h_dataset(ss_req *r);
/* GET /api/v1/analytics/immunizations (analytics.c). */
int stat_h_analytics(ss_req *r);

#endif
