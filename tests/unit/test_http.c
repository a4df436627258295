/* Tests of core/http: answers, keep-alive, retries per policy, deadline, size cap, back-off, fork.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "breaker.h"
#include "http.h"
#include "minihttpd.h"
#include "unit.h"

typedef struct {
    int requests;    /* seen so far */
    int fail_first;  /* how many requests get fail_action first */
    int fail_status; /* status of those (when fail_action is MH_RESPOND) */
    mh_action fail_action;
    size_t body_size; /* size of the 200 body, 0 = "hello" */
    int delay_ms;     /* every answer waits this long (the server answers in parallel) */
    const char *fail_headers; /* extra header lines of the failing answers */
} script;

static mh_action handler(const mh_request *req, mh_response *resp, void *ctx)
{
    script *s = ctx;
    int n = __atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
    if (s->delay_ms)
        usleep((useconds_t)s->delay_ms * 1000);
    if (n <= s->fail_first) {
        if (s->fail_action != MH_RESPOND)
            return s->fail_action;
        resp->status = s->fail_status;
        if (s->fail_headers)
            buf_puts(&resp->headers, s->fail_headers);
        buf_puts(&resp->body, "{\"error\":{\"status\":\"X\"}}");
        return MH_RESPOND;
    }
    if (strcmp(req->path, "/echo") == 0) {
        char v[128] = "";
        mh_header(req, "X-Test", v, sizeof v);
        buf_printf(&resp->body, "%s %s %s ", req->method, v, req->path);
        buf_append(&resp->body, req->body.p ? req->body.p : "", req->body.len);
        buf_puts(&resp->headers, "X-Reply: yes  \r\n");
        return MH_RESPOND;
    }
    if (s->body_size) {
        for (size_t i = 0; i < s->body_size; i++)
            buf_putc(&resp->body, 'a');
        return MH_RESPOND;
    }
    buf_puts(&resp->body, "hello");
    return MH_RESPOND;
}

static int start(script *s, minihttpd **m, char *url, size_t urllen, const char *path)
{
    int port = 0;
    *m = mh_start(handler, s, &port);
    snprintf(url, urllen, "http://127.0.0.1:%d%s", port, path);
    return *m ? 0 : -1;
}

static int seen(script *s)
{
    return __atomic_load_n(&s->requests, __ATOMIC_SEQ_CST);
}

static void test_get_and_keepalive(void)
{
    script s = {0};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {
        .method = "GET", .url = url, .deadline_ms = 2000, .retry = HTTP_RETRY_IDEMPOTENT};
    for (int i = 0; i < 3; i++) {
        http_resp resp;
        char err[256] = "";
        CU_ASSERT_EQUAL(http_do(&req, &resp, err, sizeof err), CLIP_OK);
        CU_ASSERT_EQUAL(resp.status, 200);
        UNIT_ASSERT_STR(resp.body.p, "hello");
        CU_ASSERT_EQUAL(resp.body.len, 5);
        CU_ASSERT_EQUAL(resp.attempts, 1);
        size_t len = 0;
        const char *cl = http_resp_header(&resp, "content-length", &len);
        CU_ASSERT_PTR_NOT_NULL(cl);
        CU_ASSERT_EQUAL(len, 1);
        CU_ASSERT_TRUE(cl && cl[0] == '5');
        http_resp_free(&resp);
    }
    CU_ASSERT_EQUAL(mh_connections(m), 1); /* one kept-alive connection for three calls */
    mh_stop(m);
}

static void test_post_headers_body(void)
{
    script s = {0};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/echo"), 0);
    const char *hdrs[] = {"X-Test: v1", "Content-Type: application/json"};
    http_req req = {.method = "PATCH",
                    .url = url,
                    .headers = hdrs,
                    .nheaders = 2,
                    .body = "{\"a\":1}",
                    .body_len = 7,
                    .deadline_ms = 2000};
    http_resp resp;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 200);
    UNIT_ASSERT_STR(resp.body.p, "PATCH v1 /echo {\"a\":1}");
    size_t len = 0;
    const char *v = http_resp_header(&resp, "X-REPLY", &len);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_TRUE(v && memcmp(v, "yes", 3) == 0);
    CU_ASSERT_PTR_NULL(http_resp_header(&resp, "X-Missing", &len));
    http_resp_free(&resp);
    mh_stop(m);
}

static void test_retry_503_idempotent(void)
{
    script s = {.fail_first = 2, .fail_status = 503, .fail_action = MH_RESPOND};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {
        .method = "GET", .url = url, .deadline_ms = 5000, .retry = HTTP_RETRY_IDEMPOTENT};
    http_resp resp;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_EQUAL(resp.attempts, 3);
    CU_ASSERT_EQUAL(seen(&s), 3);
    UNIT_ASSERT_STR(resp.body.p, "hello");
    http_resp_free(&resp);
    mh_stop(m);
}

static void test_never_and_unapplied_statuses(void)
{
    script s = {.fail_first = 1, .fail_status = 503, .fail_action = MH_RESPOND};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {.method = "POST",
                    .url = url,
                    .body = "x",
                    .body_len = 1,
                    .deadline_ms = 3000,
                    .retry = HTTP_RETRY_NEVER};
    http_resp resp;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 503);
    CU_ASSERT_EQUAL(resp.attempts, 1);
    http_resp_free(&resp);

    /* UNAPPLIED: 503 is retried, a 500 is not (the write may have happened). */
    __atomic_store_n(&s.requests, 0, __ATOMIC_SEQ_CST);
    req.retry = HTTP_RETRY_UNAPPLIED;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_EQUAL(resp.attempts, 2);
    http_resp_free(&resp);

    __atomic_store_n(&s.requests, 0, __ATOMIC_SEQ_CST);
    s.fail_status = 500;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 500);
    CU_ASSERT_EQUAL(resp.attempts, 1);
    CU_ASSERT_EQUAL(seen(&s), 1);
    http_resp_free(&resp);
    mh_stop(m);
}

static void test_dropped_connection(void)
{
    script s = {.fail_first = 1, .fail_action = MH_CLOSE};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    /* A dropped connection after the request went out: a read goes again... */
    http_req req = {
        .method = "GET", .url = url, .deadline_ms = 3000, .retry = HTTP_RETRY_IDEMPOTENT};
    http_resp resp;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_EQUAL(resp.attempts, 2);
    http_resp_free(&resp);
    /* ...a non-idempotent write does not: the server may have applied it. */
    __atomic_store_n(&s.requests, 0, __ATOMIC_SEQ_CST);
    req.method = "POST";
    req.body = "w";
    req.body_len = 1;
    req.retry = HTTP_RETRY_UNAPPLIED;
    char err[256] = "";
    CU_ASSERT_EQUAL(http_do(&req, &resp, err, sizeof err), CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(resp.attempts, 1);
    CU_ASSERT_EQUAL(seen(&s), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "1 attempt(s)"));
    http_resp_free(&resp);
    mh_stop(m);
}

static void test_hang_ends_at_deadline(void)
{
    script s = {.fail_first = 100, .fail_action = MH_HANG};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {
        .method = "GET", .url = url, .deadline_ms = 400, .retry = HTTP_RETRY_IDEMPOTENT};
    http_resp resp;
    char err[256] = "";
    CU_ASSERT_EQUAL(http_do(&req, &resp, err, sizeof err), CLIP_ETIMEOUT);
    CU_ASSERT_TRUE(resp.elapsed_ms >= 390 && resp.elapsed_ms < 900);
    CU_ASSERT_EQUAL(resp.attempts, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "deadline of 400 ms"));
    http_resp_free(&resp);
    mh_stop(m);
}

static void test_retries_stop_before_deadline(void)
{
    script s = {.fail_first = 1000, .fail_status = 503, .fail_action = MH_RESPOND};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {
        .method = "GET", .url = url, .deadline_ms = 600, .retry = HTTP_RETRY_IDEMPOTENT};
    http_resp resp;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 503); /* the last answer, handed back before the deadline */
    CU_ASSERT_TRUE(resp.elapsed_ms < 650); /* scheduling slack only */
    CU_ASSERT_TRUE(resp.attempts >= 2 && resp.attempts <= HTTP_MAX_ATTEMPTS);
    CU_ASSERT_EQUAL(resp.attempts, seen(&s));
    http_resp_free(&resp);
    mh_stop(m);
}

static void test_response_cap(void)
{
    script s = {.body_size = 3000};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {.method = "GET",
                    .url = url,
                    .deadline_ms = 2000,
                    .max_response = 2999,
                    .retry = HTTP_RETRY_IDEMPOTENT};
    http_resp resp;
    char err[256] = "";
    CU_ASSERT_EQUAL(http_do(&req, &resp, err, sizeof err), CLIP_ETOOBIG);
    CU_ASSERT_EQUAL(resp.attempts, 1);
    UNIT_ASSERT_STR(err, "http: response over 2999 bytes");
    http_resp_free(&resp);
    req.max_response = 3000;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.body.len, 3000);
    http_resp_free(&resp);
    mh_stop(m);
}

static void test_refused_is_unavailable(void)
{
    /* A port nobody listens on: bind one, learn it, close it. */
    int port = 0;
    script s = {0};
    minihttpd *m = mh_start(handler, &s, &port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    mh_stop(m);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    http_req req = {
        .method = "POST", .url = url, .deadline_ms = 800, .retry = HTTP_RETRY_UNAPPLIED};
    http_resp resp;
    char err[256] = "";
    CU_ASSERT_EQUAL(http_do(&req, &resp, err, sizeof err), CLIP_EUNAVAILABLE);
    CU_ASSERT_TRUE(resp.attempts >= 2); /* nothing was sent, so even a write is tried again */
    CU_ASSERT_EQUAL(resp.status, 0);
    CU_ASSERT_TRUE(resp.elapsed_ms < 850);
    http_resp_free(&resp);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Requests sent together wait for the slowest, not for the sum; each keeps its own outcome. */
static void test_many_at_once(void)
{
    script s = {.delay_ms = 300};
    minihttpd *m;
    char url[128], echo[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    snprintf(echo, sizeof echo, "%.*s/echo", (int)(strrchr(url, '/') - url), url);
    http_req reqs[3] = {
        {.method = "GET", .url = url, .deadline_ms = 3000, .retry = HTTP_RETRY_IDEMPOTENT},
        {.method = "POST", .url = echo, .body = "b2", .body_len = 2, .deadline_ms = 3000},
        {.method = "GET", .url = url, .deadline_ms = 100, .retry = HTTP_RETRY_IDEMPOTENT},
    };
    http_resp resps[3];
    clip_err rcs[3];
    char e0[256] = "", e1[256] = "", e2[256] = "";
    char *errs[3] = {e0, e1, e2};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_do_many(3, reqs, resps, rcs, errs, sizeof e0);
    double took = ms_since(&t0);
    CU_ASSERT_EQUAL(rcs[0], CLIP_OK);
    UNIT_ASSERT_STR(resps[0].body.p, "hello");
    CU_ASSERT_EQUAL(rcs[1], CLIP_OK);
    UNIT_ASSERT_STR(resps[1].body.p, "POST  /echo b2");
    CU_ASSERT_EQUAL(rcs[2], CLIP_ETIMEOUT); /* its own, shorter deadline */
    CU_ASSERT_PTR_NOT_NULL(strstr(e2, "deadline of 100 ms"));
    CU_ASSERT_TRUE(took >= 290 && took < 550); /* one wait of 300 ms, not two */
    if (!(took >= 290 && took < 550))
        fprintf(stderr, "http_do_many took %.0f ms\n", took);
    for (int i = 0; i < 3; i++)
        http_resp_free(&resps[i]);
    mh_stop(m);
}

/* Many threads calling at once, two calls each (as the pool's threads make a video info's):
 * the process keeps a connection per call in flight and reuses them, instead of libcurl's
 * default limit of four per multi handle closing every connection returned beyond it, so that
 * nearly every call connected again. */
#define PAR_THREADS 16
#define PAR_ROUNDS 20
typedef struct {
    const char *url;
    int ok;
} par_arg;

static void *par_caller(void *p)
{
    par_arg *a = p;
    for (int r = 0; r < PAR_ROUNDS; r++) {
        http_req reqs[2] = {
            {.method = "GET", .url = a->url, .deadline_ms = 5000, .retry = HTTP_RETRY_IDEMPOTENT},
            {.method = "GET", .url = a->url, .deadline_ms = 5000, .retry = HTTP_RETRY_IDEMPOTENT},
        };
        http_resp resps[2];
        clip_err rcs[2];
        char e0[256] = "", e1[256] = "";
        char *errs[2] = {e0, e1};
        http_do_many(2, reqs, resps, rcs, errs, sizeof e0);
        for (int i = 0; i < 2; i++) {
            a->ok += rcs[i] == CLIP_OK && resps[i].status == 200;
            http_resp_free(&resps[i]);
        }
    }
    return NULL;
}

static void test_parallel_calls_reuse_connections(void)
{
    script s = {.delay_ms = 2}; /* the calls overlap */
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_set_parallel(2 * PAR_THREADS);
    pthread_t th[PAR_THREADS];
    par_arg args[PAR_THREADS];
    int started = 0;
    for (; started < PAR_THREADS; started++) {
        args[started] = (par_arg){url, 0};
        if (pthread_create(&th[started], NULL, par_caller, &args[started]) != 0)
            break;
    }
    CU_ASSERT_EQUAL(started, PAR_THREADS);
    int ok = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
    }
    CU_ASSERT_EQUAL(ok, 2 * PAR_ROUNDS * started);
    /* at most one connection per call in flight (and the spare ones), never one per call */
    int conns = mh_connections(m);
    if (conns > 2 * PAR_THREADS + 8)
        fprintf(stderr, "%d connections for %d calls of %d threads\n", conns, 2 * PAR_ROUNDS * started,
                started);
    CU_ASSERT_TRUE(conns <= 2 * PAR_THREADS + 8);
    http_set_parallel(0); /* back to the default for the other tests */
    mh_stop(m);
}

static int classify_conflict(long status, const buf_t *body, void *ctx)
{
    (*(int *)ctx)++;
    if (status == 409 && body->p && strstr(body->p, "\"X\""))
        return HTTP_CLASS_RETRY;
    return HTTP_CLASS_DEFAULT;
}

static void test_classify_hook(void)
{
    script s = {.fail_first = 1, .fail_status = 409, .fail_action = MH_RESPOND};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    int calls = 0;
    http_req req = {.method = "GET",
                    .url = url,
                    .deadline_ms = 3000,
                    .retry = HTTP_RETRY_IDEMPOTENT,
                    .classify = classify_conflict,
                    .classify_ctx = &calls};
    http_resp resp;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_EQUAL(resp.attempts, 2);
    CU_ASSERT_EQUAL(calls, 2);
    http_resp_free(&resp);
    mh_stop(m);
}

static void test_backoff_schedule(void)
{
    CU_ASSERT_EQUAL(http_backoff_ms(1, 0.5), 0);
    CU_ASSERT_EQUAL(http_backoff_ms(2, 0.5), 50);
    CU_ASSERT_EQUAL(http_backoff_ms(3, 0.5), 100);
    CU_ASSERT_EQUAL(http_backoff_ms(4, 0.5), 200);
    CU_ASSERT_EQUAL(http_backoff_ms(7, 0.5), 1600);
    CU_ASSERT_EQUAL(http_backoff_ms(8, 0.5), 2500); /* 6400 capped at 5000 */
    CU_ASSERT_EQUAL(http_backoff_ms(60, 0.5), 2500);
    CU_ASSERT_EQUAL(http_backoff_ms(2, 0.0), 0);
    CU_ASSERT_EQUAL(http_backoff_ms(3, 0.999), 199);
    CU_ASSERT_EQUAL(http_backoff_ms(9, 0.999), 4995);
    CU_ASSERT_EQUAL(http_backoff_ms(4, 1.5), 399); /* out-of-range jitter is clamped */
    CU_ASSERT_EQUAL(http_backoff_ms(4, -1.0), 0);
}

static void test_after_fork(void)
{
    script s = {0};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {.method = "GET", .url = url, .deadline_ms = 2000};
    http_resp resp;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK); /* the parent has a live connection */
    http_resp_free(&resp);
    pid_t pid = fork();
    if (pid == 0) {
        char err[256] = "";
        clip_err e = http_global_init();
        int ok = e == CLIP_OK && (e = http_do(&req, &resp, err, sizeof err)) == CLIP_OK &&
                 resp.status == 200 && resp.body.len == 5;
        if (!ok)
            fprintf(stderr, "child: %s %s status %ld\n", clip_err_code(e), err, resp.status);
        _exit(ok ? 0 : 1);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK); /* the parent still works */
    CU_ASSERT_EQUAL(resp.status, 200);
    http_resp_free(&resp);
    CU_ASSERT_EQUAL(mh_connections(m), 2); /* the child made its own, the parent kept its own */
    mh_stop(m);
}


/* ---- with the breaker (core/breaker) ------------------------------------------------------- */

#define BRK_COOLDOWN 300

static void breaker_on(void)
{
    breaker_configure(3, BRK_COOLDOWN);
    breaker_reset();
}

static void breaker_off(void)
{
    breaker_configure(0, 0);
    breaker_reset();
}

static void wait_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* The retry loop asks the breaker before every attempt: once it opens, the call stops, and the
 * next calls fail at once without a request; after the cool-down one probe closes it. */
static void test_breaker_stops_retries(void)
{
    breaker_on();
    script s = {.fail_first = 3, .fail_status = 503, .fail_action = MH_RESPOND};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {.method = "GET",
                    .url = url,
                    .deadline_ms = 5000,
                    .retry = HTTP_RETRY_IDEMPOTENT,
                    .backend = "firestore"};
    http_resp resp;
    char err[256] = "";
    CU_ASSERT_EQUAL(http_do(&req, &resp, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 503); /* the answer that opened it, not a 4th attempt */
    CU_ASSERT_EQUAL(resp.attempts, 3);
    CU_ASSERT_EQUAL(seen(&s), 3);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_OPEN);
    http_resp_free(&resp);
    /* refused at once: no request, well under a millisecond of waiting */
    CU_ASSERT_EQUAL(http_do(&req, &resp, err, sizeof err), CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(resp.attempts, 0);
    CU_ASSERT_TRUE(resp.elapsed_ms < 20);
    CU_ASSERT_EQUAL(seen(&s), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "firestore: circuit open"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "0 attempt(s)"));
    http_resp_free(&resp);
    /* another backend, and a call without a breaker, still go */
    req.backend = NULL;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 200);
    http_resp_free(&resp);
    req.backend = "firestore";
    wait_ms(BRK_COOLDOWN + 30);
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK); /* the probe */
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_CLOSED);
    http_resp_free(&resp);
    mh_stop(m);
    breaker_off();
}

/* Refused connections and attempts that time out count as "down"; 4xx and 500 answers do not. */
static void test_breaker_counts_only_down(void)
{
    breaker_on();
    script s = {.fail_first = 1000, .fail_status = 500, .fail_action = MH_RESPOND};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {
        .method = "POST", .url = url, .deadline_ms = 2000, .retry = HTTP_RETRY_NEVER, .backend = "r2"};
    for (int i = 0; i < 5; i++) {
        http_resp resp;
        CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
        CU_ASSERT_EQUAL(resp.status, 500);
        http_resp_free(&resp);
    }
    s.fail_status = 404;
    for (int i = 0; i < 5; i++) {
        http_resp resp;
        CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
        http_resp_free(&resp);
    }
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_R2, NULL), BREAKER_CLOSED);
    /* a hang: each attempt times out (one attempt per call: 3 calls open it) */
    s.fail_action = MH_HANG;
    req.deadline_ms = 150;
    for (int i = 0; i < 3; i++) {
        http_resp resp;
        CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_ETIMEOUT);
        http_resp_free(&resp);
    }
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_R2, NULL), BREAKER_OPEN);
    mh_stop(m);
    /* refused connections */
    breaker_reset();
    int port = 0;
    m = mh_start(handler, &s, &port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    mh_stop(m);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    req.url = url;
    req.deadline_ms = 5000;
    req.retry = HTTP_RETRY_IDEMPOTENT;
    req.backend = "keys";
    http_resp resp;
    char err[256] = "";
    CU_ASSERT_EQUAL(http_do(&req, &resp, err, sizeof err), CLIP_EUNAVAILABLE);
    if (resp.attempts != 3)
        fprintf(stderr, "refused: %d attempts, %.0f ms: %s\n", resp.attempts, resp.elapsed_ms, err);
    CU_ASSERT_EQUAL(resp.attempts, 3);
    CU_ASSERT_TRUE(resp.elapsed_ms < 1000); /* three back-offs of at most 100 + 200 ms */
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_KEYS, NULL), BREAKER_OPEN);
    http_resp_free(&resp);
    breaker_off();
}

/* A 503 with Retry-After: without a breaker the retry waits for it, or is not made when it does
 * not fit the deadline; with one, it holds every caller off for that long. */
static void test_retry_after_honoured(void)
{
    breaker_off();
    script s = {.fail_first = 1,
                .fail_status = 503,
                .fail_action = MH_RESPOND,
                .fail_headers = "Retry-After: 1\r\n"};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req req = {.method = "GET",
                    .url = url,
                    .deadline_ms = 3000,
                    .retry = HTTP_RETRY_IDEMPOTENT,
                    .backend = "firestore"};
    http_resp resp;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_EQUAL(resp.attempts, 2);
    CU_ASSERT_TRUE(resp.elapsed_ms >= 990 && resp.elapsed_ms < 1500);
    http_resp_free(&resp);
    /* too little time left for the pause: the 503 is the answer, at once */
    __atomic_store_n(&s.requests, 0, __ATOMIC_SEQ_CST);
    req.deadline_ms = 500;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 503);
    CU_ASSERT_EQUAL(resp.attempts, 1);
    CU_ASSERT_TRUE(resp.elapsed_ms < 200);
    http_resp_free(&resp);
    /* with the breaker: the 503 is the answer at once, and the next calls are held off */
    breaker_on();
    __atomic_store_n(&s.requests, 0, __ATOMIC_SEQ_CST);
    req.deadline_ms = 3000;
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 503);
    CU_ASSERT_EQUAL(resp.attempts, 1);
    CU_ASSERT_TRUE(resp.elapsed_ms < 200);
    http_resp_free(&resp);
    long left = 0;
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, &left), BREAKER_OPEN);
    CU_ASSERT_TRUE(left > 800 && left <= 1000);
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(resp.attempts, 0);
    http_resp_free(&resp);
    /* after the pause, the next call is the probe and closes it */
    wait_ms(1000);
    CU_ASSERT_EQUAL(http_do(&req, &resp, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(resp.status, 200);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_CLOSED);
    http_resp_free(&resp);
    mh_stop(m);
    breaker_off();
}

/* Calls of one batch to a backend whose breaker is half-open go out together with the probe. */
static void test_batch_joins_the_probe(void)
{
    breaker_on();
    for (int i = 0; i < 3; i++) {
        breaker_ticket t;
        breaker_admit("firestore", 1000, &t, NULL);
        breaker_report(&t, BREAKER_DOWN, 0);
    }
    wait_ms(BRK_COOLDOWN + 30);
    script s = {0};
    minihttpd *m;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(start(&s, &m, url, sizeof url, "/x"), 0);
    http_req one = {.method = "GET",
                    .url = url,
                    .deadline_ms = 2000,
                    .retry = HTTP_RETRY_IDEMPOTENT,
                    .backend = "firestore"};
    http_req reqs[2] = {one, one};
    http_resp resps[2];
    clip_err rcs[2];
    char e0[128] = "", e1[128] = "";
    char *errs[2] = {e0, e1};
    http_do_many(2, reqs, resps, rcs, errs, sizeof e0);
    CU_ASSERT_EQUAL(rcs[0], CLIP_OK);
    CU_ASSERT_EQUAL(rcs[1], CLIP_OK);
    CU_ASSERT_EQUAL(resps[0].status, 200);
    CU_ASSERT_EQUAL(resps[1].status, 200);
    CU_ASSERT_EQUAL(seen(&s), 2);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_CLOSED);
    http_resp_free(&resps[0]);
    http_resp_free(&resps[1]);
    mh_stop(m);
    breaker_off();
}

static void test_retry_after_parsing(void)
{
    http_resp r;
    memset(&r, 0, sizeof r);
    buf_init(&r.headers, 0);
    const char *cases[][2] = {
        {"Retry-After: 7\r\n", "7000"},
        {"retry-after: 0\r\n", "0"},
        {"Retry-After: -3\r\n", "0"},
        {"Retry-After: 12abc\r\n", "0"},
        {"Retry-After: 99999999999\r\n", "86400000"},
        {"Retry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n", "0"}, /* in the past */
        {"Retry-After: soon\r\n", "0"},
        {"X-Other: 5\r\n", "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&r.headers);
        buf_puts(&r.headers, cases[i][0]);
        char got[32];
        snprintf(got, sizeof got, "%ld", http_resp_retry_after_ms(&r));
        UNIT_ASSERT_STR(got, cases[i][1]);
    }
    /* an HTTP-date ten seconds ahead */
    time_t t = time(NULL) + 10;
    struct tm tm;
    gmtime_r(&t, &tm);
    char line[80];
    strftime(line, sizeof line, "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    buf_reset(&r.headers);
    buf_puts(&r.headers, line);
    long ms = http_resp_retry_after_ms(&r);
    CU_ASSERT_TRUE(ms >= 8000 && ms <= 10000);
    buf_free(&r.headers);
}

static int init(void)
{
    return http_global_init() == CLIP_OK ? 0 : 1;
}

static int clean(void)
{
    http_global_cleanup();
    return 0;
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_get_and_keepalive),
                           UNIT_TEST(test_post_headers_body),
                           UNIT_TEST(test_retry_503_idempotent),
                           UNIT_TEST(test_never_and_unapplied_statuses),
                           UNIT_TEST(test_dropped_connection),
                           UNIT_TEST(test_hang_ends_at_deadline),
                           UNIT_TEST(test_retries_stop_before_deadline),
                           UNIT_TEST(test_response_cap),
                           UNIT_TEST(test_refused_is_unavailable),
                           UNIT_TEST(test_classify_hook), UNIT_TEST(test_many_at_once),
                           UNIT_TEST(test_parallel_calls_reuse_connections),
                           UNIT_TEST(test_backoff_schedule),
                           UNIT_TEST(test_after_fork),
                           UNIT_TEST(test_breaker_stops_retries),
                           UNIT_TEST(test_breaker_counts_only_down),
                           UNIT_TEST(test_retry_after_honoured),
                           UNIT_TEST(test_batch_joins_the_probe),
                           UNIT_TEST(test_retry_after_parsing),
                           CU_TEST_INFO_NULL};
    return unit_run("http", tests, init, clean);
}
