/* Integration: every videos_/clips_ repository call against the Firestore emulator run with
 * --indexes firestore.indexes.json: exact records, 404 and precondition errors, 2,500 clips paged
 * each exactly once under every filter, statistics of 1,000 clips. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clips.h"
#include "firestore.h"
#include "fsemu_proc.h"
#include "http.h"
#include "unit.h"
#include "videos.h"

static fsemu emu;
static fs_client *fs;

static int init(void)
{
    if (http_global_init() != CLIP_OK ||
        fsemu_start(&emu, "fsemu-repos", "firestore.indexes.json") != 0)
        return 1;
    char err[256];
    if (fs_client_new(&emu.cfg, &fs, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "fs_client_new: %s\n", err);
        return 1;
    }
    return 0;
}

static int clean(void)
{
    fs_client_free(fs);
    fsemu_stop(&emu);
    http_global_cleanup();
    return 0;
}

static int time_cmp(fs_time x, fs_time y)
{
    if (x.seconds != y.seconds)
        return x.seconds < y.seconds ? -1 : 1;
    return x.nanos < y.nanos ? -1 : x.nanos > y.nanos;
}

static void test_video_create_update_get(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    const char *styles[] = {"vertical", "square"};
    const char *cats[] = {"funny", "insightful"};
    video_rec in = {.video_url = "https://youtube.com/watch?v=abc",
                    .video_title = "Talk",
                    .youtube_id = "abc",
                    .status = "processing",
                    .custom_prompt = NULL,
                    .styles_processed = styles,
                    .nstyles = 2,
                    .crop_mode = "smart",
                    .target_aspect = "9:16",
                    .highlights_count = 7,
                    .highlights_total_duration = 210.5,
                    .categories = cats,
                    .ncategories = 2};
    unsigned all = VIDEO_F_URL | VIDEO_F_TITLE | VIDEO_F_YOUTUBE_ID | VIDEO_F_STATUS |
                   VIDEO_F_CUSTOM_PROMPT | VIDEO_F_STYLES | VIDEO_F_CROP_MODE |
                   VIDEO_F_TARGET_ASPECT | VIDEO_F_HIGHLIGHTS_COUNT | VIDEO_F_HIGHLIGHTS_SUMMARY;
    video_rec v;
    int created = -1;
    CU_ASSERT_EQUAL_FATAL(
        videos_create_or_update(fs, &a, "u1", "vid1", &in, all, &v, &created, err, sizeof err),
        CLIP_OK);
    CU_ASSERT_EQUAL(created, 1);
    UNIT_ASSERT_STR(v.video_id, "vid1");
    UNIT_ASSERT_STR(v.user_id, "u1");
    UNIT_ASSERT_STR(v.video_url, "https://youtube.com/watch?v=abc");
    UNIT_ASSERT_STR(v.video_title, "Talk");
    UNIT_ASSERT_STR(v.youtube_id, "abc");
    UNIT_ASSERT_STR(v.status, "processing");
    CU_ASSERT_PTR_NULL(v.custom_prompt);
    CU_ASSERT_EQUAL_FATAL(v.nstyles, 2);
    UNIT_ASSERT_STR(v.styles_processed[1], "square");
    UNIT_ASSERT_STR(v.crop_mode, "smart");
    UNIT_ASSERT_STR(v.target_aspect, "9:16");
    CU_ASSERT_TRUE(v.highlights_count == 7);
    CU_ASSERT_TRUE(v.highlights_total_duration == 210.5);
    CU_ASSERT_EQUAL_FATAL(v.ncategories, 2);
    UNIT_ASSERT_STR(v.categories[0], "funny");
    CU_ASSERT_EQUAL(v.has_clip_stats, 0);
    CU_ASSERT_TRUE(v.created_at.seconds > 1700000000);
    CU_ASSERT_EQUAL(time_cmp(v.created_at, v.updated_at), 0);
    fs_time created_at = v.created_at;

    /* a merge of one field: the rest stays, created_at stays, updated_at moves */
    video_rec upd = {.status = "completed"};
    CU_ASSERT_EQUAL(videos_create_or_update(fs, &a, "u1", "vid1", &upd, VIDEO_F_STATUS, &v,
                                            &created, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(created, 0);
    UNIT_ASSERT_STR(v.status, "completed");
    UNIT_ASSERT_STR(v.video_title, "Talk");
    CU_ASSERT_EQUAL(v.nstyles, 2);
    CU_ASSERT_EQUAL(time_cmp(v.created_at, created_at), 0);
    CU_ASSERT_EQUAL(time_cmp(v.updated_at, created_at), 1);
    /* youtube_id set to null explicitly */
    CU_ASSERT_EQUAL(videos_create_or_update(fs, &a, "u1", "vid1", &upd, VIDEO_F_YOUTUBE_ID, &v,
                                            NULL, err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_PTR_NULL(v.youtube_id);

    CU_ASSERT_EQUAL(videos_get(fs, &a, "u1", "nope", &v, err, sizeof err), CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no video nope");
    CU_ASSERT_EQUAL(videos_get(fs, &a, "u2", "vid1", &v, err, sizeof err),
                    CLIP_ENOTFOUND); /* another user's */
    CU_ASSERT_EQUAL(videos_get(fs, &a, "u1", "../x", &v, err, sizeof err), CLIP_EINVAL);
    upd.status = "done";
    CU_ASSERT_EQUAL(videos_create_or_update(fs, &a, "u1", "vid1", &upd, VIDEO_F_STATUS, NULL, NULL,
                                            err, sizeof err),
                    CLIP_EINVAL);
    arena_free(&a);
}

static void test_videos_list_newest_first(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    enum { NV = 25 };
    for (int i = 0; i < NV; i++) {
        char id[16];
        snprintf(id, sizeof id, "v%02d", i);
        video_rec in = {.video_title = id, .status = "queued"};
        CU_ASSERT_EQUAL_FATAL(videos_create_or_update(fs, &a, "lister", id, &in,
                                                      VIDEO_F_TITLE | VIDEO_F_STATUS, NULL, NULL,
                                                      err, sizeof err),
                              CLIP_OK);
    }
    int seen[NV] = {0};
    const char *cursor = NULL;
    int pages = 0, total = 0;
    fs_time prev = {INT64_MAX, 0};
    const char *first_cursor = NULL;
    for (int guard = 0; guard < 10; guard++) {
        videos_page p;
        CU_ASSERT_EQUAL_FATAL(videos_list(fs, &a, "lister", 10, cursor, &p, err, sizeof err),
                              CLIP_OK);
        pages++;
        for (size_t i = 0; i < p.n; i++) {
            int k = atoi(p.items[i].video_id + 1);
            CU_ASSERT_TRUE(k >= 0 && k < NV);
            if (k >= 0 && k < NV)
                seen[k]++;
            CU_ASSERT_TRUE(time_cmp(p.items[i].created_at, prev) <= 0);
            prev = p.items[i].created_at;
            total++;
        }
        if (!first_cursor)
            first_cursor = p.next_cursor;
        if (!p.next_cursor)
            break;
        cursor = p.next_cursor;
    }
    CU_ASSERT_EQUAL(pages, 3);
    CU_ASSERT_EQUAL(total, NV);
    for (int i = 0; i < NV; i++)
        CU_ASSERT_EQUAL(seen[i], 1);
    /* created one after another, so newest first is v24 ... v00 */
    videos_page p;
    CU_ASSERT_EQUAL(videos_list(fs, &a, "lister", 3, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(p.n, 3);
    UNIT_ASSERT_STR(p.items[0].video_id, "v24");
    UNIT_ASSERT_STR(p.items[2].video_id, "v22");
    /* a cursor is bound to its user and refuses edits */
    CU_ASSERT_PTR_NOT_NULL_FATAL(first_cursor);
    CU_ASSERT_EQUAL(videos_list(fs, &a, "other", 10, first_cursor, &p, err, sizeof err),
                    CLIP_EINVAL);
    char *bad = arena_strdup(&a, first_cursor);
    bad[3] = bad[3] == 'x' ? 'y' : 'x';
    CU_ASSERT_EQUAL(videos_list(fs, &a, "lister", 10, bad, &p, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "cursor: not one this listing gave");
    CU_ASSERT_EQUAL(videos_list(fs, &a, "lister", 101, NULL, &p, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_EQUAL(videos_list(fs, &a, "nobody", 10, NULL, &p, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(p.n, 0);
    CU_ASSERT_PTR_NULL(p.next_cursor);
    arena_free(&a);
}

static clip_create_input sample_clip(void)
{
    clip_create_input in = {.filename = "clip_3_vertical.mp4",
                   .scene_id = 3,
                   .scene_title = "The hook",
                   .scene_description = NULL,
                   .style = "vertical",
                   .start_time = "00:01:02.5",
                   .end_time = "00:01:31",
                   .has_priority = 1,
                   .priority = 1};
    return in;
}

static void test_clip_create_is_idempotent(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    clip_create_input in = sample_clip();
    clip_rec c;
    int created = -1;
    CU_ASSERT_EQUAL_FATAL(
        clips_create(fs, &a, "u1", "vid1", "clip_3_vertical", &in, &c, &created, err, sizeof err),
        CLIP_OK);
    CU_ASSERT_EQUAL(created, 1);
    UNIT_ASSERT_STR(c.clip_id, "clip_3_vertical");
    UNIT_ASSERT_STR(c.filename, "clip_3_vertical.mp4");
    CU_ASSERT_TRUE(c.scene_id == 3);
    UNIT_ASSERT_STR(c.scene_title, "The hook");
    CU_ASSERT_PTR_NULL(c.scene_description);
    UNIT_ASSERT_STR(c.style, "vertical");
    UNIT_ASSERT_STR(c.start_time, "00:01:02.5");
    UNIT_ASSERT_STR(c.end_time, "00:01:31");
    CU_ASSERT_TRUE(c.duration_seconds == 28.5);
    CU_ASSERT_TRUE(c.priority == 1);
    UNIT_ASSERT_STR(c.status, "pending");
    CU_ASSERT_PTR_NULL(c.error);
    CU_ASSERT_TRUE(c.file_size_bytes == 0);
    CU_ASSERT_TRUE(c.file_size_mb == 0.0);
    CU_ASSERT_EQUAL(c.has_thumbnail, 0);
    UNIT_ASSERT_STR(c.r2_key, "u1/vid1/clips/clip_3_vertical.mp4");
    CU_ASSERT_PTR_NULL(c.thumbnail_r2_key);
    CU_ASSERT_EQUAL(time_cmp(c.created_at, c.updated_at), 0);
    /* the record create gave (built from the commit's answer) is what a read gives */
    clip_rec g;
    CU_ASSERT_EQUAL_FATAL(clips_get(fs, &a, "u1", "vid1", "clip_3_vertical", &g, err, sizeof err),
                          CLIP_OK);
    CU_ASSERT_EQUAL(time_cmp(g.created_at, c.created_at), 0);
    CU_ASSERT_EQUAL(time_cmp(g.updated_at, c.updated_at), 0);
    UNIT_ASSERT_STR(g.r2_key, c.r2_key);
    CU_ASSERT_TRUE(g.duration_seconds == c.duration_seconds && g.priority == c.priority);

    /* the workflow retries: same data, no error, nothing changes */
    clip_rec again;
    CU_ASSERT_EQUAL(clips_create(fs, &a, "u1", "vid1", "clip_3_vertical", &in, &again, &created,
                                 err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(created, 0);
    CU_ASSERT_EQUAL(time_cmp(again.created_at, c.created_at), 0);
    /* also after the clip moved on */
    clip_status_update u = {
        .status = "completed", .has_file_size = 1, .file_size_bytes = 12897484, .has_thumbnail = 1};
    CU_ASSERT_EQUAL(
        clips_update_status(fs, &a, "u1", "vid1", "clip_3_vertical", &u, NULL, err, sizeof err),
        CLIP_OK);
    CU_ASSERT_EQUAL(clips_create(fs, &a, "u1", "vid1", "clip_3_vertical", &in, &again, &created,
                                 err, sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL(created, 0);
    UNIT_ASSERT_STR(again.status, "completed");
    /* other data under the same id is a conflict */
    in.scene_title = "Another";
    CU_ASSERT_EQUAL(
        clips_create(fs, &a, "u1", "vid1", "clip_3_vertical", &in, NULL, NULL, err, sizeof err),
        CLIP_ECONFLICT);
    UNIT_ASSERT_STR(err, "clip clip_3_vertical already exists with a different scene_title");
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_ECONFLICT), 409);
    /* bad input never reaches Firestore */
    in = sample_clip();
    in.filename = "clip_4_vertical.mp4";
    CU_ASSERT_EQUAL(
        clips_create(fs, &a, "u1", "vid1", "clip_3_vertical", &in, NULL, NULL, err, sizeof err),
        CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "filename: clip_4_vertical.mp4 does not name clip clip_3_vertical");
    in = sample_clip();
    in.end_time = "00:01";
    CU_ASSERT_EQUAL(
        clips_create(fs, &a, "u1", "vid1", "clip_3_vertical", &in, NULL, NULL, err, sizeof err),
        CLIP_EINVAL);
    CU_ASSERT_EQUAL(clips_get(fs, &a, "u1", "vid1", "clip_9", &c, err, sizeof err), CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no clip clip_9 in video vid1");
    arena_free(&a);
}

static void test_update_status_keeps_fields_in_step(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    clip_create_input in = sample_clip();
    in.filename = "clip_5_square.mp4";
    in.style = "square";
    in.has_thumbnail = 1;
    in.file_size_bytes = 1048576;
    clip_rec c;
    CU_ASSERT_EQUAL_FATAL(
        clips_create(fs, &a, "u1", "vid1", "clip_5_square", &in, &c, NULL, err, sizeof err),
        CLIP_OK);
    CU_ASSERT_TRUE(c.file_size_mb == 1.0);
    UNIT_ASSERT_STR(c.thumbnail_r2_key, "u1/vid1/thumbnails/clip_5_square.jpg");

    clip_status_update u = {.status = "completed",
                            .has_file_size = 1,
                            .file_size_bytes = 12897484,
                            .has_thumbnail = -1};
    CU_ASSERT_EQUAL(
        clips_update_status(fs, &a, "u1", "vid1", "clip_5_square", &u, &c, err, sizeof err),
        CLIP_OK);
    UNIT_ASSERT_STR(c.status, "completed");
    CU_ASSERT_TRUE(c.file_size_bytes == 12897484);
    CU_ASSERT_TRUE(c.file_size_mb == 12897484 / 1048576.0);
    CU_ASSERT_EQUAL(c.has_thumbnail, 1); /* left as it was */
    UNIT_ASSERT_STR(c.thumbnail_r2_key, "u1/vid1/thumbnails/clip_5_square.jpg");
    CU_ASSERT_EQUAL(time_cmp(c.updated_at, c.created_at), 1);

    u = (clip_status_update){.status = "failed", .error = "ffmpeg exited 1", .has_thumbnail = 0};
    CU_ASSERT_EQUAL(
        clips_update_status(fs, &a, "u1", "vid1", "clip_5_square", &u, &c, err, sizeof err),
        CLIP_OK);
    UNIT_ASSERT_STR(c.status, "failed");
    UNIT_ASSERT_STR(c.error, "ffmpeg exited 1");
    CU_ASSERT_EQUAL(c.has_thumbnail, 0);
    CU_ASSERT_PTR_NULL(c.thumbnail_r2_key);
    CU_ASSERT_TRUE(c.file_size_bytes == 12897484); /* not given: unchanged */
    UNIT_ASSERT_STR(c.scene_title, "The hook");

    u = (clip_status_update){.status = "completed", .has_thumbnail = -1};
    CU_ASSERT_EQUAL(
        clips_update_status(fs, &a, "u1", "vid1", "clip_5_square", &u, &c, err, sizeof err),
        CLIP_OK);
    CU_ASSERT_PTR_NULL(c.error);
    CU_ASSERT_EQUAL(clips_update_status(fs, &a, "u1", "vid1", "nope", &u, NULL, err, sizeof err),
                    CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no clip nope in video vid1");
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_ENOTFOUND), 404);
    u.status = "weird";
    CU_ASSERT_EQUAL(
        clips_update_status(fs, &a, "u1", "vid1", "clip_5_square", &u, NULL, err, sizeof err),
        CLIP_EINVAL);
    arena_free(&a);
}

static void test_preconditions_map_to_conflict(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    fs_value f = fs_map();
    fs_map_put(&a, &f, "n", fs_int(1));
    fs_write w = {.path = "pre/doc1", .fields = &f, .precond = FS_PRECOND_MISSING};
    fs_commit_result res;
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &w, 1, &res, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &w, 1, NULL, err, sizeof err), CLIP_ECONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "ALREADY_EXISTS"));
    w.precond = FS_PRECOND_UPDATE_TIME;
    w.update_time = res.update_times[0];
    fs_map_put(&a, &f, "n",
               fs_int(2)); /* a real change: an unchanged document keeps its update time */
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &w, 1, NULL, err, sizeof err),
                    CLIP_OK); /* current: applies */
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &w, 1, NULL, err, sizeof err),
                    CLIP_ECONFLICT); /* stale now */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "FAILED_PRECONDITION"));
    w.path = "pre/missing";
    w.precond = FS_PRECOND_EXISTS;
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &w, 1, NULL, err, sizeof err), CLIP_ENOTFOUND);
    fs_doc d;
    CU_ASSERT_EQUAL(fs_get(fs, &a, "pre/missing", &d, err, sizeof err), CLIP_ENOTFOUND);
    arena_free(&a);
}

static void test_unicode_field_paths_round_trip(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    /* keys that need backquotes in a field path: non-ASCII, a dot, a backquote, a leading digit */
    const char *keys[] = {"clé ✓", "a.b", "x`y", "9:16"};
    fs_value inner = fs_map();
    fs_map_put(&a, &inner, "a.b", fs_int(1));
    fs_value f = fs_map();
    fs_map_put(&a, &f, keys[0], fs_str("é"));
    fs_map_put(&a, &f, keys[2], fs_double(NAN));
    fs_map_put(&a, &f, keys[3], fs_int(INT64_MAX));
    fs_map_put(&a, &f, "nested", inner);
    fs_map_put(&a, &f, "keep", fs_bool(1));
    CU_ASSERT_EQUAL_FATAL(
        fs_commit(fs, &a, &(fs_write){.path = "paths/d", .fields = &f}, 1, NULL, err, sizeof err),
        CLIP_OK);
    /* a masked update of exactly those keys, one of them nested: nested.`a.b` */
    buf_t p[4] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
    fs_field_path_segment(&p[0], keys[0], strlen(keys[0]));
    fs_field_path_segment(&p[1], keys[2], strlen(keys[2]));
    fs_field_path_segment(&p[2], keys[3], strlen(keys[3]));
    buf_puts(&p[3], "nested.");
    fs_field_path_segment(&p[3], keys[1], strlen(keys[1]));
    UNIT_ASSERT_STR(p[0].p, "`clé ✓`");
    UNIT_ASSERT_STR(p[3].p, "nested.`a.b`");
    const char *mask[] = {p[0].p, p[1].p, p[2].p, p[3].p};
    fs_value upd_inner = fs_map();
    fs_map_put(&a, &upd_inner, "a.b", fs_int(2));
    fs_value upd = fs_map();
    fs_map_put(&a, &upd, keys[0], fs_str("ü"));
    fs_map_put(&a, &upd, keys[3], fs_int(-1));
    fs_map_put(&a, &upd, "nested", upd_inner);
    /* x`y is in the mask but not in the fields: it is deleted */
    fs_write w = {.path = "paths/d",
                  .fields = &upd,
                  .mask = mask,
                  .nmask = 4,
                  .use_mask = 1,
                  .precond = FS_PRECOND_EXISTS};
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &w, 1, NULL, err, sizeof err), CLIP_OK);
    fs_doc d;
    CU_ASSERT_EQUAL_FATAL(fs_get(fs, &a, "paths/d", &d, err, sizeof err), CLIP_OK);
    const char *s = NULL;
    CU_ASSERT_EQUAL(fs_get_str(&d.fields, keys[0], &s), 0);
    UNIT_ASSERT_STR(s, "ü");
    CU_ASSERT_PTR_NULL(fs_map_get(&d.fields, keys[2]));
    int64_t i = 0;
    CU_ASSERT_EQUAL(fs_get_int(&d.fields, keys[3], &i), 0);
    CU_ASSERT_TRUE(i == -1);
    CU_ASSERT_EQUAL(fs_get_int(fs_map_get(&d.fields, "nested"), "a.b", &i), 0);
    CU_ASSERT_TRUE(i == 2);
    int keep = 0;
    CU_ASSERT_EQUAL(fs_get_bool(&d.fields, "keep", &keep), 0);
    CU_ASSERT_EQUAL(keep, 1);
    CU_ASSERT_EQUAL(d.fields.u.map.n, 4);
    for (int k = 0; k < 4; k++)
        buf_free(&p[k]);
    arena_free(&a);
}

/* ---- bulk listings -------------------------------------------------------------------------- */

enum { BULK = 2500 };
static const char *const bulk_styles[] = {"vertical", "square", "wide-screen"};
static const char *const bulk_status[] = {"pending", "processing", "completed", "failed"};

static clip_create_input bulk_clip(int i, char *filename, size_t fnlen)
{
    snprintf(filename, fnlen, "c%04d.mp4", i);
    clip_create_input in = {.filename = filename,
                   .scene_id = i % 50,
                   .scene_title = "t",
                   .style = bulk_styles[i % 3],
                   .start_time = "0",
                   .end_time = "10",
                   .has_priority = 1,
                   .priority = (i * 7) % 5,
                   .status = bulk_status[(i / 3) % 4],
                   .file_size_bytes = 1000000 + i,
                   .has_duration = 1,
                   .duration_seconds = (i % 60) + 0.5};
    return in;
}

static void load_bulk(arena_t *a, const char *uid, const char *vid, int n)
{
    char err[512] = "";
    fs_write *ws = arena_calloc(a, FS_COMMIT_WRITES_MAX, sizeof *ws);
    int nw = 0;
    for (int i = 0; i < n; i++) {
        char id[16], fn[32];
        snprintf(id, sizeof id, "c%04d", i);
        clip_create_input in = bulk_clip(i, fn, sizeof fn);
        clip_err e =
            clips_create_write(a, uid, vid, arena_strdup(a, id), &in, 0, &ws[nw], err, sizeof err);
        CU_ASSERT_EQUAL_FATAL(e, CLIP_OK);
        if (++nw == FS_COMMIT_WRITES_MAX || i == n - 1) {
            CU_ASSERT_EQUAL_FATAL(fs_commit(fs, a, ws, (size_t)nw, NULL, err, sizeof err), CLIP_OK);
            nw = 0;
        }
    }
}

static int clip_cmp(const clip_rec *x, const clip_rec *y)
{
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->scene_id != y->scene_id)
        return x->scene_id < y->scene_id ? -1 : 1;
    int s = strcmp(x->style, y->style);
    if (s)
        return s;
    return strcmp(x->clip_id, y->clip_id);
}

static int matches(int i, const clips_filter *f)
{
    if (f->status && strcmp(f->status, bulk_status[(i / 3) % 4]) != 0)
        return 0;
    if (f->style && strcmp(f->style, bulk_styles[i % 3]) != 0)
        return 0;
    if (f->has_scene_id && f->scene_id != i % 50)
        return 0;
    return 1;
}

/* Pages through a listing; every clip must come once, in order, and match the filter. */
static void page_all(arena_t *a, const clips_filter *f, long limit, int *count_out)
{
    static int seen[BULK];
    memset(seen, 0, sizeof seen);
    char err[512] = "";
    const char *cursor = NULL;
    clip_rec prev;
    int have_prev = 0, total = 0, expected = 0;
    for (int i = 0; i < BULK; i++)
        expected += matches(i, f);
    for (int guard = 0; guard < BULK + 2; guard++) {
        clips_page p;
        clip_err e = clips_list(fs, a, "bulk", "vbulk", f, limit, cursor, &p, err, sizeof err);
        if (e != CLIP_OK)
            fprintf(stderr, "clips_list: %s\n", err);
        CU_ASSERT_EQUAL_FATAL(e, CLIP_OK);
        CU_ASSERT_TRUE(p.n <= (size_t)limit);
        for (size_t k = 0; k < p.n; k++) {
            int i = atoi(p.items[k].clip_id + 1);
            CU_ASSERT_TRUE_FATAL(i >= 0 && i < BULK);
            seen[i]++;
            CU_ASSERT_TRUE(matches(i, f));
            if (have_prev)
                CU_ASSERT_TRUE(clip_cmp(&prev, &p.items[k]) < 0);
            prev = p.items[k];
            have_prev = 1;
            total++;
        }
        if (!p.next_cursor)
            break;
        CU_ASSERT_EQUAL(p.n, (size_t)limit);
        cursor = p.next_cursor;
    }
    CU_ASSERT_EQUAL(total, expected);
    int once = 1;
    for (int i = 0; i < BULK; i++)
        if (seen[i] != matches(i, f))
            once = 0;
    CU_ASSERT_TRUE(once);
    *count_out = total;
}

static void test_2500_clips_paged_each_once(void)
{
    arena_t a;
    arena_init(&a, 0);
    load_bulk(&a, "bulk", "vbulk", BULK);
    int n = 0;
    page_all(&a, &(clips_filter){0}, 97, &n);
    CU_ASSERT_EQUAL(n, BULK);
    arena_free(&a);
}

static void test_every_filter_combination_has_its_index(void)
{
    arena_t a;
    arena_init(&a, 0);
    int want[8] = {2500, 624, 833, 208, 50, 9, 17, 9};
    for (int combo = 0; combo < 8; combo++) {
        clips_filter f = {0};
        if (combo & 1)
            f.status = "completed";
        if (combo & 2)
            f.style = "square";
        if (combo & 4) {
            f.has_scene_id = 1;
            f.scene_id = 7;
        }
        int n = -1;
        page_all(&a, &f, combo ? 40 : 500, &n);
        if (n != want[combo])
            fprintf(stderr, "combo %d: %d clips\n", combo, n);
        CU_ASSERT_EQUAL(n, want[combo]);
        arena_reset(&a);
    }
    arena_free(&a);
}

static void test_unindexed_query_is_refused(void)
{
    if (fsemu_ours_only(__func__, "index enforcement"))
        return;
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    /* an order no index of firestore.indexes.json serves */
    fs_order o[] = {{"style", 0}, {"priority", 1}};
    fs_query q = {.collection = "clips", .order = o, .norder = 2, .limit = 5};
    fs_doc *docs;
    size_t n;
    CU_ASSERT_EQUAL(fs_run_query(fs, &a, "users/bulk/videos/vbulk", &q, &docs, &n, err, sizeof err),
                    CLIP_EBACKEND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "index"));
    CU_ASSERT_EQUAL(clip_err_http_status(CLIP_EBACKEND), 502);
    arena_free(&a);
}

static void test_statistics_of_1000_clips(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[512] = "";
    video_rec in = {.video_title = "stats", .status = "completed"};
    CU_ASSERT_EQUAL_FATAL(videos_create_or_update(fs, &a, "stat", "vstat", &in,
                                                  VIDEO_F_TITLE | VIDEO_F_STATUS, NULL, NULL, err,
                                                  sizeof err),
                          CLIP_OK);
    load_bulk(&a, "stat", "vstat", 1000);
    int64_t completed = 0, failed = 0, size = 0, by[3] = {0, 0, 0};
    double dur = 0;
    for (int i = 0; i < 1000; i++) {
        const char *st = bulk_status[(i / 3) % 4];
        completed += strcmp(st, "completed") == 0;
        failed += strcmp(st, "failed") == 0;
        size += 1000000 + i;
        dur += (i % 60) + 0.5;
        by[i % 3]++;
    }
    video_clip_stats s;
    CU_ASSERT_EQUAL_FATAL(
        videos_update_clip_statistics(fs, &a, "stat", "vstat", &s, err, sizeof err), CLIP_OK);
    CU_ASSERT_TRUE(s.total == 1000);
    CU_ASSERT_TRUE(s.completed == completed && completed == 249);
    CU_ASSERT_TRUE(s.failed == failed && failed == 249);
    CU_ASSERT_TRUE(s.total_size_bytes == size && size == 1000499500);
    CU_ASSERT_TRUE(s.total_duration_seconds == dur && dur == 29600.0);
    CU_ASSERT_EQUAL_FATAL(s.nby_style, 3);
    UNIT_ASSERT_STR(s.by_style[0].style, "square");
    CU_ASSERT_TRUE(s.by_style[0].count == by[1] && by[1] == 333);
    UNIT_ASSERT_STR(s.by_style[1].style, "vertical");
    CU_ASSERT_TRUE(s.by_style[1].count == by[0] && by[0] == 334);
    UNIT_ASSERT_STR(s.by_style[2].style, "wide-screen");
    CU_ASSERT_TRUE(s.by_style[2].count == 333);

    video_rec v;
    CU_ASSERT_EQUAL_FATAL(videos_get(fs, &a, "stat", "vstat", &v, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(v.has_clip_stats, 1);
    CU_ASSERT_TRUE(v.clip_stats.total == 1000 && v.clip_stats.completed == 249 &&
                   v.clip_stats.failed == 249);
    CU_ASSERT_TRUE(v.clip_stats.total_size_bytes == 1000499500);
    CU_ASSERT_TRUE(v.clip_stats.total_duration_seconds == dur);
    CU_ASSERT_EQUAL(v.clip_stats.nby_style, 3);
    UNIT_ASSERT_STR(v.video_title, "stats"); /* the merge touched only clip_stats */
    CU_ASSERT_EQUAL(time_cmp(v.updated_at, v.created_at), 1);

    CU_ASSERT_EQUAL(videos_update_clip_statistics(fs, &a, "stat", "nope", &s, err, sizeof err),
                    CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "no video nope");
    arena_free(&a);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_video_create_update_get),
                           UNIT_TEST(test_videos_list_newest_first),
                           UNIT_TEST(test_clip_create_is_idempotent),
                           UNIT_TEST(test_update_status_keeps_fields_in_step),
                           UNIT_TEST(test_preconditions_map_to_conflict),
                           UNIT_TEST(test_unicode_field_paths_round_trip),
                           UNIT_TEST(test_2500_clips_paged_each_once),
                           UNIT_TEST(test_every_filter_combination_has_its_index),
                           UNIT_TEST(test_unindexed_query_is_refused),
                           UNIT_TEST(test_statistics_of_1000_clips),
                           CU_TEST_INFO_NULL};
    return unit_run("firestore_repositories", tests, init, clean);
}
