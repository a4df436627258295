/* Proves the worker model against a slow Firestore (every answer of the emulator delayed): one
 * worker process serves many requests at once (its threads), and a video info costs one round
 * trip (the video document and its clips fetched together), through nginx on the real stack. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clips.h"
#include "fullstack.h"
#include "seed.h"
#include "unit.h"
#include "videos.h"

#define DELAY_MS 300 /* every Firestore answer waits this long */
#define THREADS 8    /* the one worker's threads, and the concurrent clients */

static fullstack F;
static char alice[4096];

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int seed(void)
{
    video_rec v;
    memset(&v, 0, sizeof v);
    v.video_title = "A talk";
    v.status = "completed";
    static const seed_clip clip = {
        .id = "clip_1_vertical", .scene_id = 1, .priority = -1, .status = "completed"};
    return seed_video(F.cfg, "alice", "vid1", &v, VIDEO_F_TITLE | VIDEO_F_STATUS, &clip, 1, 0);
}

/* Every request to the emulator (the admin API aside) waits DELAY_MS before it is served. */
static int slow_firestore(void)
{
    char url[128], rule[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/emulator/v1/faults", F.fs.port);
    snprintf(rule, sizeof rule, "{\"match\":\"\",\"times\":-1,\"action\":\"delay\",\"ms\":%d}",
             DELAY_MS);
    char *hdrs[] = {"Content-Type: application/json", NULL};
    tp_http_resp r;
    int ok = tp_http("POST", url, hdrs, rule, strlen(rule), &r) == 0 && r.status == 200;
    tp_http_free(&r);
    return ok ? 0 : -1;
}

static int start(void)
{
    if (fullstack_start(&F, "latency", 1, "threads = 8") != 0 ||
        fullstack_auth_header(&F, "alice", alice, sizeof alice) != 0 || seed() != 0)
        return 1;
    return slow_firestore() == 0 ? 0 : 1;
}

static int stop(void)
{
    fullstack_stop(&F);
    return 0;
}

static long get_video(void)
{
    char *hdrs[] = {alice, NULL};
    tp_http_resp r;
    long st = stack_http(&F.st, "GET", "/api/videos/vid1", hdrs, NULL, 0, &r) == 0 ? r.status : 0;
    if (st == 200 && !strstr(r.body, "\"name\":\"clip_1_vertical.mp4\""))
        st = -1;
    tp_http_free(&r);
    return st;
}

/* One video info waits for one Firestore answer, not two in a row. */
static void test_video_info_is_one_round_trip(void)
{
    CU_ASSERT_EQUAL(get_video(), 200); /* warm: keys, connections */
    double t0 = now_ms();
    CU_ASSERT_EQUAL(get_video(), 200);
    double took = now_ms() - t0;
    fprintf(stderr, "video info with %d ms per Firestore answer: %.0f ms\n", DELAY_MS, took);
    CU_ASSERT_TRUE(took >= DELAY_MS && took < 2 * DELAY_MS - 50);
}

typedef struct {
    long status;
    double took;
} job;

static void *client(void *arg)
{
    job *j = arg;
    double t0 = now_ms();
    j->status = get_video();
    j->took = now_ms() - t0;
    return NULL;
}

/* One worker process serves THREADS requests at once: they all wait for Firestore together. */
static void test_one_worker_serves_many_at_once(void)
{
    pthread_t th[THREADS];
    job jobs[THREADS];
    double t0 = now_ms();
    for (int i = 0; i < THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, client, &jobs[i]), 0);
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += jobs[i].status == 200;
    }
    double took = now_ms() - t0;
    fprintf(stderr, "%d concurrent video infos on one worker: %.0f ms in all (one at a time: %d)\n",
            THREADS, took, THREADS * DELAY_MS);
    CU_ASSERT_EQUAL(ok, THREADS);
    CU_ASSERT_TRUE(took < 3 * DELAY_MS);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_video_info_is_one_round_trip),
                           UNIT_TEST(test_one_worker_serves_many_at_once), CU_TEST_INFO_NULL};
    return unit_run("concurrency_under_latency", tests, start, stop);
}
