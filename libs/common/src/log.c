/* log.c - yder initialisation and the per-thread request id (log.h). */
#include "sesshu/log.h"

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

int ss_log_init(const char *service)
{
    const char *lvl = ss_cfg_str(SS_ENV_LOG_LEVEL, "info");
    unsigned long level = Y_LOG_LEVEL_INFO;

    if (!strcasecmp(lvl, "error"))
        level = Y_LOG_LEVEL_ERROR;
    else if (!strcasecmp(lvl, "warning"))
        level = Y_LOG_LEVEL_WARNING;
    else if (!strcasecmp(lvl, "debug"))
        level = Y_LOG_LEVEL_DEBUG;
    return y_init_logs(service, Y_LOG_MODE_CONSOLE, level, NULL, "starting") ? 0 : -1;
}

void ss_log_close(void)
{
    y_close_logs();
}
