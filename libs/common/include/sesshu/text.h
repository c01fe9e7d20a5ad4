/* text.h - text and time helpers. */
#ifndef SESSHU_TEXT_H
#define SESSHU_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF) and no NUL. */
bool ss_utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8. */
size_t ss_utf8_len(const char *s);
/* 8-4-4-4-12 hexadecimal UUID text (ids in paths are checked before SQL). */
bool ss_uuid_ok(const char *s);
/* YYYY-MM-DD naming a real date. */
bool ss_date_ok(const char *s);
/* RFC 3339 timestamp with offset (Z or +hh:mm). */
bool ss_timestamp_ok(const char *s);
/* Plausible e-mail: one @, non-empty local and dotted domain, no spaces or
 * control characters, <= 254 bytes. */
bool ss_email_ok(const char *s);
/* Microseconds from a monotonic clock / unix seconds now. */
long long ss_now_us(void);
/* *ts = now on `clock` plus ms milliseconds: a deadline for the timed waits. */
struct timespec;
void ss_deadline(struct timespec *ts, int clock, long ms);
long long ss_now_s(void);

#endif
