/* metrics.c - Prometheus text metrics per route (http_internal.h). Counters
 * are lock-free atomics; rendering reads them without stopping traffic. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "sesshu/audit.h"

static const double bucket_s[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKETS (sizeof(bucket_s) / sizeof(bucket_s[0]))

typedef struct route_metrics {
    char method[8];
    char path[120];
    atomic_ullong by_class[6]; /* index = status / 100 */
    atomic_ullong dur_us;
} route_metrics;

static route_metrics *routes;
static int nroutes;
static atomic_ullong hist[NBUCKETS + 1];
static atomic_ullong hist_count, hist_sum_us;
static const char *svc_name = "sesshu";

void ss_metrics_init(const ss_service *svc, int n)
{
    if (routes == NULL)
        routes = calloc((size_t)n, sizeof(route_metrics));
    nroutes = routes ? n : 0;
    svc_name = svc->name;
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

    if (i >= 0 && i < nroutes) {
        int cls = status / 100;
        atomic_fetch_add(&routes[i].by_class[(cls >= 1 && cls <= 5) ? cls : 0], 1);
        atomic_fetch_add(&routes[i].dur_us, (unsigned long long)(us > 0 ? us : 0));
    }
    while (b < NBUCKETS && (double)us / 1e6 > bucket_s[b])
        b++;
    atomic_fetch_add(&hist[b], 1);
    atomic_fetch_add(&hist_count, 1);
    atomic_fetch_add(&hist_sum_us, (unsigned long long)(us > 0 ? us : 0));
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

char *ss_metrics_render(void)
{
    buf b = {malloc(8192), 0, 8192};
    unsigned long long cum = 0;
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
            "commit included.\n");
    put(&b, "# TYPE sesshu_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += atomic_load(&hist[i]);
        put(&b, "sesshu_http_request_duration_seconds_bucket{service=\"%s\",le=\"%g\"} %llu\n",
            svc_name, bucket_s[i], cum);
    }
    cum += atomic_load(&hist[NBUCKETS]);
    put(&b, "sesshu_http_request_duration_seconds_bucket{service=\"%s\",le=\"+Inf\"} %llu\n",
        svc_name, cum);
    put(&b, "sesshu_http_request_duration_seconds_sum{service=\"%s\"} %.6f\n", svc_name,
        (double)atomic_load(&hist_sum_us) / 1e6);
    put(&b, "sesshu_http_request_duration_seconds_count{service=\"%s\"} %llu\n", svc_name,
        (unsigned long long)atomic_load(&hist_count));
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
    return b.s;
}
