/* hutil: what several handlers share: service checks, query parameters, JSON pieces, presigning. */
#ifndef CLIP_HUTIL_H
#define CLIP_HUTIL_H

#include <stdint.h>
#include <time.h>

#include "app.h"
#include "clips.h"
#include "request.h"
#include "response.h"
#include "videos.h"

#define H_CURSOR_MAX 2048 /* longest cursor accepted in a query */

/* The Firestore client, or NULL after answering 503 with the reason it is not configured. */
fs_client *h_need_fs(request_t *rq, response_t *rs);

/* Refuses (400, naming it) any query parameter not in allowed (NULL-terminated). 0 when fine. */
int h_query_only(request_t *rq, response_t *rs, const char *const *allowed);

/* An integer query parameter in [min, max]; *out = def when absent. 0 ok, -1 after a 400. */
int h_query_long(request_t *rq, response_t *rs, const char *name, long min, long max, long def,
                 long *out);

/* A string query parameter (NULL when absent), checked by valid() when given. 0 ok, -1 after 400. */
int h_query_str(request_t *rq, response_t *rs, const char *name, size_t max,
                int (*valid)(const char *p, size_t n), const char *rule, const char **out);

/* Maps a repository error to the response; cursor errors become a 400 naming "cursor". */
void h_repo_error(request_t *rq, response_t *rs, clip_err e, const char *err);

/* "2026-11-23T10:00:00Z", or null when the time is zero. */
void h_json_time(buf_t *b, fs_time t);
/* A JSON string, or null when s is NULL. */
void h_json_str_or_null(buf_t *b, const char *s);

/* The signing time of presigned GET URLs: now rounded down to a multiple of expires/2, so that
 * answers are identical (and cacheable) within a window and every URL handed out still has at
 * least half its life left. */
time_t h_presign_time(const app_t *app, time_t now);

/* Appends a presigned GET URL for key (with an optional Content-Disposition override), or null
 * when R2 is not configured or signing fails (logged). 0 when a URL was written. */
int h_presign_get(const app_t *app, buf_t *b, const char *key, const char *disposition, time_t when);

/* The clip as the API shows it (CONTRACT section 4), thumbnail presigned at `when`. */
void h_clip_json(const app_t *app, buf_t *b, const char *video_id, const clip_rec *c, time_t when);

/* The video fields of VideoInfoResponse, without the braces, "source" and "clips". */
void h_video_fields_json(buf_t *b, const video_rec *v);

#endif
