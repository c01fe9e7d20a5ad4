/* codes.c - check digits of Japanese codes (docs/domain.md §2). */
#include "sesshu/codes.h"

#include <string.h>

bool ss_code_digits(const char *s, size_t n)
{
    if (s == NULL || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Luhn check digit over s[0..n-1]: weights 2,1,2,... from the right. */
static int luhn_cd(const char *s, size_t n)
{
    int sum = 0;

    for (size_t i = 0; i < n; i++) {
        int d = s[n - 1 - i] - '0';
        if (i % 2 == 0) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return (10 - sum % 10) % 10;
}

bool ss_code_municipality_ok(const char *s)
{
    static const int w[5] = {6, 5, 4, 3, 2};
    int sum = 0;
    int cd;

    if (!ss_code_digits(s, 6))
        return false;
    for (int i = 0; i < 5; i++)
        sum += (s[i] - '0') * w[i];
    cd = (11 - sum % 11) % 10;
    return cd == s[5] - '0' && ((s[0] - '0') * 10 + (s[1] - '0')) >= 1 &&
           ((s[0] - '0') * 10 + (s[1] - '0')) <= 47;
}

bool ss_code_institution_ok(const char *s)
{
    if (!ss_code_digits(s, 10))
        return false;
    if (s[2] != '1' && s[2] != '3' && s[2] != '4')
        return false;
    return luhn_cd(s, 9) == s[9] - '0';
}

bool ss_code_prefecture_ok(const char *s)
{
    int n;

    if (!ss_code_digits(s, 2))
        return false;
    n = (s[0] - '0') * 10 + (s[1] - '0');
    return n >= 1 && n <= 47;
}

bool ss_code_my_number_ok(const char *s)
{
    static const int w[11] = {6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
    int sum = 0;
    int r;

    if (!ss_code_digits(s, 12))
        return false;
    for (int i = 0; i < 11; i++)
        sum += (s[i] - '0') * w[i];
    r = sum % 11;
    return (r <= 1 ? 0 : 11 - r) == s[11] - '0';
}

bool ss_code_insurer_ok(const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    n = strlen(s);
    if ((n != 6 && n != 8) || !ss_code_digits(s, n))
        return false;
    return luhn_cd(s, n - 1) == s[n - 1] - '0';
}
