/* rec.h - what the records service's files share: the service and its handlers.
 *
 * Ownership of the files (one concern each):
 *   persons*.c, records*.c, linkage*.c, query*.c   H-3: persons, records, linkage, staff queries
 *   self*.c, fhir*.c                                H-3-3 vaccinee self-view, FHIR R4
 *   questionnaire*.c, mch*.c                        H-4 予診票, H-7 母子保健・健診情報 */
#ifndef REC_H
#define REC_H

#include <stdbool.h>

#include "sesshu/http.h"

/* The service (service.c); main.c runs it, tests start it in-process. */
extern const ss_service rec_service;

#endif
