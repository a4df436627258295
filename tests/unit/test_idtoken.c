/* Tests of core/idtoken (and core/devtoken): every refusal's exact error, emulator mode, key set
 * formats, caching per max-age with an injected clock, rate-limited refetches, stale keys kept. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "devtoken.h"
#include "http.h"
#include "idtoken.h"
#include "minihttpd.h"
#include "testproc.h"
#include "unit.h"

#define PROJECT "proj-test"
#define ISSUER "https://securetoken.google.com/" PROJECT
#define T0 1800000000LL /* the fake clock's start */

static EVP_PKEY *key1, *key2; /* generated at test time, never stored */
static char kid1[DEVTOK_KID_MAX], kid2[DEVTOK_KID_MAX];

/* ---- the key set server -------------------------------------------------------------------- */

typedef struct {
    int requests;
    int status;             /* 200 unless set */
    char cache_control[64]; /* "" = no header */
    buf_t doc;
} keyserver;

static keyserver ks;
static minihttpd *mh;
static char keys_url[128];

static mh_action ks_handler(const mh_request *req, mh_response *resp, void *ctx)
{
    keyserver *k = ctx;
    (void)req;
    __atomic_add_fetch(&k->requests, 1, __ATOMIC_SEQ_CST);
    resp->status = k->status ? k->status : 200;
    if (k->cache_control[0])
        buf_printf(&resp->headers, "Cache-Control: %s\r\n", k->cache_control);
    buf_puts(&resp->headers, "Content-Type: application/json; charset=UTF-8\r\n");
    if (k->doc.len)
        buf_append(&resp->body, k->doc.p, k->doc.len);
    return MH_RESPOND;
}

static int fetched(void)
{
    return __atomic_load_n(&ks.requests, __ATOMIC_SEQ_CST);
}

/* The server answers 200 with key's set in fmt and max-age (0: no Cache-Control). */
static void serve(EVP_PKEY *key, devtok_keyset_fmt fmt, int max_age)
{
    buf_reset(&ks.doc);
    CU_ASSERT_EQUAL_FATAL(devtok_keyset(key, fmt, &ks.doc, NULL, 0), CLIP_OK);
    ks.status = 200;
    if (max_age)
        snprintf(ks.cache_control, sizeof ks.cache_control, "public, max-age=%d, must-revalidate",
                 max_age);
    else
        ks.cache_control[0] = '\0';
}

/* ---- clock and verifier ------------------------------------------------------------------- */

static long long fake_now = T0;

static long long fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static idt_ctx *new_ctx(const char *emulator_host)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.auth_project = PROJECT;
    c.auth_keys_url = keys_url;
    c.auth_emulator_host = (char *)emulator_host;
    idt_ctx *ctx = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_new(&c, &ctx, err, sizeof err), CLIP_OK);
    if (ctx)
        idt_set_clock(ctx, fake_clock, NULL);
    return ctx;
}

/* ---- token builders ----------------------------------------------------------------------- */

/* Claims JSON with the usual values unless overridden. */
static void claims(char *out, size_t n, const char *aud, const char *iss, const char *sub,
                   long long iat, long long exp, long long auth_time)
{
    snprintf(out, n,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"auth_time\":%lld,\"user_id\":\"%s\",\"sub\":\"%s\","
             "\"iat\":%lld,\"exp\":%lld,\"firebase\":{\"identities\":{},\"sign_in_provider\":"
             "\"custom\"}}",
             iss, aud, auth_time, sub, sub, iat, exp);
}

static void std_claims(char *out, size_t n)
{
    claims(out, n, PROJECT, ISSUER, "user_A1", fake_now - 10, fake_now + 3600, fake_now - 100);
}

/* An RS256 token over payload, signed by key with kid in the header. Owned by the caller. */
static char *signed_token(EVP_PKEY *key, const char *kid, const char *payload)
{
    char hdr[256];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    buf_t b = BUF_INIT;
    CU_ASSERT_EQUAL(devtok_sign(key, hdr, payload, &b, NULL, 0), CLIP_OK);
    return buf_take(&b);
}

/* base64url(header) "." base64url(payload) "." sig_b64 (may be ""). */
static char *raw_token(const char *header, const char *payload, const char *sig_b64)
{
    buf_t b = BUF_INIT;
    codec_base64url_encode(&b, header, strlen(header));
    buf_putc(&b, '.');
    codec_base64url_encode(&b, payload, strlen(payload));
    buf_putc(&b, '.');
    buf_puts(&b, sig_b64);
    return buf_take(&b);
}

/* Verifies tok and checks the exact error and message. */
static void expect(idt_ctx *ctx, const char *tok, clip_err want, const char *msg, int line)
{
    idt_claims cl;
    char err[256] = "";
    clip_err e = idt_verify(ctx, tok, tok ? strlen(tok) : 0, &cl, err, sizeof err);
    if (e != want || (msg && strcmp(err, msg) != 0))
        fprintf(stderr, "line %d: expected %s \"%s\", got %s \"%s\"\n", line, clip_err_code(want),
                msg ? msg : "", clip_err_code(e), err);
    CU_ASSERT_EQUAL(e, want);
    if (msg)
        UNIT_ASSERT_STR(err, msg);
    if (e != CLIP_OK)
        UNIT_ASSERT_STR(cl.uid, "");
}
#define EXPECT(ctx, tok, want, msg) expect(ctx, tok, want, msg, __LINE__)

/* ---- tests -------------------------------------------------------------------------------- */

static void test_cache_ttl(void)
{
    const char *v = "public, max-age=19204, must-revalidate, no-transform";
    CU_ASSERT_EQUAL(idt_cache_ttl(v, strlen(v)), 19204);
    CU_ASSERT_EQUAL(idt_cache_ttl("MAX-AGE=600", 11), 600);
    CU_ASSERT_EQUAL(idt_cache_ttl("max-age=5", 9), IDT_KEYS_TTL_MIN);
    CU_ASSERT_EQUAL(idt_cache_ttl("max-age=99999999999", 19), IDT_KEYS_TTL_DEFAULT); /* 11 digits */
    CU_ASSERT_EQUAL(idt_cache_ttl("max-age=999999", 14), IDT_KEYS_TTL_MAX);
    CU_ASSERT_EQUAL(idt_cache_ttl("s-maxage=100", 12), IDT_KEYS_TTL_DEFAULT);
    CU_ASSERT_EQUAL(idt_cache_ttl("no-cache", 8), IDT_KEYS_TTL_DEFAULT);
    CU_ASSERT_EQUAL(idt_cache_ttl("max-age=12x", 11), IDT_KEYS_TTL_DEFAULT);
    CU_ASSERT_EQUAL(idt_cache_ttl("max-age=", 8), IDT_KEYS_TTL_DEFAULT);
    CU_ASSERT_EQUAL(idt_cache_ttl(NULL, 0), IDT_KEYS_TTL_DEFAULT);
    /* length-bounded: the value is not NUL-terminated where the caller says it ends */
    CU_ASSERT_EQUAL(idt_cache_ttl("max-age=300000", 11), 300);
}

static void test_new_needs_project(void)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.auth_keys_url = keys_url;
    idt_ctx *ctx = (idt_ctx *)1;
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_new(&c, &ctx, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_PTR_NULL(ctx);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "auth_project: not set"));
}

static void test_valid_token(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024];
    std_claims(pl, sizeof pl);
    char *tok = signed_token(key1, kid1, pl);
    idt_claims cl;
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_verify(ctx, tok, strlen(tok), &cl, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(err, "");
    UNIT_ASSERT_STR(cl.uid, "user_A1");
    CU_ASSERT_EQUAL(cl.iat, T0 - 10);
    CU_ASSERT_EQUAL(cl.exp, T0 + 3600);
    CU_ASSERT_EQUAL(cl.auth_time, T0 - 100);
    CU_ASSERT_EQUAL(cl.unsigned_token, 0);
    free(tok);

    /* devtok_mint's tokens are the same shape */
    buf_t b = BUF_INIT;
    CU_ASSERT_EQUAL(devtok_mint(key1, PROJECT, "Zz9-_", T0, 60, &b, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(idt_verify(ctx, b.p, b.len, &cl, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(cl.uid, "Zz9-_");
    CU_ASSERT_EQUAL(cl.exp, T0 + 60);
    buf_free(&b);
    idt_free(ctx);
}

static void test_missing_and_malformed(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    int before = fetched();
    EXPECT(ctx, NULL, CLIP_EAUTH, "no ID token");
    EXPECT(ctx, "", CLIP_EAUTH, "no ID token");
    char *longtok = malloc(IDT_TOKEN_MAX + 2);
    memset(longtok, 'a', IDT_TOKEN_MAX + 1);
    longtok[IDT_TOKEN_MAX + 1] = '\0';
    EXPECT(ctx, longtok, CLIP_EAUTH, "ID token is longer than 8192 bytes");
    free(longtok);
    EXPECT(ctx, "abc", CLIP_EAUTH, "ID token is not a JWT (three dot-separated parts)");
    EXPECT(ctx, "eyJh.eyJh", CLIP_EAUTH, "ID token is not a JWT (three dot-separated parts)");
    EXPECT(ctx, "a.b.c.d", CLIP_EAUTH, "ID token is not a JWT (three dot-separated parts)");
    EXPECT(ctx, "..", CLIP_EAUTH, "ID token header is not base64url");
    EXPECT(ctx, "e+J.eyJh.c2ln", CLIP_EAUTH, "ID token header is not base64url");
    EXPECT(ctx, "eyJhbGciOiJSUzI1NiJ9.a=b.c2ln", CLIP_EAUTH, "ID token payload is not base64url");
    EXPECT(ctx, "eyJhbGciOiJSUzI1NiJ9.eyJh.c2l/", CLIP_EAUTH,
           "ID token signature is not base64url");

    char pl[1024];
    std_claims(pl, sizeof pl);
    char *t = raw_token("not json", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token header is not a JSON object");
    free(t);
    t = raw_token("[\"RS256\"]", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token header is not a JSON object");
    free(t);
    t = raw_token("{\"alg\":\"RS256\",\"kid\":\"k\"} x", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token header is not a JSON object");
    free(t);
    t = raw_token("{\"typ\":\"JWT\"}", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token header has no alg");
    free(t);
    t = raw_token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token header has no kid");
    free(t);
    char hdr[256];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid1);
    t = raw_token(hdr, "{\"sub\":", "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token payload is not a JSON object");
    free(t);
    t = raw_token(hdr, "[1,2]", "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token payload is not a JSON object");
    free(t);
    t = raw_token(hdr, "{\"sub\":\"\xff\xfe\"}", "c2ln"); /* invalid UTF-8 */
    EXPECT(ctx, t, CLIP_EAUTH, "ID token payload is not a JSON object");
    free(t);
    /* deeper than IDT_JSON_DEPTH */
    char deep[128] = "";
    for (int i = 0; i < 20; i++)
        strcat(deep, "[");
    char deeppl[256];
    snprintf(deeppl, sizeof deeppl, "{\"x\":%s", deep);
    t = raw_token(hdr, deeppl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token payload is not a JSON object");
    free(t);
    CU_ASSERT_EQUAL(fetched(), before); /* none of these touched the network */
    idt_free(ctx);
}

static void test_times(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024];
    char *t;

    claims(pl, sizeof pl, PROJECT, ISSUER, "u1", T0 - 3600, T0, T0 - 3600);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has expired");
    free(t);
    claims(pl, sizeof pl, PROJECT, ISSUER, "u1", T0 - 3600, T0 + 1, T0 - 3600); /* last second */
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    claims(pl, sizeof pl, PROJECT, ISSUER, "u1", T0 + IDT_SKEW_SECONDS + 1, T0 + 3600, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token is issued in the future (iat)");
    free(t);
    claims(pl, sizeof pl, PROJECT, ISSUER, "u1", T0 + IDT_SKEW_SECONDS, T0 + 3600, T0); /* skew */
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    claims(pl, sizeof pl, PROJECT, ISSUER, "u1", T0, T0 + 3600, T0 + IDT_SKEW_SECONDS + 1);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token auth_time is in the future");
    free(t);

    snprintf(pl, sizeof pl,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u1\",\"iat\":%lld,\"auth_time\":%lld}",
             ISSUER, PROJECT, T0, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has no numeric exp");
    free(t);
    snprintf(pl, sizeof pl,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u1\",\"iat\":%lld,\"exp\":\"%lld\","
             "\"auth_time\":%lld}",
             ISSUER, PROJECT, T0, T0 + 100, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has no numeric exp");
    free(t);
    snprintf(pl, sizeof pl,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u1\",\"exp\":%lld,\"auth_time\":%lld}",
             ISSUER, PROJECT, T0 + 100, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has no numeric iat");
    free(t);
    snprintf(pl, sizeof pl,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u1\",\"iat\":%lld,\"exp\":%lld}", ISSUER,
             PROJECT, T0, T0 + 100);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has no numeric auth_time");
    free(t);
    idt_free(ctx);
}

/* Each time claim outside its range is refused, whatever the signature (issue 16, defect 6: a
 * signed exp of 2^63 was accepted while 1e300 was refused). */
static void test_time_ranges(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    static const char *const names[3] = {"exp", "iat", "auth_time"};
    static const char *const out_of_range[] = {
        "9223372036854775808",     /* 2^63 */
        "9223372036854775807",     /* 2^63 - 1 */
        "18446744073709551615",    /* 2^64 - 1 */
        "-9223372036854775809",
        "1e300",
        "1e20",
        "253402300800", /* IDT_TIME_MAX + 1 */
        "-1",
        "0",
        "-0.0",
        "0.5",
        "1700000000.5",
        "1.0000000001e9",
    };
    static const char *const not_numbers[] = {"\"1700000000\"", "true", "null", "[1]", "{}", "\"\""};
    char pl[1024], v[3][64], want[128];
    for (int c = 0; c < 3; c++) {
        size_t nbad = sizeof out_of_range / sizeof out_of_range[0];
        size_t nnot = sizeof not_numbers / sizeof not_numbers[0];
        for (size_t b = 0; b < nbad + nnot; b++) {
            snprintf(v[0], sizeof v[0], "%lld", T0 + 3600);
            snprintf(v[1], sizeof v[1], "%lld", T0 - 10);
            snprintf(v[2], sizeof v[2], "%lld", T0 - 100);
            snprintf(v[c], sizeof v[c], "%s", b < nbad ? out_of_range[b] : not_numbers[b - nbad]);
            snprintf(pl, sizeof pl,
                     "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u1\",\"exp\":%s,\"iat\":%s,"
                     "\"auth_time\":%s}",
                     ISSUER, PROJECT, v[0], v[1], v[2]);
            if (b < nbad)
                snprintf(want, sizeof want,
                         "ID token %s is not a whole number of seconds in 1..253402300799", names[c]);
            else
                snprintf(want, sizeof want, "ID token has no numeric %s", names[c]);
            char *t = signed_token(key1, kid1, pl);
            EXPECT(ctx, t, CLIP_EAUTH, want);
            free(t);
        }
    }
    /* the edges that are dates: a whole number written as a double, and the last date */
    idt_claims cl;
    char err[256];
    snprintf(pl, sizeof pl,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u1\",\"exp\":253402300799,"
             "\"iat\":%lld.0,\"auth_time\":1}",
             ISSUER, PROJECT, T0);
    char *t = signed_token(key1, kid1, pl);
    CU_ASSERT_EQUAL(idt_verify(ctx, t, strlen(t), &cl, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(cl.exp, IDT_TIME_MAX);
    CU_ASSERT_EQUAL(cl.iat, T0);
    CU_ASSERT_EQUAL(cl.auth_time, 1);
    free(t);
    idt_free(ctx);
}

static void test_aud_iss_sub(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024], *t;
    claims(pl, sizeof pl, "other-project", ISSUER, "u1", T0, T0 + 60, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token aud is not the project 'proj-test'");
    free(t);
    claims(pl, sizeof pl, "proj-tes", ISSUER, "u1", T0, T0 + 60, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token aud is not the project 'proj-test'");
    free(t);
    snprintf(pl, sizeof pl,
             "{\"iss\":\"%s\",\"aud\":[\"%s\"],\"sub\":\"u1\",\"iat\":%lld,\"exp\":%lld,"
             "\"auth_time\":%lld}",
             ISSUER, PROJECT, T0, T0 + 100, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token aud is not the project 'proj-test'");
    free(t);
    claims(pl, sizeof pl, PROJECT, "https://securetoken.google.com/other-project", "u1", T0,
           T0 + 60, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token iss is not https://securetoken.google.com/proj-test");
    free(t);
    claims(pl, sizeof pl, PROJECT, "https://session.firebase.google.com/proj-test", "u1", T0,
           T0 + 60, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token iss is not https://securetoken.google.com/proj-test");
    free(t);

    claims(pl, sizeof pl, PROJECT, ISSUER, "", T0, T0 + 60, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has no sub (uid)");
    free(t);
    snprintf(pl, sizeof pl,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"auth_time\":%lld}", ISSUER,
             PROJECT, T0, T0 + 100, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has no sub (uid)");
    free(t);
    char longsub[IDS_MAX + 2];
    memset(longsub, 'a', IDS_MAX + 1);
    longsub[IDS_MAX + 1] = '\0';
    const char *bad_subs[] = {longsub, "a/b", "a.b", "../x", "a b", "\\u0000ab", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_subs / sizeof bad_subs[0]; i++) {
        claims(pl, sizeof pl, PROJECT, ISSUER, bad_subs[i], T0, T0 + 60, T0);
        t = signed_token(key1, kid1, pl);
        EXPECT(ctx, t, CLIP_EAUTH,
               "ID token sub is not a valid uid (1-128 bytes of A-Z a-z 0-9 _ -)");
        free(t);
    }
    longsub[IDS_MAX] = '\0'; /* exactly 128 bytes is fine */
    claims(pl, sizeof pl, PROJECT, ISSUER, longsub, T0, T0 + 60, T0);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    idt_free(ctx);
}

static void test_kid_and_signature(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024], *t;
    std_claims(pl, sizeof pl);
    t = signed_token(key1, kid1, pl); /* warm the cache */
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);

    t = signed_token(key1, "no-such-kid", pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token kid matches no current signing key");
    free(t);
    char longkid[IDT_KID_MAX + 2];
    memset(longkid, 'k', IDT_KID_MAX + 1);
    longkid[IDT_KID_MAX + 1] = '\0';
    fake_now = T0 + IDT_REFETCH_MIN_INTERVAL; /* a fetch would be allowed, but no set holds it */
    int before = fetched();
    t = signed_token(key1, longkid, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token kid matches no current signing key");
    free(t);
    CU_ASSERT_EQUAL(fetched(), before);

    /* signed by another key under the known kid */
    t = signed_token(key2, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token signature is invalid");
    free(t);
    /* a valid signature moved onto another payload */
    char *good = signed_token(key1, kid1, pl);
    char pl2[1024];
    claims(pl2, sizeof pl2, PROJECT, ISSUER, "user_B2", T0, T0 + 3600, T0);
    char *other = signed_token(key1, kid1, pl2);
    buf_t b = BUF_INIT;
    const char *gd2 = strrchr(good, '.');
    const char *od2 = strrchr(other, '.');
    buf_append(&b, other, (size_t)(od2 - other));
    buf_puts(&b, gd2);
    EXPECT(ctx, b.p, CLIP_EAUTH, "ID token signature is invalid");
    /* one flipped signature character */
    buf_reset(&b);
    buf_puts(&b, good);
    b.p[b.len - 3] = b.p[b.len - 3] == 'A' ? 'B' : 'A';
    EXPECT(ctx, b.p, CLIP_EAUTH, "ID token signature is invalid");
    /* truncated and empty signatures */
    buf_reset(&b);
    buf_append(&b, good, strlen(good) - 6); /* 342 -> 336 characters: still base64url */
    EXPECT(ctx, b.p, CLIP_EAUTH, "ID token signature is invalid");
    buf_reset(&b);
    buf_append(&b, good, (size_t)(gd2 - good) + 1);
    EXPECT(ctx, b.p, CLIP_EAUTH, "ID token signature is invalid");
    buf_free(&b);
    free(good);
    free(other);
    idt_free(ctx);
}

static void test_alg_none_and_hs256(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024], *t;
    std_claims(pl, sizeof pl);

    t = raw_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", pl, "");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token alg 'none' is not RS256");
    free(t);
    char hdr[256];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"none\",\"kid\":\"%s\"}", kid1);
    t = raw_token(hdr, pl, "");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token alg 'none' is not RS256");
    free(t);
    t = raw_token("{\"alg\":\"RS256 \",\"kid\":\"x\"}", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token alg '?' is not RS256");
    free(t);
    t = raw_token("{\"alg\":\"RS512\",\"kid\":\"x\"}", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token alg 'RS512' is not RS256");
    free(t);

    /* HS256 keyed with the public key's PEM (the classic algorithm-confusion attack) */
    BIO *bio = BIO_new(BIO_s_mem());
    CU_ASSERT_EQUAL_FATAL(PEM_write_bio_PUBKEY(bio, key1), 1);
    char *pem = NULL;
    long pemlen = BIO_get_mem_data(bio, &pem);
    snprintf(hdr, sizeof hdr, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid1);
    buf_t b = BUF_INIT;
    codec_base64url_encode(&b, hdr, strlen(hdr));
    buf_putc(&b, '.');
    codec_base64url_encode(&b, pl, strlen(pl));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    CU_ASSERT_PTR_NOT_NULL(
        HMAC(EVP_sha256(), pem, (int)pemlen, (const unsigned char *)b.p, b.len, mac, &maclen));
    buf_putc(&b, '.');
    codec_base64url_encode(&b, mac, maclen);
    BIO_free(bio);
    EXPECT(ctx, b.p, CLIP_EAUTH, "ID token alg 'HS256' is not RS256");
    buf_free(&b);
    idt_free(ctx);
}

static void test_emulator_mode(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    int before = fetched();
    idt_ctx *ctx = new_ctx("127.0.0.1:9099");
    char pl[1024], *t;
    std_claims(pl, sizeof pl);
    /* the Auth emulator's shape: alg none, no kid, empty signature */
    t = raw_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", pl, "");
    idt_claims cl;
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_verify(ctx, t, strlen(t), &cl, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(cl.uid, "user_A1");
    CU_ASSERT_EQUAL(cl.unsigned_token, 1);
    free(t);
    CU_ASSERT_EQUAL(fetched(), before); /* no key set needed */

    /* every claim is still checked */
    t = raw_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH,
           "ID token with alg none (Auth emulator) must have an empty signature");
    free(t);
    claims(pl, sizeof pl, "other", ISSUER, "u1", T0, T0 + 60, T0);
    t = raw_token("{\"alg\":\"none\"}", pl, "");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token aud is not the project 'proj-test'");
    free(t);
    claims(pl, sizeof pl, PROJECT, ISSUER, "u1", T0 - 100, T0 - 1, T0 - 100);
    t = raw_token("{\"alg\":\"none\"}", pl, "");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has expired");
    free(t);
    claims(pl, sizeof pl, PROJECT, ISSUER, "a/b", T0, T0 + 60, T0);
    t = raw_token("{\"alg\":\"none\"}", pl, "");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token sub is not a valid uid (1-128 bytes of A-Z a-z 0-9 _ -)");
    free(t);
    /* HS256 stays refused, and RS256 tokens are still verified with the key set */
    t = raw_token("{\"alg\":\"HS256\"}", pl, "c2ln");
    EXPECT(ctx, t, CLIP_EAUTH, "ID token alg 'HS256' is not RS256");
    free(t);
    std_claims(pl, sizeof pl);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    t = signed_token(key2, kid1, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token signature is invalid");
    free(t);
    idt_free(ctx);
}

static void test_jwks_keyset(void)
{
    fake_now = T0;
    serve(key2, DEVTOK_KEYSET_JWKS, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024], *t;
    std_claims(pl, sizeof pl);
    t = signed_token(key2, kid2, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    t = signed_token(key1, kid2, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token signature is invalid");
    free(t);
    idt_free(ctx);
}

static void test_load_keyset_refusals(void)
{
    idt_ctx *ctx = new_ctx(NULL);
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_load_keyset(ctx, "nope", 4, T0, err, sizeof err), CLIP_EBACKEND);
    UNIT_ASSERT_STR(err, "key set: not a JSON object of at most 65536 bytes");
    CU_ASSERT_EQUAL(idt_load_keyset(ctx, "{}", 2, T0, err, sizeof err), CLIP_EBACKEND);
    UNIT_ASSERT_STR(err, "key set: no usable RSA key (of at least 2048 bits, with a kid)");
    const char *junk =
        "{\"a\":\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\","
        "\"b\":5,\"keys\":7}";
    CU_ASSERT_EQUAL(idt_load_keyset(ctx, junk, strlen(junk), T0, err, sizeof err), CLIP_EBACKEND);
    UNIT_ASSERT_STR(err, "key set: no usable RSA key (of at least 2048 bits, with a kid)");
    const char *jwks = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\"},"
                       "{\"kty\":\"RSA\",\"kid\":\"small\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
                       "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}";
    CU_ASSERT_EQUAL(idt_load_keyset(ctx, jwks, strlen(jwks), T0, err, sizeof err), CLIP_EBACKEND);
    UNIT_ASSERT_STR(err, "key set: no usable RSA key (of at least 2048 bits, with a kid)");

    /* a 1024-bit key is skipped, the good one kept */
    EVP_PKEY *small = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    CU_ASSERT_EQUAL_FATAL(EVP_PKEY_keygen_init(pc), 1);
    EVP_PKEY_CTX_set_rsa_keygen_bits(pc, 1024);
    CU_ASSERT_EQUAL_FATAL(EVP_PKEY_generate(pc, &small), 1);
    EVP_PKEY_CTX_free(pc);
    buf_t s = BUF_INIT, g = BUF_INIT, both = BUF_INIT;
    CU_ASSERT_EQUAL(devtok_keyset(small, DEVTOK_KEYSET_X509, &s, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(devtok_keyset(key1, DEVTOK_KEYSET_X509, &g, NULL, 0), CLIP_OK);
    /* splice the two one-member objects: {"kidS":"..." , "kid1":"..."} */
    buf_append(&both, s.p, strrchr(s.p, '}') - s.p);
    buf_putc(&both, ',');
    buf_puts(&both, g.p + 1);
    CU_ASSERT_EQUAL(idt_load_keyset(ctx, both.p, both.len, T0 + 100, err, sizeof err), CLIP_OK);
    idt_stats st;
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.nkeys, 1);
    CU_ASSERT_EQUAL(st.expires_at, T0 + 100);
    buf_free(&s);
    buf_free(&g);
    buf_free(&both);
    EVP_PKEY_free(small);
    idt_free(ctx);
}

static void test_cache_per_max_age(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 600);
    idt_ctx *ctx = new_ctx(NULL);
    int base = fetched();
    char pl[1024];
    for (int i = 0; i < 200; i++) {
        fake_now = T0 + i * 2; /* 0..398 s: within max-age */
        std_claims(pl, sizeof pl);
        char *t = signed_token(key1, kid1, pl);
        EXPECT(ctx, t, CLIP_OK, "");
        free(t);
    }
    CU_ASSERT_EQUAL(fetched() - base, 1);
    idt_stats st;
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.fetches, 1);
    CU_ASSERT_EQUAL(st.nkeys, 1);
    CU_ASSERT_EQUAL(st.expires_at, T0 + 600);

    fake_now = T0 + 599;
    std_claims(pl, sizeof pl);
    char *t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 1);
    fake_now = T0 + 600; /* stale: one refetch, then cached again */
    for (int i = 0; i < 5; i++) {
        t = signed_token(key1, kid1, pl);
        EXPECT(ctx, t, CLIP_OK, "");
        free(t);
    }
    CU_ASSERT_EQUAL(fetched() - base, 2);
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.expires_at, T0 + 1200);

    /* no Cache-Control: IDT_KEYS_TTL_DEFAULT */
    serve(key1, DEVTOK_KEYSET_X509, 0);
    fake_now = T0 + 1200;
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 3);
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.expires_at, T0 + 1200 + IDT_KEYS_TTL_DEFAULT);
    idt_free(ctx);
}

static void test_stale_keys_kept_when_endpoint_fails(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 600);
    idt_ctx *ctx = new_ctx(NULL);
    int base = fetched();
    char pl[1024], *t;
    std_claims(pl, sizeof pl);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);

    ks.status = 404; /* not retried by http_do, so the test stays fast */
    fake_now = T0 + 700;
    for (int i = 0; i < 20; i++) {
        std_claims(pl, sizeof pl);
        t = signed_token(key1, kid1, pl);
        EXPECT(ctx, t, CLIP_OK, ""); /* the cached key still verifies */
        free(t);
    }
    CU_ASSERT_EQUAL(fetched() - base, 2); /* one failed attempt, not one per request */
    idt_stats st;
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.fetch_failures, 1);
    CU_ASSERT_EQUAL(st.nkeys, 1);

    fake_now = T0 + 700 + IDT_REFETCH_MIN_INTERVAL - 1;
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 2);
    fake_now = T0 + 700 + IDT_REFETCH_MIN_INTERVAL; /* the next attempt is allowed */
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 3);

    /* the endpoint answers garbage: still kept */
    ks.status = 200;
    buf_reset(&ks.doc);
    buf_puts(&ks.doc, "<html>");
    fake_now += IDT_REFETCH_MIN_INTERVAL;
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 4);
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.fetch_failures, 3);

    /* recovered: fresh keys again */
    serve(key1, DEVTOK_KEYSET_X509, 600);
    fake_now += IDT_REFETCH_MIN_INTERVAL;
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.expires_at, fake_now + 600);
    idt_free(ctx);
}

static void test_no_keys_at_all(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 600);
    ks.status = 404;
    idt_ctx *ctx = new_ctx(NULL);
    int base = fetched();
    char pl[1024], *t, want[512];
    std_claims(pl, sizeof pl);
    t = signed_token(key1, kid1, pl);
    snprintf(want, sizeof want, "no signing keys to verify the ID token: fetching %s: HTTP 404",
             keys_url);
    EXPECT(ctx, t, CLIP_EUNAVAILABLE, want);
    EXPECT(ctx, t, CLIP_EUNAVAILABLE, want); /* rate-limited: no second fetch */
    CU_ASSERT_EQUAL(fetched() - base, 1);
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_maintain(ctx, err, sizeof err), CLIP_EUNAVAILABLE);
    CU_ASSERT_EQUAL(fetched() - base, 1);
    /* a bad token is still refused as bad, without any fetch */
    EXPECT(ctx, "a.b", CLIP_EAUTH, "ID token is not a JWT (three dot-separated parts)");
    ks.status = 200;
    fake_now += IDT_REFETCH_MIN_INTERVAL;
    EXPECT(ctx, t, CLIP_OK, "");
    CU_ASSERT_EQUAL(fetched() - base, 2);
    free(t);
    idt_free(ctx);
}

static void test_unknown_kid_refetch_rate_limited(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    int base = fetched();
    char pl[1024], *t;
    std_claims(pl, sizeof pl);
    t = signed_token(key1, kid1, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 1);

    /* within IDT_REFETCH_MIN_INTERVAL of the last fetch: refused without fetching */
    fake_now = T0 + 10;
    std_claims(pl, sizeof pl);
    t = signed_token(key2, kid2, pl);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token kid matches no current signing key");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 1);

    /* later: one refetch for a flood of unknown kids */
    fake_now = T0 + IDT_REFETCH_MIN_INTERVAL + 5;
    std_claims(pl, sizeof pl);
    for (int i = 0; i < 50; i++) {
        char kid[32];
        snprintf(kid, sizeof kid, "random-%d", i);
        t = signed_token(key2, kid, pl);
        EXPECT(ctx, t, CLIP_EAUTH, "ID token kid matches no current signing key");
        free(t);
    }
    CU_ASSERT_EQUAL(fetched() - base, 2);

    /* key rotation: the server now publishes key2; its kid triggers a refetch once allowed */
    serve(key2, DEVTOK_KEYSET_JWKS, 3600);
    fake_now = T0 + 2 * IDT_REFETCH_MIN_INTERVAL + 10;
    std_claims(pl, sizeof pl);
    t = signed_token(key2, kid2, pl);
    EXPECT(ctx, t, CLIP_OK, "");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 3);
    t = signed_token(key1, kid1, pl); /* the old key is gone with the new set */
    EXPECT(ctx, t, CLIP_EAUTH, "ID token kid matches no current signing key");
    free(t);
    CU_ASSERT_EQUAL(fetched() - base, 3);
    idt_free(ctx);
}

static void test_maintain_refreshes_ahead(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    int base = fetched();
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_maintain(ctx, err, sizeof err), CLIP_OK); /* first fetch */
    CU_ASSERT_EQUAL(fetched() - base, 1);
    fake_now = T0 + 3600 - IDT_REFRESH_AHEAD - 1;
    CU_ASSERT_EQUAL(idt_maintain(ctx, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fetched() - base, 1);
    fake_now = T0 + 3600 - IDT_REFRESH_AHEAD;
    CU_ASSERT_EQUAL(idt_maintain(ctx, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fetched() - base, 2);
    idt_stats st;
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.expires_at, fake_now + 3600);
    /* a failed refresh with keys cached is still OK (the keys are kept) */
    ks.status = 404;
    fake_now = st.expires_at - 10;
    CU_ASSERT_EQUAL(idt_maintain(ctx, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(fetched() - base, 3);
    idt_free(ctx);
}

/* A verified token is remembered until its exp or a new key set, never longer. */
static void test_verified_tokens_cached(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024], err[256];
    std_claims(pl, sizeof pl); /* exp = T0 + 3600 */
    char *t = signed_token(key1, kid1, pl);
    idt_claims a, b;
    idt_stats st;
    CU_ASSERT_EQUAL(idt_verify(ctx, t, strlen(t), &a, NULL, 0), CLIP_OK);
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.verified_hits, 0);
    CU_ASSERT_EQUAL(idt_verify(ctx, t, strlen(t), &b, NULL, 0), CLIP_OK);
    idt_get_stats(ctx, &st);
    CU_ASSERT_EQUAL(st.verified_hits, 1);
    UNIT_ASSERT_STR(b.uid, "user_A1");
    CU_ASSERT_EQUAL(b.exp, a.exp);
    /* one byte of the signature changed is another token: checked, and refused */
    char *bad = strdup(t);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    EXPECT(ctx, bad, CLIP_EAUTH, "ID token signature is invalid");
    free(bad);
    /* past its exp: not from the cache, expired */
    fake_now = T0 + 3600;
    EXPECT(ctx, t, CLIP_EAUTH, "ID token has expired");
    /* a new key set without the token's key: the remembered verdict lapses */
    fake_now = T0;
    CU_ASSERT_EQUAL(idt_verify(ctx, t, strlen(t), &b, NULL, 0), CLIP_OK);
    buf_t doc = BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(devtok_keyset(key2, DEVTOK_KEYSET_X509, &doc, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(idt_load_keyset(ctx, doc.p, doc.len, T0 + 3600, err, sizeof err), CLIP_OK);
    buf_free(&doc);
    EXPECT(ctx, t, CLIP_EAUTH, "ID token kid matches no current signing key");
    free(t);
    idt_free(ctx);
}

/* Many threads verify while the key set is replaced under them: every answer is right. */
#define VERIFY_THREADS 8
#define VERIFY_ROUNDS 200
typedef struct {
    idt_ctx *ctx;
    char *tokens[4];
    int ok, wrong;
} verify_job;

static void *verify_loop(void *arg)
{
    verify_job *j = arg;
    for (int i = 0; i < VERIFY_ROUNDS; i++) {
        idt_claims c;
        char err[256];
        const char *t = j->tokens[i % 4];
        if (idt_verify(j->ctx, t, strlen(t), &c, err, sizeof err) == CLIP_OK &&
            strncmp(c.uid, "user_", 5) == 0)
            j->ok++;
        else if (j->wrong++ == 0)
            fprintf(stderr, "verify from a thread: %s\n", err);
    }
    return NULL;
}

static void test_verify_from_many_threads(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024], err[256];
    verify_job jobs[VERIFY_THREADS];
    char *tokens[4];
    for (int k = 0; k < 4; k++) {
        char sub[32];
        snprintf(sub, sizeof sub, "user_%d", k);
        claims(pl, sizeof pl, PROJECT, ISSUER, sub, fake_now - 10, fake_now + 3600, fake_now - 100);
        tokens[k] = signed_token(key1, kid1, pl);
    }
    buf_t doc = BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(devtok_keyset(key1, DEVTOK_KEYSET_X509, &doc, NULL, 0), CLIP_OK);
    pthread_t th[VERIFY_THREADS];
    for (int i = 0; i < VERIFY_THREADS; i++) {
        jobs[i] = (verify_job){.ctx = ctx};
        memcpy(jobs[i].tokens, tokens, sizeof tokens);
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, verify_loop, &jobs[i]), 0);
    }
    for (int i = 0; i < 50; i++) /* the same keys, each time a new key set */
        CU_ASSERT_EQUAL(idt_load_keyset(ctx, doc.p, doc.len, T0 + 3600, err, sizeof err), CLIP_OK);
    int ok = 0, wrong = 0;
    for (int i = 0; i < VERIFY_THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += jobs[i].ok;
        wrong += jobs[i].wrong;
    }
    CU_ASSERT_EQUAL(ok, VERIFY_THREADS * VERIFY_ROUNDS);
    CU_ASSERT_EQUAL(wrong, 0);
    buf_free(&doc);
    for (int k = 0; k < 4; k++)
        free(tokens[k]);
    idt_free(ctx);
}

static void test_verify_is_fast_with_cached_keys(void)
{
    fake_now = T0;
    serve(key1, DEVTOK_KEYSET_X509, 3600);
    idt_ctx *ctx = new_ctx(NULL);
    char pl[1024];
    std_claims(pl, sizeof pl);
    char *t = signed_token(key1, kid1, pl);
    idt_claims cl;
    CU_ASSERT_EQUAL(idt_verify(ctx, t, strlen(t), &cl, NULL, 0), CLIP_OK);
    struct timespec a, b;
    enum { N = 500 };
    clock_gettime(CLOCK_MONOTONIC, &a);
    int ok = 0;
    for (int i = 0; i < N; i++)
        ok += idt_verify(ctx, t, strlen(t), &cl, NULL, 0) == CLIP_OK;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / N;
    fprintf(stderr, "idt_verify with cached keys: %.1f us per token (sanitizer build)\n", us);
    CU_ASSERT_EQUAL(ok, N);
    CU_ASSERT_TRUE(us < 2000.0); /* generous for ASan; the release build is ~20 us */
    free(t);
    idt_free(ctx);
}

static void test_loopback_urls(void)
{
    CU_ASSERT_TRUE(devtok_url_is_loopback("http://127.0.0.1:8080/keys.json"));
    CU_ASSERT_TRUE(devtok_url_is_loopback("https://localhost/keys"));
    CU_ASSERT_TRUE(devtok_url_is_loopback("http://127.1.2.3"));
    CU_ASSERT_TRUE(devtok_url_is_loopback("http://[::1]:9/x"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("https://www.googleapis.com/robot/v1/metadata/x509/"
                                           "securetoken@system.gserviceaccount.com"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("http://127.0.0.1.evil.com/"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("http://127.0.0.1@evil.com/"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("http://localhost.evil.com/"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("http://127.0.0.256/"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("http://127.0.0/"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("http://10.0.0.1/"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("http://[::2]/"));
    CU_ASSERT_FALSE(devtok_url_is_loopback("ftp://127.0.0.1/"));
}

static void test_dev_key_file(void)
{
    char dir[400], path[512];
    CU_ASSERT_EQUAL_FATAL(tp_tempdir("idtoken", dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/dev-key.pem", dir);
    EVP_PKEY *a = NULL, *b = NULL;
    int created = 0;
    char err[256] = "";
    CU_ASSERT_EQUAL(devtok_key_load_or_create(path, &a, &created, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(created, 1);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(devtok_key_load_or_create(path, &b, &created, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(created, 0);
    char ka[DEVTOK_KID_MAX], kb[DEVTOK_KID_MAX];
    CU_ASSERT_EQUAL(devtok_kid(a, ka, sizeof ka, NULL, 0), CLIP_OK);
    CU_ASSERT_EQUAL(devtok_kid(b, kb, sizeof kb, NULL, 0), CLIP_OK);
    UNIT_ASSERT_STR(ka, kb);
    CU_ASSERT_EQUAL(strlen(ka), 4 + 16);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    FILE *f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(devtok_key_load_or_create(path, &a, &created, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a PEM private key"));
    unlink(path);

    buf_t tok = BUF_INIT;
    CU_ASSERT_EQUAL(devtok_mint(key1, PROJECT, "a/b", T0, 60, &tok, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "uid: must be 1-128 bytes of A-Z a-z 0-9 _ -");
    CU_ASSERT_EQUAL(devtok_mint(key1, PROJECT, "u", T0, 0, &tok, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "expires: must be 1-604800 seconds");
    CU_ASSERT_EQUAL(tok.len, 0);
    buf_free(&tok);
}

static int init(void)
{
    if (http_global_init() != CLIP_OK)
        return 1;
    if (devtok_key_generate(&key1, NULL, 0) != CLIP_OK ||
        devtok_key_generate(&key2, NULL, 0) != CLIP_OK)
        return 1;
    if (devtok_kid(key1, kid1, sizeof kid1, NULL, 0) != CLIP_OK ||
        devtok_kid(key2, kid2, sizeof kid2, NULL, 0) != CLIP_OK || strcmp(kid1, kid2) == 0)
        return 1;
    buf_init(&ks.doc, 0);
    int port = 0;
    if (!(mh = mh_start(ks_handler, &ks, &port)))
        return 1;
    snprintf(keys_url, sizeof keys_url, "http://127.0.0.1:%d/robot/v1/metadata/x509/keys", port);
    return 0;
}

static int clean(void)
{
    mh_stop(mh);
    buf_free(&ks.doc);
    EVP_PKEY_free(key1);
    EVP_PKEY_free(key2);
    http_global_cleanup();
    return 0;
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_cache_ttl),
                           UNIT_TEST(test_new_needs_project),
                           UNIT_TEST(test_valid_token),
                           UNIT_TEST(test_missing_and_malformed),
                           UNIT_TEST(test_times), UNIT_TEST(test_time_ranges),
                           UNIT_TEST(test_aud_iss_sub),
                           UNIT_TEST(test_kid_and_signature),
                           UNIT_TEST(test_alg_none_and_hs256),
                           UNIT_TEST(test_emulator_mode),
                           UNIT_TEST(test_jwks_keyset),
                           UNIT_TEST(test_load_keyset_refusals),
                           UNIT_TEST(test_cache_per_max_age),
                           UNIT_TEST(test_stale_keys_kept_when_endpoint_fails),
                           UNIT_TEST(test_no_keys_at_all),
                           UNIT_TEST(test_verified_tokens_cached),
                           UNIT_TEST(test_verify_from_many_threads),
                           UNIT_TEST(test_unknown_kid_refetch_rate_limited),
                           UNIT_TEST(test_maintain_refreshes_ahead),
                           UNIT_TEST(test_verify_is_fast_with_cached_keys),
                           UNIT_TEST(test_loopback_urls),
                           UNIT_TEST(test_dev_key_file),
                           CU_TEST_INFO_NULL};
    return unit_run("idtoken", tests, init, clean);
}
