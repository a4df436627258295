/* http: outbound HTTP(S) on libcurl easy handles kept per process, with a deadline, a response cap and retries. */
#ifndef CLIP_HTTP_H
#define CLIP_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define HTTP_RESPONSE_MAX_DEFAULT (16u * 1024 * 1024)
#define HTTP_HEADERS_MAX (64u * 1024)

/* When a failed attempt may be sent again (never past the deadline). */
typedef enum {
    HTTP_RETRY_NEVER = 0,
    /* Idempotent calls (reads, deletes, PUT of whole objects): retried on connection failures,
     * resets, timeouts of one attempt and the retryable statuses (429, 500, 502, 503, 504). */
    HTTP_RETRY_IDEMPOTENT,
    /* Non-idempotent calls (a commit with transforms): retried only when the request certainly
     * was not applied: the connection could not be made, or the server answered 429 / 503
     * (RESOURCE_EXHAUSTED / UNAVAILABLE are returned before a write is applied). */
    HTTP_RETRY_UNAPPLIED,
} http_retry;

typedef struct {
    const char *method;          /* "GET", "POST", "PATCH", "PUT", "DELETE", "HEAD" */
    const char *url;
    const char *const *headers;  /* "Name: value" strings */
    size_t nheaders;
    const char *body;            /* may be NULL */
    size_t body_len;
    long deadline_ms;            /* total time for every attempt and back-off; > 0 */
    size_t max_response;         /* body cap, 0 = HTTP_RESPONSE_MAX_DEFAULT; over it -> CLIP_ETOOBIG */
    http_retry retry;
    const char *backend;         /* label for logs and metrics: "firestore", "r2", "token", "keys" */
} http_req;

typedef struct {
    long status;       /* the last attempt's HTTP status, 0 when none answered */
    buf_t body;
    buf_t headers;     /* the last attempt's raw header block ("Name: value\r\n" lines) */
    int attempts;
    double elapsed_ms;
} http_resp;

/* Process-wide set-up; call in each worker after fork(), never in the master. */
clip_err http_global_init(void);
void http_global_cleanup(void);

/* Sends req. CLIP_OK means an HTTP answer arrived (any status: the caller interprets it);
 * transport failures map to CLIP_EUNAVAILABLE (could not connect / reset), CLIP_ETIMEOUT
 * (deadline), CLIP_ETOOBIG (response over the cap). resp must be freed with http_resp_free. */
clip_err http_do(const http_req *req, http_resp *resp, char *err, size_t errlen);
void http_resp_free(http_resp *resp);

/* The value of a response header (case-insensitive name), or NULL; *len gets its length. */
const char *http_resp_header(const http_resp *resp, const char *name, size_t *len);

/* Back-off before attempt n (1-based) in ms: exponential from 100 ms, x1.3..2, capped at
 * 5 s, with full jitter from rnd in [0,1); exposed for tests of the schedule. */
long http_backoff_ms(int attempt, double rnd);

#endif
