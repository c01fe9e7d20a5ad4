/* main.c - the audit service (H-12): the access log and queries on it. */
#include "aud.h"
#include "sesshu/server.h"

int main(int argc, char **argv)
{
    return ss_server_run(&aud_service, argc, argv);
}
