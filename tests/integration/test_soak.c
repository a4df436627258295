/* Soak: mixed reads and writes through nginx for SOAK_SECONDS (20 in make test, minutes in
 * make soak) on the release build: no unexpected answer, worker memory flat after warm-up, no
 * file descriptor growth. Prints the figures as name: value lines. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fullstack.h"
#include "unit.h"

/* Each serving thread opens its own backend connections and curl multi handle the first time it
 * serves, so a thread that first serves after the warm-up would look like fd growth: the pool runs
 * THREADS threads per worker and more clients than threads in all, so that every thread has
 * served before the fds are sampled. */
#define THREADS 2
#define READERS 4
#define CLIP_IDS 200 /* the writer cycles through these: re-creates are idempotent */

#define STR_(x) #x
#define XSTR(x) STR_(x)

static fullstack F;
static char alice[4096], service[200];
static double soak_seconds = 20;
static volatile int running;

typedef struct {
    long requests, unexpected;
    char last_error[512];
} stats_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void count(stats_t *s, const char *what, long status, long want1, long want2, const char *body)
{
    s->requests++;
    if (status != want1 && status != want2) {
        s->unexpected++;
        snprintf(s->last_error, sizeof s->last_error, "%s -> %ld %.300s", what, status, body ? body : "");
    }
}

static void *reader(void *arg)
{
    stats_t *s = arg;
    char *hdrs[] = {alice, NULL};
    const char *paths[] = {"/api/videos/soak", "/api/videos/soak/clips?limit=50",
                           "/api/videos", "/api/videos/soak/clips?status=completed&limit=10"};
    for (unsigned i = 0; running; i++) {
        const char *p = paths[i % 4];
        tp_http_resp r;
        long st = stack_http(&F.st, "GET", p, hdrs, NULL, 0, &r) == 0 ? r.status : -1;
        count(s, p, st, 200, 200, r.body);
        tp_http_free(&r);
    }
    return NULL;
}

static void *writer(void *arg)
{
    stats_t *s = arg;
    char *hdrs[] = {service, "Content-Type: application/json", NULL};
    for (unsigned i = 0; running; i++) {
        int c = (int)(i % CLIP_IDS);
        char path[200], body[400];
        tp_http_resp r;
        snprintf(path, sizeof path, "/api/internal/users/alice/videos/soak/clips/clip_%d_vertical", c);
        snprintf(body, sizeof body,
                 "{\"scene_id\":%d,\"scene_title\":\"Scene %d\",\"style\":\"vertical\","
                 "\"start_time\":\"00:00:%02d\",\"end_time\":\"00:01:00\",\"priority\":%d}",
                 c, c, c % 60, c % 7);
        long st = stack_http(&F.st, "PUT", path, hdrs, body, strlen(body), &r) == 0 ? r.status : -1;
        count(s, "PUT clip", st, 200, 201, r.body);
        tp_http_free(&r);
        snprintf(body, sizeof body, "{\"status\":\"%s\",\"file_size_bytes\":%u,\"has_thumbnail\":%s}",
                 i % 3 ? "completed" : "processing", 1000 + i, i % 2 ? "true" : "false");
        st = stack_http(&F.st, "PATCH", path, hdrs, body, strlen(body), &r) == 0 ? r.status : -1;
        count(s, "PATCH clip", st, 200, 200, r.body);
        tp_http_free(&r);
        if (i % 50 == 49) {
            snprintf(path, sizeof path, "/api/internal/users/alice/videos/soak/stats");
            st = stack_http(&F.st, "POST", path, hdrs, "", 0, &r) == 0 ? r.status : -1;
            count(s, "POST stats", st, 200, 200, r.body);
            tp_http_free(&r);
        }
    }
    return NULL;
}

/* VmRSS in KiB and the number of open fds of a process. */
static void sample(int pid, long *rss_kib, int *fds)
{
    char path[64], line[256];
    *rss_kib = -1;
    *fds = 0;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            *rss_kib = atol(line + 6);
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            (*fds)++;
    if (d)
        closedir(d);
}

static int start(void)
{
    const char *s = getenv("SOAK_SECONDS");
    if (s && atof(s) >= 5)
        soak_seconds = atof(s);
    setenv("STACK_RELEASE", "1", 1);
    if (fullstack_start(&F, "soak", 2, "max_requests = 0\nthreads = " XSTR(THREADS)) != 0 ||
        fullstack_auth_header(&F, "alice", alice, sizeof alice) != 0)
        return 1;
    snprintf(service, sizeof service, "Authorization: Bearer %s", F.internal_key);
    char *hdrs[] = {service, "Content-Type: application/json", NULL};
    const char *video = "{\"video_title\":\"Soak\",\"status\":\"processing\"}";
    tp_http_resp r;
    int ok = stack_http(&F.st, "PUT", "/api/internal/users/alice/videos/soak", hdrs, video,
                        strlen(video), &r) == 0 && (r.status == 200 || r.status == 201);
    if (!ok)
        fprintf(stderr, "soak: video put: %ld %s\n", r.status, r.body);
    tp_http_free(&r);
    return ok ? 0 : 1;
}

static int stop(void)
{
    fullstack_stop(&F);
    return 0;
}

static void test_soak(void)
{
    stats_t rs[READERS], ws;
    memset(rs, 0, sizeof rs);
    memset(&ws, 0, sizeof ws);
    pthread_t th[READERS + 1];
    running = 1;
    double t0 = now_s();
    for (int i = 0; i < READERS; i++)
        pthread_create(&th[i], NULL, reader, &rs[i]);
    pthread_create(&th[READERS], NULL, writer, &ws);
    /* warm-up: a fifth of the run (at least 8 s: the writer has created every clip by then), then
     * sample the workers every second */
    double warm = soak_seconds / 5 < 8 ? 8 : soak_seconds / 5;
    while (now_s() - t0 < warm)
        usleep(100000);
    int pids[16];
    int n = stack_workers(&F.st, pids, 16);
    long rss0[16], rss1[16], peak[16];
    int fd0[16], fd1[16];
    for (int i = 0; i < n; i++) {
        sample(pids[i], &rss0[i], &fd0[i]);
        peak[i] = rss0[i];
    }
    while (now_s() - t0 < soak_seconds) {
        sleep(1);
        for (int i = 0; i < n; i++) {
            sample(pids[i], &rss1[i], &fd1[i]);
            if (rss1[i] > peak[i])
                peak[i] = rss1[i];
        }
    }
    running = 0;
    for (int i = 0; i <= READERS; i++)
        pthread_join(th[i], NULL);
    double secs = now_s() - t0;
    long req = ws.requests, bad = ws.unexpected;
    for (int i = 0; i < READERS; i++) {
        req += rs[i].requests;
        bad += rs[i].unexpected;
        if (rs[i].unexpected)
            fprintf(stderr, "soak: reader error: %s\n", rs[i].last_error);
    }
    if (ws.unexpected)
        fprintf(stderr, "soak: writer error: %s\n", ws.last_error);
    printf("soak_seconds: %.0f\nsoak_requests: %ld\nsoak_rps: %.0f\nsoak_unexpected: %ld\n", secs,
           req, req / secs, bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(req > 100);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    for (int i = 0; i < n; i++) {
        sample(pids[i], &rss1[i], &fd1[i]);
        printf("worker%d_rss_kib_after_warmup: %ld\nworker%d_rss_kib_end: %ld\nworker%d_rss_kib_peak: %ld\n"
               "worker%d_fds_after_warmup: %d\nworker%d_fds_end: %d\n",
               i, rss0[i], i, rss1[i], i, peak[i], i, fd0[i], i, fd1[i]);
        /* flat: less than 2 MiB of growth after warm-up (arena chunks, curl and TLS caches settle early) */
        CU_ASSERT_TRUE(rss1[i] > 0 && rss1[i] - rss0[i] < 2048);
        /* no fd growth (a backend keep-alive connection may come and go) */
        CU_ASSERT_TRUE(fd1[i] <= fd0[i] + 2);
    }
    fflush(stdout);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_soak), CU_TEST_INFO_NULL};
    return unit_run("soak", tests, start, stop);
}
