/* main.c - the payment service (H-9, H-10, claims): institutions' bank accounts with approval,
 * the federation's source accounts per destination bank, and claims from registered
 * vaccinations to a Zengin transfer file. */
#include "pay.h"
#include "sesshu/server.h"

int main(int argc, char **argv)
{
    return ss_server_run(&pay_service, argc, argv);
}
