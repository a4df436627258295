/* Tests of core/breaker: opening after failures in a row, the cool-down, one probe at a time,
 * closing and reopening, Retry-After, the off switch, the metrics, and one state shared by forked
 * processes and threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "breaker.h"
#include "unit.h"

#define COOLDOWN 200

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int admit(const char *b, breaker_ticket *t)
{
    return breaker_admit(b, 1000, t, NULL);
}

static void fail_n(const char *b, int n)
{
    for (int i = 0; i < n; i++) {
        breaker_ticket t;
        CU_ASSERT_EQUAL(admit(b, &t), 1);
        breaker_report(&t, BREAKER_DOWN, 0);
    }
}

static void setup(void)
{
    breaker_configure(3, COOLDOWN);
    breaker_reset();
}

static void test_opens_after_failures_in_a_row(void)
{
    setup();
    breaker_ticket t;
    fail_n("firestore", 2);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_CLOSED);
    /* an answer resets the count: failures must come in a row */
    CU_ASSERT_EQUAL(admit("firestore", &t), 1);
    breaker_report(&t, BREAKER_UP, 0);
    fail_n("firestore", 2);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_CLOSED);
    /* a neutral outcome (429, 504) neither counts nor resets */
    CU_ASSERT_EQUAL(admit("firestore", &t), 1);
    breaker_report(&t, BREAKER_NEUTRAL, 0);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_CLOSED);
    fail_n("firestore", 1);
    long left = 0;
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, &left), BREAKER_OPEN);
    CU_ASSERT_TRUE(left > 0 && left <= COOLDOWN);
    /* refused at once, saying how long until a probe */
    long retry_in = 0;
    CU_ASSERT_EQUAL(breaker_admit("firestore", 1000, &t, &retry_in), 0);
    CU_ASSERT_TRUE(retry_in > 0 && retry_in <= COOLDOWN);
    CU_ASSERT_EQUAL(breaker_retry_after_s("firestore"), 1);
    /* other backends are untouched; a label without a breaker always goes */
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_R2, NULL), BREAKER_CLOSED);
    CU_ASSERT_EQUAL(admit("r2", &t), 1);
    CU_ASSERT_EQUAL(admit("events", &t), 1);
    CU_ASSERT_EQUAL(t.index, -1);
    CU_ASSERT_EQUAL(breaker_index("keys"), BREAKER_KEYS);
    CU_ASSERT_EQUAL(breaker_index("http"), -1);
}

static void test_one_probe_closes(void)
{
    setup();
    fail_n("r2", 3);
    breaker_ticket t, p;
    CU_ASSERT_EQUAL(admit("r2", &t), 0);
    sleep_ms(COOLDOWN + 20);
    /* after the cool-down one caller probes; the others are still refused meanwhile */
    CU_ASSERT_EQUAL(admit("r2", &p), 1);
    CU_ASSERT_EQUAL(p.probe, 1);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_R2, NULL), BREAKER_HALF_OPEN);
    CU_ASSERT_EQUAL(admit("r2", &t), 0);
    /* a call sent together with the probe joins it */
    breaker_join_probe(&p, &t);
    CU_ASSERT_EQUAL(t.probe, 1);
    breaker_report(&p, BREAKER_UP, 0);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_R2, NULL), BREAKER_CLOSED);
    CU_ASSERT_EQUAL(admit("r2", &t), 1);
    CU_ASSERT_EQUAL(t.probe, 0);
    /* closed means closed: it takes the full count to open again */
    fail_n("r2", 2);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_R2, NULL), BREAKER_CLOSED);
}

static void test_failed_probe_reopens(void)
{
    setup();
    fail_n("token", 3);
    sleep_ms(COOLDOWN + 20);
    breaker_ticket p, t;
    CU_ASSERT_EQUAL(admit("token", &p), 1);
    CU_ASSERT_EQUAL(p.probe, 1);
    breaker_report(&p, BREAKER_DOWN, 0);
    long left = 0;
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_TOKEN, &left), BREAKER_OPEN);
    CU_ASSERT_TRUE(left > COOLDOWN / 2); /* a fresh cool-down */
    CU_ASSERT_EQUAL(admit("token", &t), 0);
    /* an undecided probe (our own failure) hands the turn to the next caller */
    sleep_ms(COOLDOWN + 20);
    CU_ASSERT_EQUAL(admit("token", &p), 1);
    breaker_report(&p, BREAKER_NEUTRAL, 0);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_TOKEN, NULL), BREAKER_HALF_OPEN);
    CU_ASSERT_EQUAL(admit("token", &p), 1);
    CU_ASSERT_EQUAL(p.probe, 1);
    breaker_report(&p, BREAKER_UP, 0);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_TOKEN, NULL), BREAKER_CLOSED);
}

static void test_probe_lease_lapses(void)
{
    setup();
    fail_n("keys", 3);
    sleep_ms(COOLDOWN + 20);
    breaker_ticket p, t;
    CU_ASSERT_EQUAL(breaker_admit("keys", 50, &p, NULL), 1); /* a probe that never reports */
    CU_ASSERT_EQUAL(admit("keys", &t), 0);
    sleep_ms(80);
    CU_ASSERT_EQUAL(admit("keys", &t), 1);
    CU_ASSERT_EQUAL(t.probe, 1);
}

static void test_retry_after_opens_at_once(void)
{
    setup();
    breaker_ticket t;
    CU_ASSERT_EQUAL(admit("firestore", &t), 1);
    breaker_report(&t, BREAKER_NEUTRAL, 1500); /* a 429 with Retry-After: 2, say */
    long left = 0;
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, &left), BREAKER_OPEN);
    CU_ASSERT_TRUE(left > 1400 && left <= 1500);
    CU_ASSERT_EQUAL(breaker_retry_after_s("firestore"), 2);
    /* capped */
    breaker_reset();
    CU_ASSERT_EQUAL(admit("firestore", &t), 1);
    breaker_report(&t, BREAKER_DOWN, 3600L * 1000);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, &left), BREAKER_OPEN);
    CU_ASSERT_TRUE(left <= BREAKER_RETRY_AFTER_MAX_MS && left > BREAKER_RETRY_AFTER_MAX_MS - 100);
    CU_ASSERT_EQUAL(breaker_retry_after_s("firestore"), BREAKER_RETRY_AFTER_MAX_MS / 1000);
    CU_ASSERT_EQUAL(breaker_retry_after_s("r2"), 1); /* closed: the default */
    breaker_reset();
}

static void test_off(void)
{
    breaker_configure(0, COOLDOWN);
    breaker_reset();
    for (int i = 0; i < 20; i++) {
        breaker_ticket t;
        CU_ASSERT_EQUAL(admit("firestore", &t), 1);
        breaker_report(&t, BREAKER_DOWN, 5000);
    }
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_CLOSED);
}

static void test_metrics(void)
{
    setup();
    fail_n("firestore", 3);
    breaker_ticket t;
    admit("firestore", &t);
    admit("firestore", &t);
    buf_t b = BUF_INIT;
    breaker_render(&b);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "# TYPE clipapi_breaker_state gauge\n"
                                       "clipapi_breaker_state{backend=\"firestore\"} 1\n"
                                       "clipapi_breaker_state{backend=\"r2\"} 0\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(b.p, "clipapi_breaker_transitions_total{backend=\"firestore\",to=\"open\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(b.p, "clipapi_breaker_transitions_total{backend=\"firestore\",to=\"closed\"} 0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "clipapi_breaker_refused_total{backend=\"firestore\"} 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "clipapi_breaker_refused_total{backend=\"keys\"} 0\n"));
    buf_free(&b);
}

/* The master's block is shared: a child's failures open the parent's breaker, and the parent's
 * probe closes it for the child. */
static void test_shared_across_fork(void)
{
    CU_ASSERT_EQUAL_FATAL(breaker_init_shared(), 0);
    breaker_configure(3, COOLDOWN);
    breaker_reset();
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++) {
            breaker_ticket t;
            breaker_admit("firestore", 1000, &t, NULL);
            breaker_report(&t, BREAKER_DOWN, 0);
        }
        _exit(0);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(breaker_state_of(BREAKER_FIRESTORE, NULL), BREAKER_OPEN);
    sleep_ms(COOLDOWN + 20);
    breaker_ticket p;
    CU_ASSERT_EQUAL(admit("firestore", &p), 1);
    pid = fork();
    if (pid == 0) {
        breaker_ticket t;
        int refused = breaker_admit("firestore", 1000, &t, NULL) == 0; /* the parent probes */
        _exit(refused ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    breaker_report(&p, BREAKER_UP, 0);
    pid = fork();
    if (pid == 0)
        _exit(breaker_state_of(BREAKER_FIRESTORE, NULL) == BREAKER_CLOSED ? 0 : 1);
    waitpid(pid, &st, 0);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    breaker_free_shared();
}

/* Many threads at once, each failing: exactly one transition to open, one log line. */
static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        breaker_ticket t;
        if (breaker_admit("r2", 1000, &t, NULL))
            breaker_report(&t, BREAKER_DOWN, 0);
    }
    return NULL;
}

static void test_threads_open_once(void)
{
    breaker_configure(3, 60000);
    breaker_reset();
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, hammer, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    buf_t b = BUF_INIT;
    breaker_render(&b);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(b.p, "clipapi_breaker_transitions_total{backend=\"r2\",to=\"open\"} 1\n"));
    buf_free(&b);
    breaker_reset();
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_opens_after_failures_in_a_row),
                           UNIT_TEST(test_one_probe_closes),
                           UNIT_TEST(test_failed_probe_reopens),
                           UNIT_TEST(test_probe_lease_lapses),
                           UNIT_TEST(test_retry_after_opens_at_once),
                           UNIT_TEST(test_off),
                           UNIT_TEST(test_metrics),
                           UNIT_TEST(test_shared_across_fork),
                           UNIT_TEST(test_threads_open_once),
                           CU_TEST_INFO_NULL};
    return unit_run("breaker", tests, NULL, NULL);
}
