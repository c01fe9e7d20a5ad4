/* font.c - the face the certificate's text is drawn with: IPAex Gothic (fonts-ipaexfont-gothic)
 * without its character map and its hinting instructions, under a name of its own, made once per
 * process by HarfBuzz's subsetter (every glyph kept at its id) and handed to cairo as a FreeType
 * face of its own (pdf.c draws pango's runs in IPAex Gothic with it, glyph ids unchanged).
 *
 * Why no character map: for every distinct glyph of a PDF cairo finds the glyph's character by
 * a reverse lookup in the face's map (_cairo_truetype_index_to_ucs4: IPAex's format-4 map, 57 kB
 * and 4,996 segments, copied out of the font and walked linearly; then FreeType's
 * FT_Get_Next_Char over every character): about a third of a PDF's instructions (callgrind).
 * Without a map the lookup finds nothing at once, and cairo takes each glyph's character from
 * the text drawn with it (cairo_show_text_glyphs' clusters): the text stays extractable.
 * Why no hinting: IPAex's glyph data is 46 % TrueType instructions (2.6 of 5.6 MB), which cairo
 * copies into each embedded subset and DEFLATEs; the outlines are the same, PDF viewers and
 * printers scale them far above the sizes hinting is for (poppler does not hint at all).
 *
 * Its name leaves "IPA" out, as the IPA Font License asks of a derived font (art. 3.1 (4));
 * the copyright and licence strings are IPAex's. If anything fails pango draws with IPAex
 * Gothic itself, as before (a warning says so). */
#include <cairo-ft.h>
#include <fontconfig/fontconfig.h>
#include <hb-ot.h>
#include <hb-subset.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "sesshu/err.h"

#define SOURCE_FAMILY  "IPAexGothic"
#define NAME_MAX_UNITS 512 /* UTF-16 units of a name string we copy */

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}
typedef struct name_rec {
    unsigned id;
    uint16_t s[NAME_MAX_UNITS];
    unsigned n;
} name_rec;

/* A 'name' table, format 0, Windows Unicode BMP, en-US (the strings in UTF-16). */
static hb_blob_t *name_table(const name_rec *recs, int count)
{
    size_t len = 6 + 12 * (size_t)count, off = 0;
    unsigned char *t;

    for (int i = 0; i < count; i++)
        len += 2 * (size_t)recs[i].n;
    if ((t = calloc(1, len)) == NULL)
        return NULL;
    put16(t + 2, (unsigned)count);
    put16(t + 4, 6 + 12 * (unsigned)count);
    for (int i = 0; i < count; i++) {
        unsigned char *r = t + 6 + 12 * i, *str = t + 6 + 12 * count + off;
        put16(r, 3);
        put16(r + 2, 1);
        put16(r + 4, 0x409);
        put16(r + 6, recs[i].id);
        put16(r + 8, 2 * recs[i].n);
        put16(r + 10, (unsigned)off);
        for (unsigned k = 0; k < recs[i].n; k++)
            put16(str + 2 * k, recs[i].s[k]);
        off += 2 * recs[i].n;
    }
    return hb_blob_create((const char *)t, (unsigned)len, HB_MEMORY_MODE_WRITABLE, t, free);
}

/* The new font's names: its own family, IPAex's copyright, version and licence. */
static hb_blob_t *names(hb_face_t *src, const char *family)
{
    static const unsigned copied[] = {0, 5, 13, 14};
    name_rec recs[9];
    int n = 0;

    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
        unsigned units = NAME_MAX_UNITS;
        recs[n].id = copied[i];
        recs[n].n = hb_ot_name_get_utf16(src, copied[i], HB_LANGUAGE_INVALID, &units, recs[n].s);
        if (recs[n].n > 0)
            recs[n].n = units, n++;
    }
    for (unsigned id = 1; id <= 6; id++) {
        const char *v = id == 2 ? "Regular" : family;
        if (id == 5)
            continue;
        recs[n].id = id;
        recs[n].n = (unsigned)strlen(v);
        for (unsigned k = 0; k < recs[n].n; k++)
            recs[n].s[k] = (uint16_t)(unsigned char)v[k];
        n++;
    }
    /* Sorted by name id, as the format asks. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && recs[j - 1].id > recs[j].id; j--) {
            name_rec tmp = recs[j];
            recs[j] = recs[j - 1];
            recs[j - 1] = tmp;
        }
    return name_table(recs, n);
}

/* IPAex Gothic without character map, hinting or layout tables, named family: every glyph at
 * its id (the layout tables serve pango, which shapes with IPAex itself). */
static hb_blob_t *derive(hb_face_t *src, const char *family)
{
    static const hb_tag_t dropped[] = {
        HB_TAG('G', 'S', 'U', 'B'), HB_TAG('G', 'P', 'O', 'S'), HB_TAG('G', 'D', 'E', 'F'),
        HB_TAG('B', 'A', 'S', 'E'), HB_TAG('c', 'm', 'a', 'p'),
    };
    hb_subset_input_t *in = hb_subset_input_create_or_fail();
    hb_face_t *sub = NULL, *parsed = NULL, *out = NULL;
    hb_blob_t *sb = NULL, *nb = NULL, *res = NULL;
    hb_tag_t tags[64];
    unsigned ntags = 64;

    if (in == NULL)
        return NULL;
    hb_set_add_range(hb_subset_input_glyph_set(in), 0, hb_face_get_glyph_count(src) - 1);
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
        hb_set_add(hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG), dropped[i]);
    hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_RETAIN_GIDS | HB_SUBSET_FLAGS_NO_HINTING);
    /* The subset is a face builder, which lists no tables: its bytes parsed again. */
    if ((sub = hb_subset_or_fail(src, in)) == NULL || (sb = hb_face_reference_blob(sub)) == NULL ||
        (parsed = hb_face_create(sb, 0)) == NULL || (nb = names(src, family)) == NULL)
        goto out;
    /* The subset's tables with the name table replaced. */
    out = hb_face_builder_create();
    hb_face_get_table_tags(parsed, 0, &ntags, tags);
    for (unsigned i = 0; i < ntags; i++) {
        hb_blob_t *t = tags[i] == HB_TAG('n', 'a', 'm', 'e')
                           ? hb_blob_reference(nb)
                           : hb_face_reference_table(parsed, tags[i]);
        hb_face_builder_add_table(out, tags[i], t);
        hb_blob_destroy(t);
    }
    res = hb_face_reference_blob(out);
    if (res != NULL && hb_blob_get_length(res) == 0) {
        hb_blob_destroy(res);
        res = NULL;
    }
out:
    hb_face_destroy(out);
    hb_blob_destroy(nb);
    hb_face_destroy(parsed);
    hb_blob_destroy(sb);
    hb_face_destroy(sub);
    hb_subset_input_destroy(in);
    return res;
}

/* The file of the installed IPAex Gothic, or NULL (malloc'd). */
static char *source_file(void)
{
    FcPattern *pat = FcNameParse((const FcChar8 *)SOURCE_FAMILY), *m;
    FcChar8 *file = NULL, *fam = NULL;
    FcResult res;
    char *out = NULL;

    if (pat == NULL)
        return NULL;
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    m = FcFontMatch(NULL, pat, &res);
    FcPatternDestroy(pat);
    if (m != NULL && FcPatternGetString(m, FC_FAMILY, 0, &fam) == FcResultMatch &&
        strcmp((const char *)fam, SOURCE_FAMILY) == 0 &&
        FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch)
        out = strdup((const char *)file);
    if (m != NULL)
        FcPatternDestroy(m);
    return out;
}

/* The derived face (cairo's, for the process), and the number of glyphs of IPAex Gothic (a run
 * of pango's is drawn with the face only from a font of that family and count: the same glyph
 * ids). */
static cairo_font_face_t *face;
static long source_glyphs;

/* What the cairo face is made of, released with it (cairo's idiom for a FreeType face of our
 * own): the FreeType library and face, and the font's bytes. */
typedef struct face_parts {
    FT_Library lib;
    FT_Face ft;
    hb_blob_t *bytes;
} face_parts;

static const cairo_user_data_key_t parts_key;

static void parts_free(void *p)
{
    face_parts *fp = p;

    if (fp == NULL)
        return;
    if (fp->ft != NULL)
        FT_Done_Face(fp->ft);
    if (fp->lib != NULL)
        FT_Done_FreeType(fp->lib);
    hb_blob_destroy(fp->bytes);
    free(fp);
}

/* The cairo face of the font's bytes (taken over), or NULL. */
static cairo_font_face_t *face_of(hb_blob_t *bytes)
{
    face_parts *fp = calloc(1, sizeof(*fp));
    cairo_font_face_t *f;
    unsigned len = 0;
    const char *data = hb_blob_get_data(bytes, &len);

    if (fp == NULL) {
        hb_blob_destroy(bytes);
        return NULL;
    }
    fp->bytes = bytes;
    if (FT_Init_FreeType(&fp->lib) != 0 ||
        FT_New_Memory_Face(fp->lib, (const FT_Byte *)data, (FT_Long)len, 0, &fp->ft) != 0) {
        parts_free(fp);
        return NULL;
    }
    f = cairo_ft_font_face_create_for_ft_face(fp->ft, 0);
    if (cairo_font_face_status(f) != CAIRO_STATUS_SUCCESS ||
        cairo_font_face_set_user_data(f, &parts_key, fp, parts_free) != CAIRO_STATUS_SUCCESS) {
        cairo_font_face_destroy(f);
        parts_free(fp);
        return NULL;
    }
    return f;
}

int cert_font_load(const char *family)
{
    char *file = source_file();
    hb_blob_t *src_blob = NULL, *bytes = NULL;
    hb_face_t *src = NULL;
    int rc = SS_ERR_INTERNAL;

    if (file != NULL && (src_blob = hb_blob_create_from_file_or_fail(file)) != NULL &&
        (src = hb_face_create(src_blob, 0)) != NULL && (bytes = derive(src, family)) != NULL &&
        (face = face_of(bytes)) != NULL) {
        source_glyphs = (long)hb_face_get_glyph_count(src);
        rc = 0;
    }
    hb_face_destroy(src);
    hb_blob_destroy(src_blob);
    free(file);
    return rc;
}

/* Is pango's font f IPAex Gothic itself (whose glyph ids the derived face keeps)? */
static bool is_source(cairo_scaled_font_t *f)
{
    FT_Face ff = cairo_ft_scaled_font_lock_face(f);
    bool yes = ff != NULL && ff->family_name != NULL &&
               strcmp(ff->family_name, SOURCE_FAMILY) == 0 && ff->num_glyphs == source_glyphs;

    if (ff != NULL)
        cairo_ft_scaled_font_unlock_face(f);
    return yes;
}

/* Pango's scaled fonts and ours for them, a thread's: a page uses about six sizes. */
#define SCALED_MAX 16
typedef struct scaled_cache {
    cairo_scaled_font_t *from[SCALED_MAX], *to[SCALED_MAX];
    int n;
} scaled_cache;

static pthread_key_t scaled_key;
static bool scaled_keyed;
static pthread_once_t scaled_once = PTHREAD_ONCE_INIT;

static void scaled_free(void *p)
{
    scaled_cache *c = p;

    for (int i = 0; c != NULL && i < c->n; i++) {
        cairo_scaled_font_destroy(c->from[i]);
        cairo_scaled_font_destroy(c->to[i]);
    }
    free(c);
}

static void scaled_init(void)
{
    scaled_keyed = pthread_key_create(&scaled_key, scaled_free) == 0;
}

/* Ours for f, made anew: NULL when f is not IPAex Gothic. */
static cairo_scaled_font_t *scaled_new(cairo_scaled_font_t *f)
{
    cairo_matrix_t fm, ctm;
    cairo_font_options_t *o;
    cairo_scaled_font_t *s;

    if (!is_source(f))
        return NULL;
    cairo_scaled_font_get_font_matrix(f, &fm);
    cairo_scaled_font_get_ctm(f, &ctm);
    o = cairo_font_options_create();
    cairo_scaled_font_get_font_options(f, o);
    s = cairo_scaled_font_create(face, &fm, &ctm, o);
    cairo_font_options_destroy(o);
    if (cairo_scaled_font_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_scaled_font_destroy(s);
        return NULL;
    }
    return s;
}

cairo_scaled_font_t *cert_font_for(cairo_scaled_font_t *f)
{
    scaled_cache *c;
    cairo_scaled_font_t *s;

    if (face == NULL || f == NULL)
        return NULL;
    pthread_once(&scaled_once, scaled_init);
    if (!scaled_keyed)
        return scaled_new(f);
    if ((c = pthread_getspecific(scaled_key)) == NULL &&
        ((c = calloc(1, sizeof(*c))) == NULL || pthread_setspecific(scaled_key, c) != 0)) {
        free(c);
        return scaled_new(f);
    }
    for (int i = 0; i < c->n; i++)
        if (c->from[i] == f)
            return c->to[i] != NULL ? cairo_scaled_font_reference(c->to[i]) : NULL;
    s = scaled_new(f);
    if (c->n < SCALED_MAX) {
        c->from[c->n] = cairo_scaled_font_reference(f);
        c->to[c->n++] = s != NULL ? cairo_scaled_font_reference(s) : NULL;
    }
    return s;
}
