/* log.h - logging through yder with the function name and request id.
 * Only handlers and main log; library functions return errors. */
#ifndef SESSHU_LOG_H
#define SESSHU_LOG_H

#include <yder.h>

/* Initialise yder to stdout for `service` at the level in SESSHU_LOG_LEVEL. */
int ss_log_init(const char *service);
void ss_log_close(void);

/* Request id of the request the current thread serves ("-" if none). */
const char *ss_log_request_id(void);
void ss_log_set_request_id(const char *rid);

#define SS_LOG(level, fmt, ...) \
    y_log_message((level), "[%s] %s: " fmt, ss_log_request_id(), __func__, ##__VA_ARGS__)
#define SS_ERROR(fmt, ...) SS_LOG(Y_LOG_LEVEL_ERROR, fmt, ##__VA_ARGS__)
#define SS_WARN(fmt, ...)  SS_LOG(Y_LOG_LEVEL_WARNING, fmt, ##__VA_ARGS__)
#define SS_INFO(fmt, ...)  SS_LOG(Y_LOG_LEVEL_INFO, fmt, ##__VA_ARGS__)
#define SS_DEBUG(fmt, ...) SS_LOG(Y_LOG_LEVEL_DEBUG, fmt, ##__VA_ARGS__)

#endif
