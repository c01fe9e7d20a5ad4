/* main.c - sesshu-certificate: vaccination certificates (H-5); see service.c. */
#include <stdlib.h>

#include "cert.h"

int main(int argc, char **argv)
{
    /* Service tokens (to the records service's internal feed) are signed with a key of this
     * service's own, not the session key the shared environment names. The card issuer's key
     * is another one again (SESSHU_CERTIFICATE_SHC_KEY_FILE, shc.c). */
    const char *k = getenv(CERT_ENV_SERVICE_KEY);

    if (k != NULL && k[0] != '\0')
        setenv("SESSHU_JWT_SIGNING_KEY_FILE", k, 1);
    return ss_server_run(&cert_service, argc, argv);
}
