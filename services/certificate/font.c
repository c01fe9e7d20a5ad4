/* font.c - the certificate's own small font: IPAex Gothic cut down, once per process, by
 * HarfBuzz's subsetter to the characters the page's fixed text uses (with ASCII, kana, CJK and
 * full-width punctuation and the prefectures' names), under a name of its own.
 *
 * Why: for every distinct glyph of a PDF cairo finds the glyph's character by a reverse lookup
 * in the font's character map (cairo's format-4 walk, then FreeType's FT_Get_Next_Char over
 * every character of the font): with IPAex's ~12,000 characters that was ~15M of ~51M
 * instructions a PDF (callgrind). In a map of ~700 characters the walk is short. Pango takes a
 * character from this font when it has it and from IPAex Gothic, second in the font
 * description, otherwise: names, addresses, institutions keep every glyph IPAex has, with the
 * same outlines and metrics. Cairo embeds a subset of each font used; the text stays
 * extractable (each glyph keeps its character).
 *
 * The font lives in a memfd, known to fontconfig as an application font by its /proc path: no
 * file to write or clean up. Its name leaves "IPA" out, as the IPA Font License asks of a
 * derived font (art. 3.1 (4)); the copyright and licence strings are IPAex's. If anything
 * fails the PDF uses IPAex Gothic alone, as before (a warning says so). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create; the build defines it too */
#endif
#include <fontconfig/fontconfig.h>
#include <hb-ot.h>
#include <hb-subset.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cert.h"
#include "sesshu/err.h"

#define SOURCE_FAMILY  "IPAexGothic"
#define NAME_MAX_UNITS 512 /* UTF-16 units of a name string we copy */

/* The ranges every page may print whatever its data: ASCII, Latin-1, CJK punctuation, kana,
 * full-width forms. */
static const hb_codepoint_t ranges[][2] = {
    {0x20, 0x7E},     {0xA0, 0xFF},     {0x3000, 0x303F},
    {0x3041, 0x3096}, {0x30A0, 0x30FF}, {0xFF01, 0xFF60},
};
/* 首長名: 都道府県名 + 市区町村名 + 長. */
static const char prefectures[] =
    "北海道青森県岩手県宮城県秋田県山形県福島県茨城県栃木県群馬県埼玉県千葉県東京都神奈川県新潟"
    "県富山県石川県福井県山梨県長野県岐阜県静岡県愛知県三重県滋賀県京都府大阪府兵庫県奈良県和歌山"
    "県鳥取県島根県岡山県広島県山口県徳島県香川県愛媛県高知県福岡県佐賀県長崎県熊本県大分県宮崎県"
    "鹿児島県沖縄県市区町村郡長";

/* The code point at *p (UTF-8, valid: the texts are ours or checked on input), *p moved on. */
static unsigned next_cp(const unsigned char **p)
{
    unsigned cp = **p, n = 0;

    if (cp >= 0xF0)
        cp &= 0x07, n = 3;
    else if (cp >= 0xE0)
        cp &= 0x0F, n = 2;
    else if (cp >= 0xC0)
        cp &= 0x1F, n = 1;
    (*p)++;
    for (; n > 0 && (**p & 0xC0) == 0x80; n--, (*p)++)
        cp = cp << 6 | (**p & 0x3F);
    return cp;
}

/* The code points of UTF-8 text into set. */
static void add_utf8(hb_set_t *set, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p)
        hb_set_add(set, next_cp(&p));
}

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

/* The characters of our font (those of the cut IPAex has), once it is loaded; read-only then. */
static hb_set_t *covered;

/* The subset of src for the characters of text and the fixed ranges, named family; the
 * characters it holds into *chars (new set). */
static hb_blob_t *cut(hb_face_t *src, const char *text, const char *family, hb_set_t **chars)
{
    hb_subset_input_t *in = hb_subset_input_create_or_fail();
    hb_face_t *sub = NULL, *parsed = NULL, *out = NULL;
    hb_blob_t *sb = NULL, *nb = NULL, *res = NULL;
    hb_tag_t tags[64];
    unsigned ntags = 64;

    *chars = hb_set_create();
    if (in == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        hb_set_add_range(hb_subset_input_unicode_set(in), ranges[i][0], ranges[i][1]);
    add_utf8(hb_subset_input_unicode_set(in), text);
    add_utf8(hb_subset_input_unicode_set(in), prefectures);
    hb_face_collect_unicodes(src, *chars);
    hb_set_intersect(*chars, hb_subset_input_unicode_set(in));
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

int cert_font_load(const char *text, const char *family)
{
    char *file = source_file(), path[64];
    hb_blob_t *src_blob = NULL, *font = NULL;
    hb_face_t *src = NULL;
    hb_set_t *chars = NULL;
    const char *data;
    unsigned len = 0;
    int fd = -1, rc = SS_ERR_INTERNAL;

    if (file == NULL || (src_blob = hb_blob_create_from_file_or_fail(file)) == NULL ||
        (src = hb_face_create(src_blob, 0)) == NULL ||
        (font = cut(src, text, family, &chars)) == NULL)
        goto out;
    data = hb_blob_get_data(font, &len);
    if ((fd = memfd_create("sesshu-cert-font", MFD_CLOEXEC)) < 0 ||
        write(fd, data, len) != (ssize_t)len)
        goto out;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (FcConfigAppFontAddFile(NULL, (const FcChar8 *)path)) {
        fd = -1; /* stays open: fontconfig and FreeType open the font by its path */
        covered = chars;
        chars = NULL;
        rc = 0;
    }
out:
    if (fd >= 0)
        close(fd);
    hb_set_destroy(chars);
    hb_blob_destroy(font);
    hb_face_destroy(src);
    hb_blob_destroy(src_blob);
    free(file);
    return rc;
}

bool cert_font_covers(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (covered == NULL)
        return false;
    while (*p)
        if (!hb_set_has(covered, next_cp(&p)))
            return false;
    return true;
}
