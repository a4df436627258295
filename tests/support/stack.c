/* stack: renders the local nginx template, starts the pool and nginx, and stops them. */
#include "stack.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_render(const tstack *s)
{
    char script[600], port[16];
    snprintf(script, sizeof script, "%s/nginx/render-local", tp_top());
    snprintf(port, sizeof port, "%d", s->port);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", 1);
        if (fd >= 0)
            dup2(fd, 1);
        execl(script, script, s->dir, port, s->sock, "1m", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* 32 random bytes in hex and a newline: an events_ticket_key_file line. */
static int random_key(char *out, size_t outlen)
{
    unsigned char rnd[32];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(rnd, 1, sizeof rnd, f) != sizeof rnd || outlen < 2 * sizeof rnd + 2) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
    snprintf(out + 2 * sizeof rnd, 2, "\n");
    return 0;
}

int stack_start(tstack *s, const char *tag, int workers, const char *conf_extra, char *const env[])
{
    memset(s, 0, sizeof *s);
    if (tp_tempdir(tag, s->dir, sizeof s->dir) != 0)
        return -1;
    s->port = tp_free_port();
    snprintf(s->url, sizeof s->url, "https://127.0.0.1:%d", s->port);
    snprintf(s->sock, sizeof s->sock, "%s/fcgi.sock", s->dir);
    snprintf(s->conf, sizeof s->conf, "%s/clipapi.conf", s->dir);
    snprintf(s->events_sock, sizeof s->events_sock, "%s/events-pub.sock", s->dir);
    snprintf(s->events_key_file, sizeof s->events_key_file, "%s/events-ticket.key", s->dir);
    char key[80];
    if (random_key(key, sizeof key) != 0 || tp_write_file(s->events_key_file, key) != 0)
        return -1;
    char text[8192];
    snprintf(text, sizeof text,
             "listen = unix:%s\nworkers = %d\nshutdown_timeout = 5\nlog_level = info\n"
             "events_publish_url = unix:%s\nevents_ticket_key_file = %s\n%s\n",
             s->sock, workers, s->events_sock, s->events_key_file, conf_extra ? conf_extra : "");
    if (tp_write_file(s->conf, text) != 0 || run_render(s) != 0)
        return -1;
    char bin[600];
    /* STACK_RELEASE=1: the release build (soak figures without the sanitizers' own memory);
     * STACK_POOL=PATH: another build of the pool (the ThreadSanitizer one of `make tsan`) */
    const char *rel = getenv("STACK_RELEASE"), *pool = getenv("STACK_POOL");
    if (pool && *pool)
        snprintf(bin, sizeof bin, "%s", pool);
    else
        snprintf(bin, sizeof bin, "%s/%sclipapi-fcgi", tp_build(),
                 rel && *rel == '1' ? "" : "san/");
    char *pargv[] = {bin, "--config", s->conf, NULL};
    if (tp_start(&s->pool, "clipapi-fcgi", pargv, env, "\"event\":\"pool_ready\"", 20000) != 0)
        return -1;
    char nconf[600];
    snprintf(nconf, sizeof nconf, "%s/nginx.conf", s->dir);
    char *nargv[] = {"nginx", "-c", nconf, "-p", s->dir, NULL};
    if (tp_start(&s->nginx, "nginx", nargv, NULL, NULL, 0) != 0 || tp_wait_port(s->port, 10000) != 0) {
        tp_dump_log(&s->nginx, 20);
        stack_stop(s);
        return -1;
    }
    return 0;
}

void stack_stop(tstack *s)
{
    if (s->nginx.pid > 0)
        tp_stop(&s->nginx, SIGTERM, 5000);
    if (s->pool.pid > 0)
        tp_stop(&s->pool, SIGTERM, 15000);
}

int stack_http(const tstack *s, const char *method, const char *path, char *const headers[],
               const char *body, size_t body_len, tp_http_resp *out)
{
    char url[4096];
    snprintf(url, sizeof url, "%s%s", s->url, path);
    return tp_http(method, url, headers, body, body_len, out);
}

static int children_of(pid_t parent, int *pids, int max)
{
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        int pid = atoi(e->d_name);
        if (pid <= 0)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t r = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[r] = '\0';
        const char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == parent &&
            state != 'Z')
            pids[n++] = pid;
    }
    closedir(d);
    return n;
}

int stack_workers(const tstack *s, int *pids, int max)
{
    return children_of(s->pool.pid, pids, max);
}

int stack_nginx_workers(const tstack *s, int *pids, int max)
{
    return children_of(s->nginx.pid, pids, max);
}

long long stack_metric(const tstack *s, const char *name)
{
    tp_http_resp r;
    long long n = -1;
    char pat[128];
    snprintf(pat, sizeof pat, "\n%s ", name);
    if (stack_http(s, "GET", "/metrics", NULL, NULL, 0, &r) == 0 && r.body) {
        const char *p = strstr(r.body, pat);
        if (p)
            n = strtoll(p + strlen(pat), NULL, 10);
    }
    tp_http_free(&r);
    return n;
}
