/* clipapi-fcgi started the way systemd starts it: the listening unix socket passed as fd 3 with
 * LISTEN_FDS/LISTEN_PID, a NOTIFY_SOCKET datagram socket owned by this test, WATCHDOG_USEC, and
 * the secrets in CREDENTIALS_DIRECTORY. It must serve FastCGI on that socket, say READY=1, send
 * WATCHDOG=1 within the interval, RELOADING=1 then READY=1 on SIGHUP (serving throughout) and
 * STOPPING=1 on SIGTERM, leaving the socket systemd owns in place. */
#include <errno.h>
#include <fcntl.h>
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

#include "fcgi_client.h"
#include "unit.h"

#define WATCHDOG_USEC 1000000LL /* systemd's WatchdogSec=1s: WATCHDOG=1 due every 0.5 s */
#define START_TIMEOUT_MS 20000  /* the sanitizer build starts slowly on a busy machine */
#define REQUEST_TIMEOUT_MS 10000
#define SHUTDOWN_TIMEOUT_S 5
#define LOG_TAIL_BYTES 4000

static char dir[128];       /* short: unix socket paths must fit in sun_path */
static char sock_path[192]; /* the "systemd" listening socket */
static char sock_addr[200];
static char notify_path[192];
static char creds_dir[192];
static char conf_path[192];
static char log_path[192];
static int listen_fd = -1, notify_fd = -1;
static pid_t pool_pid = -1;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *fcgi_binary(void)
{
    static char path[600];
    const char *b = getenv("CLIPAPI_BUILD");
    snprintf(path, sizeof path, "%s/san/clipapi-fcgi", b && *b ? b : "build");
    return path;
}

static int write_file(const char *path, const char *content, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t n = strlen(content);
    ssize_t w = write(fd, content, n);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

static int bind_unix(int type, const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        (type == SOCK_STREAM && listen(fd, 128) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void dump_log(void)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, sz > LOG_TAIL_BYTES ? sz - LOG_TAIL_BYTES : 0, SEEK_SET);
    char buf[LOG_TAIL_BYTES + 1];
    size_t n = fread(buf, 1, LOG_TAIL_BYTES, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "---- clipapi-fcgi log (tail) ----\n%s\n----\n", buf);
}

/* Starts clipapi-fcgi as systemd would: fd 3 = the listening socket, LISTEN_PID = its own pid,
 * extra_env (NULL-terminated) added. Returns the pid, or -1. */
static pid_t start_pool(const char *creds, char *const extra_env[])
{
    static char env_notify[256], env_creds[256], env_wd[64];
    snprintf(env_notify, sizeof env_notify, "NOTIFY_SOCKET=%s", notify_path);
    snprintf(env_creds, sizeof env_creds, "CREDENTIALS_DIRECTORY=%s", creds);
    snprintf(env_wd, sizeof env_wd, "WATCHDOG_USEC=%lld", WATCHDOG_USEC);
    const char *asan = getenv("ASAN_OPTIONS"), *ubsan = getenv("UBSAN_OPTIONS");
    static char env_asan[512], env_ubsan[512];
    snprintf(env_asan, sizeof env_asan, "ASAN_OPTIONS=%s", asan ? asan : "");
    snprintf(env_ubsan, sizeof env_ubsan, "UBSAN_OPTIONS=%s", ubsan ? ubsan : "");
    /* A clean environment, as systemd gives (no CLIPAPI_* or GOOGLE_* from the caller). */
    char listen_pid[32], watchdog_pid[32];
    char *env[16] = {"PATH=/usr/bin:/bin", "LISTEN_FDS=1", "LISTEN_FDNAMES=clipapi.socket",
                     listen_pid, watchdog_pid, env_notify, env_creds, env_wd, env_asan, env_ubsan};
    size_t n = 10;
    for (size_t i = 0; extra_env && extra_env[i] && n + 1 < sizeof env / sizeof env[0]; i++)
        env[n++] = extra_env[i];
    env[n] = NULL;
    const char *bin = fcgi_binary();
    char *argv[] = {(char *)bin, "--config", conf_path, NULL};

    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* child: only async-signal-safe calls, then exec */
    setpgid(0, 0);
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (logfd < 0)
        _exit(120);
    dup2(logfd, 1);
    dup2(logfd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    if (listen_fd == 3) {
        int fl = fcntl(3, F_GETFD);
        fcntl(3, F_SETFD, fl & ~FD_CLOEXEC);
    } else if (dup2(listen_fd, 3) != 3) { /* dup2 clears FD_CLOEXEC on the copy */
        _exit(121);
    }
    /* pid in decimal without stdio */
    char digits[24];
    int nd = 0;
    for (long v = (long)getpid(); v > 0 && nd < 23; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    char *p = listen_pid;
    memcpy(p, "LISTEN_PID=", 11);
    p += 11;
    while (nd > 0)
        *p++ = digits[--nd];
    *p = '\0';
    memcpy(watchdog_pid, "WATCHDOG_PID=", 13);
    memcpy(watchdog_pid + 13, listen_pid + 11, strlen(listen_pid + 11) + 1);
    execve(bin, argv, env);
    _exit(127);
}

/* Stops pid: sig, wait up to ms, then SIGKILL to its group. Returns the wait status or -1. */
static int stop_pool(pid_t pid, int sig, int ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    int status = -1;
    double end = now_s() + ms / 1000.0;
    while (now_s() < end) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        usleep(20000);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* The next sd_notify datagram, each line a message; skip_watchdog drops WATCHDOG=1-only ones.
 * Returns the datagram in out ("" when none came within ms). */
static void next_notify(char *out, size_t n, int ms, int skip_watchdog)
{
    double end = now_s() + ms / 1000.0;
    out[0] = '\0';
    while (now_s() < end) {
        int left = (int)((end - now_s()) * 1000);
        struct timeval tv = {left / 1000, (left % 1000) * 1000 + 1};
        setsockopt(notify_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t r = recv(notify_fd, out, n - 1, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            out[0] = '\0';
            return;
        }
        out[r] = '\0';
        while (r > 0 && out[r - 1] == '\n')
            out[--r] = '\0';
        if (skip_watchdog && strcmp(out, "WATCHDOG=1") == 0)
            continue;
        return;
    }
    out[0] = '\0';
}

/* Waits up to ms for a datagram containing the line want; other datagrams are collected into
 * seen (for messages). Returns 1 when it came. */
static int await_notify(const char *want, int ms, char *seen, size_t seen_len)
{
    double end = now_s() + ms / 1000.0;
    char msg[512];
    seen[0] = '\0';
    while (now_s() < end) {
        next_notify(msg, sizeof msg, (int)((end - now_s()) * 1000) + 1, 1);
        if (!msg[0])
            return 0;
        for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n")) {
            if (strcmp(line, want) == 0)
                return 1;
            size_t l = strlen(seen);
            snprintf(seen + l, seen_len - l, "%s%s", l ? "," : "", line);
        }
    }
    return 0;
}

static void drain_notify(void)
{
    char msg[512];
    do
        next_notify(msg, sizeof msg, 1, 0);
    while (msg[0]);
}

static int suite_init(void)
{
    snprintf(dir, sizeof dir, "/tmp/clipapi-sd.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock_path, sizeof sock_path, "%s/fcgi.sock", dir);
    snprintf(sock_addr, sizeof sock_addr, "unix:%s", sock_path);
    snprintf(notify_path, sizeof notify_path, "%s/notify.sock", dir);
    snprintf(creds_dir, sizeof creds_dir, "%s/credentials", dir);
    snprintf(conf_path, sizeof conf_path, "%s/clipapi.conf", dir);
    snprintf(log_path, sizeof log_path, "%s/clipapi-fcgi.log", dir);
    if (mkdir(creds_dir, 0700) != 0)
        return 1;
    char path[256];
    /* What LoadCredential= puts there: one file per secret, named after the key. */
    snprintf(path, sizeof path, "%s/r2_access_key_id", creds_dir);
    if (write_file(path, "AKIDSYSTEMDTEST\n", 0400) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/r2_secret_access_key", creds_dir);
    if (write_file(path, "c2VjcmV0LWZyb20tY3JlZGVudGlhbHM\n", 0400) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/internal_keys_file", creds_dir);
    if (write_file(path, "# rotated 2026-11\nworkflow-key-0123456789abcdef\n", 0400) != 0)
        return 1;
    /* The listen key points nowhere usable: with a socket from systemd it must be ignored. */
    char conf[512];
    snprintf(conf, sizeof conf,
             "# as installed to /etc/clipapi/clipapi.conf, no secrets in it\n"
             "listen = unix:%s/not-here/never.sock\n"
             "workers = 2\n"
             "shutdown_timeout = %d\n"
             "firestore_project = systemd-test\n"
             "r2_endpoint = http://127.0.0.1:9\n"
             "r2_bucket = clips\n",
             dir, SHUTDOWN_TIMEOUT_S);
    if (write_file(conf_path, conf, 0644) != 0)
        return 1;
    listen_fd = bind_unix(SOCK_STREAM, sock_path);
    notify_fd = bind_unix(SOCK_DGRAM, notify_path);
    if (listen_fd < 0 || notify_fd < 0)
        return 1;
    if (access(fcgi_binary(), X_OK) != 0) {
        fprintf(stderr, "%s is not built (make san)\n", fcgi_binary());
        return 1;
    }
    pool_pid = start_pool(creds_dir, NULL);
    return pool_pid > 0 ? 0 : 1;
}

static int suite_clean(void)
{
    if (pool_pid > 0 && waitpid(pool_pid, NULL, WNOHANG) == 0)
        stop_pool(pool_pid, SIGKILL, 2000);
    pool_pid = -1;
    if (listen_fd >= 0)
        close(listen_fd);
    if (notify_fd >= 0)
        close(notify_fd);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (strncmp(dir, "/tmp/clipapi-sd.", 16) == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}

static double t_ready;

static void test_ready_sent(void)
{
    char seen[1024];
    int ok = await_notify("READY=1", START_TIMEOUT_MS, seen, sizeof seen);
    t_ready = now_s();
    if (!ok) {
        fprintf(stderr, "no READY=1 (saw: %s)\n", seen);
        dump_log();
    }
    CU_ASSERT_TRUE_FATAL(ok);
    CU_ASSERT_EQUAL(waitpid(pool_pid, NULL, WNOHANG), 0); /* still running */
}

static void expect_healthz(const char *rid)
{
    char *extra[] = {NULL, NULL};
    char ridparam[128];
    if (rid) {
        snprintf(ridparam, sizeof ridparam, "REQUEST_ID=%s", rid);
        extra[0] = ridparam;
    }
    fcgic_resp r;
    clip_err rc = fcgic_call(sock_addr, "GET", "/healthz", extra, NULL, 0, REQUEST_TIMEOUT_MS, &r);
    if (rc != CLIP_OK)
        fprintf(stderr, "GET /healthz: %s\n", r.error);
    CU_ASSERT_EQUAL_FATAL(rc, CLIP_OK);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(r.protocol_status, 0);
    UNIT_ASSERT_STR(r.body, "{\"status\":\"ok\"}");
    char v[128];
    CU_ASSERT_PTR_NOT_NULL(fcgic_header(&r, "Content-Type", v, sizeof v));
    CU_ASSERT_PTR_NOT_NULL(strstr(v, "application/json"));
    if (rid) {
        CU_ASSERT_PTR_NOT_NULL(fcgic_header(&r, "X-Request-Id", v, sizeof v));
        UNIT_ASSERT_STR(v, rid);
    }
    fcgic_resp_free(&r);
}

static void test_serves_on_the_passed_socket(void)
{
    /* The config's listen path was never created: the pool took fd 3 instead. */
    char never[256];
    snprintf(never, sizeof never, "%s/not-here", dir);
    CU_ASSERT_NOT_EQUAL(access(never, F_OK), 0);
    expect_healthz("4bf92f3577b34da6a3ce929d0e0e4736");
    for (int i = 0; i < 20; i++)
        expect_healthz(NULL);

    /* An unknown path: the contract's JSON error with the request id nginx would pass. */
    char *extra[] = {"REQUEST_ID=0af7651916cd43dd8448eb211c80319c", NULL};
    fcgic_resp r;
    CU_ASSERT_EQUAL_FATAL(
        fcgic_call(sock_addr, "GET", "/api/nowhere", extra, NULL, 0, REQUEST_TIMEOUT_MS, &r),
        CLIP_OK);
    CU_ASSERT_EQUAL(r.status, 404);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"code\":\"not_found\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"request_id\":\"0af7651916cd43dd8448eb211c80319c\""));
    fcgic_resp_free(&r);
}

static void internal_put(const char *bearer, fcgic_resp *r)
{
    char auth[160];
    snprintf(auth, sizeof auth, "HTTP_AUTHORIZATION=Bearer %s", bearer);
    char *extra[] = {auth, "CONTENT_TYPE=application/json", NULL};
    clip_err rc = fcgic_call(sock_addr, "PUT", "/api/internal/users/u1/videos/v1", extra, "{}", 2,
                             REQUEST_TIMEOUT_MS, r);
    if (rc != CLIP_OK)
        fprintf(stderr, "PUT internal: %s\n", r->error);
    CU_ASSERT_EQUAL_FATAL(rc, CLIP_OK);
}

static void test_internal_keys_from_credentials_directory(void)
{
    /* internal_keys_file is unset in the config: it must come from
     * $CREDENTIALS_DIRECTORY/internal_keys_file. With no keys loaded the answer would be a 503
     * ("service keys are not configured"); a wrong key is a 401 only when they were loaded. */
    fcgic_resp r;
    internal_put("not-the-workflow-key-0000000000", &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"code\":\"unauthenticated\""));
    CU_ASSERT_PTR_NULL(strstr(r.body, "not configured"));
    fcgic_resp_free(&r);
}

static void test_long_params_and_body_in_many_records(void)
{
    /* What nginx sends for a big PUT: a header longer than 127 bytes (4-byte FastCGI length) and
     * a body spread over several STDIN records of at most 65535 bytes. The pool reads it all
     * (the body is read before auth), then refuses the key. */
    enum { BODY_LEN = 200000, LONG_VALUE = 300 };
    char *body = malloc(BODY_LEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    memset(body, ' ', BODY_LEN);
    body[0] = '{';
    body[BODY_LEN - 1] = '}';
    char longhdr[LONG_VALUE + 32];
    int n = snprintf(longhdr, sizeof longhdr, "HTTP_X_LONG_HEADER=");
    memset(longhdr + n, 'v', LONG_VALUE);
    longhdr[n + LONG_VALUE] = '\0';
    char *extra[] = {"HTTP_AUTHORIZATION=Bearer not-the-workflow-key-0000000000",
                     "CONTENT_TYPE=application/json", longhdr, NULL};
    fcgic_resp r;
    clip_err rc = fcgic_call(sock_addr, "PUT", "/api/internal/users/u1/videos/v1", extra, body,
                             BODY_LEN, REQUEST_TIMEOUT_MS, &r);
    free(body);
    if (rc != CLIP_OK)
        fprintf(stderr, "big PUT: %s\n", r.error);
    CU_ASSERT_EQUAL_FATAL(rc, CLIP_OK);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_PTR_NULL(strstr(r.body, "shorter than Content-Length"));
    fcgic_resp_free(&r);
}

static void test_keep_conn_like_nginx(void)
{
    /* nginx's fastcgi_keep_conn: several requests, one after another, on one connection. */
    int fd = fcgic_connect(sock_addr, REQUEST_TIMEOUT_MS);
    CU_ASSERT_TRUE_FATAL(fd >= 0);
    char *params[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/healthz", "DOCUMENT_URI=/healthz",
                      "QUERY_STRING=", "CONTENT_LENGTH=0", "SERVER_PROTOCOL=HTTP/1.1",
                      "REMOTE_ADDR=127.0.0.1", NULL};
    for (unsigned id = 1; id <= 5; id++) {
        fcgic_resp r;
        clip_err rc = fcgic_request(fd, id, 1, params, NULL, 0, REQUEST_TIMEOUT_MS, &r);
        if (rc != CLIP_OK)
            fprintf(stderr, "keep-conn request %u: %s\n", id, r.error);
        CU_ASSERT_EQUAL_FATAL(rc, CLIP_OK);
        CU_ASSERT_EQUAL(r.status, 200);
        UNIT_ASSERT_STR(r.body, "{\"status\":\"ok\"}");
        fcgic_resp_free(&r);
    }
    close(fd);
}

static void test_watchdog_within_interval(void)
{
    /* Every gap between WATCHDOG=1 pings (and from READY to the first) stays under
     * WATCHDOG_USEC, which is what keeps systemd from killing the service. */
    drain_notify();
    double last = now_s(), worst = 0;
    int pings = 0;
    double end = last + 3.2;
    char msg[256];
    while (now_s() < end) {
        next_notify(msg, sizeof msg, (int)(WATCHDOG_USEC / 1000), 0);
        if (!msg[0])
            break; /* nothing within a whole interval: a failure, counted below */
        if (strcmp(msg, "WATCHDOG=1") != 0)
            continue;
        double t = now_s();
        if (pings > 0 && t - last > worst)
            worst = t - last;
        last = t;
        pings++;
    }
    fprintf(stderr, "watchdog: %d pings in 3.2 s, longest gap %.3f s (limit %.3f s)\n", pings,
            worst, WATCHDOG_USEC / 1e6);
    CU_ASSERT_TRUE(pings >= 4); /* WATCHDOG_USEC/2 = 0.5 s: about 6 */
    CU_ASSERT_TRUE(worst < WATCHDOG_USEC / 1e6);
}

static void test_sighup_reloading_then_ready(void)
{
    drain_notify();
    /* A new config (one worker more) that the reload must pick up. */
    char conf[512];
    snprintf(conf, sizeof conf,
             "listen = unix:%s/not-here/never.sock\nworkers = 3\nshutdown_timeout = %d\n"
             "firestore_project = systemd-test\nr2_endpoint = http://127.0.0.1:9\n"
             "r2_bucket = clips\n",
             dir, SHUTDOWN_TIMEOUT_S);
    CU_ASSERT_EQUAL_FATAL(write_file(conf_path, conf, 0644), 0);
    CU_ASSERT_EQUAL_FATAL(kill(pool_pid, SIGHUP), 0);
    /* Requests keep being served while the workers are replaced. */
    int failures = 0;
    for (int i = 0; i < 60; i++) {
        fcgic_resp r;
        if (fcgic_call(sock_addr, "GET", "/healthz", NULL, NULL, 0, REQUEST_TIMEOUT_MS, &r) !=
                CLIP_OK ||
            r.status != 200) {
            fprintf(stderr, "during reload, request %d: %s (status %ld)\n", i, r.error, r.status);
            failures++;
        }
        fcgic_resp_free(&r);
    }
    CU_ASSERT_EQUAL(failures, 0);
    char msg[512];
    next_notify(msg, sizeof msg, START_TIMEOUT_MS, 1);
    UNIT_ASSERT_STR(msg, "RELOADING=1");
    next_notify(msg, sizeof msg, START_TIMEOUT_MS, 1);
    UNIT_ASSERT_STR(msg, "READY=1");
    expect_healthz("5c1f0e2a9d7b4e3f8a6b2c1d0e9f8a7b");

    /* The master now runs 3 workers (its children, read from /proc). */
    char path[96], kids[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pool_pid, (int)pool_pid);
    int nkids = -1;
    for (int tries = 0; tries < 100; tries++) {
        FILE *f = fopen(path, "r");
        if (!f)
            break; /* kernel without CONFIG_PROC_CHILDREN: not checked */
        size_t n = fread(kids, 1, sizeof kids - 1, f);
        fclose(f);
        kids[n] = '\0';
        nkids = 0;
        for (char *t = strtok(kids, " \n"); t; t = strtok(NULL, " \n"))
            nkids++;
        if (nkids == 3)
            break;
        usleep(50000); /* the old generation may still be finishing */
    }
    if (nkids >= 0)
        CU_ASSERT_EQUAL(nkids, 3);
}

static void test_sigterm_stopping_and_exit(void)
{
    drain_notify();
    double t0 = now_s();
    CU_ASSERT_EQUAL_FATAL(kill(pool_pid, SIGTERM), 0);
    char msg[512];
    next_notify(msg, sizeof msg, 2000, 1);
    UNIT_ASSERT_STR(msg, "STOPPING=1");
    int status = -1;
    double end = t0 + SHUTDOWN_TIMEOUT_S + 3;
    while (now_s() < end) {
        pid_t r = waitpid(pool_pid, &status, WNOHANG);
        if (r == pool_pid)
            break;
        status = -1;
        usleep(20000);
    }
    if (status == -1) {
        dump_log();
        stop_pool(pool_pid, SIGKILL, 2000);
    }
    pool_pid = -1;
    CU_ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fprintf(stderr, "stopped in %.2f s\n", now_s() - t0);
    /* The socket belongs to systemd (clipapi.socket): the pool must not remove it, and it still
     * accepts connections, which systemd would queue for the next start. */
    struct stat sb;
    CU_ASSERT_EQUAL(lstat(sock_path, &sb), 0);
    CU_ASSERT_TRUE(S_ISSOCK(sb.st_mode));
    int fd = fcgic_connect(sock_addr, 1000);
    CU_ASSERT_TRUE(fd >= 0);
    if (fd >= 0)
        close(fd);
}

static void test_restart_on_the_same_socket(void)
{
    /* What systemd does on `systemctl restart` or Restart=on-failure: the same socket again,
     * with the connection queued while nobody served it answered by the new master. */
    int queued = fcgic_connect(sock_addr, 1000);
    CU_ASSERT_TRUE_FATAL(queued >= 0);
    close(queued);
    pool_pid = start_pool(creds_dir, NULL);
    CU_ASSERT_TRUE_FATAL(pool_pid > 0);
    char seen[1024];
    int ok = await_notify("READY=1", START_TIMEOUT_MS, seen, sizeof seen);
    if (!ok)
        dump_log();
    CU_ASSERT_TRUE_FATAL(ok);
    expect_healthz("7d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a");
    int status = stop_pool(pool_pid, SIGTERM, (SHUTDOWN_TIMEOUT_S + 3) * 1000);
    pool_pid = -1;
    CU_ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_bad_credential_stops_startup(void)
{
    /* A credential systemd loaded but that is empty fails the start with one line naming the
     * key: proof that the pool reads CREDENTIALS_DIRECTORY. */
    char bad[256], path[300];
    snprintf(bad, sizeof bad, "%s/credentials-bad", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(bad, 0700), 0);
    snprintf(path, sizeof path, "%s/r2_secret_access_key", bad);
    CU_ASSERT_EQUAL_FATAL(write_file(path, "", 0400), 0);
    if (truncate(log_path, 0) != 0)
        CU_FAIL("truncate log");
    drain_notify();
    pid_t pid = start_pool(bad, NULL);
    CU_ASSERT_TRUE_FATAL(pid > 0);
    int status = stop_pool(pid, 0, START_TIMEOUT_MS); /* signal 0: just wait for it */
    CU_ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0);
    char log[LOG_TAIL_BYTES] = "";
    FILE *f = fopen(log_path, "r");
    if (f) {
        size_t n = fread(log, 1, sizeof log - 1, f);
        log[n] = '\0';
        fclose(f);
    }
    if (!strstr(log, "r2_secret_access_key"))
        fprintf(stderr, "start-up error does not name the key:\n%s\n", log);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "r2_secret_access_key"));
    char msg[256];
    next_notify(msg, sizeof msg, 200, 0);
    UNIT_ASSERT_STR(msg, ""); /* never READY=1 */
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_ready_sent),
                           UNIT_TEST(test_serves_on_the_passed_socket),
                           UNIT_TEST(test_internal_keys_from_credentials_directory),
                           UNIT_TEST(test_long_params_and_body_in_many_records),
                           UNIT_TEST(test_keep_conn_like_nginx),
                           UNIT_TEST(test_watchdog_within_interval),
                           UNIT_TEST(test_sighup_reloading_then_ready),
                           UNIT_TEST(test_sigterm_stopping_and_exit),
                           UNIT_TEST(test_restart_on_the_same_socket),
                           UNIT_TEST(test_bad_credential_stops_startup),
                           CU_TEST_INFO_NULL};
    return unit_run("systemd_activation", tests, suite_init, suite_clean);
}
