/* h_internal: the workflow's write path (CONTRACT section 4, internal endpoints): the router
 * checked the service key, then the body is validated in full (core/body), then one repository
 * call, answered in the workflow view (core/view), and its one live-update event published
 * (core/events; bounded by events_publish_timeout_ms, never failing the write). */
#include <string.h>
#include <time.h>

#include "app.h"
#include "body.h"
#include "handlers.h"
#include "log.h"

#define H_INTERNAL_ERR_MAX 512

static const char *param(const request_t *rq, const char *name)
{
    return req_path_param(rq, name).p;
}

void h_internal_video_put(request_t *rq, response_t *rs)
{
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    char err[H_INTERNAL_ERR_MAX];
    video_rec in, out;
    unsigned mask = 0;
    int created = 0;
    clip_err e = body_parse_video(rq->arena, uid, video_id, rq->body, rq->body_len, &in, &mask, err,
                                  sizeof err);
    if (e == CLIP_OK)
        e = videos_create_or_update(rq->app->fs, rq->arena, uid, video_id, &in, mask, &out,
                                    &created, err, sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    rs->status = created ? 201 : 200;
    view_stored_video(&rs->body, &out);
    events_video_written(rq->app->events, uid, video_id, &out);
}

void h_internal_clip_put(request_t *rq, response_t *rs)
{
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    const char *clip_id = param(rq, "clip_id");
    char err[H_INTERNAL_ERR_MAX];
    clip_create_input in;
    clip_rec out;
    int created = 0;
    clip_err e = body_parse_clip(rq->arena, uid, video_id, clip_id, rq->body, rq->body_len, &in,
                                 err, sizeof err);
    if (e == CLIP_OK)
        e = clips_create(rq->app->fs, rq->arena, uid, video_id, clip_id, &in, &out, &created, err,
                         sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    rs->status = created ? 201 : 200;
    view_stored_clip(&rs->body, &out);
    if (created) { /* the same create again writes nothing */
        view_signing sg = app_signing(rq->app);
        events_clip_written(rq->app->events, &sg, uid, video_id, &out);
    }
}

void h_internal_clip_patch(request_t *rq, response_t *rs)
{
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    const char *clip_id = param(rq, "clip_id");
    char err[H_INTERNAL_ERR_MAX];
    clip_status_update u;
    clip_rec out;
    clip_err e = body_parse_status(rq->arena, rq->body, rq->body_len, &u, err, sizeof err);
    if (e == CLIP_OK)
        e = clips_update_status(rq->app->fs, rq->arena, uid, video_id, clip_id, &u, &out, err,
                                sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    view_stored_clip(&rs->body, &out);
    view_signing sg = app_signing(rq->app);
    events_clip_written(rq->app->events, &sg, uid, video_id, &out);
}

/* The video event of a statistics call: the video read back (one more Firestore read, made only
 * when events are published). */
static void publish_video(request_t *rq, const char *uid, const char *video_id)
{
    if (!rq->app->events)
        return;
    video_rec v;
    char err[H_INTERNAL_ERR_MAX];
    if (videos_get(rq->app->fs, rq->arena, uid, video_id, &v, err, sizeof err) == CLIP_OK)
        events_video_written(rq->app->events, uid, video_id, &v);
    else
        events_not_published(rq->app->events, uid, video_id, "video", err);
}

void h_internal_stats(request_t *rq, response_t *rs)
{
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    char err[H_INTERNAL_ERR_MAX];
    video_clip_stats s;
    clip_err e = body_parse_stats(rq->arena, rq->body, rq->body_len, err, sizeof err);
    if (e == CLIP_OK)
        e = videos_update_clip_statistics(rq->app->fs, rq->arena, uid, video_id, &s, err,
                                          sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    view_clip_stats(&rs->body, &s);
    publish_video(rq, uid, video_id);
}

void h_internal_upload_urls(request_t *rq, response_t *rs)
{
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    const char *clip_id = param(rq, "clip_id");
    const app_t *app = rq->app;
    char err[H_INTERNAL_ERR_MAX];
    body_upload up;
    clip_err e =
        body_parse_upload(rq->arena, clip_id, rq->body, rq->body_len, &up, err, sizeof err);
    if (e == CLIP_OK && !app->signer)
        e = clip_fail(CLIP_EUNAVAILABLE, err, sizeof err, "r2: not configured");
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    long expires = up.expires_in ? up.expires_in : app->cfg->presign_expires;
    e = view_upload_urls(&rs->body, app->signer, rq->arena, uid, video_id, clip_id, up.filename,
                         expires, time(NULL), err, sizeof err);
    if (e != CLIP_OK) {
        log_warn("presign", "cannot presign the upload URLs of %s/%s/%s: %s", uid, video_id,
                 clip_id, err);
        resp_fail(rs, rq, CLIP_EINTERNAL, "cannot sign the upload URLs");
    }
}
