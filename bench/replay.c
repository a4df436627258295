/* replay: the bench's stand-in for Firestore and the key set: serves recorded HTTP answers, keyed
 * on method + path (with query) + request body, from one epoll thread on 127.0.0.1, each answer
 * sent a configurable delay after its request arrived (Firestore's round trip).
 *
 * usage: replay --data FILE [--port N] [--port-file F] [--delay-ms N]
 * FILE (written by bench/replay_record.py):
 *     CLIPREPLAY 1\n
 *     then per exchange: METHOD SP PATH SP REQ_BODY_LEN SP RESP_LEN \n REQ_BODY RESP \n
 * where RESP is the whole HTTP/1.1 answer (status line, headers with Content-Length, body).
 * A request matching no exchange gets a 404 google.rpc.Status and is counted as a miss;
 * GET /__replay/stats answers {"hits":N,"misses":M,"delay_ms":D}. Prints "ready" once it accepts.
 * SIGTERM or SIGINT: prints the counts on stderr and exits 0.
 *
 * Delay: every recorded answer (and miss) leaves --delay-ms milliseconds after its request was
 * complete; GET /__replay/delay?ms=N changes it for requests from then on (answers {"delay_ms":N}
 * at once; the /__replay/ answers are never delayed). The waits overlap: a waiting connection
 * sits in a queue ordered by due time, one timerfd wakes the loop for the earliest, and every
 * other connection is served meanwhile, so with D ms the backend answers up to (connections / D)
 * requests per ms whatever D is. A connection reads nothing more while its answer waits (HTTP/1.1
 * answers leave in request order). */
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
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RP_ENTRIES_MAX 256
#define RP_HEAD_MAX (64 * 1024)       /* request line + headers */
#define RP_BODY_MAX (4 * 1024 * 1024) /* request body */
#define RP_CONNS_MAX 4096
#define RP_EVENTS 256
#define RP_MISS_LOG_MAX 20 /* misses logged on stderr, then only counted */
#define RP_DELAY_MS_MAX 60000

typedef struct {
    char *method, *path;
    char *body;
    size_t body_len;
    char *resp;
    size_t resp_len;
    uint64_t hash;
} rp_entry;

typedef struct rp_conn rp_conn;
struct rp_conn {
    int fd;
    char *in;
    size_t in_len, in_cap;
    const char *out; /* borrowed: an entry's answer or a static/stat buffer */
    size_t out_len, out_off;
    char stat_buf[160];
    int close_after;
    uint64_t due_ns;        /* CLOCK_MONOTONIC time the pending answer may leave */
    rp_conn *qprev, *qnext; /* the wait queue, earliest due first */
    int queued;
};

static rp_entry entries[RP_ENTRIES_MAX];
static size_t nentries;
static unsigned long long hits, misses;
static volatile sig_atomic_t stop;
static long delay_ms;
static rp_conn *wait_head, *wait_tail;
static int timer_fd = -1;
static char timer_tag; /* its epoll data.ptr: tells the timer from connections (NULL = listener) */

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

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Arms the timer for the earliest waiting answer (disarms it when none waits). */
static void timer_arm(void)
{
    struct itimerspec it;
    memset(&it, 0, sizeof it);
    if (wait_head) {
        it.it_value.tv_sec = (time_t)(wait_head->due_ns / 1000000000u);
        it.it_value.tv_nsec = (long)(wait_head->due_ns % 1000000000u);
        if (it.it_value.tv_sec == 0 && it.it_value.tv_nsec == 0)
            it.it_value.tv_nsec = 1; /* zero would disarm */
    }
    timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &it, NULL);
}

/* Puts c in the wait queue by due time: from the tail, since with one delay every new answer is
 * due last (a changed delay can put it earlier). */
static void wait_push(rp_conn *c)
{
    rp_conn *after = wait_tail;
    while (after && after->due_ns > c->due_ns)
        after = after->qprev;
    c->qprev = after;
    c->qnext = after ? after->qnext : wait_head;
    if (c->qnext)
        c->qnext->qprev = c;
    else
        wait_tail = c;
    if (after)
        after->qnext = c;
    else
        wait_head = c;
    c->queued = 1;
    if (wait_head == c)
        timer_arm();
}

static void wait_remove(rp_conn *c)
{
    if (!c->queued)
        return;
    if (c->qprev)
        c->qprev->qnext = c->qnext;
    else
        wait_head = c->qnext;
    if (c->qnext)
        c->qnext->qprev = c->qprev;
    else
        wait_tail = c->qprev;
    c->qprev = c->qnext = NULL;
    c->queued = 0;
}

static void conn_close(int ep, rp_conn *c)
{
    wait_remove(c);
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

/* Sets an answer of the control endpoints (never delayed) from the connection's own buffer. */
static void control_answer(rp_conn *c, const char *status, const char *body)
{
    int n = snprintf(c->stat_buf, sizeof c->stat_buf,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     status, strlen(body), body);
    c->out = c->stat_buf;
    c->out_len = n > 0 && (size_t)n < sizeof c->stat_buf ? (size_t)n : 0;
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
    int is_get = mn == 3 && memcmp(m, "GET", 3) == 0;
    c->due_ns = 0;
    if (is_get && pn == 15 && memcmp(p, "/__replay/stats", 15) == 0) {
        char body[112];
        snprintf(body, sizeof body, "{\"hits\":%llu,\"misses\":%llu,\"delay_ms\":%ld}\n", hits,
                 misses, delay_ms);
        control_answer(c, "200 OK", body);
    } else if (is_get && pn > 19 && memcmp(p, "/__replay/delay?ms=", 19) == 0) {
        char num[16], *e;
        long ms = -1;
        if (pn - 19 < sizeof num) {
            memcpy(num, p + 19, pn - 19);
            num[pn - 19] = '\0';
            ms = strtol(num, &e, 10);
            if (*e || e == num || ms > RP_DELAY_MS_MAX)
                ms = -1;
        }
        if (ms < 0) {
            control_answer(c, "400 Bad Request", "{\"error\":\"ms: a whole number 0-60000\"}\n");
        } else {
            delay_ms = ms;
            char body[48];
            snprintf(body, sizeof body, "{\"delay_ms\":%ld}\n", delay_ms);
            control_answer(c, "200 OK", body);
            fprintf(stderr, "replay: delay %ld ms\n", delay_ms);
        }
    } else {
        if (delay_ms > 0)
            c->due_ns = now_ns() + (uint64_t)delay_ms * 1000000u;
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
        if (c->out && c->due_ns) {
            if (c->due_ns > now_ns()) {
                /* not before its time: read nothing more meanwhile, the timer brings it back */
                struct epoll_event ev = {.events = 0, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                if (!c->queued)
                    wait_push(c);
                return 0;
            }
            c->due_ns = 0;
        }
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
            c->due_ns = 0;
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
        else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc) {
            char *e;
            delay_ms = strtol(argv[++i], &e, 10);
            if (*e || e == argv[i] || delay_ms < 0 || delay_ms > RP_DELAY_MS_MAX) {
                fprintf(stderr, "replay: --delay-ms: a whole number 0-%d\n", RP_DELAY_MS_MAX);
                return 2;
            }
        } else {
            fprintf(stderr,
                    "usage: replay --data FILE [--port N] [--port-file F] [--delay-ms N]\n");
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
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &timer_tag};
    if (ep < 0 || timer_fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, timer_fd, &tev) != 0) {
        perror("replay: epoll");
        return 2;
    }
    printf("ready\n");
    fflush(stdout);
    fprintf(stderr, "replay: %zu exchanges on 127.0.0.1:%d, delay %ld ms\n", nentries,
            ntohs(a.sin_port), delay_ms);

    int nconns = 0;
    struct epoll_event evs[RP_EVENTS];
    while (!stop) {
        int n = epoll_wait(ep, evs, RP_EVENTS, 500);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &timer_tag) {
                uint64_t expirations;
                if (read(timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
                    perror("replay: timerfd");
                continue;
            }
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
        /* the answers whose time has come, earliest first */
        if (wait_head) {
            uint64_t t = now_ns();
            while (wait_head && wait_head->due_ns <= t) {
                rp_conn *c = wait_head;
                wait_remove(c);
                if (serve(ep, c) < 0) {
                    conn_close(ep, c);
                    nconns--;
                }
            }
            timer_arm();
        }
    }
    fprintf(stderr, "replay: %llu hits, %llu misses\n", hits, misses);
    return 0;
}
