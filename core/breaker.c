/* breaker: the breakers' state in one block of atomics, MAP_SHARED when the master made it before
 * fork (every worker process and thread then sees the same breakers), private otherwise. No lock:
 * a transition is a compare-and-swap of the state, and only its winner logs and counts it. */
#include "breaker.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "log.h"

static const char *const names[BREAKER__COUNT] = {"firestore", "r2", "token", "keys"};
static const char *const state_names[] = {"closed", "open", "half_open"};

typedef struct {
    atomic_int state;
    atomic_int failures;           /* down-kind outcomes in a row */
    atomic_llong open_until;       /* CLOCK_MONOTONIC ms: no probe before */
    atomic_llong probe_until;      /* the probe's turn ends (0: no probe out) */
    atomic_llong opened_at;        /* when it last opened from closed, for the "closed" line */
    atomic_ullong transitions[3];  /* by the state entered */
    atomic_ullong refused;         /* calls failed at once */
} brk_t;

typedef struct {
    atomic_long failures_max; /* 0: off */
    atomic_long cooldown_ms;
    brk_t b[BREAKER__COUNT];
} block_t;

static block_t local; /* this process's own breakers, until breaker_init_shared */
static block_t *blk = &local;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* one clock for every process of the machine */
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int breaker_init_shared(void)
{
    if (blk != &local)
        return 0;
    void *p = mmap(NULL, sizeof(block_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    memset(p, 0, sizeof(block_t));
    block_t *s = p;
    atomic_store(&s->failures_max, atomic_load(&local.failures_max));
    atomic_store(&s->cooldown_ms, atomic_load(&local.cooldown_ms));
    blk = s;
    return 0;
}

void breaker_free_shared(void)
{
    if (blk == &local)
        return;
    munmap(blk, sizeof(block_t));
    blk = &local;
}

void breaker_configure(long failures, long cooldown_ms)
{
    atomic_store(&blk->failures_max, failures > 0 ? failures : 0);
    atomic_store(&blk->cooldown_ms, cooldown_ms > 0 ? cooldown_ms : BREAKER_COOLDOWN_MS_DEFAULT);
}

int breaker_index(const char *backend)
{
    for (int i = 0; backend && i < BREAKER__COUNT; i++)
        if (strcmp(names[i], backend) == 0)
            return i;
    return -1;
}

/* The winner of a transition says so: one line and one count per change of state. */
static void entered(int i, breaker_state to, const char *why, long long arg)
{
    brk_t *b = &blk->b[i];
    atomic_fetch_add(&b->transitions[to], 1);
    char m[256];
    switch (to) {
    case BREAKER_OPEN:
        snprintf(m, sizeof m, ",\"backend\":\"%s\",\"reason\":\"%s\",\"cooldown_ms\":%lld", names[i],
                 why, arg);
        log_json(CFG_LOG_WARN, "breaker_open", m);
        break;
    case BREAKER_HALF_OPEN:
        snprintf(m, sizeof m, ",\"backend\":\"%s\"", names[i]);
        log_json(CFG_LOG_INFO, "breaker_half_open", m);
        break;
    case BREAKER_CLOSED:
        snprintf(m, sizeof m, ",\"backend\":\"%s\",\"open_ms\":%lld", names[i], arg);
        log_json(CFG_LOG_INFO, "breaker_closed", m);
        break;
    }
}

int breaker_admit(const char *backend, long lease_ms, breaker_ticket *t, long *retry_in_ms)
{
    int i = breaker_index(backend);
    t->index = -1;
    t->probe = 0;
    if (retry_in_ms)
        *retry_in_ms = 0;
    if (i < 0 || atomic_load(&blk->failures_max) == 0)
        return 1;
    brk_t *b = &blk->b[i];
    t->index = i;
    int s = atomic_load(&b->state);
    if (s == BREAKER_CLOSED)
        return 1;
    long long now = now_ms(), until = atomic_load(&b->open_until);
    if (now < until) {
        atomic_fetch_add(&b->refused, 1);
        if (retry_in_ms)
            *retry_in_ms = (long)(until - now);
        return 0;
    }
    /* the cool-down is over: one caller at a time takes the probe's turn */
    long long pu = atomic_load(&b->probe_until);
    if (pu > now || !atomic_compare_exchange_strong(&b->probe_until, &pu,
                                                    now + (lease_ms > 0 ? lease_ms : 1))) {
        atomic_fetch_add(&b->refused, 1);
        if (retry_in_ms) {
            long long left = atomic_load(&b->probe_until) - now;
            *retry_in_ms = left > 0 ? (long)left : 0;
        }
        return 0;
    }
    int open = BREAKER_OPEN;
    if (atomic_compare_exchange_strong(&b->state, &open, BREAKER_HALF_OPEN))
        entered(i, BREAKER_HALF_OPEN, NULL, 0);
    t->probe = 1;
    return 1;
}

void breaker_join_probe(const breaker_ticket *probe, breaker_ticket *t)
{
    *t = *probe;
}

/* Opens breaker i (from any state but open) until now + ms. */
static void open_for(int i, long long ms, const char *why)
{
    brk_t *b = &blk->b[i];
    long long now = now_ms();
    /* open_until before the state: a caller that sees "open" must never see an old deadline */
    long long until = atomic_load(&b->open_until);
    while (until < now + ms && !atomic_compare_exchange_weak(&b->open_until, &until, now + ms))
        ;
    atomic_store(&b->probe_until, 0);
    int s = atomic_load(&b->state);
    while (s != BREAKER_OPEN) {
        if (atomic_compare_exchange_weak(&b->state, &s, BREAKER_OPEN)) {
            if (s == BREAKER_CLOSED)
                atomic_store(&b->opened_at, now);
            entered(i, BREAKER_OPEN, why, ms);
            break;
        }
    }
}

void breaker_report(const breaker_ticket *t, breaker_outcome o, long retry_after_ms)
{
    if (!t || t->index < 0 || t->index >= BREAKER__COUNT)
        return;
    long max = atomic_load(&blk->failures_max);
    if (max == 0)
        return;
    int i = t->index;
    brk_t *b = &blk->b[i];
    long long cooldown = atomic_load(&blk->cooldown_ms);
    if (retry_after_ms > 0) {
        long long ms = retry_after_ms > BREAKER_RETRY_AFTER_MAX_MS ? BREAKER_RETRY_AFTER_MAX_MS
                                                                   : retry_after_ms;
        open_for(i, ms, "retry-after");
        return;
    }
    switch (o) {
    case BREAKER_UP: {
        atomic_store(&b->failures, 0);
        int s = atomic_load(&b->state);
        while (s != BREAKER_CLOSED) {
            if (atomic_compare_exchange_weak(&b->state, &s, BREAKER_CLOSED)) {
                atomic_store(&b->probe_until, 0);
                entered(i, BREAKER_CLOSED, NULL, now_ms() - atomic_load(&b->opened_at));
                break;
            }
        }
        break;
    }
    case BREAKER_DOWN: {
        int n = atomic_fetch_add(&b->failures, 1) + 1;
        int s = atomic_load(&b->state);
        if (t->probe && s == BREAKER_HALF_OPEN)
            open_for(i, cooldown, "probe failed");
        else if (s == BREAKER_CLOSED && n >= max)
            open_for(i, cooldown, "failures in a row");
        break;
    }
    case BREAKER_NEUTRAL:
        if (t->probe) /* undecided: let the next caller probe */
            atomic_store(&b->probe_until, 0);
        break;
    }
}

breaker_state breaker_state_of(int i, long *retry_in_ms)
{
    if (retry_in_ms)
        *retry_in_ms = 0;
    if (i < 0 || i >= BREAKER__COUNT)
        return BREAKER_CLOSED;
    brk_t *b = &blk->b[i];
    breaker_state s = (breaker_state)atomic_load(&b->state);
    if (s != BREAKER_CLOSED && retry_in_ms) {
        long long left = atomic_load(&b->open_until) - now_ms();
        *retry_in_ms = left > 0 ? (long)left : 0;
    }
    return s;
}

long breaker_retry_after_s(const char *backend)
{
    long ms = 0;
    if (breaker_state_of(breaker_index(backend), &ms) == BREAKER_CLOSED || ms <= 0)
        return 1;
    return (ms + 999) / 1000;
}

void breaker_render(buf_t *out)
{
    buf_puts(out, "# HELP clipapi_breaker_state Circuit breaker of each backend: 0 closed, 1 open, "
                  "2 half-open (one probe out).\n"
                  "# TYPE clipapi_breaker_state gauge\n");
    for (int i = 0; i < BREAKER__COUNT; i++)
        buf_printf(out, "clipapi_breaker_state{backend=\"%s\"} %d\n", names[i],
                   atomic_load(&blk->b[i].state));
    buf_puts(out, "# HELP clipapi_breaker_transitions_total Changes of state of each breaker, by "
                  "the state entered (to=\"open\" counts the openings).\n"
                  "# TYPE clipapi_breaker_transitions_total counter\n");
    for (int i = 0; i < BREAKER__COUNT; i++)
        for (int s = 0; s < 3; s++)
            buf_printf(out, "clipapi_breaker_transitions_total{backend=\"%s\",to=\"%s\"} %llu\n",
                       names[i], state_names[s], atomic_load(&blk->b[i].transitions[s]));
    buf_puts(out, "# HELP clipapi_breaker_refused_total Backend calls failed at once by an open "
                  "breaker.\n"
                  "# TYPE clipapi_breaker_refused_total counter\n");
    for (int i = 0; i < BREAKER__COUNT; i++)
        buf_printf(out, "clipapi_breaker_refused_total{backend=\"%s\"} %llu\n", names[i],
                   atomic_load(&blk->b[i].refused));
}

void breaker_reset(void)
{
    for (int i = 0; i < BREAKER__COUNT; i++) {
        brk_t *b = &blk->b[i];
        atomic_store(&b->state, BREAKER_CLOSED);
        atomic_store(&b->failures, 0);
        atomic_store(&b->open_until, 0);
        atomic_store(&b->probe_until, 0);
        atomic_store(&b->opened_at, 0);
        for (int s = 0; s < 3; s++)
            atomic_store(&b->transitions[s], 0);
        atomic_store(&b->refused, 0);
    }
}
