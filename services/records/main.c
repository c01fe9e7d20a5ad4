/* main.c - the records service (H-3, H-4, H-7): vaccinees, vaccination records, screening
 * questionnaires, maternal/child health information, the linkage feed and FHIR. */
#include "rec.h"
#include "sesshu/server.h"

int main(int argc, char **argv)
{
    return ss_server_run(&rec_service, argc, argv);
}
