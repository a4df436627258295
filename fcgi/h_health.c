/* h_health: liveness, answered without touching any backend, and readiness. */
#include <stdio.h>

#include "app.h"
#include "handlers.h"
#include "log.h"

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

/* Readiness: one cheap call to each backend with the configured credentials. A missing probe
 * document or object is the expected answer; anything else is not ready. */
void h_readyz(request_t *rq, response_t *rs)
{
    const app_t *app = rq->app;
    char err[512];
    const char *fs_state = "not configured", *r2_state = "not configured";
    if (app->fs) {
        fs_doc d;
        clip_err e = fs_get(app->fs, rq->arena, "users/readyz-probe", &d, err, sizeof err);
        fs_state = probe_state(e, "firestore", err);
    }
    if (app->r2) {
        r2_head h;
        clip_err e = r2_head_object(app->r2, "readyz-probe", 12, &h, err, sizeof err);
        r2_state = probe_state(e, "r2", err);
    }
    if (fs_state[0] != 'o' || r2_state[0] != 'o') {
        snprintf(err, sizeof err, "not ready: firestore: %s; r2: %s", fs_state, r2_state);
        resp_fail_public(rs, rq, CLIP_EUNAVAILABLE, err);
        return;
    }
    buf_puts(&rs->body, "{\"status\":\"ready\",\"checks\":{\"firestore\":\"ok\",\"r2\":\"ok\"}}");
}
