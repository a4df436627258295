/* clips: the clip repository; the only code that knows the clip document's field names. */
#include "clips.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "layout.h"

static const char *const statuses[] = {"pending", "processing", "completed", "failed"};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

int clips_status_valid(const char *s)
{
    return s && ids_one_of(s, strlen(s), statuses, NSTATUSES);
}

int clips_status_valid_n(const char *p, size_t n)
{
    return ids_one_of(p, n, statuses, NSTATUSES);
}

double clips_parse_time(const char *s)
{
    if (!s || !*s || strlen(s) > 32)
        return -1;
    double parts[3];
    int n = 0;
    const char *p = s;
    for (;;) {
        if (n == 3 || !(*p >= '0' && *p <= '9'))
            return -1;
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || v < 0)
            return -1;
        /* only the last part may have a fraction */
        parts[n++] = v;
        if (*end == ':') {
            if (memchr(p, '.', (size_t)(end - p)))
                return -1;
            p = end + 1;
            continue;
        }
        if (*end != '\0')
            return -1;
        break;
    }
    for (int i = 1; i < n; i++)
        if (parts[i] >= 60)
            return -1;
    double secs = 0;
    for (int i = 0; i < n; i++)
        secs = secs * 60 + parts[i];
    return secs;
}

static int id_ok(const char *s)
{
    return s && ids_valid_id(s, strlen(s));
}

static int text_ok(const char *s)
{
    return !s || strlen(s) <= CLIPS_TEXT_MAX;
}

/* The clip's document path (the video's, the parent of its clips, when clip_id is NULL), ids
 * checked. */
static clip_err clip_path(arena_t *a, const char **out, const char *uid, const char *video_id,
                          const char *clip_id, char *err, size_t errlen)
{
    if (!id_ok(uid) || !id_ok(video_id) || (clip_id && !id_ok(clip_id)))
        return clip_fail(CLIP_EINVAL, err, errlen, "bad uid, video_id or clip_id");
    *out = clip_id ? layout_clip_doc(a, uid, video_id, clip_id) : layout_video_doc(a, uid, video_id);
    return *out ? CLIP_OK : clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
}

/* The fields clips_from_doc reads, found in one pass over the document's fields (an fs_map_get
 * for each scanned them all, eighteen times a clip). The strings come first: they are copied. */
enum {
    CF_FILENAME,
    CF_SCENE_TITLE,
    CF_SCENE_DESCRIPTION,
    CF_STYLE,
    CF_START_TIME,
    CF_END_TIME,
    CF_STATUS,
    CF_ERROR,
    CF_R2_KEY,
    CF_THUMBNAIL_R2_KEY,
    CF_STRINGS, /* the number of string fields */
    CF_SCENE_ID = CF_STRINGS,
    CF_PRIORITY,
    CF_FILE_SIZE_BYTES,
    CF_DURATION_SECONDS,
    CF_FILE_SIZE_MB,
    CF_HAS_THUMBNAIL,
    CF_CREATED_AT,
    CF_UPDATED_AT,
    CF_COUNT
};

/* The CF_ index of the field named key (n bytes), or -1. Each name is told apart by its length
 * and then by comparing a constant number of bytes, whatever order the fields come in. */
static int clip_field_slot(const char *key, size_t n)
{
#define CF_IS(s) (memcmp(key, s, sizeof s - 1) == 0) /* n is sizeof s - 1 in its case */
    switch (n) {
    case 5:
        return CF_IS("style") ? CF_STYLE : CF_IS("error") ? CF_ERROR : -1;
    case 6:
        return CF_IS("status") ? CF_STATUS : CF_IS("r2_key") ? CF_R2_KEY : -1;
    case 8:
        return CF_IS("filename")   ? CF_FILENAME
               : CF_IS("scene_id") ? CF_SCENE_ID
               : CF_IS("priority") ? CF_PRIORITY
               : CF_IS("end_time") ? CF_END_TIME
                                   : -1;
    case 10:
        return CF_IS("start_time")   ? CF_START_TIME
               : CF_IS("created_at") ? CF_CREATED_AT
               : CF_IS("updated_at") ? CF_UPDATED_AT
                                     : -1;
    case 11:
        return CF_IS("scene_title") ? CF_SCENE_TITLE : -1;
    case 12:
        return CF_IS("file_size_mb") ? CF_FILE_SIZE_MB : -1;
    case 13:
        return CF_IS("has_thumbnail") ? CF_HAS_THUMBNAIL : -1;
    case 15:
        return CF_IS("file_size_bytes") ? CF_FILE_SIZE_BYTES : -1;
    case 16:
        return CF_IS("duration_seconds")   ? CF_DURATION_SECONDS
               : CF_IS("thumbnail_r2_key") ? CF_THUMBNAIL_R2_KEY
                                           : -1;
    case 17:
        return CF_IS("scene_description") ? CF_SCENE_DESCRIPTION : -1;
    default:
        return -1;
    }
#undef CF_IS
}

/* v[k] = the value of field k in m (the first such field, as fs_map_get finds it), or NULL. */
static void clip_fields(const fs_value *m, const fs_value *v[CF_COUNT])
{
    for (int k = 0; k < CF_COUNT; k++)
        v[k] = NULL;
    if (m->type != FS_MAP)
        return;
    for (size_t i = 0; i < m->u.map.n; i++) {
        const fs_field *f = &m->u.map.fields[i];
        int k = clip_field_slot(f->key, f->key_len);
        if (k >= 0 && !v[k])
            v[k] = &f->value;
    }
}

/* v's whole number (fs_get_int), else dflt. */
static int64_t int_or(const fs_value *v, int64_t dflt)
{
    return v && v->type == FS_INT ? v->u.i : dflt;
}

/* v's number, a whole one too (fs_get_double); -1 when it is none. */
static int double_of(const fs_value *v, double *out)
{
    if (v && v->type == FS_DOUBLE) {
        *out = v->u.d;
        return 0;
    }
    if (v && v->type == FS_INT) {
        *out = (double)v->u.i;
        return 0;
    }
    return -1;
}

/* Copies of the string fields v[0..CF_STRINGS) and of the id in one block of a: out[k] is the
 * copy, or dflt[k] (a literal) when the field is absent, null or not a string, as fs_get_str_or
 * reads it. -1 when a has no room. */
static int copy_strings(arena_t *a, const fs_value *const v[CF_STRINGS],
                        const char *const dflt[CF_STRINGS], const char *id, const char *out[],
                        const char **id_out)
{
    size_t idn = id ? strlen(id) + 1 : 0, total = idn;
    for (int k = 0; k < CF_STRINGS; k++)
        if (v[k] && v[k]->type == FS_STRING) {
            if (v[k]->u.s.n >= SIZE_MAX / 2 - total)
                return -1;
            total += v[k]->u.s.n + 1;
        }
    char *p = total ? arena_alloc(a, total) : NULL;
    if (total && !p)
        return -1;
    *id_out = NULL;
    if (id) {
        memcpy(p, id, idn);
        *id_out = p;
        p += idn;
    }
    for (int k = 0; k < CF_STRINGS; k++) {
        if (!v[k] || v[k]->type != FS_STRING) {
            out[k] = dflt[k];
            continue;
        }
        size_t n = v[k]->u.s.n;
        if (n)
            memcpy(p, v[k]->u.s.p, n);
        p[n] = '\0';
        out[k] = p;
        p += n + 1;
    }
    return 0;
}

clip_err clips_from_doc(arena_t *a, const fs_doc *d, clip_rec *out, char *err, size_t errlen)
{
    static const char *const dflt[CF_STRINGS] = {
        [CF_FILENAME] = "",  [CF_SCENE_TITLE] = "", [CF_SCENE_DESCRIPTION] = NULL,
        [CF_STYLE] = "",     [CF_START_TIME] = "",  [CF_END_TIME] = "",
        [CF_STATUS] = "pending", [CF_ERROR] = NULL, [CF_R2_KEY] = "",
        [CF_THUMBNAIL_R2_KEY] = NULL};
    const fs_value *v[CF_COUNT];
    const char *s[CF_STRINGS];
    clip_fields(&d->fields, v);
    memset(out, 0, sizeof *out);
    if (copy_strings(a, v, dflt, d->id, s, &out->clip_id) != 0)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    out->filename = s[CF_FILENAME];
    out->scene_title = s[CF_SCENE_TITLE];
    out->scene_description = s[CF_SCENE_DESCRIPTION];
    out->style = s[CF_STYLE];
    out->start_time = s[CF_START_TIME];
    out->end_time = s[CF_END_TIME];
    out->status = s[CF_STATUS];
    out->error = s[CF_ERROR];
    out->r2_key = s[CF_R2_KEY];
    out->thumbnail_r2_key = s[CF_THUMBNAIL_R2_KEY];
    out->scene_id = int_or(v[CF_SCENE_ID], 0);
    out->priority = int_or(v[CF_PRIORITY], CLIPS_PRIORITY_DEFAULT);
    out->file_size_bytes = int_or(v[CF_FILE_SIZE_BYTES], 0);
    if (double_of(v[CF_DURATION_SECONDS], &out->duration_seconds) != 0)
        out->duration_seconds = 0;
    if (double_of(v[CF_FILE_SIZE_MB], &out->file_size_mb) != 0)
        out->file_size_mb = (double)out->file_size_bytes / CLIPS_BYTES_PER_MB;
    const fs_value *t = v[CF_HAS_THUMBNAIL];
    out->has_thumbnail = t && t->type == FS_BOOL ? t->u.b : 0;
    t = v[CF_CREATED_AT];
    out->created_at = t && t->type == FS_TIMESTAMP ? t->u.ts : d->create_time;
    t = v[CF_UPDATED_AT];
    out->updated_at = t && t->type == FS_TIMESTAMP ? t->u.ts : d->update_time;
    return CLIP_OK;
}

/* The fields of a new clip; the keys compared by an idempotent re-create come first. */
static const char *const descriptive[] = {
    "filename",   "scene_id", "scene_title",      "scene_description", "style",
    "start_time", "end_time", "duration_seconds", "priority"};

static clip_err new_fields(arena_t *a, const char *uid, const char *video_id, const char *clip_id,
                           const clip_create_input *in, fs_value *f, char *err, size_t errlen)
{
    const char *filename = in->filename;
    if (!filename) {
        filename = arena_join(a, clip_id, LAYOUT_CLIP_EXT, (char *)NULL);
        if (!filename)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    if (!ids_valid_filename(filename, strlen(filename)))
        return clip_fail(CLIP_EINVAL, err, errlen, "filename: not a valid file name");
    const char *dot = strrchr(filename, '.');
    size_t stem = dot ? (size_t)(dot - filename) : strlen(filename);
    if (stem != strlen(clip_id) || memcmp(filename, clip_id, stem) != 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "filename: %s does not name clip %s", filename,
                         clip_id);
    if (!in->style || !ids_valid_style(in->style, strlen(in->style)))
        return clip_fail(CLIP_EINVAL, err, errlen, "style: required, [a-z0-9-]+");
    const char *status = in->status ? in->status : "pending";
    if (!clips_status_valid(status))
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "status: one of pending, processing, completed, failed");
    if (!in->start_time || !in->end_time)
        return clip_fail(CLIP_EINVAL, err, errlen, "start_time and end_time: required");
    if (!text_ok(in->scene_title) || !text_ok(in->scene_description) || !text_ok(in->error) ||
        strlen(in->start_time) > 32 || strlen(in->end_time) > 32)
        return clip_fail(CLIP_EINVAL, err, errlen, "a text field is longer than %d bytes",
                         CLIPS_TEXT_MAX);
    if (in->file_size_bytes < 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "file_size_bytes: negative");
    double duration = in->duration_seconds;
    if (!in->has_duration) {
        double s = clips_parse_time(in->start_time), e = clips_parse_time(in->end_time);
        if (s < 0 || e < 0 || e < s)
            return clip_fail(
                CLIP_EINVAL, err, errlen,
                "duration_seconds: not given, and start_time / end_time do not give it");
        /* round to the millisecond the times are written in */
        duration = round((e - s) * 1000.0) / 1000.0;
    } else if (!isfinite(duration) || duration < 0) {
        return clip_fail(CLIP_EINVAL, err, errlen, "duration_seconds: not a non-negative number");
    }
    int64_t priority = in->has_priority ? in->priority : CLIPS_PRIORITY_DEFAULT;
    const char *r2_key = layout_clip_key(a, uid, video_id, filename);
    const char *thumb = in->has_thumbnail ? layout_thumb_key(a, uid, video_id, clip_id) : NULL;
    if (!r2_key || (in->has_thumbnail && !thumb))
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    *f = fs_map();
    int r = 0;
    r |= fs_map_put(a, f, "clip_id", fs_str(clip_id));
    r |= fs_map_put(a, f, "filename", fs_str(filename));
    r |= fs_map_put(a, f, "scene_id", fs_int(in->scene_id));
    r |= fs_map_put(a, f, "scene_title", fs_str(in->scene_title ? in->scene_title : ""));
    r |= fs_map_put(a, f, "scene_description", fs_str(in->scene_description));
    r |= fs_map_put(a, f, "style", fs_str(in->style));
    r |= fs_map_put(a, f, "start_time", fs_str(in->start_time));
    r |= fs_map_put(a, f, "end_time", fs_str(in->end_time));
    r |= fs_map_put(a, f, "duration_seconds", fs_double(duration));
    r |= fs_map_put(a, f, "priority", fs_int(priority));
    r |= fs_map_put(a, f, "status", fs_str(status));
    r |= fs_map_put(a, f, "error", fs_str(in->error));
    r |= fs_map_put(a, f, "file_size_bytes", fs_int(in->file_size_bytes));
    r |= fs_map_put(a, f, "file_size_mb",
                    fs_double((double)in->file_size_bytes / CLIPS_BYTES_PER_MB));
    r |= fs_map_put(a, f, "has_thumbnail", fs_bool(in->has_thumbnail));
    r |= fs_map_put(a, f, "r2_key", fs_str(r2_key));
    r |= fs_map_put(a, f, "thumbnail_r2_key", fs_str(thumb));
    return r ? clip_fail(CLIP_ENOMEM, err, errlen, "out of memory") : CLIP_OK;
}

clip_err clips_get(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                   const char *clip_id, clip_rec *out, char *err, size_t errlen)
{
    const char *path;
    clip_err e = clip_path(a, &path, uid, video_id, clip_id, err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_doc d;
    e = fs_get(fs, a, path, &d, err, errlen);
    if (e == CLIP_ENOTFOUND)
        return clip_fail(e, err, errlen, "no clip %s in video %s", clip_id, video_id);
    if (e != CLIP_OK)
        return e;
    return clips_from_doc(a, &d, out, err, errlen);
}

static const fs_transform create_transforms[] = {
    {"created_at", FS_TRANSFORM_REQUEST_TIME, {0}},
    {"updated_at", FS_TRANSFORM_REQUEST_TIME, {0}},
};

clip_err clips_create_write(arena_t *a, const char *uid, const char *video_id, const char *clip_id,
                            const clip_create_input *in, int must_be_new, fs_write *w, char *err,
                            size_t errlen)
{
    const char *p;
    memset(w, 0, sizeof *w);
    clip_err e = clip_path(a, &p, uid, video_id, clip_id, err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_value *fields = arena_alloc(a, sizeof *fields);
    if (!fields)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    e = new_fields(a, uid, video_id, clip_id, in, fields, err, errlen);
    if (e != CLIP_OK)
        return e;
    w->path = p;
    w->fields = fields;
    w->transforms = create_transforms;
    w->ntransforms = 2;
    w->precond = must_be_new ? FS_PRECOND_MISSING : FS_PRECOND_NONE;
    return CLIP_OK;
}

clip_err clips_create(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                      const char *clip_id, const clip_create_input *in, clip_rec *out, int *created,
                      char *err, size_t errlen)
{
    if (created)
        *created = 0;
    const char *path;
    clip_err e = clip_path(a, &path, uid, video_id, clip_id, err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_write w;
    e = clips_create_write(a, uid, video_id, clip_id, in, 1, &w, err, errlen);
    if (e != CLIP_OK)
        return e;
    const fs_value *fields = w.fields;
    fs_commit_result res;
    e = fs_commit(fs, a, &w, 1, &res, err, errlen);
    if (e == CLIP_OK) {
        if (created)
            *created = 1;
        if (!out)
            return CLIP_OK;
        /* The stored clip is what was sent plus the two server times: no read needed. */
        fs_time t = res.nresults ? res.update_times[0] : res.commit_time;
        const fs_value *tr = res.nresults ? &res.transform_results[0] : NULL;
        fs_doc d = {
            .name = w.path, .id = clip_id, .fields = fs_map(), .create_time = t, .update_time = t};
        int r = 0;
        for (size_t i = 0; i < fields->u.map.n; i++)
            r |= fs_map_putn(a, &d.fields, fields->u.map.fields[i].key,
                             fields->u.map.fields[i].key_len, fields->u.map.fields[i].value);
        for (size_t i = 0; i < 2; i++) {
            fs_value v = tr && i < tr->u.arr.n && tr->u.arr.items[i].type == FS_TIMESTAMP
                             ? tr->u.arr.items[i]
                             : fs_timestamp(t);
            r |= fs_map_put(a, &d.fields, create_transforms[i].field_path, v);
        }
        if (r)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        return clips_from_doc(a, &d, out, err, errlen);
    }
    if (e != CLIP_ECONFLICT)
        return e;
    /* It exists: the same clip again (a workflow retry) is fine, another one is a conflict. */
    fs_doc d;
    e = fs_get(fs, a, path, &d, err, errlen);
    if (e == CLIP_ENOTFOUND) /* deleted in between: the caller may simply try again */
        return clip_fail(CLIP_ECONFLICT, err, errlen, "clip %s changed during create", clip_id);
    if (e != CLIP_OK)
        return e;
    for (size_t i = 0; i < sizeof descriptive / sizeof descriptive[0]; i++) {
        const fs_value *want = fs_map_get(fields, descriptive[i]);
        const fs_value *have = fs_map_get(&d.fields, descriptive[i]);
        if (!have || !fs_value_equal(want, have))
            return clip_fail(CLIP_ECONFLICT, err, errlen,
                             "clip %s already exists with a different %s", clip_id, descriptive[i]);
    }
    return out ? clips_from_doc(a, &d, out, err, errlen) : CLIP_OK;
}

clip_err clips_update_status(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                             const char *clip_id, const clip_status_update *u, clip_rec *out,
                             char *err, size_t errlen)
{
    const char *path;
    clip_err e = clip_path(a, &path, uid, video_id, clip_id, err, errlen);
    if (e != CLIP_OK)
        return e;
    if (!clips_status_valid(u->status))
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "status: one of pending, processing, completed, failed");
    if (!text_ok(u->error))
        return clip_fail(CLIP_EINVAL, err, errlen, "error: longer than %d bytes", CLIPS_TEXT_MAX);
    if (u->has_file_size && u->file_size_bytes < 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "file_size_bytes: negative");
    fs_value f = fs_map();
    const char *mask[6];
    size_t nmask = 0;
    int r = 0;
    r |= fs_map_put(a, &f, "status", fs_str(u->status));
    mask[nmask++] = "status";
    r |= fs_map_put(a, &f, "error", fs_str(u->error));
    mask[nmask++] = "error";
    if (u->has_file_size) {
        r |= fs_map_put(a, &f, "file_size_bytes", fs_int(u->file_size_bytes));
        r |= fs_map_put(a, &f, "file_size_mb",
                        fs_double((double)u->file_size_bytes / CLIPS_BYTES_PER_MB));
        mask[nmask++] = "file_size_bytes";
        mask[nmask++] = "file_size_mb";
    }
    if (u->has_thumbnail >= 0) {
        const char *thumb = u->has_thumbnail ? layout_thumb_key(a, uid, video_id, clip_id) : NULL;
        if (u->has_thumbnail && !thumb)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        r |= fs_map_put(a, &f, "has_thumbnail", fs_bool(u->has_thumbnail));
        r |= fs_map_put(a, &f, "thumbnail_r2_key", fs_str(thumb));
        mask[nmask++] = "has_thumbnail";
        mask[nmask++] = "thumbnail_r2_key";
    }
    if (r)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    fs_transform tr = {"updated_at", FS_TRANSFORM_REQUEST_TIME, fs_null()};
    fs_write w = {.path = path,
                  .fields = &f,
                  .mask = mask,
                  .nmask = nmask,
                  .use_mask = 1,
                  .transforms = &tr,
                  .ntransforms = 1,
                  .precond = FS_PRECOND_EXISTS};
    fs_commit_result res;
    e = fs_commit(fs, a, &w, 1, &res, err, errlen);
    if (e == CLIP_ENOTFOUND ||
        e == CLIP_ECONFLICT) /* exists=false fails as NOT_FOUND or FAILED_PRECONDITION */
        return clip_fail(CLIP_ENOTFOUND, err, errlen, "no clip %s in video %s", clip_id, video_id);
    if (e != CLIP_OK || !out)
        return e;
    /* The clip as this write left it: read at the write's own time, so a write racing ours never
     * shows in our answer. */
    fs_doc d;
    fs_time at = res.nresults ? res.update_times[0] : res.commit_time;
    e = fs_get_at(fs, a, path, at, &d, err, errlen);
    return e == CLIP_OK ? clips_from_doc(a, &d, out, err, errlen) : e;
}

/* ---- listing -------------------------------------------------------------------------------- */

/* The fields the user view shows (view_clip) and the listing orders by: the field mask of its
 * queries, so Firestore sends (and we decode) nothing else. */
static const char *const user_view_fields[] = {
    "filename",        "scene_id",     "scene_title",      "scene_description", "style",
    "start_time",      "end_time",     "duration_seconds", "priority",          "status",
    "error",           "file_size_bytes", "has_thumbnail", "thumbnail_r2_key"};

/* Binds a cursor to the listing: user, video and the filters. */
static const char *scope(arena_t *a, const char *uid, const char *video_id, const clips_filter *f)
{
    buf_t b = BUF_INIT;
    buf_printf(&b, "clips\n%s\n%s\n%s\n%s\n", uid, video_id, f && f->status ? f->status : "",
               f && f->style ? f->style : "");
    if (f && f->has_scene_id)
        buf_printf(&b, "%lld", (long long)f->scene_id);
    const char *out = b.oom ? NULL : arena_strndup(a, b.p ? b.p : "", b.len);
    buf_free(&b);
    return out;
}

/* Whether the values of a cursor are what this listing can hold, field by field of its order: a
 * number for priority and scene_id, a style, and one of this video's clips. */
static int cursor_values_ok(const fs_client *fs, const char *parent, const fs_order *order,
                            const fs_value *vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *k = order[i].field;
        const fs_value *v = &vals[i];
        size_t idn = 0;
        const char *id;
        if (strcmp(k, "priority") == 0 || strcmp(k, "scene_id") == 0) {
            if (v->type != FS_INT)
                return 0;
        } else if (strcmp(k, "style") == 0) {
            if (v->type != FS_STRING || !ids_valid_style(v->u.s.p, v->u.s.n))
                return 0;
        } else if (!(id = fs_ref_child_id(fs, v, parent, "clips", &idn)) ||
                   !ids_valid_id(id, idn)) {
            return 0;
        }
    }
    return 1;
}

clip_err clips_query_make(const fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                          const clips_filter *f, long limit, const char *cursor, int user_view,
                          clips_query *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    clip_err e = clip_path(a, &out->parent, uid, video_id, NULL, err, errlen);
    if (e != CLIP_OK)
        return e;
    if (limit == 0)
        limit = CLIPS_LIST_LIMIT_DEFAULT;
    if (limit < 0 || limit > CLIPS_LIST_LIMIT_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "limit: 1 to %d", CLIPS_LIST_LIMIT_MAX);
    if (f && f->status && !clips_status_valid(f->status))
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "status: one of pending, processing, completed, failed");
    if (f && f->style && !ids_valid_style(f->style, strlen(f->style)))
        return clip_fail(CLIP_EINVAL, err, errlen, "style: [a-z0-9-]+");
    fs_filter *filters = arena_calloc(a, 3, sizeof *filters);
    fs_order *order = arena_calloc(a, 4, sizeof *order);
    out->scope = scope(a, uid, video_id, f);
    if (!filters || !order || !out->scope)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    /* The sort keys in order; a key with an equality filter is left out (ordering on it is moot,
     * and Firestore's index selection drops it anyway, see firestore.indexes.json). */
    size_t nf = 0, no = 0;
    int by_style = 0, by_scene = 0;
    if (f && f->status)
        filters[nf++] = (fs_filter){"status", FS_OP_EQUAL, fs_str(f->status)};
    if (f && f->style) {
        filters[nf++] = (fs_filter){"style", FS_OP_EQUAL, fs_str(f->style)};
        by_style = 1;
    }
    if (f && f->has_scene_id) {
        filters[nf++] = (fs_filter){"scene_id", FS_OP_EQUAL, fs_int(f->scene_id)};
        by_scene = 1;
    }
    order[no++] = (fs_order){"priority", 0};
    if (!by_scene)
        order[no++] = (fs_order){"scene_id", 0};
    if (!by_style)
        order[no++] = (fs_order){"style", 0};
    order[no++] = (fs_order){"__name__", 0};
    out->q = (fs_query){.collection = "clips",
                        .filters = filters,
                        .nfilters = nf,
                        .order = order,
                        .norder = no,
                        .limit = limit + 1};
    if (user_view) {
        out->q.select = user_view_fields;
        out->q.nselect = sizeof user_view_fields / sizeof user_view_fields[0];
    }
    out->limit = limit;
    if (cursor && cursor[0]) {
        fs_value *vals = NULL;
        size_t nv = 0;
        e = fs_cursor_decode(a, out->scope, cursor, strlen(cursor), &vals, &nv, err, errlen);
        if (e == CLIP_OK && (nv != no || !cursor_values_ok(fs, out->parent, order, vals, nv)))
            e = clip_fail(CLIP_EINVAL, err, errlen, "bad cursor");
        if (e != CLIP_OK)
            return clip_fail(e, err, errlen, "cursor: not one this listing gave");
        out->q.start_values = vals;
        out->q.nstart = nv;
        out->q.start_before = 0;
    }
    return CLIP_OK;
}

clip_err clips_query_page(arena_t *a, const clips_query *cq, const fs_doc *docs, size_t n,
                          clips_page *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t keep = n > (size_t)cq->limit ? (size_t)cq->limit : n;
    out->items = keep ? arena_calloc(a, keep, sizeof *out->items) : NULL;
    if (keep && !out->items)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    clip_err e = CLIP_OK;
    for (size_t i = 0; i < keep && e == CLIP_OK; i++)
        e = clips_from_doc(a, &docs[i], &out->items[i], err, errlen);
    out->n = keep;
    if (e == CLIP_OK && n > (size_t)cq->limit) {
        const clip_rec *last = &out->items[keep - 1];
        fs_value vals[4];
        for (size_t i = 0; i < cq->q.norder; i++) {
            const char *k = cq->q.order[i].field;
            if (strcmp(k, "priority") == 0)
                vals[i] = fs_int(last->priority);
            else if (strcmp(k, "scene_id") == 0)
                vals[i] = fs_int(last->scene_id);
            else if (strcmp(k, "style") == 0)
                vals[i] = fs_str(last->style);
            else
                vals[i] = fs_ref(docs[keep - 1].name);
        }
        buf_t c = BUF_INIT;
        if (fs_cursor_encode(&c, cq->scope, vals, cq->q.norder) != 0 ||
            !(out->next_cursor = arena_strndup(a, c.p, c.len)))
            e = clip_fail(CLIP_ENOMEM, err, errlen, "cannot build the next cursor");
        buf_free(&c);
    }
    return e;
}

clip_err clips_list(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                    const clips_filter *f, long limit, const char *cursor, clips_page *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    clips_query cq;
    clip_err e = clips_query_make(fs, a, uid, video_id, f, limit, cursor, 0, &cq, err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_doc *docs = NULL;
    size_t n = 0;
    e = fs_run_query(fs, a, cq.parent, &cq.q, &docs, &n, err, errlen);
    if (e != CLIP_OK)
        return e;
    return clips_query_page(a, &cq, docs, n, out, err, errlen);
}
