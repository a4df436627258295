/* Tests of core/legacy without a network: clip file names (hostile ones too), highlights.json, and
 * the join of highlights, clip listing and thumbnail listing into records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legacy.h"
#include "unit.h"

static void expect_name(const char *name, int64_t scene, const char *style, size_t idlen)
{
    legacy_name nm;
    const char *why = "unset";
    int r = legacy_parse_name(name, strlen(name), ".mp4", &nm, &why);
    if (r != 0)
        fprintf(stderr, "%s: refused: %s\n", name, why ? why : "?");
    CU_ASSERT_EQUAL_FATAL(r, 0);
    CU_ASSERT_PTR_NULL(why);
    CU_ASSERT_EQUAL(nm.scene_id, scene);
    UNIT_ASSERT_STR(nm.style, style);
    CU_ASSERT_EQUAL(nm.clip_id_len, idlen);
}

static void expect_bad(const char *name, size_t n, const char *reason)
{
    legacy_name nm;
    const char *why = NULL;
    CU_ASSERT_EQUAL(legacy_parse_name(name, n, ".mp4", &nm, &why), -1);
    UNIT_ASSERT_STR(why, reason);
}

static void test_names_good(void)
{
    expect_name("clip_3_vertical.mp4", 3, "vertical", 15);
    expect_name("clip_0_square.mp4", 0, "square", 13);
    expect_name("clip_2147483647_a-b-9.mp4", 2147483647LL, "a-b-9", 21);
    expect_name("clip_12_x.mp4", 12, "x", 9);
    legacy_name nm;
    CU_ASSERT_EQUAL(legacy_parse_name("clip_7_vertical.jpg", 19, ".jpg", &nm, NULL), 0);
    CU_ASSERT_EQUAL(nm.scene_id, 7);
    CU_ASSERT_EQUAL(nm.clip_id_len, 15);
}

static void test_names_hostile(void)
{
    expect_bad("clip__vertical.mp4", 18, "no scene id");
    expect_bad("clip_-1_x.mp4", 13, "no scene id");
    expect_bad("clip_1_UPPER.mp4", 16, "style is not 1-64 bytes of [a-z0-9-]");
    expect_bad("clip_99999999999999999999_x.mp4", 31, "scene id too large");
    expect_bad("clip_2147483648_x.mp4", 21, "scene id too large");
    expect_bad("clip_1_x.mp4.bak", 16, "does not end in .mp4");
    expect_bad("clip_1_v\xc3\xa9rtical.mp4", 20, "style is not 1-64 bytes of [a-z0-9-]");
    expect_bad("clip_1_a b.mp4", 14, "style is not 1-64 bytes of [a-z0-9-]");
    expect_bad("clip_1_a%20b.mp4", 16, "style is not 1-64 bytes of [a-z0-9-]");
    expect_bad("clip_1_a+b.mp4", 14, "style is not 1-64 bytes of [a-z0-9-]");
    expect_bad("clip_1_my_style.mp4", 19, "style is not 1-64 bytes of [a-z0-9-]");
    expect_bad("clip_1_.mp4", 11, "style is not 1-64 bytes of [a-z0-9-]");
    expect_bad("clip_1.mp4", 10, "no _ after the scene id");
    expect_bad("clip_01_x.mp4", 13, "scene id with a leading zero");
    expect_bad("clip_1x_y.mp4", 13, "no _ after the scene id");
    expect_bad("clip_1_x.MP4", 12, "does not end in .mp4");
    expect_bad("Clip_1_x.mp4", 12, "does not start with clip_");
    expect_bad("clip_1_x\0.mp4", 13, "style is not 1-64 bytes of [a-z0-9-]");
    expect_bad("clip_", 5, "does not end in .mp4");
    expect_bad("", 0, "empty or longer than 128 bytes");
    char longname[200];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "clip_1_", 7);
    memcpy(longname + 125, ".mp4", 4);
    expect_bad(longname, 129, "empty or longer than 128 bytes");
}

/* A style is at most IDS_STYLE_MAX bytes. */
static void test_names_style_limit(void)
{
    char name[IDS_MAX + 1];
    memcpy(name, "clip_1_", 7);
    memset(name + 7, 's', 64);
    memcpy(name + 71, ".mp4", 5);
    legacy_name nm;
    CU_ASSERT_EQUAL(legacy_parse_name(name, 75, ".mp4", &nm, NULL), 0);
    CU_ASSERT_EQUAL(strlen(nm.style), 64);
    memset(name + 7, 's', 65);
    memcpy(name + 72, ".mp4", 5);
    CU_ASSERT_EQUAL(legacy_parse_name(name, 76, ".mp4", &nm, NULL), -1);
}

static const char highlights[] =
    "{\"video_title\":\"A talk \\u00e9\",\"video_url\":\"https://youtube.com/watch?v=abc\","
    "\"highlights\":["
    "{\"id\":3,\"title\":\"Third\",\"description\":\"d3\",\"priority\":1,\"start\":\"00:01:02.5\","
    "\"end\":\"00:01:31\",\"duration\":28.5,\"hook_category\":\"funny\"},"
    "{\"id\":1,\"title\":\"First\",\"priority\":2,\"start\":5,\"end\":35.25,\"hook_category\":"
    "\"insightful\"},"
    "{\"id\":2,\"title\":\"Second\",\"description\":null,\"start\":\"00:02:00\",\"end\":\"00:02:"
    "30\","
    "\"hook_category\":\"funny\"},"
    "{\"id\":3,\"title\":\"dup\"},"
    "{\"id\":-4,\"title\":\"neg\"},"
    "{\"id\":5,\"title\":7},"
    "{\"id\":6,\"duration\":\"long\"},"
    "\"not an object\""
    "]}";

static void test_highlights(void)
{
    arena_t a;
    arena_init(&a, 0);
    legacy_report rep;
    legacy_report_init(&rep, &a);
    legacy_highlights h;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(legacy_parse_highlights(&a, highlights, sizeof highlights - 1,
                                                  "u/v/highlights.json", &h, &rep, err, sizeof err),
                          CLIP_OK);
    UNIT_ASSERT_STR(h.video_title, "A talk \xc3\xa9");
    UNIT_ASSERT_STR(h.video_url, "https://youtube.com/watch?v=abc");
    CU_ASSERT_EQUAL_FATAL(h.nscenes, 3);
    CU_ASSERT_EQUAL(h.scenes[0].id, 3);
    UNIT_ASSERT_STR(h.scenes[0].title, "Third");
    UNIT_ASSERT_STR(h.scenes[0].description, "d3");
    CU_ASSERT_EQUAL(h.scenes[0].priority, 1);
    UNIT_ASSERT_STR(h.scenes[0].start, "00:01:02.5");
    UNIT_ASSERT_STR(h.scenes[0].end, "00:01:31");
    CU_ASSERT_TRUE(h.scenes[0].has_duration);
    CU_ASSERT_EQUAL(h.scenes[0].duration, 28.5);
    UNIT_ASSERT_STR(h.scenes[0].category, "funny");
    CU_ASSERT_EQUAL(h.scenes[1].id, 1);
    UNIT_ASSERT_STR(h.scenes[1].start, "5");
    UNIT_ASSERT_STR(h.scenes[1].end, "35.25");
    CU_ASSERT_PTR_NULL(h.scenes[1].description);
    CU_ASSERT_FALSE(h.scenes[1].has_duration);
    CU_ASSERT_EQUAL(h.scenes[2].priority, CLIPS_PRIORITY_DEFAULT);
    CU_ASSERT_PTR_NULL(h.scenes[2].description);
    CU_ASSERT_EQUAL(rep.counts[LEGACY_BAD_SCENE], 5);
    CU_ASSERT_EQUAL_FATAL(rep.n, 5);
    UNIT_ASSERT_STR(rep.items[0].key, "u/v/highlights.json");
    UNIT_ASSERT_STR(rep.items[0].detail, "highlights[3]: duplicate id 3 (the first is used)");
    UNIT_ASSERT_STR(rep.items[1].detail,
                    "highlights[4]: id: not a whole number from 0 to 2147483647");
    UNIT_ASSERT_STR(rep.items[2].detail, "highlights[5]: title");
    UNIT_ASSERT_STR(rep.items[3].detail, "highlights[6]: duration: not a number");
    UNIT_ASSERT_STR(rep.items[4].detail, "highlights[7]: not an object");
    arena_free(&a);
}

static void test_highlights_malformed(void)
{
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "{\"highlights\":{}}",
        "{\"a\":1} x",
        "{\"video_title\":\"\xff\"}",
        "{\"highlights\":[]}\0",
    };
    static const size_t lens[] = {0, 1, 2, 17, 9, 18, 18};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        arena_t a;
        arena_init(&a, 0);
        legacy_report rep;
        legacy_report_init(&rep, &a);
        legacy_highlights h;
        char err[256];
        clip_err e = legacy_parse_highlights(&a, bad[i], lens[i], NULL, &h, &rep, err, sizeof err);
        if (e != CLIP_EINVAL)
            fprintf(stderr, "malformed %zu accepted\n", i);
        CU_ASSERT_EQUAL(e, CLIP_EINVAL);
        CU_ASSERT_EQUAL(h.nscenes, 0);
        arena_free(&a);
    }
}

static legacy_obj obj(const char *name, long long size, int64_t secs)
{
    legacy_obj o = {name, strlen(name), size, {secs, 0}};
    return o;
}

static void test_join(void)
{
    arena_t a;
    arena_init(&a, 0);
    legacy_report rep;
    legacy_report_init(&rep, &a);
    legacy_highlights h;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(legacy_parse_highlights(&a, highlights, sizeof highlights - 1, NULL, &h,
                                                  NULL, err, sizeof err),
                          CLIP_OK);
    legacy_obj clips[] = {
        obj("clip_1_vertical.mp4", 1048576, 1800000300),
        obj("clip_3_vertical.mp4", 12897484, 1800000100),
        obj("clip_3_square.mp4", 1000, 1800000200),
        obj("clip_9_vertical.mp4", 7, 1800000400), /* no scene 9 */
        obj("clip__vertical.mp4", 5, 1800000000),  /* bad name */
        obj("sub/clip_2_vertical.mp4", 5, 1800000000),
        obj("clip_2_vertical (1).mp4", 5, 1800000000),
    };
    legacy_obj thumbs[] = {
        obj("clip_3_vertical.jpg", 10, 1800000500), obj("clip_1_vertical.jpg", 10, 1800000050),
        obj("clip_4_vertical.jpg", 10, 1800000600), /* orphan */
    };
    legacy_video v;
    CU_ASSERT_EQUAL_FATAL(
        legacy_join(&a, "alice", "vid1", &h, clips, 7, thumbs, 3, &v, &rep, err, sizeof err),
        CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(v.nclips, 4);
    /* priority, scene_id, style */
    UNIT_ASSERT_STR(v.clips[0].clip_id, "clip_3_square");
    UNIT_ASSERT_STR(v.clips[1].clip_id, "clip_3_vertical");
    UNIT_ASSERT_STR(v.clips[2].clip_id, "clip_1_vertical");
    UNIT_ASSERT_STR(v.clips[3].clip_id, "clip_9_vertical");
    const clip_rec *c = &v.clips[1];
    UNIT_ASSERT_STR(c->filename, "clip_3_vertical.mp4");
    CU_ASSERT_EQUAL(c->scene_id, 3);
    UNIT_ASSERT_STR(c->scene_title, "Third");
    UNIT_ASSERT_STR(c->scene_description, "d3");
    UNIT_ASSERT_STR(c->style, "vertical");
    UNIT_ASSERT_STR(c->start_time, "00:01:02.5");
    UNIT_ASSERT_STR(c->end_time, "00:01:31");
    CU_ASSERT_EQUAL(c->duration_seconds, 28.5);
    CU_ASSERT_EQUAL(c->priority, 1);
    UNIT_ASSERT_STR(c->status, "completed");
    CU_ASSERT_PTR_NULL(c->error);
    CU_ASSERT_EQUAL(c->file_size_bytes, 12897484);
    CU_ASSERT_EQUAL(c->file_size_mb, 12897484 / 1048576.0);
    CU_ASSERT_TRUE(c->has_thumbnail);
    UNIT_ASSERT_STR(c->r2_key, "alice/vid1/clips/clip_3_vertical.mp4");
    UNIT_ASSERT_STR(c->thumbnail_r2_key, "alice/vid1/thumbnails/clip_3_vertical.jpg");
    CU_ASSERT_EQUAL(c->created_at.seconds, 1800000100);
    c = &v.clips[0];
    CU_ASSERT_FALSE(c->has_thumbnail);
    CU_ASSERT_PTR_NULL(c->thumbnail_r2_key);
    c = &v.clips[2];
    CU_ASSERT_EQUAL(c->duration_seconds, 30.25); /* computed from 5 and 35.25 */
    CU_ASSERT_PTR_NULL(c->scene_description);
    c = &v.clips[3];
    UNIT_ASSERT_STR(c->scene_title, "");
    CU_ASSERT_EQUAL(c->priority, CLIPS_PRIORITY_DEFAULT);
    CU_ASSERT_EQUAL(c->duration_seconds, 0);
    UNIT_ASSERT_STR(c->start_time, "");

    const video_rec *vr = &v.video;
    UNIT_ASSERT_STR(vr->video_id, "vid1");
    UNIT_ASSERT_STR(vr->user_id, "alice");
    UNIT_ASSERT_STR(vr->video_title, "A talk \xc3\xa9");
    UNIT_ASSERT_STR(vr->status, "completed");
    CU_ASSERT_EQUAL(vr->highlights_count, 3);
    CU_ASSERT_EQUAL(vr->highlights_total_duration, 28.5 + 30.25 + 30);
    CU_ASSERT_EQUAL_FATAL(vr->ncategories, 2);
    UNIT_ASSERT_STR(vr->categories[0], "funny");
    UNIT_ASSERT_STR(vr->categories[1], "insightful");
    CU_ASSERT_EQUAL_FATAL(vr->nstyles, 2);
    UNIT_ASSERT_STR(vr->styles_processed[0], "square");
    UNIT_ASSERT_STR(vr->styles_processed[1], "vertical");
    CU_ASSERT_TRUE(vr->has_clip_stats);
    CU_ASSERT_EQUAL(vr->clip_stats.total, 4);
    CU_ASSERT_EQUAL(vr->clip_stats.completed, 4);
    CU_ASSERT_EQUAL(vr->clip_stats.failed, 0);
    CU_ASSERT_EQUAL(vr->clip_stats.total_size_bytes, 1048576 + 12897484 + 1000 + 7);
    CU_ASSERT_EQUAL(vr->clip_stats.total_duration_seconds, 28.5 + 28.5 + 30.25);
    CU_ASSERT_EQUAL_FATAL(vr->clip_stats.nby_style, 2);
    UNIT_ASSERT_STR(vr->clip_stats.by_style[0].style, "square");
    CU_ASSERT_EQUAL(vr->clip_stats.by_style[0].count, 1);
    CU_ASSERT_EQUAL(vr->clip_stats.by_style[1].count, 3);
    CU_ASSERT_EQUAL(vr->created_at.seconds, 1800000000);
    CU_ASSERT_EQUAL(vr->updated_at.seconds, 1800000600);

    CU_ASSERT_EQUAL(rep.counts[LEGACY_BAD_NAME], 3);
    CU_ASSERT_EQUAL(rep.counts[LEGACY_NO_SCENE], 1);
    CU_ASSERT_EQUAL(rep.counts[LEGACY_NO_THUMBNAIL], 2);
    CU_ASSERT_EQUAL(rep.counts[LEGACY_ORPHAN_THUMBNAIL], 1);
    CU_ASSERT_EQUAL_FATAL(rep.n, 7);
    UNIT_ASSERT_STR(rep.items[0].key, "alice/vid1/clips/clip_3_square.mp4");
    CU_ASSERT_EQUAL(rep.items[0].kind, LEGACY_NO_THUMBNAIL);
    UNIT_ASSERT_STR(rep.items[1].key, "alice/vid1/clips/clip_9_vertical.mp4");
    CU_ASSERT_EQUAL(rep.items[1].kind, LEGACY_NO_SCENE);
    UNIT_ASSERT_STR(rep.items[3].key, "alice/vid1/clips/clip__vertical.mp4");
    UNIT_ASSERT_STR(rep.items[3].detail, "no scene id");
    UNIT_ASSERT_STR(rep.items[4].detail, "in a subfolder of clips/");
    UNIT_ASSERT_STR(rep.items[5].key, "alice/vid1/clips/clip_2_vertical (1).mp4");
    UNIT_ASSERT_STR(rep.items[5].detail, "style is not 1-64 bytes of [a-z0-9-]");
    UNIT_ASSERT_STR(rep.items[6].key, "alice/vid1/thumbnails/clip_4_vertical.jpg");
    CU_ASSERT_EQUAL(rep.items[6].kind, LEGACY_ORPHAN_THUMBNAIL);
    arena_free(&a);
}

static void test_join_without_highlights(void)
{
    arena_t a;
    arena_init(&a, 0);
    legacy_report rep;
    legacy_report_init(&rep, &a);
    legacy_obj clips[] = {obj("clip_2_vertical.mp4", 3, 0)};
    legacy_video v;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(
        legacy_join(&a, "u", "v", NULL, clips, 1, NULL, 0, &v, &rep, err, sizeof err), CLIP_OK);
    CU_ASSERT_FALSE(v.has_highlights);
    CU_ASSERT_EQUAL(v.nclips, 1);
    UNIT_ASSERT_STR(v.video.video_title, "");
    CU_ASSERT_EQUAL(v.video.highlights_count, 0);
    CU_ASSERT_EQUAL(v.video.created_at.seconds, 0);
    /* without highlights no clip is "missing its scene": only the thumbnail is reported */
    CU_ASSERT_EQUAL(rep.counts[LEGACY_NO_SCENE], 0);
    CU_ASSERT_EQUAL(rep.counts[LEGACY_NO_THUMBNAIL], 1);
    CU_ASSERT_EQUAL(legacy_join(&a, "u/x", "v", NULL, clips, 1, NULL, 0, &v, &rep, err, sizeof err),
                    CLIP_EINVAL);
    arena_free(&a);
}

static void test_report_limits(void)
{
    arena_t a;
    arena_init(&a, 0);
    legacy_report rep;
    legacy_report_init(&rep, &a);
    for (int i = 0; i < LEGACY_ISSUES_MAX + 5; i++)
        legacy_report_add(&rep, LEGACY_BAD_NAME, "k", 1, "d");
    CU_ASSERT_EQUAL(rep.n, LEGACY_ISSUES_MAX);
    CU_ASSERT_EQUAL(rep.dropped, 5);
    CU_ASSERT_EQUAL(rep.counts[LEGACY_BAD_NAME], LEGACY_ISSUES_MAX + 5);
    UNIT_ASSERT_STR(legacy_issue_name(LEGACY_NO_THUMBNAIL), "no_thumbnail");
    UNIT_ASSERT_STR(legacy_issue_name(LEGACY_ISSUE__COUNT), "unknown");
    legacy_report counting;
    legacy_report_init(&counting, NULL);
    legacy_report_add(&counting, LEGACY_BAD_ID, "x", 1, "y");
    CU_ASSERT_EQUAL(counting.n, 0);
    CU_ASSERT_EQUAL(counting.counts[LEGACY_BAD_ID], 1);
    arena_free(&a);
}

int main(void)
{
    CU_TestInfo tests[] = {
        UNIT_TEST(test_names_good),
        UNIT_TEST(test_names_hostile),
        UNIT_TEST(test_names_style_limit),
        UNIT_TEST(test_highlights),
        UNIT_TEST(test_highlights_malformed),
        UNIT_TEST(test_join),
        UNIT_TEST(test_join_without_highlights),
        UNIT_TEST(test_report_limits),
        CU_TEST_INFO_NULL,
    };
    return unit_run("legacy", tests, NULL, NULL);
}
