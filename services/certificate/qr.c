/* qr.c - the card as a QR code (libqrencode): segment 1 "shc:/" in byte mode, segment 2 the
 * JWS in numeric mode (each character as two digits, ord(c) - 45), error correction L, as the
 * SMART Health Cards spec asks; drawn as PNG (cairo) or SVG, and in the PDF (pdf.c). The last
 * symbols made are kept (below): a card's symbol never changes. */
#include <cairo.h>
#include <pthread.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "sesshu/config.h"
#include "sesshu/err.h"

#define QR_MODULE_PX 4 /* pixels per module in the PNG */
#define QR_QUIET     4 /* modules of quiet zone on each side */

static int qr_encode(const char *jws, int *width, unsigned char **mods)
{
    char *num = cert_shc_numeric_encode(jws);
    QRinput *in = NULL;
    QRcode *qr = NULL;
    int rc = SS_ERR_INTERNAL;

    *mods = NULL;
    if (num == NULL || (in = QRinput_new2(0, QR_ECLEVEL_L)) == NULL ||
        QRinput_append(in, QR_MODE_8, 5, (const unsigned char *)"shc:/") != 0 ||
        QRinput_append(in, QR_MODE_NUM, (int)strlen(num + 5), (const unsigned char *)num + 5) !=
            0 ||
        (qr = QRcode_encodeInput(in)) == NULL)
        goto out;
    if ((*mods = malloc((size_t)qr->width * (size_t)qr->width)) == NULL) {
        rc = SS_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < qr->width * qr->width; i++)
        (*mods)[i] = qr->data[i] & 1;
    *width = qr->width;
    rc = 0;
out:
    QRcode_free(qr);
    QRinput_free(in);
    free(num);
    return rc;
}

/* The symbols of the last cards drawn (PDF, PNG, SVG: a holder who fetches the QR and then the
 * PDF, staff who print again): libqrencode's choice among eight masks, each scored over the
 * whole symbol, is most of a symbol's cost (~7M instructions for a card of three doses, a
 * quarter of a PDF), and no public call of it takes a mask. Least recently used out;
 * CERT_ENV_QR_CACHE entries (0: none). */
typedef struct qr_entry {
    uint64_t hash;
    char *jws;
    unsigned char *mods;
    int width;
    unsigned long used;
} qr_entry;

static pthread_mutex_t qr_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t qr_once = PTHREAD_ONCE_INIT;
static qr_entry *qr_cache;
static long qr_cap;
static unsigned long qr_tick;

static void qr_cache_init(void)
{
    if (ss_cfg_long(CERT_ENV_QR_CACHE, 64, 0, 100000, &qr_cap) != 0 ||
        (qr_cap > 0 && (qr_cache = calloc((size_t)qr_cap, sizeof(*qr_cache))) == NULL))
        qr_cap = 0;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The entry holding jws's symbol, or -1 and in *victim an empty or the least recently used
 * one (the lock held). */
static long qr_slot(uint64_t h, const char *jws, long *victim)
{
    *victim = 0;
    for (long i = 0; i < qr_cap; i++) {
        const qr_entry *e = &qr_cache[i];
        if (e->jws != NULL && e->hash == h && strcmp(e->jws, jws) == 0)
            return i;
        if (qr_cache[*victim].jws != NULL && (e->jws == NULL || e->used < qr_cache[*victim].used))
            *victim = i;
    }
    return -1;
}

/* A copy of entry i's symbol (the lock held). */
static int qr_copy(long i, int *width, unsigned char **mods)
{
    qr_entry *e = &qr_cache[i];
    size_t n = (size_t)e->width * (size_t)e->width;

    if ((*mods = malloc(n)) == NULL)
        return SS_ERR_NOMEM;
    memcpy(*mods, e->mods, n);
    *width = e->width;
    e->used = ++qr_tick;
    return 0;
}

/* Keep a copy of the symbol in slot (the lock held); nothing kept if memory is short. */
static void qr_keep(long slot, uint64_t h, const char *jws, int width, const unsigned char *mods)
{
    qr_entry *e = &qr_cache[slot];
    size_t n = (size_t)width * (size_t)width;
    char *j = strdup(jws);
    unsigned char *m = malloc(n);

    if (j == NULL || m == NULL) {
        free(j);
        free(m);
        return;
    }
    memcpy(m, mods, n);
    free(e->jws);
    free(e->mods);
    e->hash = h;
    e->jws = j;
    e->mods = m;
    e->width = width;
    e->used = ++qr_tick;
}

int cert_qr_modules(const char *jws, int *width, unsigned char **mods)
{
    uint64_t h = fnv1a(jws);
    long i, victim = 0;
    int rc = -1;

    pthread_once(&qr_once, qr_cache_init);
    if (qr_cap == 0)
        return qr_encode(jws, width, mods);
    pthread_mutex_lock(&qr_mu);
    if ((i = qr_slot(h, jws, &victim)) >= 0)
        rc = qr_copy(i, width, mods);
    pthread_mutex_unlock(&qr_mu);
    if (i >= 0)
        return rc;
    /* Encoded outside the lock; two threads drawing one new card may both encode it. */
    if ((rc = qr_encode(jws, width, mods)) != 0)
        return rc;
    pthread_mutex_lock(&qr_mu);
    if (qr_slot(h, jws, &victim) < 0)
        qr_keep(victim, h, jws, *width, *mods);
    pthread_mutex_unlock(&qr_mu);
    return 0;
}

typedef struct png_buf {
    unsigned char *data;
    size_t len, cap;
} png_buf;

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int length)
{
    png_buf *b = closure;

    if (b->len + length > b->cap) {
        size_t cap = (b->cap + length) * 2;
        unsigned char *g = realloc(b->data, cap);
        if (g == NULL)
            return CAIRO_STATUS_NO_MEMORY;
        b->data = g;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
    return CAIRO_STATUS_SUCCESS;
}

int cert_qr_png(const char *jws, unsigned char **png, size_t *len)
{
    unsigned char *m = NULL;
    int w = 0, rc, side;
    cairo_surface_t *s;
    cairo_t *cr;
    png_buf b = {NULL, 0, 0};

    *png = NULL;
    if ((rc = cert_qr_modules(jws, &w, &m)) != 0)
        return rc;
    side = (w + 2 * QR_QUIET) * QR_MODULE_PX;
    s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, side, side);
    cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++)
            if (m[y * w + x])
                cairo_rectangle(cr, (x + QR_QUIET) * QR_MODULE_PX, (y + QR_QUIET) * QR_MODULE_PX,
                                QR_MODULE_PX, QR_MODULE_PX);
    cairo_fill(cr);
    cairo_destroy(cr);
    rc = cairo_surface_write_to_png_stream(s, png_write, &b) == CAIRO_STATUS_SUCCESS ? 0
                                                                                     : SS_ERR_NOMEM;
    cairo_surface_destroy(s);
    free(m);
    if (rc != 0) {
        free(b.data);
        return rc;
    }
    *png = b.data;
    *len = b.len;
    return 0;
}

int cert_qr_svg(const char *jws, char **svg)
{
    unsigned char *m = NULL;
    int w = 0, rc, side;
    size_t cap, n = 0;
    char *out;

    *svg = NULL;
    if ((rc = cert_qr_modules(jws, &w, &m)) != 0)
        return rc;
    side = w + 2 * QR_QUIET;
    cap = 512 + (size_t)w * (size_t)w * 24;
    if ((out = malloc(cap)) == NULL) {
        free(m);
        return SS_ERR_NOMEM;
    }
    n += (size_t)snprintf(out + n, cap - n,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "
                          "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
                          "height=\"%d\" shape-rendering=\"crispEdges\"><rect width=\"%d\" "
                          "height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                          side, side, side * QR_MODULE_PX, side * QR_MODULE_PX, side, side);
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++)
            if (m[y * w + x] && n + 32 < cap)
                n += (size_t)snprintf(out + n, cap - n, "M%d %dh1v1h-1z", x + QR_QUIET,
                                      y + QR_QUIET);
    snprintf(out + n, cap - n, "\"/></svg>\n");
    free(m);
    *svg = out;
    return 0;
}
