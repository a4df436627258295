/* Tests of fcgi/router and core/ids: route matching, 404/405, and hostile path parameters. */
#include <stdio.h>
#include <string.h>

#include "ids.h"
#include "router.h"
#include "unit.h"

typedef struct {
    arena_t arena;
    request_t rq;
    response_t rs;
    char *env[4];
    char m[64], u[9000];
} ctx_t;

/* Routes method + uri; returns the HTTP status (200 when a handler was found and ran). */
static int route(ctx_t *c, const char *method, const char *uri)
{
    arena_init(&c->arena, 0);
    snprintf(c->m, sizeof c->m, "REQUEST_METHOD=%s", method);
    snprintf(c->u, sizeof c->u, "REQUEST_URI=%s", uri);
    c->env[0] = c->m;
    c->env[1] = c->u;
    c->env[2] = NULL;
    resp_init(&c->rs);
    char err[128];
    CU_ASSERT_EQUAL_FATAL(req_parse(&c->rq, &c->arena, c->env, err, sizeof err), CLIP_OK);
    route_handler h;
    if (route_dispatch(&c->rq, &c->rs, &h) == CLIP_OK)
        h(&c->rq, &c->rs);
    return c->rs.status;
}

static void done(ctx_t *c)
{
    resp_free(&c->rs);
    arena_free(&c->arena);
}

static void test_healthz(void)
{
    ctx_t c;
    CU_ASSERT_EQUAL(route(&c, "GET", "/healthz"), 200);
    UNIT_ASSERT_STR(c.rs.body.p, "{\"status\":\"ok\"}");
    UNIT_ASSERT_STR(c.rq.route, "/healthz");
    done(&c);
    CU_ASSERT_EQUAL(route(&c, "GET", "/healthz?x=1"), 200);
    done(&c);
    CU_ASSERT_EQUAL(route(&c, "HEAD", "/healthz"), 200);
    done(&c);
}

static void test_unknown_and_method(void)
{
    ctx_t c;
    CU_ASSERT_EQUAL(route(&c, "GET", "/nope"), 404);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.rs.body.p, "\"code\":\"not_found\""));
    done(&c);
    CU_ASSERT_EQUAL(route(&c, "GET", "/healthz/"), 404);
    done(&c);
    CU_ASSERT_EQUAL(route(&c, "GET", "//healthz"), 404);
    done(&c);
    CU_ASSERT_EQUAL(route(&c, "DELETE", "/healthz"), 405);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.rs.headers.p, "Allow: GET\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.rs.body.p, "\"code\":\"method_not_allowed\""));
    done(&c);
    char deep[200] = "";
    for (int i = 0; i < 20; i++)
        strcat(deep, "/a");
    CU_ASSERT_EQUAL(route(&c, "GET", deep), 404);
    done(&c);
}

static void test_ids(void)
{
    CU_ASSERT_TRUE(ids_valid_id("abc_DEF-09", 10));
    CU_ASSERT_FALSE(ids_valid_id("", 0));
    CU_ASSERT_FALSE(ids_valid_id("..", 2));
    CU_ASSERT_FALSE(ids_valid_id("a.b", 3));
    CU_ASSERT_FALSE(ids_valid_id("a/b", 3));
    CU_ASSERT_FALSE(ids_valid_id("a\0b", 3));
    CU_ASSERT_FALSE(ids_valid_id("caf\xc3\xa9", 5));
    char max[130];
    memset(max, 'a', sizeof max);
    CU_ASSERT_TRUE(ids_valid_id(max, 128));
    CU_ASSERT_FALSE(ids_valid_id(max, 129));
    CU_ASSERT_TRUE(ids_valid_filename("clip_3_vertical.mp4", 19));
    CU_ASSERT_TRUE(ids_valid_filename("a.b.c", 5));
    CU_ASSERT_FALSE(ids_valid_filename(".hidden", 7));
    CU_ASSERT_FALSE(ids_valid_filename("a..b", 4));
    CU_ASSERT_FALSE(ids_valid_filename("..", 2));
    CU_ASSERT_FALSE(ids_valid_filename("a/b.mp4", 7));
    CU_ASSERT_FALSE(ids_valid_filename("a\0.mp4", 6));
    CU_ASSERT_FALSE(ids_valid_filename(max, 129));
    CU_ASSERT_TRUE(ids_valid_style("vertical", 8));
    CU_ASSERT_TRUE(ids_valid_style("16-9", 4));
    CU_ASSERT_FALSE(ids_valid_style("Vertical", 8));
    CU_ASSERT_FALSE(ids_valid_style("a_b", 3));
}

static void test_param_validation(void)
{
    CU_ASSERT_TRUE(route_param_valid("video_id", "vid1", 4));
    CU_ASSERT_FALSE(route_param_valid("video_id", "vid.1", 5));
    CU_ASSERT_TRUE(route_param_valid("filename", "vid.1", 5));
    CU_ASSERT_FALSE(route_param_valid("filename", "..", 2));
}

static void test_pct_decode(void)
{
    char out[32];
    CU_ASSERT_EQUAL(req_pct_decode("%2e%2E", 6, out, 0), 2);
    CU_ASSERT_EQUAL(memcmp(out, "..", 2), 0);
    CU_ASSERT_EQUAL(req_pct_decode("a%00b", 5, out, 0), 3);
    CU_ASSERT_EQUAL(out[1], '\0');
    CU_ASSERT_EQUAL(req_pct_decode("%2", 2, out, 0), -1);
    CU_ASSERT_EQUAL(req_pct_decode("%", 1, out, 0), -1);
    CU_ASSERT_EQUAL(req_pct_decode("%zz", 3, out, 0), -1);
    CU_ASSERT_EQUAL(req_pct_decode("a+b", 3, out, 1), 3);
    CU_ASSERT_EQUAL(memcmp(out, "a b", 3), 0);
    CU_ASSERT_EQUAL(req_pct_decode("a+b", 3, out, 0), 3);
    CU_ASSERT_EQUAL(memcmp(out, "a+b", 3), 0);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_healthz),        UNIT_TEST(test_unknown_and_method),
                           UNIT_TEST(test_ids),            UNIT_TEST(test_param_validation),
                           UNIT_TEST(test_pct_decode),     CU_TEST_INFO_NULL};
    return unit_run("router", tests, NULL, NULL);
}
