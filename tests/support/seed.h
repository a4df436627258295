/* seed: a video and its clips written the way the workflow writes them, for the API tests. */
#ifndef CLIP_TEST_SEED_H
#define CLIP_TEST_SEED_H

#include <stddef.h>

#include "arena.h"
#include "config.h"
#include "firestore.h"
#include "videos.h"

/* One clip of a seeded video. */
typedef struct {
    const char *id; /* clip_id, e.g. "clip_3_vertical" */
    int scene_id;
    int priority;            /* < 0: not given (the default 99) */
    const char *style;       /* NULL: "vertical" */
    const char *status;      /* where the clip ends */
    const char *start, *end; /* NULL: "0" and "10" */
    long long size;          /* file_size_bytes */
    int thumb;               /* has_thumbnail */
    const char *error;       /* with status "failed" */
    const char *title;       /* scene_title; NULL: none */
    const char *description; /* scene_description; NULL: none */
    int via_update; /* 1: created "pending", then the status call sets status, size, thumbnail
                     * and error (the workflow's order); 0: created with them at once */
} seed_clip;

/* Writes video vid of uid (v's fields in mask) and its clips through the repositories, then,
 * with stats, the statistics call. 0 ok; -1 with one "seed: ..." line on stderr. */
int seed_video(const cfg_t *cfg, const char *uid, const char *vid, const video_rec *v,
               unsigned mask, const seed_clip *clips, size_t nclips, int stats);

/* The clips alone (and the statistics call), into a video seeded before. */
int seed_clips(const cfg_t *cfg, const char *uid, const char *vid, const seed_clip *clips,
               size_t nclips, int stats);

/* A test's own seeding: fill writes with fs and allocates from a; 0 ok, else -1 with err set. */
typedef int (*seed_fill_fn)(fs_client *fs, arena_t *a, char *err, size_t errlen);
/* Runs fill with a Firestore client on cfg and an arena, both freed after. 0 ok; -1 with one
 * "seed failed: ..." line on stderr. */
int seed_run(const cfg_t *cfg, seed_fill_fn fill);

#endif
