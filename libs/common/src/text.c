/* text.c - UTF-8, date, e-mail and clock helpers (text.h). */
#include "sesshu/text.h"

#include <string.h>
#include <time.h>

bool ss_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        unsigned cp;
        size_t n;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= len)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

size_t ss_utf8_len(const char *str)
{
    size_t n = 0;

    for (const unsigned char *s = (const unsigned char *)str; *s; s++)
        if ((*s & 0xC0) != 0x80)
            n++;
    return n;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool ymd_ok(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max;

    if (y < 1800 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

bool ss_date_ok(const char *s)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (!all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2))
        return false;
    return ymd_ok(num(s, 4), num(s + 5, 2), num(s + 8, 2));
}

bool ss_timestamp_ok(const char *s)
{
    char date[11];
    const char *p;
    size_t len;

    if (s == NULL || strlen(s) < 20)
        return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!ss_date_ok(date))
        return false;
    if (s[10] != 'T' && s[10] != 't')
        return false;
    p = s + 11;
    if (!all_digits(p, 2) || p[2] != ':' || !all_digits(p + 3, 2) || p[5] != ':' ||
        !all_digits(p + 6, 2))
        return false;
    if (num(p, 2) > 23 || num(p + 3, 2) > 59 || num(p + 6, 2) > 60)
        return false;
    p += 8;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    len = strlen(p);
    return len == 6 && (p[0] == '+' || p[0] == '-') && all_digits(p + 1, 2) && p[3] == ':' &&
           all_digits(p + 4, 2) && num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59;
}

bool ss_email_ok(const char *s)
{
    const char *at;
    const char *dot;
    size_t len;

    if (s == NULL)
        return false;
    len = strlen(s);
    if (len < 3 || len > 254)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7F || *p == '<' || *p == '>' || *p == ',' || *p == ';' ||
            *p == '"' || *p == '\\' || *p == '(' || *p == ')')
            return false;
    at = strchr(s, '@');
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL || at - s > 64)
        return false;
    dot = strrchr(at + 1, '.');
    return dot != NULL && dot > at + 1 && dot[1] != '\0' && strstr(at, "..") == NULL;
}

long long ss_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long ss_now_s(void)
{
    return (long long)time(NULL);
}

void ss_deadline(struct timespec *ts, int clock, long ms)
{
    clock_gettime((clockid_t)clock, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

bool ss_uuid_ok(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                   (s[i] >= 'A' && s[i] <= 'F');
        if (dash ? s[i] != '-' : !hex)
            return false;
    }
    return true;
}
