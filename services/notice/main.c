/* main.c - the notice service (H-11): notices to system users, targeted by
 * organisation type, prefecture, organisation and role, with read state. */
#include "ntc.h"
#include "sesshu/server.h"

int main(int argc, char **argv)
{
    return ss_server_run(&ntc_service, argc, argv);
}
