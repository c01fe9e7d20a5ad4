/* test_zengin.c - the Zengin holder-name rule (zengin.h) and the JIS X 0201 field writers. */
#include <string.h>

#include "sesshu/zengin.h"
#include "unit.h"

static int conv(const char *in, char *out)
{
    return ss_zengin_name(in, SS_ZENGIN_NAME_MAX, out, 4 * SS_ZENGIN_NAME_MAX + 1, NULL, NULL);
}

#define CONVERTS(in, want)                            \
    do {                                              \
        char out_[4 * SS_ZENGIN_NAME_MAX + 1];        \
        ck_assert_int_eq(conv((in), out_), SS_ZN_OK); \
        ck_assert_str_eq(out_, (want));               \
        ck_assert(ss_zengin_set_ok(out_));            \
    } while (0)

START_TEST(already_in_the_set)
{
    CONVERTS("ｲﾘﾖｳﾎｳｼﾞﾝ ｼﾝｼﾞﾕｸﾅｲｶ", "ｲﾘﾖｳﾎｳｼﾞﾝ ｼﾝｼﾞﾕｸﾅｲｶ");
    CONVERTS("ｶ)ABC-123 (./,)", "ｶ)ABC-123 (./,)");
    CONVERTS("｢ﾃｽﾄ｣", "｢ﾃｽﾄ｣");
}
END_TEST

START_TEST(full_width_rules)
{
    CONVERTS("シンジュクナイカ", "ｼﾝｼﾞﾕｸﾅｲｶ"); /* rules 3, 4 */
    CONVERTS("ガギグゲゴ パピプペポ ヴ", "ｶﾞｷﾞｸﾞｹﾞｺﾞ ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ ｳﾞ");
    CONVERTS("ｉｒｙｏｕ　ＡＢＣ１２３", "IRYOU ABC123"); /* rules 1, 2 */
    CONVERTS("abc", "ABC");
    CONVERTS("きっぷ", "ｷﾂﾌﾟ");                     /* hiragana, small tsu */
    CONVERTS("ァィゥェォャュョッヮ", "ｱｲｳｴｵﾔﾕﾖﾂﾜ"); /* rule 4 */
    CONVERTS("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ");
    CONVERTS("ミツビシユーエフジェイ", "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ"); /* the seed's bank name */
    CONVERTS("ヤマダ・タロウ", "ﾔﾏﾀﾞ.ﾀﾛｳ");
    CONVERTS("「カ」（カブ）", "｢ｶ｣(ｶﾌﾞ)");
    CONVERTS("  ﾔﾏﾀﾞ ﾀﾛｳ  ", "ﾔﾏﾀﾞ ﾀﾛｳ"); /* rule 6 */
    CONVERTS("ヲ", "ｦ");
    CONVERTS("カ\xE3\x82\x99", "ｶﾞ"); /* combining voiced mark */
}
END_TEST

START_TEST(refused_with_the_character)
{
    char out[4 * SS_ZENGIN_NAME_MAX + 1], bad[8] = "";
    unsigned cp = 0;

    ck_assert_int_eq(ss_zengin_name("ﾔﾏﾀﾞ 太郎", 30, out, sizeof(out), bad, &cp), SS_ZN_BAD_CHAR);
    ck_assert_str_eq(bad, "太");
    ck_assert_uint_eq(cp, 0x592A);
    ck_assert_int_eq(ss_zengin_name("ABC@D", 30, out, sizeof(out), bad, &cp), SS_ZN_BAD_CHAR);
    ck_assert_str_eq(bad, "@");
    ck_assert_int_eq(ss_zengin_name("ﾃｽﾄ｡", 30, out, sizeof(out), bad, &cp), SS_ZN_BAD_CHAR);
    ck_assert_uint_eq(cp, 0xFF61);
    ck_assert_int_eq(ss_zengin_name("A\tB", 30, out, sizeof(out), bad, &cp), SS_ZN_BAD_CHAR);
    ck_assert_int_eq(ss_zengin_name("😀", 30, out, sizeof(out), bad, &cp), SS_ZN_BAD_CHAR);
    ck_assert_uint_eq(cp, 0x1F600);
    ck_assert_int_eq(ss_zengin_name("\xFF", 30, out, sizeof(out), bad, &cp), SS_ZN_BAD_UTF8);
    ck_assert_int_eq(ss_zengin_name("   ", 30, out, sizeof(out), bad, &cp), SS_ZN_EMPTY);
    ck_assert_int_eq(ss_zengin_name("", 30, out, sizeof(out), bad, &cp), SS_ZN_EMPTY);
    ck_assert(!ss_zengin_set_ok("ｱ a"));
    ck_assert(!ss_zengin_set_ok("ア"));
}
END_TEST

START_TEST(length_counts_sound_marks)
{
    char out[4 * SS_ZENGIN_NAME_MAX + 1];

    /* 15 voiced kana = 30 half-width characters: fits; 16 do not. */
    ck_assert_int_eq(conv("ガガガガガガガガガガガガガガガ", out), SS_ZN_OK);
    ck_assert_int_eq(conv("ガガガガガガガガガガガガガガガガ", out), SS_ZN_TOO_LONG);
    ck_assert_int_eq(conv("ABCDEFGHIJABCDEFGHIJABCDEFGHIJ", out), SS_ZN_OK);
    ck_assert_int_eq(conv("ABCDEFGHIJABCDEFGHIJABCDEFGHIJK", out), SS_ZN_TOO_LONG);
}
END_TEST

START_TEST(jis_fields)
{
    char f[12];

    memset(f, 'x', sizeof(f));
    ck_assert_uint_eq(ss_zengin_put_text(f, 6, "ｱｲA"), 0);
    ck_assert_int_eq((unsigned char)f[0], 0xB1);
    ck_assert_int_eq((unsigned char)f[1], 0xB2);
    ck_assert_int_eq(f[2], 'A');
    ck_assert(memcmp(f + 3, "   ", 3) == 0);
    ck_assert_int_eq(f[6], 'x');
    ck_assert_uint_eq(ss_zengin_put_text(f, 2, "ﾃﾞｽ"), 1);
    ck_assert_int_eq((unsigned char)f[0], 0xC3);
    ck_assert_int_eq((unsigned char)f[1], 0xDE);
    ck_assert_int_eq(ss_zengin_put_num(f, 7, 1234), 0);
    ck_assert(memcmp(f, "0001234", 7) == 0);
    ck_assert_int_eq(ss_zengin_put_num(f, 3, 1234), -1);
    ck_assert(memcmp(f, "999", 3) == 0);
}
END_TEST

UNIT_MAIN("zengin", already_in_the_set, full_width_rules, refused_with_the_character,
          length_counts_sound_marks, jis_fields)
