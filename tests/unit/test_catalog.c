/* Tests of core/catalog, the read policy, against scripted Firestore and R2 answers: every phase
 * of metadata_source, the legacy fallback (a missing document, Firestore down), the legacy
 * cursors, and the clip file of a link; which backend each read asked is counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "metrics.h"
#include "scripted.h"
#include "unit.h"

static scripted S;

#define DOCS "/v1/" SC_ROOT
#define V1 DOCS "/users/u1/videos/v1"
#define TIMES ",\"createTime\":\"2026-11-24T10:00:00Z\",\"updateTime\":\"2026-11-24T10:00:01Z\""

static const char video_doc[] =
    "{\"name\":\"" SC_ROOT "/users/u1/videos/v1\",\"fields\":{"
    "\"video_id\":{\"stringValue\":\"v1\"},\"user_id\":{\"stringValue\":\"u1\"},"
    "\"video_title\":{\"stringValue\":\"From Firestore\"},"
    "\"status\":{\"stringValue\":\"completed\"}}" TIMES "}";

#define CLIP_DOC(id, scene, prio)                                                                  \
    "{\"document\":{\"name\":\"" SC_ROOT "/users/u1/videos/v1/clips/" id "\",\"fields\":{"       \
    "\"clip_id\":{\"stringValue\":\"" id "\"},\"filename\":{\"stringValue\":\"" id ".mp4\"},"      \
    "\"scene_id\":{\"integerValue\":\"" #scene "\"},\"priority\":{\"integerValue\":\"" #prio "\"},"\
    "\"style\":{\"stringValue\":\"vertical\"},\"status\":{\"stringValue\":\"completed\"},"         \
    "\"r2_key\":{\"stringValue\":\"u1/v1/clips/" id ".mp4\"}}" TIMES "},"                          \
    "\"readTime\":\"2026-11-24T10:00:02Z\"}"

static const char two_clips[] =
    "[" CLIP_DOC("clip_1_vertical", 1, 1) "," CLIP_DOC("clip_2_vertical", 2, 1) "]";
static const char no_clips[] = "[{\"readTime\":\"2026-11-24T10:00:02Z\"}]";

static const char clip_doc[] =
    "{\"name\":\"" SC_ROOT "/users/u1/videos/v1/clips/clip_1_vertical\",\"fields\":{"
    "\"filename\":{\"stringValue\":\"clip_1_vertical.mp4\"},"
    "\"status\":{\"stringValue\":\"completed\"},"
    "\"r2_key\":{\"stringValue\":\"u1/v1/clips/clip_1_vertical.mp4\"}}" TIMES "}";

/* The legacy layout of u1/v1: highlights.json and three clip files, no thumbnails. */
static const char highlights[] =
    "{\"video_title\":\"From R2\",\"video_url\":\"https://example.com/v\",\"highlights\":["
    "{\"id\":1,\"title\":\"One\",\"priority\":1,\"start\":\"0\",\"end\":\"10\"},"
    "{\"id\":2,\"title\":\"Two\",\"priority\":1,\"start\":\"10\",\"end\":\"20\"},"
    "{\"id\":3,\"title\":\"Three\",\"priority\":2,\"start\":\"20\",\"end\":\"30\"}]}";

#define OBJ(key)                                                                                   \
    "<Contents><Key>" key "</Key><LastModified>2026-11-20T10:00:00.000Z</LastModified>"           \
    "<Size>1048576</Size></Contents>"
static const char clip_files[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>clips</Name>"
    "<IsTruncated>false</IsTruncated>" OBJ("u1/v1/clips/clip_1_vertical.mp4")
        OBJ("u1/v1/clips/clip_2_vertical.mp4") OBJ("u1/v1/clips/clip_3_vertical.mp4")
            "</ListBucketResult>";
static const char nothing[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>clips</Name>"
    "<IsTruncated>false</IsTruncated></ListBucketResult>";
/* the user scan: the same files under u1/ */
static const char user_files[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>clips</Name>"
    "<IsTruncated>false</IsTruncated>" OBJ("u1/v1/highlights.json")
        OBJ("u1/v1/clips/clip_1_vertical.mp4") OBJ("u1/v1/clips/clip_2_vertical.mp4")
            OBJ("u1/v1/clips/clip_3_vertical.mp4") "</ListBucketResult>";

#define R2_LEGACY                                                                                  \
    {"GET", "/clips/u1/v1/highlights.json", 200, highlights, NULL},                                \
        {"GET", "prefix=u1%2Fv1%2Fclips%2F", 200, clip_files, NULL},                               \
        {"GET", "prefix=u1%2Fv1%2Fthumbnails%2F", 200, nothing, NULL}

static catalog in_phase(cfg_source src)
{
    catalog c = {S.fs, S.r2, src};
    return c;
}

static void dump_log(void)
{
    for (size_t i = 0; i < S.nlog; i++)
        fprintf(stderr, "  request %zu: %s\n", i, S.log[i]);
}

static int init(void)
{
    return sc_start(&S) != 0 || metrics_init() != 0;
}

static int clean(void)
{
    metrics_free();
    sc_stop(&S);
    return 0;
}

/* clipapi_fallbacks_total as rendered. */
static long long fallbacks(void)
{
    buf_t b = BUF_INIT;
    metrics_render(&b);
    const char *p = b.p ? strstr(b.p, "\nclipapi_fallbacks_total ") : NULL;
    long long n = p ? strtoll(p + strlen("\nclipapi_fallbacks_total "), NULL, 10) : -1;
    buf_free(&b);
    return n;
}

static void test_video_firestore(void)
{
    const sc_rule rules[] = {{"GET", "/users/u1/videos/v1", 200, video_doc, NULL},
                             {"POST", "/users/u1/videos/v1:runQuery", 200, two_clips, NULL}};
    sc_script(&S, rules, 2);
    arena_t a;
    arena_init(&a, 0);
    catalog_video v;
    char err[256] = "";
    catalog c = in_phase(CFG_SOURCE_FIRESTORE);
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(v.from, CATALOG_FIRESTORE);
    UNIT_ASSERT_STR(v.video.video_title, "From Firestore");
    CU_ASSERT_EQUAL_FATAL(v.nclips, 2);
    UNIT_ASSERT_STR(v.clips[1].clip_id, "clip_2_vertical");
    UNIT_ASSERT_STR(catalog_source_name(v.from), "firestore");
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/clips/"), 0); /* R2 is never asked */
    /* no document: 404, and still no R2 in this phase */
    const sc_rule missing[] = {{"GET", "/users/u1/videos/v1", 404, SC_NOT_FOUND, NULL},
                               {"POST", ":runQuery", 200, no_clips, NULL}};
    sc_script(&S, missing, 2);
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err), CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no video v1");
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/clips/"), 0);
    /* Firestore down: the error, not the legacy layout */
    const sc_rule down[] = {{"GET", "/users/", 503, SC_UNAVAILABLE, NULL},
                            {"POST", ":runQuery", 503, SC_UNAVAILABLE, NULL}};
    sc_script(&S, down, 2);
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err),
                    CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/clips/"), 0);
    arena_free(&a);
}

static void check_legacy_video(const catalog_video *v)
{
    CU_ASSERT_EQUAL(v->from, CATALOG_R2);
    UNIT_ASSERT_STR(catalog_source_name(v->from), "r2");
    UNIT_ASSERT_STR(v->video.video_title, "From R2");
    CU_ASSERT_EQUAL_FATAL(v->nclips, 3);
    UNIT_ASSERT_STR(v->clips[0].filename, "clip_1_vertical.mp4");
    UNIT_ASSERT_STR(v->clips[0].scene_title, "One");
    UNIT_ASSERT_STR(v->clips[0].r2_key, "u1/v1/clips/clip_1_vertical.mp4");
    UNIT_ASSERT_STR(v->clips[2].filename, "clip_3_vertical.mp4");
}

static void test_video_phase_r2(void)
{
    const sc_rule rules[] = {R2_LEGACY};
    sc_script(&S, rules, 3);
    arena_t a;
    arena_init(&a, 0);
    catalog_video v;
    char err[256] = "";
    catalog c = in_phase(CFG_SOURCE_R2);
    long long before = fallbacks();
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err), CLIP_OK);
    check_legacy_video(&v);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/v1/projects/"), 0); /* Firestore is never asked */
    CU_ASSERT_EQUAL(sc_count(&S, "POST", "/v1/projects/"), 0);
    CU_ASSERT_EQUAL(fallbacks(), before); /* the phase itself, not a fallback */
    /* no such video in R2 */
    const sc_rule none[] = {{"GET", "highlights.json", 404, "<Error><Code>NoSuchKey</Code></Error>",
                             NULL},
                            {"GET", "prefix=", 200, nothing, NULL}};
    sc_script(&S, none, 2);
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err), CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no video v1");
    /* no R2 configured */
    catalog nor2 = {S.fs, NULL, CFG_SOURCE_R2};
    CU_ASSERT_EQUAL(catalog_get_video(&nor2, &a, "u1", "v1", &v, err, sizeof err),
                    CLIP_EUNAVAILABLE);
    UNIT_ASSERT_STR(err, "r2: not configured");
    arena_free(&a);
}

static void test_video_fallback(void)
{
    arena_t a;
    arena_init(&a, 0);
    catalog_video v;
    char err[256] = "";
    catalog c = in_phase(CFG_SOURCE_FIRESTORE_R2);
    /* the document is missing: the legacy layout answers, logged and counted */
    const sc_rule missing[] = {{"GET", "/users/u1/videos/v1", 404, SC_NOT_FOUND, NULL},
                               {"POST", ":runQuery", 200, no_clips, NULL}, R2_LEGACY};
    sc_script(&S, missing, 5);
    long long before = fallbacks();
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err), CLIP_OK);
    check_legacy_video(&v);
    CU_ASSERT_EQUAL(fallbacks(), before + 1);
    /* the document is there: Firestore answers, R2 is not asked */
    const sc_rule found[] = {{"GET", "/users/u1/videos/v1", 200, video_doc, NULL},
                             {"POST", ":runQuery", 200, two_clips, NULL}, R2_LEGACY};
    sc_script(&S, found, 5);
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(v.from, CATALOG_FIRESTORE);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/clips/"), 0);
    CU_ASSERT_EQUAL(fallbacks(), before + 1);
    /* Firestore down: the legacy layout is complete in this phase, it answers */
    const sc_rule down[] = {{"GET", "/v1/projects/", 503, SC_UNAVAILABLE, NULL},
                            {"POST", ":runQuery", 503, SC_UNAVAILABLE, NULL}, R2_LEGACY};
    sc_script(&S, down, 5);
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err), CLIP_OK);
    check_legacy_video(&v);
    CU_ASSERT_EQUAL(fallbacks(), before + 2);
    /* the document read, its clips not: an error, as before the one round trip (the video
     * exists in Firestore, so it is not answered from the legacy layout) */
    const sc_rule half[] = {{"GET", "/users/u1/videos/v1", 200, video_doc, NULL},
                            {"POST", ":runQuery", 503, SC_UNAVAILABLE, NULL}, R2_LEGACY};
    sc_script(&S, half, 5);
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err),
                    CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/clips/"), 0);
    CU_ASSERT_EQUAL(fallbacks(), before + 2);
    /* missing in both */
    const sc_rule neither[] = {{"GET", "/users/u1/videos/v1", 404, SC_NOT_FOUND, NULL},
                               {"POST", ":runQuery", 200, no_clips, NULL},
                               {"GET", "highlights.json", 404, "", NULL},
                               {"GET", "prefix=", 200, nothing, NULL}};
    sc_script(&S, neither, 4);
    CU_ASSERT_EQUAL(catalog_get_video(&c, &a, "u1", "v1", &v, err, sizeof err), CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no video v1");
    arena_free(&a);
}

static void test_clips_legacy_cursors(void)
{
    const sc_rule rules[] = {R2_LEGACY};
    sc_script(&S, rules, 3);
    arena_t a;
    arena_init(&a, 0);
    clips_page p;
    char err[256] = "";
    catalog r2 = in_phase(CFG_SOURCE_R2);
    CU_ASSERT_EQUAL(catalog_list_clips(&r2, &a, "u1", "v1", NULL, 2, NULL, &p, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(&S, "POST", ":runQuery"), 0);
    CU_ASSERT_EQUAL_FATAL(p.n, 2);
    UNIT_ASSERT_STR(p.items[0].clip_id, "clip_1_vertical");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.next_cursor);
    const char *next = p.next_cursor;
    CU_ASSERT_EQUAL(catalog_list_clips(&r2, &a, "u1", "v1", NULL, 2, next, &p, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    UNIT_ASSERT_STR(p.items[0].clip_id, "clip_3_vertical");
    CU_ASSERT_PTR_NULL(p.next_cursor);
    /* a cursor is bound to its listing: other filters, another video, or made up: refused */
    clips_filter f = {NULL, "vertical", 0, 0};
    CU_ASSERT_EQUAL(catalog_list_clips(&r2, &a, "u1", "v1", &f, 2, next, &p, err, sizeof err),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "cursor: not one this listing gave");
    CU_ASSERT_EQUAL(catalog_list_clips(&r2, &a, "u2", "v1", NULL, 2, next, &p, err, sizeof err),
                    CLIP_EINVAL);
    CU_ASSERT_EQUAL(catalog_list_clips(&r2, &a, "u1", "v1", NULL, 2, "abc.def", &p, err,
                                       sizeof err),
                    CLIP_EINVAL);
    /* filters apply to the legacy clips too */
    clips_filter scene = {NULL, NULL, 1, 2};
    CU_ASSERT_EQUAL(catalog_list_clips(&r2, &a, "u1", "v1", &scene, 10, NULL, &p, err,
                                       sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    UNIT_ASSERT_STR(p.items[0].clip_id, "clip_2_vertical");
    /* in firestore+r2 a legacy cursor (which Firestore's listing refuses) pages on in R2 */
    const sc_rule both[] = {{"POST", ":runQuery", 200, no_clips, NULL},
                            {"GET", "/users/u1/videos/v1", 404, SC_NOT_FOUND, NULL}, R2_LEGACY};
    sc_script(&S, both, 5);
    catalog fr = in_phase(CFG_SOURCE_FIRESTORE_R2);
    CU_ASSERT_EQUAL(catalog_list_clips(&fr, &a, "u1", "v1", NULL, 2, next, &p, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    UNIT_ASSERT_STR(p.items[0].clip_id, "clip_3_vertical");
    CU_ASSERT_EQUAL(sc_count(&S, "POST", ":runQuery"), 0); /* refused before any query */
    /* no cursor, no clips and no video document: the legacy listing */
    CU_ASSERT_EQUAL(catalog_list_clips(&fr, &a, "u1", "v1", NULL, 2, NULL, &p, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(&S, "POST", ":runQuery"), 1);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/clips/u1/v1/highlights.json"), 2);
    CU_ASSERT_EQUAL(p.n, 2);
    /* in phase firestore the same is a 404 */
    catalog fs = in_phase(CFG_SOURCE_FIRESTORE);
    CU_ASSERT_EQUAL(catalog_list_clips(&fs, &a, "u1", "v1", NULL, 2, NULL, &p, err, sizeof err),
                    CLIP_ENOTFOUND);
    /* and a legacy cursor is a 400 there */
    CU_ASSERT_EQUAL(catalog_list_clips(&fs, &a, "u1", "v1", NULL, 2, next, &p, err, sizeof err),
                    CLIP_EINVAL);
    arena_free(&a);
}

static void test_clips_firestore(void)
{
    arena_t a;
    arena_init(&a, 0);
    clips_page p;
    char err[256] = "";
    catalog c = in_phase(CFG_SOURCE_FIRESTORE);
    /* one more than the limit: a next cursor of Firestore's own */
    const sc_rule page[] = {{"POST", "/users/u1/videos/v1:runQuery", 200, two_clips, NULL}};
    sc_script(&S, page, 1);
    CU_ASSERT_EQUAL(catalog_list_clips(&c, &a, "u1", "v1", NULL, 1, NULL, &p, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/clips/u1/"), 0);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    UNIT_ASSERT_STR(p.items[0].clip_id, "clip_1_vertical");
    CU_ASSERT_PTR_NOT_NULL(p.next_cursor);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", ""), 0); /* a page with clips needs no video read */
    /* an empty page of an existing video: empty, not a 404 */
    const sc_rule empty[] = {{"POST", ":runQuery", 200, no_clips, NULL},
                             {"GET", "/users/u1/videos/v1", 200, video_doc, NULL}};
    sc_script(&S, empty, 2);
    CU_ASSERT_EQUAL(catalog_list_clips(&c, &a, "u1", "v1", NULL, 10, NULL, &p, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(p.n, 0);
    CU_ASSERT_PTR_NULL(p.next_cursor);
    /* Firestore not configured */
    catalog nofs = {NULL, S.r2, CFG_SOURCE_FIRESTORE};
    CU_ASSERT_EQUAL(catalog_list_clips(&nofs, &a, "u1", "v1", NULL, 10, NULL, &p, err, sizeof err),
                    CLIP_EUNAVAILABLE);
    UNIT_ASSERT_STR(err, "firestore: not configured");
    arena_free(&a);
}

static void test_videos_list(void)
{
    arena_t a;
    arena_init(&a, 0);
    videos_page p;
    char err[256] = "";
    /* phase r2: the user's folders, each video's highlights.json */
    const sc_rule r2[] = {{"GET", "/clips/u1/v1/highlights.json", 200, highlights, NULL},
                          {"GET", "prefix=u1%2F", 200, user_files, NULL}};
    sc_script(&S, r2, 2);
    catalog c = in_phase(CFG_SOURCE_R2);
    CU_ASSERT_EQUAL(catalog_list_videos(&c, &a, "u1", 10, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(&S, "POST", ":runQuery"), 0);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    UNIT_ASSERT_STR(p.items[0].video_id, "v1");
    UNIT_ASSERT_STR(p.items[0].video_title, "From R2");
    CU_ASSERT_PTR_NULL(p.next_cursor);
    CU_ASSERT_EQUAL(sc_count(&S, "POST", "/v1/projects/"), 0);
    CU_ASSERT_EQUAL(catalog_list_videos(&c, &a, "u1", 10, "forged", &p, err, sizeof err),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "cursor: not one this listing gave");
    /* firestore+r2 lists Firestore only (an unmigrated video is reached by its id) */
    static const char listed[] =
        "[{\"document\":{\"name\":\"" SC_ROOT "/users/u1/videos/v9\",\"fields\":{"
        "\"video_title\":{\"stringValue\":\"Stored\"}}" TIMES "},\"readTime\":\"2026-11-24T10:00:02Z\"}]";
    const sc_rule fsr[] = {{"POST", "/users/u1:runQuery", 200, listed, NULL},
                           {"GET", "prefix=", 200, user_files, NULL}};
    sc_script(&S, fsr, 2);
    catalog both = in_phase(CFG_SOURCE_FIRESTORE_R2);
    CU_ASSERT_EQUAL(catalog_list_videos(&both, &a, "u1", 10, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "/clips/u1/"), 0);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    UNIT_ASSERT_STR(p.items[0].video_id, "v9");
    CU_ASSERT_EQUAL(sc_count(&S, "GET", "prefix="), 0);
    if (p.n != 1)
        dump_log();
    arena_free(&a);
}

static void test_clip_file(void)
{
    arena_t a;
    arena_init(&a, 0);
    clip_rec r;
    char err[256] = "";
    catalog c = in_phase(CFG_SOURCE_FIRESTORE);
    const sc_rule found[] = {{"GET", "/videos/v1/clips/clip_1_vertical", 200, clip_doc, NULL}};
    sc_script(&S, found, 1);
    CU_ASSERT_EQUAL(catalog_clip_file(&c, &a, "u1", "v1", "clip_1_vertical.mp4", &r, err,
                                      sizeof err),
                    CLIP_OK);
    UNIT_ASSERT_STR(r.r2_key, "u1/v1/clips/clip_1_vertical.mp4");
    /* the document names another file: no such clip */
    CU_ASSERT_EQUAL(catalog_clip_file(&c, &a, "u1", "v1", "clip_1_vertical.webm", &r, err,
                                      sizeof err),
                    CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no clip clip_1_vertical.webm in video v1");
    /* a name whose stem is not an id never reaches Firestore */
    sc_script(&S, found, 1);
    CU_ASSERT_EQUAL(catalog_clip_file(&c, &a, "u1", "v1", "a.b.c", &r, err, sizeof err),
                    CLIP_ENOTFOUND);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", ""), 0);
    /* firestore+r2: no clip and no video document: the legacy file, by a HEAD */
    const sc_rule legacy[] = {
        {"GET", "/clips/clip_2_vertical", 404, SC_NOT_FOUND, NULL},
        {"GET", "/users/u1/videos/v1", 404, SC_NOT_FOUND, NULL},
        {"HEAD", "/clips/u1/v1/clips/clip_2_vertical.mp4", 200, "",
         "Content-Length: 1048576\r\nContent-Type: video/mp4\r\n"},
        {"HEAD", "/clips/u1/v1/clips/", 404, "", NULL},
    };
    sc_script(&S, legacy, 4);
    catalog fr = in_phase(CFG_SOURCE_FIRESTORE_R2);
    long long before = fallbacks();
    CU_ASSERT_EQUAL(catalog_clip_file(&fr, &a, "u1", "v1", "clip_2_vertical.mp4", &r, err,
                                      sizeof err),
                    CLIP_OK);
    UNIT_ASSERT_STR(r.r2_key, "u1/v1/clips/clip_2_vertical.mp4");
    UNIT_ASSERT_STR(r.status, "completed");
    CU_ASSERT_EQUAL(fallbacks(), before + 1);
    /* a legacy name that is not there, or does not parse: 404 */
    CU_ASSERT_EQUAL(catalog_clip_file(&fr, &a, "u1", "v1", "clip_7_vertical.mp4", &r, err,
                                      sizeof err),
                    CLIP_ENOTFOUND);
    CU_ASSERT_EQUAL(catalog_clip_file(&fr, &a, "u1", "v1", "notes.mp4", &r, err, sizeof err),
                    CLIP_ENOTFOUND);
    /* no clip, but the video document exists: 404 without asking R2 */
    const sc_rule novideo[] = {{"GET", "/clips/clip_2_vertical", 404, SC_NOT_FOUND, NULL},
                               {"GET", "/users/u1/videos/v1", 200, video_doc, NULL},
                               {"HEAD", "/clips/", 200, "", NULL}};
    sc_script(&S, novideo, 3);
    CU_ASSERT_EQUAL(catalog_clip_file(&fr, &a, "u1", "v1", "clip_2_vertical.mp4", &r, err,
                                      sizeof err),
                    CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no clip clip_2_vertical.mp4 in video v1");
    CU_ASSERT_EQUAL(sc_count(&S, "HEAD", ""), 0);
    /* phase r2: R2 alone */
    sc_script(&S, legacy, 4);
    catalog r2 = in_phase(CFG_SOURCE_R2);
    CU_ASSERT_EQUAL(catalog_clip_file(&r2, &a, "u1", "v1", "clip_2_vertical.mp4", &r, err,
                                      sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(&S, "GET", ""), 0);
    /* phase firestore never asks R2 */
    sc_script(&S, legacy, 4);
    CU_ASSERT_EQUAL(catalog_clip_file(&c, &a, "u1", "v1", "clip_2_vertical.mp4", &r, err,
                                      sizeof err),
                    CLIP_ENOTFOUND);
    CU_ASSERT_EQUAL(sc_count(&S, "HEAD", ""), 0);
    arena_free(&a);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_video_firestore),     UNIT_TEST(test_video_phase_r2),
                           UNIT_TEST(test_video_fallback),      UNIT_TEST(test_clips_legacy_cursors),
                           UNIT_TEST(test_clips_firestore),     UNIT_TEST(test_videos_list),
                           UNIT_TEST(test_clip_file),           CU_TEST_INFO_NULL};
    return unit_run("catalog", tests, init, clean);
}
