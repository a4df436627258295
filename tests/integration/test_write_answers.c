/* Each write of the internal API answers the state that write left, even while other writers
 * change the same document at the same moment (issue 16, defect 5): 50 PATCHes of one clip and 30
 * PUTs of one video at once, through nginx, each answer checked against its own request. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fullstack.h"
#include "unit.h"

#define WRITERS 50

static fullstack F;
static char key_header[160];

static int start(void)
{
    if (fullstack_start(&F, "writeans", 2, "threads = 16") != 0)
        return 1;
    snprintf(key_header, sizeof key_header, "Authorization: Bearer %s", F.internal_key);
    return 0;
}

static int stop(void)
{
    fullstack_stop(&F);
    return 0;
}

static long call(const char *method, const char *path, const char *body, tp_http_resp *r)
{
    char *hdrs[] = {key_header, "Content-Type: application/json", NULL};
    if (stack_http(&F.st, method, path, hdrs, body, strlen(body), r) != 0)
        return 0;
    return r->status;
}

typedef struct {
    int i;
    int own; /* 1: the answer holds what this request wrote */
    long status;
} writer;

static void *patch_clip(void *arg)
{
    writer *w = arg;
    char body[128], want[64];
    snprintf(body, sizeof body, "{\"status\":\"%s\",\"error\":\"writer-%d\"}",
             w->i % 2 ? "failed" : "processing", w->i);
    snprintf(want, sizeof want, "\"error\":\"writer-%d\"", w->i);
    tp_http_resp r;
    w->status = call("PATCH", "/api/internal/users/u1/videos/v1/clips/clip_1_vertical", body, &r);
    w->own = w->status == 200 && r.body && strstr(r.body, want) &&
             strstr(r.body, w->i % 2 ? "\"status\":\"failed\"" : "\"status\":\"processing\"");
    if (w->status)
        tp_http_free(&r);
    return NULL;
}

static void *put_video(void *arg)
{
    writer *w = arg;
    char body[128], want[64];
    snprintf(body, sizeof body, "{\"video_title\":\"title %d\"}", w->i);
    snprintf(want, sizeof want, "\"video_title\":\"title %d\"", w->i);
    tp_http_resp r;
    w->status = call("PUT", "/api/internal/users/u1/videos/v1", body, &r);
    w->own = (w->status == 200 || w->status == 201) && r.body && strstr(r.body, want);
    if (w->status)
        tp_http_free(&r);
    return NULL;
}

/* Runs n writers at once; returns how many got their own write back. */
static int race(void *(*fn)(void *), int n)
{
    pthread_t th[WRITERS];
    writer w[WRITERS];
    for (int i = 0; i < n; i++) {
        w[i] = (writer){.i = i};
        if (pthread_create(&th[i], NULL, fn, &w[i]) != 0)
            return -1;
    }
    int own = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        own += w[i].own;
        if (!w[i].own)
            fprintf(stderr, "writer %d: status %ld, not its own write\n", i, w[i].status);
    }
    return own;
}

static void test_parallel_patches_answer_their_own_write(void)
{
    tp_http_resp r;
    CU_ASSERT_EQUAL_FATAL(call("PUT", "/api/internal/users/u1/videos/v1", "{}", &r), 201);
    tp_http_free(&r);
    CU_ASSERT_EQUAL_FATAL(call("PUT", "/api/internal/users/u1/videos/v1/clips/clip_1_vertical",
                               "{\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"0\","
                               "\"end_time\":\"5\"}",
                               &r),
                          201);
    tp_http_free(&r);
    CU_ASSERT_EQUAL(race(patch_clip, WRITERS), WRITERS);
}

static void test_parallel_video_puts_answer_their_own_write(void)
{
    CU_ASSERT_EQUAL(race(put_video, 30), 30);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_parallel_patches_answer_their_own_write),
                           UNIT_TEST(test_parallel_video_puts_answer_their_own_write),
                           CU_TEST_INFO_NULL};
    return unit_run("write_answers", tests, start, stop);
}
