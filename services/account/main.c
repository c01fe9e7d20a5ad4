/* main.c - sesshu-account: the account service (H-1); see service.c. */
#include "acct.h"
#include "sesshu/server.h"

int main(int argc, char **argv)
{
    return ss_server_run(&acct_service, argc, argv);
}
