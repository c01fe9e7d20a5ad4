/* csv.c - RFC 4180 CSV reader and writer, growable buffer, iconv conversion (csv.h). */
#include "sesshu/csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/err.h"

int ss_buf_add(ss_buf *b, const char *data, size_t n)
{
    if (b->max > 0 && b->len + n + 1 > b->max)
        return SS_ERR_TOO_LARGE;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *s;

        while (cap < b->len + n + 1)
            cap *= 2;
        if ((s = realloc(b->s, cap)) == NULL)
            return SS_ERR_NOMEM;
        b->s = s;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

int ss_buf_str(ss_buf *b, const char *s)
{
    return ss_buf_add(b, s, strlen(s));
}

void ss_buf_free(ss_buf *b)
{
    if (b == NULL)
        return;
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

bool ss_csv_formula(const char *field)
{
    size_t q = strspn(field, "'");

    return field[q] != '\0' && strchr("=+-@\t\r", field[q]) != NULL;
}

int ss_csv_field(ss_buf *b, const char *field, bool num)
{
    size_t n = strlen(field);
    bool quote =
        strpbrk(field, ",\"\r\n") != NULL || (n > 0 && (field[0] == ' ' || field[n - 1] == ' '));
    int rc = 0;

    if (quote)
        rc = ss_buf_add(b, "\"", 1);
    if (rc == 0 && !num && ss_csv_formula(field))
        rc = ss_buf_add(b, "'", 1);
    if (!quote)
        return rc != 0 ? rc : ss_buf_add(b, field, n);
    for (const char *p = field; rc == 0 && *p; p++)
        rc = *p == '"' ? ss_buf_add(b, "\"\"", 2) : ss_buf_add(b, p, 1);
    return rc == 0 ? ss_buf_add(b, "\"", 1) : rc;
}

int ss_csv_put(ss_buf *b, const char *field)
{
    return ss_csv_field(b, field, false);
}

struct ss_csv {
    const char *p, *end;
    long line;     /* line of the next character */
    ss_buf text;   /* the fields of the current record, NUL-separated */
    size_t *offs;  /* start of each field in text */
    char **fields; /* pointers into text, rebuilt per record */
    size_t nf, cap;
};

int ss_csv_open(ss_csv **out, const char *data, size_t len)
{
    ss_csv *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return SS_ERR_NOMEM;
    c->p = data;
    c->end = data + len;
    c->line = 1;
    *out = c;
    return 0;
}

void ss_csv_close(ss_csv *c)
{
    if (c == NULL)
        return;
    ss_buf_free(&c->text);
    free(c->offs);
    free(c->fields);
    free(c);
}

static int new_field(ss_csv *c)
{
    if (c->nf == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        size_t *o = realloc(c->offs, cap * sizeof(*o));

        if (o == NULL)
            return SS_ERR_NOMEM;
        c->offs = o;
        c->cap = cap;
    }
    c->offs[c->nf++] = c->text.len;
    return 0;
}

/* A line break at p: its length (CRLF 2, LF or CR 1) or 0. */
static size_t eol(const ss_csv *c, const char *p)
{
    if (p >= c->end)
        return 0;
    if (*p == '\r')
        return (p + 1 < c->end && p[1] == '\n') ? 2 : 1;
    return *p == '\n' ? 1 : 0;
}

/* One quoted field from just after the opening quote to just after the closing one. */
static int quoted(ss_csv *c)
{
    int rc = 0;

    for (;;) {
        size_t e;

        if (c->p >= c->end || *c->p == '\0')
            return SS_ERR_VALIDATION;
        if (*c->p == '"') {
            if (c->p + 1 < c->end && c->p[1] == '"') {
                rc = ss_buf_add(&c->text, "\"", 1);
                c->p += 2;
            } else {
                c->p++;
                break;
            }
        } else if ((e = eol(c, c->p)) > 0) {
            rc = ss_buf_add(&c->text, "\n", 1);
            c->p += e;
            c->line++;
        } else {
            rc = ss_buf_add(&c->text, c->p++, 1);
        }
        if (rc != 0)
            return rc;
    }
    /* Only a separator or the end of the record may follow the closing quote. */
    if (c->p < c->end && *c->p != ',' && eol(c, c->p) == 0)
        return SS_ERR_VALIDATION;
    return 0;
}

static int plain(ss_csv *c)
{
    const char *s = c->p;

    while (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n') {
        if (*c->p == '\0' || *c->p == '"')
            return SS_ERR_VALIDATION;
        c->p++;
    }
    return ss_buf_add(&c->text, s, (size_t)(c->p - s));
}

static int finish(ss_csv *c, char ***fields, size_t *n)
{
    char **f = realloc(c->fields, (c->nf ? c->nf : 1) * sizeof(*f));

    if (f == NULL)
        return SS_ERR_NOMEM;
    c->fields = f;
    for (size_t i = 0; i < c->nf; i++) {
        f[i] = c->text.s + c->offs[i];
        if (f[i][0] == '\'' && ss_csv_formula(f[i] + 1))
            f[i]++; /* the guard ss_csv_field wrote */
    }
    *fields = f;
    *n = c->nf;
    return 1;
}

int ss_csv_next(ss_csv *c, char ***fields, size_t *n, long *line)
{
    size_t e;
    int rc;

    while ((e = eol(c, c->p)) > 0) { /* blank lines */
        c->p += e;
        c->line++;
    }
    *line = c->line;
    if (c->p >= c->end)
        return 0;
    c->text.len = 0;
    c->nf = 0;
    for (;;) {
        if ((rc = new_field(c)) != 0)
            return rc;
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            rc = quoted(c);
        } else {
            rc = plain(c);
        }
        if (rc == 0)
            rc = ss_buf_add(&c->text, "", 1); /* the field's NUL */
        if (rc != 0) {
            /* Skip to the next line so the caller may go on reading. */
            while (c->p < c->end && eol(c, c->p) == 0)
                c->p++;
            return rc;
        }
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if ((e = eol(c, c->p)) > 0) {
            c->p += e;
            c->line++;
        }
        return finish(c, fields, n);
    }
}

int ss_iconv(const char *from, const char *to, const char *in, size_t len, char **out,
             size_t *outlen, size_t *bad_at)
{
    iconv_t cd = iconv_open(to, from);
    char *buf = NULL, *ip = (char *)(uintptr_t)in, *op;
    size_t cap = len * 3 / 2 + 16, il = len, ol;
    int rc = SS_ERR_NOMEM;

    *out = NULL;
    if (cd == (iconv_t)-1)
        return SS_ERR_INTERNAL;
    if ((buf = malloc(cap)) == NULL)
        goto out;
    op = buf;
    ol = cap - 1;
    while (il > 0) {
        if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
            break;
        if (errno != E2BIG) {
            *bad_at = (size_t)(ip - in);
            rc = SS_ERR_VALIDATION;
            goto out;
        }
        {
            size_t used = (size_t)(op - buf);
            char *nb = realloc(buf, cap * 2);

            if (nb == NULL)
                goto out;
            buf = nb;
            cap *= 2;
            op = buf + used;
            ol = cap - 1 - used;
        }
    }
    /* Flush any shift state (none for these charsets, but iconv(3) asks for it). */
    iconv(cd, NULL, NULL, &op, &ol);
    *op = '\0';
    *outlen = (size_t)(op - buf);
    *out = buf;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    iconv_close(cd);
    return rc;
}
