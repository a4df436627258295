/* replay: the bench's stand-in for Firestore and the key set: serves recorded HTTP answers, keyed
 * on method + path (with query) + request body, from one epoll thread on 127.0.0.1.
 *
 * usage: replay --data FILE [--port N] [--port-file F]
 * FILE (written by bench/replay_record.py):
 *     CLIPREPLAY 1\n
 *     then per exchange: METHOD SP PATH SP REQ_BODY_LEN SP RESP_LEN \n REQ_BODY RESP \n
 * where RESP is the whole HTTP/1.1 answer (status line, headers with Content-Length, body).
 * A request matching no exchange gets a 404 google.rpc.Status and is counted as a miss;
 * GET /__replay/stats answers {"hits":N,"misses":M}. Prints "ready" once it accepts. SIGTERM or
 * SIGINT: prints the counts on stderr and exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RP_ENTRIES_MAX 256
#define RP_HEAD_MAX (64 * 1024)       /* request line + headers */
#define RP_BODY_MAX (4 * 1024 * 1024) /* request body */
#define RP_CONNS_MAX 4096
#define RP_EVENTS 256
#define RP_MISS_LOG_MAX 20 /* misses logged on stderr, then only counted */

typedef struct {
    char *method, *path;
    char *body;
    size_t body_len;
    char *resp;
    size_t resp_len;
    uint64_t hash;
} rp_entry;

typedef struct {
    int fd;
    char *in;
    size_t in_len, in_cap;
    const char *out; /* borrowed: an entry's answer or a static/stat buffer */
    size_t out_len, out_off;
    char stat_buf[160];
    int close_after;
} rp_conn;

static rp_entry entries[RP_ENTRIES_MAX];
static size_t nentries;
static unsigned long long hits, misses;
static volatile sig_atomic_t stop;

static const char miss_resp[] =
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=UTF-8\r\n"
    "Content-Length: 84\r\n\r\n"
    "{\"error\":{\"code\":404,\"message\":\"not in the replay "
    "recording\",\"status\":\"NOT_FOUND\"}}";
static const char bad_resp[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
    "Connection: close\r\n\r\nbad request\n";

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t key_hash(const char *m, size_t mn, const char *p, size_t pn, const char *b,
                         size_t bn)
{
    uint64_t h = fnv(1469598103934665603ULL, m, mn);
    h = fnv(h, " ", 1);
    h = fnv(h, p, pn);
    h = fnv(h, "\n", 1);
    return fnv(h, b, bn);
}

static int load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    char line[8192];
    if (!fgets(line, sizeof line, f) || strcmp(line, "CLIPREPLAY 1\n") != 0) {
        fprintf(stderr, "replay: %s: not a replay file\n", path);
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char m[16], p[8000];
        size_t bl, rl;
        if (nentries == RP_ENTRIES_MAX ||
            sscanf(line, "%15s %7999s %zu %zu", m, p, &bl, &rl) != 4 || bl > RP_BODY_MAX ||
            rl > 256u * 1024 * 1024) {
            fprintf(stderr, "replay: %s: bad entry header: %.80s\n", path, line);
            fclose(f);
            return -1;
        }
        rp_entry *e = &entries[nentries];
        e->method = strdup(m);
        e->path = strdup(p);
        e->body = malloc(bl + 1);
        e->resp = malloc(rl + 1);
        if (!e->method || !e->path || !e->body || !e->resp || fread(e->body, 1, bl, f) != bl ||
            fread(e->resp, 1, rl, f) != rl || fgetc(f) != '\n') {
            fprintf(stderr, "replay: %s: truncated entry %zu\n", path, nentries);
            fclose(f);
            return -1;
        }
        e->body_len = bl;
        e->resp_len = rl;
        e->hash = key_hash(m, strlen(m), p, strlen(p), e->body, bl);
        nentries++;
    }
    fclose(f);
    return 0;
}

static const rp_entry *lookup(const char *m, size_t mn, const char *p, size_t pn, const char *b,
                              size_t bn)
{
    uint64_t h = key_hash(m, mn, p, pn, b, bn);
    for (size_t i = 0; i < nentries; i++) {
        const rp_entry *e = &entries[i];
        if (e->hash == h && e->body_len == bn && strlen(e->method) == mn && strlen(e->path) == pn &&
            memcmp(e->method, m, mn) == 0 && memcmp(e->path, p, pn) == 0 &&
            memcmp(e->body, b, bn) == 0)
            return e;
    }
    return NULL;
}

static void conn_close(int ep, rp_conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c);
}

/* Case-insensitive search of a header's value in the head [p, end); NULL when absent. */
static const char *header(const char *p, const char *end, const char *name, size_t *vlen)
{
    size_t nn = strlen(name);
    const char *line = memchr(p, '\n', (size_t)(end - p));
    while (line && line + 1 < end) {
        line++;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break;
        if ((size_t)(eol - line) > nn && strncasecmp(line, name, nn) == 0 && line[nn] == ':') {
            const char *v = line + nn + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

/* Parses one complete request at the start of c->in, sets the answer; returns the bytes it used,
 * 0 when more input is needed, -1 on a request to refuse. */
static long parse_one(rp_conn *c)
{
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end)
        return c->in_len > RP_HEAD_MAX ? -1 : 0;
    end += 4;
    size_t head = (size_t)(end - c->in);
    char *sp1 = memchr(c->in, ' ', head);
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', head - (size_t)(sp1 + 1 - c->in)) : NULL;
    if (!sp1 || !sp2)
        return -1;
    size_t vl;
    const char *v = header(c->in, end, "Transfer-Encoding", &vl);
    if (v)
        return -1; /* no client of ours sends chunked bodies */
    size_t body_len = 0;
    v = header(c->in, end, "Content-Length", &vl);
    if (v) {
        char num[24];
        if (vl == 0 || vl >= sizeof num)
            return -1;
        memcpy(num, v, vl);
        num[vl] = '\0';
        char *e;
        unsigned long long n = strtoull(num, &e, 10);
        if (*e || n > RP_BODY_MAX)
            return -1;
        body_len = (size_t)n;
    }
    if (c->in_len < head + body_len)
        return 0;
    v = header(c->in, end, "Connection", &vl);
    c->close_after =
        (v && vl == 5 && strncasecmp(v, "close", 5) == 0) ||
        memmem(sp2, (size_t)(end - sp2) < 12 ? (size_t)(end - sp2) : 12, "HTTP/1.0", 8);
    const char *m = c->in, *p = sp1 + 1;
    size_t mn = (size_t)(sp1 - c->in), pn = (size_t)(sp2 - p);
    if (mn == 3 && memcmp(m, "GET", 3) == 0 && pn == 15 && memcmp(p, "/__replay/stats", 15) == 0) {
        char body[96];
        int bn = snprintf(body, sizeof body, "{\"hits\":%llu,\"misses\":%llu}\n", hits, misses);
        int n = snprintf(c->stat_buf, sizeof c->stat_buf,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: %d\r\n\r\n%s",
                         bn, body);
        c->out = c->stat_buf;
        c->out_len = (size_t)n;
    } else {
        const rp_entry *e = lookup(m, mn, p, pn, end, body_len);
        if (e) {
            hits++;
            c->out = e->resp;
            c->out_len = e->resp_len;
        } else {
            if (misses++ < RP_MISS_LOG_MAX)
                fprintf(stderr, "replay: miss: %.*s %.*s (%zu body bytes)\n", (int)mn, m,
                        (int)(pn > 300 ? 300 : pn), p, body_len);
            c->out = miss_resp;
            c->out_len = sizeof miss_resp - 1;
        }
    }
    c->out_off = 0;
    return (long)(head + body_len);
}

/* Writes what is pending; 1 done, 0 would block, -1 error. */
static int flush_out(rp_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        c->out_off += (size_t)w;
    }
    c->out = NULL;
    c->out_len = c->out_off = 0;
    return 1;
}

/* Serves every complete request in the input; 0 keep going, -1 close the connection. */
static int serve(int ep, rp_conn *c)
{
    for (;;) {
        if (c->out) {
            int r = flush_out(c);
            if (r < 0)
                return -1;
            if (r == 0) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                return 0;
            }
            if (c->close_after)
                return -1;
        }
        long used = parse_one(c);
        if (used < 0) {
            c->out = bad_resp;
            c->out_len = sizeof bad_resp - 1;
            c->out_off = 0;
            c->close_after = 1;
            c->in_len = 0;
            continue;
        }
        if (used == 0) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            return 0;
        }
        memmove(c->in, c->in + used, c->in_len - (size_t)used);
        c->in_len -= (size_t)used;
    }
}

static int on_readable(int ep, rp_conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 16384) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 65536;
            if (cap > RP_HEAD_MAX + RP_BODY_MAX + 65536)
                return -1;
            char *n = realloc(c->in, cap);
            if (!n)
                return -1;
            c->in = n;
            c->in_cap = cap;
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (r == 0)
            return -1;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        c->in_len += (size_t)r;
        if (c->in_len < c->in_cap)
            break; /* the socket is drained (level-triggered: a later event brings the rest) */
    }
    return c->out ? 0 : serve(ep, c);
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *port_file = NULL;
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
            port_file = argv[++i];
        else {
            fprintf(stderr, "usage: replay --data FILE [--port N] [--port-file F]\n");
            return 2;
        }
    }
    if (!data || load(data) != 0)
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 1024) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
        perror("replay: listen");
        return 2;
    }
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
            rename(tmp, port_file) != 0) {
            perror(port_file);
            return 2;
        }
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev);
    printf("ready\n");
    fflush(stdout);
    fprintf(stderr, "replay: %zu exchanges on 127.0.0.1:%d\n", nentries, ntohs(a.sin_port));

    int nconns = 0;
    struct epoll_event evs[RP_EVENTS];
    while (!stop) {
        int n = epoll_wait(ep, evs, RP_EVENTS, 500);
        for (int i = 0; i < n; i++) {
            rp_conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    rp_conn *nc = nconns < RP_CONNS_MAX ? calloc(1, sizeof *nc) : NULL;
                    if (!nc) {
                        close(fd);
                        continue;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    nc->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                    nconns++;
                }
                continue;
            }
            int r = 0;
            if (evs[i].events & (EPOLLERR | EPOLLHUP))
                r = -1;
            else if ((evs[i].events & EPOLLOUT) && c->out)
                r = serve(ep, c);
            else if (evs[i].events & EPOLLIN)
                r = on_readable(ep, c);
            if (r < 0) {
                conn_close(ep, c);
                nconns--;
            }
        }
    }
    fprintf(stderr, "replay: %llu hits, %llu misses\n", hits, misses);
    return 0;
}
