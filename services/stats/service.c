/* service.c - the stats service's routes (H-6). The public datasets (H-6-2) need no login; the
 * gateway adds CORS for any origin on /api/v1/stats/ (deploy/gateway). The analytics (H-6-1)
 * need analytics.read (厚生労働省 staff, the library's matrix). */
#include <stdlib.h>

#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/server.h"
#include "stat.h"

static const ss_route routes[] = {
    {"GET", "/api/v1/stats/datasets", stat_h_index, SS_PERM_PUBLIC, 0, "stats_dataset"},
    {"GET", "/api/v1/stats/datasets/:name", stat_h_dataset, SS_PERM_PUBLIC, 0, "stats_dataset"},
    {"GET", "/api/v1/analytics/immunizations", stat_h_analytics, SS_PERM_ANALYTICS_READ, 0,
     "stats_analytics"},
    {NULL, NULL, NULL, 0, 0, NULL},
};

static long k_value = 10, max_age = 60, max_lag_ms = 5000;

long stat_k(void)
{
    return k_value;
}

long stat_max_age(void)
{
    return max_age;
}

long stat_max_lag_ms(void)
{
    return max_lag_ms;
}

static int stat_init(ss_db *db)
{
    int rc;

    (void)db;
    if ((rc = ss_cfg_long(STAT_ENV_K, 10, 2, 1000, &k_value)) != 0 ||
        (rc = ss_cfg_long(STAT_ENV_MAX_AGE, 60, 0, 86400, &max_age)) != 0 ||
        (rc = ss_cfg_long(STAT_ENV_MAX_LAG, 5000, 0, 3600000, &max_lag_ms)) != 0 ||
        (rc = stat_feed_init()) != 0)
        return rc;
    /* The first refresh (the first read) renders the outputs. */
    return 0;
}

const ss_service stat_service = {
    .name = "stats",
    .env_name = "STATS",
    .schema = "stats",
    .default_port = SS_PORT_STATS,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = routes,
    .init = stat_init,
    .shutdown = stat_feed_free,
};
