/* h_legacy: video info, clip lists and clip links answered from the legacy R2 layout. */
#include "h_legacy.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hutil.h"
#include "ids.h"
#include "legacy.h"
#include "log.h"
#include "metrics.h"

/* The R2 client, or NULL after answering 503 with the reason R2 is not configured. */
static r2_client *need_r2(request_t *rq, response_t *rs)
{
    if (rq->app->r2)
        return rq->app->r2;
    resp_error(rs, rq, 503, "unavailable", "%s", rq->app->r2_err);
    return NULL;
}

static void log_fallback(const char *what, const char *uid, const char *video_id)
{
    buf_t m = BUF_INIT;
    buf_puts(&m, ",\"uid\":");
    buf_json_str(&m, uid, strlen(uid));
    buf_puts(&m, ",\"video_id\":");
    buf_json_str(&m, video_id, strlen(video_id));
    buf_printf(&m, ",\"read\":\"%s\",\"source\":\"r2\"", what);
    if (!m.oom)
        log_json(CFG_LOG_INFO, "fallback", m.p);
    buf_free(&m);
    metrics_fallback();
}

/* Reads the video; 0, or -1 after an error answer. */
static int read_video(request_t *rq, response_t *rs, const char *uid, const char *video_id,
                      legacy_video *lv)
{
    r2_client *r2 = need_r2(rq, rs);
    if (!r2)
        return -1;
    legacy_report rep;
    legacy_report_init(&rep, rq->arena);
    char err[256];
    clip_err e = legacy_read_video(r2, rq->arena, uid, video_id, lv, &rep, err, sizeof err);
    legacy_report_log(&rep, uid, video_id);
    if (e == CLIP_ENOTFOUND) {
        resp_error(rs, rq, 404, "not_found", "no video %s", video_id);
        return -1;
    }
    if (e != CLIP_OK) {
        log_warn("backend_error", "legacy read of %s/%s: %s: %s", uid, video_id, clip_err_code(e),
                 err);
        resp_clip_error(rs, rq, e, err);
        return -1;
    }
    return 0;
}

int h_legacy_video(request_t *rq, response_t *rs, const char *uid, const char *video_id,
                   int fallback)
{
    legacy_video lv;
    if (read_video(rq, rs, uid, video_id, &lv) != 0)
        return -1;
    if (fallback)
        log_fallback("video", uid, video_id);
    time_t when = h_presign_time(rq->app, time(NULL));
    buf_t *b = &rs->body;
    buf_putc(b, '{');
    h_video_fields_json(b, &lv.video);
    buf_puts(b, ",\"source\":\"r2\",\"clips\":[");
    for (size_t i = 0; i < lv.nclips; i++) {
        if (i)
            buf_putc(b, ',');
        h_clip_json(rq->app, b, video_id, &lv.clips[i], when);
    }
    buf_puts(b, "]}");
    return 0;
}

static int cmp_folder_newest(const void *x, const void *y)
{
    const legacy_folder *a = *(const legacy_folder *const *)x,
                        *b = *(const legacy_folder *const *)y;
    if (a->created_at.seconds != b->created_at.seconds)
        return a->created_at.seconds > b->created_at.seconds ? -1 : 1;
    if (a->created_at.nanos != b->created_at.nanos)
        return a->created_at.nanos > b->created_at.nanos ? -1 : 1;
    return -strcmp(a->video_id, b->video_id);
}

void h_legacy_videos(request_t *rq, response_t *rs, const char *uid, long limit, const char *cursor)
{
    r2_client *r2 = need_r2(rq, rs);
    if (!r2)
        return;
    buf_t sc = BUF_INIT;
    buf_printf(&sc, "legacy-videos\n%s", uid);
    size_t start = 0;
    char err[256];
    if (cursor && cursor[0]) {
        fs_value *vals = NULL;
        size_t nv = 0;
        clip_err e = sc.oom ? CLIP_ENOMEM
                            : fs_cursor_decode(rq->arena, sc.p, cursor, strlen(cursor), &vals, &nv,
                                               err, sizeof err);
        if (e != CLIP_OK || nv != 1 || vals[0].type != FS_INT || vals[0].u.i < 0) {
            buf_free(&sc);
            resp_error(rs, rq, 400, "invalid_argument", "cursor: not one this listing gave");
            return;
        }
        start = (size_t)vals[0].u.i;
    }
    legacy_report rep;
    legacy_report_init(&rep, rq->arena);
    legacy_folder *folders = NULL;
    size_t nf = 0;
    clip_err e = legacy_scan_user(r2, rq->arena, uid, &folders, &nf, &rep, err, sizeof err);
    if (e != CLIP_OK) {
        buf_free(&sc);
        log_warn("backend_error", "legacy scan of %s: %s: %s", uid, clip_err_code(e), err);
        resp_clip_error(rs, rq, e, err);
        return;
    }
    /* the videos: folders with a highlights.json or a clip file */
    const legacy_folder **vids = nf ? arena_calloc(rq->arena, nf, sizeof *vids) : NULL;
    if (nf && !vids) {
        buf_free(&sc);
        resp_error(rs, rq, 500, "internal", "out of memory");
        return;
    }
    size_t nv = 0;
    for (size_t i = 0; i < nf; i++)
        if (!folders[i].bad_id && (folders[i].has_highlights || folders[i].nclips))
            vids[nv++] = &folders[i];
    if (nv)
        qsort(vids, nv, sizeof *vids, cmp_folder_newest);
    buf_t *b = &rs->body;
    buf_puts(b, "{\"videos\":[");
    size_t end = start + (size_t)limit < nv ? start + (size_t)limit : nv;
    for (size_t i = start; i < end; i++) {
        legacy_video lv;
        e = legacy_read_folder(r2, rq->arena, uid, vids[i], &lv, &rep, err, sizeof err);
        if (e != CLIP_OK) {
            buf_free(&sc);
            buf_reset(b);
            log_warn("backend_error", "legacy read of %s/%s: %s: %s", uid, vids[i]->video_id,
                     clip_err_code(e), err);
            resp_clip_error(rs, rq, e, err);
            return;
        }
        buf_puts(b, i > start ? ",{" : "{");
        h_video_fields_json(b, &lv.video);
        buf_putc(b, '}');
    }
    legacy_report_log(&rep, uid, NULL);
    buf_puts(b, "],\"next_cursor\":");
    if (end < nv) {
        buf_t c = BUF_INIT;
        fs_value v = fs_int((int64_t)end);
        if (sc.oom || fs_cursor_encode(&c, sc.p, &v, 1) != 0)
            buf_puts(b, "null");
        else
            buf_json_str(b, c.p, c.len);
        buf_free(&c);
    } else {
        buf_puts(b, "null");
    }
    buf_putc(b, '}');
    buf_free(&sc);
}

/* Binds a listing cursor to the user, video and filters, like clips_list's. */
static void scope(buf_t *b, const char *uid, const char *video_id, const char *style,
                  const char *status, long scene_id)
{
    buf_printf(b, "legacy-clips\n%s\n%s\n%s\n%s\n%ld", uid, video_id, status ? status : "",
               style ? style : "", scene_id);
}

void h_legacy_clips(request_t *rq, response_t *rs, const char *uid, const char *video_id,
                    const char *style, const char *status, long scene_id, long limit,
                    const char *cursor, int fallback)
{
    buf_t sc = BUF_INIT;
    scope(&sc, uid, video_id, style, status, scene_id);
    size_t start = 0;
    char err[256];
    if (cursor && cursor[0]) {
        fs_value *vals = NULL;
        size_t nv = 0;
        clip_err e = sc.oom ? CLIP_ENOMEM
                            : fs_cursor_decode(rq->arena, sc.p, cursor, strlen(cursor), &vals, &nv,
                                               err, sizeof err);
        if (e != CLIP_OK || nv != 1 || vals[0].type != FS_INT || vals[0].u.i < 0) {
            buf_free(&sc);
            resp_error(rs, rq, 400, "invalid_argument", "cursor: not one this listing gave");
            return;
        }
        start = (size_t)vals[0].u.i;
    }
    legacy_video lv;
    if (read_video(rq, rs, uid, video_id, &lv) != 0) {
        buf_free(&sc);
        return;
    }
    if (fallback)
        log_fallback("clips", uid, video_id);
    time_t when = h_presign_time(rq->app, time(NULL));
    buf_t *b = &rs->body;
    buf_puts(b, "{\"clips\":[");
    size_t seen = 0, shown = 0, next = 0;
    for (size_t i = 0; i < lv.nclips; i++) {
        const clip_rec *c = &lv.clips[i];
        if ((style && strcmp(c->style, style) != 0) || (status && strcmp(c->status, status) != 0) ||
            (scene_id >= 0 && c->scene_id != scene_id))
            continue;
        if (seen++ < start)
            continue;
        if (shown == (size_t)limit) {
            next = seen - 1;
            break;
        }
        if (shown++)
            buf_putc(b, ',');
        h_clip_json(rq->app, b, video_id, c, when);
    }
    buf_puts(b, "],\"next_cursor\":");
    if (next) {
        buf_t c = BUF_INIT;
        fs_value v = fs_int((int64_t)next);
        if (sc.oom || fs_cursor_encode(&c, sc.p, &v, 1) != 0)
            buf_puts(b, "null");
        else
            buf_json_str(b, c.p, c.len);
        buf_free(&c);
    } else {
        buf_puts(b, "null");
    }
    buf_putc(b, '}');
    buf_free(&sc);
}

int h_legacy_clip_key(request_t *rq, response_t *rs, const char *uid, const char *video_id,
                      const char *filename, int fallback, const char **key)
{
    *key = NULL;
    r2_client *r2 = need_r2(rq, rs);
    if (!r2)
        return -1;
    legacy_name nm;
    const char *why = NULL;
    if (legacy_parse_name(filename, strlen(filename), ".mp4", &nm, &why) != 0) {
        resp_error(rs, rq, 404, "not_found", "no clip %s in video %s", filename, video_id);
        return -1;
    }
    size_t n = strlen(uid) + strlen(video_id) + strlen(filename) + 16;
    char *k = arena_alloc(rq->arena, n);
    if (!k) {
        resp_error(rs, rq, 500, "internal", "out of memory");
        return -1;
    }
    snprintf(k, n, "%s/%s/clips/%s", uid, video_id, filename);
    r2_head h;
    char err[256];
    clip_err e = r2_head_object(r2, k, strlen(k), &h, err, sizeof err);
    if (e == CLIP_ENOTFOUND) {
        resp_error(rs, rq, 404, "not_found", "no clip %s in video %s", filename, video_id);
        return -1;
    }
    if (e != CLIP_OK) {
        log_warn("backend_error", "legacy head of %s: %s: %s", k, clip_err_code(e), err);
        resp_clip_error(rs, rq, e, err);
        return -1;
    }
    if (fallback)
        log_fallback("clip", uid, video_id);
    *key = k;
    return 0;
}
