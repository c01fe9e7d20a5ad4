/* gateway_import.c - requests the gateway refused itself (429, 413, 400 ...) into the access
 * log, from nginx's JSON access log (deploy/gateway, log_format sesshu).
 *
 * A thread of the audit service reads the file named by SESSHU_AUDIT_GATEWAY_LOG every second
 * from where it stopped. A line with a status >= 400 that no upstream answered ("upstream" "")
 * is a refusal of the gateway's own: it becomes a row of service "gateway", actor "anonymous"
 * (the gateway authenticates nobody), with the request id, method, path (without the query
 * string: it may hold personal data; the gateway logs the client's method and path, req_method
 * and req_path, as an error_page redirect changes $request_method and $uri), status, client address
 * and duration. The rows of a read and the new file offset (audit.gateway_log_offset, migration
 * 006) commit in one transaction, so a restart neither loses nor repeats a refusal. A file that
 * shrank or was replaced (log rotation: another inode) is read from its start. Lines longer than 16
 * KiB are skipped. The same thread keeps the access log's month partitions (partitions_upkeep). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aud.h"
#include "sesshu/audit.h"
#include "sesshu/config.h"
#include "sesshu/err.h"
#include "sesshu/log.h"

#define GW_LINE_MAX  16384
#define GW_BATCH_MAX 500 /* lines per transaction */

static struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running, stop;
    char path[1024];
    ss_db *db;
} gw = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* The row of one refused request, or false when the line is not one. */
static bool refusal(json_t *j, ss_audit_row *row, char *path, size_t n, char *ip, size_t ipn)
{
    const char *rid = json_string_value(json_object_get(j, "request_id"));
    const char *method = json_string_value(json_object_get(j, "req_method"));
    const char *uri = json_string_value(json_object_get(j, "req_path"));
    const char *up = json_string_value(json_object_get(j, "upstream"));
    const char *addr = json_string_value(json_object_get(j, "remote_addr"));
    json_int_t status = json_integer_value(json_object_get(j, "status"));
    double secs = json_number_value(json_object_get(j, "request_time"));

    if (status < 400 || status > 599 || rid == NULL || up == NULL || up[0] != '\0')
        return false;
    if (method == NULL || method[0] == '-')
        method = json_string_value(json_object_get(j, "method"));
    if (uri == NULL)
        uri = json_string_value(json_object_get(j, "uri"));
    if (method == NULL)
        return false;
    snprintf(path, n, "%.*s", uri != NULL ? (int)strcspn(uri, "?") : 0, uri != NULL ? uri : "");
    snprintf(ip, ipn, "%s", addr != NULL ? addr : "");
    memset(row, 0, sizeof(*row));
    row->request_id = rid;
    row->service = "gateway";
    row->actor_kind = "anonymous";
    row->method = method[0] != '\0' ? method : "-";
    row->path = path;
    row->status = (int)status;
    row->client_ip = ip[0] != '\0' ? ip : NULL;
    row->duration_us = (long long)(secs * 1e6);
    return true;
}

/* Read what is new in the file; 0, or an error (tried again at the next tick). */
static int import_once(void)
{
    struct stat st;
    ss_dbc *c = NULL;
    PGresult *res = NULL;
    FILE *f = NULL;
    char inode[32], off[32], *line = NULL;
    const char *p[3] = {gw.path, inode, off};
    long long pos = 0;
    int rc, lines = 0;

    if (stat(gw.path, &st) != 0)
        return 0; /* not there (yet) */
    snprintf(inode, sizeof(inode), "%llu", (unsigned long long)st.st_ino);
    if ((rc = ss_db_acquire(gw.db, &c)) != 0)
        return rc;
    if ((rc = ss_db_begin(c)) != 0 ||
        (rc = ss_db_exec(c, sql_aud_gateway_offset_get, 1, p, &res)) != 0)
        goto out;
    if (PQntuples(res) == 1 && strcmp(ss_db_val(res, 0, 0), inode) == 0)
        pos = strtoll(ss_db_val(res, 0, 1), NULL, 10);
    PQclear(res);
    res = NULL;
    if (pos > (long long)st.st_size)
        pos = 0; /* truncated in place */
    if (pos == (long long)st.st_size)
        goto out; /* nothing new: rolled back on release */
    if ((f = fopen(gw.path, "r")) == NULL || fseeko(f, (off_t)pos, SEEK_SET) != 0 ||
        (line = malloc(GW_LINE_MAX)) == NULL) {
        rc = SS_ERR_INTERNAL;
        goto out;
    }
    while (lines < GW_BATCH_MAX && fgets(line, GW_LINE_MAX, f) != NULL) {
        size_t len = strlen(line);
        json_t *j;
        ss_audit_row row;
        char path[2048], ip[64];

        if (len == 0 || line[len - 1] != '\n') {
            if (len < GW_LINE_MAX - 1)
                break; /* a line still being written: read it next time */
            /* too long: skip to its end */
            while (fgets(line, GW_LINE_MAX, f) != NULL && line[strlen(line) - 1] != '\n')
                ;
            pos = (long long)ftello(f);
            continue;
        }
        lines++;
        j = json_loadb(line, len, 0, NULL);
        if (j != NULL && refusal(j, &row, path, sizeof(path), ip, sizeof(ip)) &&
            (rc = ss_audit_insert_tx(c, &row)) != 0) {
            json_decref(j);
            goto out;
        }
        json_decref(j);
        pos += (long long)len;
    }
    snprintf(off, sizeof(off), "%lld", pos);
    if ((rc = ss_db_exec(c, sql_aud_gateway_offset_put, 3, p, NULL)) == 0)
        rc = ss_db_commit(c);
out:
    if (f != NULL)
        fclose(f);
    free(line);
    PQclear(res);
    ss_db_release(c);
    return rc;
}

/* The access log's month partitions two months ahead (migration 008): at start, then hourly,
 * so a month exists long before its first row (a row past the last partition is refused). */
static void partitions_upkeep(time_t *last)
{
    time_t now = time(NULL);
    int rc;

    if (*last != 0 && now - *last < 3600)
        return;
    rc = ss_db_query(gw.db, sql_aud_partitions_ensure, 0, NULL, NULL);
    if (rc != 0)
        SS_WARN("access-log partitions: %s (retrying)", ss_err_name(rc));
    else
        *last = now;
}

static void *gw_main(void *arg)
{
    bool warned = false;
    time_t upkept = 0;

    (void)arg;
    pthread_mutex_lock(&gw.mu);
    while (!gw.stop) {
        struct timespec until;
        int rc;

        pthread_mutex_unlock(&gw.mu);
        partitions_upkeep(&upkept);
        rc = gw.path[0] != '\0' ? import_once() : 0;
        if (rc != 0 && !warned)
            SS_WARN("gateway log import: %s (retrying)", ss_err_name(rc));
        warned = rc != 0;
        pthread_mutex_lock(&gw.mu);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (!gw.stop && pthread_cond_timedwait(&gw.cv, &gw.mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&gw.mu);
    return NULL;
}

int aud_gateway_import_start(ss_db *db)
{
    const char *path = ss_cfg_str("SESSHU_AUDIT_GATEWAY_LOG", NULL);

    /* The thread runs without a gateway log too: it keeps the partitions. */
    if (path != NULL && strlen(path) >= sizeof(gw.path))
        return SS_ERR_VALIDATION;
    snprintf(gw.path, sizeof(gw.path), "%s", path != NULL ? path : "");
    gw.db = db;
    gw.stop = false;
    if (pthread_create(&gw.thread, NULL, gw_main, NULL) != 0)
        return SS_ERR_INTERNAL;
    gw.running = true;
    return 0;
}

void aud_gateway_import_stop(void)
{
    if (!gw.running)
        return;
    pthread_mutex_lock(&gw.mu);
    gw.stop = true;
    pthread_cond_signal(&gw.cv);
    pthread_mutex_unlock(&gw.mu);
    pthread_join(gw.thread, NULL);
    gw.running = false;
}
