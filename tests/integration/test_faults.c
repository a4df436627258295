/* Faults under the real stack: Firestore 503 bursts hidden by retries, a hanging Firestore ended at
 * the deadline with the worker free again, a worker SIGKILLed and SIGHUP under load, the key-set
 * endpoint down with keys cached, the S3 server stopped, and Firestore stopped. */
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clips.h"
#include "firestore.h"
#include "fullstack.h"
#include "seed.h"
#include "tjson.h"
#include "unit.h"
#include "videos.h"

#define WORKERS 2

static fullstack F;
static char alice[4096];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int seed(void)
{
    video_rec v;
    memset(&v, 0, sizeof v);
    v.video_title = "Faults";
    v.status = "completed";
    seed_clip clips[5];
    char ids[5][32];
    for (int i = 0; i < 5; i++) {
        snprintf(ids[i], sizeof ids[i], "clip_%d_vertical", i);
        clips[i] = (seed_clip){.id = ids[i],
                               .scene_id = i,
                               .priority = -1,
                               .status = "completed",
                               .size = 1000,
                               .thumb = 1};
    }
    return seed_video(F.cfg, "alice", "vid1", &v, VIDEO_F_TITLE | VIDEO_F_STATUS, clips, 5, 0);
}

static int start(void)
{
    if (fullstack_start(&F, "faults", WORKERS, NULL) != 0 ||
        fullstack_auth_header(&F, "alice", alice, sizeof alice) != 0)
        return 1;
    return seed() == 0 ? 0 : 1;
}

static int stop(void)
{
    fullstack_stop(&F);
    return 0;
}

static long get_video(double *secs, char **body)
{
    char *hdrs[] = {alice, NULL};
    tp_http_resp r;
    double t0 = now_s();
    long st = stack_http(&F.st, "GET", "/api/videos/vid1", hdrs, NULL, 0, &r) == 0 ? r.status : -1;
    if (secs)
        *secs = now_s() - t0;
    if (body)
        *body = strdup(r.body ? r.body : "");
    tp_http_free(&r);
    return st;
}

/* POSTs a fault rule to the emulator's admin API. */
static void fault(const char *rule)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/emulator/v1/faults", F.fs.port);
    tp_http_resp r;
    CU_ASSERT_EQUAL(tp_http("POST", url, NULL, rule, strlen(rule), &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    tp_http_free(&r);
}

/* Total hits of every fault rule so far, then the rules are cleared. */
static long fault_hits_and_clear(void)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/emulator/v1/faults", F.fs.port);
    tp_http_resp r;
    long hits = 0;
    if (tp_http("GET", url, NULL, NULL, 0, &r) == 0) {
        json_object *j = tj_parse(r.body), *rules;
        if (j && json_object_object_get_ex(j, "faults", &rules))
            for (size_t i = 0; i < json_object_array_length(rules); i++) {
                json_object *h;
                if (json_object_object_get_ex(json_object_array_get_idx(rules, i), "hits", &h))
                    hits += json_object_get_int64(h);
            }
        json_object_put(j);
    }
    tp_http_free(&r);
    tp_http("DELETE", url, NULL, NULL, 0, &r);
    tp_http_free(&r);
    return hits;
}

static void test_503_bursts_are_retried(void)
{
    if (fsemu_ours_only(__func__, "fault rules"))
        return;
    CU_ASSERT_EQUAL(get_video(NULL, NULL), 200); /* warm: keys and connections */
    fault("{\"match\":\"^GET .*/videos/vid1$\",\"times\":2,\"action\":\"status\",\"status\":503}");
    fault("{\"match\":\":runQuery$\",\"times\":2,\"action\":\"status\",\"status\":503}");
    char *body = NULL;
    CU_ASSERT_EQUAL(get_video(NULL, &body), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"clips\":[{\"name\":\"clip_0_vertical.mp4\""));
    free(body);
    CU_ASSERT_EQUAL(fault_hits_and_clear(), 4); /* every injected 503 was met, and hidden */
    /* a reset connection and a 429 are retried too */
    fault("{\"match\":\":runQuery$\",\"times\":1,\"action\":\"reset\"}");
    fault("{\"match\":\"^GET .*/videos/vid1$\",\"times\":1,\"action\":\"status\",\"status\":429}");
    CU_ASSERT_EQUAL(get_video(NULL, NULL), 200);
    CU_ASSERT_EQUAL(fault_hits_and_clear(), 2);
}

static void test_hang_ends_at_deadline(void)
{
    if (fsemu_ours_only(__func__, "fault rules"))
        return;
    fault("{\"match\":\"^GET .*/videos/vid1$\",\"times\":1,\"action\":\"delay\",\"ms\":8000}");
    double secs;
    char *body = NULL;
    long st = get_video(&secs, &body);
    CU_ASSERT_EQUAL(st, 504);
    CU_ASSERT_PTR_NOT_NULL(body && strstr(body, "{\"error\":{\"code\":\"deadline_exceeded\""));
    free(body);
    CU_ASSERT_TRUE(secs >= 1.9 && secs < 3.0); /* firestore_timeout_ms = 2000 */
    if (!(secs >= 1.9 && secs < 3.0))
        fprintf(stderr, "the hang ended after %.2f s\n", secs);
    fault_hits_and_clear();
    /* the worker is free again at once: every worker answers quickly */
    for (int i = 0; i < 2 * WORKERS; i++) {
        CU_ASSERT_EQUAL(get_video(&secs, NULL), 200);
        CU_ASSERT_TRUE(secs < 1.0);
    }
}

typedef struct {
    int n, ok, fail;
    double stop_at;
} load_t;

static void *load(void *arg)
{
    load_t *l = arg;
    for (int i = 0; i < l->n; i++) {
        if (get_video(NULL, NULL) == 200)
            __atomic_add_fetch(&l->ok, 1, __ATOMIC_SEQ_CST);
        else
            __atomic_add_fetch(&l->fail, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

/* Waits until the load threads have had `want` answers in all: the load is on. 0, or -1 (and
 * one line saying so) after timeout_ms. */
static int wait_load(const load_t *a, const load_t *b, int want, int timeout_ms)
{
    double end = now_s() + timeout_ms / 1000.0;
    for (;;) {
        int done = __atomic_load_n(&a->ok, __ATOMIC_SEQ_CST) + __atomic_load_n(&a->fail, __ATOMIC_SEQ_CST) +
                   __atomic_load_n(&b->ok, __ATOMIC_SEQ_CST) + __atomic_load_n(&b->fail, __ATOMIC_SEQ_CST);
        if (done >= want)
            return 0;
        if (now_s() >= end) {
            fprintf(stderr, "the load did not get %d answers within %d ms (%d; pool log %s)\n", want,
                    timeout_ms, done, F.st.pool.log);
            return -1;
        }
        sleep_ms(5);
    }
}

/* Lines of the pool's log that contain needle. */
static int pool_log_count(const char *needle)
{
    FILE *f = fopen(F.st.pool.log, "r");
    if (!f)
        return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* Waits until the pool's log has `want` lines containing needle. 0, or -1 (and one line naming
 * what did not come and the log) after timeout_ms. */
static int wait_pool_log_count(const char *needle, int want, int timeout_ms)
{
    double end = now_s() + timeout_ms / 1000.0;
    while (pool_log_count(needle) < want) {
        if (now_s() >= end) {
            fprintf(stderr, "'%s' did not come %d times within %d ms (log: %s)\n", needle, want,
                    timeout_ms, F.st.pool.log);
            return -1;
        }
        sleep_ms(10);
    }
    return 0;
}

static int workers(int *pids)
{
    return stack_workers(&F.st, pids, 16);
}

static void test_worker_killed_under_load(void)
{
    load_t l = {300, 0, 0, 0};
    pthread_t th[2];
    load_t l2 = l;
    pthread_create(&th[0], NULL, load, &l);
    pthread_create(&th[1], NULL, load, &l2);
    CU_ASSERT_EQUAL(wait_load(&l, &l2, 20, 10000), 0); /* under load */
    int pids[16];
    CU_ASSERT_EQUAL_FATAL(workers(pids), WORKERS);
    double t0 = now_s();
    kill(pids[0], SIGKILL);
    int back = 0;
    while (now_s() - t0 < 1.0 && !back) {
        int now[16];
        int n = workers(now);
        back = n == WORKERS;
        for (int i = 0; i < n; i++)
            if (now[i] == pids[0])
                back = 0;
        if (!back)
            sleep_ms(10);
    }
    CU_ASSERT_TRUE(back); /* the pool is whole again within 1 s */
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    /* only what was in flight in the killed worker may fail: a worker serves several requests at
     * once (threads), so both clients' requests can be in it, but each client has one request in
     * flight at a time, so each loses at most one */
    if (l.fail > 1 || l2.fail > 1)
        fprintf(stderr, "failed answers per client: %d and %d (pool log %s)\n", l.fail, l2.fail, F.st.pool.log);
    CU_ASSERT_TRUE(l.fail <= 1 && l2.fail <= 1);
    CU_ASSERT_EQUAL(l.ok + l2.ok + l.fail + l2.fail, 600);
}

static void test_sighup_under_load(void)
{
    load_t l = {300, 0, 0, 0}, l2 = l;
    pthread_t th[2];
    pthread_create(&th[0], NULL, load, &l);
    pthread_create(&th[1], NULL, load, &l2);
    /* three reloads one after the other while the load runs, each waited for in the log */
    int reloads = pool_log_count("configuration reloaded");
    for (int i = 1; i <= 3; i++) {
        CU_ASSERT_EQUAL(wait_load(&l, &l2, 20 * i, 10000), 0);
        kill(F.st.pool.pid, SIGHUP);
        CU_ASSERT_EQUAL(wait_pool_log_count("configuration reloaded", reloads + i, 10000), 0);
    }
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    CU_ASSERT_EQUAL(l.fail + l2.fail, 0);
    CU_ASSERT_EQUAL(l.ok + l2.ok, 600);
}

/* Phase firestore+r2: while Firestore is down, video info, the clip listing and the clip link come
 * from the legacy layout. */
static void test_firestore_down_phase_firestore_r2(void)
{
    if (fsemu_ours_only(__func__, "fault rules"))
        return;
    const char *hj = "{\"video_title\":\"Faults\",\"video_url\":\"https://x\",\"highlights\":["
                     "{\"id\":0,\"title\":\"Zero\",\"priority\":1,\"start\":\"0\",\"end\":\"10\","
                     "\"duration\":10,\"hook_category\":\"funny\"}]}";
    CU_ASSERT_EQUAL_FATAL(fullstack_s3_put(&F, "alice/vid1/highlights.json", hj, strlen(hj), "application/json"), 0);
    CU_ASSERT_EQUAL_FATAL(fullstack_s3_put(&F, "alice/vid1/clips/clip_0_vertical.mp4", "MP4", 3, "video/mp4"), 0);
    CU_ASSERT_EQUAL_FATAL(fullstack_restart_pool(&F, WORKERS, "metadata_source = firestore+r2"), 0);
    char *body = NULL;
    CU_ASSERT_EQUAL(get_video(NULL, &body), 200);
    CU_ASSERT_PTR_NOT_NULL(body && strstr(body, "\"source\":\"firestore\""));
    free(body);
    /* every Firestore call fails from now on */
    fault("{\"match\":\"\",\"times\":-1,\"action\":\"status\",\"status\":503}");
    double secs;
    CU_ASSERT_EQUAL(get_video(&secs, &body), 200);
    CU_ASSERT_PTR_NOT_NULL(body && strstr(body, "\"source\":\"r2\""));
    CU_ASSERT_PTR_NOT_NULL(body && strstr(body, "\"clips\":[{\"name\":\"clip_0_vertical.mp4\""));
    free(body);
    CU_ASSERT_TRUE(secs < 3.0);
    /* the clip listing and the clip link fall back the same way */
    char *hdrs[] = {alice, NULL};
    tp_http_resp r;
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/api/videos/vid1/clips", hdrs, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(r.body && strstr(r.body, "\"name\":\"clip_0_vertical.mp4\""));
    tp_http_free(&r);
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/api/videos/vid1/clips/clip_0_vertical.mp4?redirect=0",
                               hdrs, NULL, 0, &r),
                    0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(r.body && strstr(r.body, "alice/vid1/clips/clip_0_vertical.mp4"));
    tp_http_free(&r);
    CU_ASSERT_EQUAL(tp_wait_log(&F.st.pool, "\"event\":\"firestore_down\"", 2000), 0);
    CU_ASSERT_TRUE(fault_hits_and_clear() > 0);
    CU_ASSERT_EQUAL_FATAL(fullstack_restart_pool(&F, WORKERS, NULL), 0);
}

static void test_keyset_down_with_keys_cached(void)
{
    /* idle workers fetch the keys within a second of starting (idt_maintain between requests):
     * once each since the pool started, then max-age=300 keeps them */
    double end = now_s() + 10;
    while (__atomic_load_n(&F.keys_served, __ATOMIC_SEQ_CST) < WORKERS && now_s() < end)
        sleep_ms(20);
    if (__atomic_load_n(&F.keys_served, __ATOMIC_SEQ_CST) < WORKERS)
        fprintf(stderr, "the workers did not fetch the key set within 10 s (%d of %d; log: %s)\n",
                __atomic_load_n(&F.keys_served, __ATOMIC_SEQ_CST), WORKERS, F.st.pool.log);
    CU_ASSERT_TRUE_FATAL(__atomic_load_n(&F.keys_served, __ATOMIC_SEQ_CST) >= WORKERS);
    mh_stop(F.keys_httpd);
    F.keys_httpd = NULL;
    for (int i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(get_video(NULL, NULL), 200);
    /* a token signed by an unknown key is still refused, not waved through */
    char *hdrs[] = {"Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUifQ.e30.c2ln", NULL};
    tp_http_resp r;
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/api/videos/vid1", hdrs, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 401);
    tp_http_free(&r);
}

static void test_s3_stopped(void)
{
    tp_stop(&F.s3, SIGTERM, 5000);
    /* the read path never calls R2: thumbnails are presigned in-process, so video info is served
     * in full; readiness reports R2 as down */
    char *body = NULL;
    CU_ASSERT_EQUAL(get_video(NULL, &body), 200);
    CU_ASSERT_PTR_NOT_NULL(body && strstr(body, "\"thumbnail\":\"http://127.0.0.1:"));
    free(body);
    tp_http_resp r;
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/readyz", NULL, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 503);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "r2: unavailable"));
    tp_http_free(&r);
}

static void test_firestore_stopped(void)
{
    if (fsemu_ours_only(__func__, "stops the emulator"))
        return;
    tp_stop(&F.fs.proc, SIGKILL, 5000);
    double secs;
    char *body = NULL;
    CU_ASSERT_EQUAL(get_video(&secs, &body), 503);
    CU_ASSERT_PTR_NOT_NULL(body && strstr(body, "{\"error\":{\"code\":\"unavailable\""));
    free(body);
    CU_ASSERT_TRUE(secs < 3.0);
    tp_http_resp r;
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    tp_http_free(&r);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_503_bursts_are_retried),
                           UNIT_TEST(test_hang_ends_at_deadline),
                           UNIT_TEST(test_worker_killed_under_load),
                           UNIT_TEST(test_sighup_under_load),
                           UNIT_TEST(test_firestore_down_phase_firestore_r2),
                           UNIT_TEST(test_keyset_down_with_keys_cached),
                           UNIT_TEST(test_s3_stopped),
                           UNIT_TEST(test_firestore_stopped),
                           CU_TEST_INFO_NULL};
    return unit_run("faults", tests, start, stop);
}
