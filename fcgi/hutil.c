/* hutil: shared handler pieces. */
#include "hutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "log.h"
#include "sigv4.h"

fs_client *h_need_fs(request_t *rq, response_t *rs)
{
    if (rq->app->fs)
        return rq->app->fs;
    resp_error(rs, rq, 503, "unavailable", "%s", rq->app->fs_err);
    return NULL;
}

int h_query_only(request_t *rq, response_t *rs, const char *const *allowed)
{
    const char *p = rq->query.p, *end = rq->query.p + rq->query.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        size_t kn = (size_t)((eq ? eq : stop) - p);
        int ok = kn == 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strlen(allowed[i]) == kn && memcmp(allowed[i], p, kn) == 0;
        if (!ok) {
            resp_error(rs, rq, 400, "invalid_argument", "%.*s: unknown query parameter",
                       (int)(kn > 64 ? 64 : kn), p);
            return -1;
        }
        p = stop + 1;
    }
    return 0;
}

int h_query_long(request_t *rq, response_t *rs, const char *name, long min, long max, long def,
                 long *out)
{
    strv v;
    int r = req_query(rq, name, &v);
    *out = def;
    if (r == 0)
        return 0;
    char *end = NULL;
    long n = r > 0 && v.n > 0 && v.n <= 12 ? strtol(v.p, &end, 10) : 0;
    if (r < 0 || !end || *end != '\0' || n < min || n > max) {
        resp_error(rs, rq, 400, "invalid_argument", "%s: must be a whole number from %ld to %ld",
                   name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int h_query_str(request_t *rq, response_t *rs, const char *name, size_t max,
                int (*valid)(const char *p, size_t n), const char *rule, const char **out)
{
    strv v;
    int r = req_query(rq, name, &v);
    *out = NULL;
    if (r == 0)
        return 0;
    if (r < 0 || v.n == 0 || v.n > max || memchr(v.p, '\0', v.n) || (valid && !valid(v.p, v.n))) {
        resp_error(rs, rq, 400, "invalid_argument", "%s: %s", name, rule);
        return -1;
    }
    *out = v.p;
    return 0;
}

void h_repo_error(request_t *rq, response_t *rs, clip_err e, const char *err)
{
    if (e == CLIP_EINVAL) {
        /* the only caller input a repository still judges is the cursor */
        resp_error(rs, rq, 400, "invalid_argument", "cursor: %s", err);
        return;
    }
    if (e == CLIP_ENOTFOUND) {
        resp_error(rs, rq, 404, "not_found", "%s", err);
        return;
    }
    /* The backend's own words stay in the log (found by the request id); the caller learns what
     * kind of failure it was. */
    log_warn("backend_error", "%s: %s", clip_err_code(e), err);
    switch (e) {
    case CLIP_ECONFLICT:
        resp_error(rs, rq, 409, "conflict", "%s", err); /* a precondition the caller can act on */
        break;
    case CLIP_ERATELIMIT:
        resp_error(rs, rq, 429, "rate_limited", "the database is over its quota; retry later");
        break;
    case CLIP_EUNAVAILABLE:
        resp_error(rs, rq, 503, "unavailable", "the database is unavailable; retry later");
        break;
    case CLIP_ETIMEOUT:
        resp_error(rs, rq, 504, "deadline_exceeded", "the database did not answer in time");
        break;
    case CLIP_EBACKEND:
    case CLIP_ETOOBIG: /* an answer over our cap is the backend's fault, not the request's */
        resp_error(rs, rq, 502, "bad_gateway", "the database answered badly");
        break;
    default:
        resp_clip_error(rs, rq, e, NULL);
        break;
    }
}

void h_json_time(buf_t *b, fs_time t)
{
    char s[FS_TIME_TEXT_MAX];
    if ((t.seconds == 0 && t.nanos == 0) || fs_time_format_seconds(t, s) != 0) {
        buf_puts(b, "null");
        return;
    }
    buf_printf(b, "\"%s\"", s);
}

void h_json_str_or_null(buf_t *b, const char *s)
{
    if (!s)
        buf_puts(b, "null");
    else
        buf_json_str(b, s, strlen(s));
}

time_t h_presign_time(const app_t *app, time_t now)
{
    long window = app->cfg->presign_expires / 2;
    if (window < 1)
        return now;
    return now - now % window;
}

int h_presign_get(const app_t *app, buf_t *b, const char *key, const char *disposition, time_t when)
{
    if (!app->signer || !key) {
        buf_puts(b, "null");
        return -1;
    }
    sig_presign_req r;
    memset(&r, 0, sizeof r);
    r.method = SIG_GET;
    r.key = key;
    r.key_len = strlen(key);
    r.expires = app->cfg->presign_expires;
    r.when = when;
    if (disposition) {
        r.response_content_disposition = disposition;
        r.response_content_disposition_len = strlen(disposition);
    }
    buf_putc(b, '"');
    size_t mark = b->len;
    char err[256];
    if (sig_presign(app->signer, &r, b, err, sizeof err) != CLIP_OK) {
        log_warn("presign", "cannot presign %s: %s", key, err);
        b->len = mark - 1;
        b->p[b->len] = '\0';
        buf_puts(b, "null");
        return -1;
    }
    /* a presigned URL holds only URL-safe bytes: no JSON escaping needed */
    buf_putc(b, '"');
    return 0;
}

void h_clip_json(const app_t *app, buf_t *b, const char *video_id, const clip_rec *c, time_t when)
{
    buf_puts(b, "{\"name\":");
    buf_json_str(b, c->filename, strlen(c->filename));
    buf_puts(b, ",\"title\":");
    buf_json_str(b, c->scene_title, strlen(c->scene_title));
    buf_puts(b, ",\"description\":");
    const char *d = c->scene_description ? c->scene_description : "";
    buf_json_str(b, d, strlen(d));
    buf_printf(b, ",\"scene_id\":%lld,\"priority\":%lld,\"style\":", (long long)c->scene_id,
               (long long)c->priority);
    buf_json_str(b, c->style, strlen(c->style));
    buf_puts(b, ",\"status\":");
    buf_json_str(b, c->status, strlen(c->status));
    buf_puts(b, ",\"start_time\":");
    buf_json_str(b, c->start_time, strlen(c->start_time));
    buf_puts(b, ",\"end_time\":");
    buf_json_str(b, c->end_time, strlen(c->end_time));
    buf_puts(b, ",\"duration_seconds\":");
    buf_json_double(b, c->duration_seconds);
    buf_printf(b, ",\"url\":\"/api/videos/%s/clips/", video_id);
    /* ids and file names are [A-Za-z0-9._-]: nothing to escape in the path */
    buf_puts(b, c->filename);
    buf_puts(b, "\",\"thumbnail\":");
    if (c->has_thumbnail && c->thumbnail_r2_key)
        h_presign_get(app, b, c->thumbnail_r2_key, NULL, when);
    else
        buf_puts(b, "null");
    if (c->error) {
        buf_puts(b, ",\"error\":");
        buf_json_str(b, c->error, strlen(c->error));
    }
    buf_printf(b, ",\"size\":\"%.1f MB\",\"size_bytes\":%lld}",
               (double)c->file_size_bytes / CLIPS_BYTES_PER_MB, (long long)c->file_size_bytes);
}

static void str_array(buf_t *b, const char *const *items, size_t n)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        buf_json_str(b, items[i], strlen(items[i]));
    }
    buf_putc(b, ']');
}

void h_video_fields_json(buf_t *b, const video_rec *v)
{
    buf_puts(b, "\"id\":");
    buf_json_str(b, v->video_id, strlen(v->video_id));
    buf_puts(b, ",\"title\":");
    h_json_str_or_null(b, v->video_title);
    buf_puts(b, ",\"url\":");
    h_json_str_or_null(b, v->video_url);
    buf_puts(b, ",\"youtube_id\":");
    h_json_str_or_null(b, v->youtube_id);
    buf_puts(b, ",\"status\":");
    h_json_str_or_null(b, v->status);
    buf_puts(b, ",\"custom_prompt\":");
    h_json_str_or_null(b, v->custom_prompt);
    buf_puts(b, ",\"styles\":");
    str_array(b, v->styles_processed, v->nstyles);
    buf_puts(b, ",\"crop_mode\":");
    h_json_str_or_null(b, v->crop_mode);
    buf_puts(b, ",\"target_aspect\":");
    h_json_str_or_null(b, v->target_aspect);
    buf_printf(b, ",\"highlights_count\":%lld,\"highlights_summary\":{\"total_duration\":",
               (long long)v->highlights_count);
    buf_json_double(b, v->highlights_total_duration);
    buf_puts(b, ",\"categories\":");
    str_array(b, v->categories, v->ncategories);
    buf_puts(b, "},\"clip_stats\":");
    if (!v->has_clip_stats) {
        buf_puts(b, "null");
    } else {
        const video_clip_stats *s = &v->clip_stats;
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
            buf_json_str(b, s->by_style[i].style, strlen(s->by_style[i].style));
            buf_printf(b, ":%lld", (long long)s->by_style[i].count);
        }
        buf_puts(b, "}}");
    }
    buf_puts(b, ",\"created_at\":");
    h_json_time(b, v->created_at);
    buf_puts(b, ",\"updated_at\":");
    h_json_time(b, v->updated_at);
}
