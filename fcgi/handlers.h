/* handlers: every HTTP handler of the API, one file per resource (h_<resource>.c). */
#ifndef CLIP_HANDLERS_H
#define CLIP_HANDLERS_H

#include "request.h"
#include "response.h"

/* h_health.c */
void h_healthz(request_t *rq, response_t *rs);

/* h_metrics.c */
void h_metrics(request_t *rq, response_t *rs);
/* h_health.c: Firestore and R2 reachable with the configured credentials */
void h_readyz(request_t *rq, response_t *rs);

/* h_videos.c: the signed-in user's videos */
void h_videos_list(request_t *rq, response_t *rs);
void h_video_get(request_t *rq, response_t *rs);

/* h_clips.c: the signed-in user's clips */
void h_clips_list(request_t *rq, response_t *rs);
void h_clip_link(request_t *rq, response_t *rs);

/* h_events.c: live updates: a ticket for the event stream, and the stream's authorize step
 * (answers an X-Accel-Redirect to nchan's internal location) */
void h_events_ticket(request_t *rq, response_t *rs);
void h_events_stream(request_t *rq, response_t *rs);

/* h_internal.c: the workflow's write path (service keys) */
void h_internal_video_put(request_t *rq, response_t *rs);
void h_internal_clip_put(request_t *rq, response_t *rs);
void h_internal_clip_patch(request_t *rq, response_t *rs);
void h_internal_stats(request_t *rq, response_t *rs);
void h_internal_upload_urls(request_t *rq, response_t *rs);

#endif
