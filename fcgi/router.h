/* router: the edge of every route: method + path pattern, path parameters validated, the caller
 * authenticated, the query parameters checked against the route's rules, before the handler runs.
 */
#ifndef CLIP_ROUTER_H
#define CLIP_ROUTER_H

#include "request.h"
#include "response.h"

#define ROUTE_SEGMENTS_MAX 12

typedef void (*route_handler)(request_t *rq, response_t *rs);

/* Who may call a route. */
typedef enum {
    ROUTE_OPEN = 0, /* anyone (nginx restricts /metrics) */
    ROUTE_USER,     /* a signed-in user: Firebase ID token -> rq->uid */
    ROUTE_SERVICE,  /* the workflow: a service key of internal_keys_file */
    /* a signed-in user, or a ticket for this video in the `ticket` query parameter (browsers'
     * EventSource sends no headers); the query is checked first */
    ROUTE_USER_OR_TICKET,
} route_auth;

typedef struct {
    const char *method;  /* "GET", "PUT", ... (a GET route answers HEAD too) */
    const char *pattern; /* "/api/videos/{video_id}"; a {name} segment is a parameter */
    route_auth auth;
    const req_arg_rule *args; /* the query parameters it takes ({NULL}-terminated); NULL: none */
    int any_query;            /* 1: the query string is not looked at (health, metrics) */
    route_handler handler;
} route_t;

/* Finds the route of rq and checks its edge: fills rq->param*, rq->route, rq->uid, rq->args. On
 * CLIP_OK *h is the handler to call; otherwise rs holds the JSON error (404 no such path, 405 with
 * Allow, 400 naming the parameter, 401/503 from authentication). */
clip_err route_dispatch(request_t *rq, response_t *rs, route_handler *h);

/* Registers every route pattern with core/metrics; the master calls it before forking. */
void route_register_metrics(void);

/* Validates one decoded path parameter by its name (uid, video_id, clip_id: ids; filename: file
 * names). */
int route_param_valid(const char *name, const char *p, size_t n);

#endif
