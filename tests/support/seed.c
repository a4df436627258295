/* seed: one Firestore client for the seeding, the repositories' own calls. */
#include "seed.h"

#include <stdio.h>
#include <string.h>

#include "clips.h"
#include "firestore.h"

static clip_err seed_clips_with(fs_client *fs, arena_t *a, const char *uid, const char *vid,
                                const seed_clip *clips, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const seed_clip *c = &clips[i];
        clip_create_input in;
        memset(&in, 0, sizeof in);
        in.scene_id = c->scene_id;
        in.scene_title = c->title;
        in.scene_description = c->description;
        in.style = c->style ? c->style : "vertical";
        in.start_time = c->start ? c->start : "0";
        in.end_time = c->end ? c->end : "10";
        in.has_priority = c->priority >= 0;
        in.priority = c->priority >= 0 ? c->priority : 0;
        if (c->via_update) {
            in.status = "pending";
        } else {
            in.status = c->status;
            in.error = c->error;
            in.file_size_bytes = c->size;
            in.has_thumbnail = c->thumb;
        }
        clip_err e = clips_create(fs, a, uid, vid, c->id, &in, NULL, NULL, err, errlen);
        if (e != CLIP_OK)
            return e;
        if (c->via_update) {
            clip_status_update u = {c->status, c->error, 1, c->size, c->thumb};
            e = clips_update_status(fs, a, uid, vid, c->id, &u, NULL, err, errlen);
            if (e != CLIP_OK)
                return e;
        }
    }
    return CLIP_OK;
}

/* The video (v NULL: none), its clips and the statistics, through one client. */
static int seed(const cfg_t *cfg, const char *uid, const char *vid, const video_rec *v,
                unsigned mask, const seed_clip *clips, size_t nclips, int stats)
{
    char err[512] = "";
    fs_client *fs = NULL;
    arena_t a;
    arena_init(&a, 0);
    clip_err e = fs_client_new(cfg, &fs, err, sizeof err);
    if (e == CLIP_OK && v)
        e = videos_create_or_update(fs, &a, uid, vid, v, mask, NULL, NULL, err, sizeof err);
    if (e == CLIP_OK)
        e = seed_clips_with(fs, &a, uid, vid, clips, nclips, err, sizeof err);
    if (e == CLIP_OK && stats)
        e = videos_update_clip_statistics(fs, &a, uid, vid, NULL, err, sizeof err);
    if (e != CLIP_OK)
        fprintf(stderr, "seed: %s/%s: %s: %s\n", uid, vid, clip_err_code(e), err);
    fs_client_free(fs);
    arena_free(&a);
    return e == CLIP_OK ? 0 : -1;
}

int seed_video(const cfg_t *cfg, const char *uid, const char *vid, const video_rec *v,
               unsigned mask, const seed_clip *clips, size_t nclips, int stats)
{
    return seed(cfg, uid, vid, v, mask, clips, nclips, stats);
}

int seed_clips(const cfg_t *cfg, const char *uid, const char *vid, const seed_clip *clips,
               size_t nclips, int stats)
{
    return seed(cfg, uid, vid, NULL, 0, clips, nclips, stats);
}

int seed_run(const cfg_t *cfg, seed_fill_fn fill)
{
    char err[512] = "";
    fs_client *fs = NULL;
    arena_t a;
    arena_init(&a, 0);
    int rc = -1;
    if (fs_client_new(cfg, &fs, err, sizeof err) == CLIP_OK)
        rc = fill(fs, &a, err, sizeof err) == 0 ? 0 : -1;
    if (rc)
        fprintf(stderr, "seed failed: %s\n", err);
    fs_client_free(fs);
    arena_free(&a);
    return rc;
}
