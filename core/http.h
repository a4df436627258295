/* http: outbound HTTP(S) on libcurl easy handles kept per process, with a deadline, a response cap
 * and retries. */
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
     * (RESOURCE_EXHAUSTED / UNAVAILABLE are returned before a write is applied). Sent on a
     * fresh connection, since libcurl itself resends once on a dead reused connection. */
    HTTP_RETRY_UNAPPLIED,
} http_retry;

typedef struct {
    const char *method; /* "GET", "POST", "PATCH", "PUT", "DELETE", "HEAD" */
    const char *url;
    const char *unix_socket; /* NULL: TCP; else the request goes over this socket (url names the
                                host and path only) */
    const char *const *headers; /* "Name: value" strings */
    size_t nheaders;
    const char *body; /* may be NULL */
    size_t body_len;
    long deadline_ms;    /* total time for every attempt and back-off; > 0 */
    size_t max_response; /* body cap, 0 = HTTP_RESPONSE_MAX_DEFAULT; over it -> CLIP_ETOOBIG */
    http_retry retry;
    const char *backend; /* label for logs and metrics: "firestore", "r2", "token", "keys" */
    /* Optional: decides whether an HTTP answer is retried, overriding the status rules above
     * (a Firestore read retries 409 ABORTED, which only the body tells apart from ALREADY_EXISTS).
     * Returns HTTP_CLASS_DEFAULT to keep the status rules. Left NULL by most callers. */
    int (*classify)(long status, const buf_t *body, void *ctx);
    void *classify_ctx;
} http_req;

#define HTTP_CLASS_DEFAULT 0
#define HTTP_CLASS_RETRY 1
#define HTTP_CLASS_FINAL 2

/* Attempts per call at most, whatever the deadline leaves. */
#define HTTP_MAX_ATTEMPTS 8
#define HTTP_BACKOFF_INITIAL_MS 100
#define HTTP_BACKOFF_MAX_MS 5000
/* A retry is started only with at least this much of the deadline left after its back-off;
 * otherwise the last answer is returned (rather than an attempt cut short by the deadline). */
#define HTTP_MIN_ATTEMPT_MS 50
/* A probe of a half-open breaker holds its turn this much past its attempt's deadline. */
#define HTTP_PROBE_LEASE_SLACK_MS 100

typedef struct {
    long status; /* the last attempt's HTTP status, 0 when none answered */
    buf_t body;
    buf_t headers; /* the last attempt's raw header block ("Name: value\r\n" lines) */
    int attempts;
    double elapsed_ms;
} http_resp;

/* Process-wide set-up; call in each worker after fork(), never in the master. */
clip_err http_global_init(void);
void http_global_cleanup(void);
/* How many calls this process makes at once at most (the pool: its threads' calls): connections
 * and idle handles are kept for that many, so that concurrent calls reuse connections instead of
 * each opening its own. Call before the first call of a thread; 8 unless set. */
void http_set_parallel(int calls);

/* Sends req. CLIP_OK means an HTTP answer arrived (any status: the caller interprets it);
 * transport failures map to CLIP_EUNAVAILABLE (could not connect / reset), CLIP_ETIMEOUT
 * (deadline), CLIP_ETOOBIG (response over the cap). resp must be freed with http_resp_free.
 * Every attempt first asks the breaker of req->backend (core/breaker) and tells it the outcome:
 * while it is open the call fails at once with CLIP_EUNAVAILABLE (resp->attempts counts the
 * attempts made before), and retries stop as soon as it opens (the call answers what its last
 * attempt got). A 429 or 503 with Retry-After opens it for that long; with the breakers off, a
 * retry after one waits at least that long, or is not made when that does not fit the deadline. */
clip_err http_do(const http_req *req, http_resp *resp, char *err, size_t errlen);

#define HTTP_MANY_MAX 8 /* requests one http_do_many sends at once */

/* Sends n requests at once, each with its own deadline, retries and outcome exactly as http_do
 * gives them: results[i] and resps[i] (free each with http_resp_free), errs[i] (errlen bytes) the
 * message of a failure. One round trip for all when the servers answer in parallel. */
void http_do_many(size_t n, const http_req *reqs, http_resp *resps, clip_err *results,
                  char *const *errs, size_t errlen);
void http_resp_free(http_resp *resp);

/* The value of a response header (case-insensitive name), or NULL; *len gets its length. */
const char *http_resp_header(const http_resp *resp, const char *name, size_t *len);
/* The pause an answer's Retry-After asks for, in ms (seconds or an HTTP-date; capped at a day),
 * 0 when it has none or it is not valid. */
long http_resp_retry_after_ms(const http_resp *resp);

/* Back-off before attempt n (1-based) in ms: 0 before the first; before attempt n >= 2 a ceiling
 * of 100 ms doubled per further attempt (100, 200, 400, ...), capped at 5 s, times rnd in [0,1)
 * (full jitter, so retrying clients spread out); exposed for tests of the schedule. */
long http_backoff_ms(int attempt, double rnd);

#endif
