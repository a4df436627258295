/* R2 client and presigned URLs against a signature-checking S3 server (@20minutes/s3rver) on
 * loopback. */
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "r2.h"
#include "sigv4.h"
#include "testproc.h"
#include "unit.h"

#define BUCKET "clips"
#define NCLIPS 8
#define BIG_SIZE (300 * 1024)

static tp_proc server;
static int port;
static cfg_t *cfg;
static r2_client *r2;
static char endpoint[64];
static char datadir[1024];

/* Objects put by the suite (through presigned PUT URLs, which proves those too). */
static const char *const clip_keys[NCLIPS] = {
    "u1/v1/clips/clip_1_vertical.mp4",
    "u1/v1/clips/clip_2_vertical.mp4",
    "u1/v1/clips/clip_3_square.mp4",
    "u1/v1/clips/clip_4_vertical.mp4",
    "u1/v1/clips/clip 5 \xc3\xa9t\xc3\xa9.mp4",
    "u1/v1/clips/clip_6+x=y.mp4",
    "u1/v1/clips/clip_7_vertical.mp4",
    "u1/v1/clips/clip_8_vertical.mp4",
};

static clip_err presign(sig_presign_req *r, buf_t *url)
{
    char err[256];
    clip_err rc = sig_presign(r2_client_signer(r2), r, url, err, sizeof err);
    if (rc != CLIP_OK)
        fprintf(stderr, "presign: %s\n", err);
    return rc;
}

static int put_object(const char *key, const char *body, size_t n, const char *content_type)
{
    buf_t url = BUF_INIT;
    sig_presign_req r = {.method = SIG_PUT, .key = key, .key_len = strlen(key), .expires = 300};
    if (content_type) {
        r.content_type = content_type;
        r.content_type_len = strlen(content_type);
    }
    if (presign(&r, &url) != CLIP_OK)
        return -1;
    char ct[300];
    snprintf(ct, sizeof ct, "Content-Type: %s",
             content_type ? content_type : "application/octet-stream");
    char *headers[] = {ct, NULL};
    tp_http_resp resp;
    int rc = tp_http("PUT", url.p, headers, body, n, &resp);
    long status = resp.status;
    if (rc != 0 || status != 200)
        fprintf(stderr, "PUT %s: rc %d status %ld: %s\n", key, rc, status, resp.body);
    tp_http_free(&resp);
    buf_free(&url);
    return rc == 0 && status == 200 ? 0 : -1;
}

static int clean(void);

static int start(void)
{
    char serve[1024], portstr[16];
    char *dir = datadir;
    if (tp_tempdir("s3rver", datadir, sizeof datadir) != 0)
        return -1;
    snprintf(serve, sizeof serve, "%s/tests/emulators/s3/serve", tp_top());
    char mods[1100];
    snprintf(mods, sizeof mods, "%s/tests/emulators/s3/node_modules/@20minutes/s3rver", tp_top());
    if (access(mods, R_OK) != 0) {
        fprintf(stderr,
                "test_r2_s3rver: %s is missing: run `make deps` (npm ci in "
                "tests/emulators/s3)\n",
                mods);
        return -1;
    }
    port = tp_free_port();
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {"node",  "--openssl-legacy-provider",
                    serve,   "--port",
                    portstr, "--directory",
                    dir,     "--bucket",
                    BUCKET,  NULL};
    if (tp_start(&server, "s3rver", argv, NULL, "ready", 30000) != 0) {
        fprintf(stderr, "test_r2_s3rver: s3rver did not start\n");
        tp_dump_log(&server, 30);
        return -1;
    }
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    setenv("CLIPAPI_R2_ENDPOINT", endpoint, 1);
    setenv("CLIPAPI_R2_BUCKET", BUCKET, 1);
    setenv("CLIPAPI_R2_ACCESS_KEY_ID", "S3RVER", 1);
    setenv("CLIPAPI_R2_SECRET_ACCESS_KEY", "S3RVER", 1);
    setenv("CLIPAPI_R2_REGION", "auto", 1);
    char err[256];
    if (cfg_load("/dev/null", &cfg, err, sizeof err) != CLIP_OK ||
        r2_client_new(cfg, &r2, err, sizeof err) != CLIP_OK || http_global_init() != CLIP_OK) {
        fprintf(stderr, "test_r2_s3rver: set-up: %s\n", err);
        return -1;
    }
    r2_client_set_timeout(r2, 5000);
    char body[128];
    for (int i = 0; i < NCLIPS; i++) {
        int n = snprintf(body, sizeof body, "clip body %d", i);
        if (put_object(clip_keys[i], body, (size_t)n, "video/mp4") != 0)
            return -1;
    }
    if (put_object("u1/v1/thumbnails/clip_1_vertical.jpg", "jpg", 3, "image/jpeg") != 0 ||
        put_object("u1/v2/highlights.json", "{\"highlights\":[]}", 17, NULL) != 0)
        return -1;
    char *big = malloc(BIG_SIZE);
    for (int i = 0; i < BIG_SIZE; i++)
        big[i] = (char)('a' + i % 26);
    int rc = put_object("u1/v1/big.bin", big, BIG_SIZE, NULL);
    free(big);
    return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* CUnit skips the cleanup when the init fails: stop what was started either way. */
static int init(void)
{
    if (start() == 0)
        return 0;
    clean();
    return -1;
}

static int clean(void)
{
    r2_client_free(r2);
    r2 = NULL;
    cfg_free(cfg);
    cfg = NULL;
    http_global_cleanup();
    if (server.pid > 0 && tp_stop(&server, SIGTERM, 5000) == -1)
        fprintf(stderr, "test_r2_s3rver: s3rver did not stop\n");
    server.pid = 0;
    if (datadir[0])
        nftw(datadir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_list_paginates(void)
{
    char err[256];
    char *seen[NCLIPS + 4];
    size_t nseen = 0;
    int pages = 0;
    char *token = NULL;
    do {
        r2_list l;
        clip_err rc = r2_list_objects(r2, "u1/v1/clips/", NULL, token, 3, &l, err, sizeof err);
        if (rc != CLIP_OK)
            fprintf(stderr, "list: %s\n", err);
        CU_ASSERT_EQUAL_FATAL(rc, CLIP_OK);
        pages++;
        CU_ASSERT(l.nobjects <= 3);
        for (size_t i = 0; i < l.nobjects && nseen < NCLIPS + 4; i++) {
            seen[nseen++] = strdup(l.objects[i].key);
            CU_ASSERT_EQUAL(l.objects[i].size, 11);
            CU_ASSERT_PTR_NOT_NULL(l.objects[i].etag);
        }
        free(token);
        token = l.next_token ? strdup(l.next_token) : NULL;
        CU_ASSERT_EQUAL(l.truncated, token != NULL);
        r2_list_free(&l);
    } while (token && pages < 10);
    CU_ASSERT_EQUAL(pages, 3);
    CU_ASSERT_EQUAL_FATAL(nseen, NCLIPS);
    /* S3 lists in byte order of the keys */
    const char *want[NCLIPS];
    memcpy(want, clip_keys, sizeof want);
    qsort(want, NCLIPS, sizeof want[0], cmp_str);
    for (size_t i = 0; i < NCLIPS; i++) {
        UNIT_ASSERT_STR(seen[i], want[i]);
        free(seen[i]);
    }
}

static void test_list_delimiter(void)
{
    char err[256];
    r2_list l;
    CU_ASSERT_EQUAL_FATAL(r2_list_objects(r2, "u1/", "/", NULL, 0, &l, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(l.nobjects, 0);
    CU_ASSERT_EQUAL_FATAL(l.nprefixes, 2);
    UNIT_ASSERT_STR(l.prefixes[0], "u1/v1/");
    UNIT_ASSERT_STR(l.prefixes[1], "u1/v2/");
    CU_ASSERT_FALSE(l.truncated);
    r2_list_free(&l);
    CU_ASSERT_EQUAL_FATAL(r2_list_objects(r2, "u1/v1/", "/", NULL, 0, &l, err, sizeof err),
                          CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(l.nobjects, 1);
    UNIT_ASSERT_STR(l.objects[0].key, "u1/v1/big.bin");
    CU_ASSERT_EQUAL(l.objects[0].size, BIG_SIZE);
    CU_ASSERT_EQUAL(l.nprefixes, 2); /* clips/ and thumbnails/ */
    r2_list_free(&l);
    CU_ASSERT_EQUAL_FATAL(r2_list_objects(r2, "nothing/", NULL, NULL, 0, &l, err, sizeof err),
                          CLIP_OK);
    CU_ASSERT_EQUAL(l.nobjects, 0);
    r2_list_free(&l);
}

static void test_get_and_head(void)
{
    char err[256];
    buf_t b = BUF_INIT;
    const char *key = clip_keys[4]; /* spaces and UTF-8 */
    CU_ASSERT_EQUAL(r2_get_object(r2, key, strlen(key), 0, &b, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(b.p, "clip body 4");
    buf_reset(&b);
    CU_ASSERT_EQUAL(r2_get_object(r2, "u1/v1/big.bin", 13, 0, &b, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(b.len, BIG_SIZE);
    CU_ASSERT(b.len == BIG_SIZE && b.p[BIG_SIZE - 1] == (char)('a' + (BIG_SIZE - 1) % 26));
    buf_reset(&b);
    CU_ASSERT_EQUAL(r2_get_object(r2, "u1/v1/big.bin", 13, 1000, &b, err, sizeof err),
                    CLIP_ETOOBIG);
    buf_reset(&b);
    CU_ASSERT_EQUAL(r2_get_object(r2, "u1/none", 7, 0, &b, err, sizeof err), CLIP_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "NoSuchKey"));
    buf_free(&b);

    r2_head h;
    CU_ASSERT_EQUAL(r2_head_object(r2, key, strlen(key), &h, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(h.size, 11);
    UNIT_ASSERT_STR(h.content_type, "video/mp4");
    CU_ASSERT_EQUAL(h.etag[0], '"');
    CU_ASSERT(h.last_modified[0] != '\0');
    CU_ASSERT_EQUAL(r2_head_object(r2, "u1/v1/big.bin", 13, &h, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(h.size, BIG_SIZE);
    CU_ASSERT_EQUAL(r2_head_object(r2, "u1/none", 7, &h, err, sizeof err), CLIP_ENOTFOUND);
}

static void test_wrong_secret_is_refused(void)
{
    char err[256];
    setenv("CLIPAPI_R2_SECRET_ACCESS_KEY", "NOT-THE-SECRET", 1);
    cfg_t *c2 = NULL;
    r2_client *bad = NULL;
    CU_ASSERT_EQUAL_FATAL(cfg_load("/dev/null", &c2, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(r2_client_new(c2, &bad, err, sizeof err), CLIP_OK);
    setenv("CLIPAPI_R2_SECRET_ACCESS_KEY", "S3RVER", 1);
    r2_list l;
    CU_ASSERT_EQUAL(r2_list_objects(bad, NULL, NULL, NULL, 0, &l, err, sizeof err), CLIP_EBACKEND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "403"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "SignatureDoesNotMatch"));
    r2_list_free(&l);
    r2_client_free(bad);
    cfg_free(c2);
}

static long fetch(const char *url, tp_http_resp *resp)
{
    if (tp_http("GET", url, NULL, NULL, 0, resp) != 0)
        return -1;
    return resp->status;
}

static void test_presigned_get(void)
{
    buf_t url = BUF_INIT;
    const char *key = clip_keys[5]; /* + and = in the key */
    sig_presign_req r = {.method = SIG_GET, .key = key, .key_len = strlen(key), .expires = 60};
    CU_ASSERT_EQUAL_FATAL(presign(&r, &url), CLIP_OK);
    tp_http_resp resp;
    CU_ASSERT_EQUAL(fetch(url.p, &resp), 200);
    UNIT_ASSERT_STR(resp.body, "clip body 5");
    tp_http_free(&resp);

    /* one signature character changed: refused */
    char *sig = strstr(url.p, "X-Amz-Signature=");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sig);
    char *last = url.p + url.len - 1;
    *last = *last == '0' ? '1' : '0';
    CU_ASSERT_EQUAL(fetch(url.p, &resp), 403);
    CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "SignatureDoesNotMatch"));
    tp_http_free(&resp);

    /* signed two hours ago for one minute: expired */
    buf_reset(&url);
    r.when = time(NULL) - 7200;
    CU_ASSERT_EQUAL_FATAL(presign(&r, &url), CLIP_OK);
    CU_ASSERT_EQUAL(fetch(url.p, &resp), 403);
    CU_ASSERT_PTR_NOT_NULL(strstr(resp.body, "AccessDenied"));
    tp_http_free(&resp);

    /* response overrides are honoured (download=1 of the API) */
    buf_reset(&url);
    r.when = 0;
    r.response_content_disposition = "attachment; filename=\"clip_6.mp4\"";
    r.response_content_disposition_len = strlen(r.response_content_disposition);
    CU_ASSERT_EQUAL_FATAL(presign(&r, &url), CLIP_OK);
    CU_ASSERT_EQUAL(fetch(url.p, &resp), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(resp.headers, "attachment; filename=\"clip_6.mp4\""));
    tp_http_free(&resp);

    /* HEAD through a presigned URL */
    buf_reset(&url);
    sig_presign_req h = {.method = SIG_HEAD, .key = key, .key_len = strlen(key), .expires = 60};
    CU_ASSERT_EQUAL_FATAL(presign(&h, &url), CLIP_OK);
    CU_ASSERT_EQUAL(tp_http("HEAD", url.p, NULL, NULL, 0, &resp), 0);
    CU_ASSERT_EQUAL(resp.status, 200);
    tp_http_free(&resp);
    buf_free(&url);
}

static void test_presigned_put_binds_content_type(void)
{
    buf_t url = BUF_INIT;
    sig_presign_req r = {.method = SIG_PUT,
                         .key = "u9/ct.bin",
                         .key_len = 9,
                         .expires = 60,
                         .content_type = "video/mp4",
                         .content_type_len = 9};
    CU_ASSERT_EQUAL_FATAL(presign(&r, &url), CLIP_OK);
    char *other[] = {"Content-Type: text/plain", NULL};
    tp_http_resp resp;
    CU_ASSERT_EQUAL(tp_http("PUT", url.p, other, "x", 1, &resp), 0);
    CU_ASSERT_EQUAL(resp.status, 403); /* a different Content-Type breaks the signature */
    tp_http_free(&resp);
    char *right[] = {"Content-Type: video/mp4", NULL};
    CU_ASSERT_EQUAL(tp_http("PUT", url.p, right, "x", 1, &resp), 0);
    CU_ASSERT_EQUAL(resp.status, 200);
    tp_http_free(&resp);
    buf_free(&url);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_list_paginates),
                           UNIT_TEST(test_list_delimiter),
                           UNIT_TEST(test_get_and_head),
                           UNIT_TEST(test_wrong_secret_is_refused),
                           UNIT_TEST(test_presigned_get),
                           UNIT_TEST(test_presigned_put_binds_content_type),
                           CU_TEST_INFO_NULL};
    return unit_run("r2_s3rver", tests, init, clean);
}
