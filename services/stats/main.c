/* main.c - sesshu-stats: published vaccination statistics (H-6); see service.c. Its service
 * tokens (to the records service's internal feed) are signed with a key of its own,
 * SESSHU_STATS_SIGNING_KEY_FILE (the library's server.c takes it). */
#include "sesshu/server.h"
#include "stat.h"

int main(int argc, char **argv)
{
    return ss_server_run(&stat_service, argc, argv);
}
