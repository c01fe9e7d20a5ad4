/* log.c - yder initialisation and the per-thread request id (log.h). */
#include "sesshu/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sesshu/config.h"

static _Thread_local char tl_request_id[72] = "-";

const char *ss_log_request_id(void)
{
    return tl_request_id;
}

void ss_log_set_request_id(const char *rid)
{
    snprintf(tl_request_id, sizeof(tl_request_id), "%s", (rid && rid[0]) ? rid : "-");
}

/* Initialised once a process (ss_server_run before reading its configuration, so that a
 * configuration error is logged like everything else); ss_log_close undoes it. */
static bool log_ready;

int ss_log_init(const char *service)
{
    if (log_ready)
        return 0;
    const char *lvl = ss_cfg_str(SS_ENV_LOG_LEVEL, "info");
    unsigned long level = Y_LOG_LEVEL_INFO;

    if (!strcasecmp(lvl, "error"))
        level = Y_LOG_LEVEL_ERROR;
    else if (!strcasecmp(lvl, "warning"))
        level = Y_LOG_LEVEL_WARNING;
    else if (!strcasecmp(lvl, "debug"))
        level = Y_LOG_LEVEL_DEBUG;
    log_ready = y_init_logs(service, Y_LOG_MODE_CONSOLE, level, NULL, "starting") != 0;
    return log_ready ? 0 : -1;
}

void ss_log_close(void)
{
    if (log_ready)
        y_close_logs();
    log_ready = false;
}
