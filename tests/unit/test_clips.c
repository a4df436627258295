/* Tests of core/clips, the clip repository, against a scripted Firestore: what create, update
 * status, get and list send (method, target, the commit's fields, precondition and transforms, the
 * query's filters and order), the records they return, and their errors (no such clip, a
 * different clip already there, Firestore down or out of time, an answer that is not Firestore's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clips.h"
#include "scripted.h"
#include "unit.h"

static scripted *const S = &sc_fixture;
static arena_t *const A = &sc_fixture_arena;
static char err[256]; /* what the last call refused or failed with */

#define C1 "/users/u1/videos/v1/clips/clip_1_vertical"
#define T0 "2026-11-24T10:00:00Z"
#define T1 "2026-11-24T10:00:01Z"
#define TIMES ",\"createTime\":\"" T0 "\",\"updateTime\":\"" T1 "\""

static const char commit_ok[] =
    "{\"writeResults\":[{\"updateTime\":\"" T1 "\",\"transformResults\":["
    "{\"timestampValue\":\"" T1 "\"},{\"timestampValue\":\"" T1 "\"}]}],\"commitTime\":\"" T1 "\"}";
static const char already_exists[] =
    "{\"error\":{\"code\":409,\"message\":\"exists\",\"status\":\"ALREADY_EXISTS\"}}";
static const char precondition_failed[] =
    "{\"error\":{\"code\":400,\"message\":\"no document to update\","
    "\"status\":\"FAILED_PRECONDITION\"}}";

/* clip_1_vertical as stored: completed, with its file and thumbnail. */
#define CLIP1_FIELDS(title)                                                                        \
    "\"clip_id\":{\"stringValue\":\"clip_1_vertical\"},"                                           \
    "\"filename\":{\"stringValue\":\"clip_1_vertical.mp4\"},"                                      \
    "\"scene_id\":{\"integerValue\":\"1\"},\"scene_title\":{\"stringValue\":\"" title "\"},"       \
    "\"scene_description\":{\"nullValue\":null},\"style\":{\"stringValue\":\"vertical\"},"         \
    "\"start_time\":{\"stringValue\":\"00:01:02.5\"},\"end_time\":{\"stringValue\":\"00:01:31\"}," \
    "\"duration_seconds\":{\"doubleValue\":28.5},\"priority\":{\"integerValue\":\"1\"},"           \
    "\"status\":{\"stringValue\":\"completed\"},\"error\":{\"nullValue\":null},"                   \
    "\"file_size_bytes\":{\"integerValue\":\"12897484\"},"                                         \
    "\"file_size_mb\":{\"doubleValue\":12.3},\"has_thumbnail\":{\"booleanValue\":true},"           \
    "\"r2_key\":{\"stringValue\":\"u1/v1/clips/clip_1_vertical.mp4\"},"                            \
    "\"thumbnail_r2_key\":{\"stringValue\":\"u1/v1/thumbnails/clip_1_vertical.jpg\"},"             \
    "\"created_at\":{\"timestampValue\":\"" T0 "\"},\"updated_at\":{\"timestampValue\":\"" T1 "\"}"
#define CLIP1_DOC(title)                                                                           \
    "{\"name\":\"" SC_ROOT C1 "\",\"fields\":{" CLIP1_FIELDS(title) "}" TIMES "}"

static const char clip1_doc[] = CLIP1_DOC("The hook");
static const char clip1_other_title[] = CLIP1_DOC("Another hook");
static const char clip1_at_write[] = "[{\"found\":" CLIP1_DOC("The hook") ",\"readTime\":\"" T1
                                     "\"}]";

#define LISTED(id, scene, prio)                                                                    \
    "{\"document\":{\"name\":\"" SC_ROOT "/users/u1/videos/v1/clips/" id "\",\"fields\":{"       \
    "\"clip_id\":{\"stringValue\":\"" id "\"},\"filename\":{\"stringValue\":\"" id ".mp4\"},"      \
    "\"scene_id\":{\"integerValue\":\"" #scene "\"},\"priority\":{\"integerValue\":\"" #prio "\"},"\
    "\"style\":{\"stringValue\":\"vertical\"},\"status\":{\"stringValue\":\"completed\"},"         \
    "\"r2_key\":{\"stringValue\":\"u1/v1/clips/" id ".mp4\"}}" TIMES "},"                          \
    "\"readTime\":\"" T1 "\"}"
static const char two_listed[] =
    "[" LISTED("clip_1_vertical", 1, 1) "," LISTED("clip_2_vertical", 2, 1) "]";

/* The create input of clip_1_vertical as the workflow sends it (duration computed). */
static clip_create_input clip1_input(const char *title)
{
    clip_create_input in;
    memset(&in, 0, sizeof in);
    in.scene_id = 1;
    in.scene_title = title;
    in.style = "vertical";
    in.start_time = "00:01:02.5";
    in.end_time = "00:01:31";
    in.has_priority = 1;
    in.priority = 1;
    in.file_size_bytes = 12897484;
    in.has_thumbnail = 1;
    return in;
}

#define ASSERT_SENT(method, match, want) CU_ASSERT_TRUE(sc_sent(S, method, match, want))

static void test_create(void)
{
    const sc_rule rules[] = {{"POST", "/documents:commit", 200, commit_ok, NULL}};
    sc_script(S, rules, 1);
    clip_create_input in = clip1_input("The hook");
    clip_rec c;
    int created = -1;
    CU_ASSERT_EQUAL_FATAL(clips_create(S->fs, A, "u1", "v1", "clip_1_vertical", &in, &c, &created,
                                       err, sizeof err),
                          CLIP_OK);
    CU_ASSERT_EQUAL(created, 1);
    /* one commit, no read: the record is what was sent plus the server's times */
    CU_ASSERT_EQUAL(S->nlog, 1);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":commit"), 1);
    ASSERT_SENT("POST", ":commit", "\"name\":\"" SC_ROOT C1 "\"");
    ASSERT_SENT("POST", ":commit", "\"currentDocument\":{\"exists\":false}");
    ASSERT_SENT("POST", ":commit",
                "\"updateTransforms\":[{\"fieldPath\":\"created_at\",\"setToServerValue\":"
                "\"REQUEST_TIME\"},{\"fieldPath\":\"updated_at\",\"setToServerValue\":"
                "\"REQUEST_TIME\"}]");
    ASSERT_SENT("POST", ":commit", "\"status\":{\"stringValue\":\"pending\"}");
    ASSERT_SENT("POST", ":commit", "\"duration_seconds\":{\"doubleValue\":28.5}");
    ASSERT_SENT("POST", ":commit",
                "\"r2_key\":{\"stringValue\":\"u1/v1/clips/clip_1_vertical.mp4\"}");
    UNIT_ASSERT_STR(c.clip_id, "clip_1_vertical");
    UNIT_ASSERT_STR(c.filename, "clip_1_vertical.mp4");
    UNIT_ASSERT_STR(c.scene_title, "The hook");
    CU_ASSERT_PTR_NULL(c.scene_description);
    UNIT_ASSERT_STR(c.status, "pending");
    CU_ASSERT_DOUBLE_EQUAL(c.duration_seconds, 28.5, 1e-9);
    CU_ASSERT_EQUAL(c.priority, 1);
    CU_ASSERT_EQUAL(c.file_size_bytes, 12897484);
    CU_ASSERT_DOUBLE_EQUAL(c.file_size_mb, 12897484 / 1048576.0, 1e-9);
    UNIT_ASSERT_STR(c.r2_key, "u1/v1/clips/clip_1_vertical.mp4");
    UNIT_ASSERT_STR(c.thumbnail_r2_key, "u1/v1/thumbnails/clip_1_vertical.jpg");
    CU_ASSERT_EQUAL(c.created_at.seconds, c.updated_at.seconds);
    CU_ASSERT_NOT_EQUAL(c.created_at.seconds, 0);
    /* refused before any request: a file name of another clip */
    in.filename = "clip_2_vertical.mp4";
    sc_script(S, rules, 1);
    CU_ASSERT_EQUAL(clips_create(S->fs, A, "u1", "v1", "clip_1_vertical", &in, &c, &created, err,
                                 sizeof err),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "filename: clip_2_vertical.mp4 does not name clip clip_1_vertical");
    CU_ASSERT_EQUAL(S->nlog, 0);
}

static void test_create_again(void)
{
    /* it exists: the same clip again is the stored one, unchanged */
    const sc_rule same[] = {{"POST", "/documents:commit", 409, already_exists, NULL},
                            {"GET", C1, 200, clip1_doc, NULL}};
    sc_script(S, same, 2);
    clip_create_input in = clip1_input("The hook");
    clip_rec c;
    int created = -1;
    CU_ASSERT_EQUAL(clips_create(S->fs, A, "u1", "v1", "clip_1_vertical", &in, &c, &created, err,
                                 sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(created, 0);
    CU_ASSERT_EQUAL(sc_count(S, "GET", C1), 1);
    UNIT_ASSERT_STR(c.status, "completed"); /* whatever its status has become */
    CU_ASSERT_TRUE(c.has_thumbnail);
    /* different data: a conflict naming the first field that differs */
    const sc_rule other[] = {{"POST", "/documents:commit", 409, already_exists, NULL},
                             {"GET", C1, 200, clip1_other_title, NULL}};
    sc_script(S, other, 2);
    CU_ASSERT_EQUAL(clips_create(S->fs, A, "u1", "v1", "clip_1_vertical", &in, &c, &created, err,
                                 sizeof err),
                    CLIP_ECONFLICT);
    UNIT_ASSERT_STR(err, "clip clip_1_vertical already exists with a different scene_title");
    /* gone between the commit and the read */
    const sc_rule gone[] = {{"POST", "/documents:commit", 409, already_exists, NULL},
                            {"GET", C1, 404, SC_NOT_FOUND, NULL}};
    sc_script(S, gone, 2);
    CU_ASSERT_EQUAL(clips_create(S->fs, A, "u1", "v1", "clip_1_vertical", &in, &c, &created, err,
                                 sizeof err),
                    CLIP_ECONFLICT);
    UNIT_ASSERT_STR(err, "clip clip_1_vertical changed during create");
}

static void test_update_status(void)
{
    const sc_rule rules[] = {{"POST", "/documents:commit", 200, commit_ok, NULL},
                             {"POST", "/documents:batchGet", 200, clip1_at_write, NULL}};
    sc_script(S, rules, 2);
    clip_status_update u = {"completed", NULL, 1, 12897484, 1};
    clip_rec c;
    CU_ASSERT_EQUAL_FATAL(
        clips_update_status(S->fs, A, "u1", "v1", "clip_1_vertical", &u, &c, err, sizeof err),
        CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":commit"), 1);
    ASSERT_SENT("POST", ":commit", "\"currentDocument\":{\"exists\":true}");
    ASSERT_SENT("POST", ":commit",
                "\"updateMask\":{\"fieldPaths\":[\"status\",\"error\",\"file_size_bytes\","
                "\"file_size_mb\",\"has_thumbnail\",\"thumbnail_r2_key\"]}");
    ASSERT_SENT("POST", ":commit", "\"file_size_mb\":{\"doubleValue\":12.2");
    ASSERT_SENT("POST", ":commit",
                "\"thumbnail_r2_key\":{\"stringValue\":\"u1/v1/thumbnails/clip_1_vertical.jpg\"}");
    ASSERT_SENT("POST", ":commit",
                "\"updateTransforms\":[{\"fieldPath\":\"updated_at\",\"setToServerValue\":"
                "\"REQUEST_TIME\"}]");
    /* the answer is read at the write's own time */
    ASSERT_SENT("POST", ":batchGet", "\"readTime\":\"" T1 "\"");
    UNIT_ASSERT_STR(c.status, "completed");
    UNIT_ASSERT_STR(c.scene_title, "The hook");
    /* only status and error when nothing else is given */
    clip_status_update failed = {"failed", "ffmpeg exited 1", 0, 0, -1};
    sc_script(S, rules, 2);
    CU_ASSERT_EQUAL(clips_update_status(S->fs, A, "u1", "v1", "clip_1_vertical", &failed, NULL,
                                        err, sizeof err),
                    CLIP_OK);
    ASSERT_SENT("POST", ":commit", "\"updateMask\":{\"fieldPaths\":[\"status\",\"error\"]}");
    ASSERT_SENT("POST", ":commit", "\"error\":{\"stringValue\":\"ffmpeg exited 1\"}");
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":batchGet"), 0); /* no record asked for, none read */
    /* no such clip: Firestore's precondition, either way it says it */
    const sc_rule missing[] = {{"POST", "/documents:commit", 404, SC_NOT_FOUND, NULL}};
    sc_script(S, missing, 1);
    CU_ASSERT_EQUAL(
        clips_update_status(S->fs, A, "u1", "v1", "clip_1_vertical", &u, &c, err, sizeof err),
        CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no clip clip_1_vertical in video v1");
    const sc_rule refused[] = {{"POST", "/documents:commit", 400, precondition_failed, NULL}};
    sc_script(S, refused, 1);
    CU_ASSERT_EQUAL(
        clips_update_status(S->fs, A, "u1", "v1", "clip_1_vertical", &u, &c, err, sizeof err),
        CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no clip clip_1_vertical in video v1");
    /* a status that is none of the contract's: refused before any request */
    clip_status_update bad = {"done", NULL, 0, 0, -1};
    sc_script(S, rules, 2);
    CU_ASSERT_EQUAL(
        clips_update_status(S->fs, A, "u1", "v1", "clip_1_vertical", &bad, &c, err, sizeof err),
        CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "status: one of pending, processing, completed, failed");
    CU_ASSERT_EQUAL(S->nlog, 0);
}

static void test_get(void)
{
    const sc_rule rules[] = {{"GET", C1, 200, clip1_doc, NULL}};
    sc_script(S, rules, 1);
    clip_rec c;
    CU_ASSERT_EQUAL_FATAL(
        clips_get(S->fs, A, "u1", "v1", "clip_1_vertical", &c, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(S, "GET", "/v1/" SC_ROOT C1), 1);
    UNIT_ASSERT_STR(c.filename, "clip_1_vertical.mp4");
    CU_ASSERT_EQUAL(c.scene_id, 1);
    UNIT_ASSERT_STR(c.start_time, "00:01:02.5");
    UNIT_ASSERT_STR(c.end_time, "00:01:31");
    CU_ASSERT_EQUAL(c.file_size_bytes, 12897484);
    CU_ASSERT_TRUE(c.has_thumbnail);
    CU_ASSERT_PTR_NULL(c.error);
    const sc_rule missing[] = {{"GET", C1, 404, SC_NOT_FOUND, NULL}};
    sc_script(S, missing, 1);
    CU_ASSERT_EQUAL(clips_get(S->fs, A, "u1", "v1", "clip_1_vertical", &c, err, sizeof err),
                    CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no clip clip_1_vertical in video v1");
    /* an id that is not one never reaches Firestore */
    sc_script(S, rules, 1);
    CU_ASSERT_EQUAL(clips_get(S->fs, A, "u1", "v1", "../x", &c, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "bad uid, video_id or clip_id");
    CU_ASSERT_EQUAL(S->nlog, 0);
}

static void test_list(void)
{
    const sc_rule rules[] = {{"POST", "/users/u1/videos/v1:runQuery", 200, two_listed, NULL}};
    sc_script(S, rules, 1);
    clips_page p;
    clips_filter f = {"completed", NULL, 0, 0};
    /* a page of one from two answered: the next cursor continues after the first */
    CU_ASSERT_EQUAL_FATAL(clips_list(S->fs, A, "u1", "v1", &f, 1, NULL, &p, err, sizeof err),
                          CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    UNIT_ASSERT_STR(p.items[0].clip_id, "clip_1_vertical");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.next_cursor);
    ASSERT_SENT("POST", ":runQuery", "\"from\":[{\"collectionId\":\"clips\",\"allDescendants\":false}]");
    ASSERT_SENT("POST", ":runQuery",
                "{\"fieldFilter\":{\"field\":{\"fieldPath\":\"status\"},\"op\":\"EQUAL\","
                "\"value\":{\"stringValue\":\"completed\"}}}");
    ASSERT_SENT("POST", ":runQuery",
                "\"orderBy\":[{\"field\":{\"fieldPath\":\"priority\"},\"direction\":\"ASCENDING\"},"
                "{\"field\":{\"fieldPath\":\"scene_id\"},\"direction\":\"ASCENDING\"},"
                "{\"field\":{\"fieldPath\":\"style\"},\"direction\":\"ASCENDING\"},"
                "{\"field\":{\"fieldPath\":\"__name__\"},\"direction\":\"ASCENDING\"}]");
    ASSERT_SENT("POST", ":runQuery", "\"limit\":2");
    /* the next page starts after the first clip's sort values */
    char cursor[FS_CURSOR_MAX + 1];
    snprintf(cursor, sizeof cursor, "%s", p.next_cursor);
    sc_script(S, rules, 1);
    CU_ASSERT_EQUAL(clips_list(S->fs, A, "u1", "v1", &f, 1, cursor, &p, err, sizeof err),
                    CLIP_OK);
    ASSERT_SENT("POST", ":runQuery", "\"startAt\":{\"values\":[{\"integerValue\":\"1\"},"
                                     "{\"integerValue\":\"1\"},{\"stringValue\":\"vertical\"},");
    /* a cursor of another listing (other filters) is refused before any request */
    sc_script(S, rules, 1);
    clips_filter other = {"failed", NULL, 0, 0};
    CU_ASSERT_EQUAL(clips_list(S->fs, A, "u1", "v1", &other, 1, cursor, &p, err, sizeof err),
                    CLIP_EINVAL);
    CU_ASSERT_EQUAL(S->nlog, 0);
    /* the whole listing in one page */
    sc_script(S, rules, 1);
    CU_ASSERT_EQUAL(clips_list(S->fs, A, "u1", "v1", NULL, 0, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(p.n, 2);
    CU_ASSERT_PTR_NULL(p.next_cursor);
    ASSERT_SENT("POST", ":runQuery", "\"limit\":51");
    CU_ASSERT_EQUAL(clips_list(S->fs, A, "u1", "v1", NULL, CLIPS_LIST_LIMIT_MAX + 1, NULL, &p, err,
                               sizeof err),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "limit: 1 to 1000");
}

/* Every call of the repository, against the rules now in place, fails with want. */
static void expect_every_call(clip_err want)
{
    clip_create_input in = clip1_input("The hook");
    clip_status_update u = {"completed", NULL, 0, 0, -1};
    clip_rec c;
    clips_page p;
    CU_ASSERT_EQUAL(clips_create(S->fs, A, "u1", "v1", "clip_1_vertical", &in, &c, NULL, err,
                                 sizeof err),
                    want);
    CU_ASSERT_EQUAL(
        clips_update_status(S->fs, A, "u1", "v1", "clip_1_vertical", &u, &c, err, sizeof err),
        want);
    CU_ASSERT_EQUAL(clips_get(S->fs, A, "u1", "v1", "clip_1_vertical", &c, err, sizeof err), want);
    CU_ASSERT_EQUAL(clips_list(S->fs, A, "u1", "v1", NULL, 0, NULL, &p, err, sizeof err), want);
}

/* Each call meets Firestore down, answering what Firestore never answers, and out of time. */
static void test_backend_errors(void)
{
    sc_script_down(S);
    expect_every_call(CLIP_EUNAVAILABLE);
    sc_script_garbage(S);
    expect_every_call(CLIP_EBACKEND);
    /* a listing whose documents are not documents */
    const sc_rule bad_docs[] = {{"POST", ":runQuery", 200, "[{\"document\":42}]", NULL}};
    sc_script(S, bad_docs, 1);
    clips_page p;
    clip_rec c;
    CU_ASSERT_EQUAL(clips_list(S->fs, A, "u1", "v1", NULL, 0, NULL, &p, err, sizeof err),
                    CLIP_EBACKEND);
    /* no answer within the deadline (SC_TIMEOUT_MS) */
    const sc_rule hang[] = {{"GET", C1, SC_HANG, NULL, NULL}};
    sc_script(S, hang, 1);
    CU_ASSERT_EQUAL(clips_get(S->fs, A, "u1", "v1", "clip_1_vertical", &c, err, sizeof err),
                    CLIP_ETIMEOUT);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_create),        UNIT_TEST(test_create_again),
                           UNIT_TEST(test_update_status), UNIT_TEST(test_get),
                           UNIT_TEST(test_list),          UNIT_TEST(test_backend_errors),
                           CU_TEST_INFO_NULL};
    return unit_run("clips", tests, sc_fixture_init, sc_fixture_clean);
}
