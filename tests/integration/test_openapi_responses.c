/* Real answers of every documented response case of docs/openapi.yaml, through nginx over TLS on
 * the real backends: each request's status is asserted here, and each answer (method, route
 * pattern, status, headers, body) is written as one JSON line to $CLIPAPI_OPENAPI_RECORD (a temp
 * file when unset), which tests/checks/openapi-conformance.sh validates against the document. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clips.h"
#include "firestore.h"
#include "fullstack.h"
#include "seed.h"
#include "tjson.h"
#include "unit.h"
#include "videos.h"

#define POOL_BODY_MAX 65536           /* request_body_max of the pool under test */
#define NGINX_BODY_OVER (1536 * 1024) /* over nginx's client_max_body_size (1m) */

static fullstack F;
static char alice[4096], bob[4096], carol[4096], svc[200];
static FILE *rec_file;
static char rec_path[600];
static int nrecorded;

/* ---- seeding ----------------------------------------------------------------------------------
 */

static int seed(void)
{
    static const char *styles[] = {"vertical", "square"}, *cats[] = {"funny", "insightful"};
    video_rec v;
    memset(&v, 0, sizeof v);
    v.video_url = "https://youtube.com/watch?v=abc";
    v.video_title = "A talk";
    v.youtube_id = "abc";
    v.status = "completed";
    v.custom_prompt = "the funny bits";
    v.styles_processed = styles;
    v.nstyles = 2;
    v.crop_mode = "smart";
    v.target_aspect = "9:16";
    v.highlights_count = 4;
    v.highlights_total_duration = 118.75;
    v.categories = cats;
    v.ncategories = 2;
    unsigned all = VIDEO_F_URL | VIDEO_F_TITLE | VIDEO_F_YOUTUBE_ID | VIDEO_F_STATUS |
                   VIDEO_F_CUSTOM_PROMPT | VIDEO_F_STYLES | VIDEO_F_CROP_MODE |
                   VIDEO_F_TARGET_ASPECT | VIDEO_F_HIGHLIGHTS_COUNT | VIDEO_F_HIGHLIGHTS_SUMMARY;
    /* a sparse video: the nulls, the empty arrays and clip_stats null of the schema */
    video_rec sparse;
    memset(&sparse, 0, sizeof sparse);
    sparse.status = "queued";
    static const seed_clip clips[] = {
        {"clip_3_vertical", 3, 1, "vertical", "completed", "00:01:02.5", "00:01:31", 12897484, 1,
         NULL, "Scene title", "The punchline", 1},
        {"clip_1_vertical", 1, 2, "vertical", "completed", "5", "35.25", 1048576, 0, NULL,
         "Scene title", NULL, 1},
        {"clip_2_vertical", 2, 1, "vertical", "processing", "00:02:00", "00:02:30", 0, 0, NULL,
         "Scene title", NULL, 1},
        {"clip_4_square", 4, 3, "square", "failed", "00:03:00", "00:03:30", 0, 0,
         "ffmpeg exited with 1", "Scene title", NULL, 1},
    };
    if (seed_video(F.cfg, "alice", "vid1", &v, all, NULL, 0, 0) != 0 ||
        seed_video(F.cfg, "bob", "vidb", &v, all, NULL, 0, 0) != 0 ||
        seed_video(F.cfg, "alice", "vid2", &sparse, VIDEO_F_STATUS, NULL, 0, 0) != 0 ||
        seed_clips(F.cfg, "alice", "vid1", clips, 4, 1) != 0)
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
    const char *env = getenv("CLIPAPI_OPENAPI_RECORD");
    char extra[128];
    snprintf(extra, sizeof extra, "request_body_max = %d\n", POOL_BODY_MAX);
    if (fullstack_start(&F, "openapi", 2, extra) != 0)
        return 1;
    if (env && *env)
        snprintf(rec_path, sizeof rec_path, "%s", env);
    else
        snprintf(rec_path, sizeof rec_path, "%s/responses.jsonl", F.dir);
    rec_file = fopen(rec_path, "w");
    if (!rec_file) {
        fprintf(stderr, "cannot write %s\n", rec_path);
        return 1;
    }
    snprintf(svc, sizeof svc, "Authorization: Bearer %s", F.internal_key);
    if (fullstack_auth_header(&F, "alice", alice, sizeof alice) ||
        fullstack_auth_header(&F, "bob", bob, sizeof bob) ||
        fullstack_auth_header(&F, "carol", carol, sizeof carol))
        return 1;
    return seed() == 0 ? 0 : 1;
}

static int stop(void)
{
    if (rec_file)
        fclose(rec_file);
    rec_file = NULL;
    fprintf(stderr, "%d answers recorded in %s\n", nrecorded, rec_path);
    fullstack_stop(&F);
    return 0;
}

/* ---- recording --------------------------------------------------------------------------------
 */

/* The response headers (curl's raw header text) as an object of lower-case names; repeated
 * headers are joined with ", ". Only the last header block counts (after any 1xx). */
static json_object *headers_object(const char *raw)
{
    json_object *o = json_object_new_object();
    const char *p = raw;
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
            json_object_put(o);
            o = json_object_new_object();
        } else {
            const char *colon = memchr(p, ':', n);
            if (colon && colon > p) {
                char name[128];
                size_t nn =
                    (size_t)(colon - p) < sizeof name - 1 ? (size_t)(colon - p) : sizeof name - 1;
                for (size_t i = 0; i < nn; i++)
                    name[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
                name[nn] = '\0';
                const char *v = colon + 1;
                while (v < p + n && (*v == ' ' || *v == '\t'))
                    v++;
                size_t vn = (size_t)(p + n - v);
                json_object *old = NULL;
                if (json_object_object_get_ex(o, name, &old)) {
                    char *joined = NULL;
                    if (asprintf(&joined, "%s, %.*s", json_object_get_string(old), (int)vn, v) >
                        0) {
                        json_object_object_add(o, name, json_object_new_string(joined));
                        free(joined);
                    }
                } else {
                    json_object_object_add(o, name, json_object_new_string_len(v, (int)vn));
                }
            }
        }
        p = eol ? eol + 2 : NULL;
    }
    return o;
}

static void check_and_record(const char *method, const char *route, const char *path, int rc,
                             const tp_http_resp *rp, long want);

/* One request through nginx; asserts its status is `want`, records the answer, and returns it
 * (the caller frees it) for more checks. route: the documented path pattern, or NULL for a path
 * the API does not have. */
static tp_http_resp call(const char *method, const char *route, const char *path,
                         char *const headers[], const char *body, size_t body_len, long want)
{
    tp_http_resp r;
    int rc = stack_http(&F.st, method, path, headers, body, body_len, &r);
    check_and_record(method, route, path, rc, &r, want);
    return r;
}

/* Asserts the answer's status and records it (see call). */
static void check_and_record(const char *method, const char *route, const char *path, int rc,
                             const tp_http_resp *rp, long want)
{
    tp_http_resp r = *rp;
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(r.status, want);
    if (rc != 0 || r.status != want)
        fprintf(stderr, "%s %s: expected %ld, got %ld: %.400s\n", method, path, want, r.status,
                r.body ? r.body : "");
    if (rc == 0 && rec_file) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "method", json_object_new_string(method));
        json_object_object_add(o, "route", route ? json_object_new_string(route) : NULL);
        json_object_object_add(o, "path",
                               json_object_new_string_len(path, (int)strnlen(path, 300)));
        json_object_object_add(o, "status", json_object_new_int64(r.status));
        json_object_object_add(o, "headers", headers_object(r.headers));
        json_object_object_add(o, "body", json_object_new_string_len(r.body, (int)r.len));
        fprintf(rec_file, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        fflush(rec_file);
        json_object_put(o);
        nrecorded++;
    }
}

static void expect(const char *method, const char *route, const char *path, char *const headers[],
                   const char *body, long want)
{
    tp_http_resp r = call(method, route, path, headers, body, body ? strlen(body) : 0, want);
    tp_http_free(&r);
}

/* The value of a response header (lower-case name) in out, or "" */
static void header_value(const tp_http_resp *r, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        size_t nl = strlen(name);
        if (n > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(p + n - v), v);
        }
        p = eol ? eol + 2 : NULL;
    }
}

/* ---- user endpoints ---------------------------------------------------------------------------
 */

#define R_VIDEOS "/api/videos"
#define R_VIDEO "/api/videos/{video_id}"
#define R_CLIPS "/api/videos/{video_id}/clips"
#define R_CLIP "/api/videos/{video_id}/clips/{filename}"

static void test_videos_list(void)
{
    char *a[] = {alice, NULL}, *b[] = {bob, NULL};
    expect("GET", R_VIDEOS, "/api/videos", a, NULL, 200);
    expect("GET", R_VIDEOS, "/api/videos", b, NULL, 200);
    /* a page of one: next_cursor is a string, and following it works */
    tp_http_resp r = call("GET", R_VIDEOS, "/api/videos?limit=1", a, NULL, 0, 200);
    json_object *j = tj_parse(r.body);
    const char *next = tj_str(j, "next_cursor");
    CU_ASSERT_PTR_NOT_NULL(next);
    if (next) {
        char path[4096];
        snprintf(path, sizeof path, "/api/videos?limit=1&cursor=%s", next);
        expect("GET", R_VIDEOS, path, a, NULL, 200);
    }
    json_object_put(j);
    tp_http_free(&r);
    expect("GET", R_VIDEOS, "/api/videos?limit=0", a, NULL, 400);
    expect("GET", R_VIDEOS, "/api/videos?limit=101", a, NULL, 400);
    expect("GET", R_VIDEOS, "/api/videos?cursor=not-a-cursor", a, NULL, 400);
    expect("GET", R_VIDEOS, "/api/videos?colour=red", a, NULL, 400);
    expect("GET", R_VIDEOS, "/api/videos", NULL, NULL, 401);
    char *bad[] = {"Authorization: Bearer a.b.c", NULL};
    expect("GET", R_VIDEOS, "/api/videos", bad, NULL, 401);
    expect("DELETE", R_VIDEOS, "/api/videos", a, NULL, 405);
    expect("POST", R_VIDEOS, "/api/videos", a, "{}", 405);
}

static void test_video_info(void)
{
    char *a[] = {alice, NULL}, *b[] = {bob, NULL};
    tp_http_resp r = call("GET", R_VIDEO, "/api/videos/vid1", a, NULL, 0, 200);
    char etag[64], inm[96];
    header_value(&r, "etag", etag, sizeof etag);
    CU_ASSERT_TRUE(etag[0] == '"');
    json_object *j = tj_parse(r.body);
    json_object *clips = NULL;
    CU_ASSERT_TRUE(json_object_object_get_ex(j, "clips", &clips) &&
                   json_object_array_length(clips) == 2);
    json_object_put(j);
    tp_http_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    char *cond[] = {alice, inm, NULL};
    expect("GET", R_VIDEO, "/api/videos/vid1", cond, NULL, 304);
    expect("GET", R_VIDEO, "/api/videos/vid2", a, NULL, 200); /* sparse: nulls */
    expect("GET", R_VIDEO, "/api/videos/vidb", b, NULL, 200); /* no clips, no stats */
    expect("GET", R_VIDEO, "/api/videos/vid1", b, NULL, 404); /* another user's */
    expect("GET", R_VIDEO, "/api/videos/nosuch", a, NULL, 404);
    expect("GET", R_VIDEO, "/api/videos/a.b", a, NULL, 400);
    expect("GET", R_VIDEO, "/api/videos/caf%C3%A9", a, NULL, 400);
    expect("GET", R_VIDEO, "/api/videos/vid1?x=1", a, NULL, 400);
    expect("GET", R_VIDEO, "/api/videos/vid1", NULL, NULL, 401);
    expect("PUT", R_VIDEO, "/api/videos/vid1", a, "{}", 405);
}

static void test_clips_list(void)
{
    char *a[] = {alice, NULL}, *b[] = {bob, NULL};
    expect("GET", R_CLIPS, "/api/videos/vid1/clips", a, NULL, 200);
    expect("GET", R_CLIPS, "/api/videos/vid1/clips?status=failed", a, NULL, 200); /* with error */
    expect("GET", R_CLIPS, "/api/videos/vid1/clips?style=square&scene_id=4", a, NULL, 200);
    expect("GET", R_CLIPS, "/api/videos/vid2/clips", a, NULL, 200); /* a video without clips */
    tp_http_resp r = call("GET", R_CLIPS, "/api/videos/vid1/clips?limit=1", a, NULL, 0, 200);
    json_object *j = tj_parse(r.body);
    const char *next = tj_str(j, "next_cursor");
    CU_ASSERT_PTR_NOT_NULL(next);
    if (next) {
        char path[4096];
        snprintf(path, sizeof path, "/api/videos/vid1/clips?limit=1&cursor=%s", next);
        expect("GET", R_CLIPS, path, a, NULL, 200);
    }
    json_object_put(j);
    tp_http_free(&r);
    expect("GET", R_CLIPS, "/api/videos/vid1/clips?status=done", a, NULL, 400);
    expect("GET", R_CLIPS, "/api/videos/vid1/clips?style=Vertical", a, NULL, 400);
    expect("GET", R_CLIPS, "/api/videos/vid1/clips?scene_id=-1", a, NULL, 400);
    expect("GET", R_CLIPS, "/api/videos/vid1/clips?limit=1001", a, NULL, 400);
    expect("GET", R_CLIPS, "/api/videos/vid1/clips?cursor=bogus", a, NULL, 400);
    expect("GET", R_CLIPS, "/api/videos/vid1/clips", NULL, NULL, 401);
    expect("GET", R_CLIPS, "/api/videos/vid1/clips", b, NULL, 404);
    expect("PATCH", R_CLIPS, "/api/videos/vid1/clips", a, "{}", 405);
}

static void test_clip_link(void)
{
    char *a[] = {alice, NULL}, *b[] = {bob, NULL};
    tp_http_resp r =
        call("GET", R_CLIP, "/api/videos/vid1/clips/clip_3_vertical.mp4", a, NULL, 0, 302);
    char loc[2048];
    header_value(&r, "location", loc, sizeof loc);
    CU_ASSERT_TRUE(strncmp(loc, "http://127.0.0.1:", 17) == 0);
    tp_http_free(&r);
    expect("GET", R_CLIP, "/api/videos/vid1/clips/clip_3_vertical.mp4?download=1", a, NULL, 302);
    expect("GET", R_CLIP, "/api/videos/vid1/clips/clip_3_vertical.mp4?redirect=0", a, NULL, 200);
    expect("GET", R_CLIP, "/api/videos/vid1/clips/clip_3_vertical.mp4?download=yes", a, NULL, 400);
    expect("GET", R_CLIP, "/api/videos/vid1/clips/.hidden", a, NULL, 400);
    expect("GET", R_CLIP, "/api/videos/vid1/clips/..%2fetc", a, NULL, 400);
    expect("GET", R_CLIP, "/api/videos/vid1/clips/clip_3_vertical.mp4", NULL, NULL, 401);
    expect("GET", R_CLIP, "/api/videos/vid1/clips/clip_9_vertical.mp4", a, NULL, 404);
    expect("GET", R_CLIP, "/api/videos/vid1/clips/clip_2_vertical.mp4", a, NULL,
           404); /* not ready */
    expect("GET", R_CLIP, "/api/videos/vid1/clips/clip_3_vertical.mp4", b, NULL, 404);
    expect("DELETE", R_CLIP, "/api/videos/vid1/clips/clip_3_vertical.mp4", a, NULL, 405);
}

/* ---- health, metrics, limits ------------------------------------------------------------------
 */

static void test_health_and_metrics(void)
{
    expect("GET", "/healthz", "/healthz", NULL, NULL, 200);
    expect("GET", "/api/healthz", "/api/healthz", NULL, NULL, 200);
    expect("POST", "/healthz", "/healthz", NULL, "{}", 405);
    expect("GET", "/readyz", "/readyz", NULL, NULL, 200);
    expect("DELETE", "/readyz", "/readyz", NULL, NULL, 405);
    expect("GET", "/metrics", "/metrics", NULL, NULL, 200);
    expect("PUT", "/metrics", "/metrics", NULL, "x", 405);
    /* paths the API does not have: the generic JSON 404 (from the pool and from nginx) */
    expect("GET", NULL, "/api/nothing-here", NULL, NULL, 404);
    expect("GET", NULL, "/not-the-api", NULL, NULL, 404);
}

static void test_body_limits(void)
{
    char *a[] = {alice, NULL};
    /* over the pool's request_body_max but within nginx's: the pool's 413 */
    size_t n = POOL_BODY_MAX + 1000;
    char *big = malloc(NGINX_BODY_OVER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'x', NGINX_BODY_OVER);
    tp_http_resp r = call("GET", R_VIDEOS, "/api/videos", a, big, n, 413); /* before routing */
    tp_http_free(&r);
    char *h[] = {svc, "Content-Type: application/json", NULL};
    r = call("PUT", "/api/internal/users/{uid}/videos/{video_id}",
             "/api/internal/users/alice/videos/vid9", h, big, n, 413);
    tp_http_free(&r);
    /* over nginx's client_max_body_size: nginx's own JSON 413 */
    r = call("PUT", "/api/internal/users/{uid}/videos/{video_id}",
             "/api/internal/users/alice/videos/vid9", h, big, NGINX_BODY_OVER, 413);
    tp_http_free(&r);
    free(big);
}

/* ---- live updates -----------------------------------------------------------------------------
 */

#define R_TICKET "/api/videos/{video_id}/events-ticket"
#define R_EVENTS "/api/videos/{video_id}/events"

static void test_events(void)
{
    char *a[] = {alice, NULL}, *b[] = {bob, NULL};
    tp_http_resp r = call("POST", R_TICKET, "/api/videos/vid1/events-ticket", a, "", 0, 200);
    json_object *j = tj_parse(r.body);
    char stream[1024] = "";
    if (tj_str(j, "url"))
        snprintf(stream, sizeof stream, "%s", tj_str(j, "url"));
    json_object_put(j);
    tp_http_free(&r);
    expect("POST", R_TICKET, "/api/videos/vid1/events-ticket", b, "", 404);
    expect("POST", R_TICKET, "/api/videos/vid1/events-ticket", NULL, "", 401);
    expect("POST", R_TICKET, "/api/videos/vid1/events-ticket?x=1", a, "", 400);
    expect("POST", R_TICKET, "/api/videos/bad.id/events-ticket", a, "", 400);
    expect("PUT", R_TICKET, "/api/videos/vid1/events-ticket", a, "", 405);

    /* the stream itself: its first bytes within a second, then the client leaves */
    char *es[] = {"Accept: text/event-stream", NULL};
    char url[1200];
    snprintf(url, sizeof url, "%s%s", F.st.url, stream);
    r = (tp_http_resp){0};
    int rc = tp_http_stream(url, es, 1000, &r);
    check_and_record("GET", R_EVENTS, stream, rc, &r, 200);
    char ct[128];
    header_value(&r, "content-type", ct, sizeof ct);
    UNIT_ASSERT_STR(ct, "text/event-stream; charset=utf-8");
    tp_http_free(&r);
    char *token_es[] = {alice, "Accept: text/event-stream", NULL};
    snprintf(url, sizeof url, "%s/api/videos/vid1/events", F.st.url);
    rc = tp_http_stream(url, token_es, 1000, &r);
    check_and_record("GET", R_EVENTS, "/api/videos/vid1/events", rc, &r, 200);
    tp_http_free(&r);

    char path[1400];
    snprintf(path, sizeof path, "%s&last_event_id=1:0", stream);
    expect("GET", R_EVENTS, path, es, NULL, 400);
    char *json_accept[] = {"Accept: application/json", NULL};
    expect("GET", R_EVENTS, stream, json_accept, NULL, 400);
    expect("GET", R_EVENTS, "/api/videos/vid1/events", es, NULL, 401);
    expect("GET", R_EVENTS, "/api/videos/vid1/events?ticket=x.y.1.z", es, NULL, 401);
    char *bob_es[] = {bob, "Accept: text/event-stream", NULL};
    expect("GET", R_EVENTS, "/api/videos/vid1/events", bob_es, NULL, 404);
    expect("HEAD", R_EVENTS, stream, es, NULL, 405);
    expect("POST", R_EVENTS, stream, es, "", 405);
}

/* ---- internal endpoints -----------------------------------------------------------------------
 */

#define R_IVIDEO "/api/internal/users/{uid}/videos/{video_id}"
#define R_ICLIP "/api/internal/users/{uid}/videos/{video_id}/clips/{clip_id}"
#define R_ISTATS "/api/internal/users/{uid}/videos/{video_id}/stats"
#define R_IUPLOAD "/api/internal/users/{uid}/videos/{video_id}/clips/{clip_id}/upload-urls"

static void expect_write(const char *method, const char *route, const char *path, const char *body,
                         long want)
{
    char *h[] = {svc, "Content-Type: application/json", NULL};
    expect(method, route, path, h, body, want);
}

static void test_internal(void)
{
    const char *vp = "/api/internal/users/carol/videos/cv1";
    const char *cp = "/api/internal/users/carol/videos/cv1/clips/clip_1_vertical";
    const char *sp = "/api/internal/users/carol/videos/cv1/stats";
    const char *up = "/api/internal/users/carol/videos/cv1/clips/clip_1_vertical/upload-urls";
    const char *routes[] = {R_IVIDEO, R_ICLIP, R_ICLIP, R_ISTATS, R_IUPLOAD};
    const char *paths[] = {vp, cp, cp, sp, up};
    const char *methods[] = {"PUT", "PUT", "PATCH", "POST", "POST"};
    char *none[] = {"Content-Type: application/json", NULL};
    char *wrong[] = {"Authorization: Bearer not-the-key", "Content-Type: application/json", NULL};
    char *user[] = {alice, "Content-Type: application/json", NULL};
    for (size_t i = 0; i < 5; i++) {
        expect(methods[i], routes[i], paths[i], none, "{}", 401);
        expect(methods[i], routes[i], paths[i], wrong, "{}", 401);
        expect(methods[i], routes[i], paths[i], user, "{}",
               401); /* an ID token is no service key */
    }
    /* path parameters are checked before the key */
    expect("PUT", R_IVIDEO, "/api/internal/users/a.b/videos/cv1", none, "{}", 400);
    expect("PUT", R_ICLIP, "/api/internal/users/carol/videos/cv1/clips/x%2Fy", none, "{}", 400);
    char *h[] = {svc, "Content-Type: application/json", NULL};
    expect("GET", R_IVIDEO, vp, h, NULL, 405);
    expect("DELETE", R_ICLIP, cp, h, NULL, 405);
    expect("GET", R_ISTATS, sp, h, NULL, 405);
    expect("PUT", R_IUPLOAD, up, h, "{}", 405);

    /* the write path, in the workflow's order */
    expect_write(
        "PUT", R_IVIDEO, vp,
        "{\"video_url\":\"https://youtube.com/watch?v=xyz\",\"video_title\":\"Carol's talk\","
        "\"status\":\"processing\",\"styles_processed\":[\"vertical\"],\"crop_mode\":\"smart\","
        "\"target_aspect\":\"9:16\",\"highlights\":[{\"id\":1,\"title\":\"Opening\","
        "\"start\":\"00:00:05\",\"end\":\"00:00:35.5\",\"hook_category\":\"funny\"}]}",
        201);
    expect_write("PUT", R_IVIDEO, vp, "{\"custom_prompt\":null,\"youtube_id\":\"xyz\"}", 200);
    expect_write("PUT", R_IVIDEO, vp, "{\"status\":\"done\"}", 400);
    expect_write("PUT", R_IVIDEO, vp, "{\"colour\":\"red\"}", 400);
    expect_write("PUT", R_IVIDEO, vp, "{not json", 400);
    expect_write("PUT", R_IVIDEO, "/api/internal/users/carol/videos/cv1?dry_run=1", "{}", 400);
    expect_write("PUT", R_IVIDEO, vp,
                 "{\"highlights_summary\":{\"total_duration\":1},\"highlights\":[]}", 400);
    const char *clip = "{\"scene_id\":1,\"scene_title\":\"Opening\",\"style\":\"vertical\","
                       "\"start_time\":\"00:00:05\",\"end_time\":\"00:00:35.5\",\"priority\":1}";
    expect_write("PUT", R_ICLIP, cp, clip, 201);
    expect_write("PUT", R_ICLIP, cp, clip, 200); /* the same create again */
    expect_write("PUT", R_ICLIP, cp,
                 "{\"scene_id\":2,\"scene_title\":\"Opening\",\"style\":\"vertical\","
                 "\"start_time\":\"00:00:05\",\"end_time\":\"00:00:35.5\",\"priority\":1}",
                 409); /* another clip under the same id */
    expect_write("PUT", R_ICLIP, cp, "{\"scene_id\":-1}", 400);
    expect_write("PUT", R_ICLIP, cp, "{\"style\":\"vertical\"}", 400);
    expect_write("POST", R_IUPLOAD, up, "{}", 200);
    expect_write("POST", R_IUPLOAD, up,
                 "{\"filename\":\"clip_1_vertical.webm\",\"expires_in\":600}", 200);
    expect_write("POST", R_IUPLOAD, up, "{\"expires_in\":0}", 400);
    expect_write("PATCH", R_ICLIP, cp,
                 "{\"status\":\"completed\",\"file_size_bytes\":1048576,\"has_thumbnail\":true}",
                 200);
    expect_write("PATCH", R_ICLIP, cp, "{\"status\":\"failed\",\"error\":\"ffmpeg exited with 1\"}",
                 200);
    expect_write("PATCH", R_ICLIP, cp, "{\"status\":\"finished\"}", 400);
    expect_write("PATCH", R_ICLIP, cp, "{\"file_size_bytes\":1}", 400);
    expect_write("PATCH", R_ICLIP, "/api/internal/users/carol/videos/cv1/clips/clip_9_vertical",
                 "{\"status\":\"completed\"}", 404);
    expect_write("POST", R_ISTATS, sp, "", 200);
    expect_write("POST", R_ISTATS, sp, "{}", 200);
    expect_write("POST", R_ISTATS, sp, "{\"total\":1}", 400);
    expect_write("POST", R_ISTATS, "/api/internal/users/carol/videos/nosuch/stats", "", 404);
    /* the user API sees what the workflow wrote */
    char *c[] = {carol, NULL};
    expect("GET", R_VIDEO, "/api/videos/cv1", c, NULL, 200);
}

/* ---- backend failures (the emulator's fault rules) ---------------------------------------------
 */

static int emulator_faults(const char *method, const char *json)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/emulator/v1/faults", F.fs.port);
    tp_http_resp r;
    int rc = tp_http(method, url, NULL, json, json ? strlen(json) : 0, &r);
    rc = rc == 0 && r.status == 200 ? 0 : -1;
    tp_http_free(&r);
    return rc;
}

/* Every Firestore call answers as the rule says while `path` is asked for. */
static void under_fault(const char *rule, const char *method, const char *route, const char *path,
                        char *const headers[], const char *body, long want)
{
    CU_ASSERT_EQUAL_FATAL(emulator_faults("POST", rule), 0);
    expect(method, route, path, headers, body, want);
    CU_ASSERT_EQUAL(emulator_faults("DELETE", NULL), 0);
}

static void test_backend_faults(void)
{
    if (fsemu_ours_only(__func__, "fault rules"))
        return;
    char *a[] = {alice, NULL};
    char *h[] = {svc, "Content-Type: application/json", NULL};
    /* refused credentials are our deployment's problem: 502 */
    under_fault("{\"match\":\"\",\"times\":-1,\"action\":\"status\",\"status\":403}", "GET",
                R_VIDEO, "/api/videos/vid1", a, NULL, 502);
    /* a request Firestore calls invalid is our bug: 500, details only in the log */
    under_fault("{\"match\":\"\",\"times\":-1,\"action\":\"status\",\"status\":400}", "GET",
                R_CLIPS, "/api/videos/vid1/clips", a, NULL, 500);
    /* a failed precondition: 409 */
    under_fault("{\"match\":\"\",\"times\":-1,\"action\":\"status\",\"status\":400,"
                "\"grpcStatus\":\"FAILED_PRECONDITION\",\"message\":\"precondition\"}",
                "PUT", R_IVIDEO, "/api/internal/users/carol/videos/cv3", h,
                "{\"status\":\"queued\"}", 409);
    /* quota: 429 once the retries are spent */
    under_fault("{\"match\":\"\",\"times\":-1,\"action\":\"status\",\"status\":429}", "GET",
                R_VIDEOS, "/api/videos", a, NULL, 429);
    /* slower than firestore_timeout_ms (2000): 504 */
    under_fault("{\"match\":\"\",\"times\":-1,\"action\":\"delay\",\"ms\":3000}", "GET", R_CLIP,
                "/api/videos/vid1/clips/clip_3_vertical.mp4", a, NULL, 504);
}

/* ---- the legacy layout (metadata_source, CONTRACT section 6): "source":"r2" answers ------------
 */

static void restart_pool(const char *source)
{
    char extra[160];
    snprintf(extra, sizeof extra, "request_body_max = %d\nmetadata_source = %s\n", POOL_BODY_MAX,
             source);
    CU_ASSERT_EQUAL_FATAL(fullstack_restart_pool(&F, 2, extra), 0);
}

static void test_legacy_source(void)
{
    static const char highlights[] =
        "{\"video_title\":\"An old talk\",\"video_url\":\"https://youtube.com/watch?v=old\","
        "\"highlights\":[{\"id\":3,\"title\":\"The punchline\",\"description\":\"It lands\","
        "\"priority\":1,\"start\":\"00:01:02.5\",\"end\":\"00:01:31\",\"duration\":28.5,"
        "\"hook_category\":\"funny\"},{\"id\":4,\"title\":\"The end\",\"description\":null,"
        "\"priority\":2,\"start\":\"00:02:00\",\"end\":\"00:02:20\",\"duration\":20,"
        "\"hook_category\":\"insightful\"}]}";
    CU_ASSERT_EQUAL_FATAL(fullstack_s3_put(&F, "alice/leg1/highlights.json", highlights,
                                           strlen(highlights), "application/json"),
                          0);
    CU_ASSERT_EQUAL(
        fullstack_s3_put(&F, "alice/leg1/clips/clip_3_vertical.mp4", "MP4-L3", 6, "video/mp4"), 0);
    CU_ASSERT_EQUAL(fullstack_s3_put(&F, "alice/leg1/thumbnails/clip_3_vertical.jpg", "JPG-L3", 6,
                                     "image/jpeg"),
                    0);
    CU_ASSERT_EQUAL(
        fullstack_s3_put(&F, "alice/leg1/clips/clip_4_square.mp4", "MP4-L4", 6, "video/mp4"), 0);
    char *a[] = {alice, NULL}, *b[] = {bob, NULL};
    restart_pool("firestore+r2");
    /* no video document: the legacy layout answers */
    tp_http_resp r = call("GET", R_VIDEO, "/api/videos/leg1", a, NULL, 0, 200);
    json_object *j = tj_parse(r.body);
    CU_ASSERT_STRING_EQUAL(tj_str(j, "source") ? tj_str(j, "source") : "", "r2");
    json_object_put(j);
    tp_http_free(&r);
    expect("GET", R_VIDEO, "/api/videos/vid1", a, NULL, 200); /* a document: Firestore */
    expect("GET", R_VIDEO, "/api/videos/leg1", b, NULL, 404);
    expect("GET", R_CLIPS, "/api/videos/leg1/clips", a, NULL, 200);
    r = call("GET", R_CLIPS, "/api/videos/leg1/clips?limit=1", a, NULL, 0, 200);
    j = tj_parse(r.body);
    const char *next = tj_str(j, "next_cursor");
    CU_ASSERT_PTR_NOT_NULL(next);
    if (next) {
        char path[4096];
        snprintf(path, sizeof path, "/api/videos/leg1/clips?limit=1&cursor=%s", next);
        expect("GET", R_CLIPS, path, a, NULL, 200);
    }
    json_object_put(j);
    tp_http_free(&r);
    expect("GET", R_CLIP, "/api/videos/leg1/clips/clip_3_vertical.mp4", a, NULL, 302);
    expect("GET", R_CLIP, "/api/videos/leg1/clips/clip_9_vertical.mp4", a, NULL, 404);
    restart_pool("r2");
    expect("GET", R_VIDEO, "/api/videos/leg1", a, NULL, 200);
    expect("GET", R_CLIPS, "/api/videos/leg1/clips?style=square", a, NULL, 200);
    expect("GET", R_CLIP, "/api/videos/leg1/clips/clip_4_square.mp4?redirect=0", a, NULL, 200);
    expect("GET", R_VIDEO, "/api/videos/vid2", a, NULL, 404); /* phase r2: documents are not read */
    restart_pool("firestore");
}

/* Last: the emulator is stopped for good. */
static void test_firestore_down(void)
{
    if (fsemu_ours_only(__func__, "stops the emulator"))
        return;
    char *a[] = {alice, NULL};
    tp_stop(&F.fs.proc, SIGKILL, 5000);
    expect("GET", R_VIDEO, "/api/videos/vid1", a, NULL, 503);
    expect("GET", R_VIDEOS, "/api/videos", a, NULL, 503);
    expect("GET", "/readyz", "/readyz", NULL, NULL, 503);
    char *h[] = {svc, "Content-Type: application/json", NULL};
    expect("PUT", R_IVIDEO, "/api/internal/users/carol/videos/cv2", h, "{\"status\":\"queued\"}",
           503);
    expect("POST", R_ISTATS, "/api/internal/users/carol/videos/cv1/stats", h, "", 503);
    expect("GET", "/healthz", "/healthz", NULL, NULL, 200);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_videos_list),
                           UNIT_TEST(test_video_info),
                           UNIT_TEST(test_clips_list),
                           UNIT_TEST(test_clip_link),
                           UNIT_TEST(test_health_and_metrics),
                           UNIT_TEST(test_body_limits),
                           UNIT_TEST(test_events),
                           UNIT_TEST(test_internal),
                           UNIT_TEST(test_backend_faults),
                           UNIT_TEST(test_legacy_source),
                           UNIT_TEST(test_firestore_down),
                           CU_TEST_INFO_NULL};
    return unit_run("openapi_responses", tests, start, stop);
}
