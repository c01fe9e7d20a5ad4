/* crypto.h - passwords, random tokens and hashes (OpenSSL, libargon2).
 *
 * Passwords: argon2id, OWASP parameters (m=19456 KiB, t=2, p=1), PHC string
 * "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". Tunable with
 * SESSHU_ARGON2_M_KIB / SESSHU_ARGON2_T for tests. */
#ifndef SESSHU_CRYPTO_H
#define SESSHU_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

/* Hash a password; *phc_out is malloc'd. */
int ss_pw_hash(const char *password, char **phc_out);
/* 0 if the password matches, SS_ERR_UNAUTHORIZED if not, other errors for
 * a malformed PHC string. Constant time in the comparison. */
int ss_pw_verify(const char *phc, const char *password);
/* A verify on a fixed dummy hash: same cost as a real one, for unknown
 * users, so timing reveals nothing. */
void ss_pw_dummy_verify(const char *password);
/* Limit concurrent hashes to the number of cores; waiting more than
 * SESSHU_LOGIN_QUEUE_MS returns SS_ERR_RATE_LIMITED. Pair with _leave. */
int ss_pw_queue_enter(void);
void ss_pw_queue_leave(void);

/* A random temporary password of `len` characters (len >= 16) from an
 * unambiguous alphabet with upper, lower, digit and symbol; buf has len+1. */
int ss_pw_generate(char *buf, size_t len);

/* `nbytes` random bytes as base64url without padding into buf (size >=
 * 4*nbytes/3+2). For opaque tokens (refresh, reset). */
int ss_random_token(char *buf, size_t bufsize, size_t nbytes);
/* Random UUID v4 string (37 bytes with NUL). */
int ss_uuid(char out[37]);
/* SHA-256 of data as lower-case hex (65 bytes with NUL). */
void ss_sha256_hex(const void *data, size_t len, char out[65]);
/* base64url without padding. Returns malloc'd string / decoded bytes. */
char *ss_b64url_encode(const unsigned char *data, size_t len);
unsigned char *ss_b64url_decode(const char *s, size_t *len_out);
/* Constant-time equality of two NUL-terminated strings. */
bool ss_ct_streq(const char *a, const char *b);

#endif
