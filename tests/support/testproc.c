/* testproc: process, port and HTTP helpers for integration tests. */
#include "testproc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TP_LOG_MAX (4 * 1024 * 1024)

const char *tp_top(void)
{
    const char *t = getenv("CLIPAPI_TOP");
    return t && *t ? t : ".";
}

const char *tp_build(void)
{
    const char *b = getenv("CLIPAPI_BUILD");
    return b && *b ? b : "build";
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tp_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int tp_tempdir(const char *tag, char *out, size_t outlen)
{
    char base[512];
    snprintf(base, sizeof base, "%s/tmp", tp_build());
    mkdir(base, 0755);
    int n = snprintf(out, outlen, "%s/%s.XXXXXX", base, tag);
    if (n < 0 || (size_t)n >= outlen)
        return -1;
    if (!mkdtemp(out))
        return -1;
    /* an absolute path survives a chdir in the programs we start */
    char abs[4096];
    if (realpath(out, abs) && strlen(abs) < outlen)
        snprintf(out, outlen, "%s", abs);
    return 0;
}

int tp_write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(content);
    int ok = fwrite(content, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int tp_start(tp_proc *p, const char *name, char *const argv[], char *const env[], const char *ready,
             int timeout_ms)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tmp", tp_build());
    mkdir(dir, 0755);
    snprintf(p->log, sizeof p->log, "%s/%s.%ld.log", dir, name, (long)getpid());
    int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* A test that crashes or is killed (tests/run's timeout) must not leave its servers
         * running: the child gets SIGKILL when the test process is gone. (Its own process group
         * keeps it out of the terminal's signals; tp_stop stops it in the normal case.) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(127); /* the test died before prctl */
        dup2(fd, 1);
        dup2(fd, 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        for (size_t i = 0; env && env[i]; i++)
            putenv(env[i]);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    p->pid = pid;
    setpgid(pid, pid);
    if (!ready)
        return 0;
    if (tp_wait_log(p, ready, timeout_ms) != 0) {
        fprintf(stderr, "%s did not print '%s' within %d ms (log: %s)\n", name, ready, timeout_ms,
                p->log);
        tp_dump_log(p, 30);
        tp_stop(p, SIGKILL, 2000);
        return -1;
    }
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(TP_LOG_MAX + 1);
    size_t n = b ? fread(b, 1, TP_LOG_MAX, f) : 0;
    fclose(f);
    if (!b)
        return NULL;
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

int tp_wait_log(const tp_proc *p, const char *needle, int timeout_ms)
{
    long end = now_ms() + timeout_ms;
    do {
        char *s = slurp(p->log, NULL);
        int found = s && strstr(s, needle);
        free(s);
        if (found)
            return 0;
        int st;
        if (p->pid > 0 && waitpid(p->pid, &st, WNOHANG) == p->pid) {
            /* died before it was ready: reap and report */
            ((tp_proc *)p)->pid = 0;
            return -1;
        }
        sleep_ms(20);
    } while (now_ms() < end);
    return -1;
}

int tp_wait_port(int port, int timeout_ms)
{
    long end = now_ms() + timeout_ms;
    do {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return 0;
        sleep_ms(20);
    } while (now_ms() < end);
    return -1;
}

int tp_wait_exit(tp_proc *p, int timeout_ms)
{
    if (p->pid <= 0)
        return -1;
    long end = now_ms() + timeout_ms;
    do {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return st;
        }
        if (r < 0)
            return -1;
        sleep_ms(10);
    } while (now_ms() < end);
    return -1;
}

int tp_stop(tp_proc *p, int sig, int timeout_ms)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    int st = tp_wait_exit(p, timeout_ms);
    if (st == -1 && p->pid > 0) {
        kill(-p->pid, SIGKILL);
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &st, 0);
        p->pid = 0;
        return -1;
    }
    /* anything the process left in its group (workers) goes too */
    return st;
}

void tp_dump_log(const tp_proc *p, int lines)
{
    size_t n = 0;
    char *s = slurp(p->log, &n);
    if (!s)
        return;
    size_t i = n;
    int seen = 0;
    while (i > 0 && seen <= lines)
        if (s[--i] == '\n')
            seen++;
    fprintf(stderr, "---- last lines of %s (%s) ----\n%s\n----\n", p->name, p->log, s + i);
    free(s);
}

typedef struct {
    char *p;
    size_t len;
} grow_t;

static size_t on_data(char *d, size_t sz, size_t nm, void *ud)
{
    grow_t *g = ud;
    size_t n = sz * nm;
    char *np = realloc(g->p, g->len + n + 1);
    if (!np)
        return 0;
    memcpy(np + g->len, d, n);
    g->len += n;
    np[g->len] = '\0';
    g->p = np;
    return n;
}

/* stream_ms > 0: the answer is a stream, read for that long; its end by the timer is no error. */
static int http_call(const char *method, const char *url, char *const headers[], const char *body,
                     size_t body_len, long stream_ms, tp_http_resp *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    grow_t b = {NULL, 0}, h = {NULL, 0};
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, stream_ms > 0 ? stream_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OPERATION_TIMEDOUT && stream_ms > 0 && h.len > 0)
        rc = CURLE_OK; /* the stream was open until the timer ended it */
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    out->body = b.p ? b.p : calloc(1, 1);
    out->len = b.len;
    out->headers = h.p ? h.p : calloc(1, 1);
    return rc == CURLE_OK ? 0 : -1;
}

int tp_http(const char *method, const char *url, char *const headers[], const char *body,
            size_t body_len, tp_http_resp *out)
{
    return http_call(method, url, headers, body, body_len, 0, out);
}

int tp_http_stream(const char *url, char *const headers[], long ms, tp_http_resp *out)
{
    return http_call("GET", url, headers, NULL, 0, ms, out);
}

void tp_http_free(tp_http_resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

int tp_run_shell(const char *cmd, buf_t *out)
{
    buf_reset(out);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(out, chunk, n);
    int st = pclose(p);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
