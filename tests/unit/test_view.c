/* Tests of core/view (the workflow view: the exact JSON of stored videos, clips, clip_stats and
 * upload URLs; the user view: clips, video info, listings, events) and core/layout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "unit.h"
#include "view.h"

static void test_double_shortest(void)
{
    const double in[] = {28.5, 0.1 + 0.2, 0, 12.299999237060547, 1e21, -2.5, NAN, INFINITY};
    const char *want[] = {
        "28.5", "0.30000000000000004", "0", "12.299999237060547", "1e+21", "-2.5", "null", "null"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        buf_t b = BUF_INIT;
        buf_json_double(&b, in[i]);
        UNIT_ASSERT_STR(b.p, want[i]);
        buf_free(&b);
    }
}

static void test_video_json(void)
{
    const char *styles[] = {"vertical"}, *cats[] = {"funny", "a\"b"};
    video_style_count by[] = {{"square", 1}, {"vertical", 2}};
    video_rec v = {.video_id = "vid1",
                   .user_id = "u1",
                   .video_url = "https://x",
                   .video_title = "T",
                   .youtube_id = NULL,
                   .status = "queued",
                   .custom_prompt = "p",
                   .styles_processed = styles,
                   .nstyles = 1,
                   .crop_mode = "smart",
                   .target_aspect = "9:16",
                   .highlights_count = 7,
                   .highlights_total_duration = 210.5,
                   .categories = cats,
                   .ncategories = 2,
                   .has_clip_stats = 1,
                   .clip_stats = {3, 2, 1, 100, 56.75, by, 2},
                   .created_at = {1795514400, 0},
                   .updated_at = {1795514400, 123000000}};
    buf_t b = BUF_INIT;
    view_stored_video(&b, &v);
    UNIT_ASSERT_STR(
        b.p,
        "{\"video_id\":\"vid1\",\"user_id\":\"u1\",\"video_url\":\"https://"
        "x\",\"video_title\":\"T\","
        "\"youtube_id\":null,\"status\":\"queued\",\"custom_prompt\":\"p\",\"styles_processed\":["
        "\"vertical\"],"
        "\"crop_mode\":\"smart\",\"target_aspect\":\"9:16\",\"highlights_count\":7,"
        "\"highlights_summary\":{\"total_duration\":210.5,\"categories\":[\"funny\",\"a\\\"b\"]},"
        "\"clip_stats\":{\"total\":3,\"completed\":2,\"failed\":1,\"total_size_bytes\":100,"
        "\"total_duration_seconds\":56.75,\"by_style\":{\"square\":1,\"vertical\":2}},"
        "\"created_at\":\"2026-11-24T10:00:00Z\",\"updated_at\":\"2026-11-24T10:00:00.123Z\"}");
    buf_free(&b);
    video_rec empty = {.video_id = "v", .user_id = "u"};
    view_stored_video(&b, &empty);
    UNIT_ASSERT_STR(
        b.p, "{\"video_id\":\"v\",\"user_id\":\"u\",\"video_url\":null,\"video_title\":null,"
             "\"youtube_id\":null,\"status\":null,\"custom_prompt\":null,\"styles_processed\":[],"
             "\"crop_mode\":null,\"target_aspect\":null,\"highlights_count\":0,"
             "\"highlights_summary\":{\"total_duration\":0,\"categories\":[]},\"clip_stats\":null,"
             "\"created_at\":null,\"updated_at\":null}");
    buf_free(&b);
}

static void test_clip_json(void)
{
    clip_rec c = {.clip_id = "clip_3_vertical",
                  .filename = "clip_3_vertical.mp4",
                  .scene_id = 3,
                  .scene_title = "Hook",
                  .scene_description = NULL,
                  .style = "vertical",
                  .start_time = "00:01:02.5",
                  .end_time = "00:01:31",
                  .duration_seconds = 28.5,
                  .priority = 1,
                  .status = "completed",
                  .error = NULL,
                  .file_size_bytes = 12897484,
                  .file_size_mb = 12897484 / 1048576.0,
                  .has_thumbnail = 1,
                  .r2_key = "u1/vid1/clips/clip_3_vertical.mp4",
                  .thumbnail_r2_key = "u1/vid1/thumbnails/clip_3_vertical.jpg",
                  .created_at = {1795514400, 5},
                  .updated_at = {1795514401, 0}};
    buf_t b = BUF_INIT;
    view_stored_clip(&b, &c);
    UNIT_ASSERT_STR(
        b.p, "{\"clip_id\":\"clip_3_vertical\",\"filename\":\"clip_3_vertical.mp4\",\"scene_id\":3,"
             "\"scene_title\":\"Hook\",\"scene_description\":null,\"style\":\"vertical\","
             "\"start_time\":\"00:01:02.5\",\"end_time\":\"00:01:31\",\"duration_seconds\":28.5,"
             "\"priority\":1,\"status\":\"completed\",\"error\":null,\"file_size_bytes\":12897484,"
             "\"file_size_mb\":12.299999237060547,\"has_thumbnail\":true,"
             "\"r2_key\":\"u1/vid1/clips/clip_3_vertical.mp4\","
             "\"thumbnail_r2_key\":\"u1/vid1/thumbnails/clip_3_vertical.jpg\","
             "\"created_at\":\"2026-11-24T10:00:00.000000005Z\",\"updated_at\":\"2026-11-24T10:00:"
             "01Z\"}");
    buf_free(&b);
}

/* The user view of a clip, and the same clip as a live-update event (plus updated_at). */
static void test_user_view_clip_and_event(void)
{
    clip_rec c = {.clip_id = "clip_3_vertical",
                  .filename = "clip_3_vertical.mp4",
                  .scene_id = 3,
                  .scene_title = "Hook \"1\"",
                  .style = "vertical",
                  .start_time = "00:01:02.5",
                  .end_time = "00:01:31",
                  .duration_seconds = 28.5,
                  .priority = 1,
                  .status = "failed",
                  .error = "render crashed",
                  .file_size_bytes = 12897484,
                  .has_thumbnail = 0,
                  .updated_at = {1795514401, 0}};
    view_signing none = view_signing_at(NULL, 3600, 1795514400);
    const char *want = "{\"name\":\"clip_3_vertical.mp4\",\"title\":\"Hook \\\"1\\\"\","
                       "\"description\":\"\",\"scene_id\":3,\"priority\":1,\"style\":\"vertical\","
                       "\"status\":\"failed\",\"start_time\":\"00:01:02.5\",\"end_time\":\"00:01:31\","
                       "\"duration_seconds\":28.5,\"url\":\"/api/videos/vid1/clips/"
                       "clip_3_vertical.mp4\",\"thumbnail\":null,\"error\":\"render crashed\","
                       "\"size\":\"12.3 MB\",\"size_bytes\":12897484";
    buf_t b = BUF_INIT;
    view_clip(&b, &none, "vid1", &c);
    buf_t w = BUF_INIT;
    buf_printf(&w, "%s}", want);
    UNIT_ASSERT_STR(b.p, w.p);
    buf_reset(&b);
    buf_reset(&w);
    view_clip_event(&b, &none, "vid1", &c);
    buf_printf(&w, "%s,\"updated_at\":\"2026-11-24T10:00:01Z\"}", want);
    UNIT_ASSERT_STR(b.p, w.p);
    buf_free(&b);
    buf_free(&w);
    /* the signing window: half the URL's life, so answers are byte-identical within it */
    CU_ASSERT_EQUAL(view_signing_at(NULL, 3600, 1795514400 + 1799).when, 1795514400);
    CU_ASSERT_EQUAL(view_signing_at(NULL, 3600, 1795514400 + 1800).when, 1795514400 + 1800);
}

/* "size" is printf's "%.1f MB" of the bytes, exactly, ties to even included. */
static void test_size_text(void)
{
    long long sizes[2000];
    size_t n = 0;
    const long long fixed[] = {0, 1, 52428, 52429, 104857, 262144, 786432, 1048576, 1572864,
                               12897484, 5497558138880LL};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        sizes[n++] = fixed[i];
    unsigned long long x = 88172645463325252ull;
    while (n < sizeof sizes / sizeof sizes[0]) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        long long v = (long long)(x % 50000000000ull);
        sizes[n] = n % 2 ? v : v / 1000;
        n++;
    }
    view_signing none = view_signing_at(NULL, 3600, 0);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        clip_rec c = {.filename = "f.mp4", .scene_title = "", .style = "s", .start_time = "",
                      .end_time = "", .status = "completed", .file_size_bytes = sizes[i]};
        buf_t b = BUF_INIT;
        view_clip(&b, &none, "v", &c);
        char want[96];
        snprintf(want, sizeof want, "\"size\":\"%.1f MB\",\"size_bytes\":%lld}",
                 (double)sizes[i] / 1048576.0, sizes[i]);
        if (!b.p || !strstr(b.p, want)) {
            if (bad++ < 3)
                fprintf(stderr, "size %lld: %s\n", sizes[i], b.p ? b.p : "");
        }
        buf_free(&b);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_stats_json(void)
{
    video_clip_stats s = {0, 0, 0, 0, 0, NULL, 0};
    buf_t b = BUF_INIT;
    view_clip_stats(&b, &s);
    UNIT_ASSERT_STR(b.p, "{\"total\":0,\"completed\":0,\"failed\":0,\"total_size_bytes\":0,\"total_"
                         "duration_seconds\":0,\"by_style\":{}}");
    buf_free(&b);
}

static void test_upload_keys_and_urls(void)
{
    char err[256];
    arena_t a;
    arena_init(&a, 0);
    UNIT_ASSERT_STR(layout_clip_key(&a, "u1", "vid1", "c1.mp4"), "u1/vid1/clips/c1.mp4");
    UNIT_ASSERT_STR(layout_thumb_key(&a, "u1", "vid1", "c1"), "u1/vid1/thumbnails/c1.jpg");
    sig_config cfg = {"AKIDEXAMPLE", "SECRETEXAMPLE",
                      NULL,          "auto",
                      NULL,          "https://acct.r2.cloudflarestorage.com",
                      "clips",       0};
    sig_signer *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sig_signer_new(&cfg, &s, err, sizeof err), CLIP_OK);
    buf_t b = BUF_INIT;
    buf_puts(&b, "x");
    CU_ASSERT_EQUAL(
        view_upload_urls(&b, s, &a, "u1", "vid1", "c1", "c1.mp4", 600, 1795514400, err, sizeof err),
        CLIP_OK);
    /* the same URLs sig_presign gives for PUT with the content type bound */
    buf_t c = BUF_INIT, t = BUF_INIT;
    sig_presign_req r = {.method = SIG_PUT,
                         .key = "u1/vid1/clips/c1.mp4",
                         .key_len = 20,
                         .expires = 600,
                         .when = 1795514400,
                         .content_type = "video/mp4",
                         .content_type_len = 9};
    CU_ASSERT_EQUAL(sig_presign(s, &r, &c, err, sizeof err), CLIP_OK);
    r.key = "u1/vid1/thumbnails/c1.jpg";
    r.key_len = strlen(r.key);
    r.content_type = "image/jpeg";
    r.content_type_len = 10;
    CU_ASSERT_EQUAL(sig_presign(s, &r, &t, err, sizeof err), CLIP_OK);
    buf_t want = BUF_INIT;
    buf_printf(&want,
               "x{\"clip\":{\"method\":\"PUT\",\"url\":\"%s\",\"r2_key\":\"u1/vid1/clips/"
               "c1.mp4\",\"content_type\":\"video/mp4\"},"
               "\"thumbnail\":{\"method\":\"PUT\",\"url\":\"%s\",\"r2_key\":\"u1/vid1/thumbnails/"
               "c1.jpg\",\"content_type\":\"image/jpeg\"},"
               "\"expires_in\":600}",
               c.p, t.p);
    UNIT_ASSERT_STR(b.p, want.p);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(c.p, "https://acct.r2.cloudflarestorage.com/clips/u1/vid1/clips/"
                    "c1.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%"
                    "2F20261124%2Fauto%2Fs3%2Faws4_request&X-Amz-Date=20261124T100000Z&X-Amz-"
                    "Expires=600&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature="));
    /* an expiry out of range appends nothing */
    size_t len = b.len;
    CU_ASSERT_EQUAL(
        view_upload_urls(&b, s, &a, "u1", "vid1", "c1", "c1.mp4", 0, 1795514400, err, sizeof err),
        CLIP_EINVAL);
    CU_ASSERT_EQUAL(b.len, len);
    buf_free(&want);
    buf_free(&c);
    buf_free(&t);
    buf_free(&b);
    sig_signer_free(s);
    arena_free(&a);
}

int main(void)
{
    CU_TestInfo tests[] = {
        UNIT_TEST(test_double_shortest),
        UNIT_TEST(test_video_json),
        UNIT_TEST(test_clip_json),
        UNIT_TEST(test_stats_json),
        UNIT_TEST(test_user_view_clip_and_event),
        UNIT_TEST(test_size_text),
        UNIT_TEST(test_upload_keys_and_urls),
        CU_TEST_INFO_NULL,
    };
    return unit_run("view", tests, NULL, NULL);
}
