/* h_videos: the signed-in user's videos: the paged list, and one video with its completed clips. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "handlers.h"
#include "h_legacy.h"
#include "hutil.h"
#include "log.h"

#define VIDEO_CLIP_PAGES_MAX 100 /* 100 pages of CLIPS_LIST_LIMIT_MAX clips: a bound, not a goal */

static int cursor_chars(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
    }
    return 1;
}

void h_videos_list(request_t *rq, response_t *rs)
{
    static const char *const allowed[] = {"limit", "cursor", NULL};
    const char *uid, *cursor;
    long limit;
    fs_client *fs = NULL;
    /* phase r2 lists the legacy layout; firestore+r2 lists Firestore (unmigrated videos are
     * reachable by id through the fallback until migrate has written them) */
    cfg_source source = rq->app->cfg->metadata_source;
    if (auth_user(rq, rs, &uid) != 0 || h_query_only(rq, rs, allowed) != 0 ||
        h_query_long(rq, rs, "limit", 1, VIDEOS_LIST_LIMIT_MAX, VIDEOS_LIST_LIMIT_DEFAULT, &limit) != 0 ||
        h_query_str(rq, rs, "cursor", H_CURSOR_MAX, cursor_chars, "not a cursor this API gave",
                    &cursor) != 0 ||
        (source != CFG_SOURCE_R2 && !(fs = h_need_fs(rq, rs))))
        return;
    if (source == CFG_SOURCE_R2) {
        h_legacy_videos(rq, rs, uid, limit, cursor);
        return;
    }
    videos_page page;
    char err[256];
    clip_err e = videos_list(fs, rq->arena, uid, limit, cursor, &page, err, sizeof err);
    if (e != CLIP_OK) {
        h_repo_error(rq, rs, e, err);
        return;
    }
    buf_t *b = &rs->body;
    buf_puts(b, "{\"videos\":[");
    for (size_t i = 0; i < page.n; i++) {
        buf_puts(b, i ? ",{" : "{");
        h_video_fields_json(b, &page.items[i]);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"next_cursor\":");
    h_json_str_or_null(b, page.next_cursor);
    buf_putc(b, '}');
}

/* FNV-1a over the body, eight bytes a step (byte by byte it took 15% of a 5,000-clip answer's
 * CPU): the body is deterministic within a presign window (hutil.h), so equal bodies mean nothing
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
    static const char *const none[] = {NULL};
    const char *uid;
    fs_client *fs = NULL;
    /* metadata_source (CONTRACT section 6): r2 reads only the legacy layout, firestore+r2 falls
     * back to it when the video document is missing (or Firestore is down), firestore never
     * reads it */
    cfg_source source = rq->app->cfg->metadata_source;
    if (auth_user(rq, rs, &uid) != 0 || h_query_only(rq, rs, none) != 0 ||
        (source != CFG_SOURCE_R2 && !(fs = h_need_fs(rq, rs))))
        return;
    const char *video_id = req_path_param(rq, "video_id").p;
    video_rec v;
    char err[256];
    clip_err e = source == CFG_SOURCE_R2 ? CLIP_ENOTFOUND
                                         : videos_get(fs, rq->arena, uid, video_id, &v, err, sizeof err);
    /* In firestore+r2 the legacy layout is still complete: it also answers while Firestore is
     * down, rather than a 503 */
    if (source == CFG_SOURCE_FIRESTORE_R2 && (e == CLIP_EUNAVAILABLE || e == CLIP_ETIMEOUT)) {
        log_warn("firestore_down", "%s: answering video %s from R2", err, video_id);
        e = CLIP_ENOTFOUND;
    }
    if (e == CLIP_ENOTFOUND && source != CFG_SOURCE_FIRESTORE) {
        if (h_legacy_video(rq, rs, uid, video_id, source == CFG_SOURCE_FIRESTORE_R2) == 0)
            finish_cached(rq, rs);
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
    time_t when = h_presign_time(rq->app, time(NULL));
    buf_t *b = &rs->body;
    buf_putc(b, '{');
    h_video_fields_json(b, &v);
    buf_puts(b, ",\"source\":\"firestore\",\"clips\":[");
    clips_filter f = {"completed", NULL, 0, 0};
    const char *cursor = NULL;
    size_t nclips = 0;
    for (int pages = 0; pages < VIDEO_CLIP_PAGES_MAX; pages++) {
        clips_page page;
        e = clips_list(fs, rq->arena, uid, video_id, &f, CLIPS_LIST_LIMIT_MAX, cursor, &page, err,
                       sizeof err);
        if (e != CLIP_OK) {
            h_repo_error(rq, rs, e, err);
            return;
        }
        for (size_t i = 0; i < page.n; i++) {
            if (nclips++)
                buf_putc(b, ',');
            h_clip_json(rq->app, b, video_id, &page.items[i], when);
        }
        if (!page.next_cursor)
            break;
        cursor = page.next_cursor;
    }
    buf_puts(b, "]}");
    finish_cached(rq, rs);
}
