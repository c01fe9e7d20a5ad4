/* config.c - configuration from environment variables (config.h). */
#include "sesshu/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sesshu/err.h"
#include "sesshu/log.h"

const char *ss_cfg_str(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : def;
}

int ss_cfg_long(const char *name, long def, long min, long max, long *out)
{
    const char *v = getenv(name);
    char *end = NULL;
    long n;

    if (v == NULL || v[0] == '\0') {
        *out = def;
        return 0;
    }
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
        SS_ERROR("configuration: %s must be an integer in [%ld, %ld]", name, min, max);
        return SS_ERR_VALIDATION;
    }
    *out = n;
    return 0;
}

int ss_cfg_bool(const char *name, bool def, bool *out)
{
    const char *v = getenv(name);

    if (v == NULL || v[0] == '\0') {
        *out = def;
        return 0;
    }
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no")) {
        *out = false;
        return 0;
    }
    SS_ERROR("configuration: %s must be true or false", name);
    return SS_ERR_VALIDATION;
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;

    if (f == NULL)
        return NULL;
    buf = malloc(4097);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, 4096, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

char *ss_cfg_secret(const char *name)
{
    char fname[160];
    const char *v = getenv(name);
    const char *path;

    if (v != NULL && v[0] != '\0')
        return strdup(v);
    snprintf(fname, sizeof(fname), "%s_FILE", name);
    path = getenv(fname);
    if (path == NULL || path[0] == '\0')
        return NULL;
    return read_small_file(path);
}
