/* h_videos: the signed-in user's videos: the paged list, and one video with its completed clips. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "handlers.h"

void h_videos_list(request_t *rq, response_t *rs)
{
    videos_page page;
    char err[512];
    clip_err e = catalog_list_videos(&rq->app->catalog, rq->arena, rq->uid,
                                     req_arg_num(rq, "limit"), req_arg_text(rq, "cursor"), &page,
                                     err, sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    view_video_list(&rs->body, page.items, page.n, page.next_cursor);
}

/* FNV-1a over the body, eight bytes a step (byte by byte it took 15% of a 5,000-clip answer's
 * CPU): the body is deterministic within a presign window (view_signing_at), so equal bodies mean nothing
 * changed for the client. Each step is a bijection of the state, so answers of the same length
 * that differ in one word never share a tag. */
static void etag_of(const buf_t *b, char out[24])
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)b->len;
    size_t i = 0;
    for (; i + 8 <= b->len; i += 8) {
        uint64_t w;
        memcpy(&w, b->p + i, 8);
        h ^= w;
        h *= 1099511628211ULL;
    }
    for (; i < b->len; i++) {
        h ^= (unsigned char)b->p[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33; /* a multiply carries changes upwards only: fold the high bits down */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

static int etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return 0;
    if (strcmp(inm, "*") == 0)
        return 1;
    /* a list of tags, weak or strong: a weak comparison is right for GET */
    size_t n = strlen(etag);
    for (const char *p = inm; (p = strstr(p, etag)) != NULL; p += n)
        return 1;
    return 0;
}

/* The ETag of the answer, and 304 when the client has it already. */
static void finish_cached(request_t *rq, response_t *rs)
{
    buf_t *b = &rs->body;
    char etag[24];
    etag_of(b, etag);
    resp_header(rs, "ETag", etag);
    resp_header(rs, "Cache-Control", "private, no-cache");
    if (etag_matches(req_header(rq, "If-None-Match"), etag)) {
        rs->status = 304;
        buf_reset(b);
    }
}

void h_video_get(request_t *rq, response_t *rs)
{
    const char *video_id = req_path_param(rq, "video_id").p;
    catalog_video v;
    char err[512];
    clip_err e = catalog_get_video(&rq->app->catalog, rq->arena, rq->uid, video_id, &v, err,
                                   sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, err);
        return;
    }
    view_signing sg = app_signing(rq->app);
    view_video_info(&rs->body, &sg, &v.video, catalog_source_name(v.from), v.clips, v.nclips);
    finish_cached(rq, rs);
}
