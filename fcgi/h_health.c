/* h_health: liveness, answered without touching any backend. */
#include <stdio.h>

#include "app.h"
#include "handlers.h"

void h_healthz(request_t *rq, response_t *rs)
{
    (void)rq;
    buf_puts(&rs->body, "{\"status\":\"ok\"}");
}

/* Readiness: one cheap call to each backend with the configured credentials. A missing probe
 * document or object is the expected answer; anything else is not ready. */
void h_readyz(request_t *rq, response_t *rs)
{
    const app_t *app = rq->app;
    char fs_msg[400] = "ok", r2_msg[400] = "ok", err[256];
    int ready = 1;
    if (!app->fs) {
        snprintf(fs_msg, sizeof fs_msg, "%s", app->fs_err);
        ready = 0;
    } else {
        fs_doc d;
        clip_err e = fs_get(app->fs, rq->arena, "users/readyz-probe", &d, err, sizeof err);
        if (e != CLIP_OK && e != CLIP_ENOTFOUND) {
            snprintf(fs_msg, sizeof fs_msg, "%s: %s", clip_err_code(e), err);
            ready = 0;
        }
    }
    if (!app->r2) {
        snprintf(r2_msg, sizeof r2_msg, "%s", app->r2_err);
        ready = 0;
    } else {
        r2_head h;
        clip_err e = r2_head_object(app->r2, "readyz-probe", 12, &h, err, sizeof err);
        if (e != CLIP_OK && e != CLIP_ENOTFOUND) {
            snprintf(r2_msg, sizeof r2_msg, "%s: %s", clip_err_code(e), err);
            ready = 0;
        }
    }
    if (!ready) {
        resp_error(rs, rq, 503, "unavailable", "not ready: firestore: %s; r2: %s", fs_msg, r2_msg);
        return;
    }
    buf_puts(&rs->body, "{\"status\":\"ready\",\"checks\":{\"firestore\":\"ok\",\"r2\":\"ok\"}}");
}
