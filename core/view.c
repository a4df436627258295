/* view: records of the repositories (and of the legacy reader) written out as the API's JSON. */
#include "view.h"

#include <stdio.h>
#include <string.h>

#include "fs_value.h"
#include "layout.h"
#include "log.h"

/* ---- pieces --------------------------------------------------------------------------------- */

static void str_or_null(buf_t *b, const char *s)
{
    if (!s)
        buf_puts(b, "null");
    else
        buf_json_str(b, s, strlen(s));
}

static void str_list(buf_t *b, const char *const *items, size_t n)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        str_or_null(b, items[i]);
    }
    buf_putc(b, ']');
}

/* RFC 3339 in whole seconds ("2026-11-23T10:00:00Z", the user view) or with the stored fraction
 * (the workflow view); null for a zero time. */
static void time_or_null(buf_t *b, fs_time t, int with_fraction)
{
    char s[FS_TIME_TEXT_MAX];
    if ((t.seconds == 0 && t.nanos == 0) ||
        (with_fraction ? fs_time_format(t, s) : fs_time_format_seconds(t, s)) != 0) {
        buf_puts(b, "null");
        return;
    }
    buf_printf(b, "\"%s\"", s);
}

/* ,"name": */
static void key(buf_t *b, const char *k, int first)
{
    if (!first)
        buf_putc(b, ',');
    buf_putc(b, '"');
    buf_puts(b, k);
    buf_puts(b, "\":");
}

/* "12.3 MB": bytes / 1048576 as printf's "%.1f" writes it (the value is exact, a power of two
 * divides it; its tenths round half to even, as glibc rounds an exact tie), without printf. */
static void size_mb(buf_t *b, long long bytes)
{
    if (bytes < 0 || bytes >= (1LL << 59)) {
        buf_printf(b, "%.1f MB", (double)bytes / CLIPS_BYTES_PER_MB);
        return;
    }
    unsigned long long t = (unsigned long long)bytes * 10;
    unsigned long long q = t >> 20, r = t & 0xFFFFF, half = 0x80000;
    if (r > half || (r == half && (q & 1)))
        q++;
    buf_put_i64(b, (long long)(q / 10));
    buf_putc(b, '.');
    buf_putc(b, (char)('0' + q % 10));
    buf_puts(b, " MB");
}

/* ---- signing -------------------------------------------------------------------------------- */

view_signing view_signing_at(sig_signer *signer, long expires, time_t now)
{
    view_signing s = {signer, expires, now};
    long window = expires / 2;
    if (window >= 1)
        s.when = now - now % window;
    return s;
}

int view_presigned_get(buf_t *b, const view_signing *s, const char *key_, const char *disposition)
{
    if (!s || !s->signer || !key_) {
        buf_puts(b, "null");
        return -1;
    }
    sig_presign_req r;
    memset(&r, 0, sizeof r);
    r.method = SIG_GET;
    r.key = key_;
    r.key_len = strlen(key_);
    r.expires = s->expires;
    r.when = s->when;
    if (disposition) {
        r.response_content_disposition = disposition;
        r.response_content_disposition_len = strlen(disposition);
    }
    buf_putc(b, '"');
    size_t mark = b->len;
    char err[256];
    if (sig_presign(s->signer, &r, b, err, sizeof err) != CLIP_OK) {
        log_warn("presign", "cannot presign %s: %s", key_, err);
        b->len = mark - 1;
        b->p[b->len] = '\0';
        buf_puts(b, "null");
        return -1;
    }
    /* a presigned URL holds only URL-safe bytes: no JSON escaping needed */
    buf_putc(b, '"');
    return 0;
}

/* ---- the user view -------------------------------------------------------------------------- */

/* The clip's members, without the closing brace. */
static void clip_members(buf_t *b, const view_signing *s, const char *video_id, const clip_rec *c)
{
    buf_puts(b, "{\"name\":");
    buf_json_str(b, c->filename, strlen(c->filename));
    buf_puts(b, ",\"title\":");
    buf_json_str(b, c->scene_title, strlen(c->scene_title));
    buf_puts(b, ",\"description\":");
    const char *d = c->scene_description ? c->scene_description : "";
    buf_json_str(b, d, strlen(d));
    buf_puts(b, ",\"scene_id\":");
    buf_put_i64(b, (long long)c->scene_id);
    buf_puts(b, ",\"priority\":");
    buf_put_i64(b, (long long)c->priority);
    buf_puts(b, ",\"style\":");
    buf_json_str(b, c->style, strlen(c->style));
    buf_puts(b, ",\"status\":");
    buf_json_str(b, c->status, strlen(c->status));
    buf_puts(b, ",\"start_time\":");
    buf_json_str(b, c->start_time, strlen(c->start_time));
    buf_puts(b, ",\"end_time\":");
    buf_json_str(b, c->end_time, strlen(c->end_time));
    buf_puts(b, ",\"duration_seconds\":");
    buf_json_double(b, c->duration_seconds);
    buf_puts(b, ",\"url\":\"/api/videos/");
    buf_puts(b, video_id);
    buf_puts(b, "/clips/");
    /* ids and file names are [A-Za-z0-9._-]: nothing to escape in the path */
    buf_puts(b, c->filename);
    buf_puts(b, "\",\"thumbnail\":");
    if (c->has_thumbnail && c->thumbnail_r2_key)
        view_presigned_get(b, s, c->thumbnail_r2_key, NULL);
    else
        buf_puts(b, "null");
    if (c->error) {
        buf_puts(b, ",\"error\":");
        buf_json_str(b, c->error, strlen(c->error));
    }
    buf_puts(b, ",\"size\":\"");
    size_mb(b, (long long)c->file_size_bytes);
    buf_puts(b, "\",\"size_bytes\":");
    buf_put_i64(b, (long long)c->file_size_bytes);
}

void view_clip(buf_t *b, const view_signing *s, const char *video_id, const clip_rec *c)
{
    clip_members(b, s, video_id, c);
    buf_putc(b, '}');
}

void view_video_fields(buf_t *b, const video_rec *v)
{
    buf_puts(b, "\"id\":");
    buf_json_str(b, v->video_id, strlen(v->video_id));
    buf_puts(b, ",\"title\":");
    str_or_null(b, v->video_title);
    buf_puts(b, ",\"url\":");
    str_or_null(b, v->video_url);
    buf_puts(b, ",\"youtube_id\":");
    str_or_null(b, v->youtube_id);
    buf_puts(b, ",\"status\":");
    str_or_null(b, v->status);
    buf_puts(b, ",\"custom_prompt\":");
    str_or_null(b, v->custom_prompt);
    buf_puts(b, ",\"styles\":");
    str_list(b, v->styles_processed, v->nstyles);
    buf_puts(b, ",\"crop_mode\":");
    str_or_null(b, v->crop_mode);
    buf_puts(b, ",\"target_aspect\":");
    str_or_null(b, v->target_aspect);
    buf_printf(b, ",\"highlights_count\":%lld,\"highlights_summary\":{\"total_duration\":",
               (long long)v->highlights_count);
    buf_json_double(b, v->highlights_total_duration);
    buf_puts(b, ",\"categories\":");
    str_list(b, v->categories, v->ncategories);
    buf_puts(b, "},\"clip_stats\":");
    if (v->has_clip_stats)
        view_clip_stats(b, &v->clip_stats);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"created_at\":");
    time_or_null(b, v->created_at, 0);
    buf_puts(b, ",\"updated_at\":");
    time_or_null(b, v->updated_at, 0);
}

void view_video_info(buf_t *b, const view_signing *s, const video_rec *v, const char *source,
                     const clip_rec *clips, size_t nclips)
{
    buf_putc(b, '{');
    view_video_fields(b, v);
    buf_puts(b, ",\"source\":");
    buf_json_str(b, source, strlen(source));
    buf_puts(b, ",\"clips\":[");
    for (size_t i = 0; i < nclips; i++) {
        if (i)
            buf_putc(b, ',');
        view_clip(b, s, v->video_id, &clips[i]);
    }
    buf_puts(b, "]}");
}

void view_video_list(buf_t *b, const video_rec *items, size_t n, const char *next_cursor)
{
    buf_puts(b, "{\"videos\":[");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? ",{" : "{");
        view_video_fields(b, &items[i]);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"next_cursor\":");
    str_or_null(b, next_cursor);
    buf_putc(b, '}');
}

void view_clip_list(buf_t *b, const view_signing *s, const char *video_id, const clip_rec *items,
                    size_t n, const char *next_cursor)
{
    buf_puts(b, "{\"clips\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        view_clip(b, s, video_id, &items[i]);
    }
    buf_puts(b, "],\"next_cursor\":");
    str_or_null(b, next_cursor);
    buf_putc(b, '}');
}

/* ---- live updates --------------------------------------------------------------------------- */

void view_clip_event(buf_t *b, const view_signing *s, const char *video_id, const clip_rec *c)
{
    clip_members(b, s, video_id, c);
    buf_puts(b, ",\"updated_at\":");
    time_or_null(b, c->updated_at, 0);
    buf_putc(b, '}');
}

void view_video_event(buf_t *b, const video_rec *v)
{
    buf_putc(b, '{');
    view_video_fields(b, v);
    buf_putc(b, '}');
}

/* ---- the workflow view ---------------------------------------------------------------------- */

void view_clip_stats(buf_t *b, const video_clip_stats *s)
{
    buf_printf(b,
               "{\"total\":%lld,\"completed\":%lld,\"failed\":%lld,\"total_size_bytes\":%lld,"
               "\"total_duration_seconds\":",
               (long long)s->total, (long long)s->completed, (long long)s->failed,
               (long long)s->total_size_bytes);
    buf_json_double(b, s->total_duration_seconds);
    buf_puts(b, ",\"by_style\":{");
    for (size_t i = 0; i < s->nby_style; i++) {
        if (i)
            buf_putc(b, ',');
        str_or_null(b, s->by_style[i].style);
        buf_printf(b, ":%lld", (long long)s->by_style[i].count);
    }
    buf_puts(b, "}}");
}

void view_stored_video(buf_t *b, const video_rec *v)
{
    buf_putc(b, '{');
    key(b, "video_id", 1);
    str_or_null(b, v->video_id);
    key(b, "user_id", 0);
    str_or_null(b, v->user_id);
    key(b, "video_url", 0);
    str_or_null(b, v->video_url);
    key(b, "video_title", 0);
    str_or_null(b, v->video_title);
    key(b, "youtube_id", 0);
    str_or_null(b, v->youtube_id);
    key(b, "status", 0);
    str_or_null(b, v->status);
    key(b, "custom_prompt", 0);
    str_or_null(b, v->custom_prompt);
    key(b, "styles_processed", 0);
    str_list(b, v->styles_processed, v->nstyles);
    key(b, "crop_mode", 0);
    str_or_null(b, v->crop_mode);
    key(b, "target_aspect", 0);
    str_or_null(b, v->target_aspect);
    key(b, "highlights_count", 0);
    buf_printf(b, "%lld", (long long)v->highlights_count);
    key(b, "highlights_summary", 0);
    buf_puts(b, "{\"total_duration\":");
    buf_json_double(b, v->highlights_total_duration);
    buf_puts(b, ",\"categories\":");
    str_list(b, v->categories, v->ncategories);
    buf_putc(b, '}');
    key(b, "clip_stats", 0);
    if (v->has_clip_stats)
        view_clip_stats(b, &v->clip_stats);
    else
        buf_puts(b, "null");
    key(b, "created_at", 0);
    time_or_null(b, v->created_at, 1);
    key(b, "updated_at", 0);
    time_or_null(b, v->updated_at, 1);
    buf_putc(b, '}');
}

void view_stored_clip(buf_t *b, const clip_rec *c)
{
    buf_putc(b, '{');
    key(b, "clip_id", 1);
    str_or_null(b, c->clip_id);
    key(b, "filename", 0);
    str_or_null(b, c->filename);
    key(b, "scene_id", 0);
    buf_printf(b, "%lld", (long long)c->scene_id);
    key(b, "scene_title", 0);
    str_or_null(b, c->scene_title);
    key(b, "scene_description", 0);
    str_or_null(b, c->scene_description);
    key(b, "style", 0);
    str_or_null(b, c->style);
    key(b, "start_time", 0);
    str_or_null(b, c->start_time);
    key(b, "end_time", 0);
    str_or_null(b, c->end_time);
    key(b, "duration_seconds", 0);
    buf_json_double(b, c->duration_seconds);
    key(b, "priority", 0);
    buf_printf(b, "%lld", (long long)c->priority);
    key(b, "status", 0);
    str_or_null(b, c->status);
    key(b, "error", 0);
    str_or_null(b, c->error);
    key(b, "file_size_bytes", 0);
    buf_printf(b, "%lld", (long long)c->file_size_bytes);
    key(b, "file_size_mb", 0);
    buf_json_double(b, c->file_size_mb);
    key(b, "has_thumbnail", 0);
    buf_puts(b, c->has_thumbnail ? "true" : "false");
    key(b, "r2_key", 0);
    str_or_null(b, c->r2_key);
    key(b, "thumbnail_r2_key", 0);
    str_or_null(b, c->thumbnail_r2_key);
    key(b, "created_at", 0);
    time_or_null(b, c->created_at, 1);
    key(b, "updated_at", 0);
    time_or_null(b, c->updated_at, 1);
    buf_putc(b, '}');
}

/* One {"method":"PUT","url":..,"r2_key":..,"content_type":..} object. */
static clip_err put_url(sig_signer *s, buf_t *b, const char *k, const char *ctype, long expires,
                        time_t when, char *err, size_t errlen)
{
    sig_presign_req r;
    memset(&r, 0, sizeof r);
    r.method = SIG_PUT;
    r.key = k;
    r.key_len = strlen(k);
    r.expires = expires;
    r.when = when;
    r.content_type = ctype;
    r.content_type_len = strlen(ctype);
    buf_puts(b, "{\"method\":\"PUT\",\"url\":\"");
    clip_err e = sig_presign(s, &r, b, err, errlen);
    if (e != CLIP_OK)
        return e;
    /* a presigned URL holds only URL-safe bytes: no JSON escaping needed */
    buf_puts(b, "\",\"r2_key\":");
    buf_json_str(b, k, strlen(k));
    buf_printf(b, ",\"content_type\":\"%s\"}", ctype);
    return CLIP_OK;
}

clip_err view_upload_urls(buf_t *b, sig_signer *signer, arena_t *a, const char *uid,
                          const char *video_id, const char *clip_id, const char *filename,
                          long expires, time_t when, char *err, size_t errlen)
{
    const char *ck = layout_clip_key(a, uid, video_id, filename);
    const char *tk = layout_thumb_key(a, uid, video_id, clip_id);
    if (!ck || !tk)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    size_t mark = b->len;
    buf_puts(b, "{\"clip\":");
    clip_err e = put_url(signer, b, ck, VIEW_CLIP_CONTENT_TYPE, expires, when, err, errlen);
    if (e == CLIP_OK) {
        buf_puts(b, ",\"thumbnail\":");
        e = put_url(signer, b, tk, VIEW_THUMB_CONTENT_TYPE, expires, when, err, errlen);
    }
    if (e == CLIP_OK) {
        buf_printf(b, ",\"expires_in\":%ld}", expires);
        if (b->oom)
            e = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    if (e != CLIP_OK && b->p) {
        b->len = mark;
        b->p[mark] = '\0';
    }
    return e;
}
