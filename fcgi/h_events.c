/* h_events: live updates: a ticket for a video's event stream, and the authorize step of the
 * stream itself, which answers at once with a JSON error or an X-Accel-Redirect that hands the
 * connection to nchan (nginx/clipapi/events.conf): no worker ever holds a stream. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "handlers.h"

#define H_EVENTS_ERR_MAX 512

/* The caller's video exists (one Firestore read): 0, else the 404 or the backend's error. */
static int own_video(request_t *rq, response_t *rs, const char *video_id)
{
    video_rec v;
    char err[H_EVENTS_ERR_MAX];
    clip_err e = videos_get(rq->app->fs, rq->arena, rq->uid, video_id, &v, err, sizeof err);
    if (e != CLIP_OK) {
        resp_fail(rs, rq, e, e == CLIP_ENOTFOUND ? "no such video" : err);
        return -1;
    }
    return 0;
}

void h_events_ticket(request_t *rq, response_t *rs)
{
    const char *video_id = req_path_param(rq, "video_id").p;
    const app_t *app = rq->app;
    if (app->evkeys.n == 0) {
        resp_failf(rs, rq, CLIP_EUNAVAILABLE, "events: %s", app->events_err);
        return;
    }
    if (own_video(rq, rs, video_id) != 0)
        return;
    long expires = app->cfg->events_ticket_expires;
    buf_t t = BUF_INIT;
    if (evticket_make(&app->evkeys, rq->uid, video_id, time(NULL) + expires, &t) != CLIP_OK) {
        buf_free(&t);
        resp_fail(rs, rq, CLIP_EINTERNAL, "events: cannot make a ticket");
        return;
    }
    /* ids and tickets are URL-safe as they are: [A-Za-z0-9_-] and '.' */
    buf_printf(&rs->body,
               "{\"url\":\"/api/videos/%s/events?ticket=%s\",\"ticket\":\"%s\",\"expires_in\":%ld}",
               video_id, t.p, t.p, expires);
    buf_free(&t);
    resp_header(rs, "Cache-Control", "no-store");
}

/* The resume id the client sent: EventSource's Last-Event-ID header first (as nchan itself would
 * read it), then the last_event_id query of a fresh EventSource; p NULL when there is none. */
static strv resume_id(const request_t *rq)
{
    const char *h = req_header(rq, "Last-Event-ID");
    if (!h || !*h)
        h = req_arg_text(rq, "last_event_id");
    return (strv){h, h ? strlen(h) : 0};
}

void h_events_stream(request_t *rq, response_t *rs)
{
    const char *video_id = req_path_param(rq, "video_id").p;
    if (rq->method.n == 4 && memcmp(rq->method.p, "HEAD", 4) == 0) {
        resp_header(rs, "Allow", "GET");
        resp_fail(rs, rq, CLIP_EMETHOD, "HEAD is not allowed here (allowed: GET)");
        return;
    }
    /* a ticket names its video; a token's user must be shown to own it, once per connect */
    if (!req_arg_text(rq, "ticket") && own_video(rq, rs, video_id) != 0)
        return;
    /* nchan's own test, to the letter (it answers 403 otherwise) */
    const char *accept = req_header(rq, "Accept");
    if (!accept || !strstr(accept, "text/event-stream")) {
        resp_fail(rs, rq, CLIP_EINVAL, "Accept: the event stream needs Accept: text/event-stream");
        return;
    }
    /* nchan would take a resume id from these too, unchecked */
    if (req_header(rq, "If-Modified-Since") || req_header(rq, "If-None-Match")) {
        resp_fail(rs, rq, CLIP_EINVAL,
                  "If-None-Match: not accepted here (nor If-Modified-Since); resume with "
                  "Last-Event-ID");
        return;
    }
    strv id = resume_id(rq);
    char err[H_EVENTS_ERR_MAX];
    if (id.p) {
        clip_err e = events_resume_check(rq->app->events, rq->uid, video_id, id.p, id.n,
                                         time(NULL), err, sizeof err);
        if (e != CLIP_OK) {
            resp_fail(rs, rq, e, err);
            return;
        }
    }
    buf_t to = BUF_INIT;
    buf_puts(&to, EVENTS_SUB_PREFIX);
    events_channel(&to, rq->uid, video_id);
    if (id.p) /* checked: digits and one ':' */
        buf_printf(&to, "?last_event_id=%.*s", (int)id.n, id.p);
    if (to.oom) {
        buf_free(&to);
        resp_fail(rs, rq, CLIP_ENOMEM, "events: out of memory");
        return;
    }
    resp_header(rs, "X-Accel-Redirect", to.p);
    buf_free(&to);
}
