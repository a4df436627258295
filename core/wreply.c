/* wreply: records of the repositories written out as the workflow's JSON answers. */
#include "wreply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_value.h"

static void str_or_null(buf_t *b, const char *s)
{
    if (!s)
        buf_puts(b, "null");
    else
        buf_json_str(b, s, strlen(s));
}

static void key(buf_t *b, const char *k, int first)
{
    if (!first)
        buf_putc(b, ',');
    buf_putc(b, '"');
    buf_puts(b, k);
    buf_puts(b, "\":");
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

static void time_or_null(buf_t *b, fs_time t)
{
    char s[FS_TIME_TEXT_MAX];
    if ((t.seconds == 0 && t.nanos == 0) || fs_time_format(t, s) != 0) {
        buf_puts(b, "null");
        return;
    }
    buf_printf(b, "\"%s\"", s);
}

void wreply_stats(buf_t *b, const video_clip_stats *s)
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

void wreply_video(buf_t *b, const video_rec *v)
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
        wreply_stats(b, &v->clip_stats);
    else
        buf_puts(b, "null");
    key(b, "created_at", 0);
    time_or_null(b, v->created_at);
    key(b, "updated_at", 0);
    time_or_null(b, v->updated_at);
    buf_putc(b, '}');
}

void wreply_clip(buf_t *b, const clip_rec *c)
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
    time_or_null(b, c->created_at);
    key(b, "updated_at", 0);
    time_or_null(b, c->updated_at);
    buf_putc(b, '}');
}

clip_err wreply_upload_keys(const char *uid, const char *video_id, const char *clip_id,
                            const char *filename, char *clip_key, size_t clip_len, char *thumb_key,
                            size_t thumb_len, char *err, size_t errlen)
{
    int n1 = snprintf(clip_key, clip_len, "%s/%s/clips/%s", uid, video_id, filename);
    int n2 = snprintf(thumb_key, thumb_len, "%s/%s/thumbnails/%s.jpg", uid, video_id, clip_id);
    if (n1 < 0 || (size_t)n1 >= clip_len || n2 < 0 || (size_t)n2 >= thumb_len)
        return clip_fail(CLIP_EINVAL, err, errlen, "R2 key too long");
    return CLIP_OK;
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

clip_err wreply_upload(sig_signer *s, buf_t *b, const char *uid, const char *video_id,
                       const char *clip_id, const char *filename, long expires, time_t when,
                       char *err, size_t errlen)
{
    char ck[SIG_KEY_MAX + 1], tk[SIG_KEY_MAX + 1];
    clip_err e = wreply_upload_keys(uid, video_id, clip_id, filename, ck, sizeof ck, tk, sizeof tk,
                                    err, errlen);
    if (e != CLIP_OK)
        return e;
    size_t mark = b->len;
    buf_puts(b, "{\"clip\":");
    e = put_url(s, b, ck, WREPLY_CLIP_CONTENT_TYPE, expires, when, err, errlen);
    if (e == CLIP_OK) {
        buf_puts(b, ",\"thumbnail\":");
        e = put_url(s, b, tk, WREPLY_THUMB_CONTENT_TYPE, expires, when, err, errlen);
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
