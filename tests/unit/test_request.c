/* Tests of fcgi/request and fcgi/response: params parsing, look-ups, and the JSON error shape. */
#include <stdio.h>
#include <string.h>

#include "breaker.h"
#include "request.h"
#include "response.h"
#include "unit.h"

static clip_err parse(request_t *rq, arena_t *a, char **env)
{
    char err[128];
    return req_parse(rq, a, env, err, sizeof err);
}

static int any_text(const char *p, size_t n)
{
    (void)p;
    (void)n;
    return 1;
}

/* The query rules of the tests below. */
static const req_arg_rule rules[] = {
    {.name = "style", .max_len = 64, .rule = "a style"},
    {.name = "limit", .is_int = 1, .min = 1, .max = 100, .def = 20},
    {.name = "q", .max_len = 64, .valid = any_text, .rule = "text"},
    {.name = "cursor", .max_len = 64, .rule = "a cursor"},
    {.name = "bad", .max_len = 64, .rule = "anything well encoded"},
    {0},
};

static clip_err args(request_t *rq, char *err, size_t errlen)
{
    return req_parse_args(rq, rules, err, errlen);
}

static void test_parse(void)
{
    arena_t a;
    arena_init(&a, 0);
    request_t rq;
    char *env[] = {"REQUEST_METHOD=GET",
                   "REQUEST_URI=/api/videos/v1/clips?style=vertical&limit=10&q=a%20b+c&bad=%zz",
                   "HTTP_AUTHORIZATION=Bearer abc",
                   "CONTENT_TYPE=application/json",
                   "REQUEST_ID=0123abcd",
                   "REMOTE_ADDR=127.0.0.1",
                   NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, env), CLIP_OK);
    CU_ASSERT_EQUAL(rq.method.n, 3);
    CU_ASSERT_EQUAL(rq.path.n, strlen("/api/videos/v1/clips"));
    CU_ASSERT_EQUAL(memcmp(rq.path.p, "/api/videos/v1/clips", rq.path.n), 0);
    CU_ASSERT_EQUAL(rq.query.n, strlen("style=vertical&limit=10&q=a%20b+c&bad=%zz"));
    UNIT_ASSERT_STR(rq.request_id, "0123abcd");
    UNIT_ASSERT_STR(rq.remote_addr, "127.0.0.1");
    UNIT_ASSERT_STR(req_header(&rq, "Authorization"), "Bearer abc");
    UNIT_ASSERT_STR(req_header(&rq, "content-type"), "application/json");
    CU_ASSERT_PTR_NULL(req_header(&rq, "If-None-Match"));
    char err[256];
    CU_ASSERT_EQUAL(args(&rq, err, sizeof err), CLIP_EINVAL); /* %zz */
    UNIT_ASSERT_STR(err, "bad: anything well encoded");
    CU_ASSERT_EQUAL(rq.content_length, -1);
    char *good[] = {"REQUEST_METHOD=GET",
                    "REQUEST_URI=/api/videos/v1/clips?style=vertical&limit=10&q=a%20b+c", NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, good), CLIP_OK);
    CU_ASSERT_EQUAL(args(&rq, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(req_arg_text(&rq, "style"), "vertical");
    UNIT_ASSERT_STR(req_arg_text(&rq, "q"), "a b c");
    CU_ASSERT_EQUAL(req_arg_num(&rq, "limit"), 10);
    CU_ASSERT_PTR_NULL(req_arg_text(&rq, "cursor"));
    CU_ASSERT_PTR_NULL(req_arg_text(&rq, "nope"));
    arena_free(&a);
}

/* Every way a query string can be wrong is a 400 naming the parameter. */
static void test_args_refused(void)
{
    static const struct {
        const char *query, *err;
    } cases[] = {
        {"limit=1&limit=abc", "limit: given more than once"},
        {"limit=0", "limit: must be a whole number from 1 to 100"},
        {"limit=", "limit: must be a whole number from 1 to 100"},
        {"limit=1e3", "limit: must be a whole number from 1 to 100"},
        {"limit=%zz", "limit: must be a whole number from 1 to 100"},
        {"limit=9999999999999", "limit: must be a whole number from 1 to 100"},
        {"limit=%201", "limit: must be a whole number from 1 to 100"}, /* strtol's blanks */
        {"limit=+1", "limit: must be a whole number from 1 to 100"},
        {"limit=%091", "limit: must be a whole number from 1 to 100"},
        {"=1", "query: a parameter without a name"},
        {"limit=1&=", "query: a parameter without a name"},
        {"nope=1", "nope: unknown query parameter"},
        {"Limit=1", "Limit: unknown query parameter"},
        {"style=", "style: a style"},
        {"style=a%00b", "style: a style"},
        {"style=a%20b", "style: a style"},
        {"q=%c0%af", "q: text"},           /* overlong '/' */
        {"q=%ed%a0%80", "q: text"},        /* a surrogate */
        {"q=%f4%90%80%80", "q: text"},     /* past U+10FFFF */
        {"q=\xc3", "q: text"},            /* truncated */
    };
    arena_t a;
    arena_init(&a, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char uri[256];
        snprintf(uri, sizeof uri, "REQUEST_URI=/x?%s", cases[i].query);
        char *env[] = {"REQUEST_METHOD=GET", uri, NULL};
        request_t rq;
        CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, env), CLIP_OK);
        char err[256] = "";
        CU_ASSERT_EQUAL(args(&rq, err, sizeof err), CLIP_EINVAL);
        UNIT_ASSERT_STR(err, cases[i].err);
    }
    /* empty pairs are nothing; a key with a percent escape is its decoded name */
    char *ok[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/x?&&%6cimit=7&q=caf%C3%A9&", NULL};
    request_t rq;
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, ok), CLIP_OK);
    char err[256] = "";
    CU_ASSERT_EQUAL(args(&rq, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(req_arg_num(&rq, "limit"), 7);
    UNIT_ASSERT_STR(req_arg_text(&rq, "q"), "caf\xc3\xa9");
    /* a route without rules takes no parameter at all */
    CU_ASSERT_EQUAL(req_parse_args(&rq, NULL, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "%6cimit: unknown query parameter"); /* as the caller wrote it */
    arena_free(&a);
}

/* Found by fuzz_fcgi_request: a '#' before '?' made the query run past the URI. */
static void test_fragment_before_query(void)
{
    arena_t a;
    arena_init(&a, 0);
    request_t rq;
    char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/api/vi#frag?limit=5", NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, env), CLIP_OK);
    CU_ASSERT_EQUAL(rq.path.n, 7);
    CU_ASSERT_EQUAL(rq.query.n, 0);
    char err[256];
    CU_ASSERT_EQUAL(args(&rq, err, sizeof err), CLIP_OK);
    CU_ASSERT_PTR_NULL(req_arg_text(&rq, "limit"));
    char *env2[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/a?limit=5#x&y=1", NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, env2), CLIP_OK);
    CU_ASSERT_EQUAL(rq.query.n, 7);
    CU_ASSERT_EQUAL(args(&rq, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(req_arg_text(&rq, "limit"), "5");
    arena_free(&a);
}

static void test_request_id(void)
{
    arena_t a;
    arena_init(&a, 0);
    request_t rq;
    char *hostile[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_X_REQUEST_ID=a\"b<script>", NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, hostile), CLIP_OK);
    CU_ASSERT_EQUAL(strlen(rq.request_id), 32); /* replaced by a generated one */
    CU_ASSERT_PTR_NULL(strchr(rq.request_id, '"'));
    char *client[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_X_REQUEST_ID=client-id-1", NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, client), CLIP_OK);
    UNIT_ASSERT_STR(rq.request_id, "client-id-1");
    arena_free(&a);
}

static void test_bad_params(void)
{
    arena_t a;
    arena_init(&a, 0);
    request_t rq;
    char *nomethod[] = {"REQUEST_URI=/", NULL};
    CU_ASSERT_EQUAL(parse(&rq, &a, nomethod), CLIP_EINVAL);
    char *relative[] = {"REQUEST_METHOD=GET", "REQUEST_URI=api", NULL};
    CU_ASSERT_EQUAL(parse(&rq, &a, relative), CLIP_EINVAL);
    char *cl[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/", "CONTENT_LENGTH=12x", NULL};
    CU_ASSERT_EQUAL(parse(&rq, &a, cl), CLIP_EINVAL);
    char *neg[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/", "CONTENT_LENGTH=-1", NULL};
    CU_ASSERT_EQUAL(parse(&rq, &a, neg), CLIP_EINVAL);
    char *ok[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/", "CONTENT_LENGTH=42", NULL};
    CU_ASSERT_EQUAL(parse(&rq, &a, ok), CLIP_OK);
    CU_ASSERT_EQUAL(rq.content_length, 42);
    static char longuri[REQ_URI_MAX + 40];
    memset(longuri, 'a', sizeof longuri - 1);
    memcpy(longuri, "REQUEST_URI=/", 13);
    longuri[sizeof longuri - 1] = '\0';
    char *toolong[] = {"REQUEST_METHOD=GET", longuri, NULL};
    CU_ASSERT_EQUAL(parse(&rq, &a, toolong), CLIP_EINVAL);
    arena_free(&a);
}

static void test_error_body(void)
{
    arena_t a;
    arena_init(&a, 0);
    request_t rq;
    char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/x", "REQUEST_ID=rid1", NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, env), CLIP_OK);
    response_t rs;
    resp_init(&rs);
    resp_failf(&rs, &rq, CLIP_ENOTFOUND, "no video \"%s\"", "v\n1");
    CU_ASSERT_EQUAL(rs.status, 404);
    UNIT_ASSERT_STR(rs.body.p, "{\"error\":{\"code\":\"not_found\",\"message\":\"no video \\\"v\\n1\\\"\","
                               "\"request_id\":\"rid1\"}}");
    buf_t out = BUF_INIT;
    resp_serialize(&rs, &rq, &out);
    char expect[512];
    snprintf(expect, sizeof expect,
             "Status: 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\n"
             "Content-Length: %zu\r\nX-Request-Id: rid1\r\nCache-Control: no-store\r\n\r\n%s",
             rs.body.len, rs.body.p);
    UNIT_ASSERT_STR(out.p, expect);
    buf_free(&out);
    /* internal failures never leak their details */
    resp_fail(&rs, &rq, CLIP_EIO, "open /secret/path failed");
    CU_ASSERT_EQUAL(rs.status, 500);
    UNIT_ASSERT_STR(rs.body.p, "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\","
                               "\"request_id\":\"rid1\"}}");
    resp_fail(&rs, &rq, CLIP_ETIMEOUT, "firestore: did not answer within 5000 ms");
    CU_ASSERT_EQUAL(rs.status, 504);
    UNIT_ASSERT_STR(rs.error_code, "deadline_exceeded");
    CU_ASSERT_PTR_NOT_NULL(strstr(rs.body.p, "\"message\":\"firestore: did not answer in time\""));
    resp_fail(&rs, &rq, CLIP_EUNAVAILABLE, NULL);
    CU_ASSERT_EQUAL(rs.status, 503);
    CU_ASSERT_PTR_NOT_NULL(strstr(rs.body.p, "\"message\":\"unavailable; retry later\""));
    /* headers with CR/LF are dropped */
    UNIT_ASSERT_STR(rs.headers.p, "Retry-After: 1\r\n");
    resp_header(&rs, "X-Test", "a\r\nSet-Cookie: x");
    UNIT_ASSERT_STR(rs.headers.p, "Retry-After: 1\r\n");
    resp_free(&rs);
    arena_free(&a);
}

static void test_err_map(void)
{
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_EINVAL), 400);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_EAUTH), 401);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_EFORBIDDEN), 403);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_ENOTFOUND), 404);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_ECONFLICT), 409);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_ETOOBIG), 413);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_ERATELIMIT), 429);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_EBACKEND), 502);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_EUNAVAILABLE), 503);
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_ETIMEOUT), 504);
    CU_ASSERT_EQUAL(clip_err_http_status((clip_err)999), 500);
    UNIT_ASSERT_STR(clip_err_code(CLIP_ENOTFOUND), "not_found");
}

/* The one table: what each kind of error tells the caller. */
static void test_err_answer(void)
{
    static const struct {
        clip_err e;
        const char *detail;
        int status, hidden;
        const char *message;
    } cases[] = {
        {CLIP_EINVAL, "cursor: not one this listing gave", 400, 0,
         "cursor: not one this listing gave"},
        {CLIP_ENOTFOUND, "no video v1", 404, 0, "no video v1"},
        {CLIP_ECONFLICT, "clip c1 already exists with a different style", 409, 0,
         "clip c1 already exists with a different style"},
        {CLIP_ETOOBIG, "request body is over 1000 bytes", 413, 0,
         "request body is over 1000 bytes"},
        /* a backend's words never reach the caller, whatever the kind */
        {CLIP_EUNAVAILABLE,
         "firestore: Failed to connect to 127.0.0.1 port 18444 after 0 ms (8 attempt(s))", 503, 1,
         "firestore: unavailable; retry later"},
        {CLIP_ETIMEOUT, "r2: deadline of 5000 ms passed", 504, 1, "r2: did not answer in time"},
        {CLIP_ETOOBIG, "firestore: response over 33554432 bytes", 502, 1,
         "firestore: answered badly"},
        {CLIP_ECONFLICT, "firestore: ABORTED (HTTP 409): too much contention", 409, 1,
         "firestore: conflict; retry"},
        {CLIP_ENOTFOUND, "r2: HeadObject: no such key", 404, 1, "r2: not found"},
        {CLIP_EUNAVAILABLE, "keys: fetching http://10.0.0.1/keys: refused", 503, 1,
         "sign-in keys: unavailable; retry later"},
        {CLIP_EINTERNAL, "firestore: bad document path", 500, 1, "internal error"},
        {CLIP_ENOMEM, NULL, 500, 1, "internal error"},
        {CLIP_EUNAVAILABLE, "firestorex: y", 503, 1, "unavailable; retry later"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clip_err_answer a;
        clip_err_answer_of(cases[i].e, cases[i].detail, &a);
        CU_ASSERT_EQUAL(a.status, cases[i].status);
        CU_ASSERT_EQUAL(a.hide_detail, cases[i].hidden);
        UNIT_ASSERT_STR(a.message, cases[i].message);
    }
}

/* 503 and 429 answers say when to retry: 1 s, or while the backend's breaker is open, until it
 * lets a probe through; other answers carry no Retry-After. */
static void test_retry_after(void)
{
    arena_t a;
    arena_init(&a, 0);
    request_t rq;
    char *env[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/x", "REQUEST_ID=rid1", NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, env), CLIP_OK);
    response_t rs;
    resp_init(&rs);
    resp_fail(&rs, &rq, CLIP_EUNAVAILABLE, "firestore: Failed to connect to 127.0.0.1 port 1");
    CU_ASSERT_EQUAL(rs.status, 503);
    UNIT_ASSERT_STR(rs.headers.p, "Retry-After: 1\r\n");
    UNIT_ASSERT_STR(rs.body.p, "{\"error\":{\"code\":\"unavailable\",\"message\":\"firestore: "
                               "unavailable; retry later\",\"request_id\":\"rid1\"}}");
    resp_free(&rs);
    breaker_configure(1, 30000);
    breaker_reset();
    breaker_ticket t;
    breaker_admit("firestore", 1000, &t, NULL);
    breaker_report(&t, BREAKER_DOWN, 0);
    resp_init(&rs);
    resp_fail(&rs, &rq, CLIP_EUNAVAILABLE, "firestore: circuit open");
    UNIT_ASSERT_STR(rs.headers.p, "Retry-After: 30\r\n");
    resp_free(&rs);
    resp_init(&rs); /* another backend's failure: its own breaker is closed */
    resp_fail(&rs, &rq, CLIP_ERATELIMIT, "r2: SlowDown");
    CU_ASSERT_EQUAL(rs.status, 429);
    UNIT_ASSERT_STR(rs.headers.p, "Retry-After: 1\r\n");
    resp_free(&rs);
    resp_init(&rs);
    resp_fail_public(&rs, &rq, CLIP_EUNAVAILABLE, "not ready: firestore: unavailable; r2: ok");
    UNIT_ASSERT_STR(rs.headers.p, "Retry-After: 1\r\n");
    resp_free(&rs);
    resp_init(&rs);
    resp_fail(&rs, &rq, CLIP_ETIMEOUT, "firestore: deadline");
    CU_ASSERT_EQUAL(rs.headers.len, 0);
    resp_free(&rs);
    breaker_configure(0, 0);
    breaker_reset();
    arena_free(&a);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_parse), UNIT_TEST(test_args_refused),
                           UNIT_TEST(test_fragment_before_query),
                           UNIT_TEST(test_request_id),
                           UNIT_TEST(test_bad_params), UNIT_TEST(test_error_body),
                           UNIT_TEST(test_err_map), UNIT_TEST(test_err_answer),
                           UNIT_TEST(test_retry_after),
                           CU_TEST_INFO_NULL};
    return unit_run("request", tests, NULL, NULL);
}
