/* es256.h - ES256 (ECDSA P-256 with SHA-256, RFC 7518 3.4) on keys parsed once, and their JWK
 * (RFC 7517) and thumbprint (RFC 7638). Used for the sessions' JWTs (jwt.c) and the SMART Health
 * Cards (services/certificate). `key` is an OpenSSL EVP_PKEY* (void* keeps OpenSSL out of the
 * callers' headers). Signatures are the JWS form: base64url of the raw 64-byte R || S. */
#ifndef SESSHU_ES256_H
#define SESSHU_ES256_H

#include <stdbool.h>
#include <stddef.h>

/* Sign len bytes of input with a private key: 0 and *sig_b64 (malloc'd), or an SS_ERR_*. */
int ss_es256_sign(void *key, const char *input, size_t len, char **sig_b64);
/* Verify a JWS signature (base64url R || S) over len bytes of input. */
bool ss_es256_verify(void *key, const char *input, size_t len, const char *sig_b64);
/* Is key an EC key on P-256? */
bool ss_es256_is_p256(void *key);
/* The public JWK's coordinates (base64url, 43 characters) and its RFC 7638 thumbprint (the
 * `kid`), each into 48 bytes. 0 or SS_ERR_INTERNAL. */
int ss_es256_jwk(void *key, char kid[48], char x[48], char y[48]);

#endif
