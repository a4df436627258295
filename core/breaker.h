/* breaker: one circuit breaker per backend, shared by every process and thread of the pool, so
 * that a backend that is down costs a call microseconds instead of its deadline. */
#ifndef CLIP_BREAKER_H
#define CLIP_BREAKER_H

#include "buf.h"

/* The backends with a breaker: the labels core/http requests carry (http_req.backend). */
typedef enum {
    BREAKER_FIRESTORE = 0,
    BREAKER_R2,
    BREAKER_TOKEN, /* Google's token endpoint (or the metadata server) */
    BREAKER_KEYS,  /* the ID-token key set */
    BREAKER__COUNT
} breaker_backend;

typedef enum { BREAKER_CLOSED = 0, BREAKER_OPEN, BREAKER_HALF_OPEN } breaker_state;

/* What one attempt says of its backend. */
typedef enum {
    BREAKER_UP,      /* it answered (any status but those below) */
    BREAKER_DOWN,    /* the kind that means "down": connect refused or timed out, the attempt timed
                        out, the connection broke, a 503 */
    BREAKER_NEUTRAL, /* says nothing either way: a 429, 502 or 504 (one overloaded or slow call),
                        our own failure before or after sending */
} breaker_outcome;

#define BREAKER_FAILURES_DEFAULT 5        /* breaker_failures */
#define BREAKER_COOLDOWN_MS_DEFAULT 2000  /* breaker_cooldown_ms */
#define BREAKER_RETRY_AFTER_MAX_MS 60000L /* a backend's Retry-After is honoured up to this */

/* Makes the pool-wide block in shared memory; the master calls it once before forking, and every
 * worker then shares each breaker. Without it each process has breakers of its own (clipctl,
 * tests). Returns 0 on success. */
int breaker_init_shared(void);
void breaker_free_shared(void);

/* Settings (the master at start and on reload, clipctl at start): failures down-kind outcomes in
 * a row open a breaker (0: breakers never open), for cooldown_ms. Until called, breakers are off. */
void breaker_configure(long failures, long cooldown_ms);

/* The breaker of a backend label ("firestore", ...), or -1 for a backend without one. */
int breaker_index(const char *backend);

/* A call's permission for one attempt. */
typedef struct {
    int index; /* -1: no breaker (nothing to report) */
    int probe; /* 1: this attempt is the half-open probe that decides whether the breaker closes */
} breaker_ticket;

/* Asks before an attempt to backend (a label; one without a breaker is always let through). 1: go,
 * and report its outcome with breaker_report; 0: refused at once (the breaker is open, or a probe
 * is out), *retry_in_ms (may be NULL) gets how long until a probe may go. A probe holds its turn
 * for lease_ms at most (the attempt's deadline), so a probe that never reports cannot block. */
int breaker_admit(const char *backend, long lease_ms, breaker_ticket *t, long *retry_in_ms);
/* As breaker_admit, for a call sent together with a probe to the same backend (one round trip of
 * http_do_many): it goes too, as part of that probe. */
void breaker_join_probe(const breaker_ticket *probe, breaker_ticket *t);

/* The outcome of an admitted attempt. retry_after_ms > 0: the backend asked for that pause (a
 * 429 or 503 with Retry-After): the breaker opens at once for that long (up to
 * BREAKER_RETRY_AFTER_MAX_MS), whatever the count. */
void breaker_report(const breaker_ticket *t, breaker_outcome o, long retry_after_ms);

/* The state of backend i, and (when not closed) the ms until a probe may go. */
breaker_state breaker_state_of(int i, long *retry_in_ms);
/* Seconds a client should wait before retrying a call that failed on backend label (for the
 * Retry-After of an error answer): the time until the breaker lets a probe through when it is
 * not closed, rounded up, else 1. */
long breaker_retry_after_s(const char *backend);

/* Appends the Prometheus text of every breaker: state, transitions, refused calls. */
void breaker_render(buf_t *out);

/* Closes every breaker and forgets its counts (tests). */
void breaker_reset(void);

#endif
