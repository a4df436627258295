/* request: one HTTP request as nginx hands it over FastCGI, parsed into lengths-carrying fields. */
#ifndef CLIP_REQUEST_H
#define CLIP_REQUEST_H

#include <stddef.h>

#include "arena.h"
#include "config.h"
#include "err.h"

#define REQ_PARAMS_MAX 6        /* path parameters of one route */
#define REQ_URI_MAX 8192        /* longer request URIs are refused (414 from nginx, 400 here) */
#define REQ_ID_MAX 64           /* request ids longer than this are replaced */

typedef struct app app_t; /* the worker's long-lived state, defined in worker.h */

typedef struct {
    const char *p;
    size_t n;
} strv;

typedef struct request {
    arena_t *arena;
    const app_t *app;
    char *const *envp;   /* FastCGI params "NAME=value", NULL-terminated */
    strv method;
    strv path;           /* raw path of REQUEST_URI, before '?', still percent-encoded */
    strv query;          /* raw query string, without '?' */
    const char *request_id;
    const char *remote_addr;
    const char *body;    /* NUL-terminated copy in the arena, may be empty */
    size_t body_len;
    long content_length; /* -1 when absent */
    /* filled by the router: decoded path parameters, by name */
    const char *param_name[REQ_PARAMS_MAX];
    strv param[REQ_PARAMS_MAX];
    int nparams;
    const char *route;   /* the matched pattern, for logs and metrics */
} request_t;

/* Parses the FastCGI params into rq (no body yet). err names the problem on CLIP_EINVAL. */
clip_err req_parse(request_t *rq, arena_t *arena, char *const *envp, char *err, size_t errlen);

/* The raw value of a FastCGI param ("REQUEST_METHOD", "HTTP_AUTHORIZATION"), or NULL. */
const char *req_env(const request_t *rq, const char *name);

/* A request header by its HTTP name ("Authorization", "If-None-Match"), or NULL. */
const char *req_header(const request_t *rq, const char *name);

/* The decoded value of a path parameter by name, or an empty strv. */
strv req_path_param(const request_t *rq, const char *name);

/* Looks up a query parameter and percent-decodes it (+ is a space) into the arena.
 * Returns 1 when present, 0 when absent, -1 when its encoding is malformed. */
int req_query(const request_t *rq, const char *name, strv *out);

/* Decodes %XX escapes of src into dst (which has room for n bytes); plus_space turns '+' into ' '.
 * Returns the decoded length, or -1 on a malformed escape. */
long req_pct_decode(const char *src, size_t n, char *dst, int plus_space);

#endif
