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

/* ---- a run: plans batched into commits ------------------------------------------------------ */

/* Sends writes to Firestore: fs_commit for a real run; tests and dry runs give their own. */
typedef clip_err (*mig_commit_fn)(void *ctx, arena_t *a, const fs_write *writes, size_t n,
                                  char *err, size_t errlen);

/* The writes waiting for a commit, and the arenas (one per video) their memory lives in. Writes of
 * several videos share a commit; a video's writes go into one commit whenever they fit in one
 * (else its clips go first and the video document last, in order). */
typedef struct {
    mig_commit_fn commit;
    void *ctx;
    fs_write *writes;
    size_t n, cap;
    arena_t **arenas;
    size_t narenas, capa;
} mig_batch;

void mig_batch_init(mig_batch *b, mig_commit_fn commit, void *ctx);
void mig_batch_free(mig_batch *b); /* frees what is still waiting, unsent */

/* What a run tells its caller, video by video (for progress and the summary); ctx is theirs. */
typedef struct {
    void *ctx;
    /* the legacy layout's issues met reading one target */
    void (*issues)(void *ctx, const mig_target *t, const legacy_report *rep);
    /* a video read and compared: plan says what it needs */
    void (*planned)(void *ctx, const mig_target *t, const mig_plan *plan);
    /* a target with neither highlights.json nor clip files */
    void (*skipped)(void *ctx, const mig_target *t, const char *why);
    /* a target that failed (read, compare, or a commit sent while it was the last one read):
     * what says why, as "unavailable: firestore: ..." or "commit of 3 writes: ..." */
    void (*failed)(void *ctx, const mig_target *t, const char *what);
    /* one commit of n writes went through (or would have, in a dry run) */
    void (*committed)(void *ctx, size_t n);
    /* non-zero: stop after the current video (may be NULL) */
    int (*stop)(void *ctx);
} mig_sink;

/* Adds a planned video (its writes, and the arena va they live in, which the batch then owns)
 * and sends the commits that are full: a batch that would go over FS_COMMIT_WRITES_MAX with
 * this video is sent first, and a batch that reaches it is sent. 0 ok; -1 after a failed commit
 * or out of memory (reported to sink->failed for t; va is freed either way). */
int mig_batch_add(mig_batch *b, const mig_plan *plan, arena_t *va, const mig_target *t,
                  const mig_sink *sink);

/* Sends everything waiting, in commits of at most FS_COMMIT_WRITES_MAX writes (t: the target the
 * failure is reported for). 0 ok, -1 after a failed commit. */
int mig_batch_flush(mig_batch *b, const mig_target *t, const mig_sink *sink);

/* Migrates targets[first], targets[first + step], ...: reads and plans each (mig_read_target,
 * mig_plan_video against fs) and sends the writes in batched commits through commit. Stops at the
 * first failure. 0 when every video was planned and every commit went through. */
int mig_run(fs_client *fs, r2_client *r2, const mig_target *targets, size_t n, size_t first,
            size_t step, mig_commit_fn commit, void *commit_ctx, const mig_sink *sink);

/* The mig_commit_fn of a real run: fs_commit on the fs_client ctx. */
clip_err mig_commit_firestore(void *ctx, arena_t *a, const fs_write *writes, size_t n, char *err,
                              size_t errlen);

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
