/* mst.h - what the master service's files share. */
#ifndef MST_H
#define MST_H

#include "sesshu/http.h"

/* The service (service.c); main.c runs it, tests start it in-process. */
extern const ss_service mst_service;

#endif
