/* pdfref.c - the bound of the paper certificate: PDFs per second on N threads calling the
 * service's own renderer (cert_pdf: cairo, pango, IPAex Gothic subset, the QR) in process on a
 * real certificate, without HTTP, the database, the access log or authentication. What the
 * endpoint loses against it is everything around the drawing.
 * Usage: sesshu-bench-pdfref THREADS SECONDS CERT_FILE [OUT.pdf] (CERT_FILE: GET
 * /api/v1/certificates/:id with its jws; OUT.pdf: one PDF written, to look at: the second
 * drawn on the main thread). SESSHU_BENCH_PDFS=N: each thread draws one PDF, then exactly N in
 * measured_pdf() and stops (for callgrind --toggle-collect=measured_pdf: instructions a warm
 * PDF = the total / N / THREADS). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cert.h"

static double deadline;
static json_t *cert;
static const char *jws;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One PDF, a function of its own so that callgrind can count what it costs. */
__attribute__((noinline)) static int measured_pdf(void)
{
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc = cert_pdf(cert, jws, &pdf, &len);

    free(pdf);
    return rc;
}

static long fixed_count;

static void *worker(void *arg)
{
    long *count = arg;

    if (fixed_count > 0) {
        unsigned char *pdf = NULL;
        size_t len = 0;
        /* The thread's first, not counted: its font map and layouts made. */
        if (cert_pdf(cert, jws, &pdf, &len) != 0)
            return NULL;
        free(pdf);
        for (long i = 0; i < fixed_count && measured_pdf() == 0; i++)
            (*count)++;
        return NULL;
    }
    while (now_s() < deadline) {
        unsigned char *pdf = NULL;
        size_t len = 0;
        if (cert_pdf(cert, jws, &pdf, &len) != 0)
            break;
        free(pdf);
        (*count)++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    double secs = argc > 2 ? atof(argv[2]) : 5, t0;
    pthread_t th[64];
    long counts[64] = {0}, total = 0;

    if (n < 1 || n > 64 || argc < 4)
        return 2;
    if (getenv("SESSHU_BENCH_PDFS") != NULL)
        fixed_count = atol(getenv("SESSHU_BENCH_PDFS"));
    if ((cert = json_load_file(argv[3], 0, NULL)) == NULL ||
        (jws = json_string_value(json_object_get(cert, "jws"))) == NULL)
        return 1;
    if (argc > 4) {
        unsigned char *pdf = NULL;
        size_t len = 0;
        FILE *f = fopen(argv[4], "wb");
        /* The second PDF of this thread: what a warm thread draws (its layouts kept, pdf.c). */
        if (f == NULL || cert_pdf(cert, jws, &pdf, &len) != 0)
            return 1;
        free(pdf);
        if (cert_pdf(cert, jws, &pdf, &len) != 0 || fwrite(pdf, 1, len, f) != len)
            return 1;
        fclose(f);
        free(pdf);
    }
    t0 = now_s();
    deadline = t0 + secs;
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, worker, &counts[i]);
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += counts[i];
    }
    printf("%.1f\n", (double)total / (now_s() - t0));
    json_decref(cert);
    return 0;
}
