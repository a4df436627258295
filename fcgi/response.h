/* response: status, headers and body of one answer, and the contract's JSON error shape. */
#ifndef CLIP_RESPONSE_H
#define CLIP_RESPONSE_H

#include "buf.h"
#include "err.h"
#include "request.h"

#define RESP_BODY_MAX (64u * 1024 * 1024)

typedef struct {
    int status;
    const char *content_type; /* default application/json; charset=utf-8 */
    buf_t headers;            /* extra "Name: value\r\n" lines */
    buf_t body;
    const char *error_code;   /* set by resp_error, for the access log */
} response_t;

void resp_init(response_t *rs);
void resp_free(response_t *rs);
void resp_header(response_t *rs, const char *name, const char *value);
/* {"error":{"code":CODE,"message":MSG,"request_id":ID}} with the given status. */
void resp_error(response_t *rs, const request_t *rq, int status, const char *code, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
/* The same, with status and code taken from a clip_err. */
void resp_clip_error(response_t *rs, const request_t *rq, clip_err e, const char *msg);
/* The FastCGI/CGI answer: "Status: ...\r\n" headers, blank line, body. */
void resp_serialize(const response_t *rs, const request_t *rq, buf_t *out);
const char *resp_reason(int status);

#endif
