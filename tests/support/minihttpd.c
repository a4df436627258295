/* minihttpd: a scripted HTTP/1.1 server on loopback (a thread per connection) for client tests. */
#include "minihttpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections served at once, each on its own thread (a kept-alive client must not block others).
 */
#define MH_CONN_MAX 128

struct minihttpd {
    int lfd;
    int stop_pipe[2];
    pthread_t thread;
    mh_handler handler;
    void *ctx;
    int connections;
    pthread_t conn_threads[MH_CONN_MAX];
    int nconn_threads;
};

typedef struct {
    minihttpd *m;
    int fd;
} conn_arg;

/* Waits for fd readable or stop; 1 readable, 0 stop. */
static int wait_readable(minihttpd *m, int fd)
{
    for (;;) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {m->stop_pipe[0], POLLIN, 0}};
        int r = poll(p, 2, 1000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return 0;
        if (p[1].revents)
            return 0;
        if (p[0].revents)
            return 1;
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Appends what fd has next to in (waiting while the server runs); 1 read, 0 closed/stop. */
static int read_more(minihttpd *m, int fd, buf_t *in)
{
    char chunk[16384];
    if (!wait_readable(m, fd))
        return 0;
    ssize_t r = recv(fd, chunk, sizeof chunk, 0);
    if (r <= 0)
        return 0;
    buf_append(in, chunk, (size_t)r);
    return 1;
}

/* Reads one request from fd with carry-over bytes in in; 1 read, 0 closed/stop/bad. */
static int read_request(minihttpd *m, int fd, buf_t *in, mh_request *req)
{
    for (;;) {
        char *hend = in->p ? strstr(in->p, "\r\n\r\n") : NULL;
        if (hend) {
            size_t hlen = (size_t)(hend - in->p) + 4;
            char *line_end = strstr(in->p, "\r\n");
            char target[MH_PATH_MAX];
            if (sscanf(in->p, "%15s %4095s", req->method, target) != 2)
                return 0;
            snprintf(req->path, sizeof req->path, "%s", target);
            buf_reset(&req->headers);
            buf_append(&req->headers, line_end + 2, hlen - (size_t)(line_end + 2 - in->p));
            size_t clen = 0;
            char v[32];
            if (mh_header(req, "Content-Length", v, sizeof v) == 0)
                clen = strtoul(v, NULL, 10);
            if (clen > MH_REQUEST_MAX)
                return 0;
            while (in->len < hlen + clen)
                if (!read_more(m, fd, in))
                    return 0;
            buf_reset(&req->body);
            buf_append(&req->body, in->p + hlen, clen);
            size_t rest = in->len - hlen - clen;
            memmove(in->p, in->p + hlen + clen, rest);
            in->len = rest;
            in->p[rest] = '\0';
            return 1;
        }
        if (in->len > MH_REQUEST_MAX)
            return 0;
        if (!read_more(m, fd, in))
            return 0;
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static void serve_conn(minihttpd *m, int fd)
{
    buf_t in = BUF_INIT;
    mh_request req;
    memset(&req, 0, sizeof req);
    mh_response resp;
    memset(&resp, 0, sizeof resp);
    for (int n = 1;; n++) {
        if (!read_request(m, fd, &in, &req))
            break;
        req.conn_requests = n;
        buf_reset(&resp.headers);
        buf_reset(&resp.body);
        resp.status = 200;
        mh_action a = m->handler(&req, &resp, m->ctx);
        if (a == MH_CLOSE)
            break;
        if (a == MH_HANG) {
            char c;
            while (wait_readable(m, fd) && recv(fd, &c, 1, 0) > 0)
                ;
            break;
        }
        buf_t out = BUF_INIT;
        buf_printf(&out, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n", resp.status,
                   reason(resp.status), resp.body.len);
        if (resp.headers.len)
            buf_append(&out, resp.headers.p, resp.headers.len);
        buf_puts(&out, "\r\n");
        if (resp.body.len)
            buf_append(&out, resp.body.p, resp.body.len);
        int w = write_all(fd, out.p, out.len);
        buf_free(&out);
        if (w != 0)
            break;
    }
    buf_free(&in);
    buf_free(&req.headers);
    buf_free(&req.body);
    buf_free(&resp.headers);
    buf_free(&resp.body);
    close(fd);
}

static void *conn_main(void *arg)
{
    conn_arg *c = arg;
    serve_conn(c->m, c->fd);
    free(c);
    return NULL;
}

static void *run(void *arg)
{
    minihttpd *m = arg;
    while (wait_readable(m, m->lfd)) {
        int fd = accept(m->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        __atomic_add_fetch(&m->connections, 1, __ATOMIC_SEQ_CST);
        conn_arg *c = malloc(sizeof *c);
        if (!c || m->nconn_threads >= MH_CONN_MAX) {
            free(c);
            close(fd);
            continue;
        }
        c->m = m;
        c->fd = fd;
        if (pthread_create(&m->conn_threads[m->nconn_threads], NULL, conn_main, c) != 0) {
            free(c);
            close(fd);
            continue;
        }
        m->nconn_threads++;
    }
    for (int i = 0; i < m->nconn_threads; i++)
        pthread_join(m->conn_threads[i], NULL);
    return NULL;
}

minihttpd *mh_start(mh_handler handler, void *ctx, int *port)
{
    minihttpd *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->handler = handler;
    m->ctx = ctx;
    m->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (m->lfd < 0 || bind(m->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(m->lfd, 64) != 0 || getsockname(m->lfd, (struct sockaddr *)&a, &alen) != 0 ||
        pipe(m->stop_pipe) != 0) {
        if (m->lfd >= 0)
            close(m->lfd);
        free(m);
        return NULL;
    }
    *port = ntohs(a.sin_port);
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        close(m->lfd);
        close(m->stop_pipe[0]);
        close(m->stop_pipe[1]);
        free(m);
        return NULL;
    }
    return m;
}

void mh_stop(minihttpd *m)
{
    if (!m)
        return;
    (void)!write(m->stop_pipe[1], "x", 1);
    pthread_join(m->thread, NULL);
    close(m->lfd);
    close(m->stop_pipe[0]);
    close(m->stop_pipe[1]);
    free(m);
}

int mh_connections(const minihttpd *m)
{
    return __atomic_load_n(&m->connections, __ATOMIC_SEQ_CST);
}

int mh_header(const mh_request *req, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = req->headers.p;
    if (!p)
        return -1;
    const char *end = p + req->headers.len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < le && *v == ' ')
                v++;
            const char *ve = le;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            snprintf(out, outlen, "%.*s", (int)(ve - v), v);
            return 0;
        }
        p = eol ? eol + 1 : end;
    }
    return -1;
}
