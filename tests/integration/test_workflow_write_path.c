/* The workflow's write path through nginx over TLS: the five internal endpoints and the clipctl
 * commands, each checked by reading the documents back from the Firestore emulator's REST API
 * directly; idempotent creates, 50 concurrent status updates, statistics of 1,000 clips, every
 * validation error, 401 without a valid service key, 403 from a non-allowed address. */
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clips.h"
#include "firestore.h"
#include "fsemu_proc.h"
#include "http.h"
#include "stack.h"
#include "tjson.h"
#include "unit.h"

#define KEY1 "wf-key-one-0123456789abcdef"
#define KEY2 "wf-key-two-0123456789abcdef" /* a second valid key: rotation */
#define BUCKET "clips"
#define BODY_MAX 65536
#define NCONC 50
#define NSTATS 1000

static fsemu emu;
static tp_proc s3;
static int s3_port;
static char s3_dir[600];
static tstack st;
static fs_client *fs;
static int stack_up;

/* ---- set-up -----------------------------------------------------------------------------------
 */

static int start_s3(void)
{
    char serve[1024], portstr[16], mods[1100];
    snprintf(mods, sizeof mods, "%s/tests/emulators/s3/node_modules/@20minutes/s3rver", tp_top());
    if (access(mods, R_OK) != 0) {
        fprintf(stderr, "%s is missing: run `make deps`\n", mods);
        return -1;
    }
    if (tp_tempdir("wf-s3", s3_dir, sizeof s3_dir) != 0)
        return -1;
    snprintf(serve, sizeof serve, "%s/tests/emulators/s3/serve", tp_top());
    s3_port = tp_free_port();
    snprintf(portstr, sizeof portstr, "%d", s3_port);
    char *argv[] = {"node",  "--openssl-legacy-provider",
                    serve,   "--port",
                    portstr, "--directory",
                    s3_dir,  "--bucket",
                    BUCKET,  NULL};
    if (tp_start(&s3, "wf-s3rver", argv, NULL, "ready", 30000) != 0) {
        tp_dump_log(&s3, 30);
        return -1;
    }
    return 0;
}

static int clean(void);

static int init(void)
{
    if (http_global_init() != CLIP_OK)
        return 1;
    if (fsemu_start(&emu, "wf-fsemu", "firestore.indexes.json") != 0 || start_s3() != 0) {
        clean();
        return 1;
    }
    char dir[400], keys[600], extra[2048], err[256];
    if (tp_tempdir("wf-keys", dir, sizeof dir) != 0)
        return clean(), 1;
    snprintf(keys, sizeof keys, "%s/internal.keys", dir);
    if (tp_write_file(keys, "# service keys\n" KEY1 "\n\n" KEY2 "\n") != 0)
        return clean(), 1;
    snprintf(extra, sizeof extra,
             "request_body_max = %d\nfirestore_project = %s\nfirestore_emulator_host = %s\n"
             "r2_endpoint = http://127.0.0.1:%d\nr2_bucket = %s\nr2_access_key_id = S3RVER\n"
             "r2_secret_access_key = S3RVER\npresign_expires = 900\ninternal_keys_file = %s\n",
             BODY_MAX, emu.project, emu.host, s3_port, BUCKET, keys);
    if (stack_start(&st, "workflow", 4, extra, NULL) != 0) {
        tp_dump_log(&st.pool, 30);
        clean();
        return 1;
    }
    stack_up = 1;
    if (fs_client_new(&emu.cfg, &fs, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "fs_client_new: %s\n", err);
        clean();
        return 1;
    }
    return 0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static int clean(void)
{
    fs_client_free(fs);
    fs = NULL;
    if (stack_up)
        stack_stop(&st);
    stack_up = 0;
    if (s3.pid > 0)
        tp_stop(&s3, SIGTERM, 5000);
    s3.pid = 0;
    if (s3_dir[0])
        nftw(s3_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    fsemu_stop(&emu);
    http_global_cleanup();
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------------
 */

/* One call through nginx with a service key (NULL: no Authorization header). */
static long api(const char *method, const char *path, const char *key, const char *body,
                tp_http_resp *r)
{
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    char *h[] = {"Content-Type: application/json", key ? auth : NULL, NULL};
    memset(r, 0, sizeof *r);
    if (stack_http(&st, method, path, h, body, body ? strlen(body) : 0, r) != 0)
        return -1;
    return r->status;
}

/* The status of a call whose answer body is not needed; body_out (may be NULL) gets a copy. */
static long call(const char *method, const char *path, const char *body, char **body_out)
{
    tp_http_resp r;
    long s = api(method, path, KEY1, body, &r);
    if (body_out)
        *body_out = strdup(r.body ? r.body : "");
    tp_http_free(&r);
    return s;
}

/* A document straight from the emulator's REST API (not through our code): the "fields" object
 * of the document in *doc (caller puts it), and the HTTP status. */
static long emu_get(const char *rel, json_object **doc)
{
    char url[1024];
    snprintf(url, sizeof url, "http://%s/v1/projects/%s/databases/(default)/documents/%s", emu.host,
             emu.project, rel);
    tp_http_resp r;
    *doc = NULL;
    if (tp_http("GET", url, NULL, NULL, 0, &r) != 0) {
        tp_http_free(&r);
        return -1;
    }
    long s = r.status;
    if (s == 200)
        *doc = tj_parse(r.body);
    tp_http_free(&r);
    return s;
}

/* How many documents a collection holds (listDocuments, one page of up to 300). */
static int emu_count(const char *collection)
{
    char url[1024];
    snprintf(url, sizeof url,
             "http://%s/v1/projects/%s/databases/(default)/documents/%s?pageSize=300", emu.host,
             emu.project, collection);
    tp_http_resp r;
    int n = -1;
    if (tp_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200) {
        json_object *j = tj_parse(r.body), *docs = NULL;
        n = j && json_object_object_get_ex(j, "documents", &docs)
                ? (int)json_object_array_length(docs)
                : 0;
        json_object_put(j);
    }
    tp_http_free(&r);
    return n;
}

/* Checks the fields of a REST document against spec, one "name=kind:value" per line, and that
 * there are no others. Kinds: s string, i integer, d double, b bool (0/1), n null, t any
 * timestamp, j the Value's compact JSON. Prints every mismatch; returns their count. */
static int fields_are(json_object *doc, const char *spec)
{
    json_object *fields = NULL;
    if (!doc || !json_object_object_get_ex(doc, "fields", &fields)) {
        fprintf(stderr, "no document / no fields\n");
        return 1;
    }
    int bad = 0, nspec = 0;
    char line[2048];
    for (const char *p = spec; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        p += len + (nl ? 1 : 0);
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *name = line, *kind = eq + 1, *want = kind[0] && kind[1] == ':' ? kind + 2 : "";
        nspec++;
        json_object *v = NULL, *x = NULL;
        if (!json_object_object_get_ex(fields, name, &v)) {
            fprintf(stderr, "field %s: missing\n", name);
            bad++;
            continue;
        }
        int ok = 0;
        switch (kind[0]) {
        case 's':
            ok = json_object_object_get_ex(v, "stringValue", &x) &&
                 strcmp(json_object_get_string(x), want) == 0;
            break;
        case 'i':
            ok = json_object_object_get_ex(v, "integerValue", &x) &&
                 strcmp(json_object_get_string(x), want) == 0;
            break;
        case 'd':
            ok = json_object_object_get_ex(v, "doubleValue", &x) &&
                 json_object_get_double(x) == strtod(want, NULL);
            break;
        case 'b':
            ok = json_object_object_get_ex(v, "booleanValue", &x) &&
                 json_object_get_boolean(x) == (want[0] == '1');
            break;
        case 'n':
            ok = json_object_object_get_ex(v, "nullValue", &x);
            break;
        case 't':
            ok = json_object_object_get_ex(v, "timestampValue", &x);
            break;
        case 'j':
            ok = strcmp(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), want) == 0;
            break;
        }
        if (!ok) {
            fprintf(stderr, "field %s: want %s, have %s\n", name, kind,
                    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
            bad++;
        }
    }
    if (json_object_object_length(fields) != nspec) {
        fprintf(stderr, "document has %d fields, expected %d: %s\n",
                json_object_object_length(fields), nspec,
                json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN));
        bad++;
    }
    return bad;
}

/* A field's timestampValue text ("" when absent). */
static void ts_of(json_object *doc, const char *name, char *out, size_t n)
{
    json_object *f = NULL, *v = NULL, *x = NULL;
    out[0] = '\0';
    if (doc && json_object_object_get_ex(doc, "fields", &f) &&
        json_object_object_get_ex(f, name, &v) &&
        json_object_object_get_ex(v, "timestampValue", &x))
        snprintf(out, n, "%s", json_object_get_string(x));
}

/* A double as the server writes it: the shortest text that reads back the same. */
static void fmt_double(char *out, size_t n, double d)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
}

#define DOC_IS(rel, spec)                                                                          \
    do {                                                                                           \
        json_object *d_ = NULL;                                                                    \
        CU_ASSERT_EQUAL(emu_get(rel, &d_), 200);                                                   \
        CU_ASSERT_EQUAL(fields_are(d_, spec), 0);                                                  \
        json_object_put(d_);                                                                       \
    } while (0)

/* Runs clipctl --config <the stack's config> ARGS with stdin_text (may be NULL) on stdin;
 * *out gets stdout (malloc'd), the exit status returns (-1 when it did not exit in 60 s). */
static int clipctl(const char *stdin_text, char **out, char *const args[])
{
    char dir[400], in_path[512], out_path[512], bin[600];
    if (tp_tempdir("wf-clipctl", dir, sizeof dir) != 0)
        return -1;
    snprintf(in_path, sizeof in_path, "%s/stdin", dir);
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    tp_write_file(in_path, stdin_text ? stdin_text : "");
    snprintf(bin, sizeof bin, "%s/san/clipctl", tp_build());
    char *argv[40];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--config";
    argv[n++] = st.conf;
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int i = open(in_path, O_RDONLY), o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (i < 0 || o < 0)
            _exit(127);
        dup2(i, 0);
        dup2(o, 1);
        execv(bin, argv);
        _exit(127);
    }
    int status = -1, rc = -1;
    for (int waited = 0; waited < 60000; waited += 20) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        usleep(20000);
    }
    if (rc == -1 && waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    if (out) {
        FILE *f = fopen(out_path, "r");
        size_t cap = 1 << 20, len = 0;
        *out = calloc(1, cap + 1);
        if (f && *out) {
            len = fread(*out, 1, cap, f);
            (*out)[len] = '\0';
        }
        if (f)
            fclose(f);
    }
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
    return rc;
}

/* ---- authentication and network -------------------------------------------------------------- */

static void test_missing_or_wrong_key_is_401(void)
{
    const char *path = "/api/internal/users/u1/videos/v401";
    tp_http_resp r;
    CU_ASSERT_EQUAL(api("PUT", path, NULL, "{}", &r), 401);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r.body, "{\"error\":{\"code\":\"unauthenticated\",\"message\":\"an Authorization: "
                       "Bearer <service key> header is required\""));
    tp_http_free(&r);
    CU_ASSERT_EQUAL(api("PUT", path, "wf-key-one-0123456789abcdeX", "{}", &r), 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        r.body,
        "{\"error\":{\"code\":\"unauthenticated\",\"message\":\"the service key is not valid\""));
    tp_http_free(&r);
    /* a prefix of a valid key is not valid either */
    CU_ASSERT_EQUAL(api("POST", "/api/internal/users/u1/videos/v401/stats", "wf-key-one", "", &r),
                    401);
    tp_http_free(&r);
    /* every endpoint checks the key */
    CU_ASSERT_EQUAL(api("PUT", "/api/internal/users/u1/videos/v401/clips/c1", NULL, "{}", &r), 401);
    tp_http_free(&r);
    CU_ASSERT_EQUAL(api("PATCH", "/api/internal/users/u1/videos/v401/clips/c1",
                        "nope-nope-nope-nope", "{}", &r),
                    401);
    tp_http_free(&r);
    CU_ASSERT_EQUAL(
        api("POST", "/api/internal/users/u1/videos/v401/clips/c1/upload-urls", NULL, "", &r), 401);
    tp_http_free(&r);
    json_object *d = NULL;
    CU_ASSERT_EQUAL(emu_get("users/u1/videos/v401", &d), 404); /* nothing written */
    json_object_put(d);
    /* the second key of the file works (rotation) */
    CU_ASSERT_EQUAL(api("PUT", "/api/internal/users/u1/videos/vkey2", KEY2, "{}", &r), 201);
    tp_http_free(&r);
}

static size_t sink(char *d, size_t sz, size_t nm, void *ud)
{
    buf_t *b = ud;
    buf_append(b, d, sz * nm);
    return sz * nm;
}

/* nginx allows /api/internal/ from 127.0.0.1 and ::1 only: a call from 127.0.0.2 is a 403 JSON. */
static void test_internal_from_other_address_is_403(void)
{
    CURL *c = curl_easy_init();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char url[256], auth[128];
    snprintf(url, sizeof url, "%s/api/internal/users/u1/videos/v403", st.url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", KEY1);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    buf_t b = BUF_INIT;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_INTERFACE, "host!127.0.0.2");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    CU_ASSERT_EQUAL(rc, CURLE_OK);
    CU_ASSERT_EQUAL(status, 403);
    CU_ASSERT_PTR_NOT_NULL(b.p &&
                           strstr(b.p, "{\"error\":{\"code\":\"forbidden\",\"message\":\"not "
                                       "allowed from this address\",\"request_id\":\""));
    /* the public API is still open from there: the router's 404 for an unknown path */
    buf_reset(&b);
    snprintf(url, sizeof url, "%s/api/nothing-here", st.url);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "GET");
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    CU_ASSERT_EQUAL(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    CU_ASSERT_EQUAL(status, 404);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    buf_free(&b);
    json_object *d = NULL;
    CU_ASSERT_EQUAL(emu_get("users/u1/videos/v403", &d), 404);
    json_object_put(d);
}

/* ---- create_or_update_video --------------------------------------------------------------------
 */

static void test_video_put_writes_the_contract_document(void)
{
    const char *body =
        "{\"video_url\":\"https://youtube.com/watch?v=abc\",\"video_title\":\"My talk\","
        "\"youtube_id\":\"abc\",\"status\":\"processing\",\"custom_prompt\":null,"
        "\"styles_processed\":[\"vertical\",\"square\"],\"crop_mode\":\"smart\","
        "\"target_aspect\":\"9:16\",\"highlights_count\":7,"
        "\"highlights_summary\":{\"total_duration\":210.5,\"categories\":[\"funny\"]}}";
    char *out = NULL;
    CU_ASSERT_EQUAL(call("PUT", "/api/internal/users/u1/videos/vid1", body, &out), 201);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        out, "{\"video_id\":\"vid1\",\"user_id\":\"u1\",\"video_url\":\"https://youtube.com/"
             "watch?v=abc\",\"video_title\":\"My "
             "talk\",\"youtube_id\":\"abc\",\"status\":\"processing\",\"custom_prompt\":null,"
             "\"styles_processed\":[\"vertical\",\"square\"],\"crop_mode\":\"smart\",\"target_"
             "aspect\":\"9:16\",\"highlights_count\":7,\"highlights_summary\":{\"total_duration\":"
             "210.5,\"categories\":[\"funny\"]},\"clip_stats\":null,\"created_at\":\""));
    free(out);
    static const char *spec =
        "video_id=s:vid1\nuser_id=s:u1\nvideo_url=s:https://youtube.com/watch?v=abc\n"
        "video_title=s:My talk\nyoutube_id=s:abc\nstatus=s:processing\ncustom_prompt=n\n"
        "styles_processed=j:{\"arrayValue\":{\"values\":[{\"stringValue\":\"vertical\"},{"
        "\"stringValue\":\"square\"}]}}\n"
        "crop_mode=s:smart\ntarget_aspect=s:9:16\nhighlights_count=i:7\n"
        "highlights_summary=j:{\"mapValue\":{\"fields\":{\"total_duration\":{\"doubleValue\":210.5}"
        ",\"categories\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"funny\"}]}}}}}\n"
        "created_at=t\nupdated_at=t";
    DOC_IS("users/u1/videos/vid1", spec);
    json_object *d = NULL;
    char created1[64], updated1[64], created2[64], updated2[64];
    emu_get("users/u1/videos/vid1", &d);
    ts_of(d, "created_at", created1, sizeof created1);
    ts_of(d, "updated_at", updated1, sizeof updated1);
    json_object_put(d);
    /* a merge: only status changes, created_at stays, updated_at moves */
    CU_ASSERT_EQUAL(
        call("PUT", "/api/internal/users/u1/videos/vid1", "{\"status\":\"completed\"}", NULL), 200);
    char spec2[4096];
    snprintf(spec2, sizeof spec2, "%s", spec);
    char *p = strstr(spec2, "status=s:processing");
    memcpy(p, "status=s:completed\n", 19);
    memmove(p + 19, p + 20, strlen(p + 20) + 1);
    DOC_IS("users/u1/videos/vid1", spec2);
    emu_get("users/u1/videos/vid1", &d);
    ts_of(d, "created_at", created2, sizeof created2);
    ts_of(d, "updated_at", updated2, sizeof updated2);
    json_object_put(d);
    UNIT_ASSERT_STR(created2, created1);
    CU_ASSERT_TRUE(strcmp(updated2, updated1) > 0);
}

static void test_video_put_raw_highlights_computes_the_summary(void)
{
    const char *body = "{\"video_title\":\"Raw\",\"highlights\":["
                       "{\"id\":1,\"title\":\"a\",\"description\":null,\"priority\":1,\"start\":"
                       "\"00:00:10\",\"end\":\"00:00:38.5\",\"hook_category\":\"funny\"},"
                       "{\"id\":2,\"title\":\"b\",\"start\":\"00:01:00\",\"end\":\"00:01:31\","
                       "\"duration\":30.2,\"hook_category\":\"deep\"},"
                       "{\"id\":3,\"start\":62.5,\"end\":63.5,\"hook_category\":\"funny\"},"
                       "{\"id\":4,\"duration\":0.1,\"hook_category\":null}]}";
    CU_ASSERT_EQUAL(call("PUT", "/api/internal/users/u1/videos/vraw", body, NULL), 201);
    DOC_IS("users/u1/videos/vraw",
           "video_id=s:vraw\nuser_id=s:u1\nvideo_title=s:Raw\nhighlights_count=i:4\n"
           "highlights_summary=j:{\"mapValue\":{\"fields\":{\"total_duration\":{\"doubleValue\":59."
           "8},\"categories\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"funny\"},{"
           "\"stringValue\":\"deep\"}]}}}}}\n"
           "created_at=t\nupdated_at=t");
}

/* ---- create_clip
 * --------------------------------------------------------------------------------- */

#define CLIP3                                                                                      \
    "{\"scene_id\":3,\"scene_title\":\"The "                                                       \
    "hook\",\"style\":\"vertical\",\"start_time\":\"00:01:02.5\",\"end_time\":\"00:01:31\","       \
    "\"priority\":1}"

static void test_clip_put_writes_the_contract_document(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(
        call("PUT", "/api/internal/users/u1/videos/vid1/clips/clip_3_vertical", CLIP3, &out), 201);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        out,
        "{\"clip_id\":\"clip_3_vertical\",\"filename\":\"clip_3_vertical.mp4\",\"scene_id\":3,"
        "\"scene_title\":\"The "
        "hook\",\"scene_description\":null,\"style\":\"vertical\",\"start_time\":\"00:01:02.5\","
        "\"end_time\":\"00:01:31\",\"duration_seconds\":28.5,\"priority\":1,\"status\":\"pending\","
        "\"error\":null,\"file_size_bytes\":0,\"file_size_mb\":0,\"has_thumbnail\":false,\"r2_"
        "key\":\"u1/vid1/clips/clip_3_vertical.mp4\",\"thumbnail_r2_key\":null,\"created_at\":\""));
    free(out);
    DOC_IS(
        "users/u1/videos/vid1/clips/clip_3_vertical",
        "clip_id=s:clip_3_vertical\nfilename=s:clip_3_vertical.mp4\nscene_id=i:3\n"
        "scene_title=s:The hook\nscene_description=n\nstyle=s:vertical\nstart_time=s:00:01:02.5\n"
        "end_time=s:00:01:31\nduration_seconds=d:28.5\npriority=i:1\nstatus=s:pending\nerror=n\n"
        "file_size_bytes=i:0\nfile_size_mb=d:0\nhas_thumbnail=b:0\n"
        "r2_key=s:u1/vid1/clips/"
        "clip_3_vertical.mp4\nthumbnail_r2_key=n\ncreated_at=t\nupdated_at=t");
    /* every field given, in seconds, with a thumbnail and a size in MB only */
    const char *full =
        "{\"clip_id\":\"clip_4_square\",\"filename\":\"clip_4_square.mp4\",\"scene_id\":4,"
        "\"scene_title\":\"T\",\"scene_description\":\"D\",\"style\":\"square\",\"start_time\":"
        "\"62\","
        "\"end_time\":\"90.25\",\"duration_seconds\":28.25,\"status\":\"completed\",\"error\":null,"
        "\"file_size_mb\":2,\"has_thumbnail\":true,\"r2_key\":\"u1/vid1/clips/clip_4_square.mp4\","
        "\"thumbnail_r2_key\":\"u1/vid1/thumbnails/clip_4_square.jpg\"}";
    CU_ASSERT_EQUAL(
        call("PUT", "/api/internal/users/u1/videos/vid1/clips/clip_4_square", full, NULL), 201);
    DOC_IS(
        "users/u1/videos/vid1/clips/clip_4_square",
        "clip_id=s:clip_4_square\nfilename=s:clip_4_square.mp4\nscene_id=i:4\n"
        "scene_title=s:T\nscene_description=s:D\nstyle=s:square\nstart_time=s:62\n"
        "end_time=s:90.25\nduration_seconds=d:28.25\npriority=i:99\nstatus=s:completed\nerror=n\n"
        "file_size_bytes=i:2097152\nfile_size_mb=d:2\nhas_thumbnail=b:1\n"
        "r2_key=s:u1/vid1/clips/clip_4_square.mp4\nthumbnail_r2_key=s:u1/vid1/thumbnails/"
        "clip_4_square.jpg\n"
        "created_at=t\nupdated_at=t");
}

static void test_same_create_twice_is_one_clip(void)
{
    const char *path = "/api/internal/users/u2/videos/vtwice/clips/clip_1_vertical";
    const char *body =
        "{\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"0\",\"end_time\":\"12.5\"}";
    char *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL(call("PUT", path, body, &a), 201);
    CU_ASSERT_EQUAL(call("PUT", path, body, &b), 200);
    UNIT_ASSERT_STR(b, a); /* the same stored clip, created_at included */
    free(a);
    free(b);
    CU_ASSERT_EQUAL(emu_count("users/u2/videos/vtwice/clips"), 1);
    /* a retry after the status moved on is still the same clip */
    CU_ASSERT_EQUAL(call("PATCH", path, "{\"status\":\"processing\"}", NULL), 200);
    CU_ASSERT_EQUAL(call("PUT", path, body, NULL), 200);
    /* different data for the existing clip: 409, and the document is unchanged */
    char *msg = NULL;
    CU_ASSERT_EQUAL(
        call("PUT", path,
             "{\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"0\",\"end_time\":\"13\"}",
             &msg),
        409);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(msg, "{\"error\":{\"code\":\"conflict\",\"message\":\"clip clip_1_vertical already "
                    "exists with a different end_time\""));
    free(msg);
    CU_ASSERT_EQUAL(emu_count("users/u2/videos/vtwice/clips"), 1);
    DOC_IS("users/u2/videos/vtwice/clips/clip_1_vertical",
           "clip_id=s:clip_1_vertical\nfilename=s:clip_1_vertical.mp4\nscene_id=i:1\n"
           "scene_title=s:\nscene_description=n\nstyle=s:vertical\nstart_time=s:0\n"
           "end_time=s:12.5\nduration_seconds=d:12.5\npriority=i:99\nstatus=s:processing\nerror=n\n"
           "file_size_bytes=i:0\nfile_size_mb=d:0\nhas_thumbnail=b:0\n"
           "r2_key=s:u2/vtwice/clips/"
           "clip_1_vertical.mp4\nthumbnail_r2_key=n\ncreated_at=t\nupdated_at=t");
}

/* ---- update_clip_status --------------------------------------------------------------------- */

static void test_clip_patch_status(void)
{
    const char *path = "/api/internal/users/u1/videos/vid1/clips/clip_3_vertical";
    char *out = NULL;
    CU_ASSERT_EQUAL(
        call("PATCH", path,
             "{\"status\":\"completed\",\"file_size_bytes\":12897484,\"has_thumbnail\":true}",
             &out),
        200);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        out,
        "\"status\":\"completed\",\"error\":null,\"file_size_bytes\":12897484,\"file_size_mb\":12."
        "299999237060547,\"has_thumbnail\":true,\"r2_key\":\"u1/vid1/clips/"
        "clip_3_vertical.mp4\",\"thumbnail_r2_key\":\"u1/vid1/thumbnails/clip_3_vertical.jpg\""));
    free(out);
    DOC_IS(
        "users/u1/videos/vid1/clips/clip_3_vertical",
        "clip_id=s:clip_3_vertical\nfilename=s:clip_3_vertical.mp4\nscene_id=i:3\n"
        "scene_title=s:The hook\nscene_description=n\nstyle=s:vertical\nstart_time=s:00:01:02.5\n"
        "end_time=s:00:01:31\nduration_seconds=d:28.5\npriority=i:1\nstatus=s:completed\nerror=n\n"
        "file_size_bytes=i:12897484\nfile_size_mb=d:12.299999237060547\nhas_thumbnail=b:1\n"
        "r2_key=s:u1/vid1/clips/clip_3_vertical.mp4\nthumbnail_r2_key=s:u1/vid1/thumbnails/"
        "clip_3_vertical.jpg\n"
        "created_at=t\nupdated_at=t");
    /* failed with a reason; size and thumbnail left as they are */
    CU_ASSERT_EQUAL(
        call("PATCH", path, "{\"status\":\"failed\",\"error\":\"ffmpeg exited 1\"}", NULL), 200);
    json_object *d = NULL;
    emu_get("users/u1/videos/vid1/clips/clip_3_vertical", &d);
    json_object *f = NULL, *v = NULL, *x = NULL;
    json_object_object_get_ex(d, "fields", &f);
    CU_ASSERT_TRUE(json_object_object_get_ex(f, "error", &v) &&
                   json_object_object_get_ex(v, "stringValue", &x) &&
                   strcmp(json_object_get_string(x), "ffmpeg exited 1") == 0);
    CU_ASSERT_TRUE(json_object_object_get_ex(f, "status", &v) &&
                   json_object_object_get_ex(v, "stringValue", &x) &&
                   strcmp(json_object_get_string(x), "failed") == 0);
    CU_ASSERT_TRUE(json_object_object_get_ex(f, "file_size_bytes", &v) &&
                   json_object_object_get_ex(v, "integerValue", &x) &&
                   strcmp(json_object_get_string(x), "12897484") == 0);
    CU_ASSERT_EQUAL(json_object_object_length(f), 19);
    json_object_put(d);
    /* back to completed: error cleared, thumbnail removed */
    CU_ASSERT_EQUAL(call("PATCH", path,
                         "{\"status\":\"completed\",\"error\":null,\"has_thumbnail\":false}", NULL),
                    200);
    DOC_IS(
        "users/u1/videos/vid1/clips/clip_3_vertical",
        "clip_id=s:clip_3_vertical\nfilename=s:clip_3_vertical.mp4\nscene_id=i:3\n"
        "scene_title=s:The hook\nscene_description=n\nstyle=s:vertical\nstart_time=s:00:01:02.5\n"
        "end_time=s:00:01:31\nduration_seconds=d:28.5\npriority=i:1\nstatus=s:completed\nerror=n\n"
        "file_size_bytes=i:12897484\nfile_size_mb=d:12.299999237060547\nhas_thumbnail=b:0\n"
        "r2_key=s:u1/vid1/clips/"
        "clip_3_vertical.mp4\nthumbnail_r2_key=n\ncreated_at=t\nupdated_at=t");
    /* no such clip: 404, and nothing is created */
    char *msg = NULL;
    CU_ASSERT_EQUAL(call("PATCH", "/api/internal/users/u1/videos/vid1/clips/nope",
                         "{\"status\":\"completed\"}", &msg),
                    404);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        msg, "{\"error\":{\"code\":\"not_found\",\"message\":\"no clip nope in video vid1\""));
    free(msg);
    CU_ASSERT_EQUAL(emu_get("users/u1/videos/vid1/clips/nope", &d), 404);
    json_object_put(d);
}

/* ---- statistics
 * ---------------------------------------------------------------------------------- */

static void test_stats_endpoint(void)
{
    /* vid1 holds clip_3_vertical (completed, 12897484 B, 28.5 s) and clip_4_square (completed,
     * 2097152 B, 28.25 s) */
    char *out = NULL;
    CU_ASSERT_EQUAL(call("POST", "/api/internal/users/u1/videos/vid1/stats", "", &out), 200);
    UNIT_ASSERT_STR(out,
                    "{\"total\":2,\"completed\":2,\"failed\":0,\"total_size_bytes\":14994636,"
                    "\"total_duration_seconds\":56.75,\"by_style\":{\"square\":1,\"vertical\":1}}");
    free(out);
    json_object *d = NULL, *f = NULL, *cs = NULL;
    CU_ASSERT_EQUAL(emu_get("users/u1/videos/vid1", &d), 200);
    json_object_object_get_ex(d, "fields", &f);
    CU_ASSERT_TRUE(json_object_object_get_ex(f, "clip_stats", &cs));
    const char *have = cs ? json_object_to_json_string_ext(cs, JSON_C_TO_STRING_PLAIN) : "";
    UNIT_ASSERT_STR(have,
                    "{\"mapValue\":{\"fields\":{\"total\":{\"integerValue\":\"2\"},\"completed\":{"
                    "\"integerValue\":\"2\"},\"failed\":{\"integerValue\":\"0\"},\"total_size_"
                    "bytes\":{\"integerValue\":\"14994636\"},\"total_duration_seconds\":{"
                    "\"doubleValue\":56.75},\"by_style\":{\"mapValue\":{\"fields\":{\"vertical\":{"
                    "\"integerValue\":\"1\"},\"square\":{\"integerValue\":\"1\"}}}}}}}");
    CU_ASSERT_EQUAL(json_object_object_length(f), 15); /* the 14 video fields + clip_stats */
    json_object_put(d);
    /* "{}" is an empty body too; a missing video is a 404 and writes nothing */
    CU_ASSERT_EQUAL(call("POST", "/api/internal/users/u1/videos/vid1/stats", "{}", NULL), 200);
    char *msg = NULL;
    CU_ASSERT_EQUAL(call("POST", "/api/internal/users/u1/videos/nosuch/stats", "", &msg), 404);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(msg, "{\"error\":{\"code\":\"not_found\",\"message\":\"no video nosuch\""));
    free(msg);
    CU_ASSERT_EQUAL(emu_get("users/u1/videos/nosuch", &d), 404);
    json_object_put(d);
}

static const char *const mix_status[] = {"pending", "processing", "completed", "failed",
                                         "completed"};
static const char *const mix_style[] = {"vertical", "square", "landscape-16-9"};

/* 1,000 clips seeded in two batched commits of 500, straight to the emulator. */
static void test_stats_after_1000_clips(void)
{
    CU_ASSERT_EQUAL_FATAL(
        call("PUT", "/api/internal/users/u3/videos/vbig", "{\"video_title\":\"Big\"}", NULL), 201);
    int64_t want_completed = 0, want_failed = 0, want_bytes = 0, by_style[3] = {0, 0, 0};
    double want_dur = 0;
    for (int batch = 0; batch < NSTATS / FS_COMMIT_WRITES_MAX; batch++) {
        arena_t a;
        arena_init(&a, 0);
        fs_write *w = arena_calloc(&a, FS_COMMIT_WRITES_MAX, sizeof *w);
        char err[256] = "";
        for (int k = 0; k < FS_COMMIT_WRITES_MAX; k++) {
            int i = batch * FS_COMMIT_WRITES_MAX + k;
            char id[32], start[16], end[16];
            snprintf(id, sizeof id, "clip_%d_%s", i, mix_style[i % 3]);
            snprintf(start, sizeof start, "%d", i);
            snprintf(end, sizeof end, "%d.%d", i + 10 + i % 7, (i % 4) * 25);
            clip_create_input n = {.scene_id = i,
                          .style = mix_style[i % 3],
                          .start_time = arena_strdup(&a, start),
                          .end_time = arena_strdup(&a, end),
                          .status = mix_status[i % 5],
                          .file_size_bytes = (int64_t)i * 1000 + 7,
                          .has_thumbnail = i % 2};
            CU_ASSERT_EQUAL_FATAL(clips_create_write(&a, "u3", "vbig", arena_strdup(&a, id), &n, 1,
                                                     &w[k], err, sizeof err),
                                  CLIP_OK);
            want_completed += strcmp(n.status, "completed") == 0;
            want_failed += strcmp(n.status, "failed") == 0;
            want_bytes += n.file_size_bytes;
            want_dur += 10 + i % 7 + (i % 4) * 0.25;
            by_style[i % 3]++;
        }
        clip_err e = fs_commit(fs, &a, w, FS_COMMIT_WRITES_MAX, NULL, err, sizeof err);
        if (e != CLIP_OK)
            fprintf(stderr, "seed commit: %s\n", err);
        CU_ASSERT_EQUAL_FATAL(e, CLIP_OK);
        arena_free(&a);
    }
    /* the durations are multiples of 0.25: exact in binary, so the sum is exact in any order */
    CU_ASSERT_EQUAL(want_dur, floor(want_dur * 4) / 4);
    char want[512], dur[40], *out = NULL;
    fmt_double(dur, sizeof dur, want_dur);
    snprintf(want, sizeof want,
             "{\"total\":%d,\"completed\":%lld,\"failed\":%lld,\"total_size_bytes\":%lld,"
             "\"total_duration_seconds\":%s,\"by_style\":{\"landscape-16-9\":%lld,\"square\":%lld,"
             "\"vertical\":%lld}}",
             NSTATS, (long long)want_completed, (long long)want_failed, (long long)want_bytes, dur,
             (long long)by_style[2], (long long)by_style[1], (long long)by_style[0]);
    CU_ASSERT_EQUAL(call("POST", "/api/internal/users/u3/videos/vbig/stats", "", &out), 200);
    UNIT_ASSERT_STR(out, want);
    free(out);
    CU_ASSERT_EQUAL(want_completed, 400);
    CU_ASSERT_EQUAL(want_failed, 200);
    /* and the document, read directly */
    json_object *d = NULL, *f = NULL, *cs = NULL, *m = NULL, *fl = NULL, *v = NULL, *x = NULL;
    CU_ASSERT_EQUAL(emu_get("users/u3/videos/vbig", &d), 200);
    json_object_object_get_ex(d, "fields", &f);
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(f, "clip_stats", &cs) &&
                         json_object_object_get_ex(cs, "mapValue", &m) &&
                         json_object_object_get_ex(m, "fields", &fl));
    CU_ASSERT_TRUE(json_object_object_get_ex(fl, "total", &v) &&
                   json_object_object_get_ex(v, "integerValue", &x) &&
                   strcmp(json_object_get_string(x), "1000") == 0);
    CU_ASSERT_TRUE(json_object_object_get_ex(fl, "completed", &v) &&
                   json_object_object_get_ex(v, "integerValue", &x) &&
                   strcmp(json_object_get_string(x), "400") == 0);
    CU_ASSERT_TRUE(json_object_object_get_ex(fl, "failed", &v) &&
                   json_object_object_get_ex(v, "integerValue", &x) &&
                   strcmp(json_object_get_string(x), "200") == 0);
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%lld", (long long)want_bytes);
    CU_ASSERT_TRUE(json_object_object_get_ex(fl, "total_size_bytes", &v) &&
                   json_object_object_get_ex(v, "integerValue", &x) &&
                   strcmp(json_object_get_string(x), bytes) == 0);
    CU_ASSERT_TRUE(json_object_object_get_ex(fl, "total_duration_seconds", &v) &&
                   json_object_object_get_ex(v, "doubleValue", &x) &&
                   json_object_get_double(x) == want_dur);
    CU_ASSERT_TRUE(json_object_object_get_ex(fl, "by_style", &v));
    const char *bs = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "";
    char want_bs[256];
    snprintf(want_bs, sizeof want_bs,
             "{\"mapValue\":{\"fields\":{\"vertical\":{\"integerValue\":\"%lld\"},\"square\":{"
             "\"integerValue\":\"%lld\"},\"landscape-16-9\":{\"integerValue\":\"%lld\"}}}}",
             (long long)by_style[0], (long long)by_style[1], (long long)by_style[2]);
    UNIT_ASSERT_STR(bs, want_bs);
    json_object_put(d);
}

/* ---- 50 concurrent status updates ------------------------------------------------------------ */

static void *patch_one(void *arg)
{
    long i = (long)arg;
    char path[256], body[128];
    snprintf(path, sizeof path, "/api/internal/users/u4/videos/vconc/clips/clip_%ld_vertical", i);
    snprintf(body, sizeof body,
             "{\"status\":\"%s\",\"file_size_bytes\":%ld,\"has_thumbnail\":true}",
             i % 2 ? "completed" : "failed", 1000 + i);
    return (void *)call("PATCH", path, body, NULL);
}

static void test_50_concurrent_status_updates_lose_none(void)
{
    CU_ASSERT_EQUAL_FATAL(call("PUT", "/api/internal/users/u4/videos/vconc", "{}", NULL), 201);
    for (long i = 0; i < NCONC; i++) {
        char path[256], body[256];
        snprintf(path, sizeof path, "/api/internal/users/u4/videos/vconc/clips/clip_%ld_vertical",
                 i);
        snprintf(
            body, sizeof body,
            "{\"scene_id\":%ld,\"style\":\"vertical\",\"start_time\":\"0\",\"end_time\":\"1\"}", i);
        CU_ASSERT_EQUAL_FATAL(call("PUT", path, body, NULL), 201);
    }
    pthread_t t[NCONC];
    for (long i = 0; i < NCONC; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, patch_one, (void *)i), 0);
    int ok = 0;
    for (long i = 0; i < NCONC; i++) {
        void *r = NULL;
        pthread_join(t[i], &r);
        ok += (long)r == 200;
    }
    CU_ASSERT_EQUAL(ok, NCONC);
    int right = 0;
    for (long i = 0; i < NCONC; i++) {
        char rel[256], spec[2048];
        snprintf(rel, sizeof rel, "users/u4/videos/vconc/clips/clip_%ld_vertical", i);
        snprintf(spec, sizeof spec,
                 "clip_id=s:clip_%ld_vertical\nfilename=s:clip_%ld_vertical.mp4\nscene_id=i:%ld\n"
                 "scene_title=s:\nscene_description=n\nstyle=s:vertical\nstart_time=s:0\n"
                 "end_time=s:1\nduration_seconds=d:1\npriority=i:99\nstatus=s:%s\nerror=n\n"
                 "file_size_bytes=i:%ld\nfile_size_mb=d:%.17g\nhas_thumbnail=b:1\n"
                 "r2_key=s:u4/vconc/clips/clip_%ld_vertical.mp4\n"
                 "thumbnail_r2_key=s:u4/vconc/thumbnails/"
                 "clip_%ld_vertical.jpg\ncreated_at=t\nupdated_at=t",
                 i, i, i, i % 2 ? "completed" : "failed", 1000 + i, (1000.0 + i) / 1048576.0, i, i);
        json_object *d = NULL;
        if (emu_get(rel, &d) == 200 && fields_are(d, spec) == 0)
            right++;
        json_object_put(d);
    }
    CU_ASSERT_EQUAL(right, NCONC);
    char *out = NULL;
    CU_ASSERT_EQUAL(call("POST", "/api/internal/users/u4/videos/vconc/stats", "", &out), 200);
    UNIT_ASSERT_STR(out, "{\"total\":50,\"completed\":25,\"failed\":25,\"total_size_bytes\":51225,"
                         "\"total_duration_seconds\":50,\"by_style\":{\"vertical\":50}}");
    free(out);
}

/* ---- upload-urls ----------------------------------------------------------------------------- */

static long put_to(const char *url, const char *ctype, const char *body)
{
    char h[128];
    snprintf(h, sizeof h, "Content-Type: %s", ctype);
    char *hs[] = {h, NULL};
    tp_http_resp r;
    long s = tp_http("PUT", url, hs, body, strlen(body), &r) == 0 ? r.status : -1;
    tp_http_free(&r);
    return s;
}

/* A string member at path, "" when it is not there (for strstr and copies). */
static const char *text_at(json_object *o, const char *path)
{
    const char *s = tj_str(o, path);
    return s ? s : "";
}

static void test_upload_urls(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(
        call("POST", "/api/internal/users/u1/videos/vid1/clips/clip_3_vertical/upload-urls", "",
             &out),
        200);
    json_object *j = tj_parse(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    UNIT_ASSERT_STR(tj_str(j, "clip.method"), "PUT");
    UNIT_ASSERT_STR(tj_str(j, "clip.r2_key"), "u1/vid1/clips/clip_3_vertical.mp4");
    UNIT_ASSERT_STR(tj_str(j, "clip.content_type"), "video/mp4");
    UNIT_ASSERT_STR(tj_str(j, "thumbnail.r2_key"), "u1/vid1/thumbnails/clip_3_vertical.jpg");
    UNIT_ASSERT_STR(tj_str(j, "thumbnail.content_type"), "image/jpeg");
    CU_ASSERT_EQUAL(tj_int(j, "expires_in"), 900);
    char clip_url[2048], thumb_url[2048];
    snprintf(clip_url, sizeof clip_url, "%s", text_at(j, "clip.url"));
    snprintf(thumb_url, sizeof thumb_url, "%s", text_at(j, "thumbnail.url"));
    char prefix[256];
    snprintf(prefix, sizeof prefix,
             "http://127.0.0.1:%d/%s/u1/vid1/clips/"
             "clip_3_vertical.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&",
             s3_port, BUCKET);
    CU_ASSERT_EQUAL(strncmp(clip_url, prefix, strlen(prefix)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(clip_url, "X-Amz-Expires=900&"));
    CU_ASSERT_PTR_NOT_NULL(strstr(clip_url, "X-Amz-SignedHeaders=content-type%3Bhost&"));
    json_object_put(j);
    free(out);
    /* the URLs work against a signature-checking S3 server, and only with the bound type */
    CU_ASSERT_EQUAL(put_to(clip_url, "video/mp4", "mp4 bytes"), 200);
    CU_ASSERT_EQUAL(put_to(clip_url, "image/png", "mp4 bytes"), 403);
    CU_ASSERT_EQUAL(put_to(thumb_url, "image/jpeg", "jpeg bytes"), 200);
    CU_ASSERT_EQUAL(put_to(thumb_url, "video/mp4", "jpeg bytes"), 403);
    /* a given filename and life */
    CU_ASSERT_EQUAL(call("POST", "/api/internal/users/u1/videos/vid1/clips/clip_9/upload-urls",
                         "{\"filename\":\"clip_9.mov\",\"expires_in\":60}", &out),
                    200);
    j = tj_parse(out);
    UNIT_ASSERT_STR(tj_str(j, "clip.r2_key"), "u1/vid1/clips/clip_9.mov");
    UNIT_ASSERT_STR(tj_str(j, "thumbnail.r2_key"), "u1/vid1/thumbnails/clip_9.jpg");
    CU_ASSERT_EQUAL(tj_int(j, "expires_in"), 60);
    CU_ASSERT_PTR_NOT_NULL(strstr(text_at(j, "clip.url"), "X-Amz-Expires=60&"));
    json_object_put(j);
    free(out);
}

/* ---- validation: every refusal is a 400 naming the field, and writes nothing ----------------- */

typedef struct {
    const char *method, *path, *body, *message;
} bad_case;

#define VP "/api/internal/users/u9/videos/vbad"
#define CP "/api/internal/users/u9/videos/vbad/clips/clip_1_vertical"
#define CB "\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"0\",\"end_time\":\"5\""
/* CB without one of its members, for a body that gives that member another value */
#define CB_BUT_SCENE "\"style\":\"vertical\",\"start_time\":\"0\",\"end_time\":\"5\""
#define CB_BUT_STYLE "\"scene_id\":1,\"start_time\":\"0\",\"end_time\":\"5\""
#define CB_BUT_START "\"scene_id\":1,\"style\":\"vertical\",\"end_time\":\"5\""
#define CB_BUT_END "\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"0\""

static const bad_case bad_cases[] = {
    /* the body itself */
    {"PUT", VP, "{\"video_title\":", "body: not valid JSON (it ends too early)"},
    {"PUT", VP, "{\"video_title\":\"x\",}",
     "body: not valid JSON (unexpected character at offset 19)"},
    {"PUT", VP, "{'video_title':'x'}", "body: not valid JSON (unexpected byte at offset 1)"},
    {"PUT", VP, "{\"highlights_count\":NaN}",
     "body: not valid JSON (unexpected byte at offset 20)"},
    {"PUT", VP, "{\"video_title\":\"x\"} {}",
     "body: not valid JSON (unexpected character at offset 20)"},
    {"PUT", VP, "[1,2]", "body: must be a JSON object"},
    {"PUT", VP, "{\"video_title\":\"\xff\"}", "video_title: not valid UTF-8 (at offset 16)"},
    {"PUT", VP, "{\"video_title\":\"a\",\"video_title\":\"b\"}", "video_title: given twice"},
    /* text that is not UTF-8 (issue 16, defect 3): overlong forms, surrogates raw or escaped,
     * code points past U+10FFFF, in any member; a key's is the body's */
    {"PUT", VP, "{\"video_title\":\"\xc0\xaf\"}", "video_title: not valid UTF-8 (at offset 16)"},
    {"PUT", VP, "{\"video_title\":\"\xed\xa0\x80\"}",
     "video_title: not valid UTF-8 (at offset 16)"},
    {"PUT", VP, "{\"video_title\":\"\\ud800\"}",
     "video_title: not valid UTF-8 (unpaired surrogate escape at offset 16)"},
    {"PUT", VP, "{\"video_url\":\"https://x/\xf4\x90\x80\x80\"}",
     "video_url: not valid UTF-8 (at offset 24)"},
    {"PUT", VP, "{\"custom_prompt\":\"\\udc00\\ud800\"}",
     "custom_prompt: not valid UTF-8 (unpaired surrogate escape at offset 18)"},
    {"PUT", VP, "{\"highlights\":[{\"duration\":1,\"title\":\"\xe0\x80\xaf\"}]}",
     "highlights[0].title: not valid UTF-8 (at offset 38)"},
    {"PUT", VP, "{\"styles_processed\":[\"vertical\",\"\xc0\xaf\"]}",
     "styles_processed[1]: not valid UTF-8 (at offset 33)"},
    {"PUT", VP, "{\"\xc0\xaf\":1}", "body: not valid UTF-8 (at offset 2)"},
    {"PUT", CP, "{" CB ",\"scene_title\":\"ok \xed\xbf\xbf\"}",
     "scene_title: not valid UTF-8 (at offset 83)"},
    {"PATCH", CP, "{\"status\":\"failed\",\"error\":\"\\ud83d\"}",
     "error: not valid UTF-8 (unpaired surrogate escape at offset 28)"},
    {"PUT", VP, "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}",
     "body: nested deeper than 8 levels"},
    /* create_or_update_video */
    {"PUT", VP, "{\"video_title\":5}", "video_title: must be a string"},
    {"PUT", VP, "{\"youtube_id\":false}", "youtube_id: must be a string or null"},
    {"PUT", VP, "{\"video_titel\":\"x\"}", "video_titel: unknown field"},
    {"PUT", VP, "{\"status\":\"done\"}",
     "status: must be one of queued, processing, completed, failed"},
    {"PUT", VP, "{\"highlights_count\":-1}",
     "highlights_count: must be a whole number from 0 to 100000"},
    {"PUT", VP, "{\"highlights_count\":2.5}",
     "highlights_count: must be a whole number from 0 to 100000"},
    {"PUT", VP, "{\"highlights_count\":99999999999999999999}",
     "highlights_count: must be a whole number from 0 to 100000"},
    {"PUT", VP, "{\"styles_processed\":\"vertical\"}",
     "styles_processed: must be an array of strings"},
    {"PUT", VP, "{\"styles_processed\":[\"Vertical\"]}",
     "styles_processed[0]: must be 1-64 bytes of [a-z0-9-]"},
    {"PUT", VP, "{\"video_id\":\"other\"}", "video_id: must be \"vbad\", as in the path"},
    {"PUT", VP, "{\"user_id\":\"u1\"}", "user_id: must be \"u9\", as in the path"},
    {"PUT", VP, "{\"clip_stats\":{}}",
     "clip_stats: set by the stats call (POST .../stats), not accepted here"},
    {"PUT", VP, "{\"created_at\":\"2026-01-01T00:00:00Z\"}",
     "created_at: set by the server, not accepted here"},
    {"PUT", VP, "{\"highlights_summary\":{\"total_duration\":-1}}",
     "highlights_summary.total_duration: must be a number from 0 to 1e+08"},
    {"PUT", VP, "{\"highlights_summary\":{\"categories\":[]}}",
     "highlights_summary.total_duration: required"},
    {"PUT", VP, "{\"highlights_summary\":{\"total_duration\":1,\"tags\":[]}}",
     "highlights_summary.tags: unknown field"},
    {"PUT", VP, "{\"highlights_summary\":{\"total_duration\":1,\"categories\":[1]}}",
     "highlights_summary.categories[0]: must be a string"},
    {"PUT", VP, "{\"highlights\":{}}", "highlights: must be an array of objects"},
    {"PUT", VP, "{\"highlights\":[{\"duration\":1},2]}", "highlights[1]: must be an object"},
    {"PUT", VP, "{\"highlights\":[{\"start\":\"0\"}]}",
     "highlights[0].duration: not given, and start / end do not give it"},
    {"PUT", VP, "{\"highlights\":[{\"start\":\"1:xx\",\"end\":\"2\"}]}",
     "highlights[0].start: must be HH:MM:SS(.fff) or seconds"},
    {"PUT", VP, "{\"highlights\":[{\"duration\":1,\"score\":9}]}",
     "highlights[0].score: unknown field"},
    {"PUT", VP, "{\"highlights\":[],\"highlights_summary\":{\"total_duration\":1}}",
     "highlights: give either highlights or highlights_summary, not both"},
    /* create_clip */
    {"PUT", CP, "{}", "scene_id: required"},
    {"PUT", CP, "{\"scene_id\":1}", "style: required"},
    {"PUT", CP, "{\"scene_id\":1,\"style\":\"vertical\"}", "start_time: required"},
    {"PUT", CP, "{\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"0\"}",
     "end_time: required"},
    {"PUT", CP, "{" CB_BUT_SCENE ",\"scene_id\":\"1\"}",
     "scene_id: must be a whole number from 0 to 2147483647"},
    {"PUT", CP, "{" CB_BUT_SCENE ",\"scene_id\":2147483648}",
     "scene_id: must be a whole number from 0 to 2147483647"},
    {"PUT", CP, "{" CB_BUT_STYLE ",\"style\":\"Vertical\"}",
     "style: must be 1-64 bytes of [a-z0-9-]"},
    {"PUT", CP, "{" CB_BUT_START ",\"start_time\":\"00:61:00\"}",
     "start_time: must be a string: HH:MM:SS(.fff), MM:SS(.fff) or seconds"},
    {"PUT", CP, "{" CB_BUT_END ",\"end_time\":5}",
     "end_time: must be a string: HH:MM:SS(.fff), MM:SS(.fff) or seconds"},
    {"PUT", CP,
     "{\"scene_id\":1,\"style\":\"vertical\",\"start_time\":\"00:00:09\",\"end_time\":\"8\"}",
     "end_time: before start_time"},
    {"PUT", CP, "{" CB ",\"duration_seconds\":-0.5}",
     "duration_seconds: must be a number from 0 to 604800"},
    {"PUT", CP, "{" CB ",\"priority\":-1}",
     "priority: must be a whole number from 0 to 2147483647"},
    {"PUT", CP, "{" CB ",\"status\":\"done\"}",
     "status: must be one of pending, processing, completed, failed"},
    {"PUT", CP, "{" CB ",\"file_size_bytes\":-1}",
     "file_size_bytes: must be a whole number from 0 to 5497558138880"},
    {"PUT", CP, "{" CB ",\"file_size_bytes\":1048576,\"file_size_mb\":2}",
     "file_size_mb: does not agree with file_size_bytes (1.000 MB)"},
    {"PUT", CP, "{" CB ",\"has_thumbnail\":1}", "has_thumbnail: must be true or false"},
    {"PUT", CP, "{" CB ",\"filename\":\"clip_2_vertical.mp4\"}",
     "filename: must be \"clip_1_vertical\" plus an extension (the clip id of the path)"},
    {"PUT", CP, "{" CB ",\"filename\":\"../x\"}",
     "filename: must be 1-128 bytes of [A-Za-z0-9._-], no '..' and no leading dot"},
    {"PUT", CP, "{" CB ",\"clip_id\":\"clip_2\"}",
     "clip_id: must be \"clip_1_vertical\", as in the path"},
    {"PUT", CP, "{" CB ",\"r2_key\":\"elsewhere/x.mp4\"}",
     "r2_key: must be \"u9/vbad/clips/clip_1_vertical.mp4\" (or left out)"},
    {"PUT", CP, "{" CB ",\"has_thumbnail\":true,\"thumbnail_r2_key\":\"x.jpg\"}",
     "thumbnail_r2_key: must be \"u9/vbad/thumbnails/clip_1_vertical.jpg\" (or left out)"},
    {"PUT", CP, "{" CB ",\"thumbnail_r2_key\":\"u9/vbad/thumbnails/clip_1_vertical.jpg\"}",
     "thumbnail_r2_key: must be null (or left out) when has_thumbnail is false"},
    {"PUT", CP, "{" CB ",\"scene_title\":\"a\\u0000b\"}",
     "scene_title: must not contain a NUL character"},
    {"PUT", CP, "{" CB ",\"updated_at\":null}", "updated_at: set by the server, not accepted here"},
    {"PUT", CP, "{" CB ",\"sceneid\":1}", "sceneid: unknown field"},
    /* update_clip_status */
    {"PATCH", CP, "{}", "status: required"},
    {"PATCH", CP, "{\"status\":\"completed\",\"error\":7}", "error: must be a string or null"},
    {"PATCH", CP, "{\"status\":\"Completed\"}",
     "status: must be one of pending, processing, completed, failed"},
    {"PATCH", CP, "{\"status\":\"completed\",\"file_size_bytes\":1e3}",
     "file_size_bytes: must be a whole number from 0 to 5497558138880"},
    {"PATCH", CP, "{\"status\":\"completed\",\"has_thumbnail\":\"yes\"}",
     "has_thumbnail: must be true or false"},
    {"PATCH", CP, "{\"status\":\"completed\",\"thumbnail_r2_key\":null}",
     "thumbnail_r2_key: unknown field"},
    /* the internal calls take no query parameters */
    {"PUT", VP "?dry_run=1", "{}", "dry_run: unknown query parameter"},
    {"PATCH", CP "?x", "{\"status\":\"completed\"}", "x: unknown query parameter"},
    /* statistics and upload-urls */
    {"POST", VP "/stats", "{\"force\":true}", "force: unknown field"},
    {"POST", VP "/stats", "[]", "body: must be a JSON object"},
    {"POST", CP "/upload-urls", "{\"expires_in\":0}",
     "expires_in: must be a whole number from 1 to 604800"},
    {"POST", CP "/upload-urls", "{\"expires_in\":604801}",
     "expires_in: must be a whole number from 1 to 604800"},
    {"POST", CP "/upload-urls", "{\"filename\":\"other.mp4\"}",
     "filename: must be \"clip_1_vertical\" plus an extension (the clip id of the path)"},
    {"POST", CP "/upload-urls", "{\"content_type\":\"video/webm\"}", "content_type: unknown field"},
};

static void test_every_validation_error_is_a_400_naming_the_field(void)
{
    /* the clip's video exists, so a write that slipped through would show */
    CU_ASSERT_EQUAL_FATAL(call("PUT", VP, "{\"video_title\":\"Before\"}", NULL), 201);
    json_object *d = NULL;
    char before[64];
    emu_get("users/u9/videos/vbad", &d);
    ts_of(d, "updated_at", before, sizeof before);
    json_object_put(d);
    size_t good = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        char *out = NULL, want[1024];
        long s = call(c->method, c->path, c->body, &out);
        snprintf(want, sizeof want, "{\"error\":{\"code\":\"invalid_argument\",\"message\":");
        json_object *msg = json_object_new_string(c->message);
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s,\"request_id\":\"",
                 json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(msg);
        if (s == 400 && out && strncmp(out, want, strlen(want)) == 0)
            good++;
        else
            fprintf(stderr, "case %zu (%s %s %s): status %ld, body %s\n  want %s\n", i, c->method,
                    c->path, c->body, s, out ? out : "", want);
        free(out);
    }
    CU_ASSERT_EQUAL(good, sizeof bad_cases / sizeof bad_cases[0]);
    /* nothing written: the video unchanged, no clip */
    DOC_IS("users/u9/videos/vbad",
           "video_id=s:vbad\nuser_id=s:u9\nvideo_title=s:Before\ncreated_at=t\nupdated_at=t");
    char after[64];
    emu_get("users/u9/videos/vbad", &d);
    ts_of(d, "updated_at", after, sizeof after);
    json_object_put(d);
    UNIT_ASSERT_STR(after, before);
    CU_ASSERT_EQUAL(emu_count("users/u9/videos/vbad/clips"), 0);
}

static void test_over_the_size_cap_is_413(void)
{
    size_t n = BODY_MAX + 100;
    char *body = malloc(n + 1);
    memset(body, ' ', n);
    memcpy(body, "{\"video_title\":\"", 16);
    body[n - 2] = '"';
    body[n - 1] = '}';
    body[n] = '\0';
    char *out = NULL;
    CU_ASSERT_EQUAL(call("PUT", "/api/internal/users/u9/videos/vbig413", body, &out), 413);
    CU_ASSERT_PTR_NOT_NULL(
        out &&
        strstr(
            out,
            "{\"error\":{\"code\":\"too_large\",\"message\":\"request body is over 65536 bytes\""));
    free(out);
    free(body);
    json_object *d = NULL;
    CU_ASSERT_EQUAL(emu_get("users/u9/videos/vbig413", &d), 404);
    json_object_put(d);
}

/* Issue 16, defect 3: text that is not UTF-8 (an overlong form, a surrogate raw or escaped, a
 * code point past U+10FFFF) is a 400 naming the field, through the pool and through clipctl, and
 * nothing is written: the video and the clip that did not exist still do not. */
static void test_invalid_utf8_is_a_400_and_writes_nothing(void)
{
    static const char *const cases[][2] = {
        {"{\"video_title\":\"\xc0\xaf\"}", "video_title: not valid UTF-8 (at offset 16)"},
        {"{\"video_title\":\"\xed\xa0\x80\"}", "video_title: not valid UTF-8 (at offset 16)"},
        {"{\"video_title\":\"\\ud800\"}",
         "video_title: not valid UTF-8 (unpaired surrogate escape at offset 16)"},
        {"{\"video_title\":\"\xf4\x90\x80\x80\"}", "video_title: not valid UTF-8 (at offset 16)"},
        {"{\"video_title\":\"ok\",\"status\":\"queued\",\"crop_mode\":\"\xe0\x80\xaf\"}",
         "crop_mode: not valid UTF-8 (at offset 51)"},
    };
    const char *vp = "/api/internal/users/u9/videos/vutf8";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, want[256];
        snprintf(want, sizeof want, "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"%s\"",
                 cases[i][1]);
        CU_ASSERT_EQUAL(call("PUT", vp, cases[i][0], &out), 400);
        if (!out || strncmp(out, want, strlen(want)) != 0)
            fprintf(stderr, "case %zu: %s\n  want %s\n", i, out ? out : "", want);
        CU_ASSERT_TRUE(out && strncmp(out, want, strlen(want)) == 0);
        free(out);
    }
    char *out = NULL;
    CU_ASSERT_EQUAL(call("PUT", "/api/internal/users/u9/videos/vutf8/clips/clip_1_vertical",
                         "{" CB ",\"scene_title\":\"\\udfff\"}", &out),
                    400);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "\"scene_title: not valid UTF-8 (unpaired "
                                              "surrogate escape at offset 80)\""));
    free(out);
    /* clipctl refuses the same field before it calls anything */
    char *put[] = {"video", "put", "u9", "vutf8", "video_title=\xc0\xaf", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, put), 2);
    free(out);
    json_object *d = NULL;
    CU_ASSERT_EQUAL(emu_get("users/u9/videos/vutf8", &d), 404);
    json_object_put(d);
    CU_ASSERT_EQUAL(emu_count("users/u9/videos/vutf8/clips"), 0);
}

/* ---- clipctl: the same calls from the shell -------------------------------------------------- */

static void test_clipctl_video_put_and_get(void)
{
    char *out = NULL;
    char *put[] = {"video",
                   "put",
                   "u5",
                   "vcli",
                   "video_title=From the shell",
                   "status=queued",
                   "video_url=https://example.com/v.mp4",
                   "youtube_id:=null",
                   "styles_processed:=[\"vertical\"]",
                   "crop_mode=center",
                   "target_aspect=1:1",
                   "custom_prompt=funny bits",
                   "highlights_count=2",
                   "highlights_summary:={\"total_duration\":61.5,\"categories\":[\"a\",\"b\"]}",
                   NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, put), 0);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, "{\"video_id\":\"vcli\",\"user_id\":\"u5\",\"video_url\":\"https://example.com/"
                    "v.mp4\",\"video_title\":\"From the shell\""));
    free(out);
    DOC_IS(
        "users/u5/videos/vcli",
        "video_id=s:vcli\nuser_id=s:u5\nvideo_url=s:https://example.com/v.mp4\n"
        "video_title=s:From the shell\nyoutube_id=n\nstatus=s:queued\ncustom_prompt=s:funny bits\n"
        "styles_processed=j:{\"arrayValue\":{\"values\":[{\"stringValue\":\"vertical\"}]}}\n"
        "crop_mode=s:center\ntarget_aspect=s:1:1\nhighlights_count=i:2\n"
        "highlights_summary=j:{\"mapValue\":{\"fields\":{\"total_duration\":{\"doubleValue\":61.5},"
        "\"categories\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},{\"stringValue\":"
        "\"b\"}]}}}}}\n"
        "created_at=t\nupdated_at=t");
    /* JSON on stdin, raw highlights */
    char *put2[] = {"video", "put", "--json", "-", "u5", "vcli2", NULL};
    CU_ASSERT_EQUAL(clipctl("{\"video_title\":\"stdin\",\"highlights\":[{\"duration\":2.5,\"hook_"
                            "category\":\"x\"}]}",
                            &out, put2),
                    0);
    free(out);
    DOC_IS("users/u5/videos/vcli2",
           "video_id=s:vcli2\nuser_id=s:u5\nvideo_title=s:stdin\nhighlights_count=i:1\n"
           "highlights_summary=j:{\"mapValue\":{\"fields\":{\"total_duration\":{\"doubleValue\":2."
           "5},\"categories\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"x\"}]}}}}}\n"
           "created_at=t\nupdated_at=t");
    char *get[] = {"video", "get", "--table", "u5", "vcli2", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, get), 0);
    const char *want =
        "FIELD               VALUE\nvideo_id            vcli2\nuser_id             u5\n"
        "video_url           \nvideo_title         stdin\nyoutube_id          -\n";
    CU_ASSERT_EQUAL(strncmp(out, want, strlen(want)), 0);
    free(out);
    char *missing[] = {"video", "get", "u5", "nosuch", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, missing), 1);
    free(out);
    char *badfield[] = {"video", "put", "u5", "vcli3", "status=done", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, badfield), 2);
    free(out);
    json_object *d = NULL;
    CU_ASSERT_EQUAL(emu_get("users/u5/videos/vcli3", &d), 404);
    json_object_put(d);
}

static void test_clipctl_clip_put_status_stats_list(void)
{
    char *out = NULL;
    char *put[] = {"clip",
                   "put",
                   "u5",
                   "vcli",
                   "clip_1_vertical",
                   "scene_id=1",
                   "style=vertical",
                   "start_time=00:00:01.250",
                   "end_time=00:00:11",
                   "scene_title=One",
                   "priority=2",
                   NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, put), 0);
    free(out);
    CU_ASSERT_EQUAL(clipctl(NULL, &out, put), 0); /* the same create again: fine, one clip */
    free(out);
    CU_ASSERT_EQUAL(emu_count("users/u5/videos/vcli/clips"), 1);
    DOC_IS("users/u5/videos/vcli/clips/clip_1_vertical",
           "clip_id=s:clip_1_vertical\nfilename=s:clip_1_vertical.mp4\nscene_id=i:1\n"
           "scene_title=s:One\nscene_description=n\nstyle=s:vertical\nstart_time=s:00:00:01.250\n"
           "end_time=s:00:00:11\nduration_seconds=d:9.75\npriority=i:2\nstatus=s:pending\nerror=n\n"
           "file_size_bytes=i:0\nfile_size_mb=d:0\nhas_thumbnail=b:0\n"
           "r2_key=s:u5/vcli/clips/"
           "clip_1_vertical.mp4\nthumbnail_r2_key=n\ncreated_at=t\nupdated_at=t");
    char *conflict[] = {
        "clip",           "put",          "u5",         "vcli", "clip_1_vertical", "scene_id=2",
        "style=vertical", "start_time=1", "end_time=2", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, conflict), 1);
    free(out);
    char *put2[] = {"clip", "put", "--json", "-", "u5", "vcli", "clip_2_square", NULL};
    CU_ASSERT_EQUAL(clipctl("{\"scene_id\":2,\"style\":\"square\",\"start_time\":\"10\",\"end_"
                            "time\":\"20\",\"file_size_bytes\":1048576}",
                            &out, put2),
                    0);
    free(out);
    char *status[] = {"clip",
                      "status",
                      "u5",
                      "vcli",
                      "clip_1_vertical",
                      "status=completed",
                      "file_size_bytes=2097152",
                      "has_thumbnail=true",
                      NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, status), 0);
    free(out);
    DOC_IS(
        "users/u5/videos/vcli/clips/clip_1_vertical",
        "clip_id=s:clip_1_vertical\nfilename=s:clip_1_vertical.mp4\nscene_id=i:1\n"
        "scene_title=s:One\nscene_description=n\nstyle=s:vertical\nstart_time=s:00:00:01.250\n"
        "end_time=s:00:00:11\nduration_seconds=d:9.75\npriority=i:2\nstatus=s:completed\nerror=n\n"
        "file_size_bytes=i:2097152\nfile_size_mb=d:2\nhas_thumbnail=b:1\n"
        "r2_key=s:u5/vcli/clips/clip_1_vertical.mp4\nthumbnail_r2_key=s:u5/vcli/thumbnails/"
        "clip_1_vertical.jpg\n"
        "created_at=t\nupdated_at=t");
    char *status2[] = {"clip", "status", "--json", "-", "u5", "vcli", "clip_2_square", NULL};
    CU_ASSERT_EQUAL(clipctl("{\"status\":\"failed\",\"error\":\"no audio\"}", &out, status2), 0);
    free(out);
    char *badstatus[] = {"clip", "status", "u5", "vcli", "clip_2_square", "status=gone", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, badstatus), 2);
    free(out);
    char *nostatus[] = {"clip", "status", "u5", "vcli", "nosuch", "status=completed", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, nostatus), 1);
    free(out);
    char *stats[] = {"stats", "u5", "vcli", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, stats), 0);
    UNIT_ASSERT_STR(
        out, "{\"total\":2,\"completed\":1,\"failed\":1,\"total_size_bytes\":3145728,\"total_"
             "duration_seconds\":19.75,\"by_style\":{\"square\":1,\"vertical\":1}}\n");
    free(out);
    json_object *d = NULL, *f = NULL, *cs = NULL;
    emu_get("users/u5/videos/vcli", &d);
    json_object_object_get_ex(d, "fields", &f);
    CU_ASSERT_TRUE(json_object_object_get_ex(f, "clip_stats", &cs));
    UNIT_ASSERT_STR(cs ? json_object_to_json_string_ext(cs, JSON_C_TO_STRING_PLAIN) : "",
                    "{\"mapValue\":{\"fields\":{\"total\":{\"integerValue\":\"2\"},\"completed\":{"
                    "\"integerValue\":\"1\"},\"failed\":{\"integerValue\":\"1\"},\"total_size_"
                    "bytes\":{\"integerValue\":\"3145728\"},\"total_duration_seconds\":{"
                    "\"doubleValue\":19.75},\"by_style\":{\"mapValue\":{\"fields\":{\"vertical\":{"
                    "\"integerValue\":\"1\"},\"square\":{\"integerValue\":\"1\"}}}}}}}");
    json_object_put(d);
    /* listings: one page and a cursor, every page, filters, a table */
    char *list1[] = {"clip", "list", "--limit", "1", "u5", "vcli", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, list1), 0);
    json_object *j = tj_parse(out), *clips = NULL, *next = NULL;
    CU_ASSERT_TRUE(j && json_object_object_get_ex(j, "clips", &clips) &&
                   json_object_array_length(clips) == 1);
    CU_ASSERT_TRUE(j && json_object_object_get_ex(j, "next_cursor", &next) &&
                   json_object_is_type(next, json_type_string));
    UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(clips, 0), "clip_id"), "clip_1_vertical");
    char cursor[4096];
    snprintf(cursor, sizeof cursor, "%s", next ? json_object_get_string(next) : "");
    json_object_put(j);
    free(out);
    char *list2[] = {"clip", "list", "--limit", "1", "--cursor", cursor, "u5", "vcli", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, list2), 0);
    j = tj_parse(out);
    CU_ASSERT_TRUE(j && json_object_object_get_ex(j, "clips", &clips) &&
                   json_object_array_length(clips) == 1);
    UNIT_ASSERT_STR(tj_str(json_object_array_get_idx(clips, 0), "clip_id"), "clip_2_square");
    json_object_put(j);
    free(out);
    char *all[] = {"clip", "list", "--all", "--limit", "1", "u5", "vcli", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, all), 0);
    j = tj_parse(out);
    CU_ASSERT_TRUE(j && json_object_object_get_ex(j, "clips", &clips) &&
                   json_object_array_length(clips) == 2);
    CU_ASSERT_TRUE(j && json_object_object_get_ex(j, "next_cursor", &next) && next == NULL);
    json_object_put(j);
    free(out);
    char *table[] = {"clip", "list", "--status", "completed", "--table", "u5", "vcli", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, table), 0);
    UNIT_ASSERT_STR(out, "CLIP_ID          SCENE_ID  STYLE     STATUS     PRIORITY  START_TIME    "
                         "END_TIME  DURATION_SECONDS  FILE_SIZE_BYTES  HAS_THUMBNAIL\n"
                         "clip_1_vertical  1         vertical  completed  2         00:00:01.250  "
                         "00:00:11  9.75              2097152          true\n");
    free(out);
    char *bad[] = {"clip", "list", "--all", "--cursor", "x", "u5", "vcli", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, bad), 2);
    free(out);
}

static void test_clipctl_upload_urls_and_help(void)
{
    char *out = NULL;
    char *up[] = {"upload-urls",    "--at", "20261124T120000Z", "u5", "vcli", "clip_1_vertical",
                  "expires_in=120", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, up), 0);
    json_object *j = tj_parse(out);
    UNIT_ASSERT_STR(tj_str(j, "clip.r2_key"), "u5/vcli/clips/clip_1_vertical.mp4");
    UNIT_ASSERT_STR(tj_str(j, "thumbnail.r2_key"), "u5/vcli/thumbnails/clip_1_vertical.jpg");
    CU_ASSERT_EQUAL(tj_int(j, "expires_in"), 120);
    CU_ASSERT_PTR_NOT_NULL(strstr(text_at(j, "clip.url"),
                                  "X-Amz-Date=20261124T120000Z&X-Amz-Expires=120&X-Amz-"
                                  "SignedHeaders=content-type%3Bhost&X-Amz-Signature="));
    json_object_put(j);
    /* a fixed signing time gives the same URLs again: deterministic */
    char *out2 = NULL;
    CU_ASSERT_EQUAL(clipctl(NULL, &out2, up), 0);
    UNIT_ASSERT_STR(out2, out);
    free(out2);
    free(out);
    char *fresh[] = {"upload-urls", "u5", "vcli", "clip_1_vertical", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, fresh), 0);
    j = tj_parse(out);
    char url[2048];
    snprintf(url, sizeof url, "%s", text_at(j, "clip.url"));
    json_object_put(j);
    free(out);
    CU_ASSERT_EQUAL(put_to(url, "video/mp4", "from clipctl"), 200);
    char *bad[] = {"upload-urls", "u5", "vcli", "clip_1_vertical", "filename=other.mp4", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, bad), 2);
    free(out);
    /* --help everywhere: exit 0, usage on stdout */
    const char *helps[][3] = {
        {"video", "--help", NULL},  {"video", "put", "--help"}, {"video", "get", "--help"},
        {"clip", "--help", NULL},   {"clip", "put", "--help"},  {"clip", "status", "--help"},
        {"clip", "list", "--help"}, {"stats", "--help", NULL},  {"upload-urls", "--help", NULL}};
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        char *args[4] = {(char *)helps[i][0], (char *)helps[i][1], (char *)helps[i][2], NULL};
        CU_ASSERT_EQUAL(clipctl(NULL, &out, args), 0);
        CU_ASSERT_EQUAL(strncmp(out, "usage: clipctl [--config FILE] ", 31), 0);
        free(out);
    }
    /* usage errors: exit 2 */
    char *u1[] = {"clip", "frobnicate", NULL}, *u2[] = {"stats", "u5", NULL},
         *u3[] = {"clip", "put", "u5", "vcli", "bad id!", NULL},
         *u4[] = {"video", "put", "u5", "v", "novalue", NULL};
    CU_ASSERT_EQUAL(clipctl(NULL, &out, u1), 2);
    free(out);
    CU_ASSERT_EQUAL(clipctl(NULL, &out, u2), 2);
    free(out);
    CU_ASSERT_EQUAL(clipctl(NULL, &out, u3), 2);
    free(out);
    CU_ASSERT_EQUAL(clipctl(NULL, &out, u4), 2);
    free(out);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    CU_TestInfo tests[] = {
        UNIT_TEST(test_missing_or_wrong_key_is_401),
        UNIT_TEST(test_internal_from_other_address_is_403),
        UNIT_TEST(test_video_put_writes_the_contract_document),
        UNIT_TEST(test_video_put_raw_highlights_computes_the_summary),
        UNIT_TEST(test_clip_put_writes_the_contract_document),
        UNIT_TEST(test_same_create_twice_is_one_clip),
        UNIT_TEST(test_clip_patch_status),
        UNIT_TEST(test_stats_endpoint),
        UNIT_TEST(test_stats_after_1000_clips),
        UNIT_TEST(test_50_concurrent_status_updates_lose_none),
        UNIT_TEST(test_upload_urls),
        UNIT_TEST(test_every_validation_error_is_a_400_naming_the_field),
        UNIT_TEST(test_over_the_size_cap_is_413),
        UNIT_TEST(test_invalid_utf8_is_a_400_and_writes_nothing),
        UNIT_TEST(test_clipctl_video_put_and_get),
        UNIT_TEST(test_clipctl_clip_put_status_stats_list),
        UNIT_TEST(test_clipctl_upload_urls_and_help),
        CU_TEST_INFO_NULL,
    };
    return unit_run("workflow_write_path", tests, init, clean);
}
