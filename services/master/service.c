/* service.c - the master service's routes. */
#include "mst.h"

static const ss_route mst_routes[] = {
    {NULL, NULL, NULL, 0, 0, NULL},
};

const ss_service mst_service = {
    .name = "master",
    .env_name = "MASTER",
    .schema = "master",
    .default_port = 8105,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = mst_routes,
};
