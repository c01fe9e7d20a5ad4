/* service.c - the records service's routes.
 *
 * One table; each group of routes is kept together under its flow. Static paths never share a
 * method and depth with a /:id pattern, so route order does not matter to ulfius. */
#include "rec.h"
#include "sesshu/err.h"

#ifndef SS_MIGRATIONS_DIR
#define SS_MIGRATIONS_DIR "services/records/migrations"
#endif

static const ss_route routes[] = {
    /* ---- H-3: persons, records, linkage, staff queries ---- */

    /* ---- H-3-3: vaccinee self-view; FHIR ---- */

    /* ---- H-4 questionnaires, H-7 maternal/child health ---- */

    {NULL, NULL, NULL, 0, 0, NULL},
};

const ss_service rec_service = {
    .name = "records",
    .env_name = "RECORDS",
    .schema = "records",
    .default_port = 8103,
    .migrations_dir = SS_MIGRATIONS_DIR,
    .routes = routes,
};
