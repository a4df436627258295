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
/* The error answer of e: {"error":{"code":CODE,"message":MSG,"request_id":ID}} with the status,
 * code and public message of core's error table (clip_err_answer_of). detail is what the failing
 * call said: shown when it is the caller's own mistake, otherwise logged (event "backend_error",
 * with this request's id) and replaced by what kind of failure it was. */
void resp_fail(response_t *rs, const request_t *rq, clip_err e, const char *detail);
/* The error answer of e with a message written for the caller (no detail to hide: readiness
 * states such as "not ready: firestore: unavailable; r2: ok"). */
void resp_fail_public(response_t *rs, const request_t *rq, clip_err e, const char *message);
/* The same with a formatted detail. */
void resp_failf(response_t *rs, const request_t *rq, clip_err e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The FastCGI/CGI answer: "Status: ...\r\n" headers, blank line, body. */
void resp_serialize(const response_t *rs, const request_t *rq, buf_t *out);
/* The same without the body: the header block up to and with the blank line. */
void resp_head(const response_t *rs, const request_t *rq, buf_t *out);
/* Whether the answer carries its body (not a 304 or 204, and not empty). */
int resp_has_body(const response_t *rs);
const char *resp_reason(int status);

#endif
