/* events: nchan's publisher over loopback HTTP (or a unix socket), and the resume-id rule. */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"

#define EVENTS_NAME_MAX 32 /* "clip", "video" */
#define EVENTS_JSON_DEPTH 4

struct events_pub {
    char *base;        /* "http://127.0.0.1:8090/_events/pub", or "http://localhost/_events/pub" */
    char *unix_socket; /* NULL for TCP */
    long timeout_ms;
    long buffer_length, buffer_seconds;
};

/* ---- the URL --------------------------------------------------------------------------------- */

static int loopback_host(const char *h, size_t n)
{
    if (n == 9 && memcmp(h, "localhost", 9) == 0)
        return 1;
    if (n == 5 && memcmp(h, "[::1]", 5) == 0)
        return 1;
    /* 127.d.d.d, each part 0-255 */
    if (n < 9 || memcmp(h, "127.", 4) != 0)
        return 0;
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        unsigned v = 0;
        while (j < n && h[j] >= '0' && h[j] <= '9' && j - i < 3)
            v = v * 10 + (unsigned)(h[j++] - '0');
        if (j == i || v > 255 || (j < n && h[j] != '.'))
            return 0;
        parts++;
        i = j + (j < n);
        if (j < n && i == n)
            return 0; /* trailing dot */
    }
    return parts == 4;
}

/* Splits url into its socket (or NULL) and the base every channel is appended to. */
static clip_err url_parse(const char *url, char **sock, char **base, char *err, size_t errlen)
{
    if (sock)
        *sock = NULL;
    if (base)
        *base = NULL;
    const char *why = NULL;
    if (strncmp(url, "unix:", 5) == 0) {
        const char *path = url + 5;
        if (path[0] != '/')
            why = "needs an absolute socket path";
        else if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            why = "has a socket path longer than a unix socket allows";
        if (!why && sock && base) {
            *sock = strdup(path);
            *base = strdup("http://localhost" EVENTS_PUB_PREFIX);
        }
    } else if (strncmp(url, "http://", 7) == 0) {
        const char *h = url + 7;
        size_t hn = strcspn(h, ":/?#");
        if (h[0] == '[')
            hn = strcspn(h, "]") + 1;
        const char *rest = h + hn;
        if (!loopback_host(h, hn))
            why = "must name a loopback host (127.0.0.1, [::1] or localhost)";
        if (!why && *rest == ':') {
            const char *d = rest + 1;
            size_t dn = strspn(d, "0123456789");
            long port = dn && dn <= 5 ? strtol(d, NULL, 10) : 0;
            if (port < 1 || port > 65535)
                why = "has a bad port";
            rest = d + dn;
        }
        if (!why && *rest && *rest != '/')
            why = "may hold only a host, a port and a path";
        if (!why && strpbrk(rest, "?#"))
            why = "may not hold a query or a fragment";
        if (!why && base) {
            size_t rn = strlen(rest);
            while (rn && rest[rn - 1] == '/')
                rn--;
            buf_t b = BUF_INIT;
            buf_append(&b, url, (size_t)(rest - url));
            if (rn)
                buf_append(&b, rest, rn);
            else
                buf_puts(&b, EVENTS_PUB_PREFIX);
            *base = b.oom ? NULL : buf_take(&b);
            if (b.oom)
                buf_free(&b);
        }
    } else {
        why = "must be unix:/PATH or http://127.0.0.1:PORT[/PATH]";
    }
    if (why)
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "events_publish_url: '%s' %s (nchan's publisher must not be reachable "
                         "from outside)",
                         url, why);
    if (base && (!*base || (sock && strncmp(url, "unix:", 5) == 0 && !*sock))) {
        free(*base);
        if (sock)
            free(*sock);
        return clip_fail(CLIP_ENOMEM, err, errlen, "events_publish_url: out of memory");
    }
    return CLIP_OK;
}

clip_err events_url_check(const char *url, char *err, size_t errlen)
{
    return url_parse(url, NULL, NULL, err, errlen);
}

clip_err events_pub_new(const cfg_t *cfg, events_pub **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->events_publish_url)
        return CLIP_OK;
    events_pub *p = calloc(1, sizeof *p);
    if (!p)
        return clip_fail(CLIP_ENOMEM, err, errlen, "events: out of memory");
    clip_err e = url_parse(cfg->events_publish_url, &p->unix_socket, &p->base, err, errlen);
    if (e != CLIP_OK) {
        free(p);
        return e;
    }
    p->timeout_ms = cfg->events_publish_timeout_ms;
    p->buffer_length = cfg->events_buffer_length;
    p->buffer_seconds = cfg->events_buffer_seconds;
    *out = p;
    return CLIP_OK;
}

void events_pub_free(events_pub *p)
{
    if (!p)
        return;
    free(p->base);
    free(p->unix_socket);
    free(p);
}

int events_channel(buf_t *b, const char *uid, const char *video_id)
{
    return buf_printf(b, "%s.%s", uid, video_id);
}

/* ---- publishing ------------------------------------------------------------------------------ */

static int name_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= EVENTS_NAME_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

clip_err events_publish(events_pub *p, const char *uid, const char *video_id, const char *name,
                        const char *data, size_t n)
{
    if (!p)
        return CLIP_OK;
    char err[256] = "";
    clip_err e = CLIP_OK;
    http_resp r;
    memset(&r, 0, sizeof r);
    buf_t url = BUF_INIT, hname = BUF_INIT;
    if (!ids_valid_id(uid, strlen(uid)) || !ids_valid_id(video_id, strlen(video_id)) ||
        !name_valid(name)) {
        e = clip_fail(CLIP_EINTERNAL, err, sizeof err, "bad channel or event name");
    } else {
        buf_printf(&url, "%s/", p->base);
        events_channel(&url, uid, video_id);
        buf_printf(&hname, "X-EventSource-Event: %s", name);
        if (url.oom || hname.oom)
            e = clip_fail(CLIP_ENOMEM, err, sizeof err, "out of memory");
    }
    if (e == CLIP_OK) {
        const char *hdrs[] = {hname.p, "Content-Type: application/json", "Accept: text/json"};
        http_req req = {.method = "POST",
                        .url = url.p,
                        .unix_socket = p->unix_socket,
                        .headers = hdrs,
                        .nheaders = sizeof hdrs / sizeof hdrs[0],
                        .body = data,
                        .body_len = n,
                        .deadline_ms = p->timeout_ms,
                        .max_response = EVENTS_INFO_MAX,
                        .retry = HTTP_RETRY_NEVER,
                        .backend = "events"};
        e = http_do(&req, &r, err, sizeof err);
        /* 201: subscribers got it; 202: stored for later subscribers */
        if (e == CLIP_OK && r.status != 201 && r.status != 202)
            e = clip_fail(CLIP_EBACKEND, err, sizeof err, "nchan answered %ld", r.status);
    }
    metrics_event_published(e == CLIP_OK);
    if (e != CLIP_OK)
        log_warn("events_publish_failed", "%s event of %s/%s not published to %s%s: %s: %s", name,
                 uid, video_id, p->unix_socket ? "unix:" : "",
                 p->unix_socket ? p->unix_socket : p->base, clip_err_code(e), err);
    http_resp_free(&r);
    buf_free(&url);
    buf_free(&hname);
    return e;
}

void events_clip_written(events_pub *p, const view_signing *s, const char *uid,
                         const char *video_id, const clip_rec *c)
{
    if (!p)
        return;
    buf_t b = BUF_INIT;
    view_clip_event(&b, s, video_id, c);
    if (b.oom)
        events_not_published(p, uid, video_id, "clip", "out of memory");
    else
        events_publish(p, uid, video_id, "clip", b.p, b.len);
    buf_free(&b);
}

void events_video_written(events_pub *p, const char *uid, const char *video_id,
                          const video_rec *v)
{
    if (!p)
        return;
    buf_t b = BUF_INIT;
    view_video_event(&b, v);
    if (b.oom)
        events_not_published(p, uid, video_id, "video", "out of memory");
    else
        events_publish(p, uid, video_id, "video", b.p, b.len);
    buf_free(&b);
}

void events_not_published(events_pub *p, const char *uid, const char *video_id, const char *name,
                          const char *why)
{
    if (!p)
        return;
    metrics_event_published(0);
    log_warn("events_publish_failed", "%s event of %s/%s not published: %s", name, uid, video_id,
             why);
}

/* ---- resume ids ------------------------------------------------------------------------------ */

int events_id_parse(const char *p, size_t n, events_id *out)
{
    size_t i = 0, t0 = 0;
    long long time = 0;
    long tag = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && i - t0 < 12)
        time = time * 10 + (p[i++] - '0');
    if (i == t0 || i >= n || p[i] != ':')
        return -1;
    size_t g0 = ++i;
    while (i < n && p[i] >= '0' && p[i] <= '9' && i - g0 < 5)
        tag = tag * 10 + (p[i++] - '0');
    if (i == g0 || i != n || tag > 32767)
        return -1;
    out->time = time;
    out->tag = tag;
    return 0;
}

int events_channel_info_parse(const char *p, size_t n, events_channel_info *out)
{
    memset(out, 0, sizeof *out);
    static const json_limits lim = {"nchan", 0, EVENTS_JSON_DEPTH};
    json_object *o = NULL;
    char why[160];
    /* nchan ends its answer with a space or a newline after the closing brace: white space */
    int ok = json_read_object(p, n, &lim, &o, why, sizeof why) == CLIP_OK;
    json_object *m = json_member(o, "messages", NULL);
    size_t llen = 0;
    const char *l = json_member_str(o, "last_message_id", &llen);
    if (ok && json_object_is_type(m, json_type_int))
        out->messages = (long)json_object_get_int64(m);
    else
        ok = 0;
    if (ok && l)
        out->has_last = events_id_parse(l, llen, &out->last) == 0;
    json_object_put(o);
    return ok ? 0 : -1;
}

/* The oldest message time a resume may name. */
static long long window_start(time_t now, long buffer_seconds)
{
    return (long long)now - buffer_seconds + EVENTS_RESUME_MARGIN_S;
}

static clip_err in_window(const events_id *id, time_t now, long buffer_seconds, char *err,
                          size_t errlen)
{
    if (id->time < window_start(now, buffer_seconds) ||
        id->time > (long long)now + EVENTS_RESUME_SKEW_S)
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "last_event_id: %lld:%ld is not within the %ld s the events are kept; "
                         "read the video again and subscribe without it",
                         id->time, id->tag, buffer_seconds);
    return CLIP_OK;
}

clip_err events_resume_rule(const events_id *id, const events_channel_info *info, time_t now,
                            long buffer_length, long buffer_seconds, char *err, size_t errlen)
{
    long long oldest = window_start(now, buffer_seconds);
    clip_err e = in_window(id, now, buffer_seconds, err, errlen);
    if (e != CLIP_OK)
        return e;
    if (!info || info->messages <= 0 || !info->has_last || info->last.time < oldest)
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "last_event_id: no events of this video are buffered any more; read the "
                         "video again and subscribe without it");
    if (info->messages >= buffer_length)
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "last_event_id: more than %ld events happened since; read the video again "
                         "and subscribe without it",
                         buffer_length - 1);
    return CLIP_OK;
}

clip_err events_resume_check(events_pub *p, const char *uid, const char *video_id, const char *id,
                             size_t n, time_t now, char *err, size_t errlen)
{
    events_id rid;
    if (n > EVENTS_ID_MAX || events_id_parse(id, n, &rid) != 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "last_event_id: " EVENTS_ID_RULE);
    if (!p)
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "last_event_id: events are not buffered here; read the video again and "
                         "subscribe without it");
    /* The window first: an id outside it never costs a call. */
    clip_err e = in_window(&rid, now, p->buffer_seconds, err, errlen);
    if (e != CLIP_OK)
        return e;
    buf_t url = BUF_INIT;
    buf_printf(&url, "%s/", p->base);
    events_channel(&url, uid, video_id);
    if (url.oom) {
        buf_free(&url);
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    const char *hdrs[] = {"Accept: text/json"};
    http_req req = {.method = "GET",
                    .url = url.p,
                    .unix_socket = p->unix_socket,
                    .headers = hdrs,
                    .nheaders = 1,
                    .deadline_ms = p->timeout_ms,
                    .max_response = EVENTS_INFO_MAX,
                    .retry = HTTP_RETRY_NEVER,
                    .backend = "events"};
    http_resp r;
    char herr[256];
    e = http_do(&req, &r, herr, sizeof herr);
    buf_free(&url);
    events_channel_info info;
    if (e == CLIP_OK && r.status == 404) {
        e = events_resume_rule(&rid, NULL, now, p->buffer_length, p->buffer_seconds, err, errlen);
    } else if (e == CLIP_OK && r.status == 200 &&
               events_channel_info_parse(r.body.p ? r.body.p : "", r.body.len, &info) == 0) {
        e = events_resume_rule(&rid, &info, now, p->buffer_length, p->buffer_seconds, err, errlen);
    } else {
        if (e == CLIP_OK) {
            snprintf(herr, sizeof herr, "nchan's channel info answered %ld", r.status);
            e = CLIP_EBACKEND;
        }
        e = clip_fail(e == CLIP_ETIMEOUT ? CLIP_ETIMEOUT : CLIP_EUNAVAILABLE, err, errlen,
                      "events: cannot ask nchan whether its buffer holds last_event_id of %s/%s: "
                      "%s",
                      uid, video_id, herr);
    }
    http_resp_free(&r);
    return e;
}
