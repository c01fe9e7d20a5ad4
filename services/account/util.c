/* util.c - small helpers the account handlers share: identifier and kana
 * checks, JSON built by PostgreSQL, keyset pages, temporary passwords. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "sesshu/body.h"
#include "sesshu/crypto.h"
#include "sesshu/err.h"
#include "sesshu/page.h"
#include "sesshu/text.h"

bool acct_login_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n < 3 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum =
            (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && ch != '.' && ch != '_' && ch != '@' && ch != '-')
            return false;
    }
    return true;
}

/* Next code point of valid UTF-8 (the dispatcher validated the body). */
static long next_cp(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    long cp;
    int extra;

    if (p[0] < 0x80) {
        *pp = p + 1;
        return p[0];
    }
    if ((p[0] & 0xE0) == 0xC0) {
        cp = p[0] & 0x1F;
        extra = 1;
    } else if ((p[0] & 0xF0) == 0xE0) {
        cp = p[0] & 0x0F;
        extra = 2;
    } else {
        cp = p[0] & 0x07;
        extra = 3;
    }
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *pp = p + 1 + extra;
    return cp;
}

static bool kana_cp_ok(long cp)
{
    if (cp == ' ' || cp == 0x3000) /* spaces */
        return true;
    if (cp >= 0x3041 && cp <= 0x30FF) /* hiragana, katakana, ー ・ ゛ ゜ */
        return true;
    if (cp >= 0xFF65 && cp <= 0xFF9F) /* half-width katakana */
        return true;
    if ((cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'))
        return true;
    if ((cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
        (cp >= 0xFF41 && cp <= 0xFF5A)) /* full-width digits and latin */
        return true;
    return cp == '-' || cp == '.' || cp == '(' || cp == ')' || cp == 0xFF08 || cp == 0xFF09 ||
           cp == 0xFF0D || cp == 0x2010 || cp == 0xFF0E;
}

bool acct_kana_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (p == NULL || *p == '\0')
        return false;
    while (*p) {
        long cp = next_cp(&p);
        if (cp < 0 || !kana_cp_ok(cp))
            return false;
    }
    return true;
}

int acct_kana_field(ss_req *r, const json_t *obj, const char *field)
{
    const char *kana = ss_json_str(obj, "name_kana");

    if (kana != NULL && !acct_kana_ok(kana))
        return ss_req_field_error(r, field, "must be written in kana");
    return 0;
}

json_t *acct_json_col(const PGresult *res, int row, int col)
{
    const char *v = ss_db_val(res, row, col);

    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
}

int acct_page(ss_req *r, int *limit, char ts[64], char id[40])
{
    json_t *cur = NULL;
    const char *t, *i;
    int rc;

    ts[0] = id[0] = '\0';
    if ((rc = ss_page_params(r, SS_PAGE_DEFAULT, SS_PAGE_MAX, limit, &cur)) != 0 || cur == NULL)
        return rc;
    t = json_string_value(json_array_get(cur, 0));
    i = json_string_value(json_array_get(cur, 1));
    if (json_array_size(cur) != 2 || t == NULL || strlen(t) >= 64 || t[0] == '\0' ||
        !ss_uuid_ok(i)) {
        json_decref(cur);
        return ss_req_field_error(r, "cursor", "is not a cursor this service issued");
    }
    snprintf(ts, 64, "%s", t);
    snprintf(id, 40, "%s", i);
    json_decref(cur);
    return 0;
}

int acct_list_reply(ss_req *r, const PGresult *res, int limit)
{
    json_t *items = json_array();
    json_t *key = NULL;
    char *cursor = NULL;
    int n = PQntuples(res);
    int rc = SS_ERR_NOMEM;

    if (items == NULL)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n && i < limit; i++)
        if (json_array_append_new(items, acct_json_col(res, i, 0)) != 0)
            goto out;
    if (n > limit) {
        json_t *last = json_array_get(items, (size_t)limit - 1);
        key = json_pack("[OO]", json_object_get(last, "created_at"), json_object_get(last, "id"));
        if (key == NULL || (cursor = ss_page_cursor(key)) == NULL)
            goto out;
    }
    rc = ss_reply_json_new(r, 200, json_pack("{s:O,s:s?}", "items", items, "next_cursor", cursor));
out:
    free(cursor);
    json_decref(key);
    json_decref(items);
    return rc;
}

int acct_empty_body(ss_req *r)
{
    static const ss_field none[] = {{NULL, 0, false, 0, 0, NULL, false}};

    return r->body == NULL ? 0 : ss_json_check(r, r->body, none);
}

int acct_temp_password(char *pw, char **phc_out)
{
    int rc = ss_pw_generate(pw, ACCT_TEMP_PW_LEN);

    if (rc != 0)
        return rc;
    return ss_pw_hash(pw, phc_out);
}
