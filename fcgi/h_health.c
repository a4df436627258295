/* h_health: liveness, answered without touching any backend, and readiness. */
#include <stdio.h>

#include "app.h"
#include "handlers.h"
#include "log.h"
#include "ready.h"

void h_healthz(request_t *rq, response_t *rs)
{
    (void)rq;
    buf_puts(&rs->body, "{\"status\":\"ok\"}");
}

/* "ok", "not configured", or what kind of failure a probe's error was ("unavailable"); the
 * detail goes to the log. */
static const char *probe_state(clip_err e, const char *what, const char *detail)
{
    if (e == CLIP_OK || e == CLIP_ENOTFOUND)
        return "ok";
    log_warn("readyz", "%s: %s: %s", what, clip_err_code(e), detail);
    switch (e) {
    case CLIP_ETIMEOUT:
        return "deadline_exceeded";
    case CLIP_EUNAVAILABLE:
        return "unavailable";
    case CLIP_EAUTH:
    case CLIP_EFORBIDDEN:
        return "refused the credentials";
    default:
        return "answered badly";
    }
}

/* Readiness: one cheap call to each backend with the configured credentials, sent together within
 * READY_DEADLINE_MS (an open breaker answers at once). A missing probe document or object is the
 * expected answer; anything else is not ready. */
void h_readyz(request_t *rq, response_t *rs)
{
    const app_t *app = rq->app;
    ready_result r;
    ready_check(app->fs, app->r2, READY_DEADLINE_MS, &r);
    const char *fs_state = app->fs ? probe_state(r.fs, "firestore", r.fs_err) : "not configured";
    const char *r2_state = app->r2 ? probe_state(r.r2, "r2", r.r2_err) : "not configured";
    if (r.fs != CLIP_OK || r.r2 != CLIP_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "not ready: firestore: %s; r2: %s", fs_state, r2_state);
        resp_fail_public(rs, rq, CLIP_EUNAVAILABLE, msg);
        return;
    }
    buf_puts(&rs->body, "{\"status\":\"ready\",\"checks\":{\"firestore\":\"ok\",\"r2\":\"ok\"}}");
}
