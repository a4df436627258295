/* videos: the video repository of CONTRACT section 2 (users/{uid}/videos/{video_id}):
 * create_or_update, get, list, update_clip_statistics. */
#ifndef CLIP_VIDEOS_H
#define CLIP_VIDEOS_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "firestore.h"
#include "fs_value.h"

#define VIDEOS_LIST_LIMIT_DEFAULT 20
#define VIDEOS_LIST_LIMIT_MAX 100
#define VIDEOS_TEXT_MAX 4096      /* title, url, prompt and the other strings */
#define VIDEOS_LIST_ITEMS_MAX 100 /* styles_processed, highlights_summary.categories */

typedef struct {
    const char *style;
    int64_t count;
} video_style_count;

/* The clip_stats map that update_clip_statistics writes. */
typedef struct {
    int64_t total;
    int64_t completed;
    int64_t failed;
    int64_t total_size_bytes;      /* sum of file_size_bytes over all clips */
    double total_duration_seconds; /* sum of duration_seconds over all clips */
    video_style_count *by_style;   /* sorted by style; arena array */
    size_t nby_style;
} video_clip_stats;

/* One video document. Strings belong to the arena of the call; nullable fields are NULL when
 * null or absent. */
typedef struct {
    const char *video_id; /* = document id */
    const char *user_id;  /* = uid */
    const char *video_url;
    const char *video_title;
    const char *youtube_id;    /* NULL = null */
    const char *status;        /* "queued", "processing", "completed", "failed" */
    const char *custom_prompt; /* NULL = null */
    const char *const *styles_processed;
    size_t nstyles;
    const char *crop_mode;
    const char *target_aspect; /* e.g. "9:16" */
    int64_t highlights_count;
    double highlights_total_duration; /* highlights_summary.total_duration */
    const char *const *categories;    /* highlights_summary.categories */
    size_t ncategories;
    int has_clip_stats;
    video_clip_stats clip_stats;
    fs_time created_at, updated_at;
} video_rec;

/* Which members of a video_rec a create_or_update writes (a merge: the others stay as stored). */
enum {
    VIDEO_F_URL = 1u << 0,
    VIDEO_F_TITLE = 1u << 1,
    VIDEO_F_YOUTUBE_ID = 1u << 2,
    VIDEO_F_STATUS = 1u << 3,
    VIDEO_F_CUSTOM_PROMPT = 1u << 4,
    VIDEO_F_STYLES = 1u << 5,
    VIDEO_F_CROP_MODE = 1u << 6,
    VIDEO_F_TARGET_ASPECT = 1u << 7,
    VIDEO_F_HIGHLIGHTS_COUNT = 1u << 8,
    VIDEO_F_HIGHLIGHTS_SUMMARY = 1u << 9, /* total_duration and categories together */
    VIDEO_F_CLIP_STATS = 1u << 10,        /* the clip_stats map (migration; the workflow's
                                             statistics call computes it itself) */
    VIDEO_F_CREATED_AT = 1u << 11,        /* created_at from the record, not server time
                                             (migration keeps the legacy files' time) */
};
#define VIDEOS_FIELDS_MAX 16 /* field paths videos_fields can name */

typedef struct {
    video_rec *items; /* newest first (created_at, then id, descending) */
    size_t n;
    const char *next_cursor; /* NULL on the last page */
} videos_page;

/* Merges the fields named by mask into the video (video_id and user_id always written),
 * updated_at = server time; a new video also gets created_at = server time, which later calls
 * never change. *created (may be NULL) tells which happened; out (may be NULL) gets the video as
 * this write left it (one more read, at the write's own time). */
clip_err videos_create_or_update(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                                 const video_rec *in, unsigned mask, video_rec *out, int *created,
                                 char *err, size_t errlen);

/* The document fields of in named by mask (video_id and user_id always), as the repository
 * writes them; paths (room for VIDEOS_FIELDS_MAX) gets their field paths, for an update mask.
 * For batched writers (migration) that commit several documents at once. */
clip_err videos_fields(arena_t *a, const char *uid, const char *video_id, const video_rec *in,
                       unsigned mask, fs_value *out, const char **paths, size_t *npaths, char *err,
                       size_t errlen);

/* CLIP_ENOTFOUND when there is no such video. */
clip_err videos_get(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                    video_rec *out, char *err, size_t errlen);

/* One page of the user's videos, newest first. limit 0 = VIDEOS_LIST_LIMIT_DEFAULT, at most
 * VIDEOS_LIST_LIMIT_MAX; cursor NULL/"" or a next_cursor this user's listing gave (else
 * CLIP_EINVAL). */
clip_err videos_list(fs_client *fs, arena_t *a, const char *uid, long limit, const char *cursor,
                     videos_page *out, char *err, size_t errlen);

/* Recomputes clip_stats from the video's clips (count and sums by Firestore aggregation queries,
 * by_style from a projection of the style field) and writes it with updated_at in one commit.
 * CLIP_ENOTFOUND when the video does not exist. out (may be NULL) gets the statistics written. */
clip_err videos_update_clip_statistics(fs_client *fs, arena_t *a, const char *uid,
                                       const char *video_id, video_clip_stats *out, char *err,
                                       size_t errlen);

int videos_status_valid(const char *s);
/* The video record of a Firestore document (strings copied into a). */
clip_err videos_from_doc(arena_t *a, const fs_doc *d, video_rec *out, char *err, size_t errlen);

#endif
