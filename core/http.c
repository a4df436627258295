/* http: outbound HTTP(S) on per-process libcurl easy handles, with a deadline, a cap and retries.
 */
#include "http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

/* Idle easy handles kept for reuse; each keeps its TLS state, the share keeps connections. */
#define HTTP_POOL_MAX 8
/* Connect phase of one attempt at most (the rest of the deadline still bounds it). */
#define HTTP_CONNECT_TIMEOUT_MS 3000L
#define HTTP_HEADER_LIST_MAX 64

static struct {
    int inited;
    pid_t pid; /* the process that initialised; a forked child must call http_global_init */
    CURLSH *share;
    CURL *idle[HTTP_POOL_MAX];
    int nidle;
    uint64_t rng;
    pthread_mutex_t lock; /* guards idle[] and rng */
    pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

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
    if (g.inited && g.pid == getpid()) {
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
    g.rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
            0x9E3779B97F4A7C15ull;
    g.pid = getpid();
    g.inited = 1;
    pthread_mutex_unlock(&g.lock);
    return CLIP_OK;
}

void http_global_cleanup(void)
{
    pthread_mutex_lock(&g.lock);
    if (!g.inited || g.pid != getpid()) {
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
    if (g.nidle < HTTP_POOL_MAX && g.pid == getpid()) {
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

clip_err http_do(const http_req *req, http_resp *resp, char *err, size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    buf_init(&resp->body, 0);
    buf_init(&resp->headers, 0);
    if (!req || !req->url || req->deadline_ms <= 0 || (req->nheaders && !req->headers))
        return clip_fail(CLIP_EINTERNAL, err, errlen, "http: bad request parameters");
    if (req->nheaders > HTTP_HEADER_LIST_MAX)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "http: too many headers");
    if (!g.inited || g.pid != getpid()) {
        clip_err e = http_global_init();
        if (e != CLIP_OK)
            return clip_fail(e, err, errlen, "http: curl_global_init failed");
    }
    const char *backend = req->backend ? req->backend : "http";
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; i < req->nheaders; i++) {
        struct curl_slist *t = curl_slist_append(hdrs, req->headers[i]);
        if (!t) {
            curl_slist_free_all(hdrs);
            return clip_fail(CLIP_ENOMEM, err, errlen, "http: out of memory");
        }
        hdrs = t;
    }
    /* No 100-continue round trip: our bodies are small and the deadline is short. */
    struct curl_slist *t = curl_slist_append(hdrs, "Expect:");
    if (!t) {
        curl_slist_free_all(hdrs);
        return clip_fail(CLIP_ENOMEM, err, errlen, "http: out of memory");
    }
    hdrs = t;
    CURL *h = handle_get();
    if (!h) {
        curl_slist_free_all(hdrs);
        return clip_fail(CLIP_ENOMEM, err, errlen, "http: curl_easy_init failed");
    }

    size_t cap = req->max_response ? req->max_response : HTTP_RESPONSE_MAX_DEFAULT;
    sink s = {&resp->body, &resp->headers, cap, 0, 0};
    double t0 = now_ms();
    double deadline = t0 + (double)req->deadline_ms;
    clip_err result = CLIP_OK;
    char curl_msg[CURL_ERROR_SIZE];
    for (int attempt = 1;; attempt++) {
        double left = deadline - now_ms();
        if (left < 1) {
            result = clip_fail(CLIP_ETIMEOUT, err, errlen,
                               "%s: deadline of %ld ms passed after %d attempt(s)", backend,
                               req->deadline_ms, attempt - 1);
            break;
        }
        buf_reset(&resp->body);
        buf_reset(&resp->headers);
        s.toobig = s.headers_toobig = 0;
        resp->status = 0;
        curl_msg[0] = '\0';
        if (attempt > 1)
            curl_easy_reset(h);
        if (set_opts(h, req, hdrs, &s, (long)left) != CLIP_OK ||
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg) != CURLE_OK) {
            result = clip_fail(CLIP_EINTERNAL, err, errlen, "%s: curl option rejected", backend);
            break;
        }
        resp->attempts = attempt;
        CURLcode rc = curl_easy_perform(h);
        attempt_end end = classify_curl(rc, &s);
        if (end == ATT_ANSWER)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        if (end == ATT_ANSWER && resp->status == 0)
            end = ATT_BROKEN;
        if (end == ATT_TIMEOUT && deadline - now_ms() > 1) {
            /* Only the connect timeout ends an attempt early: nothing was sent. */
            double ct = 0;
            curl_easy_getinfo(h, CURLINFO_CONNECT_TIME, &ct);
            if (ct <= 0)
                end = ATT_NOCONNECT;
        }
        int retry = may_retry(req, end, resp->status, &resp->body) && attempt < HTTP_MAX_ATTEMPTS;
        long wait = retry ? http_backoff_ms(attempt + 1, rand_unit()) : 0;
        if (retry && now_ms() + (double)wait >= deadline - HTTP_MIN_ATTEMPT_MS)
            retry = 0; /* too little time would be left for another attempt: answer now */
        if (retry) {
            log_msg(CFG_LOG_DEBUG, "http_retry",
                    "%s %s attempt %d: %s (status %ld), again in %ld ms", backend,
                    req->method ? req->method : "GET", attempt,
                    end == ATT_ANSWER ? "answer" : curl_easy_strerror(rc), resp->status, wait);
            sleep_ms(wait);
            continue;
        }
        switch (end) {
        case ATT_ANSWER:
            result = CLIP_OK;
            break;
        case ATT_TIMEOUT:
            result = clip_fail(CLIP_ETIMEOUT, err, errlen,
                               "%s: deadline of %ld ms passed (%d attempt(s))", backend,
                               req->deadline_ms, attempt);
            break;
        case ATT_TOOBIG:
            result = clip_fail(CLIP_ETOOBIG, err, errlen, "%s: response over %zu bytes", backend,
                               s.headers_toobig ? (size_t)HTTP_HEADERS_MAX : cap);
            break;
        case ATT_NOCONNECT:
        case ATT_BROKEN:
            result = clip_fail(CLIP_EUNAVAILABLE, err, errlen, "%s: %s (%d attempt(s))", backend,
                               curl_msg[0] ? curl_msg : curl_easy_strerror(rc), attempt);
            break;
        case ATT_LOCAL:
            result = clip_fail(
                rc == CURLE_OUT_OF_MEMORY || resp->body.oom ? CLIP_ENOMEM : CLIP_EINTERNAL, err,
                errlen, "%s: %s", backend, curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
            break;
        }
        break;
    }
    resp->elapsed_ms = now_ms() - t0;
    metrics_backend_call(backend, resp->elapsed_ms, resp->attempts,
                         result == CLIP_OK && resp->status > 0 && resp->status < 500 &&
                             resp->status != 429);
    /* The handle must not keep pointers into this call's memory while idle. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
    handle_put(h);
    curl_slist_free_all(hdrs);
    if (result != CLIP_OK && result != CLIP_ETOOBIG)
        log_msg(CFG_LOG_DEBUG, "http_fail", "%s %s: %s", backend, req->method ? req->method : "GET",
                clip_err_code(result));
    return result;
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
