/* h_internal: the workflow's write path (CONTRACT section 4, internal endpoints): service key, then
 * the body validated in full (core/body), then one repository call, answered in JSON
 * (core/wreply). */
#include <string.h>
#include <time.h>

#include "auth.h"
#include "handlers.h"
#include "hutil.h"
#include "log.h"
#include "body.h"
#include "wreply.h"

#define H_INT_ERR_MAX 512

/* A repository's refusal as the contract's error; our own failures are logged. */
static void int_error(request_t *rq, response_t *rs, clip_err e, const char *err)
{
    switch (e) {
    case CLIP_EINVAL:
        resp_error(rs, rq, 400, "invalid_argument", "%s", err);
        return;
    case CLIP_ENOTFOUND:
        resp_error(rs, rq, 404, "not_found", "%s", err);
        return;
    case CLIP_ECONFLICT:
        resp_error(rs, rq, 409, "conflict", "%s", err);
        return;
    default:
        log_warn("backend_error", "%s: %s: %s", rq->route ? rq->route : "", clip_err_code(e), err);
        resp_clip_error(rs, rq, e, err);
        return;
    }
}

/* The service key, then no query parameters (the internal calls take none): 0 to go on. */
static int begin(request_t *rq, response_t *rs)
{
    static const char *const none[] = {NULL};
    if (auth_service(rq, rs) != 0 || h_query_only(rq, rs, none) != 0)
        return -1;
    return 0;
}

static const char *param(const request_t *rq, const char *name)
{
    return req_path_param(rq, name).p;
}

void h_internal_video_put(request_t *rq, response_t *rs)
{
    if (begin(rq, rs) != 0)
        return;
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    char err[H_INT_ERR_MAX];
    video_rec in, out;
    unsigned mask = 0;
    clip_err e = body_parse_video(rq->arena, uid, video_id, rq->body, rq->body_len, &in, &mask,
                                   err, sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    fs_client *fs = h_need_fs(rq, rs);
    if (!fs)
        return;
    int created = 0;
    e = videos_create_or_update(fs, rq->arena, uid, video_id, &in, mask, &out, &created, err,
                                sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    rs->status = created ? 201 : 200;
    wreply_video(&rs->body, &out);
}

void h_internal_clip_put(request_t *rq, response_t *rs)
{
    if (begin(rq, rs) != 0)
        return;
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    const char *clip_id = param(rq, "clip_id");
    char err[H_INT_ERR_MAX];
    clip_create_input in;
    clip_err e = body_parse_clip(rq->arena, uid, video_id, clip_id, rq->body, rq->body_len, &in,
                                  err, sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    fs_client *fs = h_need_fs(rq, rs);
    if (!fs)
        return;
    clip_rec out;
    int created = 0;
    e = clips_create(fs, rq->arena, uid, video_id, clip_id, &in, &out, &created, err, sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    rs->status = created ? 201 : 200;
    wreply_clip(&rs->body, &out);
}

void h_internal_clip_patch(request_t *rq, response_t *rs)
{
    if (begin(rq, rs) != 0)
        return;
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    const char *clip_id = param(rq, "clip_id");
    char err[H_INT_ERR_MAX];
    clip_status_update u;
    clip_err e = body_parse_status(rq->arena, rq->body, rq->body_len, &u, err, sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    fs_client *fs = h_need_fs(rq, rs);
    if (!fs)
        return;
    clip_rec out;
    e = clips_update_status(fs, rq->arena, uid, video_id, clip_id, &u, &out, err, sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    wreply_clip(&rs->body, &out);
}

void h_internal_stats(request_t *rq, response_t *rs)
{
    if (begin(rq, rs) != 0)
        return;
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    char err[H_INT_ERR_MAX];
    clip_err e = body_parse_stats(rq->arena, rq->body, rq->body_len, err, sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    fs_client *fs = h_need_fs(rq, rs);
    if (!fs)
        return;
    video_clip_stats s;
    e = videos_update_clip_statistics(fs, rq->arena, uid, video_id, &s, err, sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    wreply_stats(&rs->body, &s);
}

void h_internal_upload_urls(request_t *rq, response_t *rs)
{
    if (begin(rq, rs) != 0)
        return;
    const char *uid = param(rq, "uid"), *video_id = param(rq, "video_id");
    const char *clip_id = param(rq, "clip_id");
    char err[H_INT_ERR_MAX];
    body_upload up;
    clip_err e =
        body_parse_upload(rq->arena, clip_id, rq->body, rq->body_len, &up, err, sizeof err);
    if (e != CLIP_OK) {
        int_error(rq, rs, e, err);
        return;
    }
    const app_t *app = rq->app;
    if (!app->signer) {
        resp_error(rs, rq, 503, "unavailable", "%s", app->r2_err);
        return;
    }
    long expires = up.expires_in ? up.expires_in : app->cfg->presign_expires;
    e = wreply_upload(app->signer, &rs->body, uid, video_id, clip_id, up.filename, expires,
                      time(NULL), err, sizeof err);
    if (e != CLIP_OK) {
        log_warn("presign", "cannot presign the upload URLs of %s/%s/%s: %s", uid, video_id,
                 clip_id, err);
        resp_error(rs, rq, 500, "internal", "cannot sign the upload URLs");
    }
}
