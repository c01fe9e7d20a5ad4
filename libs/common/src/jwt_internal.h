/* jwt_internal.h - what jwt.c, jwt_cache.c and revoke.c share (not public). */
#ifndef SESSHU_JWT_INTERNAL_H
#define SESSHU_JWT_INTERNAL_H

int ss_jwt_cache_init(void);
void ss_jwt_cache_free(void);
const char *ss_jwt_issuer(void);

#endif
