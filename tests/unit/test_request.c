/* Tests of fcgi/request and fcgi/response: params parsing, look-ups, and the JSON error shape. */
#include <stdio.h>
#include <string.h>

#include "request.h"
#include "response.h"
#include "unit.h"

static clip_err parse(request_t *rq, arena_t *a, char **env)
{
    char err[128];
    return req_parse(rq, a, env, err, sizeof err);
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
    strv v;
    CU_ASSERT_EQUAL(req_query(&rq, "style", &v), 1);
    UNIT_ASSERT_STR(v.p, "vertical");
    CU_ASSERT_EQUAL(req_query(&rq, "q", &v), 1);
    UNIT_ASSERT_STR(v.p, "a b c");
    CU_ASSERT_EQUAL(req_query(&rq, "cursor", &v), 0);
    CU_ASSERT_EQUAL(req_query(&rq, "bad", &v), -1);
    CU_ASSERT_EQUAL(rq.content_length, -1);
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
    strv v;
    CU_ASSERT_EQUAL(req_query(&rq, "limit", &v), 0);
    char *env2[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/a?limit=5#x&y=1", NULL};
    CU_ASSERT_EQUAL_FATAL(parse(&rq, &a, env2), CLIP_OK);
    CU_ASSERT_EQUAL(rq.query.n, 7);
    CU_ASSERT_EQUAL(req_query(&rq, "limit", &v), 1);
    UNIT_ASSERT_STR(v.p, "5");
    CU_ASSERT_EQUAL(req_query(&rq, "y", &v), 0);
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
    resp_error(&rs, &rq, 404, "not_found", "no video \"%s\"", "v\n1");
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
    resp_clip_error(&rs, &rq, CLIP_EIO, "open /secret/path failed");
    CU_ASSERT_EQUAL(rs.status, 500);
    UNIT_ASSERT_STR(rs.body.p, "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\","
                               "\"request_id\":\"rid1\"}}");
    resp_clip_error(&rs, &rq, CLIP_ETIMEOUT, "firestore did not answer within 5000 ms");
    CU_ASSERT_EQUAL(rs.status, 504);
    UNIT_ASSERT_STR(rs.error_code, "deadline_exceeded");
    resp_clip_error(&rs, &rq, CLIP_EUNAVAILABLE, NULL);
    CU_ASSERT_EQUAL(rs.status, 503);
    CU_ASSERT_PTR_NOT_NULL(strstr(rs.body.p, "\"message\":\"Service Unavailable\""));
    /* headers with CR/LF are dropped */
    resp_header(&rs, "X-Test", "a\r\nSet-Cookie: x");
    CU_ASSERT_EQUAL(rs.headers.len, 0);
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

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_parse), UNIT_TEST(test_fragment_before_query),
                           UNIT_TEST(test_request_id),
                           UNIT_TEST(test_bad_params), UNIT_TEST(test_error_body),
                           UNIT_TEST(test_err_map), CU_TEST_INFO_NULL};
    return unit_run("request", tests, NULL, NULL);
}
