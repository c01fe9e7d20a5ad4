/* jwt_internal.h - what jwt.c, jwt_cache.c and revoke.c share (not public). */
#ifndef SESSHU_JWT_INTERNAL_H
#define SESSHU_JWT_INTERNAL_H

int ss_jwt_cache_init(void);
void ss_jwt_cache_free(void);
const char *ss_jwt_issuer(void);
/* The database the revocation poller reads (revoke.c), or NULL before it starts. */
#include "sesshu/db.h"
ss_db *ss_jwt_db(void);

#include <stdbool.h>
#include <stddef.h>
/* es256.c: key is an EVP_PKEY* (void* keeps OpenSSL out of this header).
 * The signature is base64url of the raw R || S (*sig_b64 malloc'd). */
int ss_es256_sign(void *key, const char *input, size_t len, char **sig_b64);
bool ss_es256_verify(void *key, const char *input, size_t len, const char *sig_b64);

#endif
