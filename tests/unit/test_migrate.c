/* Tests of core/migrate's batching: planned videos go into commits of at most
 * FS_COMMIT_WRITES_MAX writes, several videos to a commit, a video's writes in one commit whenever
 * they fit, its order kept; a failed commit is reported for the target and ends the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "unit.h"

#define MAXCALLS 64

/* The commits a batch sent: their sizes and the path of each one's first and last write. */
typedef struct {
    size_t calls, sizes[MAXCALLS];
    char first[MAXCALLS][32], last[MAXCALLS][32];
    size_t fail_at; /* 1-based call that fails; 0 none */
} sent;

static clip_err fake_commit(void *ctx, arena_t *a, const fs_write *w, size_t n, char *err,
                            size_t errlen)
{
    (void)a;
    sent *s = ctx;
    size_t i = s->calls++;
    if (s->fail_at && s->calls == s->fail_at)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: down");
    if (i < MAXCALLS) {
        s->sizes[i] = n;
        snprintf(s->first[i], sizeof s->first[i], "%s", w[0].path);
        snprintf(s->last[i], sizeof s->last[i], "%s", w[n - 1].path);
    }
    return CLIP_OK;
}

/* What the batch told its sink. */
typedef struct {
    size_t committed, commits;
    char failed[256];
    const mig_target *failed_t;
} told;

static void on_committed(void *ctx, size_t n)
{
    told *t = ctx;
    t->committed += n;
    t->commits++;
}

static void on_failed(void *ctx, const mig_target *t, const char *what)
{
    told *x = ctx;
    snprintf(x->failed, sizeof x->failed, "%s", what);
    x->failed_t = t;
}

/* A planned video of n writes named "v<tag>w<i>" (the last one its video document), in a fresh
 * arena the batch takes over. */
static arena_t *plan_of(int tag, size_t n, mig_plan *p)
{
    arena_t *a = malloc(sizeof *a);
    arena_init(a, 0);
    mig_plan_init(p);
    p->writes = n ? arena_calloc(a, n, sizeof *p->writes) : NULL;
    p->n = p->cap = n;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "v%dw%zu", tag, i);
        p->writes[i].path = arena_strdup(a, name);
    }
    return a;
}

static const mig_target target = {"u1", "vid1", NULL};

static void test_videos_share_commits(void)
{
    sent s = {0};
    told t = {0};
    mig_sink sink = {.ctx = &t, .committed = on_committed, .failed = on_failed};
    mig_batch b;
    mig_batch_init(&b, fake_commit, &s);
    mig_plan p;
    for (int v = 0; v < 3; v++) {
        arena_t *a = plan_of(v, 200, &p);
        CU_ASSERT_EQUAL(mig_batch_add(&b, &p, a, &target, &sink), 0);
    }
    /* 200 + 200 waited; the third would have made 600: the 400 went first */
    CU_ASSERT_EQUAL(s.calls, 1);
    CU_ASSERT_EQUAL(s.sizes[0], 400);
    UNIT_ASSERT_STR(s.first[0], "v0w0");
    UNIT_ASSERT_STR(s.last[0], "v1w199");
    CU_ASSERT_EQUAL(b.n, 200);
    CU_ASSERT_EQUAL(mig_batch_flush(&b, &target, &sink), 0);
    CU_ASSERT_EQUAL(s.calls, 2);
    CU_ASSERT_EQUAL(s.sizes[1], 200);
    UNIT_ASSERT_STR(s.first[1], "v2w0");
    CU_ASSERT_EQUAL(b.n, 0);
    CU_ASSERT_EQUAL(t.committed, 600);
    CU_ASSERT_EQUAL(t.commits, 2);
    UNIT_ASSERT_STR(t.failed, "");
    /* a flush of nothing sends nothing */
    CU_ASSERT_EQUAL(mig_batch_flush(&b, &target, &sink), 0);
    CU_ASSERT_EQUAL(s.calls, 2);
    mig_batch_free(&b);
}

static void test_full_batches_go_at_once(void)
{
    sent s = {0};
    told t = {0};
    mig_sink sink = {.ctx = &t, .committed = on_committed, .failed = on_failed};
    mig_batch b;
    mig_batch_init(&b, fake_commit, &s);
    mig_plan p;
    /* 499 + 1 reach the limit: sent together, at once */
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(0, 499, &p), &target, &sink), 0);
    CU_ASSERT_EQUAL(s.calls, 0);
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(1, 1, &p), &target, &sink), 0);
    CU_ASSERT_EQUAL(s.calls, 1);
    CU_ASSERT_EQUAL(s.sizes[0], FS_COMMIT_WRITES_MAX);
    UNIT_ASSERT_STR(s.last[0], "v1w0");
    CU_ASSERT_EQUAL(b.n, 0);
    /* a video already unchanged (no writes) adds nothing */
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(2, 0, &p), &target, &sink), 0);
    CU_ASSERT_EQUAL(b.n, 0);
    CU_ASSERT_EQUAL(s.calls, 1);
    mig_batch_free(&b);
}

static void test_a_big_video_is_split_in_order(void)
{
    sent s = {0};
    told t = {0};
    mig_sink sink = {.ctx = &t, .committed = on_committed, .failed = on_failed};
    mig_batch b;
    mig_batch_init(&b, fake_commit, &s);
    mig_plan p;
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(0, 10, &p), &target, &sink), 0);
    /* 10 waiting + 1,200 would not fit: the 10 go alone, then the video in three commits, its
     * clips first and its video document (the last write) last */
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(1, 1200, &p), &target, &sink), 0);
    CU_ASSERT_EQUAL_FATAL(s.calls, 4);
    CU_ASSERT_EQUAL(s.sizes[0], 10);
    CU_ASSERT_EQUAL(s.sizes[1], 500);
    CU_ASSERT_EQUAL(s.sizes[2], 500);
    CU_ASSERT_EQUAL(s.sizes[3], 200);
    UNIT_ASSERT_STR(s.first[1], "v1w0");
    UNIT_ASSERT_STR(s.last[1], "v1w499");
    UNIT_ASSERT_STR(s.first[2], "v1w500");
    UNIT_ASSERT_STR(s.last[3], "v1w1199");
    CU_ASSERT_EQUAL(t.committed, 1210);
    mig_batch_free(&b);
}

static void test_a_failed_commit_ends_the_run(void)
{
    sent s = {0};
    s.fail_at = 2;
    told t = {0};
    mig_sink sink = {.ctx = &t, .committed = on_committed, .failed = on_failed};
    mig_batch b;
    mig_batch_init(&b, fake_commit, &s);
    mig_plan p;
    const mig_target other = {"u2", "vid2", NULL};
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(0, 700, &p), &target, &sink), -1);
    /* the first 500 went, the next commit failed: reported for the video being added */
    CU_ASSERT_EQUAL(s.calls, 2);
    CU_ASSERT_EQUAL(t.committed, 500);
    UNIT_ASSERT_STR(t.failed, "commit of 200 writes: unavailable: firestore: down");
    CU_ASSERT_PTR_EQUAL(t.failed_t, &target);
    CU_ASSERT_EQUAL(b.n, 0);
    /* failing while flushing for the next video names that one, and frees its writes unsent */
    s.calls = 0;
    s.fail_at = 1;
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(1, 300, &p), &target, &sink), 0);
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(2, 300, &p), &other, &sink), -1);
    CU_ASSERT_PTR_EQUAL(t.failed_t, &other);
    UNIT_ASSERT_STR(t.failed, "commit of 300 writes: unavailable: firestore: down");
    CU_ASSERT_EQUAL(b.n, 0);
    /* what is still waiting when the run gives up is freed, not sent */
    s.calls = 0;
    s.fail_at = 0;
    CU_ASSERT_EQUAL(mig_batch_add(&b, &p, plan_of(3, 20, &p), &target, &sink), 0);
    mig_batch_free(&b);
    CU_ASSERT_EQUAL(s.calls, 0);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_videos_share_commits),
                           UNIT_TEST(test_full_batches_go_at_once),
                           UNIT_TEST(test_a_big_video_is_split_in_order),
                           UNIT_TEST(test_a_failed_commit_ends_the_run), CU_TEST_INFO_NULL};
    return unit_run("migrate", tests, NULL, NULL);
}
