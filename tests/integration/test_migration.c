/* The migration end to end on a generated legacy layout in the S3 server (3 users x 20 videos x 30
 * clips, broken names, missing thumbnails, a missing highlights.json, keys needing URL encoding):
 * --dry-run writes nothing; a migrate killed after its first commit and run again ends identical to
 * an uninterrupted one; a second run has nothing to do; verify finds no difference (and finds one
 * when a document is changed); the API answers the same in phases r2 and firestore; the
 * firestore+r2 fallback answers an unmigrated video from R2, logs and counts it. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firestore.h"
#include "fullstack.h"
#include "tjson.h"
#include "unit.h"

#define NUSERS 3
#define NVIDEOS 20
#define NSCENES 15 /* x 2 styles = 30 clips a video */
#define NCLIPS (NUSERS * NVIDEOS * NSCENES * 2)
#define UPLOADERS 6

static fullstack F;
static char conf[600], clipctl[600];
static const char *const styles[] = {"vertical", "square"};
static const char *const cats[] = {"funny", "insightful", "emotional"};

/* ---- the dataset ---------------------------------------------------------------------------- */

typedef struct {
    char key[256];
    size_t size;
    const char *type;
    char *body; /* NULL: size bytes of 'x' */
} obj;

static obj *objs;
static size_t nobjs, capobjs;

static void add(const char *key, size_t size, char *body, const char *type)
{
    if (nobjs == capobjs) {
        capobjs = capobjs ? capobjs * 2 : 4096;
        objs = realloc(objs, capobjs * sizeof *objs);
    }
    obj *o = &objs[nobjs++];
    snprintf(o->key, sizeof o->key, "%s", key);
    o->size = body ? strlen(body) : size;
    o->body = body;
    o->type = type;
}

static char *highlights_json(int u, int v)
{
    buf_t b = BUF_INIT;
    buf_printf(&b,
               "{\"video_title\":\"Video u%d v%02d \\u00e9 \\\"q\\\"\",\"video_url\":"
               "\"https://youtube.com/watch?v=u%dv%02d\",\"highlights\":[",
               u, v, u, v);
    for (int s = 0; s < NSCENES; s++) {
        buf_printf(&b, "%s{\"id\":%d,\"title\":\"Scene %d of v%02d\",", s ? "," : "", s, s, v);
        if (s % 3 == 0)
            buf_puts(&b, "\"description\":null,");
        else
            buf_printf(&b, "\"description\":\"desc %d\",", s);
        buf_printf(&b, "\"priority\":%d,\"start\":\"00:%02d:%02d.5\",\"end\":\"00:%02d:%02d\",",
                   (s * 7) % 5, s, 10, s, 40);
        if (s % 2)
            buf_puts(&b, "\"duration\":29.5,");
        buf_printf(&b, "\"hook_category\":\"%s\"}", cats[s % 3]);
    }
    buf_puts(&b, "]}");
    return buf_take(&b);
}

static void make_dataset(void)
{
    char key[256];
    for (int u = 0; u < NUSERS; u++)
        for (int v = 0; v < NVIDEOS; v++) {
            if (!(u == 1 && v == 5)) { /* u1/v05 has no highlights.json */
                snprintf(key, sizeof key, "u%d/v%02d/highlights.json", u, v);
                add(key, 0, highlights_json(u, v), "application/json");
            }
            for (int s = 0; s < NSCENES; s++)
                for (int st = 0; st < 2; st++) {
                    snprintf(key, sizeof key, "u%d/v%02d/clips/clip_%d_%s.mp4", u, v, s,
                             styles[st]);
                    add(key, 100 + (size_t)s * 10 + (size_t)st, NULL, "video/mp4");
                    if (st == 0 && (s + v) % 7 == 0)
                        continue; /* missing thumbnail */
                    snprintf(key, sizeof key, "u%d/v%02d/thumbnails/clip_%d_%s.jpg", u, v, s,
                             styles[st]);
                    add(key, 10, NULL, "image/jpeg");
                }
            if (v == 0) {
                static const char *const broken[] = {
                    "clip__vertical.mp4",      "clip_1_UPPER.mp4",
                    "clip_3_vertical (1).mp4", "clip_2_v\xc3\xa9rtical.mp4",
                    "clip_1_vertical.mp4.bak", "clip_4_a+b%2F.mp4",
                    "clip_-1_x.mp4",
                };
                for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
                    snprintf(key, sizeof key, "u%d/v00/clips/%s", u, broken[i]);
                    add(key, 5, NULL, "video/mp4");
                }
            }
        }
    /* a video folder whose name is not an id */
    add("u2/bad video/highlights.json", 0, highlights_json(2, 99), "application/json");
    add("u2/bad video/clips/clip_1_vertical.mp4", 7, NULL, "video/mp4");
}

static int upload_all(void)
{
    pid_t pids[UPLOADERS];
    for (int w = 0; w < UPLOADERS; w++) {
        pids[w] = fork();
        if (pids[w] < 0)
            return -1;
        if (pids[w] == 0) {
            char *xs = malloc(4096);
            memset(xs, 'x', 4096);
            int rc = 0;
            for (size_t i = (size_t)w; i < nobjs && rc == 0; i += UPLOADERS)
                rc = fullstack_s3_put(&F, objs[i].key, objs[i].body ? objs[i].body : xs,
                                      objs[i].size, objs[i].type);
            free(xs);
            _exit(rc ? 1 : 0);
        }
    }
    int ok = 1;
    for (int w = 0; w < UPLOADERS; w++) {
        int st = 0;
        waitpid(pids[w], &st, 0);
        ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    return ok ? 0 : -1;
}

/* ---- helpers -------------------------------------------------------------------------------- */

/* Runs clipctl with args; stdout (and stderr) into out; returns the exit status. */
static int run(const char *args, buf_t *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' --config '%s' %s 2>&1", clipctl, conf, args);
    int rc = tp_run_shell(cmd, out);
    /* the sanitizer build: any report fails the test */
    CU_ASSERT_FALSE(out->p && (strstr(out->p, "Sanitizer") || strstr(out->p, "runtime error")));
    return rc;
}

/* The value of a "name: value" line of out, or -1. */
static long long line_value(const buf_t *out, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s: ", name);
    const char *p = out->p ? strstr(out->p, pat) : NULL;
    if (!p && out->p && strncmp(out->p, pat + 1, strlen(pat + 1)) == 0)
        p = out->p - 1;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static int has(const buf_t *out, const char *needle)
{
    int ok = out->p && strstr(out->p, needle) != NULL;
    if (!ok)
        fprintf(stderr, "output lacks '%s':\n%.4000s\n", needle, out->p ? out->p : "");
    return ok;
}

/* Every video and clip document, one "name<TAB>fields" line each in name order, without the
 * server-set updated_at. */
static void snapshot(buf_t *out)
{
    buf_reset(out);
    char err[256];
    fs_client *fs = NULL;
    CU_ASSERT_EQUAL_FATAL(fs_client_new(F.cfg, &fs, err, sizeof err), CLIP_OK);
    static const char *const colls[] = {"videos", "clips"};
    for (int c = 0; c < 2; c++) {
        fs_value after;
        for (int page = 0; page < 100; page++) {
            arena_t a;
            arena_init(&a, 0);
            fs_order order = {"__name__", 0};
            fs_query q = {.collection = colls[c],
                          .all_descendants = 1,
                          .order = &order,
                          .norder = 1,
                          .limit = 1000};
            if (page) {
                q.start_values = &after;
                q.nstart = 1;
            }
            fs_doc *docs = NULL;
            size_t n = 0;
            CU_ASSERT_EQUAL_FATAL(fs_run_query(fs, &a, "", &q, &docs, &n, err, sizeof err),
                                  CLIP_OK);
            for (size_t i = 0; i < n; i++) {
                fs_value m = fs_map();
                for (size_t k = 0; k < docs[i].fields.u.map.n; k++) {
                    const fs_field *f = &docs[i].fields.u.map.fields[k];
                    if (strcmp(f->key, "updated_at") != 0)
                        fs_map_putn(&a, &m, f->key, f->key_len, f->value);
                }
                buf_printf(out, "%s\t", docs[i].name);
                fs_fields_encode(out, &m);
                buf_putc(out, '\n');
            }
            int more = n == 1000;
            char *last = more ? strdup(docs[n - 1].name) : NULL;
            arena_free(&a);
            if (!more)
                break;
            static char keep[1024];
            snprintf(keep, sizeof keep, "%s", last);
            free(last);
            after = fs_ref(keep);
        }
    }
    fs_client_free(fs);
}

static size_t count_lines(const buf_t *b, const char *needle)
{
    size_t n = 0;
    for (const char *p = b->p; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_dry_run_writes_nothing(void)
{
    buf_t out = BUF_INIT, snap = BUF_INIT;
    int rc = run("migrate --all --dry-run", &out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(has(&out, "result: dry run, nothing written"));
    CU_ASSERT_EQUAL(line_value(&out, "videos"), NUSERS * NVIDEOS);
    CU_ASSERT_EQUAL(line_value(&out, "videos_created"), NUSERS * NVIDEOS);
    CU_ASSERT_EQUAL(line_value(&out, "clips"), NCLIPS);
    CU_ASSERT_EQUAL(line_value(&out, "clips_written"), NCLIPS);
    CU_ASSERT_EQUAL(line_value(&out, "writes"), NCLIPS + NUSERS * NVIDEOS);
    /* cross-video batches: ceil(1860 / 500) */
    CU_ASSERT_EQUAL(line_value(&out, "commits"), 4);
    /* the report: 7 broken names in v00 of each user, the missing highlights.json, the bad folder
     */
    CU_ASSERT_TRUE(has(&out, "issues: bad_name=21 no_highlights=1 no_thumbnail=129 bad_id=1\n"));
    CU_ASSERT_TRUE(has(&out, "issue: bad_name u0/v00/clips/clip__vertical.mp4: no scene id\n"));
    CU_ASSERT_TRUE(has(&out, "issue: bad_name u1/v00/clips/clip_3_vertical (1).mp4: style is not "
                             "1-64 bytes of [a-z0-9-]\n"));
    CU_ASSERT_TRUE(has(&out, "issue: bad_name u2/v00/clips/clip_-1_x.mp4: no scene id\n"));
    CU_ASSERT_TRUE(has(&out, "issue: no_highlights u1/v05/highlights.json: missing\n"));
    CU_ASSERT_TRUE(has(&out, "issue: bad_id u2/bad video/: folder name is not"));
    /* not a terminal: plain progress lines, the last one complete */
    CU_ASSERT_TRUE(has(&out, "migrate: 60/60 videos, 1800 clips (1800 to write), 4 commits, "));
    /* on a terminal (script(1) gives it one): a bar redrawn in place */
    char cmd[1600];
    snprintf(cmd, sizeof cmd,
             "script -qec \"'%s' --config '%s' migrate --user u0 --dry-run\" /dev/null", clipctl,
             conf);
    buf_reset(&out);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(&out, chunk, n);
    CU_ASSERT_EQUAL(pclose(p), 0);
    CU_ASSERT_TRUE(
        has(&out, "\r[##############################] 20/20 videos  600 clips  2 commits  "));
    CU_ASSERT_FALSE(out.p && strstr(out.p, "migrate: 20/20"));
    snapshot(&snap);
    CU_ASSERT_EQUAL(snap.len, 0);
    buf_free(&out);
    buf_free(&snap);
}

static long long count_clips_stored(void)
{
    char err[256];
    fs_client *fs = NULL;
    if (fs_client_new(F.cfg, &fs, err, sizeof err) != CLIP_OK)
        return -1;
    arena_t a;
    arena_init(&a, 0);
    fs_query q = {.collection = "clips", .all_descendants = 1};
    fs_aggregation cnt = {FS_AGG_COUNT, NULL, {0}};
    long long n = fs_run_aggregation(fs, &a, "", &q, &cnt, 1, err, sizeof err) == CLIP_OK
                      ? cnt.result.u.i
                      : -1;
    arena_free(&a);
    fs_client_free(fs);
    return n;
}

static buf_t reference; /* the documents after an uninterrupted run */

static void test_killed_run_completes_identically(void)
{
    /* first the reference: one uninterrupted run */
    buf_t out = BUF_INIT, snap = BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(run("migrate --all", &out), 0);
    CU_ASSERT_TRUE(has(&out, "result: migrated\n"));
    CU_ASSERT_EQUAL(line_value(&out, "videos_created"), NUSERS * NVIDEOS);
    CU_ASSERT_EQUAL(line_value(&out, "clips_written"), NCLIPS);
    CU_ASSERT_EQUAL(line_value(&out, "videos_failed"), 0);
    snapshot(&reference);
    CU_ASSERT_EQUAL(count_lines(&reference, "\n"), NCLIPS + NUSERS * NVIDEOS);

    /* then from scratch: killed (SIGKILL, its whole process group) once some commits are in */
    CU_ASSERT_EQUAL_FATAL(fullstack_fs_reset(&F), 0);
    tp_proc p;
    char *argv[] = {clipctl, "--config", conf, "migrate", "--all", "--concurrency", "2", NULL};
    CU_ASSERT_EQUAL_FATAL(tp_start(&p, "migrate-killed", argv, NULL, NULL, 0), 0);
    long long stored = 0;
    for (int i = 0; i < 3000 && stored < 1; i++) {
        usleep(5000);
        stored = count_clips_stored();
    }
    kill(-p.pid, SIGKILL);
    int st = tp_wait_exit(&p, 10000);
    usleep(300000); /* a commit the emulator had received whole is applied by now */
    CU_ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    long long partial = count_clips_stored();
    fprintf(stderr, "killed with %lld of %d clips stored\n", partial, NCLIPS);
    CU_ASSERT_TRUE(partial >= 1 && partial < NCLIPS);

    /* the next run completes it: only what is missing is written */
    CU_ASSERT_EQUAL(run("migrate --all --concurrency 3", &out), 0);
    CU_ASSERT_TRUE(has(&out, "result: migrated\n"));
    CU_ASSERT_EQUAL(line_value(&out, "clips_written"), NCLIPS - partial);
    snapshot(&snap);
    CU_ASSERT_EQUAL(snap.len, reference.len);
    CU_ASSERT_TRUE(snap.len == reference.len && memcmp(snap.p, reference.p, snap.len) == 0);
    buf_free(&out);
    buf_free(&snap);
}

static void test_second_run_has_nothing_to_do(void)
{
    buf_t out = BUF_INIT;
    CU_ASSERT_EQUAL(run("migrate --all", &out), 0);
    CU_ASSERT_TRUE(
        has(&out, "result: nothing to do, Firestore already matches the legacy layout\n"));
    CU_ASSERT_EQUAL(line_value(&out, "videos"), NUSERS * NVIDEOS);
    CU_ASSERT_EQUAL(line_value(&out, "videos_unchanged"), NUSERS * NVIDEOS);
    CU_ASSERT_EQUAL(line_value(&out, "clips_unchanged"), NCLIPS);
    CU_ASSERT_EQUAL(line_value(&out, "writes"), 0);
    CU_ASSERT_EQUAL(line_value(&out, "commits"), 0);
    /* one video, one user: the same */
    CU_ASSERT_EQUAL(run("migrate --user u1 --video v05", &out), 0);
    CU_ASSERT_TRUE(has(&out, "result: nothing to do"));
    CU_ASSERT_EQUAL(line_value(&out, "clips"), 30);
    buf_free(&out);
}

static void test_verify(void)
{
    buf_t out = BUF_INIT;
    CU_ASSERT_EQUAL(run("verify --all", &out), 0);
    CU_ASSERT_TRUE(has(&out, "videos: 60\ndifferences: 0\n"));
    CU_ASSERT_TRUE(has(&out, "result: identical\n"));
    CU_ASSERT_EQUAL(run("verify --user u0", &out), 0);
    CU_ASSERT_EQUAL(run("verify --user u0 --video v03", &out), 0);
    CU_ASSERT_TRUE(has(&out, "videos: 1\ndifferences: 0\n"));

    /* a changed size and a clip Firestore has but R2 lacks: both printed, exit 1 */
    char err[256];
    fs_client *fs = NULL;
    CU_ASSERT_EQUAL_FATAL(fs_client_new(F.cfg, &fs, err, sizeof err), CLIP_OK);
    arena_t a;
    arena_init(&a, 0);
    fs_value f = fs_map();
    fs_map_put(&a, &f, "file_size_bytes", fs_int(999));
    const char *mask[] = {"file_size_bytes"};
    fs_value g = fs_map();
    fs_map_put(&a, &g, "clip_id", fs_str("clip_77_vertical"));
    fs_write w[] = {
        {.path = "users/u0/videos/v03/clips/clip_2_square",
         .fields = &f,
         .mask = mask,
         .nmask = 1,
         .use_mask = 1},
        {.path = "users/u0/videos/v03/clips/clip_77_vertical", .fields = &g},
    };
    CU_ASSERT_EQUAL_FATAL(fs_commit(fs, &a, w, 2, NULL, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(run("verify --user u0 --video v03", &out), 1);
    CU_ASSERT_TRUE(has(
        &out,
        "diff: users/u0/videos/v03/clips/clip_2_square file_size_bytes: r2=121 firestore=999\n"));
    CU_ASSERT_TRUE(has(&out, "diff: users/u0/videos/v03/clips/clip_77_vertical document: "
                             "r2=(missing) firestore=present\n"));
    CU_ASSERT_TRUE(has(&out, "differences: 2\n"));
    CU_ASSERT_EQUAL(run("verify --all", &out), 1);
    /* migrate repairs the changed clip (it never deletes the extra one) */
    CU_ASSERT_EQUAL(run("migrate --user u0 --video v03", &out), 0);
    CU_ASSERT_EQUAL(line_value(&out, "clips_written"), 1);
    fs_write del = {.is_delete = 1, .path = "users/u0/videos/v03/clips/clip_77_vertical"};
    CU_ASSERT_EQUAL(fs_commit(fs, &a, &del, 1, NULL, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(run("verify --user u0 --video v03", &out), 0);
    arena_free(&a);
    fs_client_free(fs);

    /* bad usage */
    CU_ASSERT_EQUAL(run("verify", &out), 2);
    CU_ASSERT_EQUAL(run("migrate --video v1", &out), 2);
    CU_ASSERT_EQUAL(run("migrate --all --concurrency 0", &out), 2);
    buf_free(&out);
}

/* GET /api/videos/{vid} as uid: the body with "source" and "updated_at" taken out and the
 * thumbnails' query strings cut (a presign window may turn between the two phases). */
static char *video_json(const char *uid, const char *vid, long *status, const char **source)
{
    char auth[4096], path[256];
    fullstack_auth_header(&F, uid, auth, sizeof auth);
    snprintf(path, sizeof path, "/api/videos/%s", vid);
    char *hdrs[] = {auth, NULL};
    tp_http_resp r;
    *status = -1;
    if (stack_http(&F.st, "GET", path, hdrs, NULL, 0, &r) != 0) {
        tp_http_free(&r);
        return NULL;
    }
    *status = r.status;
    json_object *j = tj_parse(r.body);
    tp_http_free(&r);
    if (!j)
        return NULL;
    static char src[16];
    json_object *s = NULL;
    snprintf(src, sizeof src, "%s",
             json_object_object_get_ex(j, "source", &s) ? json_object_get_string(s) : "");
    *source = src;
    json_object_object_del(j, "source");
    json_object_object_del(j, "updated_at");
    json_object *clips = NULL;
    if (json_object_object_get_ex(j, "clips", &clips))
        for (size_t i = 0; i < json_object_array_length(clips); i++) {
            json_object *c = json_object_array_get_idx(clips, i), *t = NULL;
            if (json_object_object_get_ex(c, "thumbnail", &t) &&
                json_object_is_type(t, json_type_string)) {
                char cut[1024];
                snprintf(cut, sizeof cut, "%s", json_object_get_string(t));
                char *q = strchr(cut, '?');
                if (q)
                    *q = '\0';
                json_object_object_add(c, "thumbnail", json_object_new_string(cut));
            }
        }
    char *out = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
    json_object_put(j);
    return out;
}

static long long metric(const char *name);

/* GET path as uid: status and body (owned). */
static char *get_raw(const char *uid, const char *path, long *status)
{
    char auth[4096];
    fullstack_auth_header(&F, uid, auth, sizeof auth);
    char *hdrs[] = {auth, NULL};
    tp_http_resp r;
    *status = -1;
    char *body = NULL;
    if (stack_http(&F.st, "GET", path, hdrs, NULL, 0, &r) == 0) {
        *status = r.status;
        body = r.body ? strdup(r.body) : NULL;
    }
    tp_http_free(&r);
    return body;
}

/* The "clips" array of a clip list answer with thumbnails' query strings cut, and its cursor. */
static char *clips_of(const char *body, char *cursor, size_t cursor_len)
{
    json_object *j = body ? tj_parse(body) : NULL, *clips = NULL, *nc = NULL;
    cursor[0] = '\0';
    if (!j || !json_object_object_get_ex(j, "clips", &clips)) {
        json_object_put(j);
        return NULL;
    }
    if (json_object_object_get_ex(j, "next_cursor", &nc) && nc)
        snprintf(cursor, cursor_len, "%s", json_object_get_string(nc));
    for (size_t i = 0; i < json_object_array_length(clips); i++) {
        json_object *c = json_object_array_get_idx(clips, i), *t = NULL;
        if (json_object_object_get_ex(c, "thumbnail", &t) &&
            json_object_is_type(t, json_type_string)) {
            char cut[1024];
            snprintf(cut, sizeof cut, "%s", json_object_get_string(t));
            char *q = strchr(cut, '?');
            if (q)
                *q = '\0';
            json_object_object_add(c, "thumbnail", json_object_new_string(cut));
        }
    }
    char *out = strdup(json_object_to_json_string_ext(clips, JSON_C_TO_STRING_PLAIN));
    json_object_put(j);
    return out;
}

/* Two pages of u0/v03's square clips (limit 4), the second by the first's cursor; and a link. */
static void clip_reads(char **page1, char **page2, long *link_status, char *link, size_t link_len)
{
    long st;
    char cursor[2048], path[2300];
    char *b = get_raw("u0", "/api/videos/v03/clips?style=square&limit=4", &st);
    CU_ASSERT_EQUAL(st, 200);
    *page1 = clips_of(b, cursor, sizeof cursor);
    free(b);
    CU_ASSERT_TRUE(cursor[0] != '\0');
    snprintf(path, sizeof path, "/api/videos/v03/clips?style=square&limit=4&cursor=%s", cursor);
    b = get_raw("u0", path, &st);
    CU_ASSERT_EQUAL(st, 200);
    *page2 = clips_of(b, cursor, sizeof cursor);
    free(b);
    b = get_raw("u0", "/api/videos/v03/clips/clip_2_square.mp4?redirect=0", link_status);
    json_object *j = b ? tj_parse(b) : NULL, *u = NULL;
    link[0] = '\0';
    if (j && json_object_object_get_ex(j, "url", &u)) {
        snprintf(link, link_len, "%s", json_object_get_string(u));
        char *q = strchr(link, '?');
        if (q)
            *q = '\0';
    }
    json_object_put(j);
    free(b);
}

/* Every video of GET /api/videos for uid, pages of 7 by cursor, updated_at taken out of each;
 * *pages gets the number of pages. */
static char *video_list(const char *uid, int *pages)
{
    json_object *all = json_object_new_array();
    char cursor[2048] = "", path[2300];
    *pages = 0;
    for (int i = 0; i < 20; i++) {
        long st;
        snprintf(path, sizeof path, "/api/videos?limit=7%s%s", cursor[0] ? "&cursor=" : "", cursor);
        char *b = get_raw(uid, path, &st);
        json_object *j = b && st == 200 ? tj_parse(b) : NULL, *vs = NULL, *nc = NULL;
        free(b);
        if (!j || !json_object_object_get_ex(j, "videos", &vs)) {
            json_object_put(j);
            break;
        }
        (*pages)++;
        for (size_t k = 0; k < json_object_array_length(vs); k++) {
            json_object *v = json_object_get(json_object_array_get_idx(vs, k));
            json_object_object_del(v, "updated_at");
            json_object_array_add(all, v);
        }
        cursor[0] = '\0';
        if (json_object_object_get_ex(j, "next_cursor", &nc) && nc)
            snprintf(cursor, sizeof cursor, "%s", json_object_get_string(nc));
        json_object_put(j);
        if (!cursor[0])
            break;
    }
    char *out = strdup(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN));
    json_object_put(all);
    return out;
}

static void test_api_same_in_both_phases(void)
{
    char *r2[NUSERS * NVIDEOS];
    long st;
    const char *src;
    /* the stack started in phase r2 */
    for (int u = 0; u < NUSERS; u++)
        for (int v = 0; v < NVIDEOS; v++) {
            char uid[16], vid[16];
            snprintf(uid, sizeof uid, "u%d", u);
            snprintf(vid, sizeof vid, "v%02d", v);
            r2[u * NVIDEOS + v] = video_json(uid, vid, &st, &src);
            CU_ASSERT_EQUAL(st, 200);
            UNIT_ASSERT_STR(src, "r2");
        }
    /* one answer field by field: the join is what the API shows */
    json_object *j = tj_parse(r2[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_object *clips = NULL, *c0 = NULL, *x = NULL;
    CU_ASSERT_TRUE(json_object_object_get_ex(j, "clips", &clips));
    CU_ASSERT_EQUAL(json_object_array_length(clips), 30);
    c0 = json_object_array_get_idx(clips, 0);
    UNIT_ASSERT_STR(json_object_get_string(json_object_object_get(c0, "name")),
                    "clip_0_square.mp4");
    UNIT_ASSERT_STR(json_object_get_string(json_object_object_get(c0, "description")), "");
    UNIT_ASSERT_STR(json_object_get_string(json_object_object_get(c0, "start_time")), "00:00:10.5");
    UNIT_ASSERT_STR(json_object_get_string(json_object_object_get(c0, "end_time")), "00:00:40");
    CU_ASSERT_EQUAL(json_object_get_double(json_object_object_get(c0, "duration_seconds")), 29.5);
    CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(c0, "priority")), 0);
    UNIT_ASSERT_STR(json_object_get_string(json_object_object_get(c0, "status")), "completed");
    UNIT_ASSERT_STR(json_object_get_string(json_object_object_get(c0, "url")),
                    "/api/videos/v00/clips/clip_0_square.mp4");
    CU_ASSERT_TRUE(strstr(json_object_get_string(json_object_object_get(c0, "thumbnail")),
                          "/clips/u0/v00/thumbnails/clip_0_square.jpg") != NULL);
    UNIT_ASSERT_STR(json_object_get_string(json_object_object_get(c0, "title")), "Scene 0 of v00");
    CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(c0, "size_bytes")), 101);
    CU_ASSERT_TRUE(json_object_object_get_ex(j, "clip_stats", &x));
    CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(x, "total")), 30);
    UNIT_ASSERT_STR(json_object_get_string(json_object_object_get(j, "title")),
                    "Video u0 v00 \xc3\xa9 \"q\"");
    CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(j, "highlights_count")), NSCENES);
    json_object_put(j);
    /* the 7 unparseable names of each user's v00 were reported: counted once per read */
    CU_ASSERT_EQUAL(metric("clipapi_legacy_bad_names_total"), 21);
    CU_ASSERT_EQUAL(tp_wait_log(&F.st.pool, "\"event\":\"legacy_issue\"", 3000), 0);
    CU_ASSERT_EQUAL(metric("clipapi_fallbacks_total"), 0); /* phase r2 is not a fallback */
    int r2pages = 0, fspages = 0;
    char *r2list = video_list("u1", &r2pages);
    CU_ASSERT_EQUAL(r2pages, 3);
    CU_ASSERT_TRUE(r2list && strstr(r2list, "\"id\":\"v05\",\"title\":\"\""));
    char *r2p1, *r2p2, r2link[1200];
    long r2ls;
    clip_reads(&r2p1, &r2p2, &r2ls, r2link, sizeof r2link);
    CU_ASSERT_EQUAL(r2ls, 200);
    char want[256];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/clips/u0/v03/clips/clip_2_square.mp4",
             F.s3_port);
    UNIT_ASSERT_STR(r2link, want);

    CU_ASSERT_EQUAL_FATAL(fullstack_restart_pool(&F, 2, "metadata_source = firestore"), 0);
    size_t same = 0;
    for (int u = 0; u < NUSERS; u++)
        for (int v = 0; v < NVIDEOS; v++) {
            char uid[16], vid[16];
            snprintf(uid, sizeof uid, "u%d", u);
            snprintf(vid, sizeof vid, "v%02d", v);
            char *fsj = video_json(uid, vid, &st, &src);
            CU_ASSERT_EQUAL(st, 200);
            UNIT_ASSERT_STR(src, "firestore");
            char *r = r2[u * NVIDEOS + v];
            if (r && fsj && strcmp(r, fsj) == 0)
                same++;
            else
                fprintf(stderr, "%s/%s differs:\n r2: %.3000s\n fs: %.3000s\n", uid, vid,
                        r ? r : "", fsj ? fsj : "");
            free(fsj);
            free(r);
        }
    CU_ASSERT_EQUAL(same, NUSERS * NVIDEOS);
    /* clip lists and links: the same in both phases too */
    char *fsp1, *fsp2, fslink[1200];
    long fsls;
    clip_reads(&fsp1, &fsp2, &fsls, fslink, sizeof fslink);
    CU_ASSERT_EQUAL(fsls, 200);
    UNIT_ASSERT_STR(fsp1, r2p1);
    UNIT_ASSERT_STR(fsp2, r2p2);
    UNIT_ASSERT_STR(fslink, r2link);
    /* the video list: the same 20 videos in the same order (newest first), the same fields */
    char *fslist = video_list("u1", &fspages);
    CU_ASSERT_EQUAL(fspages, 3);
    UNIT_ASSERT_STR(fslist, r2list);
    free(r2list);
    free(fslist);
    CU_ASSERT_TRUE(r2p1 && strstr(r2p1, "\"name\":\"clip_0_square.mp4\""));
    free(r2p1);
    free(r2p2);
    free(fsp1);
    free(fsp2);
}

static long long metric(const char *name)
{
    return stack_metric(&F.st, name);
}

static long long fallbacks(void)
{
    return metric("clipapi_fallbacks_total");
}

static void test_fallback_phase(void)
{
    /* a legacy video that was never migrated */
    static const char late[] =
        "{\"video_title\":\"Late\",\"highlights\":[{\"id\":1,\"title\":\"One\"}]}";
    CU_ASSERT_EQUAL_FATAL(
        fullstack_s3_put(&F, "u0/late/highlights.json", late, sizeof late - 1, "application/json"),
        0);
    CU_ASSERT_EQUAL_FATAL(
        fullstack_s3_put(&F, "u0/late/clips/clip_1_vertical.mp4", "MP4", 3, "video/mp4"), 0);
    long st;
    const char *src;
    /* phase firestore never reads the legacy layout */
    char *j = video_json("u0", "late", &st, &src);
    CU_ASSERT_EQUAL(st, 404);
    free(j);
    /* to phase firestore+r2 by SIGHUP: the master re-reads the file and replaces its workers; the
     * requests sent meanwhile all get their answer (a migrated video: 200 throughout) */
    long long before = fallbacks();
    CU_ASSERT_EQUAL(before, 0);
    FILE *cf = fopen(F.st.conf, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
    char text[8192];
    size_t tn = fread(text, 1, sizeof text - 1, cf);
    fclose(cf);
    text[tn] = '\0';
    char *ms = strstr(text, "metadata_source = firestore\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ms);
    memmove(ms + strlen("metadata_source = firestore+r2"),
            ms + strlen("metadata_source = firestore"),
            strlen(ms + strlen("metadata_source = firestore")) + 1);
    memcpy(ms, "metadata_source = firestore+r2", strlen("metadata_source = firestore+r2"));
    CU_ASSERT_EQUAL_FATAL(tp_write_file(F.st.conf, text), 0);
    CU_ASSERT_EQUAL_FATAL(kill(F.st.pool.pid, SIGHUP), 0);
    int switched = 0, ok = 0, tries = 0;
    for (; tries < 200 && !switched; tries++) {
        j = video_json("u0", "v01", &st, &src);
        ok += st == 200;
        free(j);
        j = video_json("u0", "late", &st, &src);
        switched = st == 200;
        CU_ASSERT_TRUE(st == 200 || st == 404);
        if (st == 200) {
            UNIT_ASSERT_STR(src, "r2");
            CU_ASSERT_TRUE(j && strstr(j, "\"name\":\"clip_1_vertical.mp4\",\"title\":\"One\""));
        }
        free(j);
        if (!switched)
            usleep(25000);
    }
    CU_ASSERT_TRUE(switched);
    CU_ASSERT_EQUAL(ok, tries);
    CU_ASSERT_EQUAL(fallbacks(), before + 1);
    CU_ASSERT_EQUAL(tp_wait_log(&F.st.pool, "\"event\":\"fallback\",\"request_id\":", 3000), 0);
    CU_ASSERT_EQUAL(
        tp_wait_log(&F.st.pool,
                    "\"uid\":\"u0\",\"video_id\":\"late\",\"read\":\"video\",\"source\":\"r2\"",
                    3000),
        0);
    /* a migrated video is answered by Firestore, no fallback */
    j = video_json("u0", "v01", &st, &src);
    CU_ASSERT_EQUAL(st, 200);
    UNIT_ASSERT_STR(src, "firestore");
    free(j);
    /* in neither place: 404, not counted */
    j = video_json("u0", "nowhere", &st, &src);
    CU_ASSERT_EQUAL(st, 404);
    free(j);
    /* another user's legacy video is a 404 too */
    j = video_json("u1", "late", &st, &src);
    CU_ASSERT_EQUAL(st, 404);
    free(j);
    CU_ASSERT_EQUAL(fallbacks(), before + 1);
    /* the clip list and the clip link fall back the same way, each counted */
    char *b = get_raw("u0", "/api/videos/late/clips", &st);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT_TRUE(b &&
                   strstr(b, "{\"clips\":[{\"name\":\"clip_1_vertical.mp4\",\"title\":\"One\""));
    CU_ASSERT_TRUE(b && strstr(b, "],\"next_cursor\":null}"));
    free(b);
    b = get_raw("u0", "/api/videos/late/clips/clip_1_vertical.mp4?redirect=0", &st);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT_TRUE(b && strstr(b, "/clips/u0/late/clips/clip_1_vertical.mp4?X-Amz-Algorithm="));
    free(b);
    b = get_raw("u0", "/api/videos/late/clips/clip_2_vertical.mp4", &st);
    CU_ASSERT_EQUAL(st, 404);
    free(b);
    CU_ASSERT_EQUAL(fallbacks(), before + 3);
}

static int init(void)
{
    if (fullstack_start(&F, "migration", 2, "metadata_source = r2") != 0)
        return 1;
    snprintf(conf, sizeof conf, "%s/clipctl.conf", F.dir);
    snprintf(clipctl, sizeof clipctl, "%s/san/clipctl", tp_build());
    if (tp_write_file(conf, F.conf_text) != 0)
        return 1;
    make_dataset();
    double t0 = (double)time(NULL);
    if (upload_all() != 0)
        return 1;
    fprintf(stderr, "uploaded %zu objects in %.0f s\n", nobjs, (double)time(NULL) - t0);
    return 0;
}

static int cleanup(void)
{
    fullstack_stop(&F);
    for (size_t i = 0; i < nobjs; i++)
        free(objs[i].body);
    free(objs);
    buf_free(&reference);
    return 0;
}

int main(void)
{
    CU_TestInfo tests[] = {
        UNIT_TEST(test_dry_run_writes_nothing),
        UNIT_TEST(test_killed_run_completes_identically),
        UNIT_TEST(test_second_run_has_nothing_to_do),
        UNIT_TEST(test_verify),
        UNIT_TEST(test_api_same_in_both_phases),
        UNIT_TEST(test_fallback_phase),
        CU_TEST_INFO_NULL,
    };
    return unit_run("migration", tests, init, cleanup);
}
