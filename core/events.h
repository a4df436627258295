/* events: live updates through nginx's nchan: the channel of a user's video, one event published
 * after each write, and the check that a subscriber's resume id is one nchan can serve. */
#ifndef CLIP_EVENTS_H
#define CLIP_EVENTS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "ids.h"
#include "view.h"

/* The two nchan locations of nginx/clipapi/events*.conf: the publisher (loopback or a unix socket
 * only) and the internal subscriber location the authorize route redirects to (X-Accel-Redirect).
 * A channel is "<uid>.<video_id>": neither id may hold a '.', so no two videos share one. */
#define EVENTS_PUB_PREFIX "/_events/pub"
#define EVENTS_SUB_PREFIX "/_events/sub/"
#define EVENTS_CHANNEL_MAX (2 * IDS_MAX + 1)

/* A resume id longer than this is refused before it is parsed. */
#define EVENTS_ID_MAX 24
#define EVENTS_ID_RULE "must be the id of an event of this stream (TIME:TAG)"
/* Resume ids are accepted only this far inside the buffer's age: the message a client resumes
 * after must outlive the time between the check and nchan's fetch by a wide margin. */
#define EVENTS_RESUME_MARGIN_S 60
/* ... and at most this far in the future (clocks of the VMs and of Redis differ a little). */
#define EVENTS_RESUME_SKEW_S 60
/* Channel info answers of nchan are a few dozen bytes. */
#define EVENTS_INFO_MAX 4096

/* One process's publisher: where nchan's publisher location is and how long a publish may take. */
typedef struct events_pub events_pub;

/* Checks the shape of events_publish_url: "unix:/PATH" or "http://HOST[:PORT][/PREFIX]" with HOST
 * 127.x.x.x, [::1] or localhost (the publisher must never be reachable from outside). */
clip_err events_url_check(const char *url, char *err, size_t errlen);

/* The publisher of cfg; *out is NULL (and CLIP_OK) when events_publish_url is unset. */
clip_err events_pub_new(const cfg_t *cfg, events_pub **out, char *err, size_t errlen);
void events_pub_free(events_pub *p);

/* Appends the channel name of uid's video ("<uid>.<video_id>"). */
int events_channel(buf_t *b, const char *uid, const char *video_id);

/* Publishes one event (SSE `event: name`, `data: data`) on the channel of uid's video, once, never
 * retried, within events_publish_timeout_ms. A failure is logged and counted
 * (clipapi_events_publish_failures_total) and returned for the tests; writers ignore it, since
 * the write itself has succeeded. With p NULL nothing is sent (CLIP_OK). */
clip_err events_publish(events_pub *p, const char *uid, const char *video_id, const char *name,
                        const char *data, size_t n);

/* The event of one clip write (create, status update), after its commit: `event: clip` with the
 * clip in the user view (thumbnail presigned with s) plus updated_at. p NULL: nothing. */
void events_clip_written(events_pub *p, const view_signing *s, const char *uid,
                         const char *video_id, const clip_rec *c);

/* The event of one video write or statistics call: `event: video` with the video fields of the
 * user view. p NULL: nothing. */
void events_video_written(events_pub *p, const char *uid, const char *video_id,
                          const video_rec *v);

/* A write whose event cannot even be made (the video could not be read back after a statistics
 * call): logged and counted as a failed publish, like one nchan refused. p NULL: nothing. */
void events_not_published(events_pub *p, const char *uid, const char *video_id, const char *name,
                          const char *why);

/* A message id of one nchan channel: "TIME:TAG" (TIME the message's Unix second, TAG its index
 * within that second). */
typedef struct {
    long long time;
    long tag;
} events_id;

/* Parses exactly p[n]: 1-12 digits, ':', 1-5 digits with a TAG of at most 32767; 0 ok, -1 not. */
int events_id_parse(const char *p, size_t n, events_id *out);

/* What nchan's channel info says (GET on the publisher location, Accept: text/json). */
typedef struct {
    long messages;  /* messages buffered now */
    int has_last;   /* last_message_id was given and parsed */
    events_id last; /* the newest message ever published on the channel */
} events_channel_info;

/* Parses {"messages":N,"requested":..,"subscribers":..,"last_message_id":"T:G"}; 0 ok, -1 not. */
int events_channel_info_parse(const char *p, size_t n, events_channel_info *out);

/* The rule a resume id must pass (the pure part of events_resume_check): within
 * [now - buffer_seconds + EVENTS_RESUME_MARGIN_S, now + EVENTS_RESUME_SKEW_S], on a channel that
 * has buffered messages, whose newest message is inside the same window, and whose buffer is not
 * full (else messages were dropped by count and the client cannot know what it missed). An empty
 * buffer must be refused: nchan 1.3.6 aborts its worker on a resume id there (spool.c:479). On
 * CLIP_EINVAL err starts with "last_event_id: ". info NULL: the channel does not exist. */
clip_err events_resume_rule(const events_id *id, const events_channel_info *info, time_t now,
                            long buffer_length, long buffer_seconds, char *err, size_t errlen);

/* The whole check of a subscriber's resume id p[n] for uid's video: the shape, then the window,
 * then the channel's state as nchan tells it (one loopback call). CLIP_OK: safe to hand to nchan;
 * CLIP_EINVAL (err says why, for a 400); CLIP_EUNAVAILABLE / CLIP_ETIMEOUT when nchan cannot be
 * asked (no publisher configured counts as CLIP_EINVAL: there is no buffer to resume from). */
clip_err events_resume_check(events_pub *p, const char *uid, const char *video_id, const char *id,
                             size_t n, time_t now, char *err, size_t errlen);

#endif
