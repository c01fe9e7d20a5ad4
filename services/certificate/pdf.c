/* pdf.c - the printable certificate (H-5-2): A4, in Japanese, laid out by pango in IPAex Gothic
 * (fonts-ipaexfont-gothic) and drawn by cairo with a face derived from it (font.c), which cairo
 * embeds as subsets, each glyph with the character it was drawn for, so the text is
 * extractable; the card's QR is drawn from its modules, so a paper copy verifies too.
 * Items (docs/domain.md §9): 被接種者氏名, 生年月日, 住所, each dose (接種回数, 接種年月日,
 * ワクチン名, メーカー, ロット番号, 実施医療機関), 首長名 (都道府県名 + 市区町村長名), issue date
 * and the certificate number. Records the municipality does not hold are printed as ＊ with a note
 * on where proof can be found; doses entered from paper are marked. */
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "sesshu/config.h"
#include "sesshu/csv.h"
#include "sesshu/err.h"
#include "sesshu/log.h"

#define A4_W   595.276
#define A4_H   841.890
#define MARGIN 48.0
/* The derived face's name (font.c); the font pango lays out with. */
#define FONT_OWN  "SesshuCertGothic"
#define FONT_FULL "IPAexGothic"

/* Every fixed text of the page. */
#define TX_RECEIPT    "予防接種済証"
#define TX_CERT       "予防接種証明書"
#define TX_NO         "証明書番号　"
#define TX_NAME       "被接種者氏名　"
#define TX_BIRTH      "生年月日　"
#define TX_ADDRESS    "住所　"
#define TX_HEAD       "接種回数", "接種年月日", "ワクチン名", "メーカー", "ロット番号", "実施医療機関"
#define TX_HEAD_ALL   "接種回数接種年月日ワクチン名メーカーロット番号実施医療機関"
#define TX_NTH        "回目"
#define TX_PAPER_MARK " (紙)"
#define TX_MISSING    "＊"
#define TX_LIST_SEP   "、"
#define TX_DATE       "%d年%d月%d日"
#define TX_NOTE_MISSING_1 \
    "＊ 当市区町村が保有していない記録です。接種当時の市区町村（市区町村コード "
#define TX_NOTE_MISSING_2 "）が発行する証明書、または母子健康手帳等の記録で確認してください。"
#define TX_NOTE_PAPER     "（紙）と付した接種は、紙の予診票・接種済証から登録した記録です。"
#define TX_STATEMENT      "上記のとおり予防接種を受けたことを証明します。"
#define TX_ISSUED         "発行日　"
#define TX_HEAD_OF        "長"
#define TX_MUNI_CODE_1    "市区町村長（市区町村コード "
#define TX_MUNI_CODE_2    "）"
#define TX_QR                                                                                                                 \
    "このQRコードは SMART Health Card（スマートヘルスカード）です。記載の接種記録に発行者の" \
    "電子署名が付されており、読み取って真正性と失効の有無を確認できます。"

/* The fixed texts drawn alone, each at one address (the layout cache, fixed(), keys on it). */
static const char tx_receipt[] = TX_RECEIPT, tx_cert[] = TX_CERT, tx_name[] = TX_NAME,
                  tx_birth[] = TX_BIRTH, tx_address[] = TX_ADDRESS, tx_note_paper[] = TX_NOTE_PAPER,
                  tx_statement[] = TX_STATEMENT, tx_qr[] = TX_QR;

/* The derived face, once; without it (off, or it could not be made) pango draws IPAex Gothic. */
static pthread_once_t font_once = PTHREAD_ONCE_INIT;

static void font_init(void)
{
    bool own = true;

    /* Off: pango draws with IPAex Gothic itself (to compare, or should the face misbehave). */
    if (ss_cfg_bool(CERT_ENV_PDF_FONT, true, &own) != 0 || !own)
        return;
    if (cert_font_load(FONT_OWN) != 0)
        SS_WARN("the certificate face could not be made: pango draws " FONT_FULL " itself");
}

void cert_pdf_init(void)
{
    pthread_once(&font_once, font_init);
}
#define QR_SIDE 128.0 /* points: about 45 mm */

typedef struct pdf_out {
    ss_buf b;
    bool failed;
} pdf_out;

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int length)
{
    pdf_out *o = closure;

    if (ss_buf_add(&o->b, (const char *)data, length) != 0) {
        o->failed = true;
        return CAIRO_STATUS_NO_MEMORY;
    }
    return CAIRO_STATUS_SUCCESS;
}

/* One layout and font description for every text of a page, kept on the cairo context: a
 * layout of its own per text made a pango context, a font description and a fontset lookup
 * each time (about fifty a page). */
typedef struct pdf_text {
    PangoLayout *l;
    PangoFontDescription *fd;
} pdf_text;

static const cairo_user_data_key_t text_key;

static void text_free(void *p)
{
    pdf_text *t = p;

    if (t == NULL)
        return;
    if (t->l != NULL)
        g_object_unref(t->l);
    pango_font_description_free(t->fd);
    free(t);
}

static pdf_text *text_of(cairo_t *cr)
{
    pdf_text *t = cairo_get_user_data(cr, &text_key);

    if (t != NULL)
        return t;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return NULL;
    t->l = pango_cairo_create_layout(cr);
    t->fd = pango_font_description_from_string(FONT_FULL);
    pango_layout_set_wrap(t->l, PANGO_WRAP_WORD_CHAR);
    if (cairo_set_user_data(cr, &text_key, t, text_free) != CAIRO_STATUS_SUCCESS) {
        text_free(t);
        return NULL;
    }
    return t;
}

/* A run of pango's in IPAex Gothic, drawn with the derived face (font.c) at its baseline
 * (x, y): the same glyph ids and positions, and clusters that give each glyph its characters
 * (the face has no character map, so these are what cairo embeds for extraction). False when
 * the run is not for it (another font, right to left, a glyph pango could not find). */
#define RUN_MAX 256
static bool show_run(cairo_t *cr, const char *txt, const PangoGlyphItem *run, double x, double y)
{
    const PangoGlyphString *gs = run->glyphs;
    cairo_glyph_t g[RUN_MAX];
    cairo_text_cluster_t cl[RUN_MAX];
    cairo_scaled_font_t *sf;
    int n = gs->num_glyphs, nc = 0, xoff = 0;

    if (n == 0 || n > RUN_MAX || run->item->analysis.level % 2 != 0 || gs->log_clusters[0] != 0)
        return false;
    for (int i = 0; i < n; i++) {
        const PangoGlyphInfo *gi = &gs->glyphs[i];
        if (gi->glyph == PANGO_GLYPH_EMPTY || (gi->glyph & PANGO_GLYPH_UNKNOWN_FLAG) != 0 ||
            (i > 0 && gs->log_clusters[i] < gs->log_clusters[i - 1]))
            return false;
        g[i].index = gi->glyph;
        g[i].x = x + (double)(xoff + gi->geometry.x_offset) / PANGO_SCALE;
        g[i].y = y + (double)gi->geometry.y_offset / PANGO_SCALE;
        xoff += gi->geometry.width;
        if (i == 0 || gs->log_clusters[i] != gs->log_clusters[i - 1])
            cl[nc++] = (cairo_text_cluster_t){0, 0};
        cl[nc - 1].num_glyphs++;
    }
    for (int c = 0, i = 0; c < nc; i += cl[c++].num_glyphs)
        cl[c].num_bytes = (i + cl[c].num_glyphs < n ? gs->log_clusters[i + cl[c].num_glyphs]
                                                    : run->item->length) -
                          gs->log_clusters[i];
    sf =
        cert_font_for(pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(run->item->analysis.font)));
    if (sf == NULL)
        return false;
    cairo_set_scaled_font(cr, sf);
    cairo_show_text_glyphs(cr, txt + run->item->offset, run->item->length, g, n, cl, nc, 0);
    cairo_scaled_font_destroy(sf);
    return true;
}

/* The layout with its top left at (x, y), as pango_cairo_show_layout draws it: run by run, each
 * at its line's baseline; runs the derived face cannot draw are drawn by pango. */
static void show_layout(cairo_t *cr, double x, double y, PangoLayout *l)
{
    const char *txt = pango_layout_get_text(l);
    PangoLayoutIter *it = pango_layout_get_iter(l);

    do {
        PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
        PangoRectangle r;
        double bx, by;

        if (run == NULL)
            continue;
        pango_layout_iter_get_run_extents(it, NULL, &r);
        bx = x + (double)r.x / PANGO_SCALE;
        by = y + (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE;
        if (!show_run(cr, txt, run, bx, by)) {
            cairo_move_to(cr, bx, by);
            pango_cairo_show_glyph_item(cr, txt, run);
        }
    } while (pango_layout_iter_next_run(it));
    pango_layout_iter_free(it);
}

/* Text at (x, y) in `size` points, at most `width` wide (wrapping); returns its height. */
static double text(cairo_t *cr, double x, double y, double width, double size, const char *s,
                   PangoAlignment align)
{
    pdf_text *t = text_of(cr);
    int w = 0, h = 0;

    if (t == NULL)
        return 0;
    pango_font_description_set_absolute_size(t->fd, size * PANGO_SCALE);
    pango_layout_set_font_description(t->l, t->fd);
    pango_layout_set_width(t->l, (int)(width * PANGO_SCALE));
    pango_layout_set_alignment(t->l, align);
    pango_layout_set_text(t->l, s ? s : "", -1);
    show_layout(cr, x, y, t->l);
    pango_layout_get_size(t->l, &w, &h);
    return (double)h / PANGO_SCALE;
}

/* The page's fixed texts, laid out once a thread: their layouts are kept (with the pango context
 * each was made in) and drawn on the next page without itemising and shaping anew. Every page
 * is the same kind of surface (PDF, the same font options) drawn with the identity matrix, so
 * the layouts stay true; pango_cairo_update_layout is not called as it always relays out (it
 * sets the context's matrix, which marks the context changed). */
#define FIXED_MAX 24
typedef struct fixed_entry {
    const char *s;
    double size, width;
    PangoAlignment align;
    PangoLayout *l;
    int h;
} fixed_entry;
typedef struct fixed_cache {
    fixed_entry e[FIXED_MAX];
    int n;
} fixed_cache;

static pthread_key_t fixed_key;
static pthread_once_t fixed_once = PTHREAD_ONCE_INIT;

static void fixed_free(void *p)
{
    fixed_cache *fc = p;

    for (int i = 0; fc != NULL && i < fc->n; i++)
        g_object_unref(fc->e[i].l);
    free(fc);
}

static void fixed_init(void)
{
    if (pthread_key_create(&fixed_key, fixed_free) != 0)
        SS_WARN("no cache of the PDF's fixed texts: each page lays them out");
}

static fixed_entry *fixed_find(cairo_t *cr, const char *s, double size, double width,
                               PangoAlignment align)
{
    fixed_cache *fc;
    fixed_entry *e;

    pthread_once(&fixed_once, fixed_init);
    if ((fc = pthread_getspecific(fixed_key)) == NULL) {
        if ((fc = calloc(1, sizeof(*fc))) == NULL || pthread_setspecific(fixed_key, fc) != 0) {
            free(fc);
            return NULL;
        }
    }
    for (int i = 0; i < fc->n; i++)
        if (fc->e[i].s == s && fc->e[i].size == size && fc->e[i].width == width &&
            fc->e[i].align == align)
            return &fc->e[i];
    if (fc->n == FIXED_MAX)
        return NULL;
    e = &fc->e[fc->n];
    if ((e->l = pango_cairo_create_layout(cr)) == NULL)
        return NULL;
    {
        PangoFontDescription *fd = pango_font_description_from_string(FONT_FULL);
        int w = 0;

        pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
        pango_layout_set_font_description(e->l, fd);
        pango_font_description_free(fd);
        pango_layout_set_wrap(e->l, PANGO_WRAP_WORD_CHAR);
        pango_layout_set_width(e->l, (int)(width * PANGO_SCALE));
        pango_layout_set_alignment(e->l, align);
        pango_layout_set_text(e->l, s, -1);
        pango_layout_get_size(e->l, &w, &e->h);
    }
    e->s = s;
    e->size = size;
    e->width = width;
    e->align = align;
    fc->n++;
    return e;
}

/* A fixed text (a TX_* constant: the cache knows it by its address); as text() otherwise. */
static double fixed(cairo_t *cr, double x, double y, double width, double size, const char *s,
                    PangoAlignment align)
{
    fixed_entry *e = fixed_find(cr, s, size, width, align);

    if (e == NULL)
        return text(cr, x, y, width, size, s, align);
    show_layout(cr, x, y, e->l);
    return (double)e->h / PANGO_SCALE;
}

/* A label (a fixed text, its layout kept: fixed()) and its value after it on the same line, laid
 * out apart: only the value is laid out anew on each page. Returns the height. */
static double labelled(cairo_t *cr, double x, double y, double width, double size,
                       const char *label, const char *value)
{
    fixed_entry *e = fixed_find(cr, label, size, width, PANGO_ALIGN_LEFT);
    double h = fixed(cr, x, y, width, size, label, PANGO_ALIGN_LEFT), hv;
    int lw = 0, lh = 0;

    if (e != NULL)
        pango_layout_get_size(e->l, &lw, &lh);
    else if (text_of(cr) != NULL)
        pango_layout_get_size(text_of(cr)->l, &lw, &lh); /* text() drew it in this one */
    hv = text(cr, x + (double)lw / PANGO_SCALE, y, width - (double)lw / PANGO_SCALE, size, value,
              PANGO_ALIGN_LEFT);
    return hv > h ? hv : h;
}

/* "2025-06-01" -> "2025年6月1日". */
static void jdate(const char *iso, char *out, size_t n)
{
    int y, m, d;

    if (iso != NULL && sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) == 3)
        snprintf(out, n, TX_DATE, y, m, d);
    else
        snprintf(out, n, "%s", iso ? iso : "");
}

static const char *s_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The QR as a 1-bit stencil mask, QR_PX pixels a module (quiet zone included): a few kB in the
 * PDF instead of a rectangle per dark module, whose coordinates cost most of a page's rendering
 * (callgrind: printf of floats and DEFLATE of the content stream). One pixel a module, scaled
 * up without interpolation (CAIRO_FILTER_NEAREST: /Interpolate false), so the modules stay
 * sharp at any resolution (zbarimg reads 100 to 600 dpi renderings); four pixels a module with
 * interpolation cost 16 times the pixels to convert and compress (~5M instructions a PDF). */
#define QR_PX 1
/* Cairo's A1: 32-bit words, the first pixel in the least significant bit on little-endian
 * machines and in the most significant one on big-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define A1_BIT(i) (0x80000000u >> (i))
#else
#define A1_BIT(i) (1u << (i))
#endif
static void qr(cairo_t *cr, const char *jws, double x, double y)
{
    unsigned char *m = NULL, *px;
    int w = 0, side, stride;
    cairo_surface_t *img;
    cairo_pattern_t *pat;

    if (cert_qr_modules(jws, &w, &m) != 0)
        return;
    side = (w + 8) * QR_PX;
    img = cairo_image_surface_create(CAIRO_FORMAT_A1, side, side);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        free(m);
        return;
    }
    cairo_surface_flush(img);
    px = cairo_image_surface_get_data(img);
    stride = cairo_image_surface_get_stride(img);
    memset(px, 0, (size_t)stride * (size_t)side);
    for (int r = 0; r < side; r++) {
        uint32_t *row = (uint32_t *)(void *)(px + (size_t)r * (size_t)stride);
        int mr = r / QR_PX - 4;
        if (mr < 0 || mr >= w)
            continue;
        for (int c = 4 * QR_PX; c < (w + 4) * QR_PX; c++) {
            if (m[mr * w + c / QR_PX - 4])
                row[c >> 5] |= A1_BIT(c & 31);
        }
    }
    cairo_surface_mark_dirty(img);
    free(m);
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, x, y, QR_SIDE, QR_SIDE);
    cairo_fill(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, QR_SIDE / side, QR_SIDE / side);
    cairo_set_source_rgb(cr, 0, 0, 0);
    pat = cairo_pattern_create_for_surface(img);
    /* Sharp modules when scaled up (the PDF's /Interpolate false): one pixel a module is then
     * enough, and the image is QR_PX^2 times smaller to convert and compress. */
    cairo_pattern_set_filter(pat, CAIRO_FILTER_NEAREST);
    cairo_mask(cr, pat);
    cairo_pattern_destroy(pat);
    cairo_restore(cr);
    cairo_surface_destroy(img);
}

/* The dose table; returns the y below it. */
static double doses_table(cairo_t *cr, const json_t *doses, double y, bool *any_missing,
                          bool *any_paper, char *other_munis, size_t on)
{
    static const char *const head[] = {TX_HEAD};
    static const double colw[] = {52, 78, 96, 92, 66, 115};
    double x, rowh = 0;
    size_t i;
    json_t *d;

    x = MARGIN;
    for (int c = 0; c < 6; c++) {
        fixed(cr, x + 2, y + 3, colw[c] - 4, 8.5, head[c], PANGO_ALIGN_LEFT);
        x += colw[c];
    }
    cairo_rectangle(cr, MARGIN, y, A4_W - 2 * MARGIN, 18);
    cairo_stroke(cr);
    y += 18;
    json_array_foreach (doses, i, d) {
        char c0[64], c1[48], c2[160];
        const char *cells[6];
        bool held = json_is_true(json_object_get(d, "held"));
        json_int_t n = json_integer_value(json_object_get(d, "dose_number"));

        if (held) {
            snprintf(c0, sizeof(c0), "%lld" TX_NTH "%s", (long long)n,
                     json_is_true(json_object_get(d, "paper")) ? TX_PAPER_MARK : "");
            jdate(s_of(d, "vaccinated_on"), c1, sizeof(c1));
            snprintf(c2, sizeof(c2), "%s",
                     s_of(d, "vaccine_name")[0] ? s_of(d, "vaccine_name")
                                                : s_of(d, "vaccine_code"));
            cells[0] = c0;
            cells[1] = c1;
            cells[2] = c2;
            cells[3] = s_of(d, "manufacturer");
            cells[4] = s_of(d, "lot_no");
            cells[5] = s_of(d, "institution_name")[0] ? s_of(d, "institution_name")
                                                      : s_of(d, "institution_code");
            *any_paper |= json_is_true(json_object_get(d, "paper"));
        } else {
            for (int c = 0; c < 6; c++)
                cells[c] = TX_MISSING;
            *any_missing = true;
            if (strlen(other_munis) + 8 < on &&
                strstr(other_munis, s_of(d, "record_municipality_code")) == NULL) {
                strcat(other_munis, other_munis[0] ? TX_LIST_SEP : "");
                strcat(other_munis, s_of(d, "record_municipality_code"));
            }
        }
        x = MARGIN;
        rowh = 16;
        for (int c = 0; c < 6; c++) {
            double h = text(cr, x + 2, y + 3, colw[c] - 4, 8.5, cells[c], PANGO_ALIGN_LEFT);
            if (h + 6 > rowh)
                rowh = h + 6;
            x += colw[c];
        }
        cairo_rectangle(cr, MARGIN, y, A4_W - 2 * MARGIN, rowh);
        cairo_stroke(cr);
        y += rowh;
    }
    return y;
}

static void page(cairo_t *cr, const json_t *cert, const char *jws)
{
    const json_t *p = json_object_get(cert, "person"), *m = json_object_get(p, "municipality");
    bool receipt = strcmp(s_of(cert, "kind"), "receipt") == 0, missing = false, paper = false;
    char line[1024], d1[48], d2[48], others[128] = "";
    double y = MARGIN;

    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.6);
    y += fixed(cr, MARGIN, y, A4_W - 2 * MARGIN, 20, receipt ? tx_receipt : tx_cert,
               PANGO_ALIGN_CENTER) +
         18;
    snprintf(line, sizeof(line), TX_NO "%s", s_of(cert, "certificate_no"));
    y += text(cr, MARGIN, y, A4_W - 2 * MARGIN, 9, line, PANGO_ALIGN_RIGHT) + 10;
    jdate(s_of(p, "birth_date"), d1, sizeof(d1));
    y += labelled(cr, MARGIN, y, A4_W - 2 * MARGIN, 12, tx_name, s_of(p, "name")) + 6;
    y += labelled(cr, MARGIN, y, A4_W - 2 * MARGIN, 11, tx_birth, d1) + 6;
    y += labelled(cr, MARGIN, y, A4_W - 2 * MARGIN, 11, tx_address, s_of(p, "address")) + 16;
    y = doses_table(cr, json_object_get(cert, "doses"), y, &missing, &paper, others,
                    sizeof(others)) +
        10;
    if (missing) {
        snprintf(line, sizeof(line), TX_NOTE_MISSING_1 "%s" TX_NOTE_MISSING_2, others);
        y += text(cr, MARGIN, y, A4_W - 2 * MARGIN, 8.5, line, PANGO_ALIGN_LEFT) + 4;
    }
    if (paper)
        y += fixed(cr, MARGIN, y, A4_W - 2 * MARGIN, 8.5, tx_note_paper, PANGO_ALIGN_LEFT) + 4;
    y += 14;
    y += fixed(cr, MARGIN, y, A4_W - 2 * MARGIN, 11, tx_statement, PANGO_ALIGN_LEFT) + 12;
    jdate(s_of(cert, "issued_at"), d2, sizeof(d2));
    {
        char date10[11];
        snprintf(date10, sizeof(date10), "%s", s_of(cert, "issued_at"));
        jdate(date10, d2, sizeof(d2));
    }
    snprintf(line, sizeof(line), TX_ISSUED "%s", d2);
    y += text(cr, MARGIN, y, A4_W - 2 * MARGIN, 11, line, PANGO_ALIGN_LEFT) + 8;
    if (s_of(m, "name")[0] != '\0')
        snprintf(line, sizeof(line), "%s%s" TX_HEAD_OF, s_of(m, "prefecture_name"),
                 s_of(m, "name"));
    else
        snprintf(line, sizeof(line), TX_MUNI_CODE_1 "%s" TX_MUNI_CODE_2,
                 s_of(p, "municipality_code"));
    text(cr, MARGIN, y, A4_W - 2 * MARGIN, 13, line, PANGO_ALIGN_RIGHT);
    qr(cr, jws, MARGIN, A4_H - MARGIN - QR_SIDE - 24);
    fixed(cr, MARGIN + QR_SIDE + 12, A4_H - MARGIN - QR_SIDE + 10, A4_W - 2 * MARGIN - QR_SIDE - 12,
          8.5, tx_qr, PANGO_ALIGN_LEFT);
}

int cert_pdf(const json_t *cert, const char *jws, unsigned char **pdf, size_t *len)
{
    pdf_out o = {{0}, false};
    cairo_surface_t *s;
    cairo_t *cr;

    cert_pdf_init();
    s = cairo_pdf_surface_create_for_stream(pdf_write, &o, A4_W, A4_H);
    cr = cairo_create(s);

    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, TX_CERT);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "sesshu certificate");
    page(cr, cert, jws);
    cairo_show_page(cr);
    /* A drawing refused (the context in error) would leave the page short, not fail it. */
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        o.failed = true;
    cairo_destroy(cr);
    cairo_surface_finish(s);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        o.failed = true;
    cairo_surface_destroy(s);
    if (o.failed) {
        ss_buf_free(&o.b);
        return SS_ERR_INTERNAL;
    }
    *pdf = (unsigned char *)o.b.s;
    *len = o.b.len;
    return 0;
}
