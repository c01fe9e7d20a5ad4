/* zengin.h - the character rules of 全銀協 (Zengin) transfer data: account holder names
 * (受取人名) in the characters a bank transfer allows, and their JIS X 0201 bytes.
 *
 * The allowed characters (the "Zengin set"): half-width katakana ｱ…ﾝ and ｦ, the sound marks
 * ﾞ ﾟ, upper-case letters A-Z, digits 0-9, space, and the symbols ( ) - . / , ｢ ｣.
 *
 * ss_zengin_name() converts what a person types into that set by one documented rule, applied
 * character by character:
 *   1. full-width ASCII (U+FF01..U+FF5E) becomes ASCII; U+3000 (ideographic space) a space;
 *   2. lower-case a-z become A-Z;
 *   3. hiragana become katakana; full-width katakana become half-width, a voiced or
 *      semi-voiced kana two characters (ガ -> ｶﾞ, パ -> ﾊﾟ, ヴ -> ｳﾞ);
 *   4. small kana become their large forms, as banks print them (ァ ｧ -> ｱ, ッ ｯ -> ﾂ,
 *      ャ ｬ -> ﾔ, ヮ -> ﾜ); ヰ -> ｲ, ヱ -> ｴ;
 *   5. the long-vowel mark (ー, ｰ) and dashes (‐ − – —) become '-'; ・ and ･ become '.';
 *      「」 become ｢｣; a combining sound mark (U+3099/U+309A, ゛ ゜) becomes ﾞ or ﾟ;
 *   6. leading and trailing spaces are removed;
 * every other character is refused, and the error names the first one. The result must be
 * 1..30 characters (the width of 受取人名 C(30); a sound mark counts as one). */
#ifndef SESSHU_ZENGIN_H
#define SESSHU_ZENGIN_H

#include <stdbool.h>
#include <stddef.h>

#define SS_ZENGIN_NAME_MAX 30 /* characters (= bytes in JIS X 0201) */

enum ss_zengin_name_err {
    SS_ZN_OK = 0,
    SS_ZN_EMPTY = -1,    /* nothing left after trimming */
    SS_ZN_TOO_LONG = -2, /* more than max characters after conversion */
    SS_ZN_BAD_CHAR = -3, /* a character outside the set and the conversion rule */
    SS_ZN_BAD_UTF8 = -4, /* input is not valid UTF-8 */
};

/* Convert UTF-8 `in` to the Zengin set, as UTF-8 (half-width katakana U+FF61..U+FF9F, ASCII)
 * in out (size outsz >= 4 * max + 1). max is the largest number of characters allowed
 * (SS_ZENGIN_NAME_MAX for holder names). On SS_ZN_BAD_CHAR the offending character is copied
 * as UTF-8 into bad (size >= 8) and *bad_cp receives its code point (either may be NULL).
 * Returns 0 or an ss_zengin_name_err. Pure: no allocation, no global state. */
int ss_zengin_name(const char *in, size_t max, char *out, size_t outsz, char *bad,
                   unsigned *bad_cp);

/* Is s (UTF-8) entirely in the Zengin set (already converted)? */
bool ss_zengin_set_ok(const char *s);

/* Write s (UTF-8 in the Zengin set, or plain ASCII digits) into `width` bytes of dst as
 * JIS X 0201 (half-width katakana U+FF61..U+FF9F -> 0xA1..0xDF, ASCII as is), left-aligned and
 * padded with spaces; longer text is cut at width. Characters outside the set become '?'.
 * Returns the number of characters of s that did not fit (0 when all did). */
size_t ss_zengin_put_text(char *dst, size_t width, const char *s);

/* Write the unsigned number v right-aligned, zero-padded, in `width` bytes of dst. Returns 0,
 * or -1 if v does not fit (dst is then filled with '9's so the error is visible). */
int ss_zengin_put_num(char *dst, size_t width, unsigned long long v);

#endif
