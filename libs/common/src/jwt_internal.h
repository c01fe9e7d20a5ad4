/* jwt_internal.h - what jwt.c, jwt_cache.c and revoke.c share (not public). */
#ifndef SESSHU_JWT_INTERNAL_H
#define SESSHU_JWT_INTERNAL_H

int ss_jwt_cache_init(void);
void ss_jwt_cache_free(void);
const char *ss_jwt_issuer(void);
/* The database the revocation poller reads (revoke.c), or NULL before it starts. */
#include "sesshu/db.h"
ss_db *ss_jwt_db(void);

/* es256.c's signing and verification: sesshu/es256.h. */
#include "sesshu/es256.h"

#endif
