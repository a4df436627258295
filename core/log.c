/* log: JSON lines on stderr, written with one write(2) so lines of several processes never mix. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

#define LOG_LINE_MAX 16384

/* Process-wide: set at start (and on reload) before threads serve; read by every thread. */
static const char *log_proc = "clipapi";
static cfg_log_level log_level = CFG_LOG_INFO;
/* The request a thread is serving: each thread has its own. */
static _Thread_local char log_reqid[128];
/* getpid() is a system call (glibc caches nothing): kept here, forgotten in a forked child. */
static atomic_long log_cached_pid;

static void forget_pid(void)
{
    atomic_store(&log_cached_pid, 0);
}

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_pid);
}

long log_pid(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_fork_handler);
    long pid = atomic_load(&log_cached_pid);
    if (pid == 0) {
        pid = (long)getpid();
        atomic_store(&log_cached_pid, pid);
    }
    return pid;
}
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *proc, cfg_log_level level)
{
    log_proc = proc;
    log_level = level;
}

void log_set_level(cfg_log_level level)
{
    log_level = level;
}

int log_enabled(cfg_log_level level)
{
    return level >= log_level;
}

void log_set_request_id(const char *id)
{
    if (!id) {
        log_reqid[0] = '\0';
        return;
    }
    snprintf(log_reqid, sizeof log_reqid, "%s", id);
}

static void emit(cfg_log_level level, const char *event, const char *msg, size_t msglen,
                 const char *members)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[96];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
    buf_t b;
    buf_init(&b, LOG_LINE_MAX);
    buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"proc\":", ts, level_names[level]);
    buf_json_str(&b, log_proc, strlen(log_proc));
    buf_printf(&b, ",\"pid\":%ld,\"event\":", log_pid());
    buf_json_str(&b, event, strlen(event));
    if (log_reqid[0]) {
        buf_puts(&b, ",\"request_id\":");
        buf_json_str(&b, log_reqid, strlen(log_reqid));
    }
    if (msg) {
        buf_puts(&b, ",\"msg\":");
        buf_json_str(&b, msg, msglen);
    }
    if (members)
        buf_puts(&b, members);
    buf_puts(&b, "}\n");
    if (b.oom) {
        /* Over the line cap: keep what identifies the event. */
        buf_free(&b);
        buf_init(&b, 0);
        buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"pid\":%ld,\"event\":", ts,
                   level_names[level], log_pid());
        buf_json_str(&b, event, strlen(event));
        buf_puts(&b, ",\"truncated\":true}\n");
    }
    if (b.p) {
        ssize_t w = write(STDERR_FILENO, b.p, b.len);
        (void)w;
    }
    buf_free(&b);
}

void log_msg(cfg_log_level level, const char *event, const char *fmt, ...)
{
    if (level < log_level)
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof msg)
        n = sizeof msg - 1;
    emit(level, event, msg, (size_t)n, NULL);
}

void log_json(cfg_log_level level, const char *event, const char *members)
{
    if (level < log_level)
        return;
    emit(level, event, NULL, 0, members);
}
