/* events_load: the load client of bench/events.sh (issue 17's live-update figures).
 *
 *   events_load seed --port P --ca CERT --uid U --videos V --key K
 *     creates videos evb000.. and clip clip_1_vertical in each through the internal API (PUT).
 *   events_load run --port P --ca CERT --uid U --videos V --key K --tickets FILE --subs N
 *                   --writes W --publishes M --pub-sock PATH --pids "PID..."
 *     opens N event streams over TLS (stream i on video i % V, with line i % V of FILE as its
 *     ticket; one process, epoll, non-blocking OpenSSL, at most --concurrency handshakes at once),
 *     sums the Pss of PIDs (nginx; its shared mappings apart too) before and with every stream
 *     open, makes --rounds R (3) rounds of W clip status writes, one after another (one thread,
 *     one keep-alive TLS connection, write k on video k % V, marked "evbench-w<k>" in the clip's
 *     error field; the latency percentiles of each round and their median), then M publishes
 *     straight to nchan's publisher on the unix socket (4 threads, each owning the videos v % 4 == its number, marked "evbench-p<k>"), and checks
 *     that every stream got every event of its video in order and nothing else.
 *     --hold-seconds S keeps every stream open and idle S s after the memory figure (a look at
 *     nginx with pmap or heaptrack meanwhile).
 *     Prints `name value` lines on stdout; exits 1 (one line on stderr) when a phase fails.
 * Times are CLOCK_MONOTONIC of this one process: a write's answer and its events share one clock. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192  /* one SSE line (an event's data is ~1 KiB) */
#define PUB_THREADS 4
#define MARK "evbench-"

/* ---- options, clock, failing -------------------------------------------------------------------- */

static struct {
    int port;
    const char *ca, *uid, *key, *tickets, *pub_sock, *pids;
    int videos, subs, writes, rounds, publishes, concurrency;
    int connect_s, phase_s, hold_s;
} opt = {.videos = 100, .rounds = 3, .concurrency = 64, .connect_s = 120, .phase_s = 60};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("events_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n, sz);
    if (!p)
        die("out of memory");
    return p;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(ctx, opt.ca, NULL) != 1)
        die("cannot set up TLS with the CA %s", opt.ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* an idle stream keeps no read or write buffer (as nginx does on its side) */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every connect a full handshake */
    return ctx;
}

static SSL *new_ssl(SSL_CTX *ctx, int fd)
{
    SSL *s = SSL_new(ctx);
    if (!s || SSL_set_fd(s, fd) != 1 ||
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), "127.0.0.1") != 1)
        die("SSL_new failed");
    SSL_set_connect_state(s);
    return s;
}

static int tcp_socket(int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        die("socket: %s (open files: raise ulimit -n)", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static struct sockaddr_in server_addr(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* ---- a blocking HTTP/1.1 connection (TLS to nginx, or plain on a unix socket) -------------------- */

typedef struct {
    int fd;
    SSL *ssl;
    char *b; /* what was read and not consumed */
    size_t len, cap;
} hconn;

static int hc_open_tls(hconn *c, SSL_CTX *ctx)
{
    memset(c, 0, sizeof *c);
    c->fd = tcp_socket(0);
    struct sockaddr_in a = server_addr();
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    c->ssl = new_ssl(ctx, c->fd);
    return SSL_connect(c->ssl) == 1 ? 0 : -1;
}

static int hc_open_unix(hconn *c, const char *path)
{
    memset(c, 0, sizeof *c);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path)
        die("socket path too long: %s", path);
    strcpy(a.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return c->fd >= 0 && connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
}

static void hc_close(hconn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->fd > 0)
        close(c->fd);
    free(c->b);
    memset(c, 0, sizeof *c);
}

static int hc_write(hconn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : write(c->fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more into c->b; -1 at the end or on an error. */
static int hc_fill(hconn *c)
{
    if (c->cap - c->len < 16384) {
        c->cap = c->cap ? c->cap * 2 : 65536;
        c->b = realloc(c->b, c->cap);
        if (!c->b)
            die("out of memory");
    }
    ssize_t r = c->ssl ? SSL_read(c->ssl, c->b + c->len, (int)(c->cap - c->len - 1))
                       : read(c->fd, c->b + c->len, c->cap - c->len - 1);
    if (r <= 0)
        return -1;
    c->len += (size_t)r;
    c->b[c->len] = '\0';
    return 0;
}

static void hc_consume(hconn *c, size_t n)
{
    memmove(c->b, c->b + n, c->len - n);
    c->len -= n;
    c->b[c->len] = '\0';
}

/* One whole answer (Content-Length or chunked); its status, or -1. *close_after: the server
 * closes the connection after it. */
static long hc_response(hconn *c, int *close_after)
{
    char *end = NULL;
    while (!c->b || !(end = strstr(c->b, "\r\n\r\n")))
        if (hc_fill(c) != 0)
            return -1;
    size_t hl = (size_t)(end + 4 - c->b);
    long status = -1, clen = -1;
    int chunked = 0;
    *close_after = 0;
    if (sscanf(c->b, "HTTP/1.%*d %ld", &status) != 1)
        return -1;
    for (char *l = strstr(c->b, "\r\n") + 2; l < end; l = strstr(l, "\r\n") + 2) {
        if (strncasecmp(l, "Content-Length:", 15) == 0)
            clen = strtol(l + 15, NULL, 10);
        else if (strncasecmp(l, "Transfer-Encoding:", 18) == 0 && strstr(l, "chunked") &&
                 strstr(l, "chunked") < strstr(l, "\r\n"))
            chunked = 1;
        else if (strncasecmp(l, "Connection: close", 17) == 0)
            *close_after = 1;
    }
    hc_consume(c, hl);
    if (chunked) {
        for (;;) {
            char *nl;
            while (!(nl = strstr(c->b, "\r\n")))
                if (hc_fill(c) != 0)
                    return -1;
            long n = strtol(c->b, NULL, 16);
            size_t need = (size_t)(nl + 2 - c->b) + (size_t)n + 2;
            while (c->len < need)
                if (hc_fill(c) != 0)
                    return -1;
            hc_consume(c, need);
            if (n == 0)
                break;
        }
    } else if (clen >= 0) {
        while (c->len < (size_t)clen)
            if (hc_fill(c) != 0)
                return -1;
        hc_consume(c, (size_t)clen);
    } else {
        return -1; /* never from nginx for these requests */
    }
    return status;
}

/* method path (extra header lines, body): the status, -1 when the connection failed. */
static long hc_call(hconn *c, const char *method, const char *path, const char *headers,
                    const char *body)
{
    char req[4096];
    size_t bl = body ? strlen(body) : 0;
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: evbench\r\n%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, headers, bl, body ? body : "");
    if (n < 0 || (size_t)n >= sizeof req)
        die("request too long: %s", path);
    int close_after = 0;
    if (hc_write(c, req, (size_t)n) != 0)
        return -1;
    long st = hc_response(c, &close_after);
    if (close_after)
        st = -st - 1000; /* the caller reconnects */
    return st;
}

/* A write of the internal API over TLS, reconnecting once when the kept connection has gone. */
static long internal_call(hconn *c, SSL_CTX *ctx, const char *method, const char *path,
                          const char *body)
{
    char h[512];
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", opt.key);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!c->ssl && hc_open_tls(c, ctx) != 0) {
            hc_close(c);
            return -1;
        }
        long st = hc_call(c, method, path, h, body);
        if (st < -1) { /* answered, then closed */
            hc_close(c);
            return -st - 1000;
        }
        if (st > 0)
            return st;
        hc_close(c);
    }
    return -1;
}

static void video_id(char *out, size_t n, int v) { snprintf(out, n, "evb%03d", v); }

/* ---- seed ------------------------------------------------------------------------------------------ */

static int seed(void)
{
    SSL_CTX *ctx = client_ctx();
    hconn c = {0};
    for (int v = 0; v < opt.videos; v++) {
        char vid[16], path[512];
        video_id(vid, sizeof vid, v);
        snprintf(path, sizeof path, "/api/internal/users/%s/videos/%s", opt.uid, vid);
        long st = internal_call(&c, ctx, "PUT", path,
                                "{\"video_url\":\"https://youtube.com/watch?v=evbench\","
                                "\"video_title\":\"Bench\",\"status\":\"processing\"}");
        if (st != 200 && st != 201)
            die("PUT %s: %ld", path, st);
        strcat(path, "/clips/clip_1_vertical");
        st = internal_call(&c, ctx, "PUT", path,
                           "{\"scene_id\":1,\"scene_title\":\"One\",\"style\":\"vertical\","
                           "\"start_time\":\"00:00:01\",\"end_time\":\"00:00:31\",\"priority\":1}");
        if (st != 200 && st != 201)
            die("PUT %s: %ld", path, st);
    }
    hc_close(&c);
    SSL_CTX_free(ctx);
    printf("seeded_videos %d\n", opt.videos);
    return 0;
}

/* ---- the streams ----------------------------------------------------------------------------------- */

enum { S_IDLE, S_CONNECT, S_HANDSHAKE, S_SEND, S_HEADERS, S_STREAM, S_CLOSED };
enum { C_SIZE, C_DATA, C_AFTER };

typedef struct {
    int fd, state, video;
    uint32_t mask; /* epoll events registered */
    SSL *ssl;
    size_t sent;
    int chunked, cstate, chunk_ext;
    long chunk_left, chunk_size;
    char *lb; /* the line being read (the headers first) */
    size_t ll;
    int last_w, last_p, got_w, got_p;
} sub;

typedef struct {
    int k;
    int64_t t;
} sample;

static sub *subs;
static int nsubs, epfd;
static SSL_CTX *sctx;
static char **tickets;
static int counts[S_CLOSED + 1];
static int inflight; /* connects not yet streaming */
static long bad_events, bad_lines, lost_streams;
static int nwrites; /* rounds x writes */
static sample *wsamples;
static size_t nwsamples, capwsamples;
static long got_p_total;
static int64_t last_p_arrival;
static const char *close_reason;

static void set_state(sub *s, int st)
{
    counts[s->state]--;
    counts[st]++;
    s->state = st;
}

static void want(sub *s, uint32_t ev)
{
    if (s->mask == ev)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = s};
    if (epoll_ctl(epfd, s->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &e) != 0)
        die("epoll_ctl: %s", strerror(errno));
    s->mask = ev;
}

static void sub_close(sub *s, const char *why)
{
    if (s->state < S_STREAM)
        inflight--;
    else
        lost_streams++;
    if (!close_reason)
        close_reason = why;
    if (s->ssl)
        SSL_free(s->ssl);
    s->ssl = NULL;
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    s->mask = 0;
    set_state(s, S_CLOSED);
}

static void record(sub *s, char kind, int k)
{
    if (k % opt.videos != s->video) {
        bad_events++;
        return;
    }
    if (kind == 'w') {
        if (k <= s->last_w || k >= nwrites) {
            bad_events++;
            return;
        }
        s->last_w = k;
        s->got_w++;
        if (nwsamples == capwsamples)
            die("more write events than expected");
        wsamples[nwsamples++] = (sample){k, now_ns()};
    } else if (kind == 'p') {
        if (k <= s->last_p || k >= opt.publishes) {
            bad_events++;
            return;
        }
        s->last_p = k;
        s->got_p++;
        got_p_total++;
        last_p_arrival = now_ns();
    } else {
        bad_events++;
    }
}

static void sse_line(sub *s, const char *l, size_t n)
{
    if (n < 5 || memcmp(l, "data:", 5) != 0)
        return; /* event:, id:, comments (pings) */
    const char *m = memmem(l, n, MARK, sizeof MARK - 1);
    if (!m)
        return; /* not the bench's (none are expected) */
    m += sizeof MARK - 1;
    if (m + 1 >= l + n)
        return;
    record(s, m[0], atoi(m + 1));
}

static void sse_bytes(sub *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            size_t ll = s->ll;
            if (ll && s->lb[ll - 1] == '\r')
                ll--;
            sse_line(s, s->lb, ll);
            s->ll = 0;
        } else if (s->ll < LINE_MAX_BYTES) {
            s->lb[s->ll++] = p[i];
        } else {
            bad_lines++;
            s->ll = 0;
        }
    }
}

static void raw_bytes(sub *s, const char *p, size_t n)
{
    if (!s->chunked) {
        sse_bytes(s, p, n);
        return;
    }
    while (n) {
        if (s->cstate == C_DATA) {
            size_t k = n < (size_t)s->chunk_left ? n : (size_t)s->chunk_left;
            sse_bytes(s, p, k);
            p += k;
            n -= k;
            s->chunk_left -= (long)k;
            if (s->chunk_left == 0)
                s->cstate = C_AFTER;
            continue;
        }
        char ch = *p++;
        n--;
        if (s->cstate == C_AFTER) {
            if (ch == '\n')
                s->cstate = C_SIZE;
        } else if (ch == '\n') {
            long size = s->chunk_size;
            s->chunk_size = 0;
            s->chunk_ext = 0;
            if (size == 0) {
                sub_close(s, "the stream ended (last chunk)");
                return;
            }
            s->chunk_left = size;
            s->cstate = C_DATA;
        } else if (!s->chunk_ext) {
            int v = ch >= '0' && ch <= '9'   ? ch - '0'
                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                             : -1;
            if (v >= 0)
                s->chunk_size = s->chunk_size * 16 + v;
            else
                s->chunk_ext = 1; /* \r or an extension: the size is complete */
        }
    }
}

static void start_sub(sub *s)
{
    s->fd = tcp_socket(1);
    struct sockaddr_in a = server_addr();
    inflight++;
    if (connect(s->fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        sub_close(s, "connect failed");
        return;
    }
    set_state(s, S_CONNECT);
    want(s, EPOLLOUT);
}

static void headers_done(sub *s, char *end)
{
    long status = -1;
    *end = '\0';
    if (sscanf(s->lb, "HTTP/1.%*d %ld", &status) != 1 || status != 200) {
        fprintf(stderr, "events_load: the stream of video %d answered: %.300s\n", s->video, s->lb);
        sub_close(s, "the stream was not answered 200");
        return;
    }
    if (!strcasestr(s->lb, "\nContent-Type: text/event-stream")) {
        sub_close(s, "the stream is not text/event-stream");
        return;
    }
    s->chunked = strcasestr(s->lb, "\nTransfer-Encoding: chunked") != NULL;
    size_t hl = (size_t)(end + 4 - s->lb), rest = s->ll - hl;
    char tail[LINE_MAX_BYTES];
    memcpy(tail, end + 4, rest);
    s->ll = 0;
    set_state(s, S_STREAM);
    inflight--;
    raw_bytes(s, tail, rest);
}

static void sub_io(sub *s)
{
    char buf[16384];
    int r;
    switch (s->state) {
    case S_CONNECT: {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            sub_close(s, "connect failed");
            return;
        }
        s->ssl = new_ssl(sctx, s->fd);
        set_state(s, S_HANDSHAKE);
    } /* fall through */
    case S_HANDSHAKE:
        r = SSL_do_handshake(s->ssl);
        if (r != 1) {
            int e = SSL_get_error(s->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                want(s, EPOLLIN);
            else if (e == SSL_ERROR_WANT_WRITE)
                want(s, EPOLLOUT);
            else
                sub_close(s, "the TLS handshake failed");
            return;
        }
        set_state(s, S_SEND);
        /* fall through */
    case S_SEND: {
        char req[2048];
        char vid[16];
        video_id(vid, sizeof vid, s->video);
        int n = snprintf(req, sizeof req,
                         "GET /api/videos/%s/events?ticket=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                         "Accept: text/event-stream\r\nCache-Control: no-cache\r\n"
                         "User-Agent: evbench\r\n\r\n",
                         vid, tickets[s->video], opt.port);
        r = SSL_write(s->ssl, req + s->sent, n - (int)s->sent);
        if (r <= 0) {
            if (SSL_get_error(s->ssl, r) == SSL_ERROR_WANT_WRITE) {
                want(s, EPOLLOUT);
                return;
            }
            if (SSL_get_error(s->ssl, r) == SSL_ERROR_WANT_READ) {
                want(s, EPOLLIN);
                return;
            }
            sub_close(s, "sending the request failed");
            return;
        }
        s->sent += (size_t)r;
        if (s->sent < (size_t)n)
            return;
        set_state(s, S_HEADERS);
        want(s, EPOLLIN);
        return;
    }
    case S_HEADERS:
    case S_STREAM:
        for (;;) {
            r = SSL_read(s->ssl, buf, sizeof buf);
            if (r <= 0) {
                int e = SSL_get_error(s->ssl, r);
                if (e == SSL_ERROR_WANT_READ)
                    return;
                if (e == SSL_ERROR_WANT_WRITE) {
                    want(s, EPOLLOUT | EPOLLIN);
                    return;
                }
                sub_close(s, e == SSL_ERROR_ZERO_RETURN ? "nginx closed a stream"
                                                        : "a stream broke (reset or TLS error)");
                return;
            }
            if (s->state == S_STREAM) {
                raw_bytes(s, buf, (size_t)r);
                if (s->state != S_STREAM)
                    return;
                continue;
            }
            if (s->ll + (size_t)r >= LINE_MAX_BYTES) {
                sub_close(s, "the answer's headers are too long");
                return;
            }
            memcpy(s->lb + s->ll, buf, (size_t)r);
            s->ll += (size_t)r;
            s->lb[s->ll] = '\0';
            char *end = strstr(s->lb, "\r\n\r\n");
            if (end) {
                headers_done(s, end);
                if (s->state != S_STREAM)
                    return;
            }
        }
    default:
        return;
    }
}

/* Runs the event loop for up to ms; new connects while fewer than --concurrency are under way. */
static int next_sub;
static void loop_once(int ms)
{
    while (next_sub < nsubs && inflight < opt.concurrency)
        start_sub(&subs[next_sub++]);
    struct epoll_event ev[512];
    int n = epoll_wait(epfd, ev, 512, ms);
    if (n < 0 && errno != EINTR)
        die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        sub *s = ev[i].data.ptr;
        if (s->state != S_CLOSED)
            sub_io(s);
    }
}

/* ---- memory of nginx ------------------------------------------------------------------------------- */

/* The Pss of every PID (kB): in all, and of its shared mappings (nginx's shared memory zones:
 * nchan's, the TLS session cache's) apart. */
typedef struct {
    long all, shared;
} pss_t;

static pss_t pss_kib(void)
{
    pss_t sum = {0, 0};
    char *list = strdup(opt.pids), *save = NULL;
    for (char *p = strtok_r(list, " ,", &save); p; p = strtok_r(NULL, " ,", &save)) {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%s/smaps", p);
        FILE *f = fopen(path, "r");
        if (!f)
            die("cannot read %s (is nginx %s running?)", path, p);
        int shared = 0, seen = 0;
        while (fgets(line, sizeof line, f)) {
            char perms[8];
            long v;
            if (sscanf(line, "%*[0-9a-f]-%*[0-9a-f] %7s", perms) == 1)
                shared = perms[3] == 's';
            else if (sscanf(line, "Pss: %ld kB", &v) == 1) {
                sum.all += v;
                if (shared)
                    sum.shared += v;
                seen = 1;
            }
        }
        fclose(f);
        if (!seen)
            die("no Pss in %s", path);
    }
    free(list);
    return sum;
}

/* ---- the writer and the publishers ----------------------------------------------------------------- */

static int64_t *w_sent, *w_answered;
static volatile int writer_done, writer_failed;
static int64_t writer_t0, writer_t1;

static void *writer(void *arg)
{
    (void)arg;
    hconn c = {0};
    SSL_CTX *ctx = client_ctx();
    writer_t0 = now_ns();
    for (int k = 0; k < nwrites && !writer_failed; k++) {
        char vid[16], path[512], body[256];
        video_id(vid, sizeof vid, k % opt.videos);
        snprintf(path, sizeof path, "/api/internal/users/%s/videos/%s/clips/clip_1_vertical",
                 opt.uid, vid);
        if (k % 2 == 0)
            snprintf(body, sizeof body, "{\"status\":\"processing\",\"error\":\"" MARK "w%d\"}", k);
        else
            snprintf(body, sizeof body,
                     "{\"status\":\"completed\",\"has_thumbnail\":true,\"file_size_bytes\":2097152,"
                     "\"error\":\"" MARK "w%d\"}",
                     k);
        w_sent[k] = now_ns();
        long st = internal_call(&c, ctx, "PATCH", path, body);
        w_answered[k] = now_ns();
        if (st != 200) {
            fprintf(stderr, "events_load: PATCH %s: %ld\n", path, st);
            writer_failed = 1;
        }
    }
    writer_t1 = now_ns();
    hc_close(&c);
    SSL_CTX_free(ctx);
    __atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static volatile int pub_failed;
static int pub_done;
static int64_t pub_t0, pub_posted_t1;
static pthread_mutex_t pub_mu = PTHREAD_MUTEX_INITIALIZER;

static void *publisher(void *arg)
{
    int t = (int)(intptr_t)arg;
    hconn c;
    if (hc_open_unix(&c, opt.pub_sock) != 0) {
        fprintf(stderr, "events_load: cannot connect to %s: %s\n", opt.pub_sock, strerror(errno));
        pub_failed = 1;
    }
    for (int k = 0; k < opt.publishes && !pub_failed; k++) {
        if ((k % opt.videos) % PUB_THREADS != t)
            continue;
        char vid[16], path[256], body[256];
        video_id(vid, sizeof vid, k % opt.videos);
        snprintf(path, sizeof path, "/_events/pub/%s.%s", opt.uid, vid);
        snprintf(body, sizeof body, "{\"clip_id\":\"clip_1_vertical\",\"error\":\"" MARK "p%d\"}", k);
        long st = hc_call(&c, "POST", path,
                          "X-EventSource-Event: clip\r\nContent-Type: application/json\r\n", body);
        if (st < -1) { /* answered, then closed: reconnect */
            st = -st - 1000;
            hc_close(&c);
            if (hc_open_unix(&c, opt.pub_sock) != 0)
                pub_failed = 1;
        }
        if (st != 201 && st != 202) {
            fprintf(stderr, "events_load: POST %s: %ld\n", path, st);
            pub_failed = 1;
        }
    }
    hc_close(&c);
    pthread_mutex_lock(&pub_mu);
    if (++pub_done == PUB_THREADS)
        pub_posted_t1 = now_ns();
    pthread_mutex_unlock(&pub_mu);
    return NULL;
}

/* ---- run ------------------------------------------------------------------------------------------- */

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* the q-quantile (nearest rank) of sorted v[n], in ms */
static double q_ms(const long long *v, size_t n, double q)
{
    if (!n)
        return -1;
    size_t i = (size_t)(q * (double)n + 0.999999);
    if (i < 1)
        i = 1;
    if (i > n)
        i = n;
    return (double)v[i - 1] / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* p50 and p99 (ms) of the events of writes [k0, k1): from each write's answer (an event that came
 * first counts 0) and from its request. */
static void lat_fig(int k0, int k1, double *p50, double *p99, double *rp50, double *rp99)
{
    long long *lat = xcalloc(nwsamples + 1, sizeof *lat), *lreq = xcalloc(nwsamples + 1, sizeof *lreq);
    size_t n = 0;
    for (size_t i = 0; i < nwsamples; i++) {
        int k = wsamples[i].k;
        if (k < k0 || k >= k1)
            continue;
        long long d = wsamples[i].t - w_answered[k];
        lat[n] = d < 0 ? 0 : d;
        lreq[n++] = wsamples[i].t - w_sent[k];
    }
    qsort(lat, n, sizeof *lat, cmp_ll);
    qsort(lreq, n, sizeof *lreq, cmp_ll);
    *p50 = q_ms(lat, n, 0.50);
    *p99 = q_ms(lat, n, 0.99);
    *rp50 = q_ms(lreq, n, 0.50);
    *rp99 = q_ms(lreq, n, 0.99);
    free(lat);
    free(lreq);
}

static void read_tickets(void)
{
    FILE *f = fopen(opt.tickets, "r");
    if (!f)
        die("cannot read %s", opt.tickets);
    tickets = xcalloc((size_t)opt.videos, sizeof *tickets);
    char line[2048];
    for (int v = 0; v < opt.videos; v++) {
        if (!fgets(line, sizeof line, f))
            die("%s: %d tickets for %d videos", opt.tickets, v, opt.videos);
        line[strcspn(line, "\r\n")] = '\0';
        tickets[v] = strdup(line);
    }
    fclose(f);
}

static int expected_of(int video, int total)
{
    return total / opt.videos + (video < total % opt.videos ? 1 : 0);
}

static void state_line(const char *what)
{
    die("%s: %d of %d streams open (%d connecting, %d in TLS handshake, %d sending, %d awaiting "
        "the answer, %d not started, %d closed: %s)",
        what, counts[S_STREAM], nsubs, counts[S_CONNECT], counts[S_HANDSHAKE], counts[S_SEND],
        counts[S_HEADERS], counts[S_IDLE], counts[S_CLOSED], close_reason ? close_reason : "-");
}

static int run(void)
{
    nsubs = opt.subs;
    read_tickets();
    sctx = client_ctx();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    subs = xcalloc((size_t)nsubs, sizeof *subs);
    counts[S_IDLE] = nsubs;
    for (int i = 0; i < nsubs; i++) {
        subs[i].video = i % opt.videos;
        subs[i].lb = xcalloc(1, LINE_MAX_BYTES + 1);
        subs[i].last_w = subs[i].last_p = -1;
    }
    pss_t pss0 = pss_kib();

    /* 1. every stream open at once */
    int64_t t0 = now_ns(), dl = t0 + (int64_t)opt.connect_s * 1000000000;
    while (counts[S_STREAM] < nsubs) {
        if (counts[S_CLOSED])
            state_line("a stream failed");
        if (now_ns() > dl)
            state_line("not every stream opened in time");
        loop_once(100);
    }
    int64_t t_open = now_ns();
    printf("subs_open %d\n", counts[S_STREAM]);
    printf("connect_s %.2f\n", (double)(t_open - t0) / 1e9);
    printf("connects_per_s %.0f\n", nsubs / ((double)(t_open - t0) / 1e9));
    fflush(stdout);

    /* 2. memory with every stream open and idle: what arrived meanwhile is read first */
    loop_once(0);
    pss_t pss1 = pss_kib();
    printf("nginx_pss_kib_before %ld\n", pss0.all);
    printf("nginx_pss_kib_open %ld\n", pss1.all);
    printf("kib_per_sub %.2f\n", (double)(pss1.all - pss0.all) / nsubs);
    printf("kib_per_sub_shared %.2f\n", (double)(pss1.shared - pss0.shared) / nsubs);
    fflush(stdout);
    /* --hold-seconds: the streams stay open and idle that long, for a look at nginx (pmap) */
    if (opt.hold_s > 0) {
        fprintf(stderr, "events_load: holding %d streams for %d s\n", nsubs, opt.hold_s);
        for (int64_t hd = now_ns() + (int64_t)opt.hold_s * 1000000000; now_ns() < hd;)
            loop_once(100);
        fprintf(stderr, "events_load: held\n");
    }

    /* 3. writes through the internal API: --rounds rounds of --writes, one after another */
    nwrites = opt.writes * opt.rounds;
    long exp_w = 0;
    for (int i = 0; i < nsubs; i++)
        exp_w += expected_of(subs[i].video, nwrites);
    capwsamples = (size_t)exp_w;
    wsamples = xcalloc(capwsamples + 1, sizeof *wsamples);
    w_sent = xcalloc((size_t)nwrites + 1, sizeof *w_sent);
    w_answered = xcalloc((size_t)nwrites + 1, sizeof *w_answered);
    pthread_t wt;
    if (pthread_create(&wt, NULL, writer, NULL) != 0)
        die("pthread_create failed");
    int64_t wdl = 0;
    for (;;) {
        if (__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE)) {
            if (!wdl)
                wdl = now_ns() + (int64_t)opt.phase_s * 1000000000;
            if ((long)nwsamples >= exp_w || now_ns() > wdl)
                break;
        }
        loop_once(20);
    }
    pthread_join(wt, NULL);
    if (writer_failed)
        die("a write failed");
    if (counts[S_CLOSED])
        state_line("a stream closed during the writes");
    printf("writes %d\n", nwrites);
    printf("write_rounds %d\n", opt.rounds);
    printf("write_events_expected %ld\n", exp_w);
    printf("write_events_received %zu\n", nwsamples);
    /* each round's percentiles, and their medians (one stall of the shared machine moves one
     * round's p99), then all rounds together */
    double f[4][16];
    for (int r = 0; r <= opt.rounds; r++) {
        int all = r == opt.rounds;
        lat_fig(all ? 0 : r * opt.writes, all ? nwrites : (r + 1) * opt.writes, f[0] + r,
                f[1] + r, f[2] + r, f[3] + r);
        if (!all)
            printf("latency_ms_p50_round%d %.2f\nlatency_ms_p99_round%d %.2f\n", r + 1, f[0][r],
                   r + 1, f[1][r]);
    }
    const char *names[4] = {"latency_ms_p50", "latency_ms_p99", "latency_from_request_ms_p50",
                            "latency_from_request_ms_p99"};
    for (int i = 0; i < 4; i++) {
        double m[16];
        memcpy(m, f[i], sizeof(double) * (size_t)opt.rounds);
        qsort(m, (size_t)opt.rounds, sizeof *m, cmp_d);
        printf("%s %.2f\n", names[i], m[opt.rounds / 2]);
        printf("%s_all %.2f\n", names[i], f[i][opt.rounds]);
    }
    long before = 0;
    long long maxd = 0;
    for (size_t i = 0; i < nwsamples; i++) {
        long long d = wsamples[i].t - w_answered[wsamples[i].k];
        before += d < 0;
        maxd = d > maxd ? d : maxd;
    }
    long long *wa = xcalloc((size_t)nwrites + 1, sizeof *wa);
    for (int k = 0; k < nwrites; k++)
        wa[k] = w_answered[k] - w_sent[k];
    qsort(wa, (size_t)nwrites, sizeof *wa, cmp_ll);
    printf("latency_ms_max %.2f\n", (double)maxd / 1e6);
    printf("before_answer_pct %.1f\n", nwsamples ? 100.0 * (double)before / (double)nwsamples : 0);
    printf("write_ms_p50 %.2f\n", q_ms(wa, (size_t)nwrites, 0.50));
    printf("write_ms_p99 %.2f\n", q_ms(wa, (size_t)nwrites, 0.99));
    printf("writes_per_s %.0f\n", nwrites / ((double)(writer_t1 - writer_t0) / 1e9));
    fflush(stdout);

    /* 4. publishes straight to nchan */
    long exp_p = 0;
    for (int i = 0; i < nsubs; i++)
        exp_p += expected_of(subs[i].video, opt.publishes);
    pthread_t pt[PUB_THREADS];
    pub_t0 = now_ns();
    for (int t = 0; t < PUB_THREADS; t++)
        if (pthread_create(&pt[t], NULL, publisher, (void *)(intptr_t)t) != 0)
            die("pthread_create failed");
    int64_t pdl = pub_t0 + (int64_t)opt.phase_s * 1000000000;
    while (got_p_total < exp_p && now_ns() < pdl && !pub_failed)
        loop_once(20);
    for (int t = 0; t < PUB_THREADS; t++)
        pthread_join(pt[t], NULL);
    if (pub_failed)
        die("a publish failed");
    double pub_s = (double)(last_p_arrival - pub_t0) / 1e9;
    printf("publishes %d\n", opt.publishes);
    printf("publish_events_expected %ld\n", exp_p);
    printf("publish_events_received %ld\n", got_p_total);
    printf("publish_per_s %.0f\n", got_p_total >= exp_p ? opt.publishes / pub_s : 0);
    printf("deliveries_per_s %.0f\n", got_p_total / pub_s);
    printf("publish_posted_per_s %.0f\n", opt.publishes / ((double)(pub_posted_t1 - pub_t0) / 1e9));

    /* 5. every stream got everything of its own video, in order */
    long missing = 0;
    for (int i = 0; i < nsubs; i++)
        missing += (expected_of(subs[i].video, nwrites) - subs[i].got_w) +
                   (expected_of(subs[i].video, opt.publishes) - subs[i].got_p);
    loop_once(0);
    printf("events_missing %ld\n", missing);
    printf("events_wrong %ld\n", bad_events);
    printf("lines_too_long %ld\n", bad_lines);
    printf("streams_lost %ld\n", lost_streams);
    printf("subs_held %d\n", counts[S_STREAM]);
    fflush(stdout);
    if (missing || bad_events || bad_lines || lost_streams)
        die("%ld events missing, %ld wrong or out of order, %ld streams lost (%s)", missing,
            bad_events, lost_streams, close_reason ? close_reason : "-");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"port", required_argument, NULL, 'P'},       {"ca", required_argument, NULL, 'c'},
        {"uid", required_argument, NULL, 'u'},        {"videos", required_argument, NULL, 'v'},
        {"key", required_argument, NULL, 'k'},        {"tickets", required_argument, NULL, 't'},
        {"subs", required_argument, NULL, 'n'},       {"writes", required_argument, NULL, 'w'},
        {"publishes", required_argument, NULL, 'm'},  {"pub-sock", required_argument, NULL, 's'},
        {"pids", required_argument, NULL, 'p'},       {"concurrency", required_argument, NULL, 'C'},
        {"connect-seconds", required_argument, NULL, 'D'},
        {"phase-seconds", required_argument, NULL, 'E'}, {"rounds", required_argument, NULL, 'R'},
        {"hold-seconds", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0}};
    if (argc < 2)
        die("usage: events_load seed|run OPTIONS (see the source)");
    const char *mode = argv[1];
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'P': opt.port = atoi(optarg); break;
        case 'c': opt.ca = optarg; break;
        case 'u': opt.uid = optarg; break;
        case 'v': opt.videos = atoi(optarg); break;
        case 'k': opt.key = optarg; break;
        case 't': opt.tickets = optarg; break;
        case 'n': opt.subs = atoi(optarg); break;
        case 'w': opt.writes = atoi(optarg); break;
        case 'm': opt.publishes = atoi(optarg); break;
        case 's': opt.pub_sock = optarg; break;
        case 'p': opt.pids = optarg; break;
        case 'C': opt.concurrency = atoi(optarg); break;
        case 'D': opt.connect_s = atoi(optarg); break;
        case 'E': opt.phase_s = atoi(optarg); break;
        case 'R': opt.rounds = atoi(optarg); break;
        case 'H': opt.hold_s = atoi(optarg); break;
        default: die("unknown option");
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (!opt.port || !opt.ca || !opt.uid || !opt.key || opt.videos < 1 || opt.videos > 1000)
        die("--port, --ca, --uid, --key and --videos (1..1000) are needed");
    if (strcmp(mode, "seed") == 0)
        return seed();
    if (strcmp(mode, "run") != 0)
        die("unknown mode %s", mode);
    if (!opt.tickets || !opt.pub_sock || !opt.pids || opt.subs < 1 || opt.writes < 1 ||
        opt.publishes < 1 || opt.concurrency < 1 || opt.rounds < 1 || opt.rounds > 15)
        die("run needs --tickets, --pub-sock, --pids, --subs, --writes, --publishes (--rounds 1..15)");
    return run();
}
