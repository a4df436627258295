/* pool: php-fpm's master in miniature: fork, reap, respawn with limits, reload, stop, notify. */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "breaker.h"
#include "firestore.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "notify.h"
#include "worker.h"

#define SD_LISTEN_FDS_START 3

typedef struct {
    pid_t pid;
    int slot;
    int generation;
    double started;
} child_t;

typedef struct {
    double respawn_at; /* 0: nothing pending */
    int quick_crashes; /* consecutive crashes soon after start, for the back-off */
} slot_t;

typedef struct {
    const pool_opts *opts;
    cfg_t *cfg;
    int listen_fd;
    char *unix_path;   /* the socket file we created and must remove */
    int from_systemd;
    long workers;
    int generation;
    child_t children[2 * POOL_WORKERS_MAX];
    int nchildren;
    slot_t slots[POOL_WORKERS_MAX];
    double crash_times[POOL_CRASH_LIMIT];
    int crash_next;
    int crash_logged;
    double crash_log_window;
    int crash_suppressed;
    int stopping;
    double stop_deadline;
    long long watchdog_usec;
    double next_watchdog;
    int sigpipe[2];
} pool_t;

static int pool_sigfd = -1;

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (pool_sigfd >= 0) {
        ssize_t w = write(pool_sigfd, &c, 1);
        (void)w;
    }
    errno = saved;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Takes the socket systemd passed, when LISTEN_PID/LISTEN_FDS say it is ours. */
static int systemd_socket(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (!pid || !fds || atol(pid) != (long)getpid() || atoi(fds) < 1)
        return -1;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return SD_LISTEN_FDS_START;
}

static int listen_unix(pool_t *p, const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        log_error("listen", "listen: unix socket path too long: %s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            log_error("listen", "listen: %s exists and is not a socket", path);
            close(fd);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (probe >= 0)
            close(probe);
        if (alive) {
            log_error("listen", "listen: %s is in use by a running server", path);
            close(fd);
            return -1;
        }
        unlink(path); /* a stale socket from a crash */
    }
    mode_t old = umask(0117); /* 0660: the owner and nginx's group */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || listen(fd, POOL_LISTEN_BACKLOG) != 0) {
        log_error("listen", "listen: cannot listen on unix:%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    p->unix_path = strdup(path);
    return fd;
}

int pool_split_hostport(const char *hostport, char *host, size_t hostlen, const char **port)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= hostlen)
        return -1;
    size_t hn = (size_t)(colon - hostport);
    memcpy(host, hostport, hn);
    host[hn] = '\0';
    if (hn >= 2 && host[0] == '[' && host[hn - 1] == ']') {
        memmove(host, host + 1, hn - 2);
        host[hn - 2] = '\0';
    }
    *port = colon + 1;
    return 0;
}

static int listen_tcp(const char *hostport)
{
    char host[256];
    const char *port;
    if (pool_split_hostport(hostport, host, sizeof host, &port) != 0)
        return -1;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (gai != 0) {
        log_error("listen", "listen: cannot resolve %s: %s", hostport, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, POOL_LISTEN_BACKLOG) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        log_error("listen", "listen: cannot listen on %s: %s", hostport, strerror(errno));
    return fd;
}

static int open_listener(pool_t *p)
{
    int fd = systemd_socket();
    if (fd >= 0) {
        p->from_systemd = 1;
    } else {
        const char *l = p->opts->listen ? p->opts->listen : p->cfg->listen;
        if (!l) {
            log_error("listen", "listen: not set");
            return -1;
        }
        fd = strncmp(l, "unix:", 5) == 0 ? listen_unix(p, l + 5) : listen_tcp(l);
    }
    if (fd >= 0 && set_nonblock(fd) != 0) {
        close(fd);
        return -1;
    }
    p->listen_fd = fd;
    return fd;
}

static void spawn(pool_t *p, int slot)
{
    if (p->nchildren >= (int)(sizeof p->children / sizeof p->children[0]))
        return;
    pid_t pid = fork();
    if (pid < 0) {
        log_error("worker_fork", "fork failed: %s", strerror(errno));
        p->slots[slot].respawn_at = now_s() + POOL_BACKOFF_MAX_MS / 1000.0;
        return;
    }
    if (pid == 0) {
        close(p->sigpipe[0]);
        close(p->sigpipe[1]);
        pool_sigfd = -1;
        signal(SIGCHLD, SIG_DFL);
        int code = worker_main(p->cfg, p->listen_fd, slot, p->generation);
        cfg_free(p->cfg);
        free(p->unix_path);
        exit(code);
    }
    child_t *c = &p->children[p->nchildren++];
    c->pid = pid;
    c->slot = slot;
    c->generation = p->generation;
    c->started = now_s();
    p->slots[slot].respawn_at = 0;
}

static void signal_children(pool_t *p, int sig, int below_generation)
{
    for (int i = 0; i < p->nchildren; i++)
        if (below_generation < 0 || p->children[i].generation < below_generation)
            kill(p->children[i].pid, sig);
}

/* Records a crash; returns 1 when the crash limit is reached (the master should give up). */
static int record_crash(pool_t *p, double t)
{
    p->crash_times[p->crash_next] = t;
    p->crash_next = (p->crash_next + 1) % POOL_CRASH_LIMIT;
    double oldest = p->crash_times[p->crash_next];
    return oldest > 0 && t - oldest < POOL_CRASH_WINDOW_S;
}

static void log_worker_exit(pool_t *p, const child_t *c, int status, double t)
{
    if (t - p->crash_log_window > POOL_CRASH_WINDOW_S) {
        if (p->crash_suppressed)
            log_warn("worker_exit", "%d more worker exits not logged", p->crash_suppressed);
        p->crash_log_window = t;
        p->crash_logged = 0;
        p->crash_suppressed = 0;
    }
    if (p->crash_logged++ >= POOL_CRASH_LOG_PER_WINDOW) {
        p->crash_suppressed++;
        return;
    }
    if (WIFSIGNALED(status))
        log_warn("worker_exit", "worker %d (pid %ld) killed by signal %d after %.1f s", c->slot,
                 (long)c->pid, WTERMSIG(status), t - c->started);
    else
        log_warn("worker_exit", "worker %d (pid %ld) exited with %d after %.1f s", c->slot,
                 (long)c->pid, WEXITSTATUS(status), t - c->started);
}

/* Reaps children; returns -1 when workers crash too often to go on. */
static int reap(pool_t *p)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int i;
        for (i = 0; i < p->nchildren; i++)
            if (p->children[i].pid == pid)
                break;
        if (i == p->nchildren)
            continue;
        child_t c = p->children[i];
        p->children[i] = p->children[--p->nchildren];
        if (p->stopping || c.generation != p->generation || c.slot >= p->workers)
            continue; /* expected: stopping, or replaced by a reload */
        double t = now_s();
        slot_t *s = &p->slots[c.slot];
        int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (clean) {
            s->quick_crashes = 0; /* recycled after max_requests */
            s->respawn_at = t;
            continue;
        }
        log_worker_exit(p, &c, status, t);
        metrics_worker_restart();
        if (record_crash(p, t)) {
            log_error("pool_crash_limit", "%d worker crashes within %.0f s: giving up",
                      POOL_CRASH_LIMIT, POOL_CRASH_WINDOW_S);
            return -1;
        }
        if (t - c.started > POOL_CRASH_WINDOW_S)
            s->quick_crashes = 0;
        long delay = POOL_BACKOFF_MIN_MS;
        for (int k = 0; k < s->quick_crashes && delay < POOL_BACKOFF_MAX_MS; k++)
            delay *= 2;
        if (delay > POOL_BACKOFF_MAX_MS)
            delay = POOL_BACKOFF_MAX_MS;
        s->quick_crashes++;
        /* the first crash is respawned at once: the pool must be whole again quickly */
        s->respawn_at = s->quick_crashes == 1 ? t : t + delay / 1000.0;
    }
    return 0;
}

static void reload(pool_t *p)
{
    notify_send("RELOADING=1");
    char err[CFG_ERR_MAX] = "";
    cfg_t *n = NULL;
    const char *keys_from = NULL;
    if (cfg_load(p->opts->config_path, &n, err, sizeof err) != CLIP_OK ||
        fs_cursor_keys(n, &keys_from, err, sizeof err) != CLIP_OK) {
        /* one line per problem, as at start-up */
        for (char *line = err, *nl; line; line = nl) {
            if ((nl = strchr(line, '\n')) != NULL)
                *nl++ = '\0';
            log_error("reload_failed", "%s (keeping the running configuration)", line);
        }
        cfg_free(n);
        notify_send("READY=1");
        return;
    }
    if (!p->from_systemd && !p->opts->listen && p->cfg->listen && n->listen &&
        strcmp(p->cfg->listen, n->listen) != 0)
        log_warn("reload", "listen changed to %s: takes effect on restart", n->listen);
    cfg_free(p->cfg);
    p->cfg = n;
    log_set_level(n->log_level);
    breaker_configure(n->breaker_failures, n->breaker_cooldown_ms);
    long old_workers = p->workers;
    p->workers = p->opts->workers > 0 ? p->opts->workers : n->workers;
    p->generation++;
    for (int s = 0; s < p->workers; s++) {
        p->slots[s].quick_crashes = 0;
        spawn(p, s);
    }
    signal_children(p, SIGTERM, p->generation);
    log_info("reload", "configuration reloaded: %ld workers (was %ld), generation %d", p->workers,
             old_workers, p->generation);
    notify_send("READY=1");
}

static int poll_timeout_ms(const pool_t *p, double t)
{
    double next = t + 1.0;
    for (int s = 0; s < p->workers; s++)
        if (p->slots[s].respawn_at > 0 && p->slots[s].respawn_at < next)
            next = p->slots[s].respawn_at;
    if (p->watchdog_usec && p->next_watchdog < next)
        next = p->next_watchdog;
    if (p->stopping && p->stop_deadline < next)
        next = p->stop_deadline;
    double ms = (next - t) * 1000.0;
    return ms < 0 ? 0 : (int)ms + 1;
}

static int slot_alive(const pool_t *p, int slot)
{
    for (int i = 0; i < p->nchildren; i++)
        if (p->children[i].slot == slot && p->children[i].generation == p->generation)
            return 1;
    return 0;
}

static void begin_stop(pool_t *p)
{
    if (p->stopping)
        return;
    p->stopping = 1;
    notify_send("STOPPING=1");
    log_info("pool_stopping", "stopping: %d workers finish their requests within %ld s",
             p->nchildren, p->cfg->shutdown_timeout);
    p->stop_deadline = now_s() + (double)p->cfg->shutdown_timeout;
    signal_children(p, SIGTERM, -1);
}

int pool_run(const pool_opts *opts, cfg_t *cfg)
{
    static pool_t pool;
    pool_t *p = &pool;
    memset(p, 0, sizeof *p);
    p->opts = opts;
    p->cfg = cfg;
    p->workers = opts->workers > 0 ? opts->workers : cfg->workers;
    if (p->workers > POOL_WORKERS_MAX)
        p->workers = POOL_WORKERS_MAX;
    int rc = 0;
    if (pipe2(p->sigpipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return 1;
    pool_sigfd = p->sigpipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (metrics_init() != 0)
        log_warn("metrics", "no shared memory for metrics: /metrics will be empty");
    /* before the first fork, so that every worker shares each backend's breaker */
    if (breaker_init_shared() != 0)
        log_warn("breaker", "no shared memory for the breakers: each worker keeps its own");
    breaker_configure(cfg->breaker_failures, cfg->breaker_cooldown_ms);
    route_register_metrics();
    /* the page cursors' key, set before fork so that every worker signs with the same one */
    const char *keys_from = NULL;
    char kerr[512];
    if (fs_cursor_seed() != 0)
        log_warn("cursor_keys", "no randomness for a fallback cursor key");
    if (fs_cursor_keys(cfg, &keys_from, kerr, sizeof kerr) != CLIP_OK) {
        log_error("config", "%s", kerr);
        rc = 1;
        goto out;
    }
    log_info("cursor_keys", "page cursors are signed with a key %s", keys_from);
    if (open_listener(p) < 0) {
        rc = 1;
        goto out;
    }
    for (int s = 0; s < p->workers; s++)
        spawn(p, s);
    p->watchdog_usec = notify_watchdog_usec();
    p->next_watchdog = now_s();
    log_info("pool_ready", "%ld workers serving %s%s (metadata_source %s)", p->workers,
             p->from_systemd ? "the socket from systemd" : (opts->listen ? opts->listen : cfg->listen),
             "", cfg_source_name(cfg->metadata_source));
    notify_send("READY=1");

    for (;;) {
        double t = now_s();
        struct pollfd pfd = {p->sigpipe[0], POLLIN, 0};
        poll(&pfd, 1, poll_timeout_ms(p, t));
        unsigned char sigbuf[64];
        ssize_t n;
        int got_hup = 0, got_term = 0;
        while ((n = read(p->sigpipe[0], sigbuf, sizeof sigbuf)) > 0) {
            for (ssize_t i = 0; i < n; i++) {
                if (sigbuf[i] == SIGHUP)
                    got_hup = 1;
                else if (sigbuf[i] == SIGTERM || sigbuf[i] == SIGINT || sigbuf[i] == SIGQUIT)
                    got_term = 1;
            }
        }
        if (reap(p) != 0) {
            rc = 1;
            begin_stop(p);
        }
        if (got_term)
            begin_stop(p);
        if (got_hup && !p->stopping)
            reload(p);
        t = now_s();
        if (p->stopping) {
            if (p->nchildren == 0)
                break;
            if (t >= p->stop_deadline) {
                log_warn("pool_stop_deadline", "%d workers still busy after %ld s: killed",
                         p->nchildren, p->cfg->shutdown_timeout);
                signal_children(p, SIGKILL, -1);
                while (p->nchildren > 0 && waitpid(-1, NULL, 0) > 0)
                    p->nchildren--;
                break;
            }
        } else {
            for (int s = 0; s < p->workers; s++)
                if (p->slots[s].respawn_at > 0 && p->slots[s].respawn_at <= t && !slot_alive(p, s))
                    spawn(p, s);
        }
        metrics_set_pool_size(p->nchildren);
        if (p->watchdog_usec && t >= p->next_watchdog) {
            notify_send("WATCHDOG=1");
            p->next_watchdog = t + (double)p->watchdog_usec / 2e6;
        }
    }
    log_info("pool_stopped", "all workers stopped");
out:
    if (p->listen_fd >= 0 && !p->from_systemd)
        close(p->listen_fd);
    if (p->unix_path) {
        unlink(p->unix_path);
        free(p->unix_path);
    }
    close(p->sigpipe[0]);
    close(p->sigpipe[1]);
    pool_sigfd = -1;
    cfg_free(p->cfg);
    metrics_free();
    breaker_free_shared();
    return rc;
}
