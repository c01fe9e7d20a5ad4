/* main.c - sesshu-token: API clients and access tokens (H-2); see service.c. It signs with a
 * key of its own, SESSHU_TOKEN_SIGNING_KEY_FILE (the library's server.c takes it). */
#include "sesshu/server.h"
#include "tok.h"

int main(int argc, char **argv)
{
    return ss_server_run(&tok_service, argc, argv);
}
