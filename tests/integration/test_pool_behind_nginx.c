/* The pool behind nginx over TLS on 127.0.0.1: JSON errors, worker restarts, reload under load,
 * graceful stop, and sd_notify messages. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stack.h"
#include "unit.h"

#define WORKERS 3

static tstack st;
static int notify_fd = -1;
static char notify_path[600];
static char notify_env[700];

static int start(void)
{
    char dir[400];
    if (tp_tempdir("notify", dir, sizeof dir) != 0)
        return 1;
    snprintf(notify_path, sizeof notify_path, "%s/notify.sock", dir);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(notify_path) >= sizeof sa.sun_path)
        return 1;
    memcpy(sa.sun_path, notify_path, strlen(notify_path));
    if (notify_fd < 0 || bind(notify_fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return 1;
    struct timeval tv = {0, 200000};
    setsockopt(notify_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    snprintf(notify_env, sizeof notify_env, "NOTIFY_SOCKET=%s", notify_path);
    char *env[] = {notify_env, NULL};
    return stack_start(&st, "pool", WORKERS, "request_body_max = 1000\nmax_requests = 0", env) == 0 ? 0
                                                                                                   : 1;
}

static int stop(void)
{
    stack_stop(&st);
    if (notify_fd >= 0)
        close(notify_fd);
    return 0;
}

/* Waits up to ms for a notify datagram; returns it in out ("" when none came). */
static void next_notify(char *out, size_t n, int ms)
{
    out[0] = '\0';
    for (int waited = 0; waited < ms; waited += 200) {
        ssize_t r = recv(notify_fd, out, n - 1, 0);
        if (r > 0) {
            out[r] = '\0';
            return;
        }
    }
}

/* The next notify message that is not a WATCHDOG=1. */
static void next_state(char *out, size_t n, int ms)
{
    do
        next_notify(out, n, ms);
    while (strcmp(out, "WATCHDOG=1") == 0);
}

static long get_status(const char *method, const char *path, const char *body, size_t len,
                       char **out_body)
{
    tp_http_resp r;
    if (stack_http(&st, method, path, NULL, body, len, &r) != 0) {
        tp_http_free(&r);
        return -1;
    }
    long s = r.status;
    if (out_body)
        *out_body = strdup(r.body);
    tp_http_free(&r);
    return s;
}

static void test_ready_notified(void)
{
    char msg[256];
    next_state(msg, sizeof msg, 2000);
    UNIT_ASSERT_STR(msg, "READY=1");
}

static void test_healthz_over_tls(void)
{
    tp_http_resp r;
    CU_ASSERT_EQUAL_FATAL(stack_http(&st, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    UNIT_ASSERT_STR(r.body, "{\"status\":\"ok\"}");
    /* exactly one X-Request-Id, 32 hex digits from nginx's $request_id */
    const char *h = strstr(r.headers, "x-request-id: ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NULL(strstr(h + 1, "x-request-id: "));
    CU_ASSERT_EQUAL(strspn(h + 14, "0123456789abcdef"), 32);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "content-type: application/json"));
    tp_http_free(&r);
}

static void test_json_errors(void)
{
    char *b = NULL;
    CU_ASSERT_EQUAL(get_status("GET", "/api/no/such/thing", NULL, 0, &b), 404);
    CU_ASSERT_PTR_NOT_NULL(b && strstr(b, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such path\",\"request_id\":\""));
    free(b);
    CU_ASSERT_EQUAL(get_status("GET", "/outside/api", NULL, 0, &b), 404); /* nginx's own 404 */
    CU_ASSERT_PTR_NOT_NULL(b && strstr(b, "{\"error\":{\"code\":\"not_found\""));
    free(b);
    CU_ASSERT_EQUAL(get_status("DELETE", "/healthz", NULL, 0, &b), 405);
    CU_ASSERT_PTR_NOT_NULL(b && strstr(b, "{\"error\":{\"code\":\"method_not_allowed\""));
    free(b);
    /* over the app's request_body_max (1000) */
    char body[5000];
    memset(body, 'x', sizeof body);
    CU_ASSERT_EQUAL(get_status("POST", "/api/anything", body, sizeof body, &b), 413);
    CU_ASSERT_PTR_NOT_NULL(b && strstr(b, "{\"error\":{\"code\":\"too_large\",\"message\":\"request body is over 1000 bytes\""));
    free(b);
    /* over nginx's client_max_body_size (1m): nginx answers, still JSON */
    size_t big = 2 * 1024 * 1024;
    char *huge = malloc(big);
    memset(huge, 'y', big);
    CU_ASSERT_EQUAL(get_status("POST", "/api/anything", huge, big, &b), 413);
    CU_ASSERT_PTR_NOT_NULL(b && strstr(b, "{\"error\":{\"code\":\"too_large\""));
    free(b);
    free(huge);
}

static int all_ok(int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += get_status("GET", "/healthz", NULL, 0, NULL) == 200;
    return ok;
}

static void test_sigkill_worker_restored(void)
{
    int before[16], after[16];
    int n = stack_workers(&st, before, 16);
    CU_ASSERT_EQUAL_FATAL(n, WORKERS);
    CU_ASSERT_EQUAL(kill(before[0], SIGKILL), 0);
    /* the master restores the pool within a second */
    int m = 0, replaced = 0;
    for (int i = 0; i < 50 && !(m == WORKERS && replaced); i++) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        m = stack_workers(&st, after, 16);
        replaced = 1;
        for (int j = 0; j < m; j++)
            if (after[j] == before[0])
                replaced = 0;
    }
    CU_ASSERT_EQUAL(m, WORKERS);
    CU_ASSERT_TRUE(replaced);
    CU_ASSERT_EQUAL(all_ok(100), 100);
    CU_ASSERT_EQUAL(tp_wait_log(&st.pool, "killed by signal 9", 1000), 0);
}

typedef struct {
    int n, ok, fail;
} load_t;

static void *load(void *arg)
{
    load_t *l = arg;
    for (int i = 0; i < l->n; i++) {
        long s = get_status("GET", "/healthz", NULL, 0, NULL);
        if (s == 200)
            l->ok++;
        else
            l->fail++;
    }
    return NULL;
}

static void test_sighup_under_load(void)
{
    char msg[256];
    load_t l = {500, 0, 0};
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, load, &l), 0);
    int before[16];
    int n0 = stack_workers(&st, before, 16);
    for (int i = 0; i < 3; i++) {
        struct timespec ts = {0, 150000000};
        nanosleep(&ts, NULL);
        kill(st.pool.pid, SIGHUP);
        next_state(msg, sizeof msg, 2000);
        UNIT_ASSERT_STR(msg, "RELOADING=1");
        next_state(msg, sizeof msg, 2000);
        UNIT_ASSERT_STR(msg, "READY=1");
    }
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(l.ok, 500);
    CU_ASSERT_EQUAL(l.fail, 0);
    /* the workers were replaced by new ones */
    int after[16];
    int n1 = stack_workers(&st, after, 16);
    CU_ASSERT_EQUAL(n1, WORKERS);
    int same = 0;
    for (int i = 0; i < n0; i++)
        for (int j = 0; j < n1; j++)
            same += before[i] == after[j];
    CU_ASSERT_EQUAL(same, 0);
    CU_ASSERT_EQUAL(tp_wait_log(&st.pool, "\"event\":\"reload\"", 1000), 0);
}

/* The counters of every worker, summed through the master's shared memory. */
static void test_metrics_sum_the_pool(void)
{
    tp_http_resp r;
    CU_ASSERT_EQUAL_FATAL(stack_http(&st, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "content-type: text/plain; version=0.0.4"));
    /* 1 + 100 + 500 healthz requests so far, served by several workers across reloads */
    const char *k = "clipapi_requests_total{route=\"/healthz\",status=\"200\"} ";
    const char *v = strstr(r.body, k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(atol(v + strlen(k)), 601);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "clipapi_requests_total{route=\"none\",status=\"404\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "clipapi_worker_restarts_total 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "clipapi_pool_workers 3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "clipapi_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 601\n"));
    tp_http_free(&r);
}

static void test_sigterm_stops_and_cleans_up(void)
{
    char msg[256];
    struct stat sb;
    CU_ASSERT_EQUAL(stat(st.sock, &sb), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CU_ASSERT_EQUAL(kill(st.pool.pid, SIGTERM), 0);
    int status = tp_wait_exit(&st.pool, 6000); /* shutdown_timeout = 5 */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CU_ASSERT_NOT_EQUAL(status, -1);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_TRUE(secs < 5.0);
    CU_ASSERT_NOT_EQUAL(stat(st.sock, &sb), 0); /* the socket file is gone */
    CU_ASSERT_EQUAL(errno, ENOENT);
    next_state(msg, sizeof msg, 1000);
    UNIT_ASSERT_STR(msg, "STOPPING=1");
    /* nginx now answers for the missing upstream, in JSON */
    char *b = NULL;
    CU_ASSERT_EQUAL(get_status("GET", "/healthz", NULL, 0, &b), 502);
    CU_ASSERT_PTR_NOT_NULL(b && strstr(b, "{\"error\":{\"code\":\"bad_gateway\""));
    free(b);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_ready_notified),
                           UNIT_TEST(test_healthz_over_tls),
                           UNIT_TEST(test_json_errors),
                           UNIT_TEST(test_sigkill_worker_restored),
                           UNIT_TEST(test_sighup_under_load),
                           UNIT_TEST(test_metrics_sum_the_pool),
                           UNIT_TEST(test_sigterm_stops_and_cleans_up),
                           CU_TEST_INFO_NULL};
    return unit_run("pool_behind_nginx", tests, start, stop);
}
