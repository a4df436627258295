/* catalog: the read policy of the migration phases, and the legacy layout's paging. */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "layout.h"
#include "legacy.h"
#include "log.h"
#include "metrics.h"

#define CATALOG_BAD_CURSOR "cursor: not one this listing gave"

const char *catalog_source_name(catalog_source s)
{
    return s == CATALOG_R2 ? "r2" : "firestore";
}

static clip_err need_fs(const catalog *c, char *err, size_t errlen)
{
    return c->fs ? CLIP_OK : clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
}

static clip_err need_r2(const catalog *c, char *err, size_t errlen)
{
    return c->r2 ? CLIP_OK : clip_fail(CLIP_EUNAVAILABLE, err, errlen, "r2: not configured");
}

/* One log line and one count for every read the legacy layout answered in phase firestore+r2. */
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

/* The start index a legacy listing cursor holds (bound to scope), or -1. */
static long legacy_cursor_start(arena_t *a, const buf_t *scope, const char *cursor)
{
    if (!cursor || !cursor[0])
        return 0;
    fs_value *vals = NULL;
    size_t nv = 0;
    char why[128];
    if (scope->oom ||
        fs_cursor_decode(a, scope->p, cursor, strlen(cursor), &vals, &nv, why, sizeof why) !=
            CLIP_OK ||
        nv != 1 || vals[0].type != FS_INT || vals[0].u.i < 0)
        return -1;
    return (long)vals[0].u.i;
}

/* A legacy listing's next cursor at index next (bound to scope), or NULL when it cannot be made. */
static const char *legacy_cursor_at(arena_t *a, const buf_t *scope, size_t next)
{
    buf_t c = BUF_INIT;
    fs_value v = fs_int((int64_t)next);
    const char *out = NULL;
    if (!scope->oom && fs_cursor_encode(&c, scope->p, &v, 1) == 0)
        out = arena_strndup(a, c.p, c.len);
    buf_free(&c);
    return out;
}

/* ---- the legacy layout ---------------------------------------------------------------------- */

static clip_err legacy_video_read(const catalog *c, arena_t *a, const char *uid,
                                  const char *video_id, legacy_video *lv, char *err, size_t errlen)
{
    clip_err e = need_r2(c, err, errlen);
    if (e != CLIP_OK)
        return e;
    legacy_report rep;
    legacy_report_init(&rep, a);
    e = legacy_read_video(c->r2, a, uid, video_id, lv, &rep, err, errlen);
    legacy_report_log(&rep, uid, video_id);
    if (e == CLIP_ENOTFOUND)
        return clip_fail(e, err, errlen, "no video %s", video_id);
    return e;
}

static clip_err legacy_get_video(const catalog *c, arena_t *a, const char *uid,
                                 const char *video_id, int fallback, catalog_video *out, char *err,
                                 size_t errlen)
{
    legacy_video lv;
    clip_err e = legacy_video_read(c, a, uid, video_id, &lv, err, errlen);
    if (e != CLIP_OK)
        return e;
    if (fallback)
        log_fallback("video", uid, video_id);
    out->video = lv.video;
    out->clips = lv.clips;
    out->nclips = lv.nclips;
    out->from = CATALOG_R2;
    return CLIP_OK;
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

/* Phase r2's video list: one scan of the user's keys, the videos newest first (oldest file time,
 * then id, both descending, as Firestore orders created_at and the document name), each listed
 * video's highlights.json read. */
static clip_err legacy_list_videos_page(const catalog *c, arena_t *a, const char *uid, long limit,
                                        const char *cursor, videos_page *out, char *err,
                                        size_t errlen)
{
    clip_err e = need_r2(c, err, errlen);
    if (e != CLIP_OK)
        return e;
    buf_t sc = BUF_INIT;
    buf_printf(&sc, "legacy-videos\n%s", uid);
    long start = legacy_cursor_start(a, &sc, cursor);
    if (start < 0) {
        buf_free(&sc);
        return clip_fail(CLIP_EINVAL, err, errlen, CATALOG_BAD_CURSOR);
    }
    legacy_report rep;
    legacy_report_init(&rep, a);
    legacy_folder *folders = NULL;
    size_t nf = 0;
    e = legacy_scan_user(c->r2, a, uid, &folders, &nf, &rep, err, errlen);
    if (e != CLIP_OK) {
        buf_free(&sc);
        return e;
    }
    /* the videos: folders with a highlights.json or a clip file */
    const legacy_folder **vids = nf ? arena_calloc(a, nf, sizeof *vids) : NULL;
    if (nf && !vids) {
        buf_free(&sc);
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    size_t nv = 0;
    for (size_t i = 0; i < nf; i++)
        if (!folders[i].bad_id && (folders[i].has_highlights || folders[i].nclips))
            vids[nv++] = &folders[i];
    if (nv)
        qsort(vids, nv, sizeof *vids, cmp_folder_newest);
    size_t first = (size_t)start < nv ? (size_t)start : nv;
    size_t end = first + (size_t)limit < nv ? first + (size_t)limit : nv;
    video_rec *items = end > first ? arena_calloc(a, end - first, sizeof *items) : NULL;
    if (end > first && !items) {
        buf_free(&sc);
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    for (size_t i = first; i < end; i++) {
        legacy_video lv;
        e = legacy_read_folder(c->r2, a, uid, vids[i], &lv, &rep, err, errlen);
        if (e != CLIP_OK) {
            buf_free(&sc);
            return e;
        }
        items[i - first] = lv.video;
    }
    legacy_report_log(&rep, uid, NULL);
    out->items = items;
    out->n = end - first;
    out->next_cursor = end < nv ? legacy_cursor_at(a, &sc, end) : NULL;
    buf_free(&sc);
    return CLIP_OK;
}

/* A legacy clip listing, filtered and paged like clips_list, its cursor bound to the user, video
 * and filters. */
static clip_err legacy_list_clips_page(const catalog *c, arena_t *a, const char *uid,
                                       const char *video_id, const clips_filter *f, long limit,
                                       const char *cursor, int fallback, clips_page *out, char *err,
                                       size_t errlen)
{
    const char *style = f ? f->style : NULL, *status = f ? f->status : NULL;
    long scene_id = f && f->has_scene_id ? (long)f->scene_id : -1;
    buf_t sc = BUF_INIT;
    buf_printf(&sc, "legacy-clips\n%s\n%s\n%s\n%s\n%ld", uid, video_id, status ? status : "",
               style ? style : "", scene_id);
    long start = legacy_cursor_start(a, &sc, cursor);
    if (start < 0) {
        buf_free(&sc);
        return clip_fail(CLIP_EINVAL, err, errlen, CATALOG_BAD_CURSOR);
    }
    legacy_video lv;
    clip_err e = legacy_video_read(c, a, uid, video_id, &lv, err, errlen);
    if (e != CLIP_OK) {
        buf_free(&sc);
        return e;
    }
    if (fallback)
        log_fallback("clips", uid, video_id);
    clip_rec *items = lv.nclips ? arena_calloc(a, lv.nclips, sizeof *items) : NULL;
    if (lv.nclips && !items) {
        buf_free(&sc);
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    size_t seen = 0, shown = 0, next = 0;
    for (size_t i = 0; i < lv.nclips; i++) {
        const clip_rec *r = &lv.clips[i];
        if ((style && strcmp(r->style, style) != 0) || (status && strcmp(r->status, status) != 0) ||
            (scene_id >= 0 && r->scene_id != scene_id))
            continue;
        if (seen++ < (size_t)start)
            continue;
        if (shown == (size_t)limit) {
            next = seen - 1;
            break;
        }
        items[shown++] = *r;
    }
    out->items = items;
    out->n = shown;
    out->next_cursor = next ? legacy_cursor_at(a, &sc, next) : NULL;
    buf_free(&sc);
    return CLIP_OK;
}

/* The clip file of the legacy layout when that object exists and its name parses (HeadObject). */
static clip_err legacy_clip_file(const catalog *c, arena_t *a, const char *uid,
                                 const char *video_id, const char *filename, int fallback,
                                 clip_rec *out, char *err, size_t errlen)
{
    clip_err e = need_r2(c, err, errlen);
    if (e != CLIP_OK)
        return e;
    legacy_name nm;
    const char *why = NULL;
    if (legacy_parse_name(filename, strlen(filename), LAYOUT_CLIP_EXT, &nm, &why) != 0)
        return clip_fail(CLIP_ENOTFOUND, err, errlen, "no clip %s in video %s", filename, video_id);
    const char *k = layout_clip_key(a, uid, video_id, filename);
    if (!k)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    r2_head h;
    e = r2_head_object(c->r2, k, strlen(k), &h, err, errlen);
    if (e == CLIP_ENOTFOUND)
        return clip_fail(e, err, errlen, "no clip %s in video %s", filename, video_id);
    if (e != CLIP_OK)
        return e;
    if (fallback)
        log_fallback("clip", uid, video_id);
    memset(out, 0, sizeof *out);
    out->filename = filename;
    out->status = "completed";
    out->r2_key = k;
    return CLIP_OK;
}

/* ---- the phases ----------------------------------------------------------------------------- */

/* Phase firestore+r2 answers a read from the legacy layout (still complete in that phase) when
 * Firestore is down: unavailable (its breaker open, or refused) or out of time. One log line. */
static int firestore_down(const catalog *c, clip_err e, const char *err, const char *what,
                          const char *video_id)
{
    if (c->metadata_source != CFG_SOURCE_FIRESTORE_R2 ||
        (e != CLIP_EUNAVAILABLE && e != CLIP_ETIMEOUT))
        return 0;
    log_warn("firestore_down", "%s: answering %s of video %s from R2", err, what, video_id);
    return 1;
}

/* The clips of the pages after the first, each page decoded into docs (reset per page) and made
 * into clips of a; the clips of pages[0] are made already. */
static clip_err firestore_more_pages(const catalog *c, arena_t *a, arena_t *docs_arena,
                                     const char *uid, const char *video_id, clips_query *cq,
                                     clips_page *pages, size_t *npages, size_t *total, char *err,
                                     size_t errlen)
{
    clips_filter f = {"completed", NULL, 0, 0};
    clip_err e = CLIP_OK;
    while (pages[*npages - 1].next_cursor && *npages < CATALOG_VIDEO_PAGES_MAX) {
        fs_doc *docs = NULL;
        size_t n = 0;
        arena_reset(docs_arena);
        e = clips_query_make(c->fs, a, uid, video_id, &f, CLIPS_LIST_LIMIT_MAX,
                             pages[*npages - 1].next_cursor, 1, cq, err, errlen);
        if (e == CLIP_OK)
            e = fs_run_query(c->fs, docs_arena, cq->parent, &cq->q, &docs, &n, err, errlen);
        if (e == CLIP_OK)
            e = clips_query_page(a, cq, docs, n, &pages[*npages], err, errlen);
        if (e != CLIP_OK)
            return e;
        *total += pages[*npages].n;
        (*npages)++;
    }
    return CLIP_OK;
}

/* The video document and the first page of its completed clips in one round trip, then the rest
 * of the pages (a video with over CLIPS_LIST_LIMIT_MAX clips). *found 0: no such document.
 * The clips keep copies of what they show (clips_from_doc), so each page's decoded documents
 * (~1.4 KB a clip) live in a scratch arena until its clips are made: for 5,000 clips that is one
 * page's 1.4 MB at a time instead of 7 MB held until the answer is written. */
static clip_err firestore_video(const catalog *c, arena_t *a, const char *uid, const char *video_id,
                                catalog_video *out, int *found, char *err, size_t errlen)
{
    clips_filter f = {"completed", NULL, 0, 0};
    clips_query cq;
    clip_err e = clips_query_make(c->fs, a, uid, video_id, &f, CLIPS_LIST_LIMIT_MAX, NULL, 1, &cq,
                                  err, errlen);
    const char *path = layout_video_doc(a, uid, video_id);
    if (e == CLIP_OK && !path)
        e = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    if (e != CLIP_OK)
        return e;
    arena_t docs_arena;
    arena_init(&docs_arena, a->limit);
    fs_doc vdoc;
    fs_doc *docs = NULL;
    size_t n = 0;
    clips_page pages[CATALOG_VIDEO_PAGES_MAX];
    size_t npages = 0, total = 0;
    e = fs_get_and_run_query(c->fs, a, path, &vdoc, found, cq.parent, &cq.q, &docs_arena, &docs,
                             &n, err, errlen);
    if (e == CLIP_OK && *found)
        e = videos_from_doc(a, &vdoc, &out->video, err, errlen);
    if (e == CLIP_OK && *found)
        e = clips_query_page(a, &cq, docs, n, &pages[0], err, errlen);
    if (e == CLIP_OK && *found) {
        total = pages[0].n;
        npages = 1;
        e = firestore_more_pages(c, a, &docs_arena, uid, video_id, &cq, pages, &npages, &total,
                                 err, errlen);
    }
    arena_free(&docs_arena);
    if (e != CLIP_OK || !*found)
        return e;
    if (npages == 1) {
        out->clips = pages[0].items;
        out->nclips = pages[0].n;
        return CLIP_OK;
    }
    clip_rec *all = total ? arena_calloc(a, total, sizeof *all) : NULL;
    if (total && !all)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < npages; i++) {
        memcpy(all + k, pages[i].items, pages[i].n * sizeof *all);
        k += pages[i].n;
    }
    out->clips = all;
    out->nclips = k;
    return CLIP_OK;
}

clip_err catalog_get_video(const catalog *c, arena_t *a, const char *uid, const char *video_id,
                           catalog_video *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    cfg_source src = c->metadata_source;
    /* r2 reads only the legacy layout, firestore+r2 falls back to it when the video document is
     * missing (or Firestore is down: the legacy layout is still complete in that phase), firestore
     * never reads it */
    if (src == CFG_SOURCE_R2)
        return legacy_get_video(c, a, uid, video_id, 0, out, err, errlen);
    clip_err e = need_fs(c, err, errlen);
    if (e != CLIP_OK)
        return e;
    int found = 0;
    e = firestore_video(c, a, uid, video_id, out, &found, err, errlen);
    /* only when the document itself could not be read: a video whose document Firestore gave
     * (its clips then failing) is Firestore's, and its error is answered, as before 29b0051 */
    if (!found && firestore_down(c, e, err, "the info", video_id)) {
        e = CLIP_OK;
        found = 0;
    }
    if (e != CLIP_OK)
        return e;
    if (!found && src == CFG_SOURCE_FIRESTORE_R2)
        return legacy_get_video(c, a, uid, video_id, 1, out, err, errlen);
    if (!found)
        return clip_fail(CLIP_ENOTFOUND, err, errlen, "no video %s", video_id);
    out->from = CATALOG_FIRESTORE;
    return CLIP_OK;
}

clip_err catalog_list_videos(const catalog *c, arena_t *a, const char *uid, long limit,
                             const char *cursor, videos_page *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    /* phase r2 lists the legacy layout; firestore+r2 lists Firestore (an unmigrated video is
     * reachable by id through the fallback until migrate has written it) */
    if (c->metadata_source == CFG_SOURCE_R2)
        return legacy_list_videos_page(c, a, uid, limit, cursor, out, err, errlen);
    clip_err e = need_fs(c, err, errlen);
    if (e != CLIP_OK)
        return e;
    return videos_list(c->fs, a, uid, limit, cursor, out, err, errlen);
}

/* The legacy clip listing while Firestore is down (phase firestore+r2). A cursor Firestore gave
 * cannot page the legacy listing: that call keeps Firestore's failure (down) and its reason. */
static clip_err clips_from_r2_while_down(const catalog *c, arena_t *a, const char *uid,
                                         const char *video_id, const clips_filter *f, long limit,
                                         const char *cursor, clip_err down, clips_page *out,
                                         char *err, size_t errlen)
{
    char why[512];
    snprintf(why, sizeof why, "%s", err ? err : "");
    clip_err e = legacy_list_clips_page(c, a, uid, video_id, f, limit, cursor, 1, out, err, errlen);
    if (e == CLIP_EINVAL && cursor) {
        memset(out, 0, sizeof *out);
        return clip_fail(down, err, errlen, "%s", why);
    }
    return e;
}

clip_err catalog_list_clips(const catalog *c, arena_t *a, const char *uid, const char *video_id,
                            const clips_filter *f, long limit, const char *cursor, clips_page *out,
                            char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    cfg_source src = c->metadata_source;
    if (src == CFG_SOURCE_R2)
        return legacy_list_clips_page(c, a, uid, video_id, f, limit, cursor, 0, out, err, errlen);
    clip_err e = need_fs(c, err, errlen);
    if (e != CLIP_OK)
        return e;
    /* the user view's fields only (the field mask), as for video info */
    clips_query cq;
    fs_doc *docs = NULL;
    size_t n = 0;
    e = clips_query_make(c->fs, a, uid, video_id, f, limit, cursor, 1, &cq, err, errlen);
    if (e == CLIP_OK)
        e = fs_run_query(c->fs, a, cq.parent, &cq.q, &docs, &n, err, errlen);
    if (e == CLIP_OK)
        e = clips_query_page(a, &cq, docs, n, out, err, errlen);
    if (e == CLIP_EINVAL && cursor && src == CFG_SOURCE_FIRESTORE_R2)
        /* a cursor of the legacy listing (which refuses any other cursor itself) */
        return legacy_list_clips_page(c, a, uid, video_id, f, limit, cursor, 1, out, err, errlen);
    if (firestore_down(c, e, err, "the clips", video_id))
        return clips_from_r2_while_down(c, a, uid, video_id, f, limit, cursor, e, out, err,
                                        errlen);
    if (e != CLIP_OK)
        return e;
    if (out->n == 0 && !cursor) {
        /* no clips, or no such video (another user's video is a 404 too) */
        video_rec v;
        e = videos_get(c->fs, a, uid, video_id, &v, err, errlen);
        if (e == CLIP_ENOTFOUND && src == CFG_SOURCE_FIRESTORE_R2)
            return legacy_list_clips_page(c, a, uid, video_id, f, limit, NULL, 1, out, err, errlen);
        if (firestore_down(c, e, err, "the clips", video_id))
            return clips_from_r2_while_down(c, a, uid, video_id, f, limit, NULL, e, out, err,
                                            errlen);
        if (e != CLIP_OK)
            return e;
    }
    return CLIP_OK;
}

clip_err catalog_clip_file(const catalog *c, arena_t *a, const char *uid, const char *video_id,
                           const char *filename, clip_rec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    cfg_source src = c->metadata_source;
    /* clip_id = the file name without its extension */
    size_t fn_len = strlen(filename);
    const char *dot = memrchr(filename, '.', fn_len);
    size_t idn = dot ? (size_t)(dot - filename) : fn_len;
    clip_err e = CLIP_ENOTFOUND;
    if (src != CFG_SOURCE_R2) {
        e = need_fs(c, err, errlen);
        if (e != CLIP_OK)
            return e;
        e = CLIP_ENOTFOUND;
        if (ids_valid_id(filename, idn)) {
            const char *clip_id = arena_strndup(a, filename, idn);
            if (!clip_id)
                return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
            e = clips_get(c->fs, a, uid, video_id, clip_id, out, err, errlen);
        }
        if (e == CLIP_OK && strcmp(out->filename, filename) != 0)
            e = CLIP_ENOTFOUND;
        if (firestore_down(c, e, err, "a clip file", video_id))
            return legacy_clip_file(c, a, uid, video_id, filename, 1, out, err, errlen);
    }
    if (e == CLIP_ENOTFOUND && src != CFG_SOURCE_FIRESTORE) {
        /* the legacy layout answers when there is no video document (always in phase r2) */
        clip_err ve = CLIP_ENOTFOUND;
        if (src != CFG_SOURCE_R2) {
            video_rec v;
            ve = videos_get(c->fs, a, uid, video_id, &v, err, errlen);
        }
        if (ve != CLIP_OK && ve != CLIP_ENOTFOUND)
            return ve;
        if (ve == CLIP_ENOTFOUND)
            return legacy_clip_file(c, a, uid, video_id, filename, src == CFG_SOURCE_FIRESTORE_R2,
                                    out, err, errlen);
    }
    if (e == CLIP_ENOTFOUND)
        return clip_fail(e, err, errlen, "no clip %s in video %s", filename, video_id);
    return e;
}
