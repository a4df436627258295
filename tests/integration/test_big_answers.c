/* A video of 3,000 clips through nginx: the megabytes of answer arrive whole (the worker writes
 * them as 64 KiB FastCGI records), every clip in the contract's order, and the ETag holds. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clips.h"
#include "fullstack.h"
#include "seed.h"
#include "tjson.h"
#include "unit.h"
#include "videos.h"
#include "view.h"

#define NCLIPS 3000

static fullstack F;
static char alice[4096];

/* A video of NCLIPS clips, committed FS_COMMIT_WRITES_MAX at a time. */
static int fill(fs_client *fs, arena_t *a, char *err, size_t errlen)
{
    video_rec v;
    memset(&v, 0, sizeof v);
    v.video_title = "A long talk";
    v.status = "completed";
    if (videos_create_or_update(fs, a, "alice", "big", &v, VIDEO_F_TITLE | VIDEO_F_STATUS, NULL,
                                NULL, err, errlen) != CLIP_OK)
        return -1;
    fs_write w[FS_COMMIT_WRITES_MAX];
    size_t nw = 0;
    for (int i = 0; i < NCLIPS; i++) {
        char id[64], title[64];
        snprintf(id, sizeof id, "clip_%d_vertical", i + 1);
        snprintf(title, sizeof title, "Scene \"%d\" \xc3\xa9", i + 1);
        clip_create_input n;
        memset(&n, 0, sizeof n);
        n.scene_id = i + 1;
        n.scene_title = arena_strdup(a, title);
        n.style = "vertical";
        n.start_time = "00:00:01.5";
        n.end_time = "00:00:09.25";
        n.has_priority = 1;
        n.priority = i % 7;
        n.status = "completed";
        n.file_size_bytes = 1000 + i;
        n.has_thumbnail = 1;
        if (clips_create_write(a, "alice", "big", arena_strdup(a, id), &n, 0, &w[nw++], err,
                               errlen) != CLIP_OK)
            return -1;
        if (nw == FS_COMMIT_WRITES_MAX || i == NCLIPS - 1) {
            if (fs_commit(fs, a, w, nw, NULL, err, errlen) != CLIP_OK)
                return -1;
            nw = 0;
        }
    }
    return 0;
}

static int start(void)
{
    if (fullstack_start(&F, "bigans", 1, NULL) != 0 ||
        fullstack_auth_header(&F, "alice", alice, sizeof alice) != 0)
        return 1;
    return seed_run(F.cfg, fill) == 0 ? 0 : 1;
}

static int stop(void)
{
    fullstack_stop(&F);
    return 0;
}

/* The start of the signing window of the presigned URLs made at t. */
static time_t window(time_t t)
{
    return view_signing_at(NULL, F.cfg->presign_expires, t).when;
}

static void test_thousands_of_clips_arrive_whole(void)
{
    char *hdrs[] = {alice, NULL};
    tp_http_resp r;
    time_t t0 = time(NULL); /* the first request's signing window starts no later */
    CU_ASSERT_EQUAL_FATAL(stack_http(&F.st, "GET", "/api/videos/big", hdrs, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(r.len > 1000000); /* megabytes: many 64 KiB records */
    json_object *j = tj_parse(r.body); /* one strict JSON document, nothing after */
    CU_ASSERT_PTR_NOT_NULL(j);
    json_object *clips = NULL;
    CU_ASSERT_TRUE_FATAL(j && json_object_object_get_ex(j, "clips", &clips));
    CU_ASSERT_EQUAL(json_object_array_length(clips), NCLIPS);
    /* the contract's order: priority, then scene_id */
    long long last_p = -1, last_s = -1;
    int ordered = 1, titled = 1;
    for (size_t i = 0; i < json_object_array_length(clips); i++) {
        json_object *c = json_object_array_get_idx(clips, i), *p, *s, *t;
        json_object_object_get_ex(c, "priority", &p);
        json_object_object_get_ex(c, "scene_id", &s);
        json_object_object_get_ex(c, "title", &t);
        long long pv = json_object_get_int64(p), sv = json_object_get_int64(s);
        if (pv < last_p || (pv == last_p && sv <= last_s))
            ordered = 0;
        char want[64];
        snprintf(want, sizeof want, "Scene \"%lld\" \xc3\xa9", sv);
        if (strcmp(json_object_get_string(t), want) != 0)
            titled = 0;
        last_p = pv;
        last_s = sv;
    }
    CU_ASSERT_TRUE(ordered);
    CU_ASSERT_TRUE(titled);
    json_object_put(j);
    /* the same bytes again: its ETag answers 304. The presigned URLs are signed at the start of
     * their window (view_signing_at: presign_expires / 2), so a pair of requests across a
     * window's start legitimately gets new URLs and a new ETag: then the pair is made once more,
     * in the new window. */
    for (int pair = 0; pair < 2; pair++) {
        if (pair) {
            tp_http_free(&r);
            t0 = time(NULL);
            CU_ASSERT_EQUAL_FATAL(stack_http(&F.st, "GET", "/api/videos/big", hdrs, NULL, 0, &r), 0);
            CU_ASSERT_EQUAL(r.status, 200);
        }
        const char *et = r.headers ? strstr(r.headers, "etag: ") : NULL; /* HTTP/2 lower case */
        char inm[128] = "";
        if (et)
            snprintf(inm, sizeof inm, "If-None-Match: %.*s", (int)strcspn(et + 6, "\r\n"), et + 6);
        CU_ASSERT_PTR_NOT_NULL(et);
        tp_http_free(&r);
        char *hdrs2[] = {alice, inm, NULL};
        CU_ASSERT_EQUAL_FATAL(stack_http(&F.st, "GET", "/api/videos/big", hdrs2, NULL, 0, &r), 0);
        time_t t1 = time(NULL);
        if (r.status == 200 && pair == 0 && window(t0) != window(t1))
            continue; /* a window started between the two */
        CU_ASSERT_EQUAL(r.status, 304);
        CU_ASSERT_EQUAL(r.len, 0);
        break;
    }
    tp_http_free(&r);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_thousands_of_clips_arrive_whole), CU_TEST_INFO_NULL};
    return unit_run("big_answers", tests, start, stop);
}
