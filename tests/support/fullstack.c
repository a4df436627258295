/* fullstack: starts and wires the backends and the serving stack for API tests. */
#include "fullstack.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "devtoken.h"
#include "http.h"
#include "r2.h"
#include "sigv4.h"

static mh_action serve_keys(const mh_request *req, mh_response *resp, void *ctx)
{
    fullstack *f = ctx;
    if (strcmp(req->path, "/keys.json") != 0) {
        resp->status = 404;
        return MH_RESPOND;
    }
    buf_puts(&resp->headers, "Content-Type: application/json\r\nCache-Control: public, max-age=300\r\n");
    buf_append(&resp->body, f->keyset.p, f->keyset.len);
    __atomic_add_fetch(&f->keys_served, 1, __ATOMIC_SEQ_CST);
    return MH_RESPOND;
}

static int start_backends(fullstack *f)
{
    char err[256];
    if (devtok_key_generate(&f->key, err, sizeof err) != CLIP_OK ||
        devtok_keyset(f->key, DEVTOK_KEYSET_X509, &f->keyset, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "fullstack: dev key: %s\n", err);
        return -1;
    }
    f->keys_httpd = mh_start(serve_keys, f, &f->keys_port);
    if (!f->keys_httpd)
        return -1;

    struct stat sb;
    char idx[600];
    snprintf(idx, sizeof idx, "%s/firestore.indexes.json", tp_top());
    if (fsemu_start(&f->fs, "firestore-emulator",
                    stat(idx, &sb) == 0 ? "firestore.indexes.json" : NULL) != 0)
        return -1;

    char s3script[600], s3port[16], s3dir[512];
    f->s3_port = tp_free_port();
    snprintf(s3port, sizeof s3port, "%d", f->s3_port);
    snprintf(s3script, sizeof s3script, "%s/tests/emulators/s3/serve", tp_top());
    snprintf(s3dir, sizeof s3dir, "%s/s3", f->dir);
    mkdir(s3dir, 0755);
    char *s3_argv[] = {"node", "--openssl-legacy-provider", s3script, "--port", s3port,
                       "--directory", s3dir, "--bucket", FULL_BUCKET, NULL};
    if (tp_start(&f->s3, "s3-server", s3_argv, NULL, "ready", 30000) != 0)
        return -1;

    /* a service key for /api/internal/ */
    unsigned char rnd[16];
    FILE *ur = fopen("/dev/urandom", "rb");
    if (!ur || fread(rnd, 1, sizeof rnd, ur) != sizeof rnd) {
        if (ur)
            fclose(ur);
        return -1;
    }
    fclose(ur);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(f->internal_key + 2 * i, 3, "%02x", rnd[i]);
    snprintf(f->internal_keys_file, sizeof f->internal_keys_file, "%s/internal-keys", f->dir);
    char keys_text[200];
    snprintf(keys_text, sizeof keys_text, "# test service keys\n%s\n", f->internal_key);
    if (tp_write_file(f->internal_keys_file, keys_text) != 0)
        return -1;

    snprintf(f->conf_text, sizeof f->conf_text,
             "firestore_project = %s\n"
             "firestore_emulator_host = %s\n"
             "auth_project = %s\n"
             "firestore_timeout_ms = 2000\n"
             "auth_keys_url = http://127.0.0.1:%d/keys.json\n"
             "r2_endpoint = http://127.0.0.1:%d\n"
             "r2_bucket = %s\n"
             "r2_access_key_id = %s\n"
             "r2_secret_access_key = %s\n"
             "internal_keys_file = %s\n",
             f->fs.project, f->fs.host, FULL_PROJECT, f->keys_port, f->s3_port, FULL_BUCKET, FULL_S3_KEY,
             FULL_S3_KEY, f->internal_keys_file);
    char cpath[600];
    snprintf(cpath, sizeof cpath, "%s/backends.conf", f->dir);
    if (tp_write_file(cpath, f->conf_text) != 0 ||
        cfg_load(cpath, &f->cfg, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "fullstack: config: %s\n", err);
        return -1;
    }
    return 0;
}

int fullstack_restart_pool(fullstack *f, int workers, const char *conf_extra)
{
    stack_stop(&f->st);
    char conf[8192];
    snprintf(conf, sizeof conf, "%s%s\n", f->conf_text, conf_extra ? conf_extra : "");
    __atomic_store_n(&f->keys_served, 0, __ATOMIC_SEQ_CST);
    return stack_start(&f->st, "api", workers, conf, NULL);
}

int fullstack_start(fullstack *f, const char *tag, int workers, const char *conf_extra)
{
    memset(f, 0, sizeof *f);
    buf_init(&f->keyset, 0);
    if (tp_tempdir(tag, f->dir, sizeof f->dir) != 0 || http_global_init() != CLIP_OK)
        return -1;
    if (start_backends(f) != 0) {
        fullstack_stop(f);
        return -1;
    }
    char conf[8192];
    snprintf(conf, sizeof conf, "%s%s\n", f->conf_text, conf_extra ? conf_extra : "");
    if (stack_start(&f->st, tag, workers, conf, NULL) != 0) {
        fullstack_stop(f);
        return -1;
    }
    return 0;
}

void fullstack_stop(fullstack *f)
{
    stack_stop(&f->st);
    fsemu_stop(&f->fs);
    if (f->s3.pid > 0)
        tp_stop(&f->s3, SIGTERM, 5000);
    if (f->keys_httpd)
        mh_stop(f->keys_httpd);
    f->keys_httpd = NULL;
    EVP_PKEY_free(f->key);
    f->key = NULL;
    buf_free(&f->keyset);
    cfg_free(f->cfg);
    f->cfg = NULL;
    http_global_cleanup();
}

int fullstack_token(fullstack *f, const char *uid, buf_t *out)
{
    char err[256];
    return devtok_mint(f->key, FULL_PROJECT, uid, (long long)time(NULL), 3600, out, err,
                       sizeof err) == CLIP_OK
               ? 0
               : -1;
}

int fullstack_token_raw(fullstack *f, const char *header_json, const char *payload_json, buf_t *out)
{
    char err[256];
    return devtok_sign(f->key, header_json, payload_json, out, err, sizeof err) == CLIP_OK ? 0 : -1;
}

int fullstack_auth_header(fullstack *f, const char *uid, char *out, size_t outlen)
{
    buf_t t = BUF_INIT;
    int rc = fullstack_token(f, uid, &t);
    if (rc == 0 && (size_t)snprintf(out, outlen, "Authorization: Bearer %s", t.p) >= outlen)
        rc = -1;
    buf_free(&t);
    return rc;
}

int fullstack_s3_put(fullstack *f, const char *key, const void *data, size_t len,
                     const char *content_type)
{
    sig_signer *s = NULL;
    char err[256];
    if (r2_signer_from_cfg(f->cfg, &s, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "fullstack: signer: %s\n", err);
        return -1;
    }
    buf_t url = BUF_INIT;
    sig_auth auth;
    int rc = -1;
    if (sig_s3_request(s, "PUT", key, strlen(key), NULL, 0, SIG_UNSIGNED_PAYLOAD, 0, &url, &auth,
                       err, sizeof err) == CLIP_OK) {
        char h1[SIG_AUTHORIZATION_MAX + 32], h2[64], h3[128], h4[300];
        snprintf(h1, sizeof h1, "Authorization: %s", auth.authorization);
        snprintf(h2, sizeof h2, "x-amz-date: %s", auth.amz_date);
        snprintf(h3, sizeof h3, "x-amz-content-sha256: %s", auth.payload_hash);
        snprintf(h4, sizeof h4, "Content-Type: %s", content_type ? content_type : "application/octet-stream");
        char *hdrs[] = {h1, h2, h3, h4, NULL};
        tp_http_resp r;
        if (tp_http("PUT", url.p, hdrs, data, len, &r) == 0 && r.status == 200)
            rc = 0;
        else
            fprintf(stderr, "fullstack: PUT %s: %ld %s\n", key, r.status, r.body ? r.body : "");
        tp_http_free(&r);
    } else {
        fprintf(stderr, "fullstack: sign PUT %s: %s\n", key, err);
    }
    buf_free(&url);
    sig_signer_free(s);
    return rc;
}

int fullstack_fs_get(fullstack *f, const char *rel_path, tp_http_resp *out)
{
    char url[2048];
    snprintf(url, sizeof url, "http://%s/v1/projects/%s/databases/(default)/documents/%s",
             f->fs.host, f->fs.project, rel_path);
    char *hdrs[] = {"Authorization: Bearer owner", NULL};
    return tp_http("GET", url, hdrs, NULL, 0, out);
}

int fullstack_fs_reset(fullstack *f)
{
    return fsemu_reset(&f->fs);
}
