/* main.c - the master service (H-8): effective-dated, versioned master data; reference,
 * registration, import and export. */
#include "mst.h"
#include "sesshu/server.h"

int main(int argc, char **argv)
{
    return ss_server_run(&mst_service, argc, argv);
}
