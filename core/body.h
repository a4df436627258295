/* body: the JSON bodies of the workflow's calls (internal endpoints and clipctl), parsed and
 * validated field by field into repository inputs. */
#ifndef CLIP_BODY_H
#define CLIP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "clips.h"
#include "err.h"
#include "videos.h"

/* Limits of what a body may hold (CONTRACT section 2 gives the types; these give the ranges). */
#define BODY_DEPTH_MAX 8                    /* nesting of objects and arrays */
#define BODY_SCENE_ID_MAX 2147483647LL      /* scene_id and a highlight's id: 0..this */
#define BODY_PRIORITY_MAX 2147483647LL      /* priority: 0..this */
#define BODY_FILE_SIZE_MAX 5497558138880LL  /* 5 TiB, the largest object S3 and R2 keep */
#define BODY_DURATION_MAX 604800.0          /* a clip or highlight: at most a week of video */
#define BODY_TOTAL_DURATION_MAX 100000000.0 /* highlights_summary.total_duration */
#define BODY_HIGHLIGHTS_MAX 1000            /* items of a raw highlights array */
#define BODY_HIGHLIGHTS_COUNT_MAX 100000    /* highlights_count */
#define BODY_CATEGORY_MAX 256               /* one hook category, in bytes */
#define BODY_TIME_TEXT_MAX 32               /* start_time / end_time, in bytes */
#define BODY_SHORT_TEXT_MAX 64              /* crop_mode, target_aspect, youtube_id */
#define BODY_MB_TOLERANCE 0.05 /* file_size_mb given with file_size_bytes: agree within */
#define BODY_ARG_MAX 65536     /* one clipctl field argument, in bytes */

/* Which call a body belongs to (for the field types clipctl needs, see body_from_args). */
typedef enum {
    BODY_VIDEO = 0, /* PUT .../videos/{video_id}: create_or_update_video */
    BODY_CLIP,      /* PUT .../clips/{clip_id}: create_clip */
    BODY_STATUS,    /* PATCH .../clips/{clip_id}: update_clip_status */
    BODY_STATS,     /* POST .../stats: no fields */
    BODY_UPLOAD,    /* POST .../upload-urls */
} body_kind;

/* The options of an upload-urls call. */
typedef struct {
    const char *filename; /* the clip file's name: given, or clip_id + ".mp4" */
    long expires_in;      /* 0: not given (the configured presign_expires) */
} body_upload;

/* Every parser takes the raw body (n bytes, not trusted to hold a NUL; n 0 or only blanks = "{}")
 * and fails with CLIP_EINVAL and a message that starts with the field's name ("scene_id: must be
 * a whole number from 0 to 2147483647", "body: not valid JSON ..."). Strings go into a. */

/* create_or_update_video: *mask gets the VIDEO_F_* fields the body sets. A raw `highlights`
 * array becomes highlights_summary (total duration, distinct hook categories in first-seen
 * order) and, unless given, highlights_count. video_id / user_id must match the path. */
clip_err body_parse_video(arena_t *a, const char *uid, const char *video_id, const char *body,
                           size_t n, video_rec *out, unsigned *mask, char *err, size_t errlen);

/* create_clip: scene_id, style, start_time and end_time are required; duration_seconds is computed
 * from start/end when absent; clip_id, r2_key, thumbnail_r2_key and file_size_mb may be given
 * only when they agree with what the server derives. */
clip_err body_parse_clip(arena_t *a, const char *uid, const char *video_id, const char *clip_id,
                          const char *body, size_t n, clip_create_input *out, char *err, size_t errlen);

/* update_clip_status: status is required; error absent or null clears it; file_size_bytes (or
 * file_size_mb) and has_thumbnail are set only when given. */
clip_err body_parse_status(arena_t *a, const char *body, size_t n, clip_status_update *out,
                            char *err, size_t errlen);

/* update_clip_statistics takes no fields: the body is empty or {}. */
clip_err body_parse_stats(arena_t *a, const char *body, size_t n, char *err, size_t errlen);

/* upload-urls: optional filename (naming clip_id, as for create_clip) and expires_in. */
clip_err body_parse_upload(arena_t *a, const char *clip_id, const char *body, size_t n,
                            body_upload *out, char *err, size_t errlen);

/* clipctl's field arguments turned into a body of the given kind: base (may be NULL) is a JSON
 * object text (from --json), each arg "name=value" or "name:=JSON" sets one member on top of it.
 * "name=value" is a string for string fields and a JSON literal (number, true, null...) for the
 * others; "name:=JSON" is always raw JSON. The result still goes through the parser above. */
clip_err body_from_args(body_kind kind, const char *base, size_t base_len,
                         const char *const *args, size_t nargs, buf_t *out, char *err,
                         size_t errlen);

#endif
