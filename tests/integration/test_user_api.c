/* The user API end to end through nginx over TLS: seeded Firestore data and R2 objects, every GET
 * endpoint's JSON field by field, ID token failures, another user's video, bad input, presigned
 * URLs that fetch the right bytes, and Firestore going down. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "clips.h"
#include "codec.h"
#include "idtoken.h"
#include "firestore.h"
#include "fullstack.h"
#include "seed.h"
#include "tjson.h"
#include "unit.h"
#include "videos.h"

static fullstack F;
static char alice[4096], bob[4096];

static int seed(void)
{
    static const char *styles[] = {"vertical"}, *cats[] = {"funny", "insightful"};
    video_rec v;
    memset(&v, 0, sizeof v);
    v.video_url = "https://youtube.com/watch?v=abc";
    v.video_title = "A talk";
    v.status = "completed";
    v.styles_processed = styles;
    v.nstyles = 1;
    v.crop_mode = "smart";
    v.target_aspect = "9:16";
    v.highlights_count = 3;
    v.highlights_total_duration = 88.5;
    v.categories = cats;
    v.ncategories = 2;
    unsigned mask = VIDEO_F_URL | VIDEO_F_TITLE | VIDEO_F_STATUS | VIDEO_F_STYLES |
                    VIDEO_F_CROP_MODE | VIDEO_F_TARGET_ASPECT | VIDEO_F_HIGHLIGHTS_COUNT |
                    VIDEO_F_HIGHLIGHTS_SUMMARY;
    static const seed_clip clips[] = {
        {"clip_3_vertical", 3, 1, NULL, "completed", "00:01:02.5", "00:01:31", 12897484, 1, NULL,
         "Scene title", NULL, 1},
        {"clip_1_vertical", 1, 2, NULL, "completed", "5", "35.25", 1048576, 0, NULL, "Scene title",
         NULL, 1},
        {"clip_2_vertical", 2, 1, NULL, "processing", "00:02:00", "00:02:30", 0, 1, NULL,
         "Scene title", NULL, 1},
    };
    if (seed_video(F.cfg, "alice", "vid1", &v, mask, NULL, 0, 0) != 0 ||
        seed_video(F.cfg, "bob", "vidb", &v, mask, NULL, 0, 0) != 0 ||
        seed_clips(F.cfg, "alice", "vid1", clips, 3, 1) != 0)
        return -1;
    if (fullstack_s3_put(&F, "alice/vid1/clips/clip_3_vertical.mp4", "MP4DATA-3", 9, "video/mp4") ||
        fullstack_s3_put(&F, "alice/vid1/thumbnails/clip_3_vertical.jpg", "JPEGDATA-3", 10,
                         "image/jpeg")) {
        fprintf(stderr, "seed: the S3 objects\n");
        return -1;
    }
    return 0;
}

static int start(void)
{
    if (fullstack_start(&F, "userapi", 2, NULL) != 0)
        return 1;
    if (fullstack_auth_header(&F, "alice", alice, sizeof alice) ||
        fullstack_auth_header(&F, "bob", bob, sizeof bob))
        return 1;
    return seed() == 0 ? 0 : 1;
}

static int stop(void)
{
    fullstack_stop(&F);
    return 0;
}

/* GET path as user (a header line or NULL); returns the parsed JSON body (or NULL) and status. */
static json_object *get(const char *path, const char *auth, long *status, tp_http_resp *keep)
{
    char *hdrs[] = {(char *)auth, NULL};
    tp_http_resp r;
    *status = -1;
    if (stack_http(&F.st, "GET", path, auth ? hdrs : NULL, NULL, 0, &r) != 0) {
        tp_http_free(&r);
        return NULL;
    }
    *status = r.status;
    json_object *j = tj_parse(r.body);
    if (keep)
        *keep = r;
    else
        tp_http_free(&r);
    return j;
}

static void assert_error(json_object *j, const char *code, const char *msg_prefix)
{
    json_object *e = tj_get(j, "error");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    UNIT_ASSERT_STR(tj_str(e, "code"), code);
    const char *m = tj_str(e, "message");
    CU_ASSERT_TRUE(m && strncmp(m, msg_prefix, strlen(msg_prefix)) == 0);
    if (!(m && strncmp(m, msg_prefix, strlen(msg_prefix)) == 0))
        fprintf(stderr, "message '%s' does not start with '%s'\n", m ? m : "(null)", msg_prefix);
    CU_ASSERT_EQUAL(strlen(tj_str(e, "request_id") ? tj_str(e, "request_id") : ""), 32);
}

static void test_video_info(void)
{
    long st;
    json_object *j = get("/api/videos/vid1", alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    UNIT_ASSERT_STR(tj_str(j, "id"), "vid1");
    UNIT_ASSERT_STR(tj_str(j, "title"), "A talk");
    UNIT_ASSERT_STR(tj_str(j, "url"), "https://youtube.com/watch?v=abc");
    CU_ASSERT_TRUE(tj_null(j, "youtube_id"));
    UNIT_ASSERT_STR(tj_str(j, "status"), "completed");
    UNIT_ASSERT_STR(tj_text(j, "styles"), "[\"vertical\"]");
    UNIT_ASSERT_STR(tj_str(j, "crop_mode"), "smart");
    UNIT_ASSERT_STR(tj_str(j, "target_aspect"), "9:16");
    CU_ASSERT_EQUAL(tj_int(j, "highlights_count"), 3);
    UNIT_ASSERT_STR(tj_text(j, "highlights_summary"),
                    "{\"total_duration\":88.5,\"categories\":[\"funny\",\"insightful\"]}");
    json_object *cs = tj_get(j, "clip_stats");
    CU_ASSERT_EQUAL(tj_int(cs, "total"), 3);
    CU_ASSERT_EQUAL(tj_int(cs, "completed"), 2);
    CU_ASSERT_EQUAL(tj_int(cs, "failed"), 0);
    CU_ASSERT_EQUAL(tj_int(cs, "total_size_bytes"), 12897484 + 1048576);
    UNIT_ASSERT_STR(tj_text(cs, "by_style"), "{\"vertical\":3}");
    const char *ca = tj_str(j, "created_at");
    CU_ASSERT_TRUE(ca && strlen(ca) == 20 && ca[10] == 'T' && ca[19] == 'Z');
    CU_ASSERT_PTR_NOT_NULL(tj_str(j, "updated_at"));
    UNIT_ASSERT_STR(tj_str(j, "source"), "firestore");
    json_object *clips = tj_get(j, "clips");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(clips), 2); /* completed only */
    json_object *c0 = json_object_array_get_idx(clips, 0), *c1 = json_object_array_get_idx(clips, 1);
    /* priority 1 before priority 2 */
    UNIT_ASSERT_STR(tj_str(c0, "name"), "clip_3_vertical.mp4");
    UNIT_ASSERT_STR(tj_str(c0, "title"), "Scene title");
    UNIT_ASSERT_STR(tj_str(c0, "description"), "");
    CU_ASSERT_EQUAL(tj_int(c0, "scene_id"), 3);
    CU_ASSERT_EQUAL(tj_int(c0, "priority"), 1);
    UNIT_ASSERT_STR(tj_str(c0, "style"), "vertical");
    UNIT_ASSERT_STR(tj_str(c0, "status"), "completed");
    UNIT_ASSERT_STR(tj_str(c0, "start_time"), "00:01:02.5");
    UNIT_ASSERT_STR(tj_str(c0, "end_time"), "00:01:31");
    CU_ASSERT_DOUBLE_EQUAL(tj_dbl(c0, "duration_seconds"), 28.5, 1e-9);
    UNIT_ASSERT_STR(tj_str(c0, "url"), "/api/videos/vid1/clips/clip_3_vertical.mp4");
    UNIT_ASSERT_STR(tj_str(c0, "size"), "12.3 MB");
    CU_ASSERT_EQUAL(tj_int(c0, "size_bytes"), 12897484);
    char prefix[256];
    snprintf(prefix, sizeof prefix,
             "http://127.0.0.1:%d/clips/alice/vid1/thumbnails/clip_3_vertical.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&",
             F.s3_port);
    const char *th = tj_str(c0, "thumbnail");
    CU_ASSERT_TRUE(th && strncmp(th, prefix, strlen(prefix)) == 0);
    CU_ASSERT_PTR_NOT_NULL(th && strstr(th, "X-Amz-Expires=3600&"));
    UNIT_ASSERT_STR(tj_str(c1, "name"), "clip_1_vertical.mp4");
    CU_ASSERT_DOUBLE_EQUAL(tj_dbl(c1, "duration_seconds"), 30.25, 1e-9);
    CU_ASSERT_TRUE(tj_null(c1, "thumbnail"));
    UNIT_ASSERT_STR(tj_str(c1, "size"), "1.0 MB");
    /* the thumbnail URL fetches the thumbnail's bytes from the S3 server */
    tp_http_resp r;
    CU_ASSERT_EQUAL(tp_http("GET", th, NULL, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    UNIT_ASSERT_STR(r.body, "JPEGDATA-3");
    tp_http_free(&r);
    json_object_put(j);
}

static void test_etag_304(void)
{
    long st;
    tp_http_resp r;
    json_object *j = get("/api/videos/vid1", alice, &st, &r);
    json_object_put(j);
    const char *e = strstr(r.headers, "etag: ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    char etag[64], inm[96];
    CU_ASSERT_EQUAL(sscanf(e + 6, "%63[^\r\n]", etag), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "cache-control: private, no-cache"));
    tp_http_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    char *hdrs[] = {alice, inm, NULL};
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/api/videos/vid1", hdrs, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 304);
    CU_ASSERT_EQUAL(r.len, 0);
    tp_http_free(&r);
    char *other[] = {alice, "If-None-Match: \"0000000000000000\"", NULL};
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/api/videos/vid1", other, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    tp_http_free(&r);
}

static void test_clip_link(void)
{
    char *hdrs[] = {alice, NULL};
    tp_http_resp r;
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/api/videos/vid1/clips/clip_3_vertical.mp4", hdrs, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 302);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "cache-control: private, max-age=900"));
    const char *loc = strstr(r.headers, "location: ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(loc);
    char url[2048];
    CU_ASSERT_EQUAL(sscanf(loc + 10, "%2047[^\r\n]", url), 1);
    tp_http_free(&r);
    CU_ASSERT_EQUAL(tp_http("GET", url, NULL, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    UNIT_ASSERT_STR(r.body, "MP4DATA-3");
    tp_http_free(&r);
    /* ?download=1: S3 answers with the Content-Disposition override */
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/api/videos/vid1/clips/clip_3_vertical.mp4?download=1", hdrs, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 302);
    loc = strstr(r.headers, "location: ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(loc);
    CU_ASSERT_EQUAL(sscanf(loc + 10, "%2047[^\r\n]", url), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(url, "response-content-disposition=attachment%3B%20filename%3D%22clip_3_vertical.mp4%22"));
    tp_http_free(&r);
    CU_ASSERT_EQUAL(tp_http("GET", url, NULL, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "attachment; filename=\"clip_3_vertical.mp4\""));
    tp_http_free(&r);
    /* ?redirect=0: the same URL as JSON, for browser scripts */
    CU_ASSERT_EQUAL(stack_http(&F.st, "GET", "/api/videos/vid1/clips/clip_3_vertical.mp4?redirect=0", hdrs, NULL, 0, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NULL(strstr(r.headers, "location: "));
    json_object *u = tj_parse(r.body);
    const char *ju = tj_str(u, "url");
    CU_ASSERT_TRUE(ju && strncmp(ju, url, (size_t)(strchr(url, '?') - url + 1)) == 0);
    if (!(ju && strncmp(ju, url, (size_t)(strchr(url, '?') - url + 1)) == 0))
        fprintf(stderr, "redirect=0 gave %s\nexpected a URL like %s\n", r.body, url);
    json_object_put(u);
    tp_http_free(&r);
    /* no such clip, a clip not completed, and a file name of another extension: 404 */
    long st;
    json_object *j = get("/api/videos/vid1/clips/clip_9_vertical.mp4", alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 404);
    assert_error(j, "not_found", "no clip clip_9_vertical.mp4");
    json_object_put(j);
    j = get("/api/videos/vid1/clips/clip_2_vertical.mp4", alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 404);
    assert_error(j, "not_found", "clip clip_2_vertical.mp4 is not ready");
    json_object_put(j);
    j = get("/api/videos/vid1/clips/clip_3_vertical.mov", alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 404);
    json_object_put(j);
}

static void test_clips_list(void)
{
    long st;
    json_object *j = get("/api/videos/vid1/clips", alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 200);
    json_object *c = tj_get(j, "clips");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(c), 3);
    /* priority, then scene_id */
    UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(c, 0), "name"), "clip_2_vertical.mp4");
    UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(c, 1), "name"), "clip_3_vertical.mp4");
    UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(c, 2), "name"), "clip_1_vertical.mp4");
    CU_ASSERT_TRUE(tj_null(j, "next_cursor"));
    json_object_put(j);
    j = get("/api/videos/vid1/clips?status=processing", alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT_EQUAL(json_object_array_length(tj_get(j, "clips")), 1);
    UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(tj_get(j, "clips"), 0), "status"),
                    "processing");
    json_object_put(j);
    j = get("/api/videos/vid1/clips?scene_id=1", alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT_EQUAL(json_object_array_length(tj_get(j, "clips")), 1);
    json_object_put(j);
    /* pages of one, following the cursor */
    char path[4096] = "/api/videos/vid1/clips?style=vertical&limit=1";
    const char *want[] = {"clip_2_vertical.mp4", "clip_3_vertical.mp4", "clip_1_vertical.mp4"};
    char first_cursor[2048] = "";
    for (int i = 0; i < 3; i++) {
        j = get(path, alice, &st, NULL);
        CU_ASSERT_EQUAL_FATAL(st, 200);
        CU_ASSERT_EQUAL(json_object_array_length(tj_get(j, "clips")), 1);
        UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(tj_get(j, "clips"), 0), "name"), want[i]);
        const char *next = tj_str(j, "next_cursor");
        if (i < 2) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(next);
            if (i == 0)
                snprintf(first_cursor, sizeof first_cursor, "%s", next);
            snprintf(path, sizeof path, "/api/videos/vid1/clips?style=vertical&limit=1&cursor=%s", next);
        }
        json_object_put(j);
    }
    /* a tampered cursor is refused, naming the parameter */
    size_t n = strlen(first_cursor);
    CU_ASSERT_TRUE_FATAL(n > 4);
    first_cursor[n / 2] = first_cursor[n / 2] == 'A' ? 'B' : 'A';
    snprintf(path, sizeof path, "/api/videos/vid1/clips?style=vertical&limit=1&cursor=%s", first_cursor);
    j = get(path, alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 400);
    assert_error(j, "invalid_argument", "cursor: ");
    json_object_put(j);
}

static void test_videos_list(void)
{
    long st;
    json_object *j = get("/api/videos", alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 200);
    json_object *v = tj_get(j, "videos");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(v), 1);
    UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(v, 0), "id"), "vid1");
    CU_ASSERT_PTR_NULL(tj_get(json_object_array_get_idx(v, 0), "clips"));
    CU_ASSERT_TRUE(tj_null(j, "next_cursor"));
    json_object_put(j);
}

static void test_other_users_video_is_404(void)
{
    long st;
    const char *paths[] = {"/api/videos/vid1", "/api/videos/vid1/clips",
                           "/api/videos/vid1/clips/clip_3_vertical.mp4"};
    for (size_t i = 0; i < 3; i++) {
        json_object *j = get(paths[i], bob, &st, NULL);
        CU_ASSERT_EQUAL(st, 404);
        assert_error(j, "not_found", "no ");
        json_object_put(j);
    }
    json_object *j = get("/api/videos", bob, &st, NULL);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT_EQUAL(json_object_array_length(tj_get(j, "videos")), 1);
    UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(tj_get(j, "videos"), 0), "id"), "vidb");
    json_object_put(j);
}

static void expect_401(const char *auth, const char *msg_prefix)
{
    long st;
    json_object *j = get("/api/videos/vid1", auth, &st, NULL);
    CU_ASSERT_EQUAL(st, 401);
    if (st != 401)
        fprintf(stderr, "expected 401 for %s\n", msg_prefix);
    assert_error(j, "unauthenticated", msg_prefix);
    json_object_put(j);
}

static void token_case(const char *header, const char *payload, const char *msg_prefix)
{
    buf_t t = BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(fullstack_token_raw(&F, header, payload, &t), 0);
    char h[4096];
    snprintf(h, sizeof h, "Authorization: Bearer %s", t.p);
    expect_401(h, msg_prefix);
    buf_free(&t);
}

static void test_token_failures(void)
{
    char kid[80];
    {
        /* the kid of the test key, read from a valid token's header */
        buf_t t = BUF_INIT;
        fullstack_token(&F, "alice", &t);
        unsigned char hdr[512];
        long n = codec_base64_decode(CODEC_B64URL_NOPAD, t.p, (size_t)(strchr(t.p, '.') - t.p), hdr, sizeof hdr - 1);
        hdr[n > 0 ? n : 0] = '\0';
        const char *k = strstr((char *)hdr, "\"kid\":\"");
        CU_ASSERT_PTR_NOT_NULL_FATAL(k);
        snprintf(kid, sizeof kid, "%.*s", (int)strcspn(k + 7, "\""), k + 7);
        buf_free(&t);
    }
    long long now = (long long)time(NULL);
    char hdr[200], ok[600], p[600];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    const char *iss = "https://securetoken.google.com/" FULL_PROJECT;
#define PAYLOAD(buf, iss_, aud_, iat_, exp_, sub_)                                                 \
    snprintf(buf, sizeof buf,                                                                      \
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"auth_time\":%lld,\"iat\":%lld,\"exp\":%lld,"        \
             "\"sub\":\"%s\"}",                                                                    \
             iss_, aud_, (long long)(iat_), (long long)(iat_), (long long)(exp_), sub_)
    PAYLOAD(ok, iss, FULL_PROJECT, now - 10, now + 3600, "alice");
    /* the well-formed token is accepted: the failures below are about one thing each */
    {
        buf_t t = BUF_INIT;
        fullstack_token_raw(&F, hdr, ok, &t);
        char h[4096];
        snprintf(h, sizeof h, "Authorization: Bearer %s", t.p);
        long st;
        json_object *j = get("/api/videos/vid1", h, &st, NULL);
        CU_ASSERT_EQUAL(st, 200);
        json_object_put(j);
        buf_free(&t);
    }
    expect_401(NULL, "an Authorization: Bearer");
    expect_401("Authorization: Basic YWxpY2U6eA==", "an Authorization: Bearer");
    expect_401("Authorization: Bearer not-a-jwt", "invalid ID token");
    expect_401("Authorization: Bearer a.b.c", "invalid ID token");
    PAYLOAD(p, iss, FULL_PROJECT, now - 7200, now - 3600, "alice");
    token_case(hdr, p, "invalid ID token");              /* expired */
    PAYLOAD(p, iss, FULL_PROJECT, now + 3600, now + 7200, "alice");
    token_case(hdr, p, "invalid ID token");              /* not yet valid */
    PAYLOAD(p, iss, "other-project", now - 10, now + 3600, "alice");
    token_case(hdr, p, "invalid ID token");              /* wrong aud */
    PAYLOAD(p, "https://securetoken.google.com/other-project", FULL_PROJECT, now - 10, now + 3600, "alice");
    token_case(hdr, p, "invalid ID token");              /* wrong iss */
    token_case("{\"alg\":\"RS256\",\"kid\":\"no-such-kid\"}", ok, "invalid ID token"); /* unknown kid */
    PAYLOAD(p, iss, FULL_PROJECT, now - 10, now + 3600, "");
    token_case(hdr, p, "invalid ID token");              /* empty sub */
    {
        /* bad signature: a valid token with one signature character changed */
        buf_t t = BUF_INIT;
        fullstack_token_raw(&F, hdr, ok, &t);
        char *sig = strrchr(t.p, '.') + 5;
        *sig = *sig == 'A' ? 'B' : 'A';
        char h[4096];
        snprintf(h, sizeof h, "Authorization: Bearer %s", t.p);
        expect_401(h, "invalid ID token");
        /* alg none: the same claims, unsigned */
        buf_t n = BUF_INIT;
        codec_base64url_encode(&n, "{\"alg\":\"none\",\"typ\":\"JWT\"}", 26);
        buf_putc(&n, '.');
        codec_base64url_encode(&n, ok, strlen(ok));
        buf_putc(&n, '.');
        snprintf(h, sizeof h, "Authorization: Bearer %s", n.p);
        expect_401(h, "invalid ID token");
        buf_free(&n);
        buf_free(&t);
    }
    {
        /* HS256 keyed with the public key set document (the classic confusion attack) */
        buf_t n = BUF_INIT;
        char hh[200];
        snprintf(hh, sizeof hh, "{\"alg\":\"HS256\",\"kid\":\"%s\"}", kid);
        codec_base64url_encode(&n, hh, strlen(hh));
        buf_putc(&n, '.');
        codec_base64url_encode(&n, ok, strlen(ok));
        unsigned char mac[32];
        unsigned int maclen = 0;
        HMAC(EVP_sha256(), F.keyset.p, (int)F.keyset.len, (unsigned char *)n.p, n.len, mac, &maclen);
        buf_putc(&n, '.');
        codec_base64url_encode(&n, mac, maclen);
        char h[4096];
        snprintf(h, sizeof h, "Authorization: Bearer %s", n.p);
        expect_401(h, "invalid ID token");
        buf_free(&n);
    }
#undef PAYLOAD
}

static void expect_400(const char *path, const char *msg_prefix)
{
    long st;
    json_object *j = get(path, alice, &st, NULL);
    CU_ASSERT_EQUAL(st, 400);
    if (st != 400)
        fprintf(stderr, "expected 400 for %s, got %ld\n", path, st);
    assert_error(j, "invalid_argument", msg_prefix);
    json_object_put(j);
}

static void test_bad_input(void)
{
    char long_id[200] = "/api/videos/";
    memset(long_id + 12, 'a', 129);
    long_id[12 + 129] = '\0';
    expect_400(long_id, "video_id: ");
    expect_400("/api/videos/a.b", "video_id: ");
    expect_400("/api/videos/%2e%2e", "video_id: ");
    expect_400("/api/videos/a%00b", ""); /* nginx refuses %00 itself: still a JSON 400 */
    expect_400("/api/videos/caf%C3%A9", "video_id: ");
    expect_400("/api/videos/vid1/clips/..%2fetc", "filename: ");
    expect_400("/api/videos/vid1/clips/.hidden", "filename: ");
    expect_400("/api/videos?limit=0", "limit: ");
    expect_400("/api/videos?limit=abc", "limit: ");
    expect_400("/api/videos?limit=101", "limit: ");
    expect_400("/api/videos/vid1/clips?status=done", "status: ");
    expect_400("/api/videos/vid1/clips?style=Vertical", "style: ");
    expect_400("/api/videos/vid1/clips?scene_id=-1", "scene_id: ");
    expect_400("/api/videos/vid1/clips?limit=1001", "limit: ");
    expect_400("/api/videos/vid1/clips?colour=red", "colour: unknown query parameter");
    expect_400("/api/videos/vid1/clips/clip_3_vertical.mp4?download=yes", "download: ");
    expect_400("/api/videos/vid1?x=1", "x: unknown query parameter");
}

static void test_readyz(void)
{
    long st;
    json_object *j = get("/readyz", NULL, &st, NULL);
    CU_ASSERT_EQUAL(st, 200);
    UNIT_ASSERT_STR(tj_str(j, "status"), "ready");
    json_object_put(j);
}

/* Last: the emulator is stopped for good. */
static void test_firestore_down(void)
{
    if (fsemu_ours_only(__func__, "stops the emulator"))
        return;
    tp_stop(&F.fs.proc, SIGKILL, 5000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long st;
    json_object *j = get("/api/videos/vid1", alice, &st, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CU_ASSERT_EQUAL(st, 503);
    assert_error(j, "unavailable", "");
    CU_ASSERT_TRUE(secs < 3.0); /* firestore_timeout_ms = 2000 */
    json_object_put(j);
    j = get("/healthz", NULL, &st, NULL);
    CU_ASSERT_EQUAL(st, 200);
    json_object_put(j);
    j = get("/readyz", NULL, &st, NULL);
    CU_ASSERT_EQUAL(st, 503);
    assert_error(j, "unavailable", "not ready: firestore: unavailable");
    json_object_put(j);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_video_info),   UNIT_TEST(test_etag_304),
                           UNIT_TEST(test_clip_link),    UNIT_TEST(test_clips_list),
                           UNIT_TEST(test_videos_list),  UNIT_TEST(test_other_users_video_is_404),
                           UNIT_TEST(test_token_failures), UNIT_TEST(test_bad_input),
                           UNIT_TEST(test_readyz),       UNIT_TEST(test_firestore_down),
                           CU_TEST_INFO_NULL};
    return unit_run("user_api", tests, start, stop);
}
