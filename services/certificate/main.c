/* main.c - sesshu-certificate: vaccination certificates (H-5); see service.c. Its service
 * tokens (to the records service's internal feed) are signed with a key of its own,
 * SESSHU_CERTIFICATE_SIGNING_KEY_FILE (the library's server.c takes it); the card issuer's key
 * is another one again (SESSHU_CERTIFICATE_SHC_KEY_FILE, shc.c). */
#include "cert.h"
#include "sesshu/server.h"

int main(int argc, char **argv)
{
    return ss_server_run(&cert_service, argc, argv);
}
