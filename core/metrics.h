/* metrics: pool-wide counters in one shared memory block (atomic adds), rendered as Prometheus text. */
#ifndef CLIP_METRICS_H
#define CLIP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_ROUTES_MAX 32
#define METRICS_BUCKETS 14 /* latency buckets, the last is +Inf */

typedef enum {
    METRICS_BE_FIRESTORE = 0,
    METRICS_BE_R2,
    METRICS_BE_TOKEN,
    METRICS_BE_KEYS,
    METRICS_BE_EVENTS, /* nchan's publisher (live updates) */
    METRICS_BE_OTHER,
    METRICS_BE__COUNT
} metrics_backend;

/* Creates the shared block; the master calls it once before forking. Without it every
 * metrics_* call is a no-op (clipctl, unit tests). Returns 0 on success. */
int metrics_init(void);
void metrics_free(void);

/* Routes are registered by pattern (the route table); returns the index used by
 * metrics_request, or the "other" slot. */
int metrics_route_index(const char *pattern);

void metrics_request(const char *route_pattern, int status, double ms);
/* One backend call: its latency, attempts (1 + retries) and whether it succeeded. */
void metrics_backend_call(const char *backend, double ms, int attempts, int ok);
void metrics_fallback(void);          /* a read answered from the legacy R2 layout */
void metrics_legacy_bad_name(void);   /* a legacy object whose name did not parse */
void metrics_event_published(int ok); /* one publish to nchan: delivered or failed */
void metrics_worker_restart(void);    /* the master respawned a crashed worker */
void metrics_set_pool_size(long n);   /* live workers, set by the master */

/* Appends the Prometheus text exposition of every counter. */
void metrics_render(buf_t *out);

#endif
