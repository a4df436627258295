/* h_legacy: the user API's answers from the legacy R2 layout (metadata_source r2, and the fallback
 * of firestore+r2). */
#ifndef CLIP_H_LEGACY_H
#define CLIP_H_LEGACY_H

#include "request.h"
#include "response.h"

/* Answers GET /api/videos/{video_id} from the legacy layout ("source":"r2"): 200 with the body
 * (the caller adds the ETag), or an error answer (404 when the layout has no such video, 503
 * without R2). fallback 1 logs the answer as a fallback (event "fallback", uid, video id) and
 * counts it (metrics_fallback). Returns 0 when a 200 body was written, -1 after an error answer. */
int h_legacy_video(request_t *rq, response_t *rs, const char *uid, const char *video_id,
                   int fallback);

/* GET /api/videos from the legacy layout (phase r2): one scan of the user's keys, the videos
 * newest first (oldest file time, then id, both descending, as Firestore orders created_at and
 * the document name), paged by an opaque cursor, each listed video's highlights.json read. */
void h_legacy_videos(request_t *rq, response_t *rs, const char *uid, long limit,
                     const char *cursor);

/* GET /api/videos/{video_id}/clips from the legacy layout, the same filters and paging (an
 * opaque cursor bound to the listing). Writes the whole answer. */
void h_legacy_clips(request_t *rq, response_t *rs, const char *uid, const char *video_id,
                    const char *style, const char *status, long scene_id, long limit,
                    const char *cursor, int fallback);

/* The R2 key of a clip file of the legacy layout when that object exists and its name parses
 * (HeadObject): 0 with *key set (request arena), -1 after an error answer (404 when missing). */
int h_legacy_clip_key(request_t *rq, response_t *rs, const char *uid, const char *video_id,
                      const char *filename, int fallback, const char **key);

#endif
