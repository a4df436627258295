/* fcgi_client: FastCGI records on a socket, the way nginx's fastcgi module writes and reads them. */
#include "fcgi_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "pool.h"

/* The protocol's constants (FastCGI specification 1.0, section 8). */
enum {
    FCGIC_VERSION_1 = 1,
    FCGIC_BEGIN_REQUEST = 1,
    FCGIC_END_REQUEST = 3,
    FCGIC_PARAMS = 4,
    FCGIC_STDIN = 5,
    FCGIC_STDOUT = 6,
    FCGIC_STDERR = 7,
    FCGIC_RESPONDER = 1,
    FCGIC_KEEP_CONN = 1,
    FCGIC_HEADER_LEN = 8,
};

#define FCGIC_ADDR_MAX 512
#define FCGIC_PARAM_LEN_1BYTE 127 /* longer names/values take a 4-byte length */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(long long deadline)
{
    long long l = deadline - now_ms();
    return l < 0 ? 0 : (int)l;
}

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd pfd = {fd, events, 0};
        int r = poll(&pfd, 1, left_ms(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        return r > 0;
    }
}

static clip_err send_all(int fd, const void *p, size_t n, long long deadline, fcgic_resp *out)
{
    const char *c = p;
    while (n > 0) {
        int w = wait_fd(fd, POLLOUT, deadline);
        if (w <= 0)
            return clip_fail(w == 0 ? CLIP_ETIMEOUT : CLIP_EIO, out->error, sizeof out->error,
                             "send: %s", w == 0 ? "timed out" : strerror(errno));
        ssize_t s = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (s < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (s < 0)
            return clip_fail(CLIP_EIO, out->error, sizeof out->error, "send: %s", strerror(errno));
        c += s;
        n -= (size_t)s;
    }
    return CLIP_OK;
}

static clip_err recv_all(int fd, void *p, size_t n, long long deadline, fcgic_resp *out)
{
    char *c = p;
    while (n > 0) {
        int w = wait_fd(fd, POLLIN, deadline);
        if (w <= 0)
            return clip_fail(w == 0 ? CLIP_ETIMEOUT : CLIP_EIO, out->error, sizeof out->error,
                             "recv: %s", w == 0 ? "timed out waiting for the answer" : strerror(errno));
        ssize_t r = recv(fd, c, n, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r < 0)
            return clip_fail(CLIP_EIO, out->error, sizeof out->error, "recv: %s", strerror(errno));
        if (r == 0)
            return clip_fail(CLIP_EIO, out->error, sizeof out->error,
                             "connection closed before FCGI_END_REQUEST");
        c += r;
        n -= (size_t)r;
    }
    return CLIP_OK;
}

static void put_header(unsigned char *h, int type, unsigned id, size_t len, size_t pad)
{
    h[0] = FCGIC_VERSION_1;
    h[1] = (unsigned char)type;
    h[2] = (unsigned char)(id >> 8);
    h[3] = (unsigned char)id;
    h[4] = (unsigned char)(len >> 8);
    h[5] = (unsigned char)len;
    h[6] = (unsigned char)pad;
    h[7] = 0;
}

/* Appends the records of one stream (split at FCGIC_RECORD_MAX, padded to 8 bytes), then the empty
 * record that ends it. */
static void put_stream(buf_t *b, int type, unsigned id, const char *p, size_t n)
{
    static const char zeros[8];
    while (n > 0) {
        size_t len = n > FCGIC_RECORD_MAX ? FCGIC_RECORD_MAX : n;
        size_t pad = (8 - len % 8) % 8;
        unsigned char h[FCGIC_HEADER_LEN];
        put_header(h, type, id, len, pad);
        buf_append(b, h, sizeof h);
        buf_append(b, p, len);
        buf_append(b, zeros, pad);
        p += len;
        n -= len;
    }
    unsigned char h[FCGIC_HEADER_LEN];
    put_header(h, type, id, 0, 0);
    buf_append(b, h, sizeof h);
}

static void put_param_len(buf_t *b, size_t n)
{
    if (n <= FCGIC_PARAM_LEN_1BYTE) {
        buf_putc(b, (char)n);
        return;
    }
    unsigned char l[4] = {(unsigned char)((n >> 24) | 0x80), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
    buf_append(b, l, sizeof l);
}

/* Encodes "NAME=VALUE" strings as FastCGI name-value pairs; a duplicate of an earlier name is
 * skipped, so the first occurrence wins. */
static clip_err encode_params(buf_t *b, char *const params[], fcgic_resp *out)
{
    for (size_t i = 0; params && params[i]; i++) {
        const char *eq = strchr(params[i], '=');
        if (!eq || eq == params[i])
            return clip_fail(CLIP_EINVAL, out->error, sizeof out->error,
                             "parameter '%s' is not NAME=VALUE", params[i]);
        size_t nn = (size_t)(eq - params[i]);
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strncmp(params[j], params[i], nn + 1) == 0;
        if (dup)
            continue;
        put_param_len(b, nn);
        put_param_len(b, strlen(eq + 1));
        buf_append(b, params[i], nn);
        buf_puts(b, eq + 1);
    }
    return b->oom ? clip_fail(CLIP_ENOMEM, out->error, sizeof out->error, "params: out of memory")
                  : CLIP_OK;
}

/* Splits STDOUT into the CGI header block and the body, and reads the Status: header. */
static clip_err split_output(fcgic_resp *out)
{
    const char *o = out->out;
    const char *end = NULL;
    size_t sep = 0;
    for (size_t i = 0; i + 1 < out->out_len && !end; i++) {
        if (o[i] == '\n' && o[i + 1] == '\n') {
            end = o + i;
            sep = 2;
        } else if (i + 3 < out->out_len && memcmp(o + i, "\r\n\r\n", 4) == 0) {
            end = o + i;
            sep = 4;
        }
    }
    if (!end)
        return clip_fail(CLIP_EBACKEND, out->error, sizeof out->error,
                         "no end of the CGI headers in %zu bytes of output", out->out_len);
    size_t hl = (size_t)(end - o);
    if (!(out->headers = strndup(o, hl)))
        return clip_fail(CLIP_ENOMEM, out->error, sizeof out->error, "out of memory");
    out->body_len = out->out_len - hl - sep;
    if (!(out->body = malloc(out->body_len + 1)))
        return clip_fail(CLIP_ENOMEM, out->error, sizeof out->error, "out of memory");
    memcpy(out->body, end + sep, out->body_len);
    out->body[out->body_len] = '\0';
    char st[32];
    out->status = 200;
    if (fcgic_header(out, "Status", st, sizeof st)) {
        char *e;
        long s = strtol(st, &e, 10);
        if (e == st || s < 100 || s > 999)
            return clip_fail(CLIP_EBACKEND, out->error, sizeof out->error, "bad Status: '%s'", st);
        out->status = s;
    }
    return CLIP_OK;
}

clip_err fcgic_request(int fd, unsigned id, int keep_conn, char *const params[], const void *body,
                       size_t body_len, int timeout_ms, fcgic_resp *out)
{
    memset(out, 0, sizeof *out);
    long long deadline = now_ms() + timeout_ms;
    if (id == 0 || id > 0xffff)
        return clip_fail(CLIP_EINVAL, out->error, sizeof out->error, "request id %u", id);

    buf_t req = BUF_INIT, pairs = BUF_INIT;
    unsigned char h[FCGIC_HEADER_LEN], begin[8] = {0, FCGIC_RESPONDER, 0, 0, 0, 0, 0, 0};
    begin[2] = keep_conn ? FCGIC_KEEP_CONN : 0;
    put_header(h, FCGIC_BEGIN_REQUEST, id, sizeof begin, 0);
    buf_append(&req, h, sizeof h);
    buf_append(&req, begin, sizeof begin);
    clip_err rc = encode_params(&pairs, params, out);
    if (rc == CLIP_OK) {
        put_stream(&req, FCGIC_PARAMS, id, pairs.p ? pairs.p : "", pairs.len);
        put_stream(&req, FCGIC_STDIN, id, body ? body : "", body ? body_len : 0);
        if (req.oom)
            rc = clip_fail(CLIP_ENOMEM, out->error, sizeof out->error, "request: out of memory");
    }
    buf_free(&pairs);
    if (rc == CLIP_OK)
        rc = send_all(fd, req.p, req.len, deadline, out);
    buf_free(&req);
    if (rc != CLIP_OK)
        return rc;

    buf_t so, se;
    buf_init(&so, FCGIC_OUTPUT_MAX);
    buf_init(&se, FCGIC_OUTPUT_MAX);
    char *content = malloc(FCGIC_RECORD_MAX + 255);
    int done = 0;
    if (!content)
        rc = clip_fail(CLIP_ENOMEM, out->error, sizeof out->error, "out of memory");
    while (rc == CLIP_OK && !done) {
        if ((rc = recv_all(fd, h, sizeof h, deadline, out)) != CLIP_OK)
            break;
        size_t len = ((size_t)h[4] << 8) | h[5], pad = h[6];
        unsigned rid = ((unsigned)h[2] << 8) | h[3];
        if (h[0] != FCGIC_VERSION_1) {
            rc = clip_fail(CLIP_EBACKEND, out->error, sizeof out->error, "record version %d", h[0]);
            break;
        }
        if ((rc = recv_all(fd, content, len + pad, deadline, out)) != CLIP_OK)
            break;
        if (rid != id)
            continue; /* management records (id 0) or another request's: not ours */
        switch (h[1]) {
        case FCGIC_STDOUT:
            buf_append(&so, content, len);
            break;
        case FCGIC_STDERR:
            buf_append(&se, content, len);
            break;
        case FCGIC_END_REQUEST:
            if (len < 8) {
                rc = clip_fail(CLIP_EBACKEND, out->error, sizeof out->error,
                               "END_REQUEST of %zu bytes", len);
                break;
            }
            out->app_status = ((unsigned)(unsigned char)content[0] << 24) |
                              ((unsigned)(unsigned char)content[1] << 16) |
                              ((unsigned)(unsigned char)content[2] << 8) |
                              (unsigned char)content[3];
            out->protocol_status = (unsigned char)content[4];
            done = 1;
            break;
        default:
            break;
        }
        if (so.oom || se.oom)
            rc = clip_fail(CLIP_ETOOBIG, out->error, sizeof out->error,
                           "output over %d bytes", FCGIC_OUTPUT_MAX);
    }
    free(content);
    buf_putc(&so, '\0');
    buf_putc(&se, '\0');
    out->out_len = so.len ? so.len - 1 : 0;
    out->err_len = se.len ? se.len - 1 : 0;
    out->out = buf_take(&so);
    out->err = buf_take(&se);
    if (rc == CLIP_OK && (!out->out || !out->err))
        rc = clip_fail(CLIP_ENOMEM, out->error, sizeof out->error, "out of memory");
    if (rc == CLIP_OK)
        rc = split_output(out);
    if (rc != CLIP_OK) {
        char why[sizeof out->error];
        memcpy(why, out->error, sizeof why);
        fcgic_resp_free(out);
        memcpy(out->error, why, sizeof why);
    }
    return rc;
}

int fcgic_connect(const char *addr, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    memset(&ss, 0, sizeof ss);
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un *su = (struct sockaddr_un *)&ss;
        const char *path = addr + 5;
        if (strlen(path) >= sizeof su->sun_path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        su->sun_family = AF_UNIX;
        memcpy(su->sun_path, path, strlen(path));
        sl = (socklen_t)sizeof *su;
    } else {
        char host[FCGIC_ADDR_MAX];
        const char *port;
        if (pool_split_hostport(addr, host, sizeof host, &port) != 0) {
            errno = EINVAL;
            return -1;
        }
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
            errno = EINVAL;
            return -1;
        }
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        sl = res->ai_addrlen;
        freeaddrinfo(res);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EAGAIN) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int soerr = 0;
    socklen_t el = sizeof soerr;
    int w = wait_fd(fd, POLLOUT, deadline);
    if (w <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) != 0 || soerr != 0) {
        close(fd);
        errno = w == 0 ? ETIMEDOUT : (soerr ? soerr : errno);
        return -1;
    }
    return fd;
}

clip_err fcgic_call(const char *addr, const char *method, const char *uri, char *const extra[],
                    const void *body, size_t body_len, int timeout_ms, fcgic_resp *out)
{
    memset(out, 0, sizeof *out);
    long long deadline = now_ms() + timeout_ms;
    int fd = fcgic_connect(addr, timeout_ms);
    if (fd < 0)
        return clip_fail(CLIP_EUNAVAILABLE, out->error, sizeof out->error, "connect %s: %s", addr,
                         strerror(errno));
    const char *q = strchr(uri, '?');
    size_t pathlen = q ? (size_t)(q - uri) : strlen(uri);
    buf_t s[5];
    for (size_t i = 0; i < 5; i++)
        buf_init(&s[i], 0);
    buf_printf(&s[0], "REQUEST_METHOD=%s", method);
    buf_printf(&s[1], "REQUEST_URI=%s", uri);
    buf_printf(&s[2], "DOCUMENT_URI=%.*s", (int)pathlen, uri);
    buf_printf(&s[3], "QUERY_STRING=%s", q ? q + 1 : "");
    buf_printf(&s[4], "CONTENT_LENGTH=%zu", body ? body_len : (size_t)0);
    size_t nextra = 0;
    while (extra && extra[nextra])
        nextra++;
    char **params = calloc(nextra + 16, sizeof *params);
    clip_err rc = CLIP_OK;
    if (!params) {
        rc = clip_fail(CLIP_ENOMEM, out->error, sizeof out->error, "out of memory");
    } else {
        size_t n = 0;
        for (size_t i = 0; i < nextra; i++)
            params[n++] = extra[i];
        for (size_t i = 0; i < 5; i++)
            params[n++] = s[i].p;
        params[n++] = "SERVER_PROTOCOL=HTTP/1.1";
        params[n++] = "GATEWAY_INTERFACE=CGI/1.1";
        params[n++] = "REQUEST_SCHEME=https";
        params[n++] = "HTTPS=on";
        params[n++] = "REMOTE_ADDR=127.0.0.1";
        params[n++] = "REMOTE_PORT=40000";
        params[n++] = "SERVER_NAME=localhost";
        params[n++] = "SERVER_PORT=443";
        params[n] = NULL;
        for (size_t i = 0; i < 5; i++)
            if (s[i].oom || !s[i].p)
                rc = clip_fail(CLIP_ENOMEM, out->error, sizeof out->error, "out of memory");
        if (rc == CLIP_OK)
            rc = fcgic_request(fd, 1, 0, params, body, body_len, left_ms(deadline), out);
    }
    free(params);
    for (size_t i = 0; i < 5; i++)
        buf_free(&s[i]);
    close(fd);
    return rc;
}

const char *fcgic_header(const fcgic_resp *r, const char *name, char *val, size_t vallen)
{
    if (!r->headers || vallen == 0)
        return NULL;
    size_t nl = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        if (ll > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            const char *e = line + ll;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            size_t n = (size_t)(e - v) < vallen - 1 ? (size_t)(e - v) : vallen - 1;
            memcpy(val, v, n);
            val[n] = '\0';
            return val;
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

void fcgic_resp_free(fcgic_resp *r)
{
    free(r->headers);
    free(r->body);
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}
