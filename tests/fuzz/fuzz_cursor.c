/* Fuzzes what stands behind a page cursor's MAC: the bytes are signed as a cursor payload with the
 * process's key (as if the key had leaked), then decoded and checked by the clips listing and the
 * videos listing. Whatever is accepted must be what those listings can hold: the sort values of
 * its order, and a reference to a clip right under this user's video; what the videos listing
 * decodes survives a round trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "clips.h"
#include "config.h"
#include "firestore.h"
#include "fs_value.h"
#include "http.h"
#include "ids.h"

#define KEY "fuzz-cursor-key-0123456789abcdef0123"

static fs_client *fs;

static int init(void)
{
    char path[64], err[CFG_ERR_MAX];
    snprintf(path, sizeof path, "/tmp/clipapi-fuzz-cursor.%ld", (long)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("firestore_project = p\nfirestore_emulator_host = 127.0.0.1:9\n", f);
    fclose(f);
    cfg_t *c = NULL;
    int ok = http_global_init() == CLIP_OK && cfg_load(path, &c, err, sizeof err) == CLIP_OK &&
             fs_client_new(c, &fs, err, sizeof err) == CLIP_OK;
    unlink(path);
    cfg_free(c);
    fs_cursor_set_key(KEY, strlen(KEY));
    return ok ? 0 : -1;
}

/* base64url without padding (the fuzzer's own, so that it does not test the encoder with itself) */
static void b64url(buf_t *b, const uint8_t *p, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16 |
                          (i + 1 < n ? (unsigned long)p[i + 1] << 8 : 0) |
                          (i + 2 < n ? p[i + 2] : 0);
        size_t out = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        for (size_t k = 0; k < out; k++)
            buf_putc(b, al[(v >> (18 - 6 * k)) & 63]);
    }
}

/* base64url(payload) "." base64url(HMAC-SHA256(KEY, scope NUL payload)[0..16)) */
static void mint(buf_t *out, const char *scope, const uint8_t *p, size_t n)
{
    buf_t m = BUF_INIT;
    buf_puts(&m, scope);
    buf_append(&m, "\0", 1);
    buf_append(&m, p, n);
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (unsigned char *)m.p, m.len, mac, &len);
    b64url(out, p, n);
    buf_putc(out, '.');
    b64url(out, mac, 16);
    buf_free(&m);
}

/* A reference right under prefix: prefix + one valid id. */
static int ref_under(const fs_value *v, const char *prefix)
{
    size_t n = strlen(prefix);
    return v->type == FS_REF && v->u.s.n > n && memcmp(v->u.s.p, prefix, n) == 0 &&
           ids_valid_id(v->u.s.p + n, v->u.s.n - n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (init() != 0)
            abort();
        ready = 1;
    }
    if (size > 1500)
        return 0;
    arena_t a;
    arena_init(&a, 16u << 20);
    char err[512];
    char root[256];
    snprintf(root, sizeof root, "%s/users/u/videos/v/clips/", fs_client_root(fs));

    buf_t c = BUF_INIT;
    mint(&c, "clips\nu\nv\n\n\n", data, size);
    clips_query q;
    clip_err e = clips_query_make(fs, &a, "u", "v", NULL, 10, c.p, 1, &q, err, sizeof err);
    if (e != CLIP_OK && e != CLIP_EINVAL)
        abort();
    if (e == CLIP_OK && c.len <= FS_CURSOR_MAX) {
        if (q.q.nstart != q.q.norder || q.q.nstart != 4)
            abort();
        const fs_value *s = q.q.start_values;
        if (s[0].type != FS_INT || s[1].type != FS_INT || s[2].type != FS_STRING ||
            !ids_valid_style(s[2].u.s.p, s[2].u.s.n) || !ref_under(&s[3], root))
            abort();
    }
    buf_free(&c);

    /* the videos listing's decode: what it accepts survives a round trip unchanged */
    buf_t vc = BUF_INIT;
    mint(&vc, "videos\nu", data, size);
    fs_value *vals = NULL, *back = NULL;
    size_t nv = 0, nb = 0;
    e = fs_cursor_decode(&a, "videos\nu", vc.p, vc.len, &vals, &nv, err, sizeof err);
    if (e != CLIP_OK && e != CLIP_EINVAL)
        abort();
    if (e == CLIP_OK) {
        buf_t again = BUF_INIT;
        if (fs_cursor_encode(&again, "videos\nu", vals, nv) == 0) {
            if (fs_cursor_decode(&a, "videos\nu", again.p, again.len, &back, &nb, err,
                                 sizeof err) != CLIP_OK ||
                nb != nv)
                abort();
            for (size_t i = 0; i < nv; i++)
                if (!fs_value_equal(&vals[i], &back[i]))
                    abort();
        }
        buf_free(&again);
    }
    buf_free(&vc);
    arena_free(&a);
    return 0;
}
