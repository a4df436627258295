/* Tests of core/firestore against a scripted local server: exact request bodies, answer parsing,
 * error mapping, retry policy per call, cursors (their keys, and what a cursor may carry). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "breaker.h"
#include "clips.h"
#include "firestore.h"
#include "http.h"
#include "minihttpd.h"
#include "testproc.h"
#include "unit.h"

#define ROOT "projects/demo-clip/databases/(default)/documents"

typedef struct {
    int hits;
    char path[MH_PATH_MAX + 32];
    char auth[128];
    buf_t body;     /* the last request body */
    int fail_first; /* answer the first N requests with fail_status/fail_body */
    int fail_status;
    const char *fail_body;
    const char *answer; /* body of the 200 answers */
} server;

static mh_action handler(const mh_request *req, mh_response *resp, void *ctx)
{
    server *s = ctx;
    int n = __atomic_add_fetch(&s->hits, 1, __ATOMIC_SEQ_CST);
    snprintf(s->path, sizeof s->path, "%s %s", req->method, req->path);
    mh_header(req, "Authorization", s->auth, sizeof s->auth);
    buf_reset(&s->body);
    buf_append(&s->body, req->body.p ? req->body.p : "", req->body.len);
    if (n <= s->fail_first) {
        resp->status = s->fail_status;
        buf_puts(&resp->body, s->fail_body);
        return MH_RESPOND;
    }
    buf_puts(&resp->body, s->answer ? s->answer : "{}");
    return MH_RESPOND;
}

static minihttpd *srv;
static server S;
static fs_client *fs;

static int init(void)
{
    if (http_global_init() != CLIP_OK)
        return 1;
    int port = 0;
    srv = mh_start(handler, &S, &port);
    if (!srv)
        return 1;
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.firestore_project = "demo-clip";
    c.firestore_emulator_host = host;
    c.firestore_timeout_ms = 3000;
    char err[256];
    return fs_client_new(&c, &fs, err, sizeof err) == CLIP_OK ? 0 : 1;
}

static int clean(void)
{
    fs_client_free(fs);
    mh_stop(srv);
    buf_free(&S.body);
    http_global_cleanup();
    return 0;
}

static void reset(const char *answer)
{
    __atomic_store_n(&S.hits, 0, __ATOMIC_SEQ_CST);
    S.fail_first = 0;
    S.answer = answer;
    buf_reset(&S.body);
}

static void test_get(void)
{
    reset("{\"name\":\"" ROOT
          "/users/u1/videos/v1\",\"fields\":{\"video_title\":{\"stringValue\":\"T\"}},"
          "\"createTime\":\"2026-11-24T10:00:00Z\",\"updateTime\":\"2026-11-24T10:00:00.5Z\"}");
    arena_t a;
    arena_init(&a, 0);
    fs_doc d;
    char err[256] = "";
    CU_ASSERT_EQUAL(fs_get(fs, &a, "users/u1/videos/v1", &d, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(S.path, "GET /v1/" ROOT "/users/u1/videos/v1");
    UNIT_ASSERT_STR(S.auth, "Bearer owner");
    UNIT_ASSERT_STR(d.id, "v1");
    const char *t = NULL;
    CU_ASSERT_EQUAL(fs_get_str(&d.fields, "video_title", &t), 0);
    UNIT_ASSERT_STR(t, "T");
    CU_ASSERT_EQUAL(d.update_time.nanos, 500000000);

    reset(NULL);
    S.fail_first = 1;
    S.fail_status = 404;
    S.fail_body = "{\"error\":{\"code\":404,\"message\":\"Document " ROOT
                  "/users/u1/videos/nope not found.\",\"status\":\"NOT_FOUND\"}}";
    CU_ASSERT_EQUAL(fs_get(fs, &a, "users/u1/videos/nope", &d, err, sizeof err), CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "firestore: NOT_FOUND (HTTP 404): Document " ROOT
                         "/users/u1/videos/nope not found.");
    CU_ASSERT_EQUAL(S.hits, 1);
    CU_ASSERT_EQUAL(fs_get(fs, &a, "users//x", &d, err, sizeof err), CLIP_EINTERNAL);
    arena_free(&a);
}

static void test_commit_body_and_result(void)
{
    reset("{\"writeResults\":[{\"updateTime\":\"2026-11-24T10:00:01.000000001Z\","
          "\"transformResults\":"
          "[{\"timestampValue\":\"2026-11-24T10:00:01.000000001Z\"},{\"integerValue\":\"8\"}]},{}],"
          "\"commitTime\":\"2026-11-24T10:00:01.000000001Z\"}");
    arena_t a;
    arena_init(&a, 0);
    fs_value fields = fs_map();
    fs_map_put(&a, &fields, "status", fs_str("completed"));
    fs_map_put(&a, &fields, "error", fs_null());
    const char *mask[] = {"status", "error"};
    fs_transform tr[] = {{"updated_at", FS_TRANSFORM_REQUEST_TIME, fs_null()},
                         {"views", FS_TRANSFORM_INCREMENT, fs_int(1)}};
    fs_write w[2] = {
        {.path = "users/u1/videos/v1/clips/c1",
         .fields = &fields,
         .mask = mask,
         .nmask = 2,
         .use_mask = 1,
         .transforms = tr,
         .ntransforms = 2,
         .precond = FS_PRECOND_EXISTS},
        {.is_delete = 1,
         .path = "users/u1/videos/v1/clips/c2",
         .precond = FS_PRECOND_UPDATE_TIME,
         .update_time = {1795514400, 123000000}},
    };
    fs_commit_result res;
    char err[256] = "";
    CU_ASSERT_EQUAL(fs_commit(fs, &a, w, 2, &res, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(S.path, "POST /v1/" ROOT ":commit");
    UNIT_ASSERT_STR(S.body.p,
                    "{\"writes\":[{\"update\":{\"name\":\"" ROOT
                    "/users/u1/videos/v1/clips/c1\",\"fields\":{"
                    "\"status\":{\"stringValue\":\"completed\"},\"error\":{\"nullValue\":null}}},"
                    "\"updateMask\":{\"fieldPaths\":[\"status\",\"error\"]},"
                    "\"updateTransforms\":[{\"fieldPath\":\"updated_at\",\"setToServerValue\":"
                    "\"REQUEST_TIME\"},"
                    "{\"fieldPath\":\"views\",\"increment\":{\"integerValue\":\"1\"}}],"
                    "\"currentDocument\":{\"exists\":true}},"
                    "{\"delete\":\"" ROOT "/users/u1/videos/v1/clips/c2\","
                    "\"currentDocument\":{\"updateTime\":\"2026-11-24T10:00:00.123Z\"}}]}");
    CU_ASSERT_EQUAL(res.nresults, 2);
    CU_ASSERT_EQUAL(res.commit_time.nanos, 1);
    CU_ASSERT_EQUAL(res.transform_results[0].u.arr.n, 2);
    CU_ASSERT_TRUE(res.transform_results[0].u.arr.items[1].u.i == 8);
    CU_ASSERT_TRUE(res.update_times[1].seconds == 0);

    /* a transform-only write carries an empty mask and no fields */
    fs_write t = {.path = "c/d", .transforms = tr + 1, .ntransforms = 1};
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &t, 1, NULL, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(S.body.p, "{\"writes\":[{\"update\":{\"name\":\"" ROOT
                              "/c/d\"},\"updateMask\":{\"fieldPaths\":[]},"
                              "\"updateTransforms\":[{\"fieldPath\":\"views\",\"increment\":{"
                              "\"integerValue\":\"1\"}}]}]}");
    arena_free(&a);
}

static void test_commit_retry_policy(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[256] = "";
    fs_value fields = fs_map();
    fs_map_put(&a, &fields, "n", fs_int(1));
    fs_transform inc = {"n", FS_TRANSFORM_INCREMENT, fs_int(1)};
    fs_write set = {.path = "c/d", .fields = &fields};
    fs_write incw = {.path = "c/d", .transforms = &inc, .ntransforms = 1};

    /* INTERNAL (500): an idempotent set goes again, an increment does not (it may have landed) */
    reset("{\"commitTime\":\"2026-11-24T10:00:00Z\"}");
    S.fail_first = 1;
    S.fail_status = 500;
    S.fail_body = "{\"error\":{\"code\":500,\"message\":\"boom\",\"status\":\"INTERNAL\"}}";
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &set, 1, NULL, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(S.hits, 2);
    reset("{\"commitTime\":\"2026-11-24T10:00:00Z\"}");
    S.fail_first = 1;
    S.fail_status = 500;
    S.fail_body = "{\"error\":{\"code\":500,\"message\":\"boom\",\"status\":\"INTERNAL\"}}";
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &incw, 1, NULL, err, sizeof err), CLIP_EBACKEND);
    UNIT_ASSERT_STR(err, "firestore: INTERNAL (HTTP 500): boom");
    CU_ASSERT_EQUAL(S.hits, 1);
    /* UNAVAILABLE (503) is answered before anything is applied: the increment goes again */
    reset("{\"commitTime\":\"2026-11-24T10:00:00Z\"}");
    S.fail_first = 2;
    S.fail_status = 503;
    S.fail_body = "{\"error\":{\"code\":503,\"message\":\"later\",\"status\":\"UNAVAILABLE\"}}";
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &incw, 1, NULL, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(S.hits, 3);
    /* ABORTED: a read is retried, a commit is a conflict */
    reset("[{\"readTime\":\"2026-11-24T10:00:00Z\"}]");
    S.fail_first = 1;
    S.fail_status = 409;
    S.fail_body = "{\"error\":{\"code\":409,\"message\":\"contention\",\"status\":\"ABORTED\"}}";
    fs_query q = {.collection = "clips"};
    fs_doc *docs;
    size_t n = 99;
    CU_ASSERT_EQUAL(fs_run_query(fs, &a, "users/u1/videos/v1", &q, &docs, &n, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(S.hits, 2);
    reset("{}");
    S.fail_first = 1;
    S.fail_status = 409;
    S.fail_body = "{\"error\":{\"code\":409,\"message\":\"contention\",\"status\":\"ABORTED\"}}";
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &set, 1, NULL, err, sizeof err), CLIP_ECONFLICT);
    CU_ASSERT_EQUAL(S.hits, 1);
    arena_free(&a);
}

static void test_query_body_and_answer(void)
{
    reset("[{\"document\":{\"name\":\"" ROOT
          "/users/u1/videos/v1/clips/c1\",\"fields\":{\"priority\":{\"integerValue\":\"1\"}},"
          "\"createTime\":\"2026-11-24T10:00:00Z\",\"updateTime\":\"2026-11-24T10:00:00Z\"},"
          "\"readTime\":\"2026-11-24T10:00:00Z\"},"
          "{\"document\":{\"name\":\"" ROOT
          "/users/u1/videos/v1/clips/c2\",\"fields\":{}},\"readTime\":\"2026-11-24T10:00:00Z\"}]");
    arena_t a;
    arena_init(&a, 0);
    fs_filter f[] = {{"status", FS_OP_EQUAL, fs_str("completed")},
                     {"scene_id", FS_OP_EQUAL, fs_int(3)}};
    fs_order o[] = {{"priority", 0}, {"style", 0}, {"__name__", 0}};
    fs_value start[] = {fs_int(1), fs_str("square"), fs_ref(ROOT "/users/u1/videos/v1/clips/c0")};
    fs_query q = {.collection = "clips",
                  .filters = f,
                  .nfilters = 2,
                  .order = o,
                  .norder = 3,
                  .start_values = start,
                  .nstart = 3,
                  .limit = 51};
    fs_doc *docs = NULL;
    size_t n = 0;
    char err[256] = "";
    CU_ASSERT_EQUAL(fs_run_query(fs, &a, "users/u1/videos/v1", &q, &docs, &n, err, sizeof err),
                    CLIP_OK);
    UNIT_ASSERT_STR(S.path, "POST /v1/" ROOT "/users/u1/videos/v1:runQuery");
    UNIT_ASSERT_STR(
        S.body.p,
        "{\"structuredQuery\":{\"from\":[{\"collectionId\":\"clips\",\"allDescendants\":false}],"
        "\"where\":{\"compositeFilter\":{\"op\":\"AND\",\"filters\":["
        "{\"fieldFilter\":{\"field\":{\"fieldPath\":\"status\"},\"op\":\"EQUAL\",\"value\":{"
        "\"stringValue\":\"completed\"}}},"
        "{\"fieldFilter\":{\"field\":{\"fieldPath\":\"scene_id\"},\"op\":\"EQUAL\",\"value\":{"
        "\"integerValue\":\"3\"}}}]}},"
        "\"orderBy\":[{\"field\":{\"fieldPath\":\"priority\"},\"direction\":\"ASCENDING\"},"
        "{\"field\":{\"fieldPath\":\"style\"},\"direction\":\"ASCENDING\"},"
        "{\"field\":{\"fieldPath\":\"__name__\"},\"direction\":\"ASCENDING\"}],"
        "\"startAt\":{\"values\":[{\"integerValue\":\"1\"},{\"stringValue\":\"square\"},"
        "{\"referenceValue\":\"" ROOT
        "/users/u1/videos/v1/clips/c0\"}],\"before\":false},\"limit\":51}}");
    CU_ASSERT_EQUAL(n, 2);
    UNIT_ASSERT_STR(docs[0].id, "c1");
    UNIT_ASSERT_STR(docs[1].id, "c2");

    /* aggregation */
    reset("[{\"result\":{\"aggregateFields\":{\"a0\":{\"integerValue\":\"1000\"},\"a1\":{"
          "\"doubleValue\":12.5}}},"
          "\"readTime\":\"2026-11-24T10:00:00Z\"}]");
    fs_aggregation aggs[] = {{FS_AGG_COUNT, NULL, {0}}, {FS_AGG_SUM, "duration_seconds", {0}}};
    fs_query all = {.collection = "clips", .filters = f, .nfilters = 1};
    CU_ASSERT_EQUAL(
        fs_run_aggregation(fs, &a, "users/u1/videos/v1", &all, aggs, 2, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(S.path, "POST /v1/" ROOT "/users/u1/videos/v1:runAggregationQuery");
    UNIT_ASSERT_STR(S.body.p, "{\"structuredAggregationQuery\":{\"structuredQuery\":{\"from\":[{"
                              "\"collectionId\":\"clips\",\"allDescendants\":false}],"
                              "\"where\":{\"fieldFilter\":{\"field\":{\"fieldPath\":\"status\"},"
                              "\"op\":\"EQUAL\",\"value\":{\"stringValue\":\"completed\"}}}},"
                              "\"aggregations\":[{\"alias\":\"a0\",\"count\":{}},{\"alias\":\"a1\","
                              "\"sum\":{\"field\":{\"fieldPath\":\"duration_seconds\"}}}]}}");
    CU_ASSERT_TRUE(aggs[0].result.type == FS_INT && aggs[0].result.u.i == 1000);
    CU_ASSERT_TRUE(aggs[1].result.type == FS_DOUBLE && aggs[1].result.u.d == 12.5);

    /* batchGet answers out of order and with a missing document */
    reset(
        "[{\"missing\":\"" ROOT "/a/x\",\"readTime\":\"2026-11-24T10:00:00Z\"},"
        "{\"found\":{\"name\":\"" ROOT
        "/a/"
        "y\",\"fields\":{\"k\":{\"booleanValue\":true}}},\"readTime\":\"2026-11-24T10:00:00Z\"}]");
    const char *paths[] = {"a/y", "a/x"};
    fs_doc bd[2];
    int found[2] = {-1, -1};
    CU_ASSERT_EQUAL(fs_batch_get(fs, &a, paths, 2, bd, found, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(S.body.p, "{\"documents\":[\"" ROOT "/a/y\",\"" ROOT "/a/x\"]}");
    CU_ASSERT_EQUAL(found[0], 1);
    CU_ASSERT_EQUAL(found[1], 0);
    UNIT_ASSERT_STR(bd[0].id, "y");

    /* list with a page token */
    reset("{\"documents\":[{\"name\":\"" ROOT "/a/y\"}],\"nextPageToken\":\"t/2=\"}");
    const char *next = NULL;
    CU_ASSERT_EQUAL(
        fs_list(fs, &a, "a", 1, "priority,__name__", "t/1=", &docs, &n, &next, err, sizeof err),
        CLIP_OK);
    UNIT_ASSERT_STR(S.path,
                    "GET /v1/" ROOT "/a?pageSize=1&orderBy=priority%2C__name__&pageToken=t%2F1%3D");
    CU_ASSERT_EQUAL(n, 1);
    UNIT_ASSERT_STR(next, "t/2=");
    /* an error element inside a 200 stream */
    reset("[{\"error\":{\"code\":503,\"message\":\"gone\",\"status\":\"UNAVAILABLE\"}}]");
    CU_ASSERT_EQUAL(fs_run_query(fs, &a, "", &q, &docs, &n, err, sizeof err), CLIP_EUNAVAILABLE);
    /* not JSON */
    reset("[{\"document\":");
    CU_ASSERT_EQUAL(fs_run_query(fs, &a, "", &q, &docs, &n, err, sizeof err), CLIP_EBACKEND);
    arena_free(&a);
}


static double mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Every retry of one call stays inside firestore_timeout_ms (the token, every attempt and every
 * back-off); with the breaker on, they stop once it opens, and the next call sends nothing. */
static void test_retries_within_the_deadline(void)
{
    reset("{}");
    S.fail_first = 1000;
    S.fail_status = 503;
    S.fail_body = "{\"error\":{\"status\":\"UNAVAILABLE\",\"message\":\"busy\"}}";
    fs_client_set_timeout(fs, 700);
    arena_t a;
    arena_init(&a, 0);
    fs_doc d;
    char err[256] = "";
    double t0 = mono_ms();
    CU_ASSERT_EQUAL(fs_get(fs, &a, "users/u1", &d, err, sizeof err), CLIP_EUNAVAILABLE);
    double took = mono_ms() - t0;
    CU_ASSERT_TRUE(took < 700 + 30); /* scheduling slack only */
    CU_ASSERT_TRUE(S.hits >= 2 && S.hits <= HTTP_MAX_ATTEMPTS);
    if (took >= 730)
        fprintf(stderr, "retries took %.0f ms for a deadline of 700 ms\n", took);
    breaker_configure(3, 60000);
    breaker_reset();
    reset("{}");
    S.fail_first = 1000;
    fs_client_set_timeout(fs, 5000);
    CU_ASSERT_EQUAL(fs_get(fs, &a, "users/u1", &d, err, sizeof err), CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(S.hits, 3);
    t0 = mono_ms();
    CU_ASSERT_EQUAL(fs_get(fs, &a, "users/u1", &d, err, sizeof err), CLIP_EUNAVAILABLE);
    CU_ASSERT_TRUE(mono_ms() - t0 < 20);
    CU_ASSERT_EQUAL(S.hits, 3);
    CU_ASSERT_EQUAL(strncmp(err, "firestore: circuit open", 23), 0);
    breaker_configure(0, 0);
    breaker_reset();
    fs_client_set_timeout(fs, 3000);
    reset("{}");
    arena_free(&a);
}

static void test_error_mapping(void)
{
    struct {
        long http;
        const char *body;
        clip_err want;
    } cases[] = {
        {404, "{\"error\":{\"status\":\"NOT_FOUND\",\"message\":\"x\"}}", CLIP_ENOTFOUND},
        {409, "{\"error\":{\"status\":\"ALREADY_EXISTS\",\"message\":\"x\"}}", CLIP_ECONFLICT},
        {400,
         "{\"error\":{\"status\":\"FAILED_PRECONDITION\",\"message\":\"no document to update\"}}",
         CLIP_ECONFLICT},
        {400,
         "{\"error\":{\"status\":\"FAILED_PRECONDITION\",\"message\":\"The query requires an "
         "index.\"}}",
         CLIP_EBACKEND},
        {409, "{\"error\":{\"status\":\"ABORTED\",\"message\":\"x\"}}", CLIP_ECONFLICT},
        {400, "{\"error\":{\"status\":\"INVALID_ARGUMENT\",\"message\":\"x\"}}", CLIP_EINTERNAL},
        {503, "{\"error\":{\"status\":\"UNAVAILABLE\",\"message\":\"x\"}}", CLIP_EUNAVAILABLE},
        {504, "{\"error\":{\"status\":\"DEADLINE_EXCEEDED\",\"message\":\"x\"}}", CLIP_ETIMEOUT},
        {429, "{\"error\":{\"status\":\"RESOURCE_EXHAUSTED\",\"message\":\"x\"}}", CLIP_ERATELIMIT},
        {401, "{\"error\":{\"status\":\"UNAUTHENTICATED\",\"message\":\"x\"}}", CLIP_EBACKEND},
        {403, "{\"error\":{\"status\":\"PERMISSION_DENIED\",\"message\":\"x\"}}", CLIP_EBACKEND},
        {500, "{\"error\":{\"status\":\"INTERNAL\",\"message\":\"x\"}}", CLIP_EBACKEND},
        {404, "[{\"error\":{\"status\":\"NOT_FOUND\"}}]", CLIP_ENOTFOUND},
        {503, "<html>busy</html>", CLIP_EUNAVAILABLE},
        {404, "", CLIP_ENOTFOUND},
        {418, "", CLIP_EBACKEND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256];
        clip_err got = fs_error_from_response(cases[i].http, cases[i].body, strlen(cases[i].body),
                                              err, sizeof err);
        if (got != cases[i].want)
            fprintf(stderr, "case %zu: got %s want %s\n", i, clip_err_code(got),
                    clip_err_code(cases[i].want));
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
    CU_ASSERT_EQUAL(clip_err_http_status(fs_error_from_status("NOT_FOUND", "")), 404);
    CU_ASSERT_EQUAL(clip_err_http_status(fs_error_from_status("ALREADY_EXISTS", "")), 409);
    CU_ASSERT_EQUAL(clip_err_http_status(fs_error_from_status("UNAVAILABLE", "")), 503);
    CU_ASSERT_EQUAL(clip_err_http_status(fs_error_from_status("DEADLINE_EXCEEDED", "")), 504);
    CU_ASSERT_EQUAL(clip_err_http_status(fs_error_from_status("INVALID_ARGUMENT", "")), 500);
}

static void test_cursors(void)
{
    arena_t a;
    arena_init(&a, 0);
    fs_value vals[] = {fs_int(3), fs_str("vertical"), fs_ref(ROOT "/users/u1/videos/v1/clips/c9")};
    buf_t c = BUF_INIT;
    CU_ASSERT_EQUAL(fs_cursor_encode(&c, "clips|u1|v1|", vals, 3), 0);
    fs_value *out = NULL;
    size_t n = 0;
    char err[128] = "";
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "clips|u1|v1|", c.p, c.len, &out, &n, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_TRUE(fs_value_equal(&vals[i], &out[i]));
    /* only url-safe characters */
    CU_ASSERT_EQUAL(
        strspn(c.p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."), c.len);
    /* another listing's scope */
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "clips|u2|v1|", c.p, c.len, &out, &n, err, sizeof err),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "bad cursor");
    /* every single-character edit is refused */
    int refused = 0;
    for (size_t i = 0; i < c.len; i++) {
        char saved = c.p[i];
        c.p[i] = saved == 'A' ? 'B' : 'A';
        if (fs_cursor_decode(&a, "clips|u1|v1|", c.p, c.len, &out, &n, NULL, 0) == CLIP_EINVAL)
            refused++;
        c.p[i] = saved;
    }
    CU_ASSERT_EQUAL(refused, (int)c.len);
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "s", "", 0, &out, &n, NULL, 0), CLIP_EINVAL);
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "s", "abc", 3, &out, &n, NULL, 0), CLIP_EINVAL);
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "s", "a.b", 3, &out, &n, NULL, 0), CLIP_EINVAL);
    buf_free(&c);
    arena_free(&a);
}

static const char *key_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/tmp", tp_build());
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/tmp/%s.%d", tp_build(), name, (int)getpid());
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

/* The cursor key is a secret of the deployment: from cursor_key_file (two keys in a rotation),
 * else derived from the R2 secret, else random for the pool; never the built-in one. */
static void test_cursor_keys(void)
{
    arena_t a;
    arena_init(&a, 0);
    fs_value v = fs_int(7), *out = NULL;
    size_t n = 0;
    char err[256] = "";
    const char *from = NULL;
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.cursor_key_file = (char *)key_file("old", "# the key of the cursors\nOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLD\n");
    CU_ASSERT_EQUAL_FATAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(from, "cursor_key_file");
    buf_t old = BUF_INIT, neu = BUF_INIT;
    CU_ASSERT_EQUAL(fs_cursor_encode(&old, "s", &v, 1), 0);
    /* rotation: the new key signs, the old one still verifies */
    c.cursor_key_file = (char *)key_file(
        "both", "NEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEW\nOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLD\n");
    CU_ASSERT_EQUAL_FATAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "s", old.p, old.len, &out, &n, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fs_cursor_encode(&neu, "s", &v, 1), 0);
    CU_ASSERT_TRUE(strcmp(old.p, neu.p) != 0);
    /* the old key retired: its cursors are refused, the new key's still read */
    c.cursor_key_file = (char *)key_file("new", "NEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEW\n");
    CU_ASSERT_EQUAL_FATAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "s", old.p, old.len, &out, &n, NULL, 0), CLIP_EINVAL);
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "s", neu.p, neu.len, &out, &n, NULL, 0), CLIP_OK);
    /* too short, too many, unreadable: refused, naming the key */
    c.cursor_key_file = (char *)key_file("short", "short\n");
    CU_ASSERT_EQUAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_EQUAL(strncmp(err, "cursor_key_file: ", 17), 0);
    c.cursor_key_file = (char *)key_file(
        "three", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n"
                 "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\n");
    CU_ASSERT_EQUAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_EINVAL);
    c.cursor_key_file = "/nonexistent/cursor.key";
    CU_ASSERT_EQUAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_EINVAL);
    /* derived from the R2 secret: the same key on every VM that has it */
    c.cursor_key_file = NULL;
    c.r2_secret_access_key = "r2-secret-of-this-deployment";
    CU_ASSERT_EQUAL_FATAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(from, "derived from r2_secret_access_key");
    buf_t d1 = BUF_INIT, d2 = BUF_INIT;
    CU_ASSERT_EQUAL(fs_cursor_encode(&d1, "s", &v, 1), 0);
    CU_ASSERT_EQUAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fs_cursor_encode(&d2, "s", &v, 1), 0);
    UNIT_ASSERT_STR(d1.p, d2.p);
    /* nothing to derive from: the pool's random key */
    c.r2_secret_access_key = NULL;
    CU_ASSERT_EQUAL(fs_cursor_seed(), 0);
    CU_ASSERT_EQUAL_FATAL(fs_cursor_keys(&c, &from, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(from, "random for this pool");
    CU_ASSERT_EQUAL(fs_cursor_decode(&a, "s", d1.p, d1.len, &out, &n, NULL, 0), CLIP_EINVAL);
    buf_free(&old);
    buf_free(&neu);
    buf_free(&d1);
    buf_free(&d2);
    arena_free(&a);
}

/* A cursor signed with the right key but carrying what the listing cannot hold (another path,
 * another type) is refused before anything reaches Firestore. */
static void test_forged_cursor_values(void)
{
    fs_cursor_set_key("test-key", 8);
    arena_t a;
    arena_init(&a, 0);
    char err[256] = "";
    clips_page page;
    /* the scope clips_list binds its cursors to, for a listing without filters */
    const char *scope = "clips\nu1\nv1\n\n\n";
    struct {
        fs_value vals[4];
    } bad[] = {
        {{fs_int(1), fs_int(2), fs_str("vertical"),
          fs_ref(ROOT "/users/u1/videos/v1/clips/../../../etc")}},
        {{fs_int(1), fs_int(2), fs_str("vertical"), fs_ref(ROOT "/users/u2/videos/v1/clips/c1")}},
        {{fs_int(1), fs_int(2), fs_str("vertical"),
          fs_ref("projects/other/databases/(default)/documents/users/u1/videos/v1/clips/c1")}},
        {{fs_int(1), fs_int(2), fs_str("vertical"), fs_str(ROOT "/users/u1/videos/v1/clips/c1")}},
        {{fs_str("1"), fs_int(2), fs_str("vertical"), fs_ref(ROOT "/users/u1/videos/v1/clips/c1")}},
        {{fs_int(1), fs_int(2), fs_str("Vertical!"), fs_ref(ROOT "/users/u1/videos/v1/clips/c1")}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_t c = BUF_INIT;
        CU_ASSERT_EQUAL_FATAL(fs_cursor_encode(&c, scope, bad[i].vals, 4), 0);
        reset("[]");
        CU_ASSERT_EQUAL(clips_list(fs, &a, "u1", "v1", NULL, 10, c.p, &page, err, sizeof err),
                        CLIP_EINVAL);
        UNIT_ASSERT_STR(err, "cursor: not one this listing gave");
        CU_ASSERT_EQUAL(__atomic_load_n(&S.hits, __ATOMIC_SEQ_CST), 0); /* never sent */
        buf_free(&c);
    }
    /* the same shape with this listing's values goes out */
    fs_value good[] = {fs_int(1), fs_int(2), fs_str("vertical"),
                       fs_ref(ROOT "/users/u1/videos/v1/clips/c1")};
    buf_t c = BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(fs_cursor_encode(&c, scope, good, 4), 0);
    reset("[]");
    CU_ASSERT_EQUAL(clips_list(fs, &a, "u1", "v1", NULL, 10, c.p, &page, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(__atomic_load_n(&S.hits, __ATOMIC_SEQ_CST), 1);
    buf_free(&c);
    arena_free(&a);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_get),
                           UNIT_TEST(test_commit_body_and_result),
                           UNIT_TEST(test_commit_retry_policy),
                           UNIT_TEST(test_query_body_and_answer),
                           UNIT_TEST(test_error_mapping), UNIT_TEST(test_retries_within_the_deadline),
                           UNIT_TEST(test_cursors),
                           UNIT_TEST(test_cursor_keys),
                           UNIT_TEST(test_forged_cursor_values),
                           CU_TEST_INFO_NULL};
    return unit_run("firestore", tests, init, clean);
}
