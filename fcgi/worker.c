/* worker: `threads` serving threads per process, each with its own FCGX_Request, arena and accept
 * loop (libfcgi's threaded model); the main thread takes the stop signals and waits for them. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "router.h"

#define WORKER_POLL_MS 1000
#define FCGI_RECORD_CONTENT_MAX 65535 /* a record's 16-bit content length */
#define WORKER_IOV_MAX 64             /* iovecs of one writev: 32 records, 2 MiB */
#define WORKER_WRITE_TIMEOUT_MS 10000 /* a web server that takes nothing for this long is gone */
#define ACCESS_PATH_MAX 512
/* Blocks up to this size come from the heap, and freed heap memory is given back to the kernel only
 * past it: a big answer (a video's 5,000 clips: megabytes of Firestore JSON and of output) would
 * otherwise get fresh mmap'd pages on every request and return them afterwards, page-faulting
 * through them each time (a fifth of such a request's CPU). The peak is the same either way.
 * 32 MiB is glibc's largest mmap threshold on 64-bit. */
#define WORKER_MALLOC_KEEP (32 * 1024 * 1024)

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

/* Writes the answer as FCGI_STDOUT records of up to 64 KiB straight to the connection, in as few
 * writev calls as the socket takes (libfcgi's stream would cut it into 8 KiB records, one write
 * each), and in the same writev the records that end the request: the empty FCGI_STDOUT and
 * FCGI_END_REQUEST (application status 0, FCGI_REQUEST_COMPLETE) that FCGX_Finish_r would write
 * in one more write, after the access log line. The streams themselves hold nothing: this is the
 * only writer of the answer. 0 ok (the caller then marks libfcgi's streams closed), -1 when the
 * connection failed (logged). */
static int write_stdout(const FCGX_Request *fr, const char *const *parts, const size_t *lens,
                        size_t nparts)
{
    struct iovec iov[WORKER_IOV_MAX];
    unsigned char hdrs[WORKER_IOV_MAX / 2][8];
    unsigned char end[24] = {1, 6, 0, 0, 0, 0, 0, 0,  /* FCGI_STDOUT, empty: the stream ends */
                             1, 3, 0, 0, 0, 8, 0, 0,  /* FCGI_END_REQUEST, 8 bytes */
                             0, 0, 0, 0, 0, 0, 0, 0}; /* appStatus 0, FCGI_REQUEST_COMPLETE */
    end[2] = end[10] = (unsigned char)(fr->requestId >> 8);
    end[3] = end[11] = (unsigned char)fr->requestId;
    int end_sent = 0;
    size_t part = 0, off = 0;
    for (;;) {
        /* one batch of records, each a header and the pieces of the parts it spans */
        size_t niov = 0, nhdr = 0, batch = 0;
        while (part < nparts && niov + 3 <= WORKER_IOV_MAX && nhdr < WORKER_IOV_MAX / 2) {
            unsigned char *h = hdrs[nhdr++];
            size_t hi = niov++, len = 0;
            while (part < nparts && len < FCGI_RECORD_CONTENT_MAX && niov < WORKER_IOV_MAX) {
                size_t take = lens[part] - off;
                if (take > FCGI_RECORD_CONTENT_MAX - len)
                    take = FCGI_RECORD_CONTENT_MAX - len;
                if (take) {
                    iov[niov].iov_base = (void *)(parts[part] + off);
                    iov[niov].iov_len = take;
                    niov++;
                    len += take;
                    off += take;
                }
                if (off == lens[part]) {
                    part++;
                    off = 0;
                }
            }
            if (len == 0) {
                niov--;
                nhdr--;
                break;
            }
            h[0] = 1; /* FCGI_VERSION_1 */
            h[1] = 6; /* FCGI_STDOUT */
            h[2] = (unsigned char)(fr->requestId >> 8);
            h[3] = (unsigned char)fr->requestId;
            h[4] = (unsigned char)(len >> 8);
            h[5] = (unsigned char)len;
            h[6] = 0; /* no padding */
            h[7] = 0;
            iov[hi].iov_base = h;
            iov[hi].iov_len = 8;
            batch += 8 + len;
        }
        if (part == nparts && !end_sent && niov < WORKER_IOV_MAX) {
            iov[niov].iov_base = end;
            iov[niov].iov_len = sizeof end;
            niov++;
            batch += sizeof end;
            end_sent = 1;
        }
        if (niov == 0)
            return 0;
        struct iovec *v = iov;
        while (batch > 0) {
            ssize_t w = writev(fr->ipcFd, v, (int)niov);
            if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
                struct pollfd p = {fr->ipcFd, POLLOUT, 0};
                if (errno == EAGAIN && poll(&p, 1, WORKER_WRITE_TIMEOUT_MS) <= 0) {
                    log_warn("worker_write", "the web server took no answer bytes for %d ms",
                             WORKER_WRITE_TIMEOUT_MS);
                    return -1;
                }
                continue;
            }
            if (w <= 0) {
                log_warn("worker_write", "writing the answer failed: %s", strerror(errno));
                return -1;
            }
            batch -= (size_t)w;
            while (niov && (size_t)w >= v->iov_len) {
                w -= (ssize_t)v->iov_len;
                v++;
                niov--;
            }
            if (niov) {
                v->iov_base = (char *)v->iov_base + w;
                v->iov_len -= (size_t)w;
            }
        }
    }
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
    buf_t head;
    buf_init(&head, 0);
    resp_head(&rs, &rq, &head);
    const char *parts[2] = {head.p ? head.p : "", rs.body.p ? rs.body.p : ""};
    size_t lens[2] = {head.len, resp_has_body(&rs) ? rs.body.len : 0};
    if (write_stdout(fr, parts, lens, 2) == 0) {
        /* the request is ended on the wire: FCGX_Finish_r must not end it again */
        fr->out->wasFCloseCalled = fr->err->wasFCloseCalled = 1;
    }
    double ms = now_ms() - t0;
    metrics_request(rq.route, rs.status, ms);
    access_log(&rq, &rs, ms, rs.body.len);
    buf_free(&head);
    resp_free(&rs);
    log_set_request_id(NULL);
}

/* What the threads of one worker process share. */
typedef struct {
    const app_t *app;
    int listen_fd;
    int stop_fd;         /* an eventfd: readable once the worker stops accepting */
    atomic_int stopping; /* set once: a stop signal, max_requests, the master gone, a failure */
    atomic_long served;  /* requests taken, for max_requests */
} worker_t;

static void stop_accepting(worker_t *w)
{
    if (atomic_exchange(&w->stopping, 1) == 0) {
        uint64_t one = 1;
        ssize_t n = write(w->stop_fd, &one, sizeof one);
        (void)n;
    }
}

/* Waits until there is a request to take: on the connection nginx kept (FCGI_KEEP_CONN) or, with
 * none, on the listen socket (ep: EPOLLEXCLUSIVE, so one idle thread of the pool wakes per
 * connection, not all). 1: take it; 0: nothing yet; -1: the worker is stopping. */
static int wait_for_request(worker_t *w, const FCGX_Request *fr, int ep)
{
    if (fr->ipcFd >= 0) {
        struct pollfd p[2] = {{fr->ipcFd, POLLIN, 0}, {w->stop_fd, POLLIN, 0}};
        int r = poll(p, 2, WORKER_POLL_MS);
        if (r > 0 && p[1].revents)
            return -1;
        return r > 0 ? 1 : 0;
    }
    struct epoll_event ev[2];
    int r = epoll_wait(ep, ev, 2, WORKER_POLL_MS);
    for (int i = 0; i < r; i++)
        if (ev[i].data.fd == w->stop_fd)
            return -1;
    return r > 0 ? 1 : 0;
}

/* One serving thread: its own FastCGI request, arena and epoll set; one request at a time. */
static void *serve_thread(void *arg)
{
    worker_t *w = arg;
    const cfg_t *cfg = w->app->cfg;
    FCGX_Request fr;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = w->listen_fd};
    struct epoll_event sev = {.events = EPOLLIN, .data.fd = w->stop_fd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, w->listen_fd, &lev) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, w->stop_fd, &sev) != 0 ||
        FCGX_InitRequest(&fr, w->listen_fd, 0) != 0) {
        log_error("worker_init", "a serving thread cannot start: %s", strerror(errno));
        if (ep >= 0)
            close(ep);
        stop_accepting(w);
        return NULL;
    }
    arena_t arena;
    arena_init(&arena, WORKER_ARENA_LIMIT);
    while (!atomic_load(&w->stopping)) {
        int r = wait_for_request(w, &fr, ep);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        /* The listen socket is non-blocking: another thread or worker may have taken it. */
        int rc = FCGX_Accept_r(&fr);
        if (rc < 0) {
            if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR || rc == -ECONNABORTED)
                continue;
            log_error("worker_accept", "FCGX_Accept_r failed: %d", rc);
            stop_accepting(w); /* the master starts a fresh process */
            break;
        }
        long n = atomic_fetch_add(&w->served, 1) + 1;
        serve_one(w->app, &fr, &arena);
        FCGX_Finish_r(&fr);
        arena_reset(&arena);
        if (cfg->max_requests && n >= cfg->max_requests)
            stop_accepting(w);
    }
    arena_free(&arena);
    FCGX_Free(&fr, 1);
    close(ep);
    return NULL;
}

int worker_main(const cfg_t *cfg, int listen_fd, int index, int generation)
{
    /* Die with the master. Stop signals are blocked in every thread (the serving threads inherit
     * the mask) and taken by this one with sigtimedwait: a stop never cuts a request. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    pid_t master = getppid();
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &stops, NULL);

    mallopt(M_MMAP_THRESHOLD, WORKER_MALLOC_KEEP);
    mallopt(M_TRIM_THRESHOLD, WORKER_MALLOC_KEEP);
    /* One malloc arena for all the threads: with one each, every thread would keep its own
     * WORKER_MALLOC_KEEP of freed big blocks (two 5,000-clip answers at once peaked at 45 MiB a
     * process, 28 MiB with one arena); small blocks still come from each thread's own cache. */
    mallopt(M_ARENA_MAX, 1);
    app_t app;
    app_init(&app, cfg, index, generation);
    worker_t w = {.app = &app, .listen_fd = listen_fd, .stop_fd = -1};
    if (FCGX_Init() != 0 || (w.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        log_error("worker_init", "FCGX_Init or eventfd failed");
        app_free(&app);
        return 1;
    }
    long nthreads = cfg->threads > 0 ? cfg->threads : 1;
    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    long started = 0;
    for (; threads && started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, serve_thread, &w) != 0) {
            log_error("worker_init", "only %ld of %ld serving threads started", started, nthreads);
            break;
        }
    if (started == 0) {
        free(threads);
        close(w.stop_fd);
        app_free(&app);
        return 1;
    }
    log_debug("worker_start", "worker %d generation %d ready: %ld threads", index, generation,
              started);
    while (!atomic_load(&w.stopping)) {
        struct timespec ts = {WORKER_POLL_MS / 1000, (WORKER_POLL_MS % 1000) * 1000000L};
        int sig = sigtimedwait(&stops, NULL, &ts);
        if (sig > 0 || getppid() != master) {
            stop_accepting(&w);
            break;
        }
        if (app.idt) {
            /* refresh the ID token keys before they go stale, off the request path */
            char err[256];
            idt_maintain(app.idt, err, sizeof err);
        }
    }
    for (long i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    close(w.stop_fd);
    long served = atomic_load(&w.served);
    app_free(&app);
    log_debug("worker_exit", "worker %d served %ld requests", index, served);
    return 0;
}
