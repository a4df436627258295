/* worker: the FCGX_Accept_r loop with signals blocked outside ppoll, so a stop never cuts a request. */
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "router.h"

#define WORKER_POLL_MS 1000
#define ACCESS_PATH_MAX 512
/* Blocks up to this size come from the heap, and freed heap memory is given back to the kernel only
 * past it: a big answer (a video's 5,000 clips: megabytes of Firestore JSON and of output) would
 * otherwise get fresh mmap'd pages on every request and return them afterwards, page-faulting
 * through them each time (a fifth of such a request's CPU). The peak is the same either way.
 * 32 MiB is glibc's largest mmap threshold on 64-bit. */
#define WORKER_MALLOC_KEEP (32 * 1024 * 1024)

static volatile sig_atomic_t worker_stop;

static void on_stop(int sig)
{
    (void)sig;
    worker_stop = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void worker_handle(const app_t *app, request_t *rq, response_t *rs)
{
    rq->app = app;
    route_handler h;
    if (route_dispatch(rq, rs, &h) != CLIP_OK)
        return;
    h(rq, rs);
}

/* Reads exactly content_length bytes of body into the arena; 413 over the cap, 400 when short. */
static int read_body(FCGX_Request *fr, request_t *rq, response_t *rs, long cap)
{
    if (rq->content_length <= 0)
        return 0;
    if (rq->content_length > cap) {
        resp_failf(rs, rq, CLIP_ETOOBIG, "request body is over %ld bytes", cap);
        return -1;
    }
    char *b = arena_alloc(rq->arena, (size_t)rq->content_length + 1);
    if (!b) {
        resp_fail(rs, rq, CLIP_ENOMEM, "worker: out of memory for the body");
        return -1;
    }
    long got = 0;
    while (got < rq->content_length) {
        int n = FCGX_GetStr(b + got, (int)(rq->content_length - got), fr->in);
        if (n <= 0)
            break;
        got += n;
    }
    if (got != rq->content_length) {
        resp_fail(rs, rq, CLIP_EINVAL, "request body shorter than Content-Length");
        return -1;
    }
    b[got] = '\0';
    rq->body = b;
    rq->body_len = (size_t)got;
    return 0;
}

static void access_log(const request_t *rq, const response_t *rs, double ms, size_t bytes)
{
    if (!log_enabled(CFG_LOG_INFO))
        return;
    buf_t m;
    buf_init(&m, 4096);
    buf_puts(&m, ",\"method\":");
    buf_json_str(&m, rq->method.p ? rq->method.p : "", rq->method.p ? (rq->method.n > 16 ? 16 : rq->method.n) : 0);
    buf_puts(&m, ",\"path\":");
    size_t pn = rq->path.n > ACCESS_PATH_MAX ? ACCESS_PATH_MAX : rq->path.n;
    buf_json_str(&m, rq->path.p ? rq->path.p : "", rq->path.p ? pn : 0);
    if (rq->route) {
        buf_puts(&m, ",\"route\":");
        buf_json_str(&m, rq->route, strlen(rq->route));
    }
    buf_printf(&m, ",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%zu", rs->status, ms, bytes);
    if (rs->error_code)
        buf_printf(&m, ",\"error\":\"%s\"", rs->error_code);
    if (rq->remote_addr) {
        buf_puts(&m, ",\"remote\":");
        buf_json_str(&m, rq->remote_addr, strlen(rq->remote_addr));
    }
    log_json(CFG_LOG_INFO, "access", m.p);
    buf_free(&m);
}

static void serve_one(const app_t *app, FCGX_Request *fr, arena_t *arena)
{
    double t0 = now_ms();
    request_t rq;
    response_t rs;
    resp_init(&rs);
    char err[256] = "";
    if (req_parse(&rq, arena, fr->envp, err, sizeof err) != CLIP_OK) {
        resp_fail(&rs, &rq, CLIP_EINVAL, err);
    } else {
        log_set_request_id(rq.request_id);
        if (read_body(fr, &rq, &rs, app->cfg->request_body_max) == 0)
            worker_handle(app, &rq, &rs);
    }
    if (rs.body.oom) {
        /* our answer outgrew RESP_BODY_MAX: our failure, not the request's */
        log_error("response_too_large", "the answer to %.*s outgrew %u bytes",
                  (int)(rq.path.n > 256 ? 256 : rq.path.n), rq.path.p ? rq.path.p : "",
                  RESP_BODY_MAX);
        resp_fail(&rs, &rq, CLIP_EINTERNAL, "response over its cap");
    }
    buf_t out;
    buf_init(&out, 0);
    resp_serialize(&rs, &rq, &out);
    if (out.p)
        FCGX_PutStr(out.p, (int)out.len, fr->out);
    double ms = now_ms() - t0;
    metrics_request(rq.route, rs.status, ms);
    access_log(&rq, &rs, ms, rs.body.len);
    buf_free(&out);
    resp_free(&rs);
    log_set_request_id(NULL);
}

int worker_main(const cfg_t *cfg, int listen_fd, int index, int generation)
{
    /* Die with the master; stop signals only arrive inside ppoll. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    pid_t master = getppid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGQUIT);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGQUIT);

    mallopt(M_MMAP_THRESHOLD, WORKER_MALLOC_KEEP);
    mallopt(M_TRIM_THRESHOLD, WORKER_MALLOC_KEEP);
    app_t app;
    app_init(&app, cfg, index, generation);
    FCGX_Request fr;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
        log_error("worker_init", "FCGX_Init failed");
        app_free(&app);
        return 1;
    }
    arena_t arena;
    arena_init(&arena, WORKER_ARENA_LIMIT);
    long served = 0;
    log_debug("worker_start", "worker %d generation %d ready", index, generation);
    while (!worker_stop && (cfg->max_requests == 0 || served < cfg->max_requests)) {
        /* With FCGI_KEEP_CONN nginx may send the next request on the kept connection. */
        struct pollfd pfd = {fr.ipcFd >= 0 ? fr.ipcFd : listen_fd, POLLIN, 0};
        struct timespec ts = {WORKER_POLL_MS / 1000, 0};
        int r = ppoll(&pfd, 1, &ts, &waitmask);
        if (r <= 0) {
            if (getppid() != master)
                break;
            if (r == 0 && app.idt) {
                /* idle: refresh the ID token keys before they go stale, off the request path */
                char err[256];
                idt_maintain(app.idt, err, sizeof err);
            }
            continue;
        }
        /* The listen socket is non-blocking: another worker may have taken the connection. */
        int rc = FCGX_Accept_r(&fr);
        if (rc < 0) {
            if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR || rc == -ECONNABORTED)
                continue;
            log_error("worker_accept", "FCGX_Accept_r failed: %d", rc);
            break;
        }
        serve_one(&app, &fr, &arena);
        FCGX_Finish_r(&fr);
        arena_reset(&arena);
        served++;
    }
    arena_free(&arena);
    FCGX_Free(&fr, 1);
    app_free(&app);
    log_debug("worker_exit", "worker %d served %ld requests", index, served);
    return 0;
}
