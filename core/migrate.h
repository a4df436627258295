/* migrate: turns one legacy video into the Firestore writes that make the stored documents match it
 * (phase 3), and compares both sides for verify. */
#ifndef CLIP_MIGRATE_H
#define CLIP_MIGRATE_H

#include <stddef.h>

#include "arena.h"
#include "err.h"
#include "firestore.h"
#include "legacy.h"

#define MIG_LIST_PAGE 1000 /* documents per Firestore listing page */
#define MIG_LIST_PAGES_MAX 10000

/* One video to migrate or verify. */
typedef struct {
    const char *uid;
    const char *video_id;
    const legacy_folder *folder; /* its files from a user scan, or NULL (read it whole) */
} mig_target;

/* The targets of a scope: one video (uid and video_id), a user's videos (uid), or every user's
 * (uid NULL). A user's folders come from one scan of the user's keys (legacy_scan_user), so each
 * video then costs one GetObject (mig_read_target) instead of a GetObject and two listings; a
 * user with more keys than one scan holds is listed by folder instead. Folders that are not ids
 * go to rep. */
clip_err mig_legacy_targets(r2_client *r2, arena_t *a, const char *uid, const char *video_id,
                            mig_target **out, size_t *n, legacy_report *rep, char *err,
                            size_t errlen);

/* Reads one target's legacy video (legacy_read_folder or legacy_read_video). */
clip_err mig_read_target(r2_client *r2, arena_t *a, const mig_target *t, legacy_video *out,
                         legacy_report *rep, char *err, size_t errlen);

/* The videos Firestore holds in the same scope (a user's, or every user's by a collection group
 * query), for verify's "missing in r2". */
clip_err mig_firestore_targets(fs_client *fs, arena_t *a, const char *uid, mig_target **out,
                               size_t *n, char *err, size_t errlen);

/* The writes one video needs. Clips come first, the video document last, so a video document
 * exists only once its clips are stored (a run killed between commits leaves the video to the
 * firestore+r2 fallback, and the next run completes it). */
typedef struct {
    fs_write *writes;
    size_t n, cap;
    size_t clips;         /* clips of the legacy video */
    size_t clips_written; /* missing in Firestore or different */
    size_t clips_refused; /* records the clip repository refuses (see refused) */
    int video_written;    /* the video document is missing (created) or different (updated) */
    int video_created;
    char refused[256]; /* why the last refused clip was refused */
} mig_plan;

void mig_plan_init(mig_plan *p);

/* Reads the video's stored documents (one get and a paged listing of its clips) and appends to
 * plan the writes that make them match lv: a missing or different clip is written whole
 * (created_at = the file's time, updated_at = server time); a missing video document is written
 * whole, an existing one gets only the fields the legacy layout knows (title, url, status, styles,
 * highlights count and summary, clip_stats) and only when they differ. Nothing is added for a
 * video that already matches. Memory from a. */
clip_err mig_plan_video(fs_client *fs, arena_t *a, const legacy_video *lv, mig_plan *plan,
                        char *err, size_t errlen);

/* A difference found by mig_verify_video: the document path, the field ("document" when one side
 * lacks it), and both sides as text ("(missing)" for an absent document). */
typedef void (*mig_diff_fn)(void *ctx, const char *path, const char *field, const char *r2,
                            const char *firestore);

/* Compares the legacy video (lv NULL: R2 has no such video) with the stored documents; calls fn
 * for every difference and adds their number to *ndiff. */
clip_err mig_verify_video(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                          const legacy_video *lv, mig_diff_fn fn, void *ctx, size_t *ndiff,
                          char *err, size_t errlen);

#endif
