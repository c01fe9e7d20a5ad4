/* zengin.c - Zengin holder-name conversion and JIS X 0201 field writers (zengin.h). Pure
 * functions: no allocation, no global state. */
#include "sesshu/zengin.h"

#include <string.h>

/* Half-width forms of the katakana U+30A1 (ァ) .. U+30F6 (ヶ), small kana already made large
 * (rule 4): one UTF-8 string per code point, "" for none. */
static const char *const kata_half[] = {
    "ｱ",  "ｱ",  "ｲ",  "ｲ",  "ｳ",  "ｳ",  "ｴ",  "ｴ", "ｵ",  "ｵ",  "ｶ",  "ｶﾞ", "ｷ",  "ｷﾞ", "ｸ",
    "ｸﾞ", "ｹ",  "ｹﾞ", "ｺ",  "ｺﾞ", "ｻ",  "ｻﾞ", "ｼ", "ｼﾞ", "ｽ",  "ｽﾞ", "ｾ",  "ｾﾞ", "ｿ",  "ｿﾞ",
    "ﾀ",  "ﾀﾞ", "ﾁ",  "ﾁﾞ", "ﾂ",  "ﾂ",  "ﾂﾞ", "ﾃ", "ﾃﾞ", "ﾄ",  "ﾄﾞ", "ﾅ",  "ﾆ",  "ﾇ",  "ﾈ",
    "ﾉ",  "ﾊ",  "ﾊﾞ", "ﾊﾟ", "ﾋ",  "ﾋﾞ", "ﾋﾟ", "ﾌ", "ﾌﾞ", "ﾌﾟ", "ﾍ",  "ﾍﾞ", "ﾍﾟ", "ﾎ",  "ﾎﾞ",
    "ﾎﾟ", "ﾏ",  "ﾐ",  "ﾑ",  "ﾒ",  "ﾓ",  "ﾔ",  "ﾔ", "ﾕ",  "ﾕ",  "ﾖ",  "ﾖ",  "ﾗ",  "ﾘ",  "ﾙ",
    "ﾚ",  "ﾛ",  "ﾜ",  "ﾜ",  "ｲ",  "ｴ",  "ｦ",  "ﾝ", "ｳﾞ", "ｶ",  "ｹ",
};

/* Large forms of the half-width small kana ｧ (U+FF67) .. ｯ (U+FF6F). */
static const char *const half_small_large[] = {"ｱ", "ｲ", "ｳ", "ｴ", "ｵ", "ﾔ", "ﾕ", "ﾖ", "ﾂ"};

/* Decode one UTF-8 sequence at s: its code point in *cp and its length, or 0 if invalid. */
static size_t utf8_next(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0], v, need;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        need = 1, v = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 2, v = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 3, v = c & 0x07;
    else
        return 0;
    for (unsigned i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((need == 2 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (need == 3 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return need + 1;
}

static size_t utf8_put(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool ascii_ok(unsigned c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '(' || c == ')' ||
           c == '-' || c == '.' || c == '/' || c == ',';
}

/* Half-width katakana, sound marks, ｦ and the corner brackets ｢ ｣. */
static bool half_ok(unsigned c)
{
    return (c >= 0xFF71 && c <= 0xFF9F) || c == 0xFF66 || c == 0xFF62 || c == 0xFF63;
}

static bool set_ok_cp(unsigned c)
{
    return c < 0x80 ? ascii_ok(c) : half_ok(c);
}

/* The Zengin text of one code point (rules 1-5) as UTF-8 in buf (room for 8), or NULL. */
static const char *convert_cp(unsigned c, char buf[8])
{
    if (c >= 0xFF01 && c <= 0xFF5E) /* rule 1: full-width ASCII */
        c -= 0xFEE0;
    else if (c == 0x3000)
        c = ' ';
    if (c >= 'a' && c <= 'z') /* rule 2 */
        c -= 'a' - 'A';
    if (c >= 0x3041 && c <= 0x3096) /* rule 3: hiragana -> katakana */
        c += 0x60;
    if (c >= 0x30A1 && c <= 0x30F6)
        return kata_half[c - 0x30A1];
    if (c >= 0xFF67 && c <= 0xFF6F) /* rule 4 */
        return half_small_large[c - 0xFF67];
    switch (c) { /* rule 5 */
    case 0x30FC:
    case 0xFF70:
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2212: c = '-'; break;
    case 0x30FB:
    case 0xFF65: c = '.'; break;
    case 0x300C: c = 0xFF62; break;
    case 0x300D: c = 0xFF63; break;
    case 0x3099:
    case 0x309B: c = 0xFF9E; break;
    case 0x309A:
    case 0x309C: c = 0xFF9F; break;
    default: break;
    }
    if (!set_ok_cp(c))
        return NULL;
    buf[utf8_put(c, buf)] = '\0';
    return buf;
}

int ss_zengin_name(const char *in, size_t max, char *out, size_t outsz, char *bad, unsigned *bad_cp)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t used = 0, chars = 0, last_nonspace = 0, chars_nonspace = 0;
    char buf[8];

    if (out == NULL || outsz < 1)
        return SS_ZN_TOO_LONG;
    out[0] = '\0';
    if (in == NULL)
        return SS_ZN_EMPTY;
    while (*p != '\0') {
        unsigned cp = 0;
        size_t n = utf8_next(p, &cp);
        const char *t;

        if (n == 0)
            return SS_ZN_BAD_UTF8;
        if ((t = convert_cp(cp, buf)) == NULL) {
            if (bad != NULL) {
                memcpy(bad, p, n);
                bad[n] = '\0';
            }
            if (bad_cp != NULL)
                *bad_cp = cp;
            return SS_ZN_BAD_CHAR;
        }
        p += n;
        for (const unsigned char *q = (const unsigned char *)t; *q != '\0';) {
            unsigned c2 = 0;
            size_t m = utf8_next(q, &c2);

            if (c2 == ' ' && chars == 0) { /* rule 6: leading spaces */
                q += m;
                continue;
            }
            if (used + m + 1 > outsz)
                return SS_ZN_TOO_LONG;
            memcpy(out + used, q, m);
            used += m;
            chars++;
            q += m;
            if (c2 != ' ') {
                last_nonspace = used;
                chars_nonspace = chars;
            }
        }
    }
    out[last_nonspace] = '\0'; /* rule 6: trailing spaces */
    if (chars_nonspace == 0)
        return SS_ZN_EMPTY;
    if (chars_nonspace > max)
        return SS_ZN_TOO_LONG;
    return SS_ZN_OK;
}

bool ss_zengin_set_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL)
        return false;
    while (*p != '\0') {
        unsigned cp = 0;
        size_t n = utf8_next(p, &cp);

        if (n == 0 || !set_ok_cp(cp))
            return false;
        p += n;
    }
    return true;
}

size_t ss_zengin_put_text(char *dst, size_t width, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t i = 0, left = 0;

    while (*p != '\0') {
        unsigned cp = 0;
        size_t n = utf8_next(p, &cp);
        char b;

        if (n == 0)
            n = 1, cp = '?';
        if (cp >= 0xFF61 && cp <= 0xFF9F)
            b = (char)(unsigned char)(cp - 0xFF61 + 0xA1);
        else if (cp >= 0x20 && cp < 0x7F)
            b = (char)cp;
        else
            b = '?';
        if (i < width)
            dst[i++] = b;
        else
            left++;
        p += n;
    }
    memset(dst + i, ' ', width - i);
    return left;
}

int ss_zengin_put_num(char *dst, size_t width, unsigned long long v)
{
    for (size_t i = width; i > 0; i--) {
        dst[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    if (v != 0) {
        memset(dst, '9', width);
        return -1;
    }
    return 0;
}
