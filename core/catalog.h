/* catalog: the read side of the API: a user's videos and clips from Firestore or from the legacy R2
 * layout, as metadata_source says (CONTRACT section 6), with the fallback, its log line and
 * counter, and the paging of both sources. Handlers call this and write what it returns. */
#ifndef CLIP_CATALOG_H
#define CLIP_CATALOG_H

#include <stddef.h>

#include "arena.h"
#include "clips.h"
#include "config.h"
#include "err.h"
#include "firestore.h"
#include "r2.h"
#include "videos.h"

#define CATALOG_CURSOR_MAX 2048     /* longest cursor a listing accepts */
#define CATALOG_VIDEO_PAGES_MAX 100 /* clip pages read for one video info: a bound, not a goal */

/* Where an answer came from: "firestore" or "r2" (VideoInfoResponse's "source"). */
typedef enum { CATALOG_FIRESTORE = 0, CATALOG_R2 } catalog_source;
const char *catalog_source_name(catalog_source s);

/* The sources of one process; borrowed, none owned. A NULL client is a source that is not
 * configured: a read that needs it fails with CLIP_EUNAVAILABLE ("firestore: not configured"). */
typedef struct {
    fs_client *fs;
    r2_client *r2;
    cfg_source metadata_source;
} catalog;

/* One video with its completed clips, in the contract's order. */
typedef struct {
    video_rec video;
    const clip_rec *clips;
    size_t nclips;
    catalog_source from;
} catalog_video;

/* Every call fills err with the reason of a failure: CLIP_ENOTFOUND "no video V" (another user's
 * video too: callers answer 404, never 403), CLIP_EINVAL "cursor: ..." for a cursor that this
 * listing did not give, backend errors as the backend's client returned them (the detail starts
 * with the backend's name). Records live in the arena. */

/* GET /api/videos/{video_id}: the video and every completed clip. */
clip_err catalog_get_video(const catalog *c, arena_t *a, const char *uid, const char *video_id,
                           catalog_video *out, char *err, size_t errlen);

/* GET /api/videos: one page of the user's videos. limit 1..VIDEOS_LIST_LIMIT_MAX. */
clip_err catalog_list_videos(const catalog *c, arena_t *a, const char *uid, long limit,
                             const char *cursor, videos_page *out, char *err, size_t errlen);

/* GET /api/videos/{video_id}/clips: one page of the video's clips, filtered. limit
 * 1..CLIPS_LIST_LIMIT_MAX. A video without clips is an empty page; no such video is
 * CLIP_ENOTFOUND. */
clip_err catalog_list_clips(const catalog *c, arena_t *a, const char *uid, const char *video_id,
                            const clips_filter *f, long limit, const char *cursor,
                            clips_page *out, char *err, size_t errlen);

/* GET /api/videos/{video_id}/clips/{filename}: the clip record of a file (for its r2_key, status
 * and filename). CLIP_ENOTFOUND when there is no such clip. The clip may not be completed yet. */
clip_err catalog_clip_file(const catalog *c, arena_t *a, const char *uid, const char *video_id,
                           const char *filename, clip_rec *out, char *err, size_t errlen);

#endif
