/* Live updates end to end: tickets, the stream's authorize step (401 / 404 / 400 in JSON), a Node
 * EventSource client (npm eventsource) receiving exactly the events of the workflow's writes with
 * the video info answer's JSON, resume with Last-Event-ID, the resume ids that abort nchan 1.3.6's
 * worker refused while the worker and every other stream live on, the demo page of make run in
 * a real browser (Debian's chromium through npm playwright-core) showing a new clip appear and
 * complete with its thumbnail, and the writes answering as before with the publisher down. */
#include <json-c/json.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "evticket.h"
#include "firestore.h"
#include "fullstack.h"
#include "unit.h"
#include "videos.h"

#define EVENT_WAIT_MS 5000 /* the proofs ask for 1 s; this only bounds a failing wait */
#define SSE_MAX_EVENTS 64

static fullstack F;
static char alice[4096], bob[4096], svc[200];
static events_pub *pub; /* the test's own publisher, at the stack's nchan */

/* ---- HTTP helpers ---------------------------------------------------------------------------- */

static long call(const char *method, const char *path, const char *h1, const char *h2,
                 const char *body, json_object **json, tp_http_resp *keep)
{
    char *hdrs[] = {(char *)h1, (char *)h2, NULL};
    tp_http_resp r;
    if (json)
        *json = NULL;
    if (stack_http(&F.st, method, path, h1 ? hdrs : NULL, body, body ? strlen(body) : 0, &r) !=
        0) {
        tp_http_free(&r);
        return -1;
    }
    long st = r.status;
    if (json && r.body)
        *json = json_tokener_parse(r.body);
    if (keep)
        *keep = r;
    else
        tp_http_free(&r);
    return st;
}

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* The error's code and message, with its request id present. */
static void assert_error(json_object *j, const char *code, const char *message_prefix)
{
    json_object *e = NULL;
    CU_ASSERT_TRUE_FATAL(j && json_object_object_get_ex(j, "error", &e));
    UNIT_ASSERT_STR(jstr(e, "code"), code);
    const char *m = jstr(e, "message");
    CU_ASSERT_TRUE(m && strncmp(m, message_prefix, strlen(message_prefix)) == 0);
    if (!(m && strncmp(m, message_prefix, strlen(message_prefix)) == 0))
        fprintf(stderr, "message: %s (wanted %s...)\n", m ? m : "(none)", message_prefix);
    CU_ASSERT_PTR_NOT_NULL(jstr(e, "request_id"));
}

static int put_video(const char *uid, const char *vid)
{
    char path[256];
    snprintf(path, sizeof path, "/api/internal/users/%s/videos/%s", uid, vid);
    long st = call("PUT", path, svc, "Content-Type: application/json",
                   "{\"video_url\":\"https://youtube.com/watch?v=x\",\"video_title\":\"A talk\","
                   "\"status\":\"processing\"}",
                   NULL, NULL);
    return st == 201 || st == 200 ? 0 : -1;
}

/* POST events-ticket as auth: the ticket into out; returns the status. */
static long ticket(const char *auth, const char *vid, char *out, size_t outlen)
{
    char path[256];
    snprintf(path, sizeof path, "/api/videos/%s/events-ticket", vid);
    json_object *j;
    long st = call("POST", path, auth, NULL, "", &j, NULL);
    out[0] = '\0';
    if (st == 200 && jstr(j, "ticket"))
        snprintf(out, outlen, "%s", jstr(j, "ticket"));
    json_object_put(j);
    return st;
}

/* GET the stream as a plain request (the authorize step's answer is what matters). */
static long stream_get(const char *query, const char *h1, const char *h2, json_object **json)
{
    char path[20480];
    snprintf(path, sizeof path, "/api/videos/vid1/events%s", query);
    return call("GET", path, h1 ? h1 : "Accept: text/event-stream", h2, NULL, json, NULL);
}

/* ---- the Node EventSource client -------------------------------------------------------------- */

typedef struct {
    char type[16];
    char id[64];
    char *data;
    long long t; /* ms, wall clock */
} sse_event;

typedef struct {
    tp_proc proc;
    sse_event ev[SSE_MAX_EVENTS];
    int n;
} sse_client;

/* Starts a client on path (with its query); token / last_id may be NULL. 0 once it is open. */
static int sse_start(sse_client *c, const char *path, const char *token, const char *last_id)
{
    memset(c, 0, sizeof *c);
    char runner[600], script[600], url[4096], ca[600];
    /* eventsource 4 needs Node >= 20: tools/node/run chooses it */
    snprintf(runner, sizeof runner, "%s/tools/node/run", tp_top());
    snprintf(script, sizeof script, "%s/tests/events/sse-client.mjs", tp_top());
    snprintf(url, sizeof url, "%s%s", F.st.url, path);
    snprintf(ca, sizeof ca, "NODE_EXTRA_CA_CERTS=%s/tls/cert.pem", F.st.dir);
    char *argv[10] = {runner, "node", script, url, NULL};
    int k = 4;
    if (token) {
        argv[k++] = "--token";
        argv[k++] = (char *)token;
    }
    if (last_id) {
        argv[k++] = "--last-event-id";
        argv[k++] = (char *)last_id;
    }
    argv[k] = NULL;
    char *env[] = {ca, NULL};
    if (tp_start(&c->proc, "sse-client", argv, env, "\"type\":\"open\"", 15000) != 0) {
        tp_dump_log(&c->proc, 10);
        return -1;
    }
    return 0;
}

static void sse_stop(sse_client *c)
{
    if (c->proc.pid > 0)
        tp_stop(&c->proc, SIGTERM, 3000);
    for (int i = 0; i < c->n; i++)
        free(c->ev[i].data);
    c->n = 0;
}

/* Re-reads the client's log into c->ev (clip, video and unnamed events only). */
static void sse_read(sse_client *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->ev[i].data);
    c->n = 0;
    FILE *f = fopen(c->proc.log, "r");
    if (!f)
        return;
    char line[65536];
    while (fgets(line, sizeof line, f) && c->n < SSE_MAX_EVENTS) {
        json_object *j = json_tokener_parse(line);
        const char *type = jstr(j, "type");
        if (type && (strcmp(type, "clip") == 0 || strcmp(type, "video") == 0 ||
                     strcmp(type, "message") == 0)) {
            sse_event *e = &c->ev[c->n++];
            snprintf(e->type, sizeof e->type, "%s", type);
            snprintf(e->id, sizeof e->id, "%s", jstr(j, "id") ? jstr(j, "id") : "");
            e->data = strdup(jstr(j, "data") ? jstr(j, "data") : "");
            json_object *t;
            e->t = json_object_object_get_ex(j, "t", &t) ? json_object_get_int64(t) : 0;
        }
        json_object_put(j);
    }
    fclose(f);
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the client has at least n events; returns how many it has. */
static int sse_wait(sse_client *c, int n, int timeout_ms)
{
    long long end = wall_ms() + timeout_ms;
    for (;;) {
        sse_read(c);
        if (c->n >= n || wall_ms() >= end)
            return c->n;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int publish(const char *uid, const char *vid, const char *name, const char *data)
{
    return events_publish(pub, uid, vid, name, data, strlen(data)) == CLIP_OK ? 0 : -1;
}

static int nginx_worker(void)
{
    int pids[4];
    return stack_nginx_workers(&F.st, pids, 4) == 1 ? pids[0] : -1;
}

/* alice's video "quiet", written straight into Firestore: no event ever went to its channel. */
static int quiet_video(void)
{
    char err[256];
    fs_client *fs = NULL;
    arena_t a;
    arena_init(&a, 0);
    video_rec v;
    memset(&v, 0, sizeof v);
    v.status = "queued";
    int rc = fs_client_new(F.cfg, &fs, err, sizeof err) == CLIP_OK &&
                     videos_create_or_update(fs, &a, "alice", "quiet", &v, VIDEO_F_STATUS, NULL,
                                             NULL, err, sizeof err) == CLIP_OK
                 ? 0
                 : -1;
    if (rc)
        fprintf(stderr, "quiet video: %s\n", err);
    fs_client_free(fs);
    arena_free(&a);
    return rc;
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static int stop(void);

/* Starts the stack and writes the videos; what started is stopped again when a part fails. */
static int start_all(void);
static int start(void)
{
    if (start_all() == 0)
        return 0;
    stop();
    return 1;
}

static int start_all(void)
{
    if (fullstack_start(&F, "liveupd", 2, NULL) != 0)
        return 1;
    if (fullstack_auth_header(&F, "alice", alice, sizeof alice) ||
        fullstack_auth_header(&F, "bob", bob, sizeof bob))
        return 1;
    snprintf(svc, sizeof svc, "Authorization: Bearer %s", F.internal_key);
    char conf[700], err[256];
    snprintf(conf, sizeof conf, "%s/pub.conf", F.dir);
    char text[700];
    snprintf(text, sizeof text, "events_publish_url = unix:%s\n", F.st.events_sock);
    cfg_t *c = NULL;
    if (tp_write_file(conf, text) != 0 || cfg_load(conf, &c, err, sizeof err) != CLIP_OK ||
        events_pub_new(c, &pub, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "publisher: %s\n", err);
        cfg_free(c);
        return 1;
    }
    cfg_free(c);
    return put_video("alice", "vid1") || put_video("bob", "vidb") || quiet_video();
}

static int stop(void)
{
    events_pub_free(pub);
    fullstack_stop(&F);
    return 0;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_ticket(void)
{
    json_object *j;
    tp_http_resp r;
    long st = call("POST", "/api/videos/vid1/events-ticket", alice, NULL, "", &j, &r);
    CU_ASSERT_EQUAL_FATAL(st, 200);
    const char *t = jstr(j, "ticket");
    CU_ASSERT_TRUE_FATAL(t && strncmp(t, "alice.vid1.", 11) == 0);
    char want[1024];
    snprintf(want, sizeof want, "/api/videos/vid1/events?ticket=%s", t);
    UNIT_ASSERT_STR(jstr(j, "url"), want);
    json_object *e;
    CU_ASSERT_TRUE(json_object_object_get_ex(j, "expires_in", &e) &&
                   json_object_get_int(e) == 600);
    CU_ASSERT_EQUAL(json_object_object_length(j), 3);
    CU_ASSERT_PTR_NOT_NULL(strcasestr(r.headers, "Cache-Control: no-store"));
    tp_http_free(&r);
    json_object_put(j);
    /* the video must be the caller's: bob has no vid1, alice no vidx */
    char tk[1024];
    CU_ASSERT_EQUAL(ticket(bob, "vid1", tk, sizeof tk), 404);
    CU_ASSERT_EQUAL(ticket(alice, "vidx", tk, sizeof tk), 404);
    CU_ASSERT_EQUAL(call("POST", "/api/videos/vid1/events-ticket", NULL, NULL, "", &j, NULL), 401);
    assert_error(j, "unauthenticated", "an Authorization: Bearer");
    json_object_put(j);
    CU_ASSERT_EQUAL(call("POST", "/api/videos/vid1/events-ticket?x=1", alice, NULL, "", &j, NULL),
                    400);
    assert_error(j, "invalid_argument", "x: unknown query parameter");
    json_object_put(j);
    CU_ASSERT_EQUAL(call("GET", "/api/videos/vid1/events-ticket", alice, NULL, NULL, &j, NULL),
                    405);
    json_object_put(j);
}

static void test_stream_refusals(void)
{
    char tk[1024], q[2048];
    json_object *j;
    CU_ASSERT_EQUAL_FATAL(ticket(alice, "vid1", tk, sizeof tk), 200);
    /* edited: the last character of the MAC */
    snprintf(q, sizeof q, "?ticket=%s", tk);
    q[strlen(q) - 1] = q[strlen(q) - 1] == 'A' ? 'B' : 'A';
    CU_ASSERT_EQUAL(stream_get(q, NULL, NULL, &j), 401);
    assert_error(j, "unauthenticated", "the ticket is not valid");
    json_object_put(j);
    /* expired: signed with the stack's own key a second ago */
    evticket_keys keys;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(evticket_load_keys(F.st.events_key_file, &keys, err, sizeof err),
                          CLIP_OK);
    buf_t old = BUF_INIT;
    CU_ASSERT_EQUAL(evticket_make(&keys, "alice", "vid1", time(NULL) - 1, &old), CLIP_OK);
    snprintf(q, sizeof q, "?ticket=%s", old.p);
    CU_ASSERT_EQUAL(stream_get(q, NULL, NULL, &j), 401);
    assert_error(j, "unauthenticated", "the ticket has expired");
    json_object_put(j);
    buf_free(&old);
    evticket_keys_clear(&keys);
    /* another user's ticket (bob's, for his own video) or token on alice's video: 404 */
    CU_ASSERT_EQUAL_FATAL(ticket(bob, "vidb", tk, sizeof tk), 200);
    snprintf(q, sizeof q, "?ticket=%s", tk);
    CU_ASSERT_EQUAL(stream_get(q, NULL, NULL, &j), 404);
    assert_error(j, "not_found", "no such video");
    json_object_put(j);
    CU_ASSERT_EQUAL(stream_get("", "Accept: text/event-stream", bob, &j), 404);
    assert_error(j, "not_found", "no such video");
    json_object_put(j);
    /* no credentials, garbage */
    CU_ASSERT_EQUAL(stream_get("", NULL, NULL, &j), 401);
    assert_error(j, "unauthenticated", "an Authorization: Bearer");
    json_object_put(j);
    CU_ASSERT_EQUAL(stream_get("?ticket=nonsense", NULL, NULL, &j), 401);
    assert_error(j, "unauthenticated", "the ticket is malformed");
    json_object_put(j);
    /* a good ticket, but not an EventSource request; HEAD; unknown parameters */
    CU_ASSERT_EQUAL_FATAL(ticket(alice, "vid1", tk, sizeof tk), 200);
    snprintf(q, sizeof q, "?ticket=%s", tk);
    CU_ASSERT_EQUAL(stream_get(q, "Accept: application/json", NULL, &j), 400);
    assert_error(j, "invalid_argument", "Accept: the event stream needs Accept: text/event-stream");
    json_object_put(j);
    char path[2200];
    snprintf(path, sizeof path, "/api/videos/vid1/events%s", q);
    CU_ASSERT_EQUAL(call("HEAD", path, "Accept: text/event-stream", NULL, NULL, NULL, NULL), 405);
    snprintf(q, sizeof q, "?ticket=%s&since=1", tk);
    CU_ASSERT_EQUAL(stream_get(q, NULL, NULL, &j), 400);
    assert_error(j, "invalid_argument", "since: unknown query parameter");
    json_object_put(j);
}

static void test_stream_receives(void)
{
    char tk[1024], path[2048];
    CU_ASSERT_EQUAL_FATAL(ticket(alice, "vid1", tk, sizeof tk), 200);
    snprintf(path, sizeof path, "/api/videos/vid1/events?ticket=%s", tk);
    sse_client a, b;
    CU_ASSERT_EQUAL_FATAL(sse_start(&a, path, NULL, NULL), 0);
    /* the ID token as a header, for clients that can send one */
    const char *tok = strchr(alice, ' ') + 1 + strlen("Bearer ");
    CU_ASSERT_EQUAL_FATAL(sse_start(&b, "/api/videos/vid1/events", tok, NULL), 0);
    CU_ASSERT_EQUAL(publish("alice", "vid1", "clip", "{\"name\":\"c1.mp4\"}"), 0);
    CU_ASSERT_EQUAL(publish("bob", "vidb", "clip", "{\"name\":\"not alice's\"}"), 0);
    CU_ASSERT_EQUAL(publish("alice", "vid1", "video", "{\"status\":\"completed\"}"), 0);
    CU_ASSERT_EQUAL(sse_wait(&a, 2, EVENT_WAIT_MS), 2);
    CU_ASSERT_EQUAL(sse_wait(&b, 2, EVENT_WAIT_MS), 2);
    for (sse_client *c = &a; c; c = c == &a ? &b : NULL) {
        UNIT_ASSERT_STR(c->ev[0].type, "clip");
        UNIT_ASSERT_STR(c->ev[0].data, "{\"name\":\"c1.mp4\"}");
        UNIT_ASSERT_STR(c->ev[1].type, "video");
        UNIT_ASSERT_STR(c->ev[1].data, "{\"status\":\"completed\"}");
        events_id id;
        CU_ASSERT_EQUAL(events_id_parse(c->ev[0].id, strlen(c->ev[0].id), &id), 0);
        CU_ASSERT_TRUE(llabs(id.time - (long long)time(NULL)) < 10);
    }
    UNIT_ASSERT_STR(a.ev[0].id, b.ev[0].id);
    sse_stop(&a);
    sse_stop(&b);
}

static void test_resume(void)
{
    char tk[1024], path[2048];
    CU_ASSERT_EQUAL_FATAL(ticket(alice, "vid1", tk, sizeof tk), 200);
    snprintf(path, sizeof path, "/api/videos/vid1/events?ticket=%s", tk);
    sse_client a;
    CU_ASSERT_EQUAL_FATAL(sse_start(&a, path, NULL, NULL), 0);
    CU_ASSERT_EQUAL(publish("alice", "vid1", "clip", "{\"n\":1}"), 0);
    CU_ASSERT_EQUAL_FATAL(sse_wait(&a, 1, EVENT_WAIT_MS), 1);
    char seen[64];
    snprintf(seen, sizeof seen, "%s", a.ev[0].id);
    sse_stop(&a);
    /* gone: two writes it misses */
    CU_ASSERT_EQUAL(publish("alice", "vid1", "clip", "{\"n\":2}"), 0);
    CU_ASSERT_EQUAL(publish("alice", "vid1", "video", "{\"n\":3}"), 0);
    /* back with Last-Event-ID (the header EventSource sends on its reconnects) */
    sse_client h, q;
    CU_ASSERT_EQUAL_FATAL(sse_start(&h, path, NULL, seen), 0);
    /* ... and with last_event_id (what a new EventSource after a new ticket sends) */
    char qpath[2200];
    snprintf(qpath, sizeof qpath, "%s&last_event_id=%s", path, seen);
    CU_ASSERT_EQUAL_FATAL(sse_start(&q, qpath, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sse_wait(&h, 2, EVENT_WAIT_MS), 2);
    CU_ASSERT_EQUAL(sse_wait(&q, 2, EVENT_WAIT_MS), 2);
    /* exactly those two: the next live one follows them, nothing in between or again */
    CU_ASSERT_EQUAL(publish("alice", "vid1", "clip", "{\"n\":4}"), 0);
    CU_ASSERT_EQUAL(sse_wait(&h, 3, EVENT_WAIT_MS), 3);
    CU_ASSERT_EQUAL(sse_wait(&q, 3, EVENT_WAIT_MS), 3);
    for (sse_client *c = &h; c; c = c == &h ? &q : NULL) {
        UNIT_ASSERT_STR(c->ev[0].data, "{\"n\":2}");
        UNIT_ASSERT_STR(c->ev[1].data, "{\"n\":3}");
        UNIT_ASSERT_STR(c->ev[1].type, "video");
        UNIT_ASSERT_STR(c->ev[2].data, "{\"n\":4}");
        CU_ASSERT_EQUAL(c->n, 3);
    }
    sse_stop(&h);
    sse_stop(&q);
}

static void test_abort_ids_refused(void)
{
    char tk[1024], path[2048];
    CU_ASSERT_EQUAL_FATAL(ticket(alice, "vid1", tk, sizeof tk), 200);
    snprintf(path, sizeof path, "/api/videos/vid1/events?ticket=%s", tk);
    /* two streams stay open through it all, on the worker that would die */
    sse_client a, b;
    CU_ASSERT_EQUAL_FATAL(sse_start(&a, path, NULL, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(sse_start(&b, "/api/videos/vid1/events", strchr(alice, ' ') + 8, NULL),
                          0);
    int worker = nginx_worker();
    CU_ASSERT_TRUE_FATAL(worker > 0);
    char future[32], big[10300];
    snprintf(future, sizeof future, "%lld:0", (long long)time(NULL) + 86400);
    memset(big, '7', 10240);
    big[10240] = '\0';
    big[5] = ':';
    const char *ids[] = {"1:0", "0:0", future, "garbage", big, "-1:0", "1:[0,1]", "1:0:0"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        json_object *j;
        char q[12000], h[10400];
        snprintf(q, sizeof q, "?ticket=%s&last_event_id=%s", tk, ids[i]);
        CU_ASSERT_EQUAL(stream_get(q, NULL, NULL, &j), 400);
        assert_error(j, "invalid_argument", "last_event_id: ");
        json_object_put(j);
        snprintf(q, sizeof q, "?ticket=%s", tk);
        snprintf(h, sizeof h, "Last-Event-ID: %s", ids[i]);
        CU_ASSERT_EQUAL(stream_get(q, "Accept: text/event-stream", h, &j), 400);
        assert_error(j, "invalid_argument", "last_event_id: ");
        json_object_put(j);
    }
    /* A well-formed recent id on a channel with nothing buffered: what a client sends after
     * nginx restarted, and the case that aborts nchan 1.3.6 (it needs two tries). */
    char recent[32], tq[1024], q[2200];
    snprintf(recent, sizeof recent, "%lld:0", (long long)time(NULL) - 5);
    CU_ASSERT_EQUAL_FATAL(ticket(alice, "quiet", tq, sizeof tq), 200);
    for (int i = 0; i < 3; i++) {
        json_object *j;
        char p2[2400];
        snprintf(p2, sizeof p2, "/api/videos/quiet/events?ticket=%s&last_event_id=%s", tq, recent);
        CU_ASSERT_EQUAL(call("GET", p2, "Accept: text/event-stream", NULL, NULL, &j, NULL), 400);
        assert_error(j, "invalid_argument", "last_event_id: no events of this video are buffered");
        json_object_put(j);
    }
    /* the other headers nchan would read an id from */
    json_object *j;
    snprintf(q, sizeof q, "?ticket=%s", tk);
    CU_ASSERT_EQUAL(stream_get(q, "Accept: text/event-stream", "If-None-Match: 0", &j), 400);
    assert_error(j, "invalid_argument", "If-None-Match: ");
    json_object_put(j);
    CU_ASSERT_EQUAL(stream_get(q, "Accept: text/event-stream",
                               "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT", &j),
                    400);
    json_object_put(j);
    /* the worker is the same process, and both streams still receive */
    CU_ASSERT_EQUAL(nginx_worker(), worker);
    CU_ASSERT_EQUAL(publish("alice", "vid1", "clip", "{\"after\":\"abort ids\"}"), 0);
    CU_ASSERT_EQUAL(sse_wait(&a, 1, EVENT_WAIT_MS), 1);
    CU_ASSERT_EQUAL(sse_wait(&b, 1, EVENT_WAIT_MS), 1);
    if (a.n && b.n) {
        UNIT_ASSERT_STR(a.ev[0].data, "{\"after\":\"abort ids\"}");
        UNIT_ASSERT_STR(b.ev[0].data, "{\"after\":\"abort ids\"}");
    }
    /* a resume id that is in the buffer is still accepted */
    snprintf(q, sizeof q, "?ticket=%s&last_event_id=%s", tk, a.n ? a.ev[0].id : "x");
    char p3[2400];
    snprintf(p3, sizeof p3, "/api/videos/vid1/events%s", q);
    sse_client c;
    CU_ASSERT_EQUAL(sse_start(&c, p3, NULL, NULL), 0);
    sse_stop(&c);
    CU_ASSERT_EQUAL(nginx_worker(), worker);
    sse_stop(&a);
    sse_stop(&b);
}

/* ---- the write path publishes ----------------------------------------------------------------- */

static long long write_ms; /* wall clock when the last write answered */

static long write_call(const char *method, const char *path, const char *body, json_object **j)
{
    char full[512];
    snprintf(full, sizeof full, "/api/internal/users/alice/videos/vid1%s", path);
    long st = call(method, full, svc, "Content-Type: application/json", body, j, NULL);
    write_ms = wall_ms();
    return st;
}

/* The object of the video info answer (as user alice), parsed. */
static json_object *video_info(void)
{
    json_object *j;
    return call("GET", "/api/videos/vid1", alice, NULL, NULL, &j, NULL) == 200 ? j : NULL;
}

/* The clip named name of the video info answer (a reference into vi), or NULL. */
static json_object *info_clip(json_object *vi, const char *name)
{
    json_object *clips;
    if (!vi || !json_object_object_get_ex(vi, "clips", &clips))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(clips); i++) {
        json_object *c = json_object_array_get_idx(clips, i);
        if (jstr(c, "name") && strcmp(jstr(c, "name"), name) == 0)
            return c;
    }
    return NULL;
}

/* The event's data without updated_at equals want; updated_at is there. */
static void assert_clip_event(const sse_event *e, const char *status, json_object *want)
{
    UNIT_ASSERT_STR(e->type, "clip");
    json_object *d = json_tokener_parse(e->data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    UNIT_ASSERT_STR(jstr(d, "status"), status);
    UNIT_ASSERT_STR(jstr(d, "name"), "clip_7_vertical.mp4");
    CU_ASSERT_PTR_NOT_NULL(jstr(d, "updated_at"));
    json_object_object_del(d, "updated_at");
    if (want) {
        int same = json_object_equal(d, want);
        CU_ASSERT_TRUE(same);
        if (!same)
            fprintf(stderr, "event:      %s\nvideo info: %s\n", json_object_to_json_string(d),
                    json_object_to_json_string(want));
    }
    json_object_put(d);
}

static void test_writes_publish(void)
{
    char tk[1024], path[2048];
    CU_ASSERT_EQUAL_FATAL(ticket(alice, "vid1", tk, sizeof tk), 200);
    snprintf(path, sizeof path, "/api/videos/vid1/events?ticket=%s", tk);
    sse_client a;
    CU_ASSERT_EQUAL_FATAL(sse_start(&a, path, NULL, NULL), 0);
    long long answered[5];
    const char *clip = "/clips/clip_7_vertical";
    CU_ASSERT_EQUAL(write_call("PUT", clip,
                               "{\"scene_id\":7,\"scene_title\":\"Seven\",\"style\":\"vertical\","
                               "\"start_time\":\"00:01:00\",\"end_time\":\"00:01:30\",\"priority\":1}",
                               NULL),
                    201);
    answered[0] = write_ms;
    /* the same create again writes nothing, so publishes nothing */
    CU_ASSERT_EQUAL(write_call("PUT", clip,
                               "{\"scene_id\":7,\"scene_title\":\"Seven\",\"style\":\"vertical\","
                               "\"start_time\":\"00:01:00\",\"end_time\":\"00:01:30\",\"priority\":1}",
                               NULL),
                    200);
    CU_ASSERT_EQUAL(write_call("PATCH", clip, "{\"status\":\"processing\"}", NULL), 200);
    answered[1] = write_ms;
    CU_ASSERT_EQUAL(write_call("PATCH", clip,
                               "{\"status\":\"completed\",\"file_size_bytes\":2097152,"
                               "\"has_thumbnail\":true}",
                               NULL),
                    200);
    answered[2] = write_ms;
    CU_ASSERT_EQUAL(write_call("POST", "/stats", "", NULL), 200);
    answered[3] = write_ms;
    CU_ASSERT_EQUAL(write_call("PUT", "", "{\"status\":\"completed\"}", NULL), 200);
    answered[4] = write_ms;
    /* a refused write publishes nothing either */
    CU_ASSERT_EQUAL(write_call("PATCH", clip, "{\"status\":\"exploded\"}", NULL), 400);
    CU_ASSERT_EQUAL(write_call("PATCH", "/clips/clip_0_none", "{\"status\":\"failed\"}", NULL), 404);
    CU_ASSERT_EQUAL_FATAL(sse_wait(&a, 5, EVENT_WAIT_MS), 5);
    /* each within 1 s of its write's answer (the figures for the record: the event is
     * published before the write answers, so it may arrive first, a negative figure) */
    fprintf(stderr, "event latency after the write's answer (ms):");
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_TRUE(a.ev[i].t - answered[i] < 1000);
        fprintf(stderr, " %s %lld", a.ev[i].type, a.ev[i].t - answered[i]);
    }
    fprintf(stderr, "\n");
    json_object *vi = video_info();
    json_object *done = info_clip(vi, "clip_7_vertical.mp4");
    CU_ASSERT_PTR_NOT_NULL_FATAL(done);
    /* the completed clip is the video info's to the letter, its thumbnail presigned */
    assert_clip_event(&a.ev[0], "pending", NULL);
    assert_clip_event(&a.ev[1], "processing", NULL);
    assert_clip_event(&a.ev[2], "completed", done);
    json_object *d = json_tokener_parse(a.ev[2].data), *th;
    CU_ASSERT_TRUE(json_object_object_get_ex(d, "thumbnail", &th) && json_object_is_type(th, json_type_string) &&
                   strstr(json_object_get_string(th), "X-Amz-Signature="));
    json_object_put(d);
    /* the earlier states are the same clip with other status fields */
    json_object *p0 = json_tokener_parse(a.ev[0].data);
    UNIT_ASSERT_STR(jstr(p0, "url"), "/api/videos/vid1/clips/clip_7_vertical.mp4");
    json_object *t0;
    CU_ASSERT_TRUE(json_object_object_get_ex(p0, "thumbnail", &t0) && json_object_is_type(t0, json_type_null));
    json_object_put(p0);
    /* the stats call's event and the video write's: the video fields, without source and clips */
    for (int i = 3; i < 5; i++) {
        UNIT_ASSERT_STR(a.ev[i].type, "video");
        json_object *v = json_tokener_parse(a.ev[i].data);
        json_object *st;
        CU_ASSERT_TRUE(v && json_object_object_get_ex(v, "clip_stats", &st) &&
                       json_object_is_type(st, json_type_object));
        CU_ASSERT_FALSE(json_object_object_get_ex(v, "clips", NULL));
        CU_ASSERT_FALSE(json_object_object_get_ex(v, "source", NULL));
        if (i == 4) {
            json_object *want = json_tokener_parse(json_object_to_json_string(vi));
            json_object_object_del(want, "clips");
            json_object_object_del(want, "source");
            CU_ASSERT_TRUE(json_object_equal(v, want));
            if (!json_object_equal(v, want))
                fprintf(stderr, "event:      %s\nvideo info: %s\n", a.ev[i].data,
                            json_object_to_json_string(want));
            json_object_put(want);
            UNIT_ASSERT_STR(jstr(v, "status"), "completed");
        }
        json_object_put(v);
    }
    json_object_put(vi);
    /* and nothing else: the next event is the next one published */
    CU_ASSERT_EQUAL(publish("alice", "vid1", "clip", "{\"marker\":1}"), 0);
    CU_ASSERT_EQUAL(sse_wait(&a, 6, EVENT_WAIT_MS), 6);
    if (a.n >= 6)
        UNIT_ASSERT_STR(a.ev[5].data, "{\"marker\":1}");
    CU_ASSERT_EQUAL(a.n, 6);
    sse_stop(&a);
}

/* ---- a real browser on the demo page -------------------------------------------------------- */

/* A 16x16 JPEG (ffmpeg's colour source), for a thumbnail the browser really decodes. */
static const char thumb_jpeg[] =
    "\xff\xd8\xff\xe0\x00\x10\x4a\x46\x49\x46\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00\xff\xfe"
    "\x00\x10\x4c\x61\x76\x63\x35\x39\x2e\x33\x37\x2e\x31\x30\x30\x00\xff\xdb\x00\x43\x00\x08"
    "\x14\x14\x17\x14\x17\x1b\x1b\x1b\x1b\x1b\x1b\x20\x1e\x20\x21\x21\x21\x20\x20\x20\x20\x21"
    "\x21\x21\x24\x24\x24\x2a\x2a\x2a\x24\x24\x24\x21\x21\x24\x24\x28\x28\x2a\x2a\x2e\x2f\x2e"
    "\x2b\x2b\x2a\x2b\x2f\x2f\x32\x32\x32\x3c\x3c\x39\x39\x46\x46\x48\x56\x56\x67\xff\xc4\x00"
    "\x4b\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x01\x01"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x10\x01\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x11\x01\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03\x01\x22\x00\x02"
    "\x11\x00\x03\x11\x00\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00\x82\x01\xd8"
    "\xeb\xff\xd9";

/* Serves the demo page of make run (tests/stack/demo) from this stack, with alice's dev token. */
static int serve_demo_page(void)
{
    char www[600], path[700], text[8192], cmd[1400];
    snprintf(www, sizeof www, "%s/www", F.st.dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/tests/stack/demo/index.html' '%s/'", www,
             tp_top(), www);
    if (system(cmd) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/dev-config.js", www);
    snprintf(text, sizeof text, "window.CLIPAPI_DEMO = {tokens: {\"alice\":\"%s\"}};\n",
             strchr(alice, ' ') + 8);
    if (tp_write_file(path, text) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/server-extra-demo.conf", F.st.dir);
    snprintf(text, sizeof text,
             "location = / { root %s; try_files /index.html =404; }\n"
             "location = /dev-config.js { root %s; default_type application/javascript; }\n",
             www, www);
    if (tp_write_file(path, text) != 0 || kill(F.st.nginx.pid, SIGHUP) != 0)
        return -1;
    for (int i = 0; i < 200; i++) { /* until the reloaded workers serve it */
        tp_http_resp r;
        long st = stack_http(&F.st, "GET", "/", NULL, NULL, 0, &r) == 0 ? r.status : -1;
        int page = st == 200 && r.body && strstr(r.body, "clipapi demo");
        tp_http_free(&r);
        if (page)
            return 0;
        struct timespec ts = {0, 25 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "the demo page is not served (see %s/nginx-error.log)\n", F.st.dir);
    return -1;
}

/* When the browser's log first shows clip name with status (and a loaded thumbnail when want_img);
 * -1 when it does not within the bound. */
static long long browser_saw(const tp_proc *b, const char *name, const char *status, int want_img,
                             int timeout_ms)
{
    long long end = wall_ms() + timeout_ms;
    char needle[256];
    snprintf(needle, sizeof needle, "\"clip\":\"%s\",\"status\":\"%s\",\"thumbnail\":%s", name,
             status, want_img ? "true" : "false");
    for (;;) {
        FILE *f = fopen(b->log, "r");
        char line[4096];
        while (f && fgets(line, sizeof line, f))
            if (strstr(line, needle)) {
                fclose(f);
                return strtoll(strstr(line, "\"t\":") + 4, NULL, 10);
            }
        if (f)
            fclose(f);
        if (wall_ms() >= end)
            return -1;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void test_demo_page_in_a_browser(void)
{
    CU_ASSERT_EQUAL_FATAL(serve_demo_page(), 0);
    char runner[600], script[600], url[128], shot[600];
    snprintf(runner, sizeof runner, "%s/tools/node/run", tp_top());
    snprintf(script, sizeof script, "%s/tests/events/browser-demo.mjs", tp_top());
    snprintf(url, sizeof url, "%s/", F.st.url);
    snprintf(shot, sizeof shot, "%s/live-updates-demo.png", tp_build());
    char *argv[] = {runner, "node", script, url, "--screenshot", shot, "--seconds", "90", NULL};
    tp_proc b;
    if (tp_start(&b, "browser", argv, NULL, "\"type\":\"ready\"", 60000) != 0) {
        tp_dump_log(&b, 30);
        CU_FAIL_FATAL("the browser did not open the demo page live");
    }
    /* a new clip, rendered the way the workflow does it */
    const char *clip = "/clips/clip_20_vertical";
    CU_ASSERT_EQUAL(write_call("PUT", clip,
                               "{\"scene_id\":20,\"scene_title\":\"Live in the browser\","
                               "\"style\":\"vertical\",\"start_time\":\"00:02:00\","
                               "\"end_time\":\"00:02:20\",\"priority\":0}",
                               NULL),
                    201);
    long long w1 = write_ms;
    long long t1 = browser_saw(&b, "clip_20_vertical.mp4", "pending", 0, 5000);
    CU_ASSERT_TRUE(t1 > 0 && t1 - w1 < 2000);
    CU_ASSERT_EQUAL(fullstack_s3_put(&F, "alice/vid1/thumbnails/clip_20_vertical.jpg", thumb_jpeg,
                                     sizeof thumb_jpeg - 1, "image/jpeg"),
                    0);
    CU_ASSERT_EQUAL(write_call("PATCH", clip,
                               "{\"status\":\"completed\",\"file_size_bytes\":1234567,"
                               "\"has_thumbnail\":true}",
                               NULL),
                    200);
    long long w2 = write_ms;
    long long t2 = browser_saw(&b, "clip_20_vertical.mp4", "completed", 1, 5000);
    CU_ASSERT_TRUE(t2 > 0 && t2 - w2 < 2000);
    fprintf(stderr, "the page showed the new clip %lld ms after its create answered, completed "
                    "with its thumbnail %lld ms after the status update answered\n",
            t1 > 0 ? t1 - w1 : -1, t2 > 0 ? t2 - w2 : -1);
    kill(b.pid, SIGUSR1);
    CU_ASSERT_EQUAL(tp_wait_log(&b, "\"type\":\"screenshot\"", 20000), 0);
    tp_wait_exit(&b, 20000);
    if (b.pid > 0)
        tp_stop(&b, SIGTERM, 5000);
    FILE *f = fopen(shot, "rb");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f)
        fclose(f);
    if (t1 <= 0 || t2 <= 0)
        tp_dump_log(&b, 40);
}

static long long metric(const char *name)
{
    return stack_metric(&F.st, name);
}

/* Four writes (video, clip create, clip status, stats); the slowest answer in ms. */
static long long four_writes(const char *clip_id)
{
    char cpath[128];
    snprintf(cpath, sizeof cpath, "/clips/%s", clip_id);
    long long worst = 0, t0;
    char body[256];
    snprintf(body, sizeof body,
             "{\"scene_id\":9,\"style\":\"vertical\",\"start_time\":\"1\",\"end_time\":\"2\"}");
    struct {
        const char *m, *p, *b;
        long want;
    } w[] = {{"PUT", "", "{\"status\":\"processing\"}", 200},
             {"PUT", cpath, body, 201},
             {"PATCH", cpath, "{\"status\":\"completed\"}", 200},
             {"POST", "/stats", "", 200}};
    for (size_t i = 0; i < 4; i++) {
        t0 = wall_ms();
        CU_ASSERT_EQUAL(write_call(w[i].m, w[i].p, w[i].b, NULL), w[i].want);
        if (write_ms - t0 > worst)
            worst = write_ms - t0;
    }
    return worst;
}

/* four_writes on clip_id after a round on warm_id (a restarted pool's first calls open their
 * connections; only the second round is timed); *failed: the failed publishes of the timed one. */
static long long warm_four_writes(const char *warm_id, const char *clip_id, long long *failed)
{
    four_writes(warm_id);
    long long before = metric("clipapi_events_publish_failures_total");
    long long worst = four_writes(clip_id);
    *failed = metric("clipapi_events_publish_failures_total") - before;
    return worst;
}

static void test_publisher_down(void)
{
    /* the writes' usual time, with the publisher up */
    long long failed;
    long long usual = warm_four_writes("clip_8_vertical", "clip_9_vertical", &failed);
    CU_ASSERT_EQUAL(failed, 0);
    /* nothing listens at events_publish_url */
    char conf[700];
    snprintf(conf, sizeof conf, "events_publish_url = unix:%s/nobody.sock\n", F.dir);
    CU_ASSERT_EQUAL_FATAL(fullstack_restart_pool(&F, 2, conf), 0);
    long long refused = warm_four_writes("clip_12_vertical", "clip_10_vertical", &failed);
    CU_ASSERT_EQUAL(failed, 4);
    CU_ASSERT_TRUE(refused < usual + 100);
    fprintf(stderr, "slowest write: %lld ms with the publisher up, %lld ms with it refused\n",
            usual, refused);
    /* a publisher that takes the request and never answers: the deadline (200 ms), once */
    char hole[600];
    snprintf(hole, sizeof hole, "%s/hole.sock", F.dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    CU_ASSERT_FATAL(strlen(hole) < sizeof sa.sun_path);
    memcpy(sa.sun_path, hole, strlen(hole) + 1);
    CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
                    listen(fd, 64) == 0);
    snprintf(conf, sizeof conf, "events_publish_url = unix:%s\n", hole);
    CU_ASSERT_EQUAL_FATAL(fullstack_restart_pool(&F, 2, conf), 0);
    long long held = warm_four_writes("clip_13_vertical", "clip_11_vertical", &failed);
    CU_ASSERT_EQUAL(failed, 4);
    CU_ASSERT_TRUE(held < usual + 200 + 150);
    fprintf(stderr, "slowest write with a publisher that never answers: %lld ms\n", held);
    close(fd);
    /* the clips were written once each: the stored documents say so */
    json_object *j;
    CU_ASSERT_EQUAL(call("GET", "/api/videos/vid1/clips?style=vertical&limit=100", alice, NULL,
                         NULL, &j, NULL),
                    200);
    json_object *clips;
    int n9 = 0, n10 = 0, n11 = 0;
    if (json_object_object_get_ex(j, "clips", &clips))
        for (size_t i = 0; i < json_object_array_length(clips); i++) {
            const char *nm = jstr(json_object_array_get_idx(clips, i), "name");
            n9 += nm && strcmp(nm, "clip_9_vertical.mp4") == 0;
            n10 += nm && strcmp(nm, "clip_10_vertical.mp4") == 0;
            n11 += nm && strcmp(nm, "clip_11_vertical.mp4") == 0;
        }
    CU_ASSERT_TRUE(n9 == 1 && n10 == 1 && n11 == 1);
    json_object_put(j);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_ticket),
                           UNIT_TEST(test_stream_refusals),
                           UNIT_TEST(test_stream_receives),
                           UNIT_TEST(test_resume),
                           UNIT_TEST(test_abort_ids_refused),
                           UNIT_TEST(test_writes_publish),
                           UNIT_TEST(test_demo_page_in_a_browser),
                           UNIT_TEST(test_publisher_down),
                           CU_TEST_INFO_NULL};
    return unit_run("live_updates", tests, start, stop);
}
