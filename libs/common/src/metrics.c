/* metrics.c - Prometheus text metrics (http_internal.h): requests and latency histograms by
 * route and status class, the access log's counters, and the process (memory, CPU, threads,
 * descriptors, start time) as the Prometheus client libraries name them. Counters are
 * lock-free atomics; rendering reads them without stopping traffic. */
#include <dirent.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "http_internal.h"
#include "sesshu/audit.h"
#include "sesshu/server.h"

static const double bucket_s[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKETS (sizeof(bucket_s) / sizeof(bucket_s[0]))

typedef struct route_metrics {
    char method[8];
    char path[120];
    atomic_ullong by_class[6]; /* index = status / 100 */
    atomic_ullong dur_us;
    atomic_ullong hist[6][NBUCKETS + 1]; /* by status class, then bucket (last: +Inf) */
    atomic_ullong sum_us[6];
} route_metrics;

static route_metrics *routes;
static int nroutes;
static const char *svc_name = "sesshu";
static time_t started_at;

void ss_metrics_init(const ss_service *svc, int n)
{
    if (routes == NULL)
        routes = calloc((size_t)n, sizeof(route_metrics));
    nroutes = routes ? n : 0;
    svc_name = svc->name;
    started_at = time(NULL);
}

void ss_metrics_route_name(int i, const char *method, const char *path)
{
    if (i < 0 || i >= nroutes)
        return;
    snprintf(routes[i].method, sizeof(routes[i].method), "%s", method);
    snprintf(routes[i].path, sizeof(routes[i].path), "%s", path);
}

void ss_metrics_observe(int i, int status, long long us)
{
    size_t b = 0;

    if (i < 0 || i >= nroutes)
        return;
    int cls = status / 100;
    cls = cls >= 1 && cls <= 5 ? cls : 0;
    while (b < NBUCKETS && (double)us / 1e6 > bucket_s[b])
        b++;
    atomic_fetch_add(&routes[i].by_class[cls], 1);
    atomic_fetch_add(&routes[i].dur_us, (unsigned long long)(us > 0 ? us : 0));
    atomic_fetch_add(&routes[i].hist[cls][b], 1);
    atomic_fetch_add(&routes[i].sum_us[cls], (unsigned long long)(us > 0 ? us : 0));
}

typedef struct buf {
    char *s;
    size_t len, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->s == NULL)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < b->cap - b->len)
            break;
        char *ns = realloc(b->s, b->cap * 2 + (size_t)n);
        if (ns == NULL) {
            free(b->s);
            b->s = NULL;
            return;
        }
        b->s = ns;
        b->cap = b->cap * 2 + (size_t)n;
    }
    b->len += (size_t)n;
}

/* Resident memory and threads from /proc/self/status, descriptors from /proc/self/fd. */
static void process_metrics(buf *b)
{
    struct rusage ru;
    long rss_kb = -1, threads = -1, fds = 0;
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    DIR *d = opendir("/proc/self/fd");

    if (f != NULL) {
        while (fgets(line, sizeof(line), f) != NULL) {
            if (strncmp(line, "VmRSS:", 6) == 0)
                rss_kb = strtol(line + 6, NULL, 10);
            else if (strncmp(line, "Threads:", 8) == 0)
                threads = strtol(line + 8, NULL, 10);
        }
        fclose(f);
    }
    if (d != NULL) {
        while (readdir(d) != NULL)
            fds++;
        closedir(d);
        fds -= 3; /* ".", ".." and the directory's own descriptor */
    }
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        put(b, "# HELP process_cpu_seconds_total User and system CPU time.\n# TYPE "
               "process_cpu_seconds_total counter\n");
        put(b, "process_cpu_seconds_total{service=\"%s\"} %.3f\n", svc_name,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    }
    if (rss_kb >= 0) {
        put(b, "# HELP process_resident_memory_bytes Resident memory.\n# TYPE "
               "process_resident_memory_bytes gauge\n");
        put(b, "process_resident_memory_bytes{service=\"%s\"} %ld\n", svc_name, rss_kb * 1024);
    }
    if (threads >= 0) {
        put(b, "# HELP process_threads Threads of the process.\n# TYPE process_threads gauge\n");
        put(b, "process_threads{service=\"%s\"} %ld\n", svc_name, threads);
    }
    put(b, "# HELP process_open_fds Open file descriptors.\n# TYPE process_open_fds gauge\n");
    put(b, "process_open_fds{service=\"%s\"} %ld\n", svc_name, fds);
    put(b, "# HELP process_max_fds Limit of open file descriptors.\n# TYPE process_max_fds "
           "gauge\n");
    put(b, "process_max_fds{service=\"%s\"} %ld\n", svc_name, sysconf(_SC_OPEN_MAX));
    put(b, "# HELP process_start_time_seconds Start time since the Unix epoch.\n# TYPE "
           "process_start_time_seconds gauge\n");
    put(b, "process_start_time_seconds{service=\"%s\"} %lld\n", svc_name, (long long)started_at);
}

char *ss_metrics_render(void)
{
    buf b = {malloc(8192), 0, 8192};
    ss_audit_stats as;

    put(&b, "# HELP sesshu_http_requests_total Requests answered, by route and status class.\n");
    put(&b, "# TYPE sesshu_http_requests_total counter\n");
    for (int i = 0; i < nroutes; i++) {
        if (routes[i].method[0] == '\0')
            continue;
        for (int c = 1; c <= 5; c++)
            put(&b,
                "sesshu_http_requests_total{service=\"%s\",method=\"%s\",route=\"%s\",code=\"%"
                "dxx\"} %llu\n",
                svc_name, routes[i].method, routes[i].path, c,
                (unsigned long long)atomic_load(&routes[i].by_class[c]));
    }
    put(&b, "# HELP sesshu_http_request_duration_seconds Time from dispatch to answer, access-log "
            "commit included, by route and status class.\n");
    put(&b, "# TYPE sesshu_http_request_duration_seconds histogram\n");
    for (int i = 0; i < nroutes; i++) {
        if (routes[i].method[0] == '\0')
            continue;
        for (int c = 1; c <= 5; c++) {
            unsigned long long cum = 0;
            char labels[256];

            if (atomic_load(&routes[i].by_class[c]) == 0)
                continue; /* a series appears with its first observation */
            snprintf(labels, sizeof(labels),
                     "service=\"%s\",method=\"%s\",route=\"%s\",code=\"%dxx\"", svc_name,
                     routes[i].method, routes[i].path, c);
            for (size_t k = 0; k < NBUCKETS; k++) {
                cum += atomic_load(&routes[i].hist[c][k]);
                put(&b, "sesshu_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", labels,
                    bucket_s[k], cum);
            }
            cum += atomic_load(&routes[i].hist[c][NBUCKETS]);
            put(&b, "sesshu_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", labels,
                cum);
            put(&b, "sesshu_http_request_duration_seconds_sum{%s} %.6f\n", labels,
                (double)atomic_load(&routes[i].sum_us[c]) / 1e6);
            put(&b, "sesshu_http_request_duration_seconds_count{%s} %llu\n", labels, cum);
        }
    }
    ss_audit_get_stats(&as);
    put(&b, "# HELP sesshu_audit_rows_total Access-log rows committed.\n# TYPE "
            "sesshu_audit_rows_total counter\n");
    put(&b, "sesshu_audit_rows_total{service=\"%s\"} %llu\n", svc_name, as.rows);
    put(&b, "# HELP sesshu_audit_batches_total Access-log transactions (group commits).\n# TYPE "
            "sesshu_audit_batches_total counter\n");
    put(&b, "sesshu_audit_batches_total{service=\"%s\"} %llu\n", svc_name, as.batches);
    put(&b, "# HELP sesshu_audit_failures_total Access-log rows that could not be committed.\n# "
            "TYPE sesshu_audit_failures_total counter\n");
    put(&b, "sesshu_audit_failures_total{service=\"%s\"} %llu\n", svc_name, as.failures);
    process_metrics(&b);
    return b.s;
}
