/* router: the route table (each route's edge: method, pattern, auth, query) and the matcher. */
#include "router.h"

#include <string.h>

#include "auth.h"
#include "catalog.h"
#include "events.h"
#include "handlers.h"
#include "ids.h"
#include "metrics.h"

static int status_valid(const char *p, size_t n)
{
    return clips_status_valid_n(p, n);
}

#define CURSOR_ARG                                                                                 \
    {                                                                                              \
        .name = "cursor", .max_len = CATALOG_CURSOR_MAX, .rule = "not a cursor this API gave"      \
    }
#define LIMIT_ARG(max_, def_)                                                                      \
    {                                                                                              \
        .name = "limit", .is_int = 1, .min = 1, .max = (max_), .def = (def_)                       \
    }

static const req_arg_rule video_list_args[] = {
    LIMIT_ARG(VIDEOS_LIST_LIMIT_MAX, VIDEOS_LIST_LIMIT_DEFAULT),
    CURSOR_ARG,
    {0},
};
static const req_arg_rule clip_list_args[] = {
    {.name = "style", .max_len = IDS_STYLE_MAX, .valid = ids_valid_style, .rule = IDS_STYLE_RULE},
    {.name = "status",
     .max_len = CLIPS_STATUS_MAX,
     .valid = status_valid,
     .rule = CLIPS_STATUS_RULE},
    {.name = "scene_id", .is_int = 1, .min = 0, .max = CLIPS_SCENE_ID_MAX, .def = -1},
    LIMIT_ARG(CLIPS_LIST_LIMIT_MAX, CLIPS_LIST_LIMIT_DEFAULT),
    CURSOR_ARG,
    {0},
};
static const req_arg_rule clip_link_args[] = {
    {.name = "download", .is_int = 1, .min = 0, .max = 1, .def = 0},
    {.name = "redirect", .is_int = 1, .min = 0, .max = 1, .def = 1},
    {0},
};

static int event_id_valid(const char *p, size_t n)
{
    events_id id;
    return n <= EVENTS_ID_MAX && events_id_parse(p, n, &id) == 0;
}

/* The ticket's own check (evticket) says what is wrong with one: 401, never a rule's 400. */
static const req_arg_rule events_args[] = {
    {.name = "ticket", .max_len = REQ_URI_MAX, .rule = "not a ticket this API gave"},
    {.name = "last_event_id",
     .max_len = EVENTS_ID_MAX,
     .valid = event_id_valid,
     .rule = EVENTS_ID_RULE},
    {0},
};

static const route_t routes[] = {
    {"GET", "/healthz", ROUTE_OPEN, NULL, 1, h_healthz},
    {"GET", "/api/healthz", ROUTE_OPEN, NULL, 1, h_healthz},
    {"GET", "/metrics", ROUTE_OPEN, NULL, 1, h_metrics},
    {"GET", "/readyz", ROUTE_OPEN, NULL, 1, h_readyz},
    {"GET", "/api/videos", ROUTE_USER, video_list_args, 0, h_videos_list},
    {"GET", "/api/videos/{video_id}", ROUTE_USER, NULL, 0, h_video_get},
    {"GET", "/api/videos/{video_id}/clips", ROUTE_USER, clip_list_args, 0, h_clips_list},
    {"GET", "/api/videos/{video_id}/clips/{filename}", ROUTE_USER, clip_link_args, 0, h_clip_link},
    {"POST", "/api/videos/{video_id}/events-ticket", ROUTE_USER, NULL, 0, h_events_ticket},
    {"GET", "/api/videos/{video_id}/events", ROUTE_USER_OR_TICKET, events_args, 0,
     h_events_stream},
    {"PUT", "/api/internal/users/{uid}/videos/{video_id}", ROUTE_SERVICE, NULL, 0,
     h_internal_video_put},
    {"PUT", "/api/internal/users/{uid}/videos/{video_id}/clips/{clip_id}", ROUTE_SERVICE, NULL, 0,
     h_internal_clip_put},
    {"PATCH", "/api/internal/users/{uid}/videos/{video_id}/clips/{clip_id}", ROUTE_SERVICE, NULL, 0,
     h_internal_clip_patch},
    {"POST", "/api/internal/users/{uid}/videos/{video_id}/stats", ROUTE_SERVICE, NULL, 0,
     h_internal_stats},
    {"POST", "/api/internal/users/{uid}/videos/{video_id}/clips/{clip_id}/upload-urls",
     ROUTE_SERVICE, NULL, 0, h_internal_upload_urls},
};
#define NROUTES (sizeof routes / sizeof routes[0])

void route_register_metrics(void)
{
    for (size_t i = 0; i < NROUTES; i++)
        metrics_route_index(routes[i].pattern);
}

int route_param_valid(const char *name, const char *p, size_t n)
{
    if (strcmp(name, "filename") == 0)
        return ids_valid_filename(p, n);
    return ids_valid_id(p, n);
}

typedef struct {
    const char *p;
    size_t n;
} seg_t;

/* Splits "/a/b/c" into segments; returns the count, or -1 when there are too many. */
static int split(const char *p, size_t n, seg_t *segs)
{
    if (n == 0 || p[0] != '/')
        return -1;
    int k = 0;
    size_t i = 1, start = 1;
    for (; i <= n; i++) {
        if (i == n || p[i] == '/') {
            if (k == ROUTE_SEGMENTS_MAX)
                return -1;
            segs[k].p = p + start;
            segs[k].n = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

/* Does the path have the shape of the pattern (segment count and literal segments)? */
static int shape_matches(const char *pattern, const seg_t *segs, int nsegs)
{
    seg_t ps[ROUTE_SEGMENTS_MAX];
    int np = split(pattern, strlen(pattern), ps);
    if (np != nsegs)
        return 0;
    for (int i = 0; i < np; i++) {
        if (ps[i].n && ps[i].p[0] == '{')
            continue;
        if (ps[i].n != segs[i].n || memcmp(ps[i].p, segs[i].p, ps[i].n) != 0)
            return 0;
    }
    return 1;
}

static int method_is(const request_t *rq, const char *m)
{
    return rq->method.n == strlen(m) && memcmp(rq->method.p, m, rq->method.n) == 0;
}

clip_err route_dispatch(request_t *rq, response_t *rs, route_handler *h)
{
    *h = NULL;
    seg_t segs[ROUTE_SEGMENTS_MAX];
    int nsegs = split(rq->path.p, rq->path.n, segs);
    const route_t *hit = NULL;
    buf_t allow;
    buf_init(&allow, 256);
    if (nsegs > 0) {
        for (size_t i = 0; i < NROUTES; i++) {
            if (!shape_matches(routes[i].pattern, segs, nsegs))
                continue;
            if (method_is(rq, routes[i].method) ||
                (method_is(rq, "HEAD") && strcmp(routes[i].method, "GET") == 0)) {
                hit = &routes[i];
                break;
            }
            if (!allow.p || !strstr(allow.p, routes[i].method))
                buf_printf(&allow, "%s%s", allow.len ? ", " : "", routes[i].method);
        }
    }
    if (!hit && allow.len) {
        resp_header(rs, "Allow", allow.p);
        resp_failf(rs, rq, CLIP_EMETHOD, "%.*s is not allowed here (allowed: %s)",
                   (int)(rq->method.n > 16 ? 16 : rq->method.n), rq->method.p, allow.p);
        buf_free(&allow);
        return CLIP_EMETHOD;
    }
    buf_free(&allow);
    if (!hit) {
        resp_fail(rs, rq, CLIP_ENOTFOUND, "no such path");
        return CLIP_ENOTFOUND;
    }
    rq->route = hit->pattern;
    seg_t ps[ROUTE_SEGMENTS_MAX];
    int np = split(hit->pattern, strlen(hit->pattern), ps);
    rq->nparams = 0;
    for (int i = 0; i < np; i++) {
        if (!(ps[i].n && ps[i].p[0] == '{'))
            continue;
        const char *name = arena_strndup(rq->arena, ps[i].p + 1, ps[i].n - 2);
        char *dec = arena_alloc(rq->arena, segs[i].n + 1);
        if (!name || !dec || rq->nparams == REQ_PARAMS_MAX) {
            resp_fail(rs, rq, CLIP_ENOMEM, "router: out of memory");
            return CLIP_ENOMEM;
        }
        long dn = req_pct_decode(segs[i].p, segs[i].n, dec, 0);
        if (dn < 0 || !route_param_valid(name, dec, (size_t)dn)) {
            resp_failf(rs, rq, CLIP_EINVAL, "%s: %s", name,
                       strcmp(name, "filename") == 0 ? IDS_FILENAME_RULE : IDS_ID_RULE);
            return CLIP_EINVAL;
        }
        dec[dn] = '\0';
        rq->param_name[rq->nparams] = name;
        rq->param[rq->nparams].p = dec;
        rq->param[rq->nparams].n = (size_t)dn;
        rq->nparams++;
    }
    if ((hit->auth == ROUTE_USER && auth_user(rq, rs) != 0) ||
        (hit->auth == ROUTE_SERVICE && auth_service(rq, rs) != 0))
        return CLIP_EAUTH;
    if (!hit->any_query) {
        char err[256];
        clip_err e = req_parse_args(rq, hit->args, err, sizeof err);
        if (e != CLIP_OK) {
            resp_fail(rs, rq, e, err);
            return e;
        }
    }
    /* after the query: the ticket is one of its parameters */
    if (hit->auth == ROUTE_USER_OR_TICKET && auth_user_or_ticket(rq, rs) != 0)
        return CLIP_EAUTH;
    *h = hit->handler;
    return CLIP_OK;
}
