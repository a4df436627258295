/* Tests of core/metrics: the counters of the shared block, shared by forked processes, and their
 * Prometheus text, line by line. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "unit.h"

/* Whether the rendered text holds line (a whole line). */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

#define HAS(text, line)                                                                            \
    do {                                                                                           \
        int ok_ = has_line(text, line);                                                            \
        if (!ok_)                                                                                  \
            fprintf(stderr, "%s:%d: no line \"%s\"\n", __FILE__, __LINE__, line);                \
        CU_ASSERT_TRUE(ok_);                                                                       \
    } while (0)

static void test_off_until_init(void)
{
    metrics_request("/healthz", 200, 1);
    metrics_fallback();
    CU_ASSERT_EQUAL(metrics_route_index("/healthz"), 0);
    buf_t b = BUF_INIT;
    metrics_render(&b);
    UNIT_ASSERT_STR(b.p, "# metrics are not enabled in this process\n");
    buf_free(&b);
}

static void test_requests_by_route_and_status(void)
{
    CU_ASSERT_EQUAL_FATAL(metrics_init(), 0);
    CU_ASSERT_EQUAL(metrics_route_index("/api/videos/{video_id}"), 1);
    CU_ASSERT_EQUAL(metrics_route_index("/healthz"), 2);
    CU_ASSERT_EQUAL(metrics_route_index("/api/videos/{video_id}"), 1); /* registered once */
    metrics_request("/api/videos/{video_id}", 200, 0.3); /* bucket 0.5 ms */
    metrics_request("/api/videos/{video_id}", 200, 7);   /* bucket 10 ms */
    metrics_request("/api/videos/{video_id}", 404, 7000); /* +Inf */
    metrics_request("/api/videos/{video_id}", 418, 1);   /* a status with no slot: "other" */
    metrics_request("/nowhere", 404, 1);                 /* an unknown route: "none" */
    metrics_request(NULL, 405, 1);
    buf_t b = BUF_INIT;
    metrics_render(&b);
    HAS(b.p, "clipapi_requests_total{route=\"/api/videos/{video_id}\",status=\"200\"} 2");
    HAS(b.p, "clipapi_requests_total{route=\"/api/videos/{video_id}\",status=\"404\"} 1");
    HAS(b.p, "clipapi_requests_total{route=\"/api/videos/{video_id}\",status=\"other\"} 1");
    HAS(b.p, "clipapi_requests_total{route=\"none\",status=\"404\"} 1");
    HAS(b.p, "clipapi_requests_total{route=\"none\",status=\"405\"} 1");
    /* no line for a count of zero, nor a histogram for a route never asked */
    CU_ASSERT_PTR_NULL(strstr(b.p, "route=\"/healthz\""));
    /* cumulative buckets in seconds, the sum and the count */
    const char *h = "clipapi_request_duration_seconds";
    char line[256];
    snprintf(line, sizeof line, "%s_bucket{route=\"/api/videos/{video_id}\",le=\"0.0005\"} 1", h);
    HAS(b.p, line);
    snprintf(line, sizeof line, "%s_bucket{route=\"/api/videos/{video_id}\",le=\"0.001\"} 2", h);
    HAS(b.p, line);
    snprintf(line, sizeof line, "%s_bucket{route=\"/api/videos/{video_id}\",le=\"0.01\"} 3", h);
    HAS(b.p, line);
    snprintf(line, sizeof line, "%s_bucket{route=\"/api/videos/{video_id}\",le=\"5\"} 3", h);
    HAS(b.p, line);
    snprintf(line, sizeof line, "%s_bucket{route=\"/api/videos/{video_id}\",le=\"+Inf\"} 4", h);
    HAS(b.p, line);
    snprintf(line, sizeof line, "%s_sum{route=\"/api/videos/{video_id}\"} 7.008300", h);
    HAS(b.p, line);
    snprintf(line, sizeof line, "%s_count{route=\"/api/videos/{video_id}\"} 4", h);
    HAS(b.p, line);
    HAS(b.p, "# TYPE clipapi_requests_total counter");
    HAS(b.p, "# TYPE clipapi_request_duration_seconds histogram");
    buf_free(&b);
    metrics_free();
}

static void test_backends_and_counters(void)
{
    CU_ASSERT_EQUAL_FATAL(metrics_init(), 0);
    metrics_backend_call("firestore", 12, 1, 1);
    metrics_backend_call("firestore", 40, 3, 0); /* two retries, then a failure */
    metrics_backend_call("r2", 2, 1, 1);
    metrics_backend_call("ldap", 1, 2, 1); /* not a backend of ours: "other" */
    metrics_fallback();
    metrics_fallback();
    metrics_legacy_bad_name();
    metrics_worker_restart();
    metrics_set_pool_size(4);
    metrics_event_published(1);
    metrics_event_published(0);
    metrics_event_published(0);
    buf_t b = BUF_INIT;
    metrics_render(&b);
    HAS(b.p, "clipapi_backend_calls_total{backend=\"firestore\"} 2");
    HAS(b.p, "clipapi_backend_errors_total{backend=\"firestore\"} 1");
    HAS(b.p, "clipapi_backend_retries_total{backend=\"firestore\"} 2");
    HAS(b.p, "clipapi_backend_calls_total{backend=\"r2\"} 1");
    HAS(b.p, "clipapi_backend_errors_total{backend=\"r2\"} 0");
    HAS(b.p, "clipapi_backend_calls_total{backend=\"token\"} 0"); /* every backend, even at 0 */
    HAS(b.p, "clipapi_backend_calls_total{backend=\"other\"} 1");
    HAS(b.p, "clipapi_backend_retries_total{backend=\"other\"} 1");
    HAS(b.p, "clipapi_backend_duration_seconds_count{backend=\"firestore\"} 2");
    HAS(b.p, "clipapi_backend_duration_seconds_sum{backend=\"firestore\"} 0.052000");
    HAS(b.p, "clipapi_backend_duration_seconds_bucket{backend=\"firestore\",le=\"0.025\"} 1");
    HAS(b.p, "clipapi_backend_duration_seconds_bucket{backend=\"firestore\",le=\"0.05\"} 2");
    CU_ASSERT_PTR_NULL(strstr(b.p, "clipapi_backend_duration_seconds_count{backend=\"keys\"}"));
    HAS(b.p, "clipapi_fallbacks_total 2");
    HAS(b.p, "clipapi_legacy_bad_names_total 1");
    HAS(b.p, "clipapi_worker_restarts_total 1");
    HAS(b.p, "clipapi_pool_workers 4");
    HAS(b.p, "clipapi_events_published_total 1");
    HAS(b.p, "clipapi_events_publish_failures_total 2");
    HAS(b.p, "# TYPE clipapi_pool_workers gauge");
    buf_free(&b);
    metrics_free();
}

/* The block is made before fork: what a worker counts, the master renders. */
static void test_shared_across_fork(void)
{
    CU_ASSERT_EQUAL_FATAL(metrics_init(), 0);
    CU_ASSERT_EQUAL(metrics_init(), 0); /* a second call keeps the block */
    metrics_route_index("/healthz");
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            for (int k = 0; k < 1000; k++)
                metrics_request("/healthz", 200, 0.1);
            metrics_fallback();
            _exit(0);
        }
    }
    for (int i = 0; i < 3; i++) {
        int st = -1;
        CU_ASSERT_EQUAL(waitpid(pids[i], &st, 0), pids[i]);
        CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    buf_t b = BUF_INIT;
    metrics_render(&b);
    HAS(b.p, "clipapi_requests_total{route=\"/healthz\",status=\"200\"} 3000");
    HAS(b.p, "clipapi_fallbacks_total 3");
    buf_free(&b);
    metrics_free();
}

static void test_route_table_is_bounded(void)
{
    CU_ASSERT_EQUAL_FATAL(metrics_init(), 0);
    for (int i = 1; i < METRICS_ROUTES_MAX; i++) {
        char r[32];
        snprintf(r, sizeof r, "/r%d", i);
        CU_ASSERT_EQUAL(metrics_route_index(r), i);
    }
    /* past the table, and a pattern too long for a slot, count with "none" */
    CU_ASSERT_EQUAL(metrics_route_index("/one-too-many"), 0);
    char longp[200];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    metrics_free();
    CU_ASSERT_EQUAL_FATAL(metrics_init(), 0);
    CU_ASSERT_EQUAL(metrics_route_index(longp), 0);
    CU_ASSERT_EQUAL(metrics_route_index(NULL), 0);
    metrics_free();
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_off_until_init),
                           UNIT_TEST(test_requests_by_route_and_status),
                           UNIT_TEST(test_backends_and_counters),
                           UNIT_TEST(test_shared_across_fork),
                           UNIT_TEST(test_route_table_is_bounded),
                           CU_TEST_INFO_NULL};
    return unit_run("metrics", tests, NULL, NULL);
}
