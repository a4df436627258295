/* Tests of core/events: the publisher URL's shape, one publish (path, headers, body; never
 * retried; bounded by its deadline), resume ids, nchan's channel info and the resume rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "minihttpd.h"
#include "unit.h"

#define NOW 1800000000
#define LEN 200
#define AGE 3600

typedef struct {
    int requests;
    int status;
    mh_action action;
    const char *body; /* of the answer */
    char method[16], path[MH_PATH_MAX], event[64], ctype[64], accept[64];
    buf_t got; /* the request body */
} script;

static mh_action handler(const mh_request *req, mh_response *resp, void *ctx)
{
    script *s = ctx;
    __atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
    snprintf(s->method, sizeof s->method, "%s", req->method);
    snprintf(s->path, sizeof s->path, "%s", req->path);
    mh_header(req, "X-EventSource-Event", s->event, sizeof s->event);
    mh_header(req, "Content-Type", s->ctype, sizeof s->ctype);
    mh_header(req, "Accept", s->accept, sizeof s->accept);
    buf_reset(&s->got);
    buf_append(&s->got, req->body.p ? req->body.p : "", req->body.len);
    if (s->action != MH_RESPOND)
        return s->action;
    resp->status = s->status;
    buf_puts(&resp->body, s->body ? s->body : "");
    return MH_RESPOND;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static events_pub *pub_for(const char *url, long timeout_ms)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.events_publish_url = (char *)url;
    c.events_publish_timeout_ms = timeout_ms;
    c.events_buffer_length = LEN;
    c.events_buffer_seconds = AGE;
    events_pub *p = NULL;
    char err[256];
    CU_ASSERT_EQUAL(events_pub_new(&c, &p, err, sizeof err), CLIP_OK);
    return p;
}

/* A scripted publisher; url gets its address. */
static minihttpd *serve(script *s, char *url, size_t urllen, int *port)
{
    buf_init(&s->got, 0);
    minihttpd *m = mh_start(handler, s, port);
    snprintf(url, urllen, "http://127.0.0.1:%d", *port);
    return m;
}

static const char *url_err(const char *url)
{
    static char err[512];
    if (events_url_check(url, err, sizeof err) == CLIP_OK)
        strcpy(err, "ok");
    return err;
}

static void test_url_shapes(void)
{
    const char *good[] = {"unix:/run/clipapi/events.sock",
                          "http://127.0.0.1:8090",
                          "http://127.0.0.1:8090/_events/pub",
                          "http://localhost/x/",
                          "http://[::1]:80/pub",
                          "http://127.255.0.1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        UNIT_ASSERT_STR(url_err(good[i]), "ok");
    UNIT_ASSERT_STR(url_err("http://10.0.0.5:8090"),
                    "events_publish_url: 'http://10.0.0.5:8090' must name a loopback host "
                    "(127.0.0.1, [::1] or localhost) (nchan's publisher must not be reachable "
                    "from outside)");
    UNIT_ASSERT_STR(url_err("https://127.0.0.1/pub"),
                    "events_publish_url: 'https://127.0.0.1/pub' must be unix:/PATH or "
                    "http://127.0.0.1:PORT[/PATH] (nchan's publisher must not be reachable from "
                    "outside)");
    const char *bad[] = {
        "unix:relative.sock",   "http://127.0.0.1:0",        "http://127.0.0.1:99999",
        "http://127.0.0.1:80x", "http://127.0.0.1/p?q=1",    "http://127.0.0.1.evil.com/",
        "http://127.1/",        "http://localhost.example/", "http://[::2]/",
        "http://127.0.0.256/",  "http://127.0.0.1./"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_STRING_NOT_EQUAL(url_err(bad[i]), "ok");
    char longsock[200] = "unix:/";
    memset(longsock + 6, 's', 150);
    CU_ASSERT_PTR_NOT_NULL(strstr(url_err(longsock), "socket path longer"));
    /* unset: no publisher, and publishing through none is a no-op */
    events_pub *p = pub_for(NULL, 200);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(events_publish(NULL, "u1", "v1", "clip", "{}", 2), CLIP_OK);
}

static void test_publish(void)
{
    script s = {.status = 201, .body = "{\"messages\": 1}"};
    char url[128];
    int port = 0;
    minihttpd *m = serve(&s, url, sizeof url, &port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    events_pub *p = pub_for(url, 200);
    const char *data = "{\"name\":\"clip_1_vertical.mp4\",\"status\":\"processing\"}";
    CU_ASSERT_EQUAL(events_publish(p, "user-1", "vid_9", "clip", data, strlen(data)), CLIP_OK);
    UNIT_ASSERT_STR(s.method, "POST");
    UNIT_ASSERT_STR(s.path, "/_events/pub/user-1.vid_9");
    UNIT_ASSERT_STR(s.event, "clip");
    UNIT_ASSERT_STR(s.ctype, "application/json");
    UNIT_ASSERT_STR(s.accept, "text/json");
    UNIT_ASSERT_STR(s.got.p, data);
    /* 202: no subscriber yet, stored for later ones */
    s.status = 202;
    CU_ASSERT_EQUAL(events_publish(p, "user-1", "vid_9", "video", "{}", 2), CLIP_OK);
    UNIT_ASSERT_STR(s.event, "video");
    events_pub_free(p);

    /* a prefix of its own */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nchan/pub/", port);
    p = pub_for(url, 200);
    CU_ASSERT_EQUAL(events_publish(p, "a", "b", "clip", "{}", 2), CLIP_OK);
    UNIT_ASSERT_STR(s.path, "/nchan/pub/a.b");

    /* refusals are failures, sent once */
    s.status = 500;
    s.requests = 0;
    CU_ASSERT_EQUAL(events_publish(p, "a", "b", "clip", "{}", 2), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(s.requests, 1);
    s.status = 503;
    CU_ASSERT_EQUAL(events_publish(p, "a", "b", "clip", "{}", 2), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(s.requests, 2);
    /* names that could not be a channel or an event are never sent */
    CU_ASSERT_EQUAL(events_publish(p, "a.b", "c", "clip", "{}", 2), CLIP_EINTERNAL);
    CU_ASSERT_EQUAL(events_publish(p, "a", "b", "Clip\r\nX: 1", "{}", 2), CLIP_EINTERNAL);
    CU_ASSERT_EQUAL(s.requests, 2);

    /* a publisher that never answers costs the deadline, once */
    s.action = MH_HANG;
    s.requests = 0;
    events_pub_free(p);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    p = pub_for(url, 150);
    double t0 = now_ms();
    CU_ASSERT_EQUAL(events_publish(p, "a", "b", "clip", "{}", 2), CLIP_ETIMEOUT);
    double took = now_ms() - t0;
    CU_ASSERT_TRUE(took >= 140 && took < 400);
    CU_ASSERT_EQUAL(s.requests, 1);
    /* a dropped connection is not retried either */
    s.action = MH_CLOSE;
    s.requests = 0;
    CU_ASSERT_EQUAL(events_publish(p, "a", "b", "clip", "{}", 2), CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(s.requests, 1);
    events_pub_free(p);
    mh_stop(m);

    /* nothing listens: refused at once */
    p = pub_for(url, 200);
    t0 = now_ms();
    CU_ASSERT_EQUAL(events_publish(p, "a", "b", "clip", "{}", 2), CLIP_EUNAVAILABLE);
    CU_ASSERT_TRUE(now_ms() - t0 < 100);
    events_pub_free(p);
    /* nor at a unix socket */
    p = pub_for("unix:/nonexistent/events.sock", 200);
    CU_ASSERT_EQUAL(events_publish(p, "a", "b", "clip", "{}", 2), CLIP_EUNAVAILABLE);
    events_pub_free(p);
    buf_free(&s.got);
}

static void test_id_parse(void)
{
    events_id id;
    CU_ASSERT_EQUAL(events_id_parse("1800000000:0", 12, &id), 0);
    CU_ASSERT_EQUAL(id.time, 1800000000LL);
    CU_ASSERT_EQUAL(id.tag, 0);
    CU_ASSERT_EQUAL(events_id_parse("1:32767", 7, &id), 0);
    CU_ASSERT_EQUAL(id.tag, 32767);
    CU_ASSERT_EQUAL(events_id_parse("999999999999:1", 14, &id), 0);
    const char *bad[] = {"",
                         ":",
                         "1:",
                         ":0",
                         "1:32768",
                         "1:-1",
                         "-1:0",
                         "1:[0,1]",
                         "1:0,1",
                         "1800000000",
                         "1800000000:0 ",
                         " 1:0",
                         "1:0:0",
                         "1234567890123:0",
                         "1:123456",
                         "abc",
                         "1.5:0",
                         "0x10:0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(events_id_parse(bad[i], strlen(bad[i]), &id), -1);
    /* explicit lengths: a NUL is a byte like any other */
    CU_ASSERT_EQUAL(events_id_parse("1:0\0", 4, &id), -1);
    CU_ASSERT_EQUAL(events_id_parse("1:05", 3, &id), 0);
    CU_ASSERT_EQUAL(id.tag, 0);
}

static void test_channel_info(void)
{
    events_channel_info in;
    const char *nchan = "{\"messages\": 3, \"requested\": -1, \"subscribers\": 2, "
                        "\"last_message_id\": \"1796156841:4\" }\n";
    CU_ASSERT_EQUAL(events_channel_info_parse(nchan, strlen(nchan), &in), 0);
    CU_ASSERT_EQUAL(in.messages, 3);
    CU_ASSERT_EQUAL(in.has_last, 1);
    CU_ASSERT_EQUAL(in.last.time, 1796156841LL);
    CU_ASSERT_EQUAL(in.last.tag, 4);
    const char *nolast = "{\"messages\": 0, \"requested\": 7, \"subscribers\": 0}";
    CU_ASSERT_EQUAL(events_channel_info_parse(nolast, strlen(nolast), &in), 0);
    CU_ASSERT_EQUAL(in.has_last, 0);
    const char *bad[] = {
        "", "{", "[]", "{\"messages\":\"3\"}", "{\"requested\":1}", "{\"messages\":1} x", "<html>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(events_channel_info_parse(bad[i], strlen(bad[i]), &in), -1);
}

static clip_err rule(long long t, const events_channel_info *info, char *err)
{
    events_id id = {t, 0};
    return events_resume_rule(&id, info, NOW, LEN, AGE, err, 512);
}

static void test_resume_rule(void)
{
    char err[512];
    events_channel_info live = {.messages = 5, .has_last = 1, .last = {NOW - 10, 2}};
    CU_ASSERT_EQUAL(rule(NOW - 100, &live, err), CLIP_OK);
    /* the window: buffer age less the margin, and a little skew into the future */
    CU_ASSERT_EQUAL(rule(NOW - AGE + EVENTS_RESUME_MARGIN_S, &live, err), CLIP_OK);
    CU_ASSERT_EQUAL(rule(NOW - AGE + EVENTS_RESUME_MARGIN_S - 1, &live, err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "last_event_id: 1799996459:0 is not within the 3600 s the events are "
                         "kept; read the video again and subscribe without it");
    CU_ASSERT_EQUAL(rule(NOW + EVENTS_RESUME_SKEW_S, &live, err), CLIP_OK);
    CU_ASSERT_EQUAL(rule(NOW + EVENTS_RESUME_SKEW_S + 1, &live, err), CLIP_EINVAL);
    CU_ASSERT_EQUAL(rule(1, &live, err), CLIP_EINVAL);
    CU_ASSERT_EQUAL(rule(0, &live, err), CLIP_EINVAL);
    /* an empty buffer (what aborts nchan 1.3.6), or one about to empty, or no channel at all */
    const char *gone = "last_event_id: no events of this video are buffered any more; read the "
                       "video again and subscribe without it";
    events_channel_info empty = {.messages = 0, .has_last = 1, .last = {NOW - 10, 0}};
    CU_ASSERT_EQUAL(rule(NOW - 100, &empty, err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, gone);
    CU_ASSERT_EQUAL(rule(NOW - 100, NULL, err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, gone);
    events_channel_info stale = {
        .messages = 1, .has_last = 1, .last = {NOW - AGE + EVENTS_RESUME_MARGIN_S - 1, 0}};
    CU_ASSERT_EQUAL(rule(NOW - AGE + EVENTS_RESUME_MARGIN_S, &stale, err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, gone);
    events_channel_info nolast = {.messages = 3, .has_last = 0};
    CU_ASSERT_EQUAL(rule(NOW - 100, &nolast, err), CLIP_EINVAL);
    /* a full buffer may have dropped what the client missed */
    events_channel_info full = {.messages = LEN, .has_last = 1, .last = {NOW - 1, 0}};
    CU_ASSERT_EQUAL(rule(NOW - 100, &full, err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "last_event_id: more than 199 events happened since; read the video "
                         "again and subscribe without it");
    events_channel_info almost = {.messages = LEN - 1, .has_last = 1, .last = {NOW - 1, 0}};
    CU_ASSERT_EQUAL(rule(NOW - 100, &almost, err), CLIP_OK);
}

static void test_resume_check(void)
{
    char err[512];
    time_t now = time(NULL);
    char good[32];
    snprintf(good, sizeof good, "%lld:0", (long long)now - 30);
    /* no publisher: nothing to resume from */
    CU_ASSERT_EQUAL(events_resume_check(NULL, "u", "v", good, strlen(good), now, err, sizeof err),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "last_event_id: events are not buffered here; read the video again and "
                         "subscribe without it");
    char info[256];
    snprintf(info, sizeof info,
             "{\"messages\": 2, \"requested\": 0, \"subscribers\": 1, \"last_message_id\": "
             "\"%lld:1\" }",
             (long long)now - 5);
    script s = {.status = 200, .body = info};
    char url[128];
    int port = 0;
    minihttpd *m = serve(&s, url, sizeof url, &port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    events_pub *p = pub_for(url, 200);
    CU_ASSERT_EQUAL(events_resume_check(p, "u1", "v1", good, strlen(good), now, err, sizeof err),
                    CLIP_OK);
    UNIT_ASSERT_STR(s.method, "GET");
    UNIT_ASSERT_STR(s.path, "/_events/pub/u1.v1");
    UNIT_ASSERT_STR(s.accept, "text/json");
    CU_ASSERT_EQUAL(s.requests, 1);
    /* the abort ids never reach nchan */
    const char *refused[] = {"1:0", "0:0", "99999999999:0", "garbage", "1:[0,1]", ""};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        CU_ASSERT_EQUAL(events_resume_check(p, "u1", "v1", refused[i], strlen(refused[i]), now, err,
                                            sizeof err),
                        CLIP_EINVAL);
    static char big[10240];
    memset(big, '1', sizeof big - 1);
    CU_ASSERT_EQUAL(events_resume_check(p, "u1", "v1", big, strlen(big), now, err, sizeof err),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "last_event_id: must be the id of an event of this stream (TIME:TAG)");
    CU_ASSERT_EQUAL(s.requests, 1);
    /* no such channel */
    s.status = 404;
    CU_ASSERT_EQUAL(events_resume_check(p, "u1", "v1", good, strlen(good), now, err, sizeof err),
                    CLIP_EINVAL);
    /* nchan cannot be asked: unavailable, not a verdict on the id */
    s.status = 500;
    CU_ASSERT_EQUAL(events_resume_check(p, "u1", "v1", good, strlen(good), now, err, sizeof err),
                    CLIP_EUNAVAILABLE);
    s.status = 200;
    s.body = "nonsense";
    CU_ASSERT_EQUAL(events_resume_check(p, "u1", "v1", good, strlen(good), now, err, sizeof err),
                    CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(strncmp(err, "events: cannot ask nchan whether its buffer holds last_event_id", 63), 0);
    events_pub_free(p);
    mh_stop(m);
    buf_free(&s.got);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_url_shapes),
                           UNIT_TEST(test_publish),
                           UNIT_TEST(test_id_parse),
                           UNIT_TEST(test_channel_info),
                           UNIT_TEST(test_resume_rule),
                           UNIT_TEST(test_resume_check),
                           CU_TEST_INFO_NULL};
    return unit_run("events", tests, NULL, NULL);
}
