/* jwks.c - GET /.well-known/jwks.json: the public keys that verify session
 * tokens (RFC 7517), so any JOSE library can check them. */
#include "acct.h"
#include "sesshu/jwt.h"

int acct_h_jwks(ss_req *r)
{
    int rc = ss_reply_json_new(r, 200, ss_jwt_jwks());

    /* After the reply, which sets no-store: public keys may be cached. */
    if (rc == 0)
        ss_reply_header(r, "Cache-Control", "public, max-age=300");
    return rc;
}
