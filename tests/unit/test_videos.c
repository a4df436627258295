/* Tests of core/videos, the video repository, against a scripted Firestore: what create_or_update
 * (update first, then create with exists=false), get, list and update_clip_statistics send, the
 * records they return, and their errors (no such video, a create that loses its race twice,
 * Firestore down or out of time, an answer that is not Firestore's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripted.h"
#include "unit.h"
#include "videos.h"

static scripted *const S = &sc_fixture;
static arena_t *const A = &sc_fixture_arena;
static char err[256]; /* what the last call refused or failed with */

#define V1 "/users/u1/videos/v1"
#define T0 "2026-11-24T10:00:00Z"
#define T1 "2026-11-24T10:00:01Z"
#define TIMES ",\"createTime\":\"" T0 "\",\"updateTime\":\"" T1 "\""
#define UPDATE "\"currentDocument\":{\"exists\":true}"
#define IF_UPDATE "#" UPDATE
#define CREATE "\"currentDocument\":{\"exists\":false}"
#define IF_CREATE "#" CREATE

static const char commit_ok[] =
    "{\"writeResults\":[{\"updateTime\":\"" T1 "\",\"transformResults\":["
    "{\"timestampValue\":\"" T1 "\"}]}],\"commitTime\":\"" T1 "\"}";
static const char already_exists[] =
    "{\"error\":{\"code\":409,\"message\":\"exists\",\"status\":\"ALREADY_EXISTS\"}}";

#define VIDEO_DOC(id, created)                                                                     \
    "{\"name\":\"" SC_ROOT "/users/u1/videos/" id "\",\"fields\":{"                                \
    "\"video_id\":{\"stringValue\":\"" id "\"},\"user_id\":{\"stringValue\":\"u1\"},"              \
    "\"video_url\":{\"stringValue\":\"https://example.com/talk\"},"                                \
    "\"video_title\":{\"stringValue\":\"My talk\"},\"youtube_id\":{\"nullValue\":null},"           \
    "\"status\":{\"stringValue\":\"processing\"},\"custom_prompt\":{\"nullValue\":null},"          \
    "\"styles_processed\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"vertical\"}]}},"         \
    "\"crop_mode\":{\"stringValue\":\"smart\"},\"target_aspect\":{\"stringValue\":\"9:16\"},"      \
    "\"highlights_count\":{\"integerValue\":\"7\"},"                                               \
    "\"highlights_summary\":{\"mapValue\":{\"fields\":{"                                           \
    "\"total_duration\":{\"doubleValue\":210.5},"                                                  \
    "\"categories\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"funny\"}]}}}}},"               \
    "\"created_at\":{\"timestampValue\":\"" created "\"},"                                         \
    "\"updated_at\":{\"timestampValue\":\"" T1 "\"}}" TIMES "}"

static const char video_doc[] = VIDEO_DOC("v1", T0);
static const char video_at_write[] = "[{\"found\":" VIDEO_DOC("v1", T0) ",\"readTime\":\"" T1
                                     "\"}]";
static const char two_videos[] =
    "[{\"document\":" VIDEO_DOC("v2", "2026-11-24T11:00:00Z") ",\"readTime\":\"" T1 "\"},"
    "{\"document\":" VIDEO_DOC("v1", T0) ",\"readTime\":\"" T1 "\"}]";

/* The aggregations of update_clip_statistics: all clips, the completed ones, the failed ones. */
#define AGG(fields) "[{\"result\":{\"aggregateFields\":{" fields "}},\"readTime\":\"" T1 "\"}]"
static const char agg_all[] = AGG("\"a0\":{\"integerValue\":\"3\"},"
                                  "\"a1\":{\"integerValue\":\"3000\"},"
                                  "\"a2\":{\"doubleValue\":75.5}");
static const char agg_completed[] = AGG("\"a0\":{\"integerValue\":\"2\"}");
static const char agg_failed[] = AGG("\"a0\":{\"integerValue\":\"1\"}");
#define STYLED(id, style)                                                                          \
    "{\"document\":{\"name\":\"" SC_ROOT V1 "/clips/" id "\",\"fields\":{"                        \
    "\"style\":{\"stringValue\":\"" style "\"}}" TIMES "},\"readTime\":\"" T1 "\"}"
static const char styles[] = "[" STYLED("c1", "vertical") "," STYLED("c2", "square") "," STYLED(
    "c3", "vertical") "]";

#define ASSERT_SENT(method, match, want) CU_ASSERT_TRUE(sc_sent(S, method, match, want))

static video_rec titled(const char *title, const char *status)
{
    video_rec in;
    memset(&in, 0, sizeof in);
    in.video_title = title;
    in.status = status;
    return in;
}

static void test_update_existing(void)
{
    const sc_rule rules[] = {{"POST", ":commit" IF_UPDATE, 200, commit_ok, NULL},
                             {"POST", "/documents:batchGet", 200, video_at_write, NULL}};
    sc_script(S, rules, 2);
    video_rec in = titled("My talk", "processing"), out;
    int created = -1;
    CU_ASSERT_EQUAL_FATAL(videos_create_or_update(S->fs, A, "u1", "v1", &in,
                                                  VIDEO_F_TITLE | VIDEO_F_STATUS, &out, &created,
                                                  err, sizeof err),
                          CLIP_OK);
    CU_ASSERT_EQUAL(created, 0);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":commit"), 1); /* an update, no create */
    ASSERT_SENT("POST", ":commit", "\"name\":\"" SC_ROOT V1 "\"");
    ASSERT_SENT("POST", ":commit", UPDATE);
    ASSERT_SENT("POST", ":commit", "\"video_title\":{\"stringValue\":\"My talk\"}");
    ASSERT_SENT("POST", ":commit", "\"status\":{\"stringValue\":\"processing\"}");
    ASSERT_SENT("POST", ":commit",
                "\"updateTransforms\":[{\"fieldPath\":\"updated_at\",\"setToServerValue\":"
                "\"REQUEST_TIME\"}]");
    /* a merge: the mask names only what was given (and the ids) */
    const char *body = sc_body(S, "POST", ":commit");
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"updateMask\":{\"fieldPaths\":["));
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"video_title\""));
    CU_ASSERT_PTR_NULL(strstr(body, "\"video_url\""));
    CU_ASSERT_PTR_NULL(strstr(body, "\"created_at\""));
    /* the answer is the video read at the write's own time */
    ASSERT_SENT("POST", ":batchGet", "\"readTime\":\"" T1 "\"");
    UNIT_ASSERT_STR(out.video_title, "My talk");
    UNIT_ASSERT_STR(out.video_url, "https://example.com/talk");
    CU_ASSERT_EQUAL(out.highlights_count, 7);
}

static void test_create_new(void)
{
    const sc_rule rules[] = {{"POST", ":commit" IF_UPDATE, 404, SC_NOT_FOUND, NULL},
                             {"POST", ":commit" IF_CREATE, 200, commit_ok, NULL},
                             {"POST", "/documents:batchGet", 200, video_at_write, NULL}};
    sc_script(S, rules, 3);
    video_rec in = titled("My talk", "queued"), out;
    int created = -1;
    CU_ASSERT_EQUAL(videos_create_or_update(S->fs, A, "u1", "v1", &in,
                                            VIDEO_F_TITLE | VIDEO_F_STATUS, &out, &created, err,
                                            sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(created, 1);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":commit"), 2);
    /* the create (the last commit) sets created_at once, by the server */
    ASSERT_SENT("POST", ":commit", CREATE);
    ASSERT_SENT("POST", ":commit",
                "\"updateTransforms\":[{\"fieldPath\":\"created_at\",\"setToServerValue\":"
                "\"REQUEST_TIME\"},{\"fieldPath\":\"updated_at\",\"setToServerValue\":"
                "\"REQUEST_TIME\"}]");
    /* someone else creates it between our update and our create, twice: a conflict */
    const sc_rule race[] = {{"POST", ":commit" IF_UPDATE, 404, SC_NOT_FOUND, NULL},
                            {"POST", ":commit" IF_CREATE, 409, already_exists, NULL}};
    sc_script(S, race, 2);
    CU_ASSERT_EQUAL(videos_create_or_update(S->fs, A, "u1", "v1", &in, VIDEO_F_TITLE, &out,
                                            &created, err, sizeof err),
                    CLIP_ECONFLICT);
    CU_ASSERT_EQUAL(created, 0);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":commit"), 4);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":batchGet"), 0);
    /* a status the contract does not have never reaches Firestore */
    video_rec bad = titled("My talk", "done");
    sc_script(S, rules, 3);
    CU_ASSERT_EQUAL(videos_create_or_update(S->fs, A, "u1", "v1", &bad, VIDEO_F_STATUS, &out,
                                            &created, err, sizeof err),
                    CLIP_EINVAL);
    CU_ASSERT_EQUAL(S->nlog, 0);
}

static void test_get(void)
{
    const sc_rule rules[] = {{"GET", V1, 200, video_doc, NULL}};
    sc_script(S, rules, 1);
    video_rec v;
    CU_ASSERT_EQUAL_FATAL(videos_get(S->fs, A, "u1", "v1", &v, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(S, "GET", "/v1/" SC_ROOT V1), 1);
    UNIT_ASSERT_STR(v.video_id, "v1");
    UNIT_ASSERT_STR(v.user_id, "u1");
    UNIT_ASSERT_STR(v.status, "processing");
    CU_ASSERT_PTR_NULL(v.youtube_id);
    CU_ASSERT_EQUAL_FATAL(v.nstyles, 1);
    UNIT_ASSERT_STR(v.styles_processed[0], "vertical");
    UNIT_ASSERT_STR(v.target_aspect, "9:16");
    CU_ASSERT_DOUBLE_EQUAL(v.highlights_total_duration, 210.5, 1e-9);
    CU_ASSERT_EQUAL_FATAL(v.ncategories, 1);
    UNIT_ASSERT_STR(v.categories[0], "funny");
    CU_ASSERT_FALSE(v.has_clip_stats);
    const sc_rule missing[] = {{"GET", V1, 404, SC_NOT_FOUND, NULL}};
    sc_script(S, missing, 1);
    CU_ASSERT_EQUAL(videos_get(S->fs, A, "u1", "v1", &v, err, sizeof err), CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no video v1");
    sc_script(S, rules, 1);
    CU_ASSERT_EQUAL(videos_get(S->fs, A, "u1", "v/1", &v, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "bad uid or video_id");
    CU_ASSERT_EQUAL(S->nlog, 0);
}

static void test_list(void)
{
    const sc_rule rules[] = {{"POST", "/users/u1:runQuery", 200, two_videos, NULL}};
    sc_script(S, rules, 1);
    videos_page p;
    CU_ASSERT_EQUAL_FATAL(videos_list(S->fs, A, "u1", 1, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    UNIT_ASSERT_STR(p.items[0].video_id, "v2"); /* newest first */
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.next_cursor);
    ASSERT_SENT("POST", ":runQuery", "\"from\":[{\"collectionId\":\"videos\",\"allDescendants\":false}]");
    ASSERT_SENT("POST", ":runQuery",
                "\"orderBy\":[{\"field\":{\"fieldPath\":\"created_at\"},\"direction\":"
                "\"DESCENDING\"},{\"field\":{\"fieldPath\":\"__name__\"},\"direction\":"
                "\"DESCENDING\"}]");
    ASSERT_SENT("POST", ":runQuery", "\"limit\":2");
    char cursor[FS_CURSOR_MAX + 1];
    snprintf(cursor, sizeof cursor, "%s", p.next_cursor);
    /* the next page starts after v2 */
    sc_script(S, rules, 1);
    CU_ASSERT_EQUAL(videos_list(S->fs, A, "u1", 1, cursor, &p, err, sizeof err), CLIP_OK);
    ASSERT_SENT("POST", ":runQuery",
                "\"startAt\":{\"values\":[{\"timestampValue\":\"2026-11-24T11:00:00Z\"},"
                "{\"referenceValue\":\"" SC_ROOT "/users/u1/videos/v2\"}]");
    /* another user's cursor is refused before any request */
    const sc_rule theirs[] = {{"POST", "/users/u2:runQuery", 200, "[]", NULL}};
    sc_script(S, theirs, 1);
    CU_ASSERT_EQUAL(videos_list(S->fs, A, "u2", 1, cursor, &p, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "cursor: not one this listing gave");
    CU_ASSERT_EQUAL(S->nlog, 0);
    /* everything in one page */
    sc_script(S, rules, 1);
    CU_ASSERT_EQUAL(videos_list(S->fs, A, "u1", 0, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(p.n, 2);
    CU_ASSERT_PTR_NULL(p.next_cursor);
}

static void test_clip_statistics(void)
{
    const sc_rule rules[] = {
        {"POST", V1 ":runAggregationQuery#\"completed\"", 200, agg_completed, NULL},
        {"POST", V1 ":runAggregationQuery#\"failed\"", 200, agg_failed, NULL},
        {"POST", V1 ":runAggregationQuery", 200, agg_all, NULL},
        {"POST", V1 ":runQuery", 200, styles, NULL},
        {"POST", ":commit" IF_UPDATE, 200, commit_ok, NULL}};
    sc_script(S, rules, 5);
    video_clip_stats s;
    CU_ASSERT_EQUAL_FATAL(
        videos_update_clip_statistics(S->fs, A, "u1", "v1", &s, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":runAggregationQuery"), 3);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":runQuery"), 1);
    CU_ASSERT_EQUAL(s.total, 3);
    CU_ASSERT_EQUAL(s.completed, 2);
    CU_ASSERT_EQUAL(s.failed, 1);
    CU_ASSERT_EQUAL(s.total_size_bytes, 3000);
    CU_ASSERT_DOUBLE_EQUAL(s.total_duration_seconds, 75.5, 1e-9);
    CU_ASSERT_EQUAL_FATAL(s.nby_style, 2);
    UNIT_ASSERT_STR(s.by_style[0].style, "square");
    CU_ASSERT_EQUAL(s.by_style[0].count, 1);
    UNIT_ASSERT_STR(s.by_style[1].style, "vertical");
    CU_ASSERT_EQUAL(s.by_style[1].count, 2);
    /* the styles are read as a projection; the stats are written to the existing video only */
    ASSERT_SENT("POST", ":runQuery", "\"select\":{\"fields\":[{\"fieldPath\":\"style\"}]}");
    ASSERT_SENT("POST", ":commit", UPDATE);
    ASSERT_SENT("POST", ":commit", "\"updateMask\":{\"fieldPaths\":[\"clip_stats\"]}");
    ASSERT_SENT("POST", ":commit", "\"completed\":{\"integerValue\":\"2\"}");
    ASSERT_SENT("POST", ":commit", "\"total_duration_seconds\":{\"doubleValue\":75.5}");
    /* no such video: the commit's precondition */
    sc_rule missing[5];
    memcpy(missing, rules, sizeof missing);
    missing[4].status = 404;
    missing[4].body = SC_NOT_FOUND;
    sc_script(S, missing, 5);
    CU_ASSERT_EQUAL(videos_update_clip_statistics(S->fs, A, "u1", "v1", &s, err, sizeof err),
                    CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no video v1");
    /* an aggregation answer without a result */
    const sc_rule empty[] = {{"POST", ":runAggregationQuery", 200, "[{\"readTime\":\"" T1 "\"}]",
                              NULL}};
    sc_script(S, empty, 1);
    CU_ASSERT_EQUAL(videos_update_clip_statistics(S->fs, A, "u1", "v1", &s, err, sizeof err),
                    CLIP_EBACKEND);
    CU_ASSERT_EQUAL(sc_count(S, "POST", ":commit"), 0);
}

/* Every call of the repository, against the rules now in place, fails with want. */
static void expect_every_call(clip_err want)
{
    video_rec in = titled("My talk", "queued"), v;
    videos_page p;
    video_clip_stats s;
    CU_ASSERT_EQUAL(videos_create_or_update(S->fs, A, "u1", "v1", &in, VIDEO_F_TITLE, &v, NULL,
                                            err, sizeof err),
                    want);
    CU_ASSERT_EQUAL(videos_get(S->fs, A, "u1", "v1", &v, err, sizeof err), want);
    CU_ASSERT_EQUAL(videos_list(S->fs, A, "u1", 0, NULL, &p, err, sizeof err), want);
    CU_ASSERT_EQUAL(videos_update_clip_statistics(S->fs, A, "u1", "v1", &s, err, sizeof err),
                    want);
}

/* Each call meets Firestore down, answering what Firestore never answers, and out of time. */
static void test_backend_errors(void)
{
    sc_script_down(S);
    expect_every_call(CLIP_EUNAVAILABLE);
    sc_script_garbage(S);
    expect_every_call(CLIP_EBACKEND);
    const sc_rule hang[] = {{"POST", ":commit", SC_HANG, NULL, NULL}};
    sc_script(S, hang, 1);
    video_rec in = titled("My talk", "queued"), v;
    CU_ASSERT_EQUAL(videos_create_or_update(S->fs, A, "u1", "v1", &in, VIDEO_F_TITLE, &v, NULL,
                                            err, sizeof err),
                    CLIP_ETIMEOUT);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_update_existing), UNIT_TEST(test_create_new),
                           UNIT_TEST(test_get),             UNIT_TEST(test_list),
                           UNIT_TEST(test_clip_statistics), UNIT_TEST(test_backend_errors),
                           CU_TEST_INFO_NULL};
    return unit_run("videos", tests, sc_fixture_init, sc_fixture_clean);
}
