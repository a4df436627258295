/* h_clips: the signed-in user's clips: a filtered, paged list, and a link (302) to one clip file.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "handlers.h"
#include "ids.h"

void h_clips_list(request_t *rq, response_t *rs)
{
    const char *video_id = req_path_param(rq, "video_id").p;
    long scene_id = req_arg_num(rq, "scene_id");
    clips_filter f = {req_arg_text(rq, "status"), req_arg_text(rq, "style"), scene_id >= 0,
                      scene_id >= 0 ? scene_id : 0};
    clips_page page;
    char err[512];
    clip_err e = catalog_list_clips(&rq->app->catalog, rq->arena, rq->uid, video_id, &f,
                                    req_arg_num(rq, "limit"), req_arg_text(rq, "cursor"), &page,
                                    err, sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    view_signing sg = app_signing(rq->app);
    view_clip_list(&rs->body, &sg, video_id, page.items, page.n, page.next_cursor);
}

void h_clip_link(request_t *rq, response_t *rs)
{
    const app_t *app = rq->app;
    if (!app->signer) {
        resp_fail(rs, rq, CLIP_EUNAVAILABLE, "r2: not configured");
        return;
    }
    const char *video_id = req_path_param(rq, "video_id").p;
    const char *filename = req_path_param(rq, "filename").p;
    clip_rec c;
    char err[512];
    clip_err e = catalog_clip_file(&app->catalog, rq->arena, rq->uid, video_id, filename, &c, err,
                                   sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    if (strcmp(c.status, "completed") != 0 || !c.r2_key || !c.r2_key[0]) {
        resp_failf(rs, rq, CLIP_ENOTFOUND, "clip %s is not ready (status %s)", filename, c.status);
        return;
    }
    char disp[IDS_MAX + 40];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", c.filename);
    view_signing sg = app_signing(app);
    buf_t url = BUF_INIT;
    if (view_presigned_get(&url, &sg, c.r2_key, req_arg_num(rq, "download") ? disp : NULL) != 0) {
        buf_free(&url);
        resp_fail(rs, rq, CLIP_EINTERNAL, "cannot sign the clip URL");
        return;
    }
    /* url holds a JSON string: the quoted URL. ?redirect=0 answers it as JSON instead of a 302,
     * for browser scripts, which cannot read the Location of a redirect. */
    if (req_arg_num(rq, "redirect")) {
        url.p[url.len - 1] = '\0';
        resp_header(rs, "Location", url.p + 1);
        url.p[url.len - 1] = '"';
        rs->status = 302;
    }
    /* the browser may reuse the redirect while the URL still has life left (view_signing_at) */
    char cc[64];
    snprintf(cc, sizeof cc, "private, max-age=%ld", app->cfg->presign_expires / 4);
    resp_header(rs, "Cache-Control", cc);
    buf_puts(&rs->body, "{\"url\":");
    buf_append(&rs->body, url.p, url.len);
    buf_putc(&rs->body, '}');
    buf_free(&url);
}
