/* fs_bench: the Firestore figures of `make bench`: runQuery documents decoded per second, and the
 * peak memory of listing 5,000 clips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clips.h"
#include "firestore.h"
#include "http.h"

#define BENCH_UID "bench"
#define BENCH_VID "vbench"
#define BENCH_DECODE_SECONDS 2.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static fs_client *client(const char *host)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.firestore_project = "demo-clip";
    c.firestore_emulator_host = (char *)host;
    c.firestore_timeout_ms = 30000;
    fs_client *fs = NULL;
    char err[256];
    if (http_global_init() != CLIP_OK || fs_client_new(&c, &fs, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "fs_bench: %s\n", err);
        return NULL;
    }
    return fs;
}

/* Writes n clips shaped like the workflow's into the bench video, 500 per commit. */
static int load(const char *host, int n)
{
    fs_client *fs = client(host);
    if (!fs)
        return 1;
    static const char *const styles[] = {"vertical", "square", "wide"};
    static const char *const statuses[] = {"completed", "completed", "completed", "failed",
                                           "pending"};
    arena_t a;
    arena_init(&a, 0);
    fs_write *ws = arena_calloc(&a, FS_COMMIT_WRITES_MAX, sizeof *ws);
    int nw = 0, rc = 0;
    char err[512];
    for (int i = 0; i < n && rc == 0; i++) {
        char id[64], fn[80], title[64];
        snprintf(id, sizeof id, "clip_%d_%s", i / 3, styles[i % 3]);
        snprintf(fn, sizeof fn, "%s.mp4", id);
        snprintf(title, sizeof title, "Scene %d: the moment it all changed", i / 3);
        clip_create_input in = {.filename = arena_strdup(&a, fn),
                       .scene_id = i / 3,
                       .scene_title = arena_strdup(&a, title),
                       .scene_description = "A speaker explains why the plan failed, with a joke.",
                       .style = styles[i % 3],
                       .start_time = "00:01:02.500",
                       .end_time = "00:01:31",
                       .has_priority = 1,
                       .priority = i % 10,
                       .status = statuses[i % 5],
                       .file_size_bytes = 12897484 + i,
                       .has_thumbnail = 1};
        if (clips_create_write(&a, BENCH_UID, BENCH_VID, arena_strdup(&a, id), &in, 0, &ws[nw], err,
                               sizeof err) != CLIP_OK) {
            fprintf(stderr, "fs_bench: %s\n", err);
            rc = 1;
            break;
        }
        if (++nw == FS_COMMIT_WRITES_MAX || i == n - 1) {
            if (fs_commit(fs, &a, ws, (size_t)nw, NULL, err, sizeof err) != CLIP_OK) {
                fprintf(stderr, "fs_bench: commit: %s\n", err);
                rc = 1;
            }
            nw = 0;
        }
    }
    arena_free(&a);
    fs_client_free(fs);
    http_global_cleanup();
    return rc;
}

/* Records the raw answer of one runQuery of n clips (what the list code receives) to path. */
static int record(const char *host, int n, const char *path)
{
    char url[512], body[512];
    snprintf(url, sizeof url,
             "http://%s/v1/projects/demo-clip/databases/(default)/documents/users/" BENCH_UID
             "/videos/" BENCH_VID ":runQuery",
             host);
    snprintf(body, sizeof body,
             "{\"structuredQuery\":{\"from\":[{\"collectionId\":\"clips\"}],\"orderBy\":["
             "{\"field\":{\"fieldPath\":\"priority\"}},{\"field\":{\"fieldPath\":\"scene_id\"}},"
             "{\"field\":{\"fieldPath\":\"style\"}}],\"limit\":%d}}",
             n);
    const char *hdrs[] = {"Authorization: Bearer owner", "Content-Type: application/json"};
    http_req req = {.method = "POST",
                    .url = url,
                    .headers = hdrs,
                    .nheaders = 2,
                    .body = body,
                    .body_len = strlen(body),
                    .deadline_ms = 30000,
                    .max_response = FS_RESPONSE_MAX,
                    .retry = HTTP_RETRY_IDEMPOTENT};
    http_resp resp;
    char err[256];
    if (http_global_init() != CLIP_OK || http_do(&req, &resp, err, sizeof err) != CLIP_OK ||
        resp.status != 200) {
        fprintf(stderr, "fs_bench: record failed (status %ld)\n", resp.status);
        http_resp_free(&resp);
        return 1;
    }
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(resp.body.p, 1, resp.body.len, f) == resp.body.len;
    if (f)
        fclose(f);
    http_resp_free(&resp);
    http_global_cleanup();
    return ok ? 0 : 1;
}

/* Decodes the recorded answer again and again, as fs_run_query + clips_list do per request. */
static int decode(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 1;
    buf_t b = BUF_INIT;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, got);
    fclose(f);
    arena_t a;
    arena_init(&a, 0);
    double t0 = now_s(), t = t0;
    long docs = 0, rounds = 0;
    size_t per = 0;
    char err[256];
    while (t - t0 < BENCH_DECODE_SECONDS) {
        fs_doc *d;
        size_t n;
        if (fs_decode_query_response(&a, b.p, b.len, &d, &n, err, sizeof err) != CLIP_OK) {
            fprintf(stderr, "fs_bench: %s\n", err);
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            clip_rec c;
            clips_from_doc(&a, &d[i], &c, err, sizeof err);
        }
        per = n;
        docs += (long)n;
        rounds++;
        arena_reset(&a);
        t = now_s();
    }
    printf("fs_decode_docs_per_s: %.0f\n", (double)docs / (t - t0));
    fprintf(stderr, "fs_bench: %zu documents, %zu bytes per answer, %ld rounds\n", per, b.len,
            rounds);
    arena_free(&a);
    buf_free(&b);
    return per > 0 ? 0 : 1;
}

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* Lists every clip of the bench video page by page through clips_list, one arena per page as
 * a worker has one per request, and reports the peak resident set of the process. */
static int list(const char *host, long limit, int expect)
{
    fs_client *fs = client(host);
    if (!fs)
        return 1;
    arena_t a;
    arena_init(&a, 0);
    char *cursor = NULL;
    long total = 0;
    int pages = 0, rc = 0;
    char err[512];
    for (int guard = 0; guard < 10000; guard++) {
        clips_page p;
        if (clips_list(fs, &a, BENCH_UID, BENCH_VID, NULL, limit, cursor, &p, err, sizeof err) !=
            CLIP_OK) {
            fprintf(stderr, "fs_bench: %s\n", err);
            rc = 1;
            break;
        }
        total += (long)p.n;
        pages++;
        free(cursor);
        cursor = p.next_cursor ? strdup(p.next_cursor) : NULL;
        arena_reset(&a);
        if (!cursor)
            break;
    }
    free(cursor);
    printf("worker_peak_mib_list_%d: %.1f\n", expect, (double)vm_hwm_kib() / 1024.0);
    fprintf(stderr, "fs_bench: %ld clips in %d pages of %ld\n", total, pages, limit);
    arena_free(&a);
    fs_client_free(fs);
    http_global_cleanup();
    return rc == 0 && total == expect ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "load") == 0)
        return load(argv[2], atoi(argv[3]));
    if (argc == 5 && strcmp(argv[1], "record") == 0)
        return record(argv[2], atoi(argv[3]), argv[4]);
    if (argc == 3 && strcmp(argv[1], "decode") == 0)
        return decode(argv[2]);
    if (argc == 5 && strcmp(argv[1], "list") == 0)
        return list(argv[2], atol(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: fs_bench load HOST N | record HOST N FILE | decode FILE | list HOST "
                    "LIMIT EXPECT\n");
    return 2;
}
