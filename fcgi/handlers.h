/* handlers: every HTTP handler of the API, one file per resource (h_<resource>.c). */
#ifndef CLIP_HANDLERS_H
#define CLIP_HANDLERS_H

#include "request.h"
#include "response.h"

/* h_health.c */
void h_healthz(request_t *rq, response_t *rs);

/* h_metrics.c */
void h_metrics(request_t *rq, response_t *rs);

#endif
