/* csv.h - RFC 4180 CSV reading and writing, a growable byte buffer, and character-set
 * conversion through iconv(3) (Shift_JIS / CP932 files of the external systems, H-8-7/8). */
#ifndef SESSHU_CSV_H
#define SESSHU_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* A growable byte buffer, always NUL-terminated after a successful add. Start it zeroed
 * ({0}); free s with ss_buf_free (NULL-safe). */
typedef struct ss_buf {
    char *s;
    size_t len, cap;
    size_t max; /* 0: no limit; else the most bytes it may hold (SS_ERR_TOO_LARGE past it) */
} ss_buf;
int ss_buf_add(ss_buf *b, const char *data, size_t n); /* 0, SS_ERR_NOMEM or SS_ERR_TOO_LARGE */
int ss_buf_str(ss_buf *b, const char *s);              /* ss_buf_add of a C string */
void ss_buf_free(ss_buf *b);

/* The one CSV policy of every export (masters, access log, certificates, …):
 * - a field is quoted when it holds , " CR LF or starts/ends with a space, quotes doubled;
 * - text a spreadsheet would run as a formula (first character = + - @ TAB CR, also after
 *   apostrophes already there) gets one leading apostrophe (OWASP "CSV injection"), and the
 *   reader (ss_csv_next) takes exactly that apostrophe off again, so exports import back
 *   unchanged. A `num` field (a number the writer itself formatted) is written as it is.
 * 0, SS_ERR_NOMEM or SS_ERR_TOO_LARGE. */
int ss_csv_field(ss_buf *b, const char *field, bool num);
/* ss_csv_field of a text field. */
int ss_csv_put(ss_buf *b, const char *field);
/* Would a spreadsheet take this text for a formula (the guard above)? */
bool ss_csv_formula(const char *field);

/* Reader over a buffer the caller keeps alive. Records end at CRLF, LF or CR; quoted
 * fields may hold separators, "" and line breaks. */
typedef struct ss_csv ss_csv;
/* *out freed with ss_csv_close (NULL-safe). 0 or SS_ERR_NOMEM. */
int ss_csv_open(ss_csv **out, const char *data, size_t len);
void ss_csv_close(ss_csv *c);
/* Next record: 1 and (*fields, *n, *line = the 1-based line it starts on); 0 at the end;
 * SS_ERR_VALIDATION for a malformed record (unterminated quote, text after a closing quote,
 * a NUL byte), with *line set; SS_ERR_NOMEM. The fields (NUL-terminated strings) are owned
 * by the reader and valid until the next call. Blank lines are skipped. A field that starts
 * with an apostrophe guarding a formula (ss_csv_field) is given without that apostrophe. */
int ss_csv_next(ss_csv *c, char ***fields, size_t *n, long *line);

/* Convert len bytes of in from charset `from` to `to` (iconv names, e.g. "CP932",
 * "UTF-8"). 0 and *out (malloc'd, NUL-terminated; caller frees) with *outlen; or
 * SS_ERR_VALIDATION with *bad_at = the offset of the first byte that does not convert;
 * SS_ERR_NOMEM / SS_ERR_INTERNAL (unknown charset). */
int ss_iconv(const char *from, const char *to, const char *in, size_t len, char **out,
             size_t *outlen, size_t *bad_at);

#endif
