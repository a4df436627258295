/* metrics: a MAP_SHARED block made before fork, so every worker adds to the same counters. */
#include "metrics.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

static const double bucket_ms[METRICS_BUCKETS - 1] = {0.5, 1, 2.5, 5, 10, 25, 50,
                                                      100, 250, 500, 1000, 2500, 5000};
static const int status_codes[] = {200, 201, 204, 302, 304, 400, 401, 403, 404,
                                   405, 409, 413, 429, 500, 502, 503, 504, 0};
#define NSTATUS (sizeof status_codes / sizeof status_codes[0]) /* 0 = any other */
static const char *const backend_names[METRICS_BE__COUNT] = {"firestore", "r2", "token", "keys",
                                                              "events", "other"};

typedef struct {
    atomic_ullong buckets[METRICS_BUCKETS];
    atomic_ullong sum_us;
    atomic_ullong count;
} histo_t;

typedef struct {
    char route[METRICS_ROUTES_MAX][96];
    atomic_int nroutes;
    atomic_ullong requests[METRICS_ROUTES_MAX][NSTATUS];
    histo_t latency[METRICS_ROUTES_MAX];
    atomic_ullong be_calls[METRICS_BE__COUNT];
    atomic_ullong be_errors[METRICS_BE__COUNT];
    atomic_ullong be_retries[METRICS_BE__COUNT];
    histo_t be_latency[METRICS_BE__COUNT];
    atomic_ullong fallbacks;
    atomic_ullong legacy_bad_names;
    atomic_ullong worker_restarts;
    atomic_ullong events_published;
    atomic_ullong events_publish_failures;
    atomic_llong pool_size;
} shm_t;

static shm_t *shm;

int metrics_init(void)
{
    if (shm)
        return 0;
    void *p = mmap(NULL, sizeof(shm_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    memset(p, 0, sizeof(shm_t));
    shm = p;
    /* index 0 collects requests that matched no route */
    strcpy(shm->route[0], "none");
    atomic_store(&shm->nroutes, 1);
    return 0;
}

void metrics_free(void)
{
    if (shm)
        munmap(shm, sizeof(shm_t));
    shm = NULL;
}

int metrics_route_index(const char *pattern)
{
    if (!shm || !pattern)
        return 0;
    int n = atomic_load(&shm->nroutes);
    for (int i = 0; i < n; i++)
        if (strcmp(shm->route[i], pattern) == 0)
            return i;
    /* Registered by the master at start-up (before fork), so no two processes race here. */
    if (n >= METRICS_ROUTES_MAX || strlen(pattern) >= sizeof shm->route[0])
        return 0;
    memcpy(shm->route[n], pattern, strlen(pattern) + 1);
    atomic_store(&shm->nroutes, n + 1);
    return n;
}

static void observe(histo_t *h, double ms)
{
    int b = 0;
    while (b < METRICS_BUCKETS - 1 && ms > bucket_ms[b])
        b++;
    atomic_fetch_add(&h->buckets[b], 1);
    atomic_fetch_add(&h->sum_us, (unsigned long long)(ms * 1000.0 + 0.5));
    atomic_fetch_add(&h->count, 1);
}

void metrics_request(const char *route_pattern, int status, double ms)
{
    if (!shm)
        return;
    int r = 0;
    if (route_pattern) {
        int n = atomic_load(&shm->nroutes);
        for (int i = 1; i < n; i++)
            if (strcmp(shm->route[i], route_pattern) == 0)
                r = i;
    }
    size_t s = NSTATUS - 1;
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (status_codes[i] == status)
            s = i;
    atomic_fetch_add(&shm->requests[r][s], 1);
    observe(&shm->latency[r], ms);
}

static int backend_index(const char *b)
{
    for (int i = 0; b && i < METRICS_BE__COUNT - 1; i++)
        if (strcmp(backend_names[i], b) == 0)
            return i;
    return METRICS_BE_OTHER;
}

void metrics_backend_call(const char *backend, double ms, int attempts, int ok)
{
    if (!shm)
        return;
    int b = backend_index(backend);
    atomic_fetch_add(&shm->be_calls[b], 1);
    if (!ok)
        atomic_fetch_add(&shm->be_errors[b], 1);
    if (attempts > 1)
        atomic_fetch_add(&shm->be_retries[b], (unsigned long long)(attempts - 1));
    observe(&shm->be_latency[b], ms);
}

void metrics_fallback(void)
{
    if (shm)
        atomic_fetch_add(&shm->fallbacks, 1);
}

void metrics_legacy_bad_name(void)
{
    if (shm)
        atomic_fetch_add(&shm->legacy_bad_names, 1);
}

void metrics_event_published(int ok)
{
    if (shm)
        atomic_fetch_add(ok ? &shm->events_published : &shm->events_publish_failures, 1);
}

void metrics_worker_restart(void)
{
    if (shm)
        atomic_fetch_add(&shm->worker_restarts, 1);
}

void metrics_set_pool_size(long n)
{
    if (shm)
        atomic_store(&shm->pool_size, n);
}

static void render_histo(buf_t *out, const char *name, const char *label, const char *value,
                         histo_t *h)
{
    unsigned long long cum = 0;
    for (int b = 0; b < METRICS_BUCKETS; b++) {
        cum += atomic_load(&h->buckets[b]);
        if (b < METRICS_BUCKETS - 1)
            buf_printf(out, "%s_bucket{%s=\"%s\",le=\"%g\"} %llu\n", name, label, value,
                       bucket_ms[b] / 1000.0, cum);
        else
            buf_printf(out, "%s_bucket{%s=\"%s\",le=\"+Inf\"} %llu\n", name, label, value, cum);
    }
    buf_printf(out, "%s_sum{%s=\"%s\"} %.6f\n", name, label, value,
               (double)atomic_load(&h->sum_us) / 1e6);
    buf_printf(out, "%s_count{%s=\"%s\"} %llu\n", name, label, value, atomic_load(&h->count));
}

void metrics_render(buf_t *out)
{
    if (!shm) {
        buf_puts(out, "# metrics are not enabled in this process\n");
        return;
    }
    int n = atomic_load(&shm->nroutes);
    buf_puts(out, "# HELP clipapi_requests_total HTTP requests answered, by route and status.\n"
                  "# TYPE clipapi_requests_total counter\n");
    for (int r = 0; r < n; r++)
        for (size_t s = 0; s < NSTATUS; s++) {
            unsigned long long v = atomic_load(&shm->requests[r][s]);
            if (!v)
                continue;
            if (status_codes[s])
                buf_printf(out, "clipapi_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                           shm->route[r], status_codes[s], v);
            else
                buf_printf(out, "clipapi_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                           shm->route[r], v);
        }
    buf_puts(out, "# HELP clipapi_request_duration_seconds Time to answer, by route.\n"
                  "# TYPE clipapi_request_duration_seconds histogram\n");
    for (int r = 0; r < n; r++)
        if (atomic_load(&shm->latency[r].count))
            render_histo(out, "clipapi_request_duration_seconds", "route", shm->route[r],
                         &shm->latency[r]);
    buf_puts(out, "# HELP clipapi_backend_calls_total Calls to backends (after retries).\n"
                  "# TYPE clipapi_backend_calls_total counter\n");
    for (int b = 0; b < METRICS_BE__COUNT; b++)
        buf_printf(out, "clipapi_backend_calls_total{backend=\"%s\"} %llu\n", backend_names[b],
                   atomic_load(&shm->be_calls[b]));
    buf_puts(out, "# HELP clipapi_backend_errors_total Backend calls that failed.\n"
                  "# TYPE clipapi_backend_errors_total counter\n");
    for (int b = 0; b < METRICS_BE__COUNT; b++)
        buf_printf(out, "clipapi_backend_errors_total{backend=\"%s\"} %llu\n", backend_names[b],
                   atomic_load(&shm->be_errors[b]));
    buf_puts(out, "# HELP clipapi_backend_retries_total Extra attempts made by retries.\n"
                  "# TYPE clipapi_backend_retries_total counter\n");
    for (int b = 0; b < METRICS_BE__COUNT; b++)
        buf_printf(out, "clipapi_backend_retries_total{backend=\"%s\"} %llu\n", backend_names[b],
                   atomic_load(&shm->be_retries[b]));
    buf_puts(out, "# HELP clipapi_backend_duration_seconds Backend call latency incl. retries.\n"
                  "# TYPE clipapi_backend_duration_seconds histogram\n");
    for (int b = 0; b < METRICS_BE__COUNT; b++)
        if (atomic_load(&shm->be_latency[b].count))
            render_histo(out, "clipapi_backend_duration_seconds", "backend", backend_names[b],
                         &shm->be_latency[b]);
    buf_printf(out,
               "# HELP clipapi_fallbacks_total Reads answered from the legacy R2 layout.\n"
               "# TYPE clipapi_fallbacks_total counter\nclipapi_fallbacks_total %llu\n"
               "# HELP clipapi_legacy_bad_names_total Legacy objects whose names did not parse.\n"
               "# TYPE clipapi_legacy_bad_names_total counter\nclipapi_legacy_bad_names_total %llu\n"
               "# HELP clipapi_worker_restarts_total Crashed workers the master respawned.\n"
               "# TYPE clipapi_worker_restarts_total counter\nclipapi_worker_restarts_total %llu\n"
               "# HELP clipapi_pool_workers Live worker processes.\n"
               "# TYPE clipapi_pool_workers gauge\nclipapi_pool_workers %lld\n"
               "# HELP clipapi_events_published_total Live-update events nchan accepted.\n"
               "# TYPE clipapi_events_published_total counter\nclipapi_events_published_total %llu\n"
               "# HELP clipapi_events_publish_failures_total Live-update events that could not be "
               "published (the write itself succeeded).\n"
               "# TYPE clipapi_events_publish_failures_total counter\n"
               "clipapi_events_publish_failures_total %llu\n",
               atomic_load(&shm->fallbacks), atomic_load(&shm->legacy_bad_names),
               atomic_load(&shm->worker_restarts), atomic_load(&shm->pool_size),
               atomic_load(&shm->events_published), atomic_load(&shm->events_publish_failures));
}
