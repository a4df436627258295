/* testproc: start and stop the real programs integration tests drive, on loopback, with bounded waits. */
#ifndef CLIP_TESTPROC_H
#define CLIP_TESTPROC_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

typedef struct {
    pid_t pid;
    char log[512]; /* stdout and stderr of the process */
    char name[64];
} tp_proc;

typedef struct {
    long status;
    char *body;   /* NUL-terminated, owned (free with tp_http_free) */
    size_t len;
    char *headers;
} tp_http_resp;

const char *tp_top(void);   /* repository top ($CLIPAPI_TOP or ".") */
const char *tp_build(void); /* build directory ($CLIPAPI_BUILD or "build") */

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int tp_free_port(void);

/* A fresh directory under $CLIPAPI_BUILD/tmp; out gets its path. Returns 0 on success. */
int tp_tempdir(const char *tag, char *out, size_t outlen);

/* Writes a whole file; returns 0 on success. */
int tp_write_file(const char *path, const char *content);

/* Starts argv[0] with extra environment (NULL-terminated "K=V" list, may be NULL) in its own
 * process group, stdout+stderr to a log file; when ready is not NULL waits (at most timeout_ms)
 * until a line of the log contains it. Returns 0 on success (and the process is running). */
int tp_start(tp_proc *p, const char *name, char *const argv[], char *const env[], const char *ready,
             int timeout_ms);

/* Waits until the log of p contains needle, at most timeout_ms; 0 when found. */
int tp_wait_log(const tp_proc *p, const char *needle, int timeout_ms);

/* Waits until 127.0.0.1:port accepts a connection; 0 when it does. */
int tp_wait_port(int port, int timeout_ms);

/* Sends sig, waits up to timeout_ms, then SIGKILLs the group; returns the wait status, -1 if none. */
int tp_stop(tp_proc *p, int sig, int timeout_ms);

/* Waits up to timeout_ms for p to exit by itself; returns the wait status or -1 on timeout. */
int tp_wait_exit(tp_proc *p, int timeout_ms);

/* One HTTP(S) request with libcurl (TLS verification off: local self-signed certs), a 10 s
 * deadline. headers: NULL-terminated "Name: value" list or NULL. Returns 0 when an answer came. */
int tp_http(const char *method, const char *url, char *const headers[], const char *body,
            size_t body_len, tp_http_resp *out);
/* A GET whose answer is a stream (Server-Sent Events): what arrives within ms, headers included;
 * 0 when an answer began (a stream cut by the timer is one). */
int tp_http_stream(const char *url, char *const headers[], long ms, tp_http_resp *out);
void tp_http_free(tp_http_resp *r);

/* Runs cmd with sh -c (popen), its stdout into out (emptied first); returns its exit status, -1
 * when it could not run or did not exit. */
int tp_run_shell(const char *cmd, buf_t *out);

/* Prints the last lines of a process's log to stderr (for failing tests). */
void tp_dump_log(const tp_proc *p, int lines);

#endif
