/* worker: one FastCGI worker process: `threads` requests in flight (accept, read, route, answer,
 * log, one a thread); never manages processes. */
#ifndef CLIP_WORKER_H
#define CLIP_WORKER_H

#include "config.h"
#include "request.h"
#include "response.h"

#define WORKER_ARENA_LIMIT (256u * 1024 * 1024)

#include "app.h"

/* Serves on listen_fd with cfg->threads threads until told to stop (SIGTERM/SIGINT), max_requests
 * is reached or the master is gone; every request in flight then finishes. Returns the process
 * exit code. */
int worker_main(const cfg_t *cfg, int listen_fd, int index, int generation);

/* Handles one request given its params and body (the part of the worker that tests drive
 * without a socket): routes it and fills rs. */
void worker_handle(const app_t *app, request_t *rq, response_t *rs);

#endif
