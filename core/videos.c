/* videos: the video repository; the only code that knows the video document's field names. */
#include "videos.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "layout.h"

static const char *const statuses[] = {"queued", "processing", "completed", "failed"};

int videos_status_valid(const char *s)
{
    return s && ids_one_of(s, strlen(s), statuses, sizeof statuses / sizeof statuses[0]);
}

static int id_ok(const char *s)
{
    return s && ids_valid_id(s, strlen(s));
}

/* The video's document path (the user's document when video_id is NULL), ids checked. */
static clip_err video_path(arena_t *a, const char **out, const char *uid, const char *video_id,
                           char *err, size_t errlen)
{
    if (!id_ok(uid) || (video_id && !id_ok(video_id)))
        return clip_fail(CLIP_EINVAL, err, errlen, "bad uid or video_id");
    *out = video_id ? layout_video_doc(a, uid, video_id) : layout_user_doc(a, uid);
    return *out ? CLIP_OK : clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
}

/* The strings of an array value (others skipped) as an arena array. */
static clip_err str_list(arena_t *a, const fs_value *v, const char *const **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!v || v->type != FS_ARRAY || v->u.arr.n == 0)
        return CLIP_OK;
    const char **list = arena_calloc(a, v->u.arr.n, sizeof *list);
    if (!list)
        return CLIP_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < v->u.arr.n; i++)
        if (v->u.arr.items[i].type == FS_STRING)
            list[k++] = v->u.arr.items[i].u.s.p;
    *out = list;
    *n = k;
    return CLIP_OK;
}

static int cmp_style(const void *x, const void *y)
{
    return strcmp(((const video_style_count *)x)->style, ((const video_style_count *)y)->style);
}

static clip_err stats_from_map(arena_t *a, const fs_value *m, video_clip_stats *s)
{
    memset(s, 0, sizeof *s);
    fs_get_int(m, "total", &s->total);
    fs_get_int(m, "completed", &s->completed);
    fs_get_int(m, "failed", &s->failed);
    fs_get_int(m, "total_size_bytes", &s->total_size_bytes);
    fs_get_double(m, "total_duration_seconds", &s->total_duration_seconds);
    const fs_value *by = fs_map_get(m, "by_style");
    if (by && by->type == FS_MAP && by->u.map.n) {
        s->by_style = arena_calloc(a, by->u.map.n, sizeof *s->by_style);
        if (!s->by_style)
            return CLIP_ENOMEM;
        for (size_t i = 0; i < by->u.map.n; i++) {
            const fs_field *f = &by->u.map.fields[i];
            if (f->value.type != FS_INT)
                continue;
            s->by_style[s->nby_style].style = f->key;
            s->by_style[s->nby_style].count = f->value.u.i;
            s->nby_style++;
        }
        qsort(s->by_style, s->nby_style, sizeof *s->by_style, cmp_style);
    }
    return CLIP_OK;
}

clip_err videos_from_doc(arena_t *a, const fs_doc *d, video_rec *out, char *err, size_t errlen)
{
    const fs_value *m = &d->fields;
    memset(out, 0, sizeof *out);
    out->video_id = d->id;
    out->user_id = fs_get_str_or(m, "user_id", "");
    out->video_url = fs_get_str_or(m, "video_url", "");
    out->video_title = fs_get_str_or(m, "video_title", "");
    out->youtube_id = fs_get_str_or(m, "youtube_id", NULL);
    out->status = fs_get_str_or(m, "status", "queued");
    out->custom_prompt = fs_get_str_or(m, "custom_prompt", NULL);
    out->crop_mode = fs_get_str_or(m, "crop_mode", "");
    out->target_aspect = fs_get_str_or(m, "target_aspect", "");
    if (fs_get_int(m, "highlights_count", &out->highlights_count) != 0)
        out->highlights_count = 0;
    clip_err e =
        str_list(a, fs_map_get(m, "styles_processed"), &out->styles_processed, &out->nstyles);
    const fs_value *hs = fs_map_get(m, "highlights_summary");
    if (e == CLIP_OK && hs && hs->type == FS_MAP) {
        fs_get_double(hs, "total_duration", &out->highlights_total_duration);
        e = str_list(a, fs_map_get(hs, "categories"), &out->categories, &out->ncategories);
    }
    const fs_value *cs = fs_map_get(m, "clip_stats");
    if (e == CLIP_OK && cs && cs->type == FS_MAP) {
        out->has_clip_stats = 1;
        e = stats_from_map(a, cs, &out->clip_stats);
    }
    if (fs_get_time(m, "created_at", &out->created_at) != 0)
        out->created_at = d->create_time;
    if (fs_get_time(m, "updated_at", &out->updated_at) != 0)
        out->updated_at = d->update_time;
    return e == CLIP_OK ? CLIP_OK : clip_fail(e, err, errlen, "out of memory");
}

clip_err videos_get(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                    video_rec *out, char *err, size_t errlen)
{
    const char *path;
    clip_err e = video_path(a, &path, uid, video_id, err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_doc d;
    e = fs_get(fs, a, path, &d, err, errlen);
    if (e == CLIP_ENOTFOUND)
        return clip_fail(e, err, errlen, "no video %s", video_id);
    if (e != CLIP_OK)
        return e;
    return videos_from_doc(a, &d, out, err, errlen);
}

static int text_ok(const char *s)
{
    return !s || strlen(s) <= VIDEOS_TEXT_MAX;
}

static int put_list(arena_t *a, fs_value *m, const char *key, const char *const *items, size_t n)
{
    fs_value arr = fs_array();
    for (size_t i = 0; i < n; i++)
        if (!items[i] || fs_array_push(a, &arr, fs_str(items[i])) != 0)
            return -1;
    return fs_map_put(a, m, key, arr);
}

static int put_stats(arena_t *a, fs_value *m, const video_clip_stats *s)
{
    fs_value cs = fs_map(), by = fs_map();
    int r = 0;
    r |= fs_map_put(a, &cs, "total", fs_int(s->total));
    r |= fs_map_put(a, &cs, "completed", fs_int(s->completed));
    r |= fs_map_put(a, &cs, "failed", fs_int(s->failed));
    r |= fs_map_put(a, &cs, "total_size_bytes", fs_int(s->total_size_bytes));
    r |= fs_map_put(a, &cs, "total_duration_seconds", fs_double(s->total_duration_seconds));
    for (size_t i = 0; i < s->nby_style; i++)
        r |= fs_map_put(a, &by, s->by_style[i].style, fs_int(s->by_style[i].count));
    r |= fs_map_put(a, &cs, "by_style", by);
    return r | fs_map_put(a, m, "clip_stats", cs);
}

clip_err videos_fields(arena_t *a, const char *uid, const char *video_id, const video_rec *in,
                       unsigned mask, fs_value *f, const char **paths, size_t *npaths, char *err,
                       size_t errlen)
{
    if ((mask & VIDEO_F_STATUS) && !videos_status_valid(in->status))
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "status: one of queued, processing, completed, failed");
    if (!text_ok(in->video_url) || !text_ok(in->video_title) || !text_ok(in->youtube_id) ||
        !text_ok(in->custom_prompt) || !text_ok(in->crop_mode) || !text_ok(in->target_aspect))
        return clip_fail(CLIP_EINVAL, err, errlen, "a text field is longer than %d bytes",
                         VIDEOS_TEXT_MAX);
    if (((mask & VIDEO_F_STYLES) &&
         (in->nstyles > VIDEOS_LIST_ITEMS_MAX || (in->nstyles && !in->styles_processed))) ||
        ((mask & VIDEO_F_HIGHLIGHTS_SUMMARY) &&
         (in->ncategories > VIDEOS_LIST_ITEMS_MAX || (in->ncategories && !in->categories))))
        return clip_fail(CLIP_EINVAL, err, errlen, "a list is longer than %d items",
                         VIDEOS_LIST_ITEMS_MAX);
    if ((mask & VIDEO_F_HIGHLIGHTS_SUMMARY) && !isfinite(in->highlights_total_duration))
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "highlights_summary.total_duration: not a number");
    *f = fs_map();
    size_t n = 0;
    int r = 0;
    r |= fs_map_put(a, f, "video_id", fs_str(video_id));
    paths[n++] = "video_id";
    r |= fs_map_put(a, f, "user_id", fs_str(uid));
    paths[n++] = "user_id";
#define STR(bit, key, val, nullable)                                                               \
    if (mask & (bit)) {                                                                            \
        r |= fs_map_put(a, f, key, (nullable) ? fs_str(val) : fs_str((val) ? (val) : ""));         \
        paths[n++] = key;                                                                          \
    }
    STR(VIDEO_F_URL, "video_url", in->video_url, 0)
    STR(VIDEO_F_TITLE, "video_title", in->video_title, 0)
    STR(VIDEO_F_YOUTUBE_ID, "youtube_id", in->youtube_id, 1)
    STR(VIDEO_F_STATUS, "status", in->status, 0)
    STR(VIDEO_F_CUSTOM_PROMPT, "custom_prompt", in->custom_prompt, 1)
    STR(VIDEO_F_CROP_MODE, "crop_mode", in->crop_mode, 0)
    STR(VIDEO_F_TARGET_ASPECT, "target_aspect", in->target_aspect, 0)
#undef STR
    if (mask & VIDEO_F_STYLES) {
        r |= put_list(a, f, "styles_processed", in->styles_processed, in->nstyles);
        paths[n++] = "styles_processed";
    }
    if (mask & VIDEO_F_HIGHLIGHTS_COUNT) {
        r |= fs_map_put(a, f, "highlights_count", fs_int(in->highlights_count));
        paths[n++] = "highlights_count";
    }
    if (mask & VIDEO_F_HIGHLIGHTS_SUMMARY) {
        fs_value hs = fs_map();
        r |= fs_map_put(a, &hs, "total_duration", fs_double(in->highlights_total_duration));
        r |= put_list(a, &hs, "categories", in->categories, in->ncategories);
        r |= fs_map_put(a, f, "highlights_summary", hs);
        paths[n++] = "highlights_summary";
    }
    if (mask & VIDEO_F_CLIP_STATS) {
        r |= put_stats(a, f, &in->clip_stats);
        paths[n++] = "clip_stats";
    }
    if (mask & VIDEO_F_CREATED_AT) {
        r |= fs_map_put(a, f, "created_at", fs_timestamp(in->created_at));
        paths[n++] = "created_at";
    }
    *npaths = n;
    return r ? clip_fail(CLIP_EINVAL, err, errlen, "out of memory or a NULL list item") : CLIP_OK;
}

clip_err videos_create_or_update(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                                 const video_rec *in, unsigned mask, video_rec *out, int *created,
                                 char *err, size_t errlen)
{
    if (created)
        *created = 0;
    const char *path;
    clip_err e = video_path(a, &path, uid, video_id, err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_value f;
    const char *paths[VIDEOS_FIELDS_MAX];
    size_t npaths = 0;
    e = videos_fields(a, uid, video_id, in, mask, &f, paths, &npaths, err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_commit_result res;
    fs_transform upd = {"updated_at", FS_TRANSFORM_REQUEST_TIME, fs_null()};
    fs_transform both[] = {{"created_at", FS_TRANSFORM_REQUEST_TIME, fs_null()}, upd};
    /* Update first (the common case once a video exists); a missing video is then created with
     * exists=false, so created_at is written exactly once even when two writers race. */
    for (int round = 0; round < 2; round++) {
        fs_write w = {.path = path,
                      .fields = &f,
                      .mask = paths,
                      .nmask = npaths,
                      .use_mask = 1,
                      .transforms = &upd,
                      .ntransforms = 1,
                      .precond = FS_PRECOND_EXISTS};
        e = fs_commit(fs, a, &w, 1, &res, err, errlen);
        if (e != CLIP_ENOTFOUND && e != CLIP_ECONFLICT)
            break;
        w.transforms = both;
        w.ntransforms = 2;
        w.precond = FS_PRECOND_MISSING;
        e = fs_commit(fs, a, &w, 1, &res, err, errlen);
        if (e == CLIP_OK && created)
            *created = 1;
        if (e != CLIP_ECONFLICT) /* created by someone else meanwhile: update it */
            break;
    }
    if (e != CLIP_OK || !out)
        return e;
    /* The video as this write left it (read at the write's own time: a racing writer's change
     * never shows in our answer). */
    fs_doc d;
    fs_time at = res.nresults ? res.update_times[0] : res.commit_time;
    e = fs_get_at(fs, a, path, at, &d, err, errlen);
    return e == CLIP_OK ? videos_from_doc(a, &d, out, err, errlen) : e;
}

clip_err videos_list(fs_client *fs, arena_t *a, const char *uid, long limit, const char *cursor,
                     videos_page *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *parent;
    clip_err e = video_path(a, &parent, uid, NULL, err, errlen);
    if (e != CLIP_OK)
        return e;
    if (limit == 0)
        limit = VIDEOS_LIST_LIMIT_DEFAULT;
    if (limit < 0 || limit > VIDEOS_LIST_LIMIT_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "limit: 1 to %d", VIDEOS_LIST_LIMIT_MAX);
    fs_order order[] = {{"created_at", 1}, {"__name__", 1}};
    fs_query q = {.collection = "videos", .order = order, .norder = 2, .limit = limit + 1};
    buf_t sc = BUF_INIT;
    buf_printf(&sc, "videos\n%s", uid);
    if (sc.oom) {
        buf_free(&sc);
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    if (cursor && cursor[0]) {
        fs_value *vals = NULL;
        size_t nv = 0;
        e = fs_cursor_decode(a, sc.p, cursor, strlen(cursor), &vals, &nv, err, errlen);
        /* what this listing can hold: a time, and one of this user's videos */
        size_t idn = 0;
        const char *id = e == CLIP_OK && nv == 2
                             ? fs_ref_child_id(fs, &vals[1], parent, "videos", &idn)
                             : NULL;
        if (e == CLIP_OK && (vals[0].type != FS_TIMESTAMP || !id || !ids_valid_id(id, idn)))
            e = CLIP_EINVAL;
        if (e != CLIP_OK) {
            buf_free(&sc);
            return clip_fail(e, err, errlen, "cursor: not one this listing gave");
        }
        q.start_values = vals;
        q.nstart = 2;
    }
    fs_doc *docs = NULL;
    size_t n = 0;
    e = fs_run_query(fs, a, parent, &q, &docs, &n, err, errlen);
    size_t keep = n > (size_t)limit ? (size_t)limit : n;
    if (e == CLIP_OK && keep && !(out->items = arena_calloc(a, keep, sizeof *out->items)))
        e = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    for (size_t i = 0; e == CLIP_OK && i < keep; i++)
        e = videos_from_doc(a, &docs[i], &out->items[i], err, errlen);
    if (e == CLIP_OK) {
        out->n = keep;
        if (n > (size_t)limit) {
            fs_value vals[] = {fs_timestamp(out->items[keep - 1].created_at),
                               fs_ref(docs[keep - 1].name)};
            buf_t c = BUF_INIT;
            if (fs_cursor_encode(&c, sc.p, vals, 2) != 0 ||
                !(out->next_cursor = arena_strndup(a, c.p, c.len)))
                e = clip_fail(CLIP_ENOMEM, err, errlen, "cannot build the next cursor");
            buf_free(&c);
        }
    }
    buf_free(&sc);
    return e;
}

static int64_t as_int(const fs_value *v)
{
    if (v->type == FS_INT)
        return v->u.i;
    if (v->type == FS_DOUBLE && isfinite(v->u.d))
        return (int64_t)llround(v->u.d);
    return 0;
}

static double as_double(const fs_value *v)
{
    if (v->type == FS_DOUBLE)
        return v->u.d;
    if (v->type == FS_INT)
        return (double)v->u.i;
    return 0;
}

clip_err videos_update_clip_statistics(fs_client *fs, arena_t *a, const char *uid,
                                       const char *video_id, video_clip_stats *out, char *err,
                                       size_t errlen)
{
    const char *path;
    clip_err e = video_path(a, &path, uid, video_id, err, errlen);
    if (e != CLIP_OK)
        return e;
    video_clip_stats s;
    memset(&s, 0, sizeof s);

    fs_query all = {.collection = "clips"};
    fs_aggregation sums[] = {{FS_AGG_COUNT, NULL, {0}},
                             {FS_AGG_SUM, "file_size_bytes", {0}},
                             {FS_AGG_SUM, "duration_seconds", {0}}};
    e = fs_run_aggregation(fs, a, path, &all, sums, 3, err, errlen);
    if (e != CLIP_OK)
        return e;
    s.total = as_int(&sums[0].result);
    s.total_size_bytes = as_int(&sums[1].result);
    s.total_duration_seconds = as_double(&sums[2].result);

    static const char *const counted[] = {"completed", "failed"};
    for (size_t i = 0; i < 2; i++) {
        fs_filter f = {"status", FS_OP_EQUAL, fs_str(counted[i])};
        fs_query q = {.collection = "clips", .filters = &f, .nfilters = 1};
        fs_aggregation cnt = {FS_AGG_COUNT, NULL, {0}};
        e = fs_run_aggregation(fs, a, path, &q, &cnt, 1, err, errlen);
        if (e != CLIP_OK)
            return e;
        *(i == 0 ? &s.completed : &s.failed) = as_int(&cnt.result);
    }

    /* Firestore has no GROUP BY: read the style of every clip (a projection, a few bytes each). */
    const char *sel[] = {"style"};
    fs_query styles = {.collection = "clips", .select = sel, .nselect = 1};
    fs_doc *docs = NULL;
    size_t n = 0;
    e = fs_run_query(fs, a, path, &styles, &docs, &n, err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_value by = fs_map();
    for (size_t i = 0; i < n; i++) {
        const fs_value *st = fs_map_get(&docs[i].fields, "style");
        if (!st || st->type != FS_STRING)
            continue;
        const fs_value *cur = fs_map_get(&by, st->u.s.p);
        if (fs_map_putn(a, &by, st->u.s.p, st->u.s.n, fs_int(cur ? cur->u.i + 1 : 1)) != 0)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }

    fs_value stats = fs_map();
    int r = 0;
    r |= fs_map_put(a, &stats, "total", fs_int(s.total));
    r |= fs_map_put(a, &stats, "completed", fs_int(s.completed));
    r |= fs_map_put(a, &stats, "failed", fs_int(s.failed));
    r |= fs_map_put(a, &stats, "total_size_bytes", fs_int(s.total_size_bytes));
    r |= fs_map_put(a, &stats, "total_duration_seconds", fs_double(s.total_duration_seconds));
    r |= fs_map_put(a, &stats, "by_style", by);
    fs_value fields = fs_map();
    r |= fs_map_put(a, &fields, "clip_stats", stats);
    if (r)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    const char *mask[] = {"clip_stats"};
    fs_transform upd = {"updated_at", FS_TRANSFORM_REQUEST_TIME, fs_null()};
    fs_write w = {.path = path,
                  .fields = &fields,
                  .mask = mask,
                  .nmask = 1,
                  .use_mask = 1,
                  .transforms = &upd,
                  .ntransforms = 1,
                  .precond = FS_PRECOND_EXISTS};
    e = fs_commit(fs, a, &w, 1, NULL, err, errlen);
    if (e == CLIP_ENOTFOUND || e == CLIP_ECONFLICT)
        return clip_fail(CLIP_ENOTFOUND, err, errlen, "no video %s", video_id);
    if (e != CLIP_OK)
        return e;
    if (out) {
        e = stats_from_map(a, &stats, out);
        if (e != CLIP_OK)
            return clip_fail(e, err, errlen, "out of memory");
    }
    return CLIP_OK;
}
