/* Integration: the Firestore client under the emulator's injected faults: 503s and 429s retried to
 * success, a hang ended at the deadline, an increment commit never applied twice, dropped reads
 * retried. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clips.h"
#include "firestore.h"
#include "fsemu_proc.h"
#include "http.h"
#include "unit.h"
#include "videos.h"

static fsemu emu;
static fs_client *fs;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int init(void)
{
    if (http_global_init() != CLIP_OK ||
        fsemu_start(&emu, "fsemu-faults", "firestore.indexes.json") != 0)
        return 1;
    char err[256];
    return fs_client_new(&emu.cfg, &fs, err, sizeof err) == CLIP_OK ? 0 : 1;
}

static int clean(void)
{
    fs_client_free(fs);
    fsemu_stop(&emu);
    http_global_cleanup();
    return 0;
}

static void setup_clip(arena_t *a)
{
    char err[512] = "";
    clip_create_input in = {.filename = "clip_1_vertical.mp4",
                   .scene_id = 1,
                   .style = "vertical",
                   .start_time = "1",
                   .end_time = "2"};
    CU_ASSERT_EQUAL_FATAL(
        clips_create(fs, a, "fu", "fv", "clip_1_vertical", &in, NULL, NULL, err, sizeof err),
        CLIP_OK);
}

static void test_injected_503s_are_retried_to_success(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    setup_clip(&a);
    fsemu_clear_requests(&emu);
    CU_ASSERT_EQUAL_FATAL(fsemu_fault(&emu, "{\"match\":\":runQuery\",\"times\":3,\"status\":503}"),
                          0);
    clips_page p;
    CU_ASSERT_EQUAL(clips_list(fs, &a, "fu", "fv", NULL, 10, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(p.n, 1);
    CU_ASSERT_EQUAL(fsemu_wait_requests(&emu, ":runQuery", 4, 2000),
                    4); /* 3 refused + the one that worked */

    /* RESOURCE_EXHAUSTED on a read, then on a get */
    fsemu_clear_requests(&emu);
    CU_ASSERT_EQUAL_FATAL(
        fsemu_fault(
            &emu,
            "{\"match\":\"clips/clip_1_vertical\",\"method\":\"GET\",\"times\":2,\"status\":429}"),
        0);
    clip_rec c;
    CU_ASSERT_EQUAL(clips_get(fs, &a, "fu", "fv", "clip_1_vertical", &c, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(c.style, "vertical");
    CU_ASSERT_EQUAL(fsemu_wait_requests(&emu, "GET /v1/", 3, 2000), 3);

    /* a dropped connection on a read is retried too */
    fsemu_clear_requests(&emu);
    CU_ASSERT_EQUAL_FATAL(
        fsemu_fault(&emu, "{\"match\":\":runQuery\",\"times\":1,\"action\":\"drop\"}"), 0);
    CU_ASSERT_EQUAL(clips_list(fs, &a, "fu", "fv", NULL, 10, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fsemu_wait_requests(&emu, ":runQuery", 2, 2000), 2);

    /* more 503s than the deadline allows: the last answer's error, before the deadline */
    fs_client_set_timeout(fs, 700);
    CU_ASSERT_EQUAL_FATAL(
        fsemu_fault(&emu, "{\"match\":\":runQuery\",\"times\":-1,\"status\":503}"), 0);
    double t0 = now_ms();
    CU_ASSERT_EQUAL(clips_list(fs, &a, "fu", "fv", NULL, 10, NULL, &p, err, sizeof err),
                    CLIP_EUNAVAILABLE);
    double dt = now_ms() - t0;
    CU_ASSERT_TRUE(dt < 750);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "UNAVAILABLE"));
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_EUNAVAILABLE), 503);
    fsemu_clear_faults(&emu);
    fs_client_set_timeout(fs, 5000);
    arena_free(&a);
}

static void test_hang_ends_at_the_deadline(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    fs_client_set_timeout(fs, 500);
    CU_ASSERT_EQUAL_FATAL(
        fsemu_fault(&emu, "{\"match\":\":runQuery\",\"times\":1,\"action\":\"delay\",\"ms\":3000}"),
        0);
    clips_page p;
    double t0 = now_ms();
    CU_ASSERT_EQUAL(clips_list(fs, &a, "fu", "fv", NULL, 10, NULL, &p, err, sizeof err),
                    CLIP_ETIMEOUT);
    double dt = now_ms() - t0;
    if (dt < 490 || dt >= 1000)
        fprintf(stderr, "hang ended after %.0f ms\n", dt);
    CU_ASSERT_TRUE(dt >= 490 && dt < 1000); /* the hang is 3000 ms */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "firestore: deadline of"));
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_ETIMEOUT), 504);
    fsemu_clear_faults(&emu);
    fs_client_set_timeout(fs, 5000);
    /* the next call is fine */
    CU_ASSERT_EQUAL(clips_list(fs, &a, "fu", "fv", NULL, 10, NULL, &p, err, sizeof err), CLIP_OK);
    arena_free(&a);
}

static int64_t counter(arena_t *a)
{
    fs_doc d;
    char err[256];
    int64_t n = -1;
    if (fs_get(fs, a, "counters/views", &d, err, sizeof err) == CLIP_OK)
        fs_get_int(&d.fields, "n", &n);
    return n;
}

static void test_increment_never_double_counts(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    fs_value zero = fs_map();
    fs_map_put(&a, &zero, "n", fs_int(0));
    fs_write init_w = {.path = "counters/views", .fields = &zero};
    CU_ASSERT_EQUAL_FATAL(fs_commit(fs, &a, &init_w, 1, NULL, err, sizeof err), CLIP_OK);

    fs_transform inc = {"n", FS_TRANSFORM_INCREMENT, fs_int(1)};
    fs_write w = {.path = "counters/views", .transforms = &inc, .ntransforms = 1};
    /* Each round injects one kind of fault in front of one increment commit:
     * 503 x2 and 429 (refused before applying: retried, applied once), drop and reset (the
     * answer is lost: not retried, so at most once), a delay past the deadline (the emulator
     * applies it after we gave up: once, and we did not send it again). */
    static const char *const faults[] = {
        "{\"match\":\":commit\",\"times\":2,\"status\":503}",
        "{\"match\":\":commit\",\"times\":1,\"status\":429}",
        "{\"match\":\":commit\",\"times\":1,\"action\":\"drop\"}",
        "{\"match\":\":commit\",\"times\":1,\"action\":\"reset\"}",
        "{\"match\":\":commit\",\"times\":1,\"action\":\"delay\",\"ms\":900}",
    };
    static const clip_err want[] = {CLIP_OK, CLIP_OK, CLIP_EUNAVAILABLE, CLIP_EUNAVAILABLE,
                                    CLIP_ETIMEOUT};
    static const int applies[] = {1, 1, 0, 0, 1};
    int64_t expected = 0;
    fsemu_clear_requests(&emu);
    int sent = 0;
    for (int round = 0; round < 20; round++) {
        int k = round % 5;
        CU_ASSERT_EQUAL_FATAL(fsemu_fault(&emu, faults[k]), 0);
        fs_client_set_timeout(fs, k == 4 ? 400 : 5000);
        clip_err e = fs_commit(fs, &a, &w, 1, NULL, err, sizeof err);
        if (e != want[k])
            fprintf(stderr, "round %d: %s (%s)\n", round, clip_err_code(e), err);
        CU_ASSERT_EQUAL(e, want[k]);
        expected += applies[k];
        sent += k == 0 ? 3 : k == 1 ? 2 : 1;
        fsemu_clear_faults(&emu);
    }
    fs_client_set_timeout(fs, 5000);
    /* the last delayed commit lands (900 ms after it was sent): polled for, 10 s at most */
    double end = now_ms() + 10000;
    while (counter(&a) != expected && now_ms() < end)
        usleep(20 * 1000);
    CU_ASSERT_EQUAL(expected, 12);
    if (counter(&a) != expected)
        fprintf(stderr, "the counter is %lld, not %lld, 10 s after the last commit (log: %s)\n",
                (long long)counter(&a), (long long)expected, emu.proc.log);
    CU_ASSERT_TRUE(counter(&a) == expected);
    /* every commit went out exactly as often as the policy allows: no silent resend */
    int seen = fsemu_wait_requests(&emu, ":commit", sent, 2000);
    if (seen != sent) {
        fprintf(stderr, "the emulator logged %d commits, not %d:\n", seen, sent);
        fsemu_print_requests(&emu, ":commit", stderr);
    }
    CU_ASSERT_EQUAL(seen, sent);

    /* the contrast: an idempotent set is sent again after a drop, and lands */
    fs_value seven = fs_map();
    fs_map_put(&a, &seven, "n", fs_int(7));
    fs_write set = {.path = "counters/views", .fields = &seven};
    CU_ASSERT_EQUAL_FATAL(
        fsemu_fault(&emu, "{\"match\":\":commit\",\"times\":1,\"action\":\"drop\"}"), 0);
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &set, 1, NULL, err, sizeof err), CLIP_OK);
    CU_ASSERT_TRUE(counter(&a) == 7);
    fsemu_clear_faults(&emu);
    arena_free(&a);
}

static void test_create_retried_after_lost_answer_is_idempotent(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    /* the create's answer is lost after the emulator applied it (delay past the deadline);
     * the workflow's retry then finds the same clip and succeeds without a duplicate */
    fs_client_set_timeout(fs, 300);
    CU_ASSERT_EQUAL_FATAL(
        fsemu_fault(&emu, "{\"match\":\":commit\",\"times\":1,\"action\":\"delay\",\"ms\":600}"),
        0);
    clip_create_input in = {.filename = "clip_2_square.mp4",
                   .scene_id = 2,
                   .style = "square",
                   .start_time = "00:00:01",
                   .end_time = "00:00:04.25"};
    CU_ASSERT_EQUAL(
        clips_create(fs, &a, "fu", "fv", "clip_2_square", &in, NULL, NULL, err, sizeof err),
        CLIP_ETIMEOUT);
    fs_client_set_timeout(fs, 5000);
    /* the emulator applies it once the 600 ms delay is over: polled for, 10 s at most */
    clip_rec landed;
    double end = now_ms() + 10000;
    clip_err ge;
    while ((ge = clips_get(fs, &a, "fu", "fv", "clip_2_square", &landed, err, sizeof err)) ==
               CLIP_ENOTFOUND &&
           now_ms() < end)
        usleep(20 * 1000);
    if (ge != CLIP_OK)
        fprintf(stderr, "the delayed create did not land within 10 s: %s (log: %s)\n", err,
                emu.proc.log);
    CU_ASSERT_EQUAL_FATAL(ge, CLIP_OK);
    fsemu_clear_faults(&emu);
    int created = -1;
    clip_rec c;
    CU_ASSERT_EQUAL(
        clips_create(fs, &a, "fu", "fv", "clip_2_square", &in, &c, &created, err, sizeof err),
        CLIP_OK);
    CU_ASSERT_EQUAL(created, 0);
    CU_ASSERT_TRUE(c.duration_seconds == 3.25);
    clips_page p;
    clips_filter f = {.style = "square"};
    CU_ASSERT_EQUAL(clips_list(fs, &a, "fu", "fv", &f, 10, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(p.n, 1);
    arena_free(&a);
}

int main(void)
{
    CU_TestInfo tests[] = {
        UNIT_TEST(test_injected_503s_are_retried_to_success),
        UNIT_TEST(test_hang_ends_at_the_deadline), UNIT_TEST(test_increment_never_double_counts),
        UNIT_TEST(test_create_retried_after_lost_answer_is_idempotent), CU_TEST_INFO_NULL};
    return unit_run("firestore_faults", tests, init, clean);
}
