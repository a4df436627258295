/* stack: the local serving stack of the integration tests: clipapi-fcgi (sanitizer build) behind nginx over TLS. */
#ifndef CLIP_STACK_H
#define CLIP_STACK_H

#include "testproc.h"

typedef struct {
    char dir[400];      /* the stack's temp directory */
    char conf[512];     /* clipapi.conf */
    char sock[512];     /* the FastCGI unix socket */
    char url[64];       /* https://127.0.0.1:PORT */
    int port;
    char events_sock[512];     /* nchan's publisher (the pool's events_publish_url) */
    char events_key_file[512]; /* events_ticket_key_file */
    tp_proc pool;
    tp_proc nginx;
} tstack;

/* Starts pool + nginx. conf_extra: more clipapi.conf lines (may be NULL); env: extra "K=V" for the
 * pool (may be NULL); workers: pool size. Returns 0 when both serve /healthz. The pool publishes
 * live-update events to the stack's nchan and signs tickets with a key of the stack's own. */
int stack_start(tstack *s, const char *tag, int workers, const char *conf_extra, char *const env[]);

/* Stops nginx and the pool (SIGTERM, then SIGKILL after a bound). */
void stack_stop(tstack *s);

/* GET/POST ... to s->url + path through nginx. */
int stack_http(const tstack *s, const char *method, const char *path, char *const headers[],
               const char *body, size_t body_len, tp_http_resp *out);

/* The value of metric name (a sample without labels) in the pool's /metrics, or -1. */
long long stack_metric(const tstack *s, const char *name);

/* The pids of the pool's workers (children of the master); returns their count. */
int stack_workers(const tstack *s, int *pids, int max);
/* The pids of nginx's worker processes; returns their count. */
int stack_nginx_workers(const tstack *s, int *pids, int max);

#endif
