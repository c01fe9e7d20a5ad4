/* qr.c - the card as a QR code (libqrencode): segment 1 "shc:/" in byte mode, segment 2 the
 * JWS in numeric mode (each character as two digits, ord(c) - 45), error correction L, as the
 * SMART Health Cards spec asks; drawn as PNG (cairo) or SVG. */
#include <cairo.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "sesshu/err.h"

#define QR_MODULE_PX 4 /* pixels per module in the PNG */
#define QR_QUIET     4 /* modules of quiet zone on each side */

int cert_qr_modules(const char *jws, int *width, unsigned char **mods)
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
