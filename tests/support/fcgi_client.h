/* fcgi_client: a minimal FastCGI client (the web server's side of the protocol) for tests. */
#ifndef CLIP_TEST_FCGI_CLIENT_H
#define CLIP_TEST_FCGI_CLIENT_H

#include <stddef.h>

#include "err.h"

#define FCGIC_RECORD_MAX 65535 /* content bytes of one record (16-bit length) */
#define FCGIC_OUTPUT_MAX (16 * 1024 * 1024) /* STDOUT/STDERR bytes accepted per request */

typedef struct {
    long status;           /* HTTP status from the "Status:" header; 200 when absent */
    char *headers;         /* the CGI header block (up to the blank line), NUL-terminated */
    char *body;            /* after the blank line, NUL-terminated */
    size_t body_len;
    char *out;             /* the whole FCGI_STDOUT stream, NUL-terminated */
    size_t out_len;
    char *err;             /* the FCGI_STDERR stream, NUL-terminated */
    size_t err_len;
    unsigned app_status;   /* FCGI_END_REQUEST appStatus */
    int protocol_status;   /* FCGI_END_REQUEST protocolStatus (0 = FCGI_REQUEST_COMPLETE) */
    char error[256];       /* why the call failed, when it did */
} fcgic_resp;

/* Connects to "unix:/path" or "HOST:PORT" (IPv4 or [IPv6]) within timeout_ms; returns the fd, or
 * -1 with errno set. */
int fcgic_connect(const char *addr, int timeout_ms);

/* Sends one request with id on a connected fd: BEGIN_REQUEST (role RESPONDER, FCGI_KEEP_CONN when
 * keep_conn), the PARAMS stream (params: NULL-terminated "NAME=VALUE" list), the STDIN stream
 * (body, may be NULL) and its empty end record, then reads STDOUT/STDERR until END_REQUEST.
 * The whole exchange is bounded by timeout_ms. out is filled (free with fcgic_resp_free) on
 * CLIP_OK; on error out->error says why. */
clip_err fcgic_request(int fd, unsigned id, int keep_conn, char *const params[], const void *body,
                       size_t body_len, int timeout_ms, fcgic_resp *out);

/* Connects to addr, sends method + uri with the parameters nginx would send (REQUEST_METHOD,
 * REQUEST_URI, DOCUMENT_URI, QUERY_STRING, CONTENT_LENGTH, SERVER_PROTOCOL, REMOTE_ADDR, ...)
 * preceded by extra (NULL-terminated "NAME=VALUE" list or NULL; an extra wins over a default of
 * the same name), reads the answer and closes. */
clip_err fcgic_call(const char *addr, const char *method, const char *uri, char *const extra[],
                    const void *body, size_t body_len, int timeout_ms, fcgic_resp *out);

/* Copies the value of response header name (case-insensitive) into val; NULL when absent. */
const char *fcgic_header(const fcgic_resp *r, const char *name, char *val, size_t vallen);

void fcgic_resp_free(fcgic_resp *r);

#endif
