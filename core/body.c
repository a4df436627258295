/* body: strict JSON in, repository inputs out; every refusal names the field. */
#include "body.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ids.h"
#include "json.h"
#include "layout.h"
#include "sigv4.h"

typedef json_ctx pctx;

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const json_limits body_limits = {"body", 0, BODY_DEPTH_MAX};

/* The body as a JSON object (an empty or blank body is {}). *out is owned by the caller. */
static clip_err parse_object(const char *body, size_t n, json_object **out, char *err,
                             size_t errlen)
{
    *out = NULL;
    size_t i = 0;
    while (i < n && blank(body[i]))
        i++;
    if (i == n) {
        *out = json_object_new_object();
        return *out ? CLIP_OK : clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    if (n > INT_MAX)
        return clip_fail(CLIP_ETOOBIG, err, errlen, "body: too large");
    return json_read_object(body, n, &body_limits, out, err, errlen);
}

/* ---- typed members ------------------------------------------------------------------------------
 */

static clip_err bad(pctx *c, const char *name, const char *what)
{
    return json_refuse(c, name, what);
}

static clip_err get_str(pctx *c, const char *name, json_object *v, size_t max, int nullable,
                        const char **out)
{
    return json_get_str(c, name, v, max, nullable ? JSON_NULLABLE : 0, out);
}

static clip_err get_int(pctx *c, const char *name, json_object *v, int64_t min, int64_t max,
                        int64_t *out)
{
    return json_get_int(c, name, v, min, max, out);
}

static clip_err get_num(pctx *c, const char *name, json_object *v, double min, double max,
                        double *out)
{
    return json_get_num(c, name, v, min, max, out);
}

/* An id member that must equal the path's. */
static clip_err get_same_id(pctx *c, const char *name, json_object *v, const char *want)
{
    const char *s = NULL;
    clip_err e = get_str(c, name, v, IDS_MAX, 0, &s);
    if (e == CLIP_OK && strcmp(s, want) != 0)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen, "%s: must be \"%s\", as in the path", name,
                         want);
    return e;
}

static clip_err unknown(pctx *c, const char *prefix, const char *key)
{
    char name[160];
    json_field_name(name, sizeof name, prefix, key);
    return bad(c, name, "unknown field");
}

static clip_err server_set(pctx *c, const char *key, const char *by)
{
    return clip_fail(CLIP_EINVAL, c->err, c->errlen, "%s: set by %s, not accepted here", key, by);
}

static int is(const char *key, const char *name)
{
    return strcmp(key, name) == 0;
}

/* A member of a video or clip body that is none of its fields: the server's own times, or
 * unknown. */
static clip_err not_a_field(pctx *c, const char *key)
{
    if (is(key, "created_at") || is(key, "updated_at"))
        return server_set(c, key, "the server");
    return unknown(c, NULL, key);
}

/* ---- create_or_update_video ------------------------------------------------------------------ */

static clip_err parse_summary(pctx *c, json_object *v, video_rec *out)
{
    if (!json_object_is_type(v, json_type_object))
        return bad(c, "highlights_summary", "must be an object");
    int have_total = 0;
    out->highlights_total_duration = 0;
    out->categories = NULL;
    out->ncategories = 0;
    json_object_object_foreach(v, key, val)
    {
        clip_err e;
        if (is(key, "total_duration")) {
            e = get_num(c, "highlights_summary.total_duration", val, 0, BODY_TOTAL_DURATION_MAX,
                        &out->highlights_total_duration);
            have_total = 1;
        } else if (is(key, "categories")) {
            e = json_get_str_list(c, "highlights_summary.categories", val, VIDEOS_LIST_ITEMS_MAX,
                                  BODY_CATEGORY_MAX, NULL, NULL, &out->categories,
                                  &out->ncategories);
        } else {
            e = unknown(c, "highlights_summary", key);
        }
        if (e != CLIP_OK)
            return e;
    }
    if (!have_total)
        return bad(c, "highlights_summary.total_duration", "required");
    return CLIP_OK;
}

/* Seconds of a highlight's start or end: a time string or a number. -1 when absent. */
static clip_err highlight_time(pctx *c, const char *name, json_object *v, double *out)
{
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
        return get_num(c, name, v, 0, BODY_DURATION_MAX * 1000, out);
    const char *s = NULL;
    clip_err e = get_str(c, name, v, BODY_TIME_TEXT_MAX, 0, &s);
    if (e != CLIP_OK)
        return bad(c, name, "must be HH:MM:SS(.fff) or seconds");
    *out = clips_parse_time(s);
    if (*out < 0)
        return bad(c, name, "must be HH:MM:SS(.fff) or seconds");
    return CLIP_OK;
}

/* The summary of a raw highlights array, as the original workflow computed it: the sum of the
 * durations (or end - start) and the distinct hook categories in first-seen order. */
static clip_err parse_highlights(pctx *c, json_object *v, video_rec *out, int64_t *count)
{
    if (!json_object_is_type(v, json_type_array))
        return bad(c, "highlights", "must be an array of objects");
    size_t n = json_object_array_length(v);
    if (n > BODY_HIGHLIGHTS_MAX)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen, "highlights: more than %d items",
                         BODY_HIGHLIGHTS_MAX);
    const char **cats = arena_calloc(c->a, VIDEOS_LIST_ITEMS_MAX, sizeof *cats);
    if (!cats)
        return clip_fail(CLIP_ENOMEM, c->err, c->errlen, "out of memory");
    size_t ncats = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *h = json_object_array_get_idx(v, i);
        char base[48], name[160];
        snprintf(base, sizeof base, "highlights[%zu]", i);
        if (!json_object_is_type(h, json_type_object))
            return bad(c, base, "must be an object");
        double start = -1, end = -1, duration = -1;
        const char *cat = NULL, *ignored = NULL;
        int64_t num = 0;
        clip_err e = CLIP_OK;
        json_object_object_foreach(h, key, val)
        {
            json_field_name(name, sizeof name, base, key);
            if (is(key, "start"))
                e = highlight_time(c, name, val, &start);
            else if (is(key, "end"))
                e = highlight_time(c, name, val, &end);
            else if (is(key, "duration"))
                e = get_num(c, name, val, 0, BODY_DURATION_MAX, &duration);
            else if (is(key, "hook_category"))
                e = get_str(c, name, val, BODY_CATEGORY_MAX, 1, &cat);
            else if (is(key, "id"))
                e = get_int(c, name, val, 0, BODY_SCENE_ID_MAX, &num);
            else if (is(key, "priority"))
                e = get_int(c, name, val, 0, BODY_PRIORITY_MAX, &num);
            else if (is(key, "title"))
                e = get_str(c, name, val, CLIPS_TEXT_MAX, 0, &ignored);
            else if (is(key, "description"))
                e = get_str(c, name, val, CLIPS_TEXT_MAX, 1, &ignored);
            else
                e = unknown(c, base, key);
            if (e != CLIP_OK)
                return e;
        }
        if (duration < 0) {
            if (start < 0 || end < 0 || end < start) {
                json_field_name(name, sizeof name, base, "duration");
                return bad(c, name, "not given, and start / end do not give it");
            }
            duration = end - start;
        }
        total += duration;
        if (cat && cat[0]) {
            size_t k = 0;
            while (k < ncats && strcmp(cats[k], cat) != 0)
                k++;
            if (k == ncats) {
                if (ncats == VIDEOS_LIST_ITEMS_MAX)
                    return clip_fail(CLIP_EINVAL, c->err, c->errlen,
                                     "highlights: more than %d distinct hook categories",
                                     VIDEOS_LIST_ITEMS_MAX);
                cats[ncats++] = cat;
            }
        }
    }
    /* to the millisecond the times are written in, so 28.5 + 30.2 is 58.7 */
    out->highlights_total_duration = round(total * 1000.0) / 1000.0;
    out->categories = cats;
    out->ncategories = ncats;
    *count = (int64_t)n;
    return CLIP_OK;
}

static const char *const video_statuses = "queued, processing, completed, failed";

static clip_err video_fields(pctx *c, json_object *j, const char *uid, const char *video_id,
                             video_rec *out, unsigned *mask)
{
    int have_raw = 0, have_summary = 0;
    int64_t raw_count = 0;
    json_object_object_foreach(j, key, v)
    {
        clip_err e = CLIP_OK;
        if (is(key, "video_id")) {
            e = get_same_id(c, key, v, video_id);
        } else if (is(key, "user_id")) {
            e = get_same_id(c, key, v, uid);
        } else if (is(key, "video_url")) {
            e = get_str(c, key, v, VIDEOS_TEXT_MAX, 0, &out->video_url);
            *mask |= VIDEO_F_URL;
        } else if (is(key, "video_title")) {
            e = get_str(c, key, v, VIDEOS_TEXT_MAX, 0, &out->video_title);
            *mask |= VIDEO_F_TITLE;
        } else if (is(key, "youtube_id")) {
            e = get_str(c, key, v, BODY_SHORT_TEXT_MAX, 1, &out->youtube_id);
            *mask |= VIDEO_F_YOUTUBE_ID;
        } else if (is(key, "status")) {
            e = get_str(c, key, v, 16, 0, &out->status);
            if (e != CLIP_OK || !videos_status_valid(out->status))
                return clip_fail(CLIP_EINVAL, c->err, c->errlen, "status: must be one of %s",
                                 video_statuses);
            *mask |= VIDEO_F_STATUS;
        } else if (is(key, "custom_prompt")) {
            e = get_str(c, key, v, VIDEOS_TEXT_MAX, 1, &out->custom_prompt);
            *mask |= VIDEO_F_CUSTOM_PROMPT;
        } else if (is(key, "styles_processed")) {
            e = json_get_str_list(c, key, v, VIDEOS_LIST_ITEMS_MAX, IDS_STYLE_MAX, ids_valid_style,
                                  "must be 1-64 bytes of [a-z0-9-]", &out->styles_processed,
                                  &out->nstyles);
            *mask |= VIDEO_F_STYLES;
        } else if (is(key, "crop_mode")) {
            e = get_str(c, key, v, BODY_SHORT_TEXT_MAX, 0, &out->crop_mode);
            *mask |= VIDEO_F_CROP_MODE;
        } else if (is(key, "target_aspect")) {
            e = get_str(c, key, v, BODY_SHORT_TEXT_MAX, 0, &out->target_aspect);
            *mask |= VIDEO_F_TARGET_ASPECT;
        } else if (is(key, "highlights_count")) {
            e = get_int(c, key, v, 0, BODY_HIGHLIGHTS_COUNT_MAX, &out->highlights_count);
            *mask |= VIDEO_F_HIGHLIGHTS_COUNT;
        } else if (is(key, "highlights_summary")) {
            e = parse_summary(c, v, out);
            have_summary = 1;
        } else if (is(key, "highlights")) {
            e = parse_highlights(c, v, out, &raw_count);
            have_raw = 1;
        } else if (is(key, "clip_stats")) {
            e = server_set(c, key, "the stats call (POST .../stats)");
        } else {
            e = not_a_field(c, key);
        }
        if (e != CLIP_OK)
            return e;
    }
    if (have_raw && have_summary)
        return bad(c, "highlights", "give either highlights or highlights_summary, not both");
    if (have_raw || have_summary)
        *mask |= VIDEO_F_HIGHLIGHTS_SUMMARY;
    if (have_raw && !(*mask & VIDEO_F_HIGHLIGHTS_COUNT)) {
        out->highlights_count = raw_count;
        *mask |= VIDEO_F_HIGHLIGHTS_COUNT;
    }
    return CLIP_OK;
}

clip_err body_parse_video(arena_t *a, const char *uid, const char *video_id, const char *body,
                           size_t n, video_rec *out, unsigned *mask, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    *mask = 0;
    pctx c = {a, err, errlen};
    json_object *j = NULL;
    clip_err e = parse_object(body, n, &j, err, errlen);
    if (e == CLIP_OK)
        e = video_fields(&c, j, uid, video_id, out, mask);
    json_object_put(j);
    if (e != CLIP_OK) {
        memset(out, 0, sizeof *out);
        *mask = 0;
        return e;
    }
    out->video_id = video_id;
    out->user_id = uid;
    return CLIP_OK;
}

/* ---- create_clip ------------------------------------------------------------------------------
 */

static const char *const clip_statuses = "pending, processing, completed, failed";

static clip_err get_clip_status(pctx *c, json_object *v, const char **out)
{
    clip_err e = get_str(c, "status", v, 16, 0, out);
    if (e != CLIP_OK || !clips_status_valid(*out))
        return clip_fail(CLIP_EINVAL, c->err, c->errlen, "status: must be one of %s",
                         clip_statuses);
    return CLIP_OK;
}

static clip_err get_time_text(pctx *c, const char *name, json_object *v, const char **out,
                              double *secs)
{
    clip_err e = get_str(c, name, v, BODY_TIME_TEXT_MAX, 0, out);
    if (e == CLIP_ENOMEM)
        return e;
    if (e != CLIP_OK || (*secs = clips_parse_time(*out)) < 0)
        return bad(c, name, "must be a string: HH:MM:SS(.fff), MM:SS(.fff) or seconds");
    return CLIP_OK;
}

/* file_size_bytes and file_size_mb of one body: bytes wins, mb alone gives bytes, both must agree.
 */
typedef struct {
    int has_bytes, has_mb;
    int64_t bytes;
    double mb;
} sizes;

static clip_err size_member(pctx *c, const char *key, json_object *v, sizes *s, int *matched)
{
    *matched = 1;
    if (is(key, "file_size_bytes")) {
        s->has_bytes = 1;
        return get_int(c, key, v, 0, BODY_FILE_SIZE_MAX, &s->bytes);
    }
    if (is(key, "file_size_mb")) {
        s->has_mb = 1;
        return get_num(c, key, v, 0, (double)BODY_FILE_SIZE_MAX / CLIPS_BYTES_PER_MB, &s->mb);
    }
    *matched = 0;
    return CLIP_OK;
}

static clip_err size_resolve(pctx *c, sizes *s)
{
    if (s->has_mb && s->has_bytes &&
        fabs(s->mb - (double)s->bytes / CLIPS_BYTES_PER_MB) > BODY_MB_TOLERANCE)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen,
                         "file_size_mb: does not agree with file_size_bytes (%.3f MB)",
                         (double)s->bytes / CLIPS_BYTES_PER_MB);
    if (s->has_mb && !s->has_bytes) {
        s->bytes = (int64_t)llround(s->mb * CLIPS_BYTES_PER_MB);
        s->has_bytes = 1;
    }
    return CLIP_OK;
}

static clip_err check_filename(pctx *c, const char *clip_id, const char *filename)
{
    size_t n = strlen(filename);
    if (!ids_valid_filename(filename, n))
        return bad(c, "filename",
                   "must be 1-128 bytes of [A-Za-z0-9._-], no '..' and no leading dot");
    const char *dot = strrchr(filename, '.');
    size_t stem = dot ? (size_t)(dot - filename) : n;
    if (stem != strlen(clip_id) || memcmp(filename, clip_id, stem) != 0)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen,
                         "filename: must be \"%s\" plus an extension (the clip id of the path)",
                         clip_id);
    return CLIP_OK;
}

static clip_err clip_fields(pctx *c, json_object *j, const char *uid, const char *video_id,
                            const char *clip_id, clip_create_input *out)
{
    int have_scene = 0, have_r2 = 0, have_thumb_key = 0;
    const char *given_r2 = NULL, *given_thumb = NULL;
    double start = -1, end = -1;
    sizes sz = {0, 0, 0, 0};
    json_object_object_foreach(j, key, v)
    {
        clip_err e = CLIP_OK;
        int matched = 0;
        e = size_member(c, key, v, &sz, &matched);
        if (matched) {
            /* done */
        } else if (is(key, "clip_id")) {
            e = get_same_id(c, key, v, clip_id);
        } else if (is(key, "filename")) {
            e = get_str(c, key, v, IDS_MAX, 0, &out->filename);
            if (e == CLIP_OK)
                e = check_filename(c, clip_id, out->filename);
        } else if (is(key, "scene_id")) {
            e = get_int(c, key, v, 0, BODY_SCENE_ID_MAX, &out->scene_id);
            have_scene = 1;
        } else if (is(key, "scene_title")) {
            e = get_str(c, key, v, CLIPS_TEXT_MAX, 0, &out->scene_title);
        } else if (is(key, "scene_description")) {
            e = get_str(c, key, v, CLIPS_TEXT_MAX, 1, &out->scene_description);
        } else if (is(key, "style")) {
            e = get_str(c, key, v, IDS_STYLE_MAX, 0, &out->style);
            if (e != CLIP_OK || !ids_valid_style(out->style, strlen(out->style)))
                return bad(c, key, "must be 1-64 bytes of [a-z0-9-]");
        } else if (is(key, "start_time")) {
            e = get_time_text(c, key, v, &out->start_time, &start);
        } else if (is(key, "end_time")) {
            e = get_time_text(c, key, v, &out->end_time, &end);
        } else if (is(key, "duration_seconds")) {
            e = get_num(c, key, v, 0, BODY_DURATION_MAX, &out->duration_seconds);
            out->has_duration = 1;
        } else if (is(key, "priority")) {
            e = get_int(c, key, v, 0, BODY_PRIORITY_MAX, &out->priority);
            out->has_priority = 1;
        } else if (is(key, "status")) {
            e = get_clip_status(c, v, &out->status);
        } else if (is(key, "error")) {
            e = get_str(c, key, v, CLIPS_TEXT_MAX, 1, &out->error);
        } else if (is(key, "has_thumbnail")) {
            e = json_get_bool(c, key, v, &out->has_thumbnail);
        } else if (is(key, "r2_key")) {
            e = get_str(c, key, v, SIG_KEY_MAX, 0, &given_r2);
            have_r2 = 1;
        } else if (is(key, "thumbnail_r2_key")) {
            e = get_str(c, key, v, SIG_KEY_MAX, 1, &given_thumb);
            have_thumb_key = 1;
        } else {
            e = not_a_field(c, key);
        }
        if (e != CLIP_OK)
            return e;
    }
    /* required, in the contract's order */
    if (!have_scene)
        return bad(c, "scene_id", "required");
    if (!out->style)
        return bad(c, "style", "required");
    if (!out->start_time)
        return bad(c, "start_time", "required");
    if (!out->end_time)
        return bad(c, "end_time", "required");
    if (end < start)
        return bad(c, "end_time", "before start_time");
    clip_err e = size_resolve(c, &sz);
    if (e != CLIP_OK)
        return e;
    out->file_size_bytes = sz.has_bytes ? sz.bytes : 0;
    if (!out->has_duration)
        out->duration_seconds = round((end - start) * 1000.0) / 1000.0;
    /* the derived keys, when the caller sent them too, must be what the server writes */
    const char *fn =
        out->filename ? out->filename : arena_join(c->a, clip_id, LAYOUT_CLIP_EXT, (char *)NULL);
    const char *want_r2 = fn ? layout_clip_key(c->a, uid, video_id, fn) : NULL;
    const char *want_thumb = layout_thumb_key(c->a, uid, video_id, clip_id);
    if (!want_r2 || !want_thumb)
        return clip_fail(CLIP_ENOMEM, c->err, c->errlen, "out of memory");
    if (have_r2 && strcmp(given_r2, want_r2) != 0)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen, "r2_key: must be \"%s\" (or left out)",
                         want_r2);
    if (have_thumb_key && out->has_thumbnail && (!given_thumb || strcmp(given_thumb, want_thumb)))
        return clip_fail(CLIP_EINVAL, c->err, c->errlen,
                         "thumbnail_r2_key: must be \"%s\" (or left out)", want_thumb);
    if (have_thumb_key && !out->has_thumbnail && given_thumb)
        return bad(c, "thumbnail_r2_key", "must be null (or left out) when has_thumbnail is false");
    return CLIP_OK;
}

clip_err body_parse_clip(arena_t *a, const char *uid, const char *video_id, const char *clip_id,
                          const char *body, size_t n, clip_create_input *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    pctx c = {a, err, errlen};
    json_object *j = NULL;
    clip_err e = parse_object(body, n, &j, err, errlen);
    if (e == CLIP_OK)
        e = clip_fields(&c, j, uid, video_id, clip_id, out);
    json_object_put(j);
    if (e != CLIP_OK)
        memset(out, 0, sizeof *out);
    return e;
}

/* ---- update_clip_status ---------------------------------------------------------------------- */

clip_err body_parse_status(arena_t *a, const char *body, size_t n, clip_status_update *out,
                            char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->has_thumbnail = -1;
    pctx c = {a, err, errlen};
    json_object *j = NULL;
    clip_err e = parse_object(body, n, &j, err, errlen);
    sizes sz = {0, 0, 0, 0};
    if (e == CLIP_OK) {
        json_object_object_foreach(j, key, v)
        {
            int matched = 0;
            e = size_member(&c, key, v, &sz, &matched);
            if (matched) {
                /* done */
            } else if (is(key, "status"))
                e = get_clip_status(&c, v, &out->status);
            else if (is(key, "error"))
                e = get_str(&c, key, v, CLIPS_TEXT_MAX, 1, &out->error);
            else if (is(key, "has_thumbnail"))
                e = json_get_bool(&c, key, v, &out->has_thumbnail);
            else
                e = unknown(&c, NULL, key);
            if (e != CLIP_OK)
                break;
        }
    }
    if (e == CLIP_OK && !out->status)
        e = bad(&c, "status", "required");
    if (e == CLIP_OK)
        e = size_resolve(&c, &sz);
    json_object_put(j);
    if (e != CLIP_OK) {
        memset(out, 0, sizeof *out);
        out->has_thumbnail = -1;
        return e;
    }
    out->has_file_size = sz.has_bytes;
    out->file_size_bytes = sz.bytes;
    return CLIP_OK;
}

/* ---- stats and upload-urls ------------------------------------------------------------------- */

clip_err body_parse_stats(arena_t *a, const char *body, size_t n, char *err, size_t errlen)
{
    pctx c = {a, err, errlen};
    json_object *j = NULL;
    clip_err e = parse_object(body, n, &j, err, errlen);
    if (e == CLIP_OK) {
        json_object_object_foreach(j, key, v)
        {
            (void)v;
            e = unknown(&c, NULL, key);
            break;
        }
    }
    json_object_put(j);
    return e;
}

clip_err body_parse_upload(arena_t *a, const char *clip_id, const char *body, size_t n,
                            body_upload *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    pctx c = {a, err, errlen};
    json_object *j = NULL;
    clip_err e = parse_object(body, n, &j, err, errlen);
    if (e == CLIP_OK) {
        json_object_object_foreach(j, key, v)
        {
            if (is(key, "filename")) {
                e = get_str(&c, key, v, IDS_MAX, 0, &out->filename);
                if (e == CLIP_OK)
                    e = check_filename(&c, clip_id, out->filename);
            } else if (is(key, "expires_in")) {
                int64_t x = 0;
                e = get_int(&c, key, v, SIG_EXPIRES_MIN, SIG_EXPIRES_MAX, &x);
                out->expires_in = (long)x;
            } else {
                e = unknown(&c, NULL, key);
            }
            if (e != CLIP_OK)
                break;
        }
    }
    json_object_put(j);
    if (e == CLIP_OK && !out->filename) {
        size_t len = strlen(clip_id);
        char *fn = arena_alloc(a, len + 5);
        if (!fn)
            e = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        else
            snprintf(fn, len + 5, "%s.mp4", clip_id);
        out->filename = fn;
    }
    if (e != CLIP_OK)
        memset(out, 0, sizeof *out);
    return e;
}

/* ---- clipctl's field arguments --------------------------------------------------------------- */

static const char *const string_fields[][12] = {
    [BODY_VIDEO] = {"video_id", "user_id", "video_url", "video_title", "youtube_id", "status",
                     "custom_prompt", "crop_mode", "target_aspect", NULL},
    [BODY_CLIP] = {"clip_id", "filename", "scene_title", "scene_description", "style",
                    "start_time", "end_time", "status", "error", "r2_key", "thumbnail_r2_key",
                    NULL},
    [BODY_STATUS] = {"status", "error", NULL},
    [BODY_STATS] = {NULL},
    [BODY_UPLOAD] = {"filename", NULL},
};

static int string_field(body_kind kind, const char *name)
{
    if ((unsigned)kind > BODY_UPLOAD)
        return 1;
    for (size_t i = 0; string_fields[kind][i]; i++)
        if (strcmp(string_fields[kind][i], name) == 0)
            return 1;
    return 0;
}

/* One JSON value of any type (strict, as for bodies) into *out (NULL for JSON null, as json-c
 * has it). 0 ok, -1 when s is not one. */
static int parse_value(const char *s, size_t n, json_object **out)
{
    char why[160];
    if (n > INT_MAX)
        return -1;
    return json_read(s, n, &body_limits, out, why, sizeof why) == CLIP_OK ? 0 : -1;
}

clip_err body_from_args(body_kind kind, const char *base, size_t base_len,
                         const char *const *args, size_t nargs, buf_t *out, char *err,
                         size_t errlen)
{
    json_object *j = NULL;
    clip_err e = parse_object(base ? base : "", base ? base_len : 0, &j, err, errlen);
    if (e != CLIP_OK)
        return e;
    for (size_t i = 0; i < nargs && e == CLIP_OK; i++) {
        const char *arg = args[i];
        size_t alen = strnlen(arg, BODY_ARG_MAX + 1);
        const char *eq = memchr(arg, '=', alen);
        if (alen > BODY_ARG_MAX) {
            e = clip_fail(CLIP_EINVAL, err, errlen, "argument %zu: longer than %d bytes", i + 1,
                          BODY_ARG_MAX);
            break;
        }
        int raw = eq && eq > arg && eq[-1] == ':';
        size_t klen = eq ? (size_t)(eq - arg) - (raw ? 1 : 0) : 0;
        if (!eq || klen == 0 || klen > JSON_NAME_SHOWN) {
            e = clip_fail(CLIP_EINVAL, err, errlen,
                          "argument '%.64s': expected name=value or name:=JSON", arg);
            break;
        }
        char name[JSON_NAME_SHOWN + 1];
        memcpy(name, arg, klen);
        name[klen] = '\0';
        const char *val = eq + 1;
        size_t vlen = alen - (size_t)(val - arg);
        json_object *v = NULL;
        int oom = 0;
        if (raw) {
            if (parse_value(val, vlen, &v) != 0)
                e = clip_fail(CLIP_EINVAL, err, errlen, "%s: not valid JSON after ':='", name);
        } else if (string_field(kind, name)) {
            oom = !(v = json_object_new_string_len(val, (int)vlen));
        } else if (parse_value(val, vlen, &v) != 0) {
            /* a number, true/false, null or array for the other fields; else the text, which the
             * parser then refuses naming the field and the type it wants */
            oom = !(v = json_object_new_string_len(val, (int)vlen));
        }
        if (e == CLIP_OK && (oom || json_object_object_add(j, name, v) != 0)) {
            json_object_put(v);
            e = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        }
    }
    if (e == CLIP_OK) {
        size_t len = 0;
        const char *s = json_object_to_json_string_length(
            j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!s || buf_append(out, s, len) != 0)
            e = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    json_object_put(j);
    return e;
}
