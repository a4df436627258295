/* Fuzzes the ID token verifier and the key set parser: any bytes give claims with a valid uid or
 * one error line. The first byte picks: 'K' key set document, 'E' token in emulator mode, else
 * token. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devtoken.h"
#include "idtoken.h"
#include "log.h"

#define FUZZ_NOW 1800000000LL

static idt_ctx *strict, *emulator, *keys;

static long long fixed_clock(void *arg)
{
    (void)arg;
    return FUZZ_NOW;
}

static idt_ctx *make(const char *emulator_host, const char *doc, size_t len)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.auth_project = "demo-fuzz";
    /* a closed port: a fetch (unknown kid) fails at once and is then rate-limited */
    c.auth_keys_url = "http://127.0.0.1:1/keys";
    c.auth_emulator_host = (char *)emulator_host;
    idt_ctx *ctx = NULL;
    if (idt_new(&c, &ctx, NULL, 0) != CLIP_OK)
        abort();
    idt_set_clock(ctx, fixed_clock, NULL);
    if (doc && idt_load_keyset(ctx, doc, len, FUZZ_NOW + 86400, NULL, 0) != CLIP_OK)
        abort();
    return ctx;
}

static void setup(void)
{
    log_init("fuzz", CFG_LOG_ERROR);
    EVP_PKEY *key = NULL;
    buf_t set = BUF_INIT;
    if (devtok_key_generate(&key, NULL, 0) != CLIP_OK ||
        devtok_keyset(key, DEVTOK_KEYSET_X509, &set, NULL, 0) != CLIP_OK)
        abort();
    strict = make(NULL, set.p, set.len);
    emulator = make("127.0.0.1:9099", set.p, set.len);
    keys = make(NULL, NULL, 0);
    buf_free(&set);
    EVP_PKEY_free(key);
}

static void one_line(clip_err rc, const char *err)
{
    if (rc != CLIP_OK && (err[0] == '\0' || strchr(err, '\n')))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!strict)
        setup();
    if (size == 0)
        return 0;
    char err[512] = "";
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] == 'K') {
        clip_err rc = idt_load_keyset(keys, p, n, FUZZ_NOW + 60, err, sizeof err);
        idt_stats st;
        idt_get_stats(keys, &st);
        if (st.nkeys > IDT_KEYS_MAX || (rc == CLIP_OK && st.nkeys == 0))
            abort();
        one_line(rc, err);
        return 0;
    }
    idt_claims cl;
    clip_err rc = idt_verify(data[0] == 'E' ? emulator : strict, p, n, &cl, err, sizeof err);
    if (rc == CLIP_OK) {
        size_t ulen = strnlen(cl.uid, sizeof cl.uid);
        if (!ids_valid_id(cl.uid, ulen) || cl.exp <= FUZZ_NOW ||
            cl.iat > FUZZ_NOW + IDT_SKEW_SECONDS || (cl.unsigned_token && data[0] != 'E'))
            abort();
    } else if (cl.uid[0] != '\0') {
        abort(); /* a refusal names no user */
    }
    one_line(rc, err);
    return 0;
}
