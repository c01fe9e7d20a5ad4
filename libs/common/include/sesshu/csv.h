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
} ss_buf;
int ss_buf_add(ss_buf *b, const char *data, size_t n); /* 0 or SS_ERR_NOMEM */
int ss_buf_str(ss_buf *b, const char *s);              /* ss_buf_add of a C string */
void ss_buf_free(ss_buf *b);

/* CSV field appended to b, quoted when it holds , " CR LF or starts/ends with a space.
 * 0 or SS_ERR_NOMEM. */
int ss_csv_put(ss_buf *b, const char *field);

/* Reader over a buffer the caller keeps alive. Records end at CRLF, LF or CR; quoted
 * fields may hold separators, "" and line breaks. */
typedef struct ss_csv ss_csv;
/* *out freed with ss_csv_close (NULL-safe). 0 or SS_ERR_NOMEM. */
int ss_csv_open(ss_csv **out, const char *data, size_t len);
void ss_csv_close(ss_csv *c);
/* Next record: 1 and (*fields, *n, *line = the 1-based line it starts on); 0 at the end;
 * SS_ERR_VALIDATION for a malformed record (unterminated quote, text after a closing quote,
 * a NUL byte), with *line set; SS_ERR_NOMEM. The fields (NUL-terminated strings) are owned
 * by the reader and valid until the next call. Blank lines are skipped. */
int ss_csv_next(ss_csv *c, char ***fields, size_t *n, long *line);

/* Convert len bytes of in from charset `from` to `to` (iconv names, e.g. "CP932",
 * "UTF-8"). 0 and *out (malloc'd, NUL-terminated; caller frees) with *outlen; or
 * SS_ERR_VALIDATION with *bad_at = the offset of the first byte that does not convert;
 * SS_ERR_NOMEM / SS_ERR_INTERNAL (unknown charset). */
int ss_iconv(const char *from, const char *to, const char *in, size_t len, char **out,
             size_t *outlen, size_t *bad_at);

#endif
