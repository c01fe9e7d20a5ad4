/* main.c - sesshu-token: API clients and access tokens (H-2); see service.c. */
#include <stdlib.h>

#include "tok.h"

int main(int argc, char **argv)
{
    /* The token service signs with a key of its own (SESSHU_TOKEN_SIGNING_KEY_FILE), not the
     * account service's session key that the shared environment names. */
    const char *k = getenv("SESSHU_TOKEN_SIGNING_KEY_FILE");

    if (k != NULL && k[0] != '\0')
        setenv("SESSHU_JWT_SIGNING_KEY_FILE", k, 1);
    return ss_server_run(&tok_service, argc, argv);
}
