/* router: method + path pattern -> handler, with every path parameter validated before the handler runs. */
#ifndef CLIP_ROUTER_H
#define CLIP_ROUTER_H

#include "request.h"
#include "response.h"

#define ROUTE_SEGMENTS_MAX 12

typedef void (*route_handler)(request_t *rq, response_t *rs);

typedef struct {
    const char *method;  /* "GET", "PUT", ... */
    const char *pattern; /* "/api/videos/{video_id}"; a {name} segment is a parameter */
    route_handler handler;
} route_t;

/* Finds the route of rq, fills rq->param*, rq->route. On CLIP_OK *h is the handler to call;
 * otherwise rs holds the JSON error (404 no such path, 405 with Allow, 400 naming the parameter). */
clip_err route_dispatch(request_t *rq, response_t *rs, route_handler *h);

/* Registers every route pattern with core/metrics; the master calls it before forking. */
void route_register_metrics(void);

/* Validates one decoded parameter by its name (uid, video_id, clip_id: ids; filename: file names). */
int route_param_valid(const char *name, const char *p, size_t n);

#endif
