/* stats_sql_test.c - every statement of services/stats/sql prepares against the migrated schema
 * (it_sql_files_main, harness.h). The stats service has no in-process suite (its behaviour is
 * tested over HTTP, tests/api/stats*.test.mjs). */
#include "harness.h"
#include "stat.h"

int main(void)
{
    return it_sql_files_main(&stat_service, stat_sql_all);
}
