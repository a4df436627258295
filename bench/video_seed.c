/* video_seed: writes the video-info bench data set into a Firestore emulator through the
 * repository code: user "bench-user" with video "v50" (50 completed clips) and "v5000" (5,000),
 * every clip with a thumbnail, and the videos' clip_stats.
 * usage: video_seed HOST:PORT PROJECT */
#include <stdio.h>
#include <string.h>

#include "clips.h"
#include "firestore.h"
#include "http.h"
#include "videos.h"

#define SEED_UID "bench-user"

static const char *const styles[] = {"vertical", "square", "wide"};

static int seed_video(fs_client *fs, const char *vid, int nclips)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512], title[128];
    snprintf(title, sizeof title, "Bench video with %d clips: a talk about shipping on time",
             nclips);
    static const char *const cats[] = {"funny", "insight", "story"};
    video_rec v = {.video_url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                   .video_title = title,
                   .youtube_id = "dQw4w9WgXcQ",
                   .status = "completed",
                   .styles_processed = styles,
                   .nstyles = 3,
                   .crop_mode = "smart",
                   .target_aspect = "9:16",
                   .highlights_count = (nclips + 2) / 3,
                   .highlights_total_duration = 28.5 * ((nclips + 2) / 3),
                   .categories = cats,
                   .ncategories = 3};
    unsigned mask = VIDEO_F_URL | VIDEO_F_TITLE | VIDEO_F_YOUTUBE_ID | VIDEO_F_STATUS |
                    VIDEO_F_STYLES | VIDEO_F_CROP_MODE | VIDEO_F_TARGET_ASPECT |
                    VIDEO_F_HIGHLIGHTS_COUNT | VIDEO_F_HIGHLIGHTS_SUMMARY;
    if (videos_create_or_update(fs, &a, SEED_UID, vid, &v, mask, NULL, NULL, err, sizeof err) !=
        CLIP_OK) {
        fprintf(stderr, "video_seed: %s: %s\n", vid, err);
        arena_free(&a);
        return 1;
    }
    fs_write *ws = arena_calloc(&a, FS_COMMIT_WRITES_MAX, sizeof *ws);
    int nw = 0, rc = 0;
    for (int i = 0; i < nclips && rc == 0; i++) {
        char id[64], fn[80], t[96];
        snprintf(id, sizeof id, "clip_%d_%s", i / 3 + 1, styles[i % 3]);
        snprintf(fn, sizeof fn, "%s.mp4", id);
        snprintf(t, sizeof t, "Scene %d: the moment the plan changed", i / 3 + 1);
        clip_create_input in = {.filename = arena_strdup(&a, fn),
                       .scene_id = i / 3 + 1,
                       .scene_title = arena_strdup(&a, t),
                       .scene_description = "The speaker explains why the first plan failed.",
                       .style = styles[i % 3],
                       .start_time = "00:01:02.5",
                       .end_time = "00:01:31",
                       .has_priority = 1,
                       .priority = (i / 3) % 10 + 1,
                       .status = "completed",
                       .file_size_bytes = 12897484 + 1000 * i,
                       .has_thumbnail = 1};
        if (clips_create_write(&a, SEED_UID, vid, arena_strdup(&a, id), &in, 0, &ws[nw], err,
                               sizeof err) != CLIP_OK) {
            fprintf(stderr, "video_seed: %s: %s\n", id, err);
            rc = 1;
            break;
        }
        if (++nw == FS_COMMIT_WRITES_MAX || i == nclips - 1) {
            if (fs_commit(fs, &a, ws, (size_t)nw, NULL, err, sizeof err) != CLIP_OK) {
                fprintf(stderr, "video_seed: commit: %s\n", err);
                rc = 1;
            }
            nw = 0;
        }
    }
    if (rc == 0 &&
        videos_update_clip_statistics(fs, &a, SEED_UID, vid, NULL, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "video_seed: %s: statistics: %s\n", vid, err);
        rc = 1;
    }
    arena_free(&a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: video_seed HOST:PORT PROJECT\n");
        return 2;
    }
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.firestore_project = argv[2];
    c.firestore_emulator_host = argv[1];
    c.firestore_timeout_ms = 60000;
    fs_client *fs = NULL;
    char err[256];
    if (http_global_init() != CLIP_OK || fs_client_new(&c, &fs, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "video_seed: %s\n", err);
        return 1;
    }
    int rc = seed_video(fs, "v50", 50) || seed_video(fs, "v5000", 5000);
    fs_client_free(fs);
    http_global_cleanup();
    return rc;
}
