/* h_clips: the signed-in user's clips: a filtered, paged list, and a link (302) to one clip file. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "handlers.h"
#include "h_legacy.h"
#include "hutil.h"
#include "ids.h"

static int status_ok(const char *p, size_t n)
{
    char s[16];
    if (n >= sizeof s)
        return 0;
    memcpy(s, p, n);
    s[n] = '\0';
    return clips_status_valid(s);
}

static int printable(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
            return 0;
    return 1;
}

void h_clips_list(request_t *rq, response_t *rs)
{
    static const char *const allowed[] = {"style", "scene_id", "status", "limit", "cursor", NULL};
    const char *uid, *style, *status, *cursor;
    long limit, scene_id;
    fs_client *fs = NULL;
    cfg_source source = rq->app->cfg->metadata_source; /* see h_video_get */
    if (auth_user(rq, rs, &uid) != 0 || h_query_only(rq, rs, allowed) != 0 ||
        h_query_str(rq, rs, "style", IDS_STYLE_MAX, ids_valid_style,
                    "must be 1-64 bytes of [a-z0-9-]", &style) != 0 ||
        h_query_str(rq, rs, "status", 16, status_ok,
                    "must be one of pending, processing, completed, failed", &status) != 0 ||
        h_query_long(rq, rs, "scene_id", 0, 2147483647L, -1, &scene_id) != 0 ||
        h_query_long(rq, rs, "limit", 1, CLIPS_LIST_LIMIT_MAX, CLIPS_LIST_LIMIT_DEFAULT, &limit) != 0 ||
        h_query_str(rq, rs, "cursor", H_CURSOR_MAX, printable, "not a cursor this API gave",
                    &cursor) != 0 ||
        (source != CFG_SOURCE_R2 && !(fs = h_need_fs(rq, rs))))
        return;
    const char *video_id = req_path_param(rq, "video_id").p;
    if (source == CFG_SOURCE_R2) {
        h_legacy_clips(rq, rs, uid, video_id, style, status, scene_id, limit, cursor, 0);
        return;
    }
    clips_filter f = {status, style, scene_id >= 0, scene_id >= 0 ? scene_id : 0};
    clips_page page;
    char err[256];
    clip_err e = clips_list(fs, rq->arena, uid, video_id, &f, limit, cursor, &page, err, sizeof err);
    if (e == CLIP_EINVAL && cursor && source == CFG_SOURCE_FIRESTORE_R2) {
        /* a cursor of the legacy listing (it refuses any other cursor itself) */
        h_legacy_clips(rq, rs, uid, video_id, style, status, scene_id, limit, cursor, 1);
        return;
    }
    if (e != CLIP_OK) {
        h_repo_error(rq, rs, e, err);
        return;
    }
    if (page.n == 0 && !cursor) {
        /* no clips, or no such video (another user's video is a 404 too) */
        video_rec v;
        e = videos_get(fs, rq->arena, uid, video_id, &v, err, sizeof err);
        if (e == CLIP_ENOTFOUND && source == CFG_SOURCE_FIRESTORE_R2) {
            h_legacy_clips(rq, rs, uid, video_id, style, status, scene_id, limit, NULL, 1);
            return;
        }
        if (e == CLIP_ENOTFOUND) {
            resp_error(rs, rq, 404, "not_found", "no video %s", video_id);
            return;
        }
        if (e != CLIP_OK) {
            h_repo_error(rq, rs, e, err);
            return;
        }
    }
    time_t when = h_presign_time(rq->app, time(NULL));
    buf_t *b = &rs->body;
    buf_puts(b, "{\"clips\":[");
    for (size_t i = 0; i < page.n; i++) {
        if (i)
            buf_putc(b, ',');
        h_clip_json(rq->app, b, video_id, &page.items[i], when);
    }
    buf_puts(b, "],\"next_cursor\":");
    h_json_str_or_null(b, page.next_cursor);
    buf_putc(b, '}');
}

void h_clip_link(request_t *rq, response_t *rs)
{
    static const char *const allowed[] = {"download", "redirect", NULL};
    const char *uid;
    long download, redirect;
    fs_client *fs = NULL;
    cfg_source source = rq->app->cfg->metadata_source; /* see h_video_get */
    if (auth_user(rq, rs, &uid) != 0 || h_query_only(rq, rs, allowed) != 0 ||
        h_query_long(rq, rs, "download", 0, 1, 0, &download) != 0 ||
        h_query_long(rq, rs, "redirect", 0, 1, 1, &redirect) != 0 ||
        (source != CFG_SOURCE_R2 && !(fs = h_need_fs(rq, rs))))
        return;
    const app_t *app = rq->app;
    if (!app->signer) {
        resp_error(rs, rq, 503, "unavailable", "%s", app->r2_err);
        return;
    }
    const char *video_id = req_path_param(rq, "video_id").p;
    strv fn = req_path_param(rq, "filename");
    /* clip_id = the file name without its extension */
    const char *dot = memrchr(fn.p, '.', fn.n);
    size_t idn = dot ? (size_t)(dot - fn.p) : fn.n;
    char clip_id[IDS_MAX + 1];
    memcpy(clip_id, fn.p, idn);
    clip_id[idn] = '\0';
    clip_rec c;
    char err[256];
    clip_err e = source != CFG_SOURCE_R2 && ids_valid_id(clip_id, idn)
                     ? clips_get(fs, rq->arena, uid, video_id, clip_id, &c, err, sizeof err)
                     : CLIP_ENOTFOUND;
    if (e == CLIP_OK && strcmp(c.filename, fn.p) != 0)
        e = CLIP_ENOTFOUND;
    if (e == CLIP_ENOTFOUND && source != CFG_SOURCE_FIRESTORE) {
        /* the legacy layout answers when there is no video document (always in phase r2) */
        video_rec v;
        clip_err ve = source == CFG_SOURCE_R2
                          ? CLIP_ENOTFOUND
                          : videos_get(fs, rq->arena, uid, video_id, &v, err, sizeof err);
        if (ve != CLIP_OK && ve != CLIP_ENOTFOUND) {
            h_repo_error(rq, rs, ve, err);
            return;
        }
        if (ve == CLIP_ENOTFOUND) {
            const char *key;
            if (h_legacy_clip_key(rq, rs, uid, video_id, fn.p, source == CFG_SOURCE_FIRESTORE_R2,
                                  &key) != 0)
                return;
            memset(&c, 0, sizeof c);
            c.filename = fn.p;
            c.status = "completed";
            c.r2_key = key;
            e = CLIP_OK;
        }
    }
    if (e == CLIP_ENOTFOUND) {
        resp_error(rs, rq, 404, "not_found", "no clip %s in video %s", fn.p, video_id);
        return;
    }
    if (e != CLIP_OK) {
        h_repo_error(rq, rs, e, err);
        return;
    }
    if (strcmp(c.status, "completed") != 0 || !c.r2_key) {
        resp_error(rs, rq, 404, "not_found", "clip %s is not ready (status %s)", fn.p, c.status);
        return;
    }
    char disp[IDS_MAX + 40];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", c.filename);
    time_t when = h_presign_time(app, time(NULL));
    buf_t url = BUF_INIT;
    int ok = h_presign_get(app, &url, c.r2_key, download ? disp : NULL, when) == 0;
    if (!ok) {
        buf_free(&url);
        resp_error(rs, rq, 500, "internal", "cannot sign the clip URL");
        return;
    }
    /* url holds a JSON string: the quoted URL. ?redirect=0 answers it as JSON instead of a 302,
     * for browser scripts, which cannot read the Location of a redirect. */
    if (redirect) {
        url.p[url.len - 1] = '\0';
        resp_header(rs, "Location", url.p + 1);
        url.p[url.len - 1] = '"';
        rs->status = 302;
    }
    /* the browser may reuse the redirect while the URL still has life left (see hutil.h) */
    char cc[64];
    snprintf(cc, sizeof cc, "private, max-age=%ld", app->cfg->presign_expires / 4);
    resp_header(rs, "Cache-Control", cc);
    buf_puts(&rs->body, "{\"url\":");
    buf_append(&rs->body, url.p, url.len);
    buf_putc(&rs->body, '}');
    buf_free(&url);
}
