/* clips: the clip repository of CONTRACT section 2 (users/{uid}/videos/{video_id}/clips/{clip_id}):
 * create, get, update_status, list. */
#ifndef CLIP_CLIPS_H
#define CLIP_CLIPS_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "firestore.h"
#include "fs_value.h"

#define CLIPS_PRIORITY_DEFAULT 99
#define CLIPS_LIST_LIMIT_DEFAULT 50
#define CLIPS_LIST_LIMIT_MAX 1000
#define CLIPS_TEXT_MAX 4096 /* scene_title, scene_description, error, start/end time */
#define CLIPS_BYTES_PER_MB 1048576.0
#define CLIPS_SCENE_ID_MAX 2147483647L /* the largest scene_id a filter takes */

/* One clip document as stored. Strings belong to the arena the call was given; optional fields
 * that are null in Firestore are NULL here. Documents written by older code may lack fields:
 * strings then read "", numbers 0, priority CLIPS_PRIORITY_DEFAULT. */
typedef struct {
    const char *clip_id;  /* = document id = filename without its extension */
    const char *filename; /* e.g. "clip_3_vertical.mp4" */
    int64_t scene_id;
    const char *scene_title;
    const char *scene_description; /* NULL = null */
    const char *style;             /* [a-z0-9-]+ */
    const char *start_time;        /* as the workflow gave it: "HH:MM:SS(.fff)" or seconds */
    const char *end_time;
    double duration_seconds;
    int64_t priority;   /* lower shows first */
    const char *status; /* "pending", "processing", "completed", "failed" */
    const char *error;  /* NULL = null */
    int64_t file_size_bytes;
    double file_size_mb; /* file_size_bytes / 1048576 */
    int has_thumbnail;
    const char *r2_key;           /* "{uid}/{video_id}/clips/{filename}" */
    const char *thumbnail_r2_key; /* "{uid}/{video_id}/thumbnails/{clip_id}.jpg" or NULL */
    fs_time created_at, updated_at;
} clip_rec;

/* What create_clip takes (the PUT body of the internal API). */
typedef struct {
    const char
        *filename; /* NULL: clip_id + ".mp4"; else its name without the extension must be clip_id */
    int64_t scene_id;
    const char *scene_title;       /* NULL = "" */
    const char *scene_description; /* NULL = null */
    const char *style;             /* required, [a-z0-9-]+ */
    const char *start_time;        /* required */
    const char *end_time;          /* required */
    int has_duration;              /* 0: computed from end_time - start_time */
    double duration_seconds;
    int has_priority; /* 0: CLIPS_PRIORITY_DEFAULT */
    int64_t priority;
    const char *status;      /* NULL = "pending" */
    const char *error;       /* NULL = null */
    int64_t file_size_bytes; /* >= 0 */
    int has_thumbnail;
} clip_create_input;

/* What update_clip_status takes (the PATCH body). */
typedef struct {
    const char *status; /* required */
    const char *error;  /* written as given: NULL clears it */
    int has_file_size;  /* 0: file_size_bytes / file_size_mb left as they are */
    int64_t file_size_bytes;
    int has_thumbnail; /* -1: left as it is; 0 / 1: set, thumbnail_r2_key follows */
} clip_status_update;

/* Optional equality filters of a listing (NULL / has_scene_id 0 = no filter). */
typedef struct {
    const char *status;
    const char *style;
    int has_scene_id;
    int64_t scene_id;
} clips_filter;

typedef struct {
    clip_rec *items; /* arena array, ordered priority, scene_id, style, clip_id */
    size_t n;
    const char *next_cursor; /* NULL on the last page */
} clips_page;

/* Creates the clip (created_at = updated_at = server time). Idempotent: when it already exists
 * with the same descriptive data (filename, scene_id, scene_title, scene_description, style,
 * start/end, duration, priority) the stored clip is returned unchanged with *created = 0, whatever
 * its status has become since; different data is CLIP_ECONFLICT naming the first differing field.
 * out and created may be NULL. */
clip_err clips_create(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                      const char *clip_id, const clip_create_input *in, clip_rec *out, int *created,
                      char *err, size_t errlen);

/* The write clips_create sends, for batched commits (migration, bulk loads): validated like
 * clips_create; must_be_new 1 adds the exists=false precondition, 0 overwrites (created_at then
 * becomes the time of this write). Memory from a. */
clip_err clips_create_write(arena_t *a, const char *uid, const char *video_id, const char *clip_id,
                            const clip_create_input *in, int must_be_new, fs_write *w, char *err,
                            size_t errlen);

/* CLIP_ENOTFOUND when there is no such clip. */
clip_err clips_get(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                   const char *clip_id, clip_rec *out, char *err, size_t errlen);

/* Sets status and error (and file size / thumbnail when given) in one commit, keeping
 * file_size_mb and thumbnail_r2_key in step; updated_at = server time. CLIP_ENOTFOUND when the
 * clip does not exist. out (may be NULL) gets the clip as this write left it (one more read, at
 * the write's own time: another writer's change never shows in it). */
clip_err clips_update_status(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                             const char *clip_id, const clip_status_update *u, clip_rec *out,
                             char *err, size_t errlen);

/* A clip listing's query, made from the same arguments as clips_list (for callers that send it
 * together with another request); its memory is the arena's. A cursor is refused (CLIP_EINVAL,
 * "cursor: ...") unless every value it carries is one this listing can hold. user_view 1 asks only for the fields
 * the user view shows (a field mask: the stored documents' other fields read as absent). */
typedef struct {
    const char *parent; /* the video's document: the clips collection's parent */
    fs_query q;
    const char *scope; /* what its cursors are bound to */
    long limit;
} clips_query;
clip_err clips_query_make(const fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                          const clips_filter *f, long limit, const char *cursor, int user_view,
                          clips_query *out, char *err, size_t errlen);
/* The page of a clips_query's answer (n documents, at most limit + 1). */
clip_err clips_query_page(arena_t *a, const clips_query *cq, const fs_doc *docs, size_t n,
                          clips_page *out, char *err, size_t errlen);

/* One page of the video's clips, filtered, ordered priority, scene_id, style (then clip_id).
 * limit 0 = CLIPS_LIST_LIMIT_DEFAULT, at most CLIPS_LIST_LIMIT_MAX. cursor: NULL/"" for the
 * first page, else a next_cursor of the same listing (same uid, video and filters); any other
 * cursor is CLIP_EINVAL. */
clip_err clips_list(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                    const clips_filter *f, long limit, const char *cursor, clips_page *out,
                    char *err, size_t errlen);

/* Validators and helpers shared with the handlers and the CLI. */
#define CLIPS_STATUS_RULE "must be one of pending, processing, completed, failed"
#define CLIPS_STATUS_MAX 16 /* longer than any status */
int clips_status_valid(const char *s);
/* The same for text that carries its length. */
int clips_status_valid_n(const char *p, size_t n);
/* Seconds of "HH:MM:SS(.fff)", "MM:SS(.fff)" or "SS(.fff)"; -1 when it is none of them. */
double clips_parse_time(const char *s);
/* The clip record of a Firestore document; its strings are copies in a, so the document may be
 * freed before the record. */
clip_err clips_from_doc(arena_t *a, const fs_doc *d, clip_rec *out, char *err, size_t errlen);

#endif
