/* http: outbound HTTP(S) on per-process libcurl easy handles, with a deadline, a cap and retries.
 */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "breaker.h"
#include "log.h"
#include "metrics.h"

/* Idle easy handles kept for reuse (each keeps its TLS state, the share keeps connections): at
 * least HTTP_POOL_MIN, as many as http_set_parallel says calls are in flight at once, at most
 * HTTP_POOL_MAX. */
#define HTTP_POOL_MIN 8
#define HTTP_POOL_MAX 1024
/* Connections kept open beyond the calls in flight (the key set, the Google token, R2). */
#define HTTP_CONN_SPARE 8
/* Connect phase of one attempt at most (the rest of the deadline still bounds it). */
#define HTTP_CONNECT_TIMEOUT_MS 3000L
#define HTTP_HEADER_LIST_MAX 64
/* libcurl's receive buffer: 16 KiB by default, a thousand reads for the megabytes of a big
 * runQuery answer; answers that may be large get this much. */
#define HTTP_RECV_BUFFER (256L * 1024)
#define HTTP_INHERITED_MAX 64 /* multi handles of a parent kept aside after forks */

static struct {
    int inited;
    pid_t pid; /* the process that initialised; a forked child must call http_global_init */
    CURLSH *share;
    CURL *idle[HTTP_POOL_MAX];
    int nidle;
    int idle_max; /* idle handles kept: http_set_parallel's calls, within the bounds above */
    uint64_t rng;
    pthread_mutex_t lock; /* guards idle[] and rng */
    pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .idle_max = HTTP_POOL_MIN};

void http_set_parallel(int calls)
{
    if (calls < HTTP_POOL_MIN)
        calls = HTTP_POOL_MIN;
    if (calls > HTTP_POOL_MAX)
        calls = HTTP_POOL_MAX;
    pthread_mutex_lock(&g.lock);
    g.idle_max = calls;
    pthread_mutex_unlock(&g.lock);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp)
{
    (void)h, (void)access, (void)userp;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&g.share_lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
    (void)h, (void)userp;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&g.share_lock[data]);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

clip_err http_global_init(void)
{
    pthread_mutex_lock(&g.lock);
    if (g.inited && g.pid == (pid_t)log_pid()) {
        pthread_mutex_unlock(&g.lock);
        return CLIP_OK;
    }
    if (g.inited) {
        /* Inherited over fork(): the parent's connections and TLS sessions are not ours to use
         * or to close (a TLS close_notify would break the parent's stream), so forget them. */
        g.share = NULL;
        g.nidle = 0;
    } else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pthread_mutex_unlock(&g.lock);
        return CLIP_EINTERNAL;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&g.share_lock[i], NULL);
    g.share = curl_share_init();
    if (g.share) {
        curl_share_setopt(g.share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(g.share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(g.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(g.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        curl_share_setopt(g.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g.rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)log_pid() << 40) ^
            0x9E3779B97F4A7C15ull;
    g.pid = (pid_t)log_pid();
    g.inited = 1;
    pthread_mutex_unlock(&g.lock);
    return CLIP_OK;
}

static void thread_multi_release(void);

void http_global_cleanup(void)
{
    thread_multi_release(); /* this thread's; the others' went with their threads */
    pthread_mutex_lock(&g.lock);
    if (!g.inited || g.pid != (pid_t)log_pid()) {
        pthread_mutex_unlock(&g.lock);
        return;
    }
    for (int i = 0; i < g.nidle; i++)
        curl_easy_cleanup(g.idle[i]);
    g.nidle = 0;
    if (g.share)
        curl_share_cleanup(g.share);
    g.share = NULL;
    curl_global_cleanup();
    g.inited = 0;
    pthread_mutex_unlock(&g.lock);
}

/* xorshift64*: jitter only, not security. */
static double rand_unit(void)
{
    pthread_mutex_lock(&g.lock);
    uint64_t x = g.rng ? g.rng : 0x2545F4914F6CDD1Dull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    g.rng = x;
    pthread_mutex_unlock(&g.lock);
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

long http_backoff_ms(int attempt, double rnd)
{
    if (attempt <= 1)
        return 0;
    if (rnd < 0 || rnd != rnd)
        rnd = 0;
    if (rnd >= 1)
        rnd = 0.999999;
    double ceiling = HTTP_BACKOFF_INITIAL_MS;
    for (int i = 2; i < attempt && ceiling < HTTP_BACKOFF_MAX_MS; i++)
        ceiling *= 2;
    if (ceiling > HTTP_BACKOFF_MAX_MS)
        ceiling = HTTP_BACKOFF_MAX_MS;
    return (long)(ceiling * rnd);
}

static CURL *handle_get(void)
{
    CURL *h = NULL;
    pthread_mutex_lock(&g.lock);
    if (g.nidle > 0)
        h = g.idle[--g.nidle];
    pthread_mutex_unlock(&g.lock);
    if (h) {
        curl_easy_reset(h);
        return h;
    }
    return curl_easy_init();
}

static void handle_put(CURL *h)
{
    pthread_mutex_lock(&g.lock);
    if (g.nidle < g.idle_max && g.pid == (pid_t)log_pid()) {
        g.idle[g.nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&g.lock);
    if (h)
        curl_easy_cleanup(h);
}

typedef struct {
    buf_t *body;
    buf_t *headers;
    size_t cap;
    int toobig;
    int headers_toobig;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t len = size * n;
    if (s->body->len + len > s->cap) {
        s->toobig = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (buf_append(s->body, p, len) != 0)
        return 0;
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t len = size * n;
    /* A new status line (after a 100 Continue or a redirect) starts a new header block. */
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        buf_reset(s->headers);
    if (s->headers->len + len > HTTP_HEADERS_MAX) {
        s->headers_toobig = 1;
        return 0;
    }
    if (buf_append(s->headers, p, len) != 0)
        return 0;
    return len;
}

/* What one attempt ended with. */
typedef enum {
    ATT_ANSWER,    /* an HTTP status arrived */
    ATT_NOCONNECT, /* nothing was sent: resolve/connect/TLS handshake failed */
    ATT_BROKEN,    /* the connection broke after the request may have been sent */
    ATT_TIMEOUT,   /* the deadline ended the attempt */
    ATT_TOOBIG,
    ATT_LOCAL, /* our own mistake (bad URL, out of memory) */
} attempt_end;

static attempt_end classify_curl(CURLcode rc, const sink *s)
{
    switch (rc) {
    case CURLE_OK:
        return ATT_ANSWER;
    case CURLE_WRITE_ERROR:
        return (s->toobig || s->headers_toobig) ? ATT_TOOBIG : ATT_LOCAL;
    case CURLE_FILESIZE_EXCEEDED:
        return ATT_TOOBIG;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
        return ATT_NOCONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return ATT_TIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return ATT_BROKEN;
    default:
        return ATT_LOCAL;
    }
}

static int status_retryable(long status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* Whether the outcome of an attempt may be sent again under the request's policy. */
static int may_retry(const http_req *req, attempt_end end, long status, const buf_t *body)
{
    if (req->retry == HTTP_RETRY_NEVER)
        return 0;
    if (end == ATT_ANSWER) {
        if (req->classify) {
            int c = req->classify(status, body, req->classify_ctx);
            if (c == HTTP_CLASS_RETRY)
                return 1;
            if (c == HTTP_CLASS_FINAL)
                return 0;
        }
        if (req->retry == HTTP_RETRY_UNAPPLIED)
            return status == 429 || status == 503;
        return status_retryable(status);
    }
    if (end == ATT_NOCONNECT)
        return 1;
    if (end == ATT_BROKEN)
        return req->retry == HTTP_RETRY_IDEMPOTENT;
    return 0;
}

static clip_err set_opts(CURL *h, const http_req *req, struct curl_slist *hdrs, sink *s,
                         long attempt_ms)
{
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)
    if (g.share)
        SET(CURLOPT_SHARE, g.share);
    SET(CURLOPT_URL, req->url);
    if (req->unix_socket)
        SET(CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, attempt_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        attempt_ms < HTTP_CONNECT_TIMEOUT_MS ? attempt_ms : HTTP_CONNECT_TIMEOUT_MS);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, s);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, s);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->cap);
    /* Only a speed-up: libcurl 7.88 refuses it (CURLE_BAD_FUNCTION_ARGUMENT) on a pooled handle
     * that still holds its receive buffer, and the call must go on with that buffer. */
    if (s->cap > (size_t)HTTP_RECV_BUFFER && rc == CURLE_OK)
        (void)curl_easy_setopt(h, CURLOPT_BUFFERSIZE, HTTP_RECV_BUFFER);
    SET(CURLOPT_HTTPHEADER, hdrs);
    /* libcurl silently resends a request once when a reused connection dies before any answer
     * byte; the server may have applied it, so a non-idempotent call gets a connection of its own.
     */
    if (req->retry == HTTP_RETRY_UNAPPLIED)
        SET(CURLOPT_FRESH_CONNECT, 1L);
    const char *m = req->method ? req->method : "GET";
    if (strcmp(m, "GET") == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
        SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
        if (strcmp(m, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, m);
    }
#undef SET
    return rc == CURLE_OK ? CLIP_OK : CLIP_EINTERNAL;
}

static void sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* One request of a batch, through its attempts. */
typedef struct {
    const http_req *req;
    http_resp *resp;
    char *err;
    size_t errlen;
    clip_err result;
    const char *backend;
    struct curl_slist *hdrs;
    CURL *h;
    sink s;
    size_t cap;
    int attempt;
    int running; /* an attempt is in the multi handle */
    int done;
    breaker_ticket bt; /* the breaker's permission for the attempt out (index -1: none) */
    long attempt_ms;   /* the time the attempt out was given */
    double t0, deadline, start_at; /* start_at: when the next attempt may go (back-off) */
    char curl_msg[CURL_ERROR_SIZE];
} call_t;

/* Checks a request and makes its header list and handle; on failure the call is done. */
static void call_init(call_t *c, const http_req *req, http_resp *resp, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    memset(resp, 0, sizeof *resp);
    buf_init(&resp->body, 0);
    buf_init(&resp->headers, 0);
    c->req = req;
    c->resp = resp;
    c->err = err;
    c->errlen = errlen;
    c->done = 1;
    c->bt.index = -1;
    if (!req || !req->url || req->deadline_ms <= 0 || (req->nheaders && !req->headers)) {
        c->result = clip_fail(CLIP_EINTERNAL, err, errlen, "http: bad request parameters");
        return;
    }
    if (req->nheaders > HTTP_HEADER_LIST_MAX) {
        c->result = clip_fail(CLIP_EINTERNAL, err, errlen, "http: too many headers");
        return;
    }
    c->backend = req->backend ? req->backend : "http";
    for (size_t i = 0; i < req->nheaders; i++) {
        struct curl_slist *t = curl_slist_append(c->hdrs, req->headers[i]);
        if (!t) {
            c->result = clip_fail(CLIP_ENOMEM, err, errlen, "http: out of memory");
            return;
        }
        c->hdrs = t;
    }
    /* No 100-continue round trip: our bodies are small and the deadline is short. */
    struct curl_slist *t = curl_slist_append(c->hdrs, "Expect:");
    if (!t) {
        c->result = clip_fail(CLIP_ENOMEM, err, errlen, "http: out of memory");
        return;
    }
    c->hdrs = t;
    c->h = handle_get();
    if (!c->h) {
        c->result = clip_fail(CLIP_ENOMEM, err, errlen, "http: curl_easy_init failed");
        return;
    }
    c->cap = req->max_response ? req->max_response : HTTP_RESPONSE_MAX_DEFAULT;
    c->s = (sink){&resp->body, &resp->headers, c->cap, 0, 0};
    c->t0 = now_ms();
    c->deadline = c->t0 + (double)req->deadline_ms;
    c->start_at = c->t0;
    c->done = 0;
}

/* The breaker's word on the next attempt of c. A call sent in the same batch as a probe to its
 * backend goes along with that probe (the two are one round trip). */
static int call_admit(call_t *c, const call_t *batch, size_t n, long lease_ms, long *retry_in)
{
    int i = breaker_index(c->backend);
    for (size_t j = 0; i >= 0 && j < n; j++)
        if (&batch[j] != c && batch[j].running && batch[j].bt.probe && batch[j].bt.index == i) {
            breaker_join_probe(&batch[j].bt, &c->bt);
            return 1;
        }
    return breaker_admit(c->backend, lease_ms, &c->bt, retry_in);
}

/* What an attempt says of its backend's health (core/breaker). */
static breaker_outcome outcome_of(const call_t *c, attempt_end end, long status)
{
    switch (end) {
    case ATT_ANSWER:
        if (status == 503)
            return BREAKER_DOWN;
        return status == 429 || status == 502 || status == 504 ? BREAKER_NEUTRAL : BREAKER_UP;
    case ATT_TOOBIG:
        return BREAKER_UP;
    case ATT_NOCONNECT:
    case ATT_BROKEN:
        return BREAKER_DOWN;
    case ATT_TIMEOUT:
        /* an attempt cut short by what little was left of its caller's deadline proves nothing */
        return c->attempt_ms >= HTTP_MIN_ATTEMPT_MS ? BREAKER_DOWN : BREAKER_NEUTRAL;
    default:
        return BREAKER_NEUTRAL;
    }
}

/* Sets up the next attempt into the multi handle; marks the call done when none is possible.
 * batch[n] is the batch c belongs to. */
static void call_start(call_t *c, CURLM *m, const call_t *batch, size_t n)
{
    double left = c->deadline - now_ms();
    if (left < 1) {
        c->result = clip_fail(CLIP_ETIMEOUT, c->err, c->errlen,
                              "%s: deadline of %ld ms passed after %d attempt(s)", c->backend,
                              c->req->deadline_ms, c->attempt);
        c->done = 1;
        return;
    }
    long retry_in = 0;
    if (!call_admit(c, batch, n, (long)left + HTTP_PROBE_LEASE_SLACK_MS, &retry_in)) {
        c->result = clip_fail(CLIP_EUNAVAILABLE, c->err, c->errlen,
                              "%s: circuit open after repeated failures, calls fail at once for "
                              "%ld ms more (%d attempt(s) made)",
                              c->backend, retry_in, c->attempt);
        c->done = 1;
        return;
    }
    c->attempt_ms = (long)left;
    c->attempt++;
    buf_reset(&c->resp->body);
    buf_reset(&c->resp->headers);
    c->s.toobig = c->s.headers_toobig = 0;
    c->resp->status = 0;
    c->curl_msg[0] = '\0';
    if (c->attempt > 1)
        curl_easy_reset(c->h);
    if (set_opts(c->h, c->req, c->hdrs, &c->s, (long)left) != CLIP_OK ||
        curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->curl_msg) != CURLE_OK ||
        curl_multi_add_handle(m, c->h) != CURLM_OK) {
        c->result =
            clip_fail(CLIP_EINTERNAL, c->err, c->errlen, "%s: curl option rejected", c->backend);
        breaker_report(&c->bt, BREAKER_NEUTRAL, 0);
        c->bt.index = -1;
        c->done = 1;
        return;
    }
    c->resp->attempts = c->attempt;
    c->running = 1;
}

/* An attempt ended with rc: the answer, a retry after its back-off, or the call's error. */
static void call_finish_attempt(call_t *c, CURLM *m, CURLcode rc)
{
    curl_multi_remove_handle(m, c->h);
    c->running = 0;
    const http_req *req = c->req;
    http_resp *resp = c->resp;
    attempt_end end = classify_curl(rc, &c->s);
    if (end == ATT_ANSWER)
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (end == ATT_ANSWER && resp->status == 0)
        end = ATT_BROKEN;
    if (end == ATT_TIMEOUT && c->deadline - now_ms() > 1) {
        /* Only the connect timeout ends an attempt early: nothing was sent. */
        double ct = 0;
        curl_easy_getinfo(c->h, CURLINFO_CONNECT_TIME, &ct);
        if (ct <= 0)
            end = ATT_NOCONNECT;
    }
    /* a backend's own Retry-After (with a 429 or 503) holds every caller off for that long */
    long retry_after = end == ATT_ANSWER && (resp->status == 429 || resp->status == 503)
                           ? http_resp_retry_after_ms(resp)
                           : 0;
    int bi = c->bt.index;
    breaker_report(&c->bt, outcome_of(c, end, resp->status), retry_after);
    c->bt.index = -1;
    int retry = may_retry(req, end, resp->status, &resp->body) && c->attempt < HTTP_MAX_ATTEMPTS;
    /* retries stop once the breaker is open: the call answers now, like every call after it */
    if (retry && bi >= 0 && breaker_state_of(bi, NULL) != BREAKER_CLOSED)
        retry = 0;
    long wait = retry ? http_backoff_ms(c->attempt + 1, rand_unit()) : 0;
    if (wait < retry_after)
        wait = retry_after;
    if (retry && now_ms() + (double)wait >= c->deadline - HTTP_MIN_ATTEMPT_MS)
        retry = 0; /* too little time would be left for another attempt: answer now */
    if (retry) {
        log_msg(CFG_LOG_DEBUG, "http_retry", "%s %s attempt %d: %s (status %ld), again in %ld ms",
                c->backend, req->method ? req->method : "GET", c->attempt,
                end == ATT_ANSWER ? "answer" : curl_easy_strerror(rc), resp->status, wait);
        c->start_at = now_ms() + (double)wait;
        return;
    }
    c->done = 1;
    switch (end) {
    case ATT_ANSWER:
        c->result = CLIP_OK;
        break;
    case ATT_TIMEOUT:
        c->result =
            clip_fail(CLIP_ETIMEOUT, c->err, c->errlen, "%s: deadline of %ld ms passed (%d attempt(s))",
                      c->backend, req->deadline_ms, c->attempt);
        break;
    case ATT_TOOBIG:
        c->result = clip_fail(CLIP_ETOOBIG, c->err, c->errlen, "%s: response over %zu bytes",
                              c->backend, c->s.headers_toobig ? (size_t)HTTP_HEADERS_MAX : c->cap);
        break;
    case ATT_NOCONNECT:
    case ATT_BROKEN:
        c->result = clip_fail(CLIP_EUNAVAILABLE, c->err, c->errlen, "%s: %s (%d attempt(s))",
                              c->backend, c->curl_msg[0] ? c->curl_msg : curl_easy_strerror(rc),
                              c->attempt);
        break;
    case ATT_LOCAL:
        c->result = clip_fail(
            rc == CURLE_OUT_OF_MEMORY || resp->body.oom ? CLIP_ENOMEM : CLIP_EINTERNAL, c->err,
            c->errlen, "%s: %s", c->backend, c->curl_msg[0] ? c->curl_msg : curl_easy_strerror(rc));
        break;
    }
}

/* Gives the handle back and records the call's figures. */
static void call_end(call_t *c)
{
    http_resp *resp = c->resp;
    if (c->h) {
        resp->elapsed_ms = now_ms() - c->t0;
        /* a call an open breaker refused before any attempt never reached the backend: it is
         * counted as refused by the breaker, not as a call */
        if (resp->attempts > 0)
            metrics_backend_call(c->backend, resp->elapsed_ms, resp->attempts,
                                 c->result == CLIP_OK && resp->status > 0 && resp->status < 500 &&
                                     resp->status != 429);
        /* The handle must not keep pointers into this call's memory while idle. */
        curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(c->h, CURLOPT_WRITEDATA, NULL);
        curl_easy_setopt(c->h, CURLOPT_HEADERDATA, NULL);
        handle_put(c->h);
    }
    curl_slist_free_all(c->hdrs);
    if (c->result != CLIP_OK && c->result != CLIP_ETOOBIG)
        log_msg(CFG_LOG_DEBUG, "http_fail", "%s %s: %s", c->backend,
                c->req && c->req->method ? c->req->method : "GET", clip_err_code(c->result));
}

/* Each thread keeps one multi handle for its calls (making one costs a socketpair and a handful
 * of system calls); freed when the thread ends. One inherited over fork() is another process's:
 * it is set aside, never used or closed. */
typedef struct {
    CURLM *m;
    pid_t pid;
} thread_multi;
static pthread_key_t multi_key;
static pthread_once_t multi_once = PTHREAD_ONCE_INIT;
static CURLM *inherited_multi[HTTP_INHERITED_MAX];
static size_t ninherited;

static void multi_free(void *p)
{
    thread_multi *t = p;
    if (t->m && t->pid == (pid_t)log_pid())
        curl_multi_cleanup(t->m);
    free(t);
}

static void multi_key_make(void)
{
    pthread_key_create(&multi_key, multi_free);
}

static void thread_multi_release(void)
{
    pthread_once(&multi_once, multi_key_make);
    thread_multi *t = pthread_getspecific(multi_key);
    if (t) {
        pthread_setspecific(multi_key, NULL);
        multi_free(t);
    }
}

static CURLM *thread_multi_get(void)
{
    pthread_once(&multi_once, multi_key_make);
    thread_multi *t = pthread_getspecific(multi_key);
    if (t && t->m && t->pid != (pid_t)log_pid()) {
        pthread_mutex_lock(&g.lock);
        if (ninherited < HTTP_INHERITED_MAX)
            inherited_multi[ninherited++] = t->m;
        pthread_mutex_unlock(&g.lock);
        t->m = NULL;
    }
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t || pthread_setspecific(multi_key, t) != 0) {
            free(t);
            return NULL;
        }
    }
    if (!t->m) {
        t->m = curl_multi_init();
        t->pid = (pid_t)log_pid();
        /* The connection cache is the share's, one for the whole process, but libcurl bounds it
         * by the limit of the multi handle that returns a connection: by default four per easy
         * handle in that multi handle, i.e. 4-8 for a thread's one or two calls. With more
         * threads than that calling at once, every returned connection beyond it was closed and
         * the next call connected again (measured: 1,237 connects for 640 video infos of 16
         * threads). The limit is the whole process's calls in flight instead, and the spare. */
        pthread_mutex_lock(&g.lock);
        long conn_max = (long)g.idle_max + HTTP_CONN_SPARE;
        pthread_mutex_unlock(&g.lock);
        if (t->m)
            curl_multi_setopt(t->m, CURLMOPT_MAXCONNECTS, conn_max);
    }
    return t->m;
}

void http_do_many(size_t n, const http_req *reqs, http_resp *resps, clip_err *results,
                  char *const *errs, size_t errlen)
{
    call_t calls[HTTP_MANY_MAX];
    if (n > HTTP_MANY_MAX) {
        for (size_t i = 0; i < n; i++) {
            memset(&resps[i], 0, sizeof resps[i]);
            results[i] = clip_fail(CLIP_EINTERNAL, errs[i], errlen, "http: over %d calls at once",
                                   HTTP_MANY_MAX);
        }
        return;
    }
    CURLM *m = NULL;
    clip_err ge = CLIP_OK;
    if (!g.inited || g.pid != (pid_t)log_pid())
        ge = http_global_init();
    if (ge == CLIP_OK)
        m = thread_multi_get();
    for (size_t i = 0; i < n; i++) {
        call_init(&calls[i], &reqs[i], &resps[i], errs[i], errlen);
        if (!calls[i].done && !m) {
            calls[i].result = clip_fail(ge != CLIP_OK ? ge : CLIP_ENOMEM, errs[i], errlen,
                                        ge != CLIP_OK ? "http: curl_global_init failed"
                                                      : "http: curl_multi_init failed");
            calls[i].done = 1;
        }
    }
    for (;;) {
        double t = now_ms(), next = t + 1000;
        size_t pending = 0;
        for (size_t i = 0; i < n; i++) {
            call_t *c = &calls[i];
            if (!c->done && !c->running && c->start_at <= t)
                call_start(c, m, calls, n);
            pending += !c->done;
        }
        if (pending == 0)
            break;
        int still = 0;
        curl_multi_perform(m, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            for (size_t i = 0; i < n; i++)
                if (calls[i].running && calls[i].h == msg->easy_handle) {
                    call_finish_attempt(&calls[i], m, msg->data.result);
                    break;
                }
        }
        /* an attempt that just ended may wait for its back-off: the earliest restart bounds the
         * wait */
        int any_running = 0;
        pending = 0;
        for (size_t i = 0; i < n; i++) {
            any_running |= calls[i].running;
            pending += !calls[i].done;
            if (!calls[i].done && !calls[i].running && calls[i].start_at < next)
                next = calls[i].start_at;
        }
        if (pending == 0)
            break;
        int wait_ms = (int)(next - now_ms());
        if (wait_ms < 0)
            wait_ms = 0;
        if (any_running)
            curl_multi_poll(m, NULL, 0, wait_ms < 1000 ? wait_ms : 1000, NULL);
        else
            sleep_ms(wait_ms);
    }
    for (size_t i = 0; i < n; i++) {
        call_end(&calls[i]);
        results[i] = calls[i].result;
    }
}

clip_err http_do(const http_req *req, http_resp *resp, char *err, size_t errlen)
{
    clip_err e;
    http_do_many(1, req, resp, &e, &err, errlen);
    return e;
}

void http_resp_free(http_resp *resp)
{
    if (!resp)
        return;
    buf_free(&resp->body);
    buf_free(&resp->headers);
    resp->status = 0;
}

const char *http_resp_header(const http_resp *resp, const char *name, size_t *len)
{
    if (!resp || !name || !resp->headers.p)
        return NULL;
    size_t nl = strlen(name);
    const char *p = resp->headers.p;
    const char *end = p + resp->headers.len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        size_t ll = (size_t)(line_end - p);
        if (ll > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < line_end && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = line_end;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (len)
                *len = (size_t)(ve - v);
            return v;
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

long http_resp_retry_after_ms(const http_resp *resp)
{
    size_t n = 0;
    const char *v = http_resp_header(resp, "Retry-After", &n);
    if (!v || n == 0 || n > 64)
        return 0;
    char t[65];
    memcpy(t, v, n);
    t[n] = '\0';
    long long ms;
    if (isdigit((unsigned char)t[0])) {
        /* delta-seconds (RFC 9110 10.2.3) */
        long long sec = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)t[i]))
                return 0;
            if (sec < 1000000)
                sec = sec * 10 + (t[i] - '0');
        }
        ms = sec * 1000;
    } else {
        /* an HTTP-date: IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" */
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(t, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (!end || *end)
            return 0;
        ms = ((long long)timegm(&tm) - (long long)time(NULL)) * 1000;
    }
    if (ms <= 0)
        return 0;
    return ms > 24LL * 3600 * 1000 ? 24L * 3600 * 1000 : (long)ms;
}
