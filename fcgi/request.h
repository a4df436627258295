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
#define REQ_ARGS_MAX 8          /* query parameters one route knows */
#define REQ_ARG_NAME_MAX 64     /* longer parameter names are unknown by definition */
#define REQ_ARG_INT_DIGITS 12   /* a whole-number parameter has at most this many characters */

typedef struct app app_t; /* the worker's long-lived state, defined in worker.h */

typedef struct {
    const char *p;
    size_t n;
} strv;

/* One query parameter a route knows, and its rule (checked by the router before the handler). */
typedef struct {
    const char *name;
    int is_int;      /* 1: a whole number in [min, max], def when absent */
    long min, max, def;
    size_t max_len;  /* text: 1..max_len bytes, valid UTF-8, no NUL */
    int (*valid)(const char *p, size_t n); /* text: NULL = printable ASCII, no space */
    const char *rule; /* text: what the refusal says after "name: " */
} req_arg_rule;

/* A query parameter's value, after its rule passed. */
typedef struct {
    int present;
    const char *text; /* decoded, NUL-terminated (arena); NULL when absent */
    long num;         /* is_int rules: the value, or the rule's def when absent */
} req_arg;

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
    /* filled by the router: the caller (user routes) and the query parameters */
    const char *uid;     /* the signed-in user's uid (arena), or NULL */
    const req_arg_rule *arg_rules; /* the route's rules, {NULL}-terminated, or NULL */
    req_arg args[REQ_ARGS_MAX];
} request_t;

/* Parses the FastCGI params into rq (no body yet). err names the problem on CLIP_EINVAL. */
clip_err req_parse(request_t *rq, arena_t *arena, char *const *envp, char *err, size_t errlen);

/* The raw value of a FastCGI param ("REQUEST_METHOD", "HTTP_AUTHORIZATION"), or NULL. */
const char *req_env(const request_t *rq, const char *name);

/* A request header by its HTTP name ("Authorization", "If-None-Match"), or NULL. */
const char *req_header(const request_t *rq, const char *name);

/* The decoded value of a path parameter by name, or an empty strv. */
strv req_path_param(const request_t *rq, const char *name);

/* Checks the whole query string against rules ({NULL}-terminated; NULL = no parameter allowed)
 * and fills rq->args: CLIP_EINVAL naming the parameter for one the route does not know, one given
 * twice, a malformed escape, invalid UTF-8 or a value its rule refuses. */
clip_err req_parse_args(request_t *rq, const req_arg_rule *rules, char *err, size_t errlen);

/* A query parameter of the route, by name: its text (NULL when absent) or its number (the rule's
 * default when absent). */
const char *req_arg_text(const request_t *rq, const char *name);
long req_arg_num(const request_t *rq, const char *name);

/* Printable ASCII without space (0x21-0x7e): the default rule of text parameters. */
int req_printable(const char *p, size_t n);

/* Decodes %XX escapes of src into dst (which has room for n bytes); plus_space turns '+' into ' '.
 * Returns the decoded length, or -1 on a malformed escape. */
long req_pct_decode(const char *src, size_t n, char *dst, int plus_space);

#endif
