/* legacy: reads the legacy R2 layout (CONTRACT section 3) into the video and clip records the
 * repositories use, for the fallback read path and the migration. */
#ifndef CLIP_LEGACY_H
#define CLIP_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "clips.h"
#include "err.h"
#include "fs_value.h"
#include "ids.h"
#include "r2.h"
#include "videos.h"

#define LEGACY_HIGHLIGHTS_MAX (1u << 20) /* a bigger highlights.json is reported, not read */
#define LEGACY_JSON_DEPTH 16             /* highlights.json nesting accepted */
#define LEGACY_SCENES_MAX 10000          /* highlights entries read; the rest are reported */
#define LEGACY_CLIPS_MAX 20000           /* clip files read per video; the rest are reported */
#define LEGACY_LIST_PAGES_MAX 1000       /* ListObjectsV2 pages of one listing at most */
#define LEGACY_USER_OBJECTS_MAX 100000   /* keys of one user scan (legacy_scan_user) */
#define LEGACY_ISSUES_MAX 200            /* issues kept per report; the rest are only counted */
#define LEGACY_SCENE_ID_MAX 2147483647LL /* the API's scene_id filter takes no larger id */
#define LEGACY_TIME_MAX 32               /* start / end text, as clips accept it */
#define LEGACY_LOG_MAX 20                /* issue lines one legacy_report_log writes */

/* What the reader found wrong; nothing here stops a read. */
typedef enum {
    LEGACY_BAD_NAME = 0,     /* a clip file whose name does not parse (counted in metrics) */
    LEGACY_NO_HIGHLIGHTS,    /* highlights.json is missing */
    LEGACY_BAD_HIGHLIGHTS,   /* highlights.json is unreadable as a whole (JSON, shape, size) */
    LEGACY_BAD_SCENE,        /* one highlights entry refused (types, lengths, duplicate id) */
    LEGACY_NO_SCENE,         /* a clip whose scene_id has no highlights entry */
    LEGACY_NO_THUMBNAIL,     /* a clip without its thumbnail */
    LEGACY_ORPHAN_THUMBNAIL, /* a thumbnail without its clip (or whose name does not parse) */
    LEGACY_BAD_ID,           /* a user or video folder whose name is not a valid id: skipped */
    LEGACY_TRUNCATED,        /* more clips, scenes or pages than the limits above */
    LEGACY_ISSUE__COUNT
} legacy_issue_kind;

typedef struct {
    legacy_issue_kind kind;
    const char *key;    /* the object key or prefix concerned */
    const char *detail; /* why, in a few words */
} legacy_issue;

/* Issues of one or more reads. Strings live in the arena given to legacy_report_init. */
typedef struct {
    arena_t *arena;
    legacy_issue *items;
    size_t n, cap;
    size_t dropped; /* issues past LEGACY_ISSUES_MAX, counted only */
    size_t counts[LEGACY_ISSUE__COUNT];
} legacy_report;

void legacy_report_init(legacy_report *rep, arena_t *a);
/* Records one issue (key: n bytes, copied). A report without an arena only counts. */
void legacy_report_add(legacy_report *rep, legacy_issue_kind kind, const char *key, size_t n,
                       const char *detail);
/* "bad_name", "no_highlights", ... */
const char *legacy_issue_name(legacy_issue_kind k);
/* The server's reporting: one log line per issue (at most LEGACY_LOG_MAX, then one line with the
 * counts), event "legacy_issue", and metrics_legacy_bad_name() for every unparseable name. */
void legacy_report_log(const legacy_report *rep, const char *uid, const char *video_id);

/* A clip file name split: clip_{scene_id}_{style}.mp4 */
typedef struct {
    int64_t scene_id;
    char style[IDS_STYLE_MAX + 1];
    size_t clip_id_len; /* bytes of the name before ".mp4": the clip id */
} legacy_name;

/* Parses a clip file name (no directory part): exactly "clip_", a scene id (decimal, no sign, no
 * leading zero, at most LEGACY_SCENE_ID_MAX), "_", a style ([a-z0-9-]+, at most IDS_STYLE_MAX),
 * and ext (".mp4" for clips, ".jpg" for thumbnails). 0 when it parses; else -1 and *why (may be
 * NULL) says what is wrong. */
int legacy_parse_name(const char *p, size_t n, const char *ext, legacy_name *out, const char **why);

/* One highlights entry, validated: the texts are UTF-8 and within the clips' limits. */
typedef struct {
    int64_t id;
    const char *title;       /* "" when absent */
    const char *description; /* NULL when absent or null */
    int64_t priority;        /* CLIPS_PRIORITY_DEFAULT when absent */
    const char *start, *end; /* "" when absent; a number is kept as written */
    int has_duration;
    double duration;
    const char *category; /* hook_category, NULL when absent */
} legacy_scene;

typedef struct {
    const char *video_title; /* "" when absent */
    const char *video_url;   /* "" when absent */
    legacy_scene *scenes;    /* in file order, unique ids */
    size_t nscenes;
} legacy_highlights;

/* Parses highlights.json (exactly p[n]; strict JSON, UTF-8). Entries it refuses are reported as
 * LEGACY_BAD_SCENE (key names the file) and left out. CLIP_EINVAL (reported as
 * LEGACY_BAD_HIGHLIGHTS by the caller) when the document as a whole is unusable. */
clip_err legacy_parse_highlights(arena_t *a, const char *p, size_t n, const char *key,
                                 legacy_highlights *out, legacy_report *rep, char *err,
                                 size_t errlen);

/* One listed object, its name relative to the folder listed (clips/ or thumbnails/). */
typedef struct {
    const char *name;
    size_t name_len;
    long long size;
    fs_time modified; /* zero when the listing gave no usable time */
} legacy_obj;

/* One video of the legacy layout as records. */
typedef struct {
    video_rec video; /* status completed, clip_stats computed from the clips, created_at /
                      * updated_at the oldest / newest time of its clip and thumbnail objects */
    clip_rec *clips; /* ordered priority, scene_id, style, clip_id (as clips_list orders) */
    size_t nclips;
    int has_highlights;
} legacy_video;

/* Joins the pieces of one video (no network): h is NULL when highlights.json is missing or
 * unusable. Clip records: status completed, file size from the listing, has_thumbnail from the
 * thumbnail listing, scene data from the entry with id == scene_id, r2 keys per CONTRACT
 * section 2, created_at = updated_at = the clip object's time. */
clip_err legacy_join(arena_t *a, const char *uid, const char *video_id, const legacy_highlights *h,
                     const legacy_obj *clips, size_t nclips, const legacy_obj *thumbs,
                     size_t nthumbs, legacy_video *out, legacy_report *rep, char *err,
                     size_t errlen);

/* Reads one video: highlights.json (GetObject, capped), the clip listing and the thumbnail
 * listing (paged ListObjectsV2), joined by legacy_join. CLIP_ENOTFOUND when there is neither a
 * highlights.json nor a clip file; backend errors as r2 returns them. */
clip_err legacy_read_video(r2_client *r2, arena_t *a, const char *uid, const char *video_id,
                           legacy_video *out, legacy_report *rep, char *err, size_t errlen);

/* One video folder of a user's listing (legacy_scan_user). */
typedef struct {
    const char *video_id;
    int bad_id;                       /* the folder name is not an id: reported, never read */
    int has_highlights;               /* highlights.json is listed */
    const legacy_obj *clips, *thumbs; /* the files of clips/ and thumbnails/, names relative */
    size_t nclips, nthumbs;
    fs_time created_at; /* the oldest clip or thumbnail time, as legacy_join sets it */
} legacy_folder;

/* Every folder of a user from one paged listing of {uid}/ (at most LEGACY_USER_OBJECTS_MAX keys,
 * then LEGACY_TRUNCATED), in the store's key order: one call per 1000 keys instead of two per
 * video. A folder with neither highlights.json nor a clip file is listed but is not a video. */
clip_err legacy_scan_user(r2_client *r2, arena_t *a, const char *uid, legacy_folder **out,
                          size_t *n, legacy_report *rep, char *err, size_t errlen);

/* One video from a scanned folder: its highlights.json (a GetObject when listed) joined with the
 * folder's listing, exactly as legacy_read_video would give it. CLIP_ENOTFOUND for a folder that
 * is not a video (or whose name is not an id). */
clip_err legacy_read_folder(r2_client *r2, arena_t *a, const char *uid, const legacy_folder *f,
                            legacy_video *out, legacy_report *rep, char *err, size_t errlen);

/* The video ids of a user (folders under {uid}/) and the user ids (folders at the bucket root),
 * in the store's order, from a paged listing of the keys (see legacy.c for why not a delimiter
 * listing); folders whose names are not ids are reported (LEGACY_BAD_ID), not listed. */
clip_err legacy_list_videos(r2_client *r2, arena_t *a, const char *uid, const char ***ids,
                            size_t *n, legacy_report *rep, char *err, size_t errlen);
clip_err legacy_list_users(r2_client *r2, arena_t *a, const char ***ids, size_t *n,
                           legacy_report *rep, char *err, size_t errlen);

#endif
