/* linkage_import.h - what the import files share (linkage_import.c, linkage_copy.c,
 * linkage_commit.c). */
#ifndef LINKAGE_IMPORT_H
#define LINKAGE_IMPORT_H

#include "rec.h"

/* Lock an open job of the caller's for this transaction; kind/mode (16 bytes each) and the
 * number of lines so far. 0, 404 (not the caller's), 409 (no longer open). */
int rec_import_lock(ss_req *r, ss_dbc *c, const char *id, char kind[16], char mode[16],
                    long long *base);
/* Parse the request body's lines (numbered from base + 1), COPY the good ones into the
 * staging table of the job's kind; *n = lines seen; errs gets {ln, errors} per bad line. */
int rec_import_copy(ss_req *r, ss_dbc *c, const char *job, bool persons, long long base,
                    long long *n, json_t *errs);

#endif
