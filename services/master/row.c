/* row.c - one value checked and written as COPY text; who may edit which row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mst.h"
#include "sesshu/codes.h"
#include "sesshu/text.h"

static bool all_in(const char *s, const char *set)
{
    return strspn(s, set) == strlen(s);
}

static bool code_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= 32 && strchr("_.-", s[0]) == NULL &&
           all_in(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
}

static bool digits_n(const char *s, size_t n)
{
    return strlen(s) == n && all_in(s, "0123456789");
}

/* 医療機関コード, or the non-insurance pseudo-code (digit 3 = 9, same Luhn digit). */
static bool inst_ok(const char *s)
{
    char probe[11];
    int sum = 0;

    if (!digits_n(s, 10) || !ss_code_prefecture_ok((char[3]){s[0], s[1], '\0'}))
        return false;
    if (s[2] != '9')
        return ss_code_institution_ok(s);
    snprintf(probe, sizeof(probe), "%s", s);
    for (int i = 0; i < 9; i++) {
        int d = probe[8 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return (10 - sum % 10) % 10 == probe[9] - '0';
}

static bool vaccine_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 9 || n == 13)
        return all_in(s, "0123456789");
    return n == 12 && strspn(s, "0123456789") >= 7 &&
           all_in(s + 7, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
}

/* Zengin characters: half-width katakana (U+FF66..U+FF9F, 3 UTF-8 bytes EF BD A6..EF BE 9F),
 * A-Z, 0-9, space and ().-/ */
static bool hankana_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ().-/", *p) != NULL) {
            p++;
            continue;
        }
        if (p[0] != 0xEF || p[1] == 0 || p[2] == 0)
            return false;
        if (!((p[1] == 0xBD && p[2] >= 0xA6 && p[2] <= 0xBF) ||
              (p[1] == 0xBE && p[2] >= 0x80 && p[2] <= 0x9F)))
            return false;
        p += 3;
    }
    return true;
}

static bool int_ok(const char *s, long min, long max)
{
    char *end;
    long v;

    if (s[0] == '\0' || strlen(s) > 12 || !all_in(s + (s[0] == '-'), "0123456789"))
        return false;
    v = strtol(s, &end, 10);
    return *end == '\0' && v >= min && v <= max;
}

static const char *check_text(const mst_col *c, const char *s)
{
    size_t n = ss_utf8_len(s);
    long max = c->max > 0 ? c->max : 200;

    switch (c->check) {
    case MST_C_CODE: return code_ok(s) ? NULL : "must be 1-32 of A-Z a-z 0-9 _ . -";
    case MST_C_PREF: return ss_code_prefecture_ok(s) ? NULL : "must be a prefecture code 01-47";
    case MST_C_MUNI:
        return ss_code_municipality_ok(s)
                   ? NULL
                   : "must be a 6-digit 全国地方公共団体コード with its check digit";
    case MST_C_INST:
        return inst_ok(s) ? NULL : "must be a 10-digit 医療機関コード with its check digit";
    case MST_C_VACCINE: return vaccine_ok(s) ? NULL : "must be a HOT9, HOT13 or YJ code";
    case MST_C_DIGITS: return digits_n(s, (size_t)c->max) ? NULL : "has the wrong number of digits";
    case MST_C_LOT:
        return strlen(s) <= 20 &&
                       all_in(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
                   ? NULL
                   : "must be 1-20 of A-Z a-z 0-9 -";
    case MST_C_ENUM:
        for (int i = 0; c->values[i] != NULL; i++)
            if (strcmp(s, c->values[i]) == 0)
                return NULL;
        return "is not one of the allowed values";
    case MST_C_HANKANA:
        if (!hankana_ok(s))
            return "must be Zengin half-width kana, A-Z, 0-9, space or ().-/";
        break;
    default: break;
    }
    if ((long)n < (c->min > 0 ? c->min : 1) || (long)n > max)
        return "has the wrong length";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return "must not contain control characters";
    return NULL;
}

static const char *check_scalar(const mst_col *c, const char *s)
{
    switch (c->type) {
    case MST_INT: return int_ok(s, c->min, c->max) ? NULL : "must be an integer in range";
    case MST_BOOL:
        return (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) ? NULL : "must be true or false";
    case MST_DATE: return ss_date_ok(s) ? NULL : "must be a date YYYY-MM-DD";
    case MST_INTERVAL:
        return strlen(s) <= 40 && all_in(s, "0123456789 -:.abcdefghijklmnopqrstuvwxyz")
                   ? NULL
                   : "must be an interval such as '2 mons -1 days'";
    case MST_NUMERIC:
        return strlen(s) <= 12 && all_in(s, "0123456789.") && strchr(s, '.') == strrchr(s, '.') &&
                       s[0] != '.'
                   ? NULL
                   : "must be a decimal number";
    default: return check_text(c, s);
    }
}

/* Element list "a|b" as a COPY array literal {a,b}; elements are codes (no quoting needed). */
static const char *array_copy(const mst_col *c, const char *s, ss_buf *copy)
{
    char part[64];
    long n = 0;
    const char *p = s;

    if (ss_buf_str(copy, "{") != 0)
        return "out of memory";
    for (;;) {
        size_t len = strcspn(p, "|");

        if (len == 0 || len >= sizeof(part))
            return "must be codes separated by |";
        memcpy(part, p, len);
        part[len] = '\0';
        if (!code_ok(part))
            return "must be codes separated by |";
        if ((n > 0 && ss_buf_str(copy, ",") != 0) || ss_buf_str(copy, part) != 0)
            return "out of memory";
        n++;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    if (n < c->min || n > c->max)
        return "has the wrong number of elements";
    return ss_buf_str(copy, "}") == 0 ? NULL : "out of memory";
}

const char *mst_value_copy(const mst_col *c, const char *text, ss_buf *copy)
{
    const char *why;

    if (text == NULL || text[0] == '\0') {
        if (c->required)
            return "is required";
        return ss_buf_str(copy, "\\N") == 0 ? NULL : "out of memory";
    }
    if (!ss_utf8_valid(text, strlen(text)))
        return "is not valid UTF-8";
    if (c->type == MST_TEXT_ARRAY)
        return array_copy(c, text, copy);
    if ((why = check_scalar(c, text)) != NULL)
        return why;
    /* COPY text format: the checks above leave only \ to escape (no tabs, no line breaks). */
    for (const char *p = text; *p; p++)
        if (ss_buf_add(copy, p, 1) != 0 || (*p == '\\' && ss_buf_add(copy, "\\", 1) != 0))
            return "out of memory";
    return NULL;
}

bool mst_may_edit(const mst_master *m, const ss_principal *p)
{
    unsigned bit = MST_ORG(p->org_type);

    if (p->kind != SS_PRINCIPAL_USER || !ss_authz_has(p, SS_PERM_MASTERS_WRITE))
        return false;
    return (m->editors & bit) != 0 || ((m->own_editors & bit) != 0 && mst_owner_of(m, p) != NULL);
}

const char *mst_owner_of(const mst_master *m, const ss_principal *p)
{
    unsigned bit = MST_ORG(p->org_type);

    if ((m->editors & bit) != 0 || (m->own_editors & bit) == 0)
        return NULL;
    switch (m->own_kind) {
    case MST_OWN_MUNI: return p->muni_code[0] ? p->muni_code : NULL;
    case MST_OWN_ORG_CODE: return p->org_code[0] ? p->org_code : NULL;
    case MST_OWN_PREF: return p->pref_code[0] ? p->pref_code : NULL;
    default: return NULL;
    }
}

const char *mst_row_owner_ok(const mst_master *m, const ss_principal *p, const char *own)
{
    const char *mine = mst_owner_of(m, p);

    if ((m->editors & MST_ORG(p->org_type)) != 0)
        return NULL;
    if (mine == NULL || own == NULL || strcmp(mine, own) != 0)
        return "belongs to another organisation";
    return NULL;
}

const char *mst_source_of(const ss_principal *p)
{
    switch (p->org_type) {
    case SS_ORG_MHLW: return "MHLW";
    case SS_ORG_MUNICIPALITY: return "MUNI";
    case SS_ORG_MEDICAL:
    case SS_ORG_NONINS_MEDICAL: return "INST";
    case SS_ORG_KOKUHOREN: return "KOKUHOREN";
    case SS_ORG_CHUOKAI: return "CHUOKAI";
    default: return "OPERATOR";
    }
}
