/* minihttpd: an HTTP/1.1 server on 127.0.0.1 whose answers a test scripts, for unit tests of HTTP
 * clients. */
#ifndef CLIP_TEST_MINIHTTPD_H
#define CLIP_TEST_MINIHTTPD_H

#include <stddef.h>

#include "buf.h"

#define MH_PATH_MAX 4096
#define MH_REQUEST_MAX (4u * 1024 * 1024)

typedef struct {
    char method[16];
    char path[MH_PATH_MAX]; /* request target, e.g. "/token?x=1" */
    buf_t headers;          /* raw header lines after the request line */
    buf_t body;
    int conn_requests; /* 1 for the first request on its connection, 2 for the next... */
} mh_request;

typedef enum {
    MH_RESPOND = 0, /* send resp */
    MH_HANG,        /* keep the connection open without answering until the client leaves */
    MH_CLOSE,       /* close the connection without answering */
} mh_action;

typedef struct {
    int status;    /* 200 unless set */
    buf_t headers; /* extra "Name: value\r\n" lines */
    buf_t body;
} mh_response;

/* Called for each request, on the connection's own thread (several may run at once). */
typedef mh_action (*mh_handler)(const mh_request *req, mh_response *resp, void *ctx);

typedef struct minihttpd minihttpd;

/* Listens on 127.0.0.1 at a port the kernel picks; *port gets it. NULL on failure. */
minihttpd *mh_start(mh_handler handler, void *ctx, int *port);
/* Stops the thread (ending a hang), closes everything and frees m. */
void mh_stop(minihttpd *m);
/* Connections accepted so far. */
int mh_connections(const minihttpd *m);

/* A request header's value (case-insensitive name), copied NUL-terminated into out; 0 if found. */
int mh_header(const mh_request *req, const char *name, char *out, size_t outlen);

#endif
