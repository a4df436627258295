/* Live updates across VMs: two stacks (pool + nginx each, as two VMs) whose nchan keeps its
 * channels in one redis-server (the production switch, nginx/clipapi/events-redis.conf), all on
 * 127.0.0.1: an event published through one reaches a subscriber of the other, and a client
 * resumes through the other with exactly the events it missed. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "evticket.h"
#include "stack.h"
#include "unit.h"

#define EVENT_WAIT_MS 5000

static tstack vm1, vm2;
static tp_proc redis;
static int redis_port;
static events_pub *pub1; /* what vm1's pool publishes to: vm1's nchan */
static char ticket[1024];

static events_pub *pub_at(const tstack *s)
{
    char conf[700], text[700], err[256];
    snprintf(conf, sizeof conf, "%s/pub.conf", s->dir);
    snprintf(text, sizeof text, "events_publish_url = unix:%s\n", s->events_sock);
    cfg_t *c = NULL;
    events_pub *p = NULL;
    if (tp_write_file(conf, text) != 0 || cfg_load(conf, &c, err, sizeof err) != CLIP_OK ||
        events_pub_new(c, &p, err, sizeof err) != CLIP_OK)
        fprintf(stderr, "publisher: %s\n", err);
    cfg_free(c);
    return p;
}

static int stop(void);

/* Starts redis-server and the two VMs; what started is stopped again when a part fails. */
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
    char dir[400], port[16];
    if (tp_tempdir("redis", dir, sizeof dir) != 0)
        return 1;
    redis_port = tp_free_port();
    snprintf(port, sizeof port, "%d", redis_port);
    char *argv[] = {"redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", dir, "--protected-mode", "yes", NULL};
    if (tp_start(&redis, "redis-server", argv, NULL, "Ready to accept connections", 15000) != 0) {
        tp_dump_log(&redis, 20);
        return 1;
    }
    char where[64];
    snprintf(where, sizeof where, "127.0.0.1:%d", redis_port);
    setenv("EVENTS_REDIS", where, 1); /* read by nginx/render-local */
    int rc = stack_start(&vm1, "vm1", 1, NULL, NULL);
    /* both VMs sign tickets with the same key, as README's deployment says */
    char extra[700];
    snprintf(extra, sizeof extra, "events_ticket_key_file = %s\n", vm1.events_key_file);
    if (rc == 0)
        rc = stack_start(&vm2, "vm2", 1, extra, NULL);
    unsetenv("EVENTS_REDIS");
    if (rc != 0)
        return 1;
    evticket_keys k;
    char err[256];
    buf_t t = BUF_INIT;
    if (evticket_load_keys(vm1.events_key_file, &k, err, sizeof err) != CLIP_OK ||
        evticket_make(&k, "ursula", "v1", time(NULL) + 600, &t) != CLIP_OK) {
        buf_free(&t);
        return 1;
    }
    snprintf(ticket, sizeof ticket, "%s", t.p);
    buf_free(&t);
    evticket_keys_clear(&k);
    pub1 = pub_at(&vm1);
    return pub1 ? 0 : 1;
}

static int stop(void)
{
    events_pub_free(pub1);
    stack_stop(&vm2);
    stack_stop(&vm1);
    if (redis.pid > 0)
        tp_stop(&redis, SIGTERM, 5000);
    return 0;
}

/* An EventSource (tests/events/sse-client.mjs) on vm's stream of ursula/v1; 0 once open. */
static int sse_start(tp_proc *p, const tstack *vm, const char *last_id)
{
    char runner[600], script[600], url[2048], ca[600];
    /* eventsource 4 needs Node >= 20: tools/node/run chooses it */
    snprintf(runner, sizeof runner, "%s/tools/node/run", tp_top());
    snprintf(script, sizeof script, "%s/tests/events/sse-client.mjs", tp_top());
    snprintf(url, sizeof url, "%s/api/videos/v1/events?ticket=%s", vm->url, ticket);
    snprintf(ca, sizeof ca, "NODE_EXTRA_CA_CERTS=%s/tls/cert.pem", vm->dir);
    char *argv[] = {runner, "node", script, url, last_id ? "--last-event-id" : NULL,
                    (char *)last_id, NULL};
    char *env[] = {ca, NULL};
    if (tp_start(p, "sse-client", argv, env, "\"type\":\"open\"", 15000) != 0) {
        tp_dump_log(p, 10);
        return -1;
    }
    return 0;
}

/* The data and ids of the events in the client's log, in order; returns how many. */
static int events_of(const tp_proc *p, char data[][64], char ids[][32], int max, int want,
                     int timeout_ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int n = 0;
        FILE *f = fopen(p->log, "r");
        char line[4096];
        while (f && n < max && fgets(line, sizeof line, f)) {
            json_object *j = json_tokener_parse(line), *v;
            if (j && json_object_object_get_ex(j, "type", &v) &&
                strcmp(json_object_get_string(v), "clip") == 0) {
                json_object_object_get_ex(j, "data", &v);
                snprintf(data[n], 64, "%s", json_object_get_string(v));
                json_object_object_get_ex(j, "id", &v);
                snprintf(ids[n], 32, "%s", json_object_get_string(v));
                n++;
            }
            json_object_put(j);
        }
        if (f)
            fclose(f);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (n >= want || ms > timeout_ms)
            return n;
        struct timespec d = {0, 20 * 1000000L};
        nanosleep(&d, NULL);
    }
}

static int publish(const char *data)
{
    return events_publish(pub1, "ursula", "v1", "clip", data, strlen(data)) == CLIP_OK ? 0 : -1;
}

static void test_publish_on_one_receive_on_the_other(void)
{
    tp_proc a;
    CU_ASSERT_EQUAL_FATAL(sse_start(&a, &vm2, NULL), 0);
    CU_ASSERT_EQUAL(publish("{\"n\":1}"), 0);
    CU_ASSERT_EQUAL(publish("{\"n\":2}"), 0);
    char data[8][64], ids[8][32];
    CU_ASSERT_EQUAL(events_of(&a, data, ids, 8, 2, EVENT_WAIT_MS), 2);
    UNIT_ASSERT_STR(data[0], "{\"n\":1}");
    UNIT_ASSERT_STR(data[1], "{\"n\":2}");
    tp_stop(&a, SIGTERM, 3000);
    /* gone: two events it misses, published through vm1 */
    char seen[32];
    snprintf(seen, sizeof seen, "%s", ids[1]);
    CU_ASSERT_EQUAL(publish("{\"n\":3}"), 0);
    CU_ASSERT_EQUAL(publish("{\"n\":4}"), 0);
    /* back through vm2 with Last-Event-ID: exactly those two, then the next live one */
    tp_proc b;
    CU_ASSERT_EQUAL_FATAL(sse_start(&b, &vm2, seen), 0);
    CU_ASSERT_EQUAL(events_of(&b, data, ids, 8, 2, EVENT_WAIT_MS), 2);
    CU_ASSERT_EQUAL(publish("{\"n\":5}"), 0);
    CU_ASSERT_EQUAL(events_of(&b, data, ids, 8, 3, EVENT_WAIT_MS), 3);
    UNIT_ASSERT_STR(data[0], "{\"n\":3}");
    UNIT_ASSERT_STR(data[1], "{\"n\":4}");
    UNIT_ASSERT_STR(data[2], "{\"n\":5}");
    tp_stop(&b, SIGTERM, 3000);
    /* and through vm1 too, from the same id */
    tp_proc c;
    CU_ASSERT_EQUAL_FATAL(sse_start(&c, &vm1, seen), 0);
    CU_ASSERT_EQUAL(events_of(&c, data, ids, 8, 3, EVENT_WAIT_MS), 3);
    UNIT_ASSERT_STR(data[2], "{\"n\":5}");
    tp_stop(&c, SIGTERM, 3000);
}

static void test_redis_holds_the_buffer(void)
{
    /* the channel and its messages are in Redis, not in either nginx */
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "redis-cli -p %s --raw keys '*ursula.v1*' | grep -c msg", port);
    FILE *f = popen(cmd, "r");
    int n = 0;
    CU_ASSERT_TRUE(f && fscanf(f, "%d", &n) == 1);
    if (f)
        pclose(f);
    CU_ASSERT_EQUAL(n, 5);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_publish_on_one_receive_on_the_other),
                           UNIT_TEST(test_redis_holds_the_buffer), CU_TEST_INFO_NULL};
    return unit_run("live_updates_redis", tests, start, stop);
}
