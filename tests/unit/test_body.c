/* Tests of core/body: the workflow's bodies parsed into repository inputs, every refusal naming
 * its field, and clipctl's field arguments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "body.h"
#include "unit.h"

static arena_t a;
static char err[512];
static buf_t argsb; /* the last body made by args_body */

static int setup(void)
{
    arena_init(&a, 0);
    return 0;
}

static int teardown(void)
{
    arena_free(&a);
    buf_free(&argsb);
    return 0;
}

static clip_err video(const char *body, video_rec *v, unsigned *mask)
{
    err[0] = '\0';
    return body_parse_video(&a, "u1", "vid1", body, strlen(body), v, mask, err, sizeof err);
}

static clip_err clip(const char *body, clip_create_input *c)
{
    err[0] = '\0';
    return body_parse_clip(&a, "u1", "vid1", "clip_3_vertical", body, strlen(body), c, err,
                            sizeof err);
}

static clip_err status(const char *body, clip_status_update *u)
{
    err[0] = '\0';
    return body_parse_status(&a, body, strlen(body), u, err, sizeof err);
}

/* The message of a refused video / clip / status / stats / upload body. */
static const char *refusal(body_kind k, const char *body)
{
    video_rec v;
    clip_create_input c;
    clip_status_update u;
    body_upload up;
    unsigned m;
    clip_err e = CLIP_OK;
    size_t n = strlen(body);
    err[0] = '\0';
    switch (k) {
    case BODY_VIDEO:
        e = body_parse_video(&a, "u1", "vid1", body, n, &v, &m, err, sizeof err);
        break;
    case BODY_CLIP:
        e = body_parse_clip(&a, "u1", "vid1", "clip_3_vertical", body, n, &c, err, sizeof err);
        break;
    case BODY_STATUS:
        e = body_parse_status(&a, body, n, &u, err, sizeof err);
        break;
    case BODY_STATS:
        e = body_parse_stats(&a, body, n, err, sizeof err);
        break;
    case BODY_UPLOAD:
        e = body_parse_upload(&a, "clip_3_vertical", body, n, &up, err, sizeof err);
        break;
    }
    return e == CLIP_EINVAL ? err : "(accepted)";
}

static void test_video_every_field(void)
{
    video_rec v;
    unsigned mask = 0;
    const char *body = "{\"video_id\":\"vid1\",\"user_id\":\"u1\",\"video_url\":\"https://x/"
                       "y\",\"video_title\":\"T\","
                       "\"youtube_id\":null,\"status\":\"completed\",\"custom_prompt\":\"p\","
                       "\"styles_processed\":[\"vertical\",\"square\"],\"crop_mode\":\"smart\","
                       "\"target_aspect\":\"9:16\","
                       "\"highlights_count\":7,\"highlights_summary\":{\"total_duration\":210.5,"
                       "\"categories\":[\"funny\",\"deep\"]}}";
    CU_ASSERT_EQUAL_FATAL(video(body, &v, &mask), CLIP_OK);
    CU_ASSERT_EQUAL(mask, VIDEO_F_URL | VIDEO_F_TITLE | VIDEO_F_YOUTUBE_ID | VIDEO_F_STATUS |
                              VIDEO_F_CUSTOM_PROMPT | VIDEO_F_STYLES | VIDEO_F_CROP_MODE |
                              VIDEO_F_TARGET_ASPECT | VIDEO_F_HIGHLIGHTS_COUNT |
                              VIDEO_F_HIGHLIGHTS_SUMMARY);
    UNIT_ASSERT_STR(v.video_id, "vid1");
    UNIT_ASSERT_STR(v.user_id, "u1");
    UNIT_ASSERT_STR(v.video_url, "https://x/y");
    UNIT_ASSERT_STR(v.video_title, "T");
    CU_ASSERT_PTR_NULL(v.youtube_id);
    UNIT_ASSERT_STR(v.status, "completed");
    UNIT_ASSERT_STR(v.custom_prompt, "p");
    CU_ASSERT_EQUAL_FATAL(v.nstyles, 2);
    UNIT_ASSERT_STR(v.styles_processed[0], "vertical");
    UNIT_ASSERT_STR(v.styles_processed[1], "square");
    UNIT_ASSERT_STR(v.crop_mode, "smart");
    UNIT_ASSERT_STR(v.target_aspect, "9:16");
    CU_ASSERT_EQUAL(v.highlights_count, 7);
    CU_ASSERT_EQUAL(v.highlights_total_duration, 210.5);
    CU_ASSERT_EQUAL_FATAL(v.ncategories, 2);
    UNIT_ASSERT_STR(v.categories[1], "deep");
}

static void test_video_empty_bodies_touch_only(void)
{
    video_rec v;
    unsigned mask = 99;
    CU_ASSERT_EQUAL(video("", &v, &mask), CLIP_OK);
    CU_ASSERT_EQUAL(mask, 0);
    UNIT_ASSERT_STR(v.video_id, "vid1");
    CU_ASSERT_EQUAL(video(" \r\n\t", &v, &mask), CLIP_OK);
    CU_ASSERT_EQUAL(video(" { } ", &v, &mask), CLIP_OK);
    CU_ASSERT_EQUAL(mask, 0);
    /* a partial update names only its fields */
    CU_ASSERT_EQUAL(video("{\"status\":\"failed\"}", &v, &mask), CLIP_OK);
    CU_ASSERT_EQUAL(mask, VIDEO_F_STATUS);
}

static void test_video_raw_highlights_summary(void)
{
    video_rec v;
    unsigned mask = 0;
    const char *body =
        "{\"highlights\":["
        "{\"id\":3,\"title\":\"a\",\"description\":\"d\",\"priority\":1,\"start\":\"00:01:02.5\","
        "\"end\":\"00:01:31\",\"duration\":28.5,\"hook_category\":\"funny\"},"
        "{\"start\":\"1:00\",\"end\":\"1:30.1\",\"hook_category\":\"deep\"},"
        "{\"start\":10,\"end\":12.2,\"hook_category\":\"funny\"},"
        "{\"duration\":0.1,\"hook_category\":\"\"},"
        "{\"duration\":0.1,\"hook_category\":null}]}";
    CU_ASSERT_EQUAL_FATAL(video(body, &v, &mask), CLIP_OK);
    CU_ASSERT_EQUAL(mask, VIDEO_F_HIGHLIGHTS_SUMMARY | VIDEO_F_HIGHLIGHTS_COUNT);
    CU_ASSERT_EQUAL(v.highlights_count, 5);
    CU_ASSERT_EQUAL(v.highlights_total_duration, 61.0); /* 28.5 + 30.1 + 2.2 + 0.1 + 0.1 */
    CU_ASSERT_EQUAL_FATAL(v.ncategories, 2);
    UNIT_ASSERT_STR(v.categories[0], "funny");
    UNIT_ASSERT_STR(v.categories[1], "deep");
    /* an explicit count wins; an empty array is a zero summary */
    CU_ASSERT_EQUAL(video("{\"highlights\":[{\"duration\":1}],\"highlights_count\":9}", &v, &mask),
                    CLIP_OK);
    CU_ASSERT_EQUAL(v.highlights_count, 9);
    CU_ASSERT_EQUAL(video("{\"highlights\":[]}", &v, &mask), CLIP_OK);
    CU_ASSERT_EQUAL(v.highlights_count, 0);
    CU_ASSERT_EQUAL(v.highlights_total_duration, 0);
    CU_ASSERT_EQUAL(v.ncategories, 0);
}

static void test_video_refusals(void)
{
    static const char *const cases[][2] = {
        {"{", "body: not valid JSON (it ends too early)"},
        {"{\"a\":1} {", "body: not valid JSON (unexpected character at offset 8)"},
        {"{\"a\":1}  x", "body: not valid JSON (unexpected byte at offset 9)"},
        {"{'video_title':'x'}", "body: not valid JSON (unexpected byte at offset 1)"},
        {"{\"highlights_count\":Infinity}", "body: not valid JSON (unexpected byte at offset 20)"},
        {"{\"highlights_count\":-NaN}", "body: not valid JSON (unexpected byte at offset 21)"},
        {"{\"video_title\":\"a\tb\"}", "body: not valid JSON (unexpected byte at offset 17)"},
        {"null", "body: must be a JSON object"},
        {"\"x\"", "body: must be a JSON object"},
        {"{\"a\":[[[[[[[[1]]]]]]]]}", "body: nested deeper than 8 levels"},
        {"{\"video_url\":[]}", "video_url: must be a string"},
        {"{\"video_title\":null}", "video_title: must be a string"},
        {"{\"custom_prompt\":1}", "custom_prompt: must be a string or null"},
        {"{\"crop_mode\":"
         "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
         "crop_mode: longer than 64 bytes"},
        {"{\"status\":\"Queued\"}", "status: must be one of queued, processing, completed, failed"},
        {"{\"status\":5}", "status: must be one of queued, processing, completed, failed"},
        {"{\"highlights_count\":100001}",
         "highlights_count: must be a whole number from 0 to 100000"},
        {"{\"highlights_count\":true}",
         "highlights_count: must be a whole number from 0 to 100000"},
        {"{\"highlights_count\":-9223372036854775809}",
         "highlights_count: must be a whole number from 0 to 100000"},
        {"{\"styles_processed\":[\"a\",\"\"]}",
         "styles_processed[1]: must be 1-64 bytes of [a-z0-9-]"},
        {"{\"styles_processed\":[null]}", "styles_processed[0]: must be a string"},
        {"{\"video_id\":\"vid2\"}", "video_id: must be \"vid1\", as in the path"},
        {"{\"highlights_summary\":[]}", "highlights_summary: must be an object"},
        {"{\"highlights_summary\":{\"total_duration\":\"1\"}}",
         "highlights_summary.total_duration: must be a number from 0 to 1e+08"},
        {"{\"highlights_summary\":{\"total_duration\":1e9}}",
         "highlights_summary.total_duration: must be a number from 0 to 1e+08"},
        {"{\"highlights\":[{\"end\":\"5\"}]}",
         "highlights[0].duration: not given, and start / end do not give it"},
        {"{\"highlights\":[{\"start\":\"5\",\"end\":\"4\"}]}",
         "highlights[0].duration: not given, and start / end do not give it"},
        {"{\"highlights\":[{\"duration\":-1}]}",
         "highlights[0].duration: must be a number from 0 to 604800"},
        {"{\"highlights\":[{\"duration\":1,\"id\":-1}]}",
         "highlights[0].id: must be a whole number from 0 to 2147483647"},
        {"{\"highlights\":[{\"duration\":1,\"title\":null}]}",
         "highlights[0].title: must be a string"},
        {"{\"highlights\":[{\"duration\":1,\"hook_category\":7}]}",
         "highlights[0].hook_category: must be a string or null"},
        {"{\"highlights\":[{\"duration\":1,\"start\":true}]}",
         "highlights[0].start: must be HH:MM:SS(.fff) or seconds"},
        {"{\"highlights\":[{\"duration\":1,\"sc\\u00f6re\":1}]}",
         "highlights[0].sc??re: unknown field"},
        {"{\"highlights\":[{\"duration\":1,\"priority\":\"1\"}]}",
         "highlights[0].priority: must be a whole number from 0 to 2147483647"},
        {"{\"highlights\":[{\"duration\":1,\"description\":[]}]}",
         "highlights[0].description: must be a string or null"},
        {"{\"highlights\":[{\"start\":1e12,\"end\":1}]}",
         "highlights[0].start: must be a number from 0 to 6.048e+08"},
        {"{\"target_aspect\":"
         "\"01234567890123456789012345678901234567890123456789012345678901234\"}",
         "target_aspect: longer than 64 bytes"},
        {"{\"youtube_id\":\"01234567890123456789012345678901234567890123456789012345678901234\"}",
         "youtube_id: longer than 64 bytes"},
        {"{\"updated_at\":1}", "updated_at: set by the server, not accepted here"},
        {"{\"\\u0000\":1}", ": unknown field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        UNIT_ASSERT_STR(refusal(BODY_VIDEO, cases[i][0]), cases[i][1]);
    /* 101 distinct categories */
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"highlights\":[");
    for (int i = 0; i <= VIDEOS_LIST_ITEMS_MAX; i++)
        buf_printf(&b, "%s{\"duration\":1,\"hook_category\":\"c%d\"}", i ? "," : "", i);
    buf_puts(&b, "]}");
    UNIT_ASSERT_STR(refusal(BODY_VIDEO, b.p),
                    "highlights: more than 100 distinct hook categories");
    buf_free(&b);
    /* the body is not trusted to end in NUL: a length cuts it */
    video_rec v;
    unsigned m;
    const char *two = "{\"video_title\":\"x\"}GARBAGE";
    CU_ASSERT_EQUAL(body_parse_video(&a, "u1", "vid1", two, 19, &v, &m, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(v.video_title, "x");
    const char nul[] = {'{', '}', '\0', ' '};
    CU_ASSERT_EQUAL(body_parse_video(&a, "u1", "vid1", nul, sizeof nul, &v, &m, err, sizeof err),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "body: not valid JSON (unexpected byte at offset 2)");
}

static void test_clip_defaults_and_computed(void)
{
    clip_create_input c;
    CU_ASSERT_EQUAL_FATAL(clip("{\"scene_id\":3,\"style\":\"vertical\",\"start_time\":\"00:01:02."
                               "5\",\"end_time\":\"00:01:31\"}",
                               &c),
                          CLIP_OK);
    CU_ASSERT_PTR_NULL(c.filename); /* the repository makes clip_id + ".mp4" */
    CU_ASSERT_EQUAL(c.scene_id, 3);
    CU_ASSERT_PTR_NULL(c.scene_title);
    CU_ASSERT_PTR_NULL(c.scene_description);
    UNIT_ASSERT_STR(c.style, "vertical");
    UNIT_ASSERT_STR(c.start_time, "00:01:02.5");
    UNIT_ASSERT_STR(c.end_time, "00:01:31");
    CU_ASSERT_EQUAL(c.has_duration, 0);
    CU_ASSERT_EQUAL(c.duration_seconds, 28.5);
    CU_ASSERT_EQUAL(c.has_priority, 0);
    CU_ASSERT_PTR_NULL(c.status);
    CU_ASSERT_PTR_NULL(c.error);
    CU_ASSERT_EQUAL(c.file_size_bytes, 0);
    CU_ASSERT_EQUAL(c.has_thumbnail, 0);
    /* seconds and MM:SS forms; 1/1000 rounding of the difference */
    CU_ASSERT_EQUAL(
        clip("{\"scene_id\":0,\"style\":\"a\",\"start_time\":\"0.1\",\"end_time\":\"0.3\"}", &c),
        CLIP_OK);
    CU_ASSERT_EQUAL(c.duration_seconds, 0.2);
    CU_ASSERT_EQUAL(clip("{\"scene_id\":0,\"style\":\"a\",\"start_time\":\"1:02\",\"end_time\":"
                         "\"01:02:03.004\"}",
                         &c),
                    CLIP_OK);
    CU_ASSERT_EQUAL(c.duration_seconds, 3661.004);
    /* everything given, consistent derived fields accepted */
    const char *full =
        "{\"clip_id\":\"clip_3_vertical\",\"filename\":\"clip_3_vertical.webm\",\"scene_id\":3,"
        "\"scene_title\":\"T\",\"scene_description\":null,\"style\":\"vertical\",\"start_time\":"
        "\"1\","
        "\"end_time\":\"2\",\"duration_seconds\":5,\"priority\":0,\"status\":\"failed\",\"error\":"
        "\"e\","
        "\"file_size_bytes\":1572864,\"has_thumbnail\":true,"
        "\"r2_key\":\"u1/vid1/clips/clip_3_vertical.webm\",\"thumbnail_r2_key\":\"u1/vid1/"
        "thumbnails/clip_3_vertical.jpg\","
        "\"file_size_mb\":1.52}";
    CU_ASSERT_EQUAL_FATAL(clip(full, &c), CLIP_OK);
    UNIT_ASSERT_STR(c.filename, "clip_3_vertical.webm");
    CU_ASSERT_EQUAL(c.has_duration, 1);
    CU_ASSERT_EQUAL(c.duration_seconds, 5);
    CU_ASSERT_EQUAL(c.has_priority, 1);
    CU_ASSERT_EQUAL(c.priority, 0);
    UNIT_ASSERT_STR(c.status, "failed");
    UNIT_ASSERT_STR(c.error, "e");
    CU_ASSERT_EQUAL(c.file_size_bytes, 1572864);
    CU_ASSERT_EQUAL(c.has_thumbnail, 1);
    /* a size in MB alone becomes bytes */
    CU_ASSERT_EQUAL(clip("{\"scene_id\":0,\"style\":\"a\",\"start_time\":\"0\",\"end_time\":\"1\","
                         "\"file_size_mb\":12.3}",
                         &c),
                    CLIP_OK);
    CU_ASSERT_EQUAL(c.file_size_bytes, 12897485);
    /* the key of a default file name, and a null thumbnail key without a thumbnail */
    CU_ASSERT_EQUAL(
        clip("{\"scene_id\":0,\"style\":\"a\",\"start_time\":\"0\",\"end_time\":\"1\",\"r2_key\":"
             "\"u1/vid1/clips/clip_3_vertical.mp4\",\"thumbnail_r2_key\":null}",
             &c),
        CLIP_OK);
}

#define CB "\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"0\",\"end_time\":\"5\""
/* CB without one of its members, for a body that gives that member another value */
#define CB_BUT_SCENE "\"style\":\"vertical\",\"start_time\":\"0\",\"end_time\":\"5\""
#define CB_BUT_STYLE "\"scene_id\":1,\"start_time\":\"0\",\"end_time\":\"5\""
#define CB_BUT_START "\"scene_id\":1,\"style\":\"vertical\",\"end_time\":\"5\""
#define CB_BUT_END "\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"0\""

static void test_clip_refusals(void)
{
    static const char *const cases[][2] = {
        {"{}", "scene_id: required"},
        {"{\"scene_id\":1,\"start_time\":\"0\",\"end_time\":\"1\"}", "style: required"},
        {"{\"scene_id\":1,\"style\":\"v\",\"end_time\":\"1\"}", "start_time: required"},
        {"{\"scene_id\":1,\"style\":\"v\",\"start_time\":\"1\"}", "end_time: required"},
        {"{" CB_BUT_SCENE ",\"scene_id\":1.0}",
         "scene_id: must be a whole number from 0 to 2147483647"},
        {"{" CB_BUT_SCENE ",\"scene_id\":-1}",
         "scene_id: must be a whole number from 0 to 2147483647"},
        {"{" CB_BUT_STYLE ",\"style\":\"\"}", "style: must be 1-64 bytes of [a-z0-9-]"},
        {"{" CB_BUT_STYLE ",\"style\":\"a_b\"}", "style: must be 1-64 bytes of [a-z0-9-]"},
        {"{" CB_BUT_STYLE ",\"style\":null}", "style: must be 1-64 bytes of [a-z0-9-]"},
        {"{" CB_BUT_START ",\"start_time\":\"\"}",
         "start_time: must be a string: HH:MM:SS(.fff), MM:SS(.fff) or seconds"},
        {"{" CB_BUT_START ",\"start_time\":\"1:2:3:4\"}",
         "start_time: must be a string: HH:MM:SS(.fff), MM:SS(.fff) or seconds"},
        {"{" CB_BUT_START ",\"start_time\":\"1.5:00\"}",
         "start_time: must be a string: HH:MM:SS(.fff), MM:SS(.fff) or seconds"},
        {"{" CB_BUT_START ",\"start_time\":\"-1\"}",
         "start_time: must be a string: HH:MM:SS(.fff), MM:SS(.fff) or seconds"},
        {"{" CB_BUT_END ",\"end_time\":\"000000000000000000000000000000001\"}",
         "end_time: must be a string: HH:MM:SS(.fff), MM:SS(.fff) or seconds"},
        {"{\"scene_id\":1,\"style\":\"v\",\"start_time\":\"2\",\"end_time\":\"1\",\"duration_"
         "seconds\":1}",
         "end_time: before start_time"},
        {"{" CB ",\"duration_seconds\":604800.5}",
         "duration_seconds: must be a number from 0 to 604800"},
        {"{" CB ",\"duration_seconds\":\"5\"}",
         "duration_seconds: must be a number from 0 to 604800"},
        {"{" CB ",\"priority\":2147483648}",
         "priority: must be a whole number from 0 to 2147483647"},
        {"{" CB ",\"status\":\"queued\"}",
         "status: must be one of pending, processing, completed, failed"},
        {"{" CB ",\"error\":[]}", "error: must be a string or null"},
        {"{" CB ",\"scene_description\":false}", "scene_description: must be a string or null"},
        {"{" CB ",\"file_size_bytes\":5497558138881}",
         "file_size_bytes: must be a whole number from 0 to 5497558138880"},
        {"{" CB ",\"file_size_mb\":-1}", "file_size_mb: must be a number from 0 to 5.24288e+06"},
        {"{" CB ",\"file_size_bytes\":0,\"file_size_mb\":0.051}",
         "file_size_mb: does not agree with file_size_bytes (0.000 MB)"},
        {"{" CB ",\"has_thumbnail\":null}", "has_thumbnail: must be true or false"},
        {"{" CB ",\"filename\":\"clip_3_vertical\"}", "(accepted)"},
        {"{" CB ",\"filename\":\".clip_3_vertical\"}",
         "filename: must be 1-128 bytes of [A-Za-z0-9._-], no '..' and no leading dot"},
        {"{" CB ",\"filename\":\"clip_3_vertical..mp4\"}",
         "filename: must be 1-128 bytes of [A-Za-z0-9._-], no '..' and no leading dot"},
        {"{" CB ",\"filename\":\"clip_3.mp4\"}",
         "filename: must be \"clip_3_vertical\" plus an extension (the clip id of the path)"},
        {"{" CB ",\"clip_id\":7}", "clip_id: must be a string"},
        {"{" CB ",\"r2_key\":\"u1/vid1/clips/clip_3_vertical.webm\"}",
         "r2_key: must be \"u1/vid1/clips/clip_3_vertical.mp4\" (or left out)"},
        {"{" CB ",\"has_thumbnail\":true,\"thumbnail_r2_key\":null}",
         "thumbnail_r2_key: must be \"u1/vid1/thumbnails/clip_3_vertical.jpg\" (or left out)"},
        {"{" CB ",\"created_at\":null}", "created_at: set by the server, not accepted here"},
        {"{" CB ",\"file_size\":1}", "file_size: unknown field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        UNIT_ASSERT_STR(refusal(BODY_CLIP, cases[i][0]), cases[i][1]);
    /* a refused body leaves nothing behind in the output */
    clip_create_input c;
    memset(&c, 0x5a, sizeof c);
    CU_ASSERT_EQUAL(clip("{\"scene_id\":1,\"style\":\"Bad\"}", &c), CLIP_EINVAL);
    CU_ASSERT_PTR_NULL(c.style);
    CU_ASSERT_EQUAL(c.scene_id, 0);
}

static void test_status_bodies(void)
{
    clip_status_update u;
    CU_ASSERT_EQUAL_FATAL(status("{\"status\":\"completed\"}", &u), CLIP_OK);
    UNIT_ASSERT_STR(u.status, "completed");
    CU_ASSERT_PTR_NULL(u.error);
    CU_ASSERT_EQUAL(u.has_file_size, 0);
    CU_ASSERT_EQUAL(u.has_thumbnail, -1);
    CU_ASSERT_EQUAL_FATAL(status("{\"status\":\"failed\",\"error\":\"boom\",\"file_size_bytes\":10,"
                                 "\"has_thumbnail\":false}",
                                 &u),
                          CLIP_OK);
    UNIT_ASSERT_STR(u.error, "boom");
    CU_ASSERT_EQUAL(u.has_file_size, 1);
    CU_ASSERT_EQUAL(u.file_size_bytes, 10);
    CU_ASSERT_EQUAL(u.has_thumbnail, 0);
    CU_ASSERT_EQUAL_FATAL(status("{\"status\":\"processing\",\"file_size_mb\":0.5,\"has_"
                                 "thumbnail\":true,\"error\":null}",
                                 &u),
                          CLIP_OK);
    CU_ASSERT_EQUAL(u.file_size_bytes, 524288);
    CU_ASSERT_EQUAL(u.has_thumbnail, 1);
    static const char *const cases[][2] = {
        {"", "status: required"},
        {"{\"error\":\"x\"}", "status: required"},
        {"{\"status\":null}", "status: must be one of pending, processing, completed, failed"},
        {"{\"status\":\"completed\",\"error\":{}}", "error: must be a string or null"},
        {"{\"status\":\"completed\",\"file_size_bytes\":\"1\"}",
         "file_size_bytes: must be a whole number from 0 to 5497558138880"},
        {"{\"status\":\"completed\",\"file_size_bytes\":1048576,\"file_size_mb\":1.1}",
         "file_size_mb: does not agree with file_size_bytes (1.000 MB)"},
        {"{\"status\":\"completed\",\"has_thumbnail\":0}", "has_thumbnail: must be true or false"},
        {"{\"status\":\"completed\",\"scene_id\":1}", "scene_id: unknown field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        UNIT_ASSERT_STR(refusal(BODY_STATUS, cases[i][0]), cases[i][1]);
}

static void test_stats_and_upload_bodies(void)
{
    UNIT_ASSERT_STR(refusal(BODY_STATS, ""), "(accepted)");
    UNIT_ASSERT_STR(refusal(BODY_STATS, "{}"), "(accepted)");
    UNIT_ASSERT_STR(refusal(BODY_STATS, "{\"x\":1}"), "x: unknown field");
    UNIT_ASSERT_STR(refusal(BODY_STATS, "1"), "body: must be a JSON object");
    body_upload up;
    CU_ASSERT_EQUAL(body_parse_upload(&a, "clip_3", "", 0, &up, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(up.filename, "clip_3.mp4");
    CU_ASSERT_EQUAL(up.expires_in, 0);
    const char *b = "{\"filename\":\"clip_3.mov\",\"expires_in\":604800}";
    CU_ASSERT_EQUAL(body_parse_upload(&a, "clip_3", b, strlen(b), &up, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(up.filename, "clip_3.mov");
    CU_ASSERT_EQUAL(up.expires_in, 604800);
    UNIT_ASSERT_STR(refusal(BODY_UPLOAD, "{\"expires_in\":0}"),
                    "expires_in: must be a whole number from 1 to 604800");
    UNIT_ASSERT_STR(refusal(BODY_UPLOAD, "{\"expires_in\":\"60\"}"),
                    "expires_in: must be a whole number from 1 to 604800");
    UNIT_ASSERT_STR(refusal(BODY_UPLOAD, "{\"filename\":\"x/clip_3_vertical.mp4\"}"),
                    "filename: must be 1-128 bytes of [A-Za-z0-9._-], no '..' and no leading dot");
    UNIT_ASSERT_STR(refusal(BODY_UPLOAD, "{\"key\":\"x\"}"), "key: unknown field");
}

static const char *args_body(body_kind k, const char *base, const char *const *args, size_t n)
{
    buf_free(&argsb);
    err[0] = '\0';
    clip_err e =
        body_from_args(k, base, base ? strlen(base) : 0, args, n, &argsb, err, sizeof err);
    return e == CLIP_OK ? argsb.p : err;
}

static void test_field_arguments(void)
{
    const char *v[] = {"video_title=42",
                       "highlights_count=7",
                       "youtube_id:=null",
                       "status=queued",
                       "styles_processed:=[\"a\", \"b\"]",
                       "custom_prompt=a=b"};
    UNIT_ASSERT_STR(args_body(BODY_VIDEO, NULL, v, 6),
                    "{\"video_title\":\"42\",\"highlights_count\":7,\"youtube_id\":null,\"status\":"
                    "\"queued\",\"styles_processed\":[\"a\",\"b\"],\"custom_prompt\":\"a=b\"}");
    /* over a --json base: arguments win */
    const char *c[] = {"scene_id=4", "has_thumbnail=true", "file_size_mb=1.5", "scene_title=x y",
                       "priority=abc"};
    UNIT_ASSERT_STR(args_body(BODY_CLIP, "{\"scene_id\":3,\"style\":\"v\"}", c, 5),
                    "{\"scene_id\":4,\"style\":\"v\",\"has_thumbnail\":true,\"file_size_mb\":1.5,"
                    "\"scene_title\":\"x y\",\"priority\":\"abc\"}");
    /* the text of a non-string field that is no JSON literal is passed on, and refused there */
    UNIT_ASSERT_STR(
        refusal(
            BODY_CLIP,
            args_body(BODY_CLIP,
                      "{\"scene_id\":1,\"style\":\"v\",\"start_time\":\"0\",\"end_time\":\"1\"}",
                      c + 4, 1)),
        "priority: must be a whole number from 0 to 2147483647");
    const char *s[] = {"status=completed", "error:=\"x\"", "file_size_bytes=12"};
    UNIT_ASSERT_STR(args_body(BODY_STATUS, NULL, s, 3),
                    "{\"status\":\"completed\",\"error\":\"x\",\"file_size_bytes\":12}");
    const char *bad1[] = {"novalue"}, *bad2[] = {"=x"}, *bad3[] = {"x:=[1,"}, *bad4[] = {"x:=NaN"};
    UNIT_ASSERT_STR(args_body(BODY_STATUS, NULL, bad1, 1),
                    "argument 'novalue': expected name=value or name:=JSON");
    UNIT_ASSERT_STR(args_body(BODY_STATUS, NULL, bad2, 1),
                    "argument '=x': expected name=value or name:=JSON");
    UNIT_ASSERT_STR(args_body(BODY_STATUS, NULL, bad3, 1), "x: not valid JSON after ':='");
    UNIT_ASSERT_STR(args_body(BODY_STATUS, NULL, bad4, 1), "x: not valid JSON after ':='");
    UNIT_ASSERT_STR(args_body(BODY_STATUS, "[1]", NULL, 0), "body: must be a JSON object");
    UNIT_ASSERT_STR(args_body(BODY_STATS, "", NULL, 0), "{}");
    /* bounded: an argument over BODY_ARG_MAX, a name over 64 bytes */
    char *big = malloc(BODY_ARG_MAX + 8);
    memcpy(big, "error=", 6);
    memset(big + 6, 'e', BODY_ARG_MAX);
    big[BODY_ARG_MAX + 6] = '\0';
    const char *bigarg[] = {big};
    UNIT_ASSERT_STR(args_body(BODY_STATUS, NULL, bigarg, 1),
                    "argument 1: longer than 65536 bytes");
    memset(big, 'n', 65);
    memcpy(big + 65, "=x", 3);
    UNIT_ASSERT_STR(args_body(BODY_STATUS, NULL, bigarg, 1),
                    "argument 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn': "
                    "expected name=value or name:=JSON");
    free(big);
}

static void test_long_strings_are_bounded(void)
{
    size_t n = CLIPS_TEXT_MAX + 1;
    buf_t b = BUF_INIT;
    buf_puts(&b, "{" CB ",\"scene_title\":\"");
    for (size_t i = 0; i < n; i++)
        buf_putc(&b, 'x');
    buf_puts(&b, "\"}");
    UNIT_ASSERT_STR(refusal(BODY_CLIP, b.p), "scene_title: longer than 4096 bytes");
    buf_free(&b);
    buf_puts(&b, "{\"styles_processed\":[");
    for (int i = 0; i <= VIDEOS_LIST_ITEMS_MAX; i++)
        buf_printf(&b, "%s\"s\"", i ? "," : "");
    buf_puts(&b, "]}");
    UNIT_ASSERT_STR(refusal(BODY_VIDEO, b.p), "styles_processed: more than 100 items");
    buf_free(&b);
    buf_puts(&b, "{\"highlights\":[");
    for (int i = 0; i <= BODY_HIGHLIGHTS_MAX; i++)
        buf_printf(&b, "%s{}", i ? "," : "");
    buf_puts(&b, "]}");
    UNIT_ASSERT_STR(refusal(BODY_VIDEO, b.p), "highlights: more than 1000 items");
    buf_free(&b);
}

/* Issue 16, defect 3: text that is not UTF-8 is refused in every kind of body, naming the field;
 * so are duplicate members. */
static void test_not_utf8_is_refused_naming_the_field(void)
{
    UNIT_ASSERT_STR(refusal(BODY_VIDEO, "{\"video_title\":\"\xc0\xaf\"}"),
                    "video_title: not valid UTF-8 (at offset 16)");
    UNIT_ASSERT_STR(refusal(BODY_VIDEO, "{\"video_title\":\"\\ud800\"}"),
                    "video_title: not valid UTF-8 (unpaired surrogate escape at offset 16)");
    UNIT_ASSERT_STR(refusal(BODY_VIDEO, "{\"highlights_summary\":{\"total_duration\":1,"
                                        "\"categories\":[\"\xed\xa0\x80\"]}}"),
                    "highlights_summary.categories[0]: not valid UTF-8 (at offset 57)");
    UNIT_ASSERT_STR(refusal(BODY_CLIP,
                            "{\"scene_id\":1,\"style\":\"v\",\"start_time\":\"0\","
                            "\"end_time\":\"1\",\"scene_description\":\"\xf4\x90\x80\x80\"}"),
                    "scene_description: not valid UTF-8 (at offset 79)");
    UNIT_ASSERT_STR(refusal(BODY_STATUS, "{\"status\":\"failed\",\"error\":\"\\udc00\\ud800\"}"),
                    "error: not valid UTF-8 (unpaired surrogate escape at offset 28)");
    UNIT_ASSERT_STR(refusal(BODY_UPLOAD, "{\"filename\":\"\xe0\x80\xaf.mp4\"}"),
                    "filename: not valid UTF-8 (at offset 13)");
    UNIT_ASSERT_STR(refusal(BODY_STATS, "{\"\xc0\":1}"), "body: not valid UTF-8 (at offset 2)");
    UNIT_ASSERT_STR(refusal(BODY_VIDEO, "{\"status\":\"queued\",\"status\":\"failed\"}"),
                    "status: given twice");
    /* clipctl's arguments carry the bytes as they are, and the parser refuses them */
    const char *bad[] = {"video_title=\xc0\xaf"};
    const char *body = args_body(BODY_VIDEO, NULL, bad, 1);
    char *copy = strdup(body);
    UNIT_ASSERT_STR(refusal(BODY_VIDEO, copy), "video_title: not valid UTF-8 (at offset 16)");
    free(copy);
    UNIT_ASSERT_STR(args_body(BODY_VIDEO, "{\"a\":1,\"a\":2}", NULL, 0), "a: given twice");
    const char *raw[] = {"styles_processed:=[\"\\ud800\"]"};
    UNIT_ASSERT_STR(args_body(BODY_VIDEO, NULL, raw, 1),
                    "styles_processed: not valid JSON after ':='");
}

int main(void)
{
    CU_TestInfo tests[] = {
        UNIT_TEST(test_video_every_field),
        UNIT_TEST(test_video_empty_bodies_touch_only),
        UNIT_TEST(test_video_raw_highlights_summary),
        UNIT_TEST(test_video_refusals),
        UNIT_TEST(test_clip_defaults_and_computed),
        UNIT_TEST(test_clip_refusals),
        UNIT_TEST(test_status_bodies),
        UNIT_TEST(test_stats_and_upload_bodies),
        UNIT_TEST(test_field_arguments),
        UNIT_TEST(test_long_strings_are_bounded),
        UNIT_TEST(test_not_utf8_is_refused_naming_the_field),
        CU_TEST_INFO_NULL,
    };
    return unit_run("body", tests, setup, teardown);
}
