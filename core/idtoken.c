/* idtoken: Firebase ID token verification against a cached RS256 key set (firebase-admin's rules).
 */
#include "idtoken.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "codec.h"
#include "http.h"
#include "json.h"
#include "log.h"

#define IDT_ISSUER_PREFIX "https://securetoken.google.com/"
#define IDT_PROJECT_MAX 128
/* An RSA signature is as long as the modulus; 8192-bit keys are the largest we expect. */
#define IDT_SIG_MAX 1024
#define IDT_MODULUS_MAX 1024
#define IDT_EXPONENT_MAX 16
#define IDT_PEM_MAX 8192
#define IDT_MSG_MAX 256

typedef struct {
    char kid[IDT_KID_MAX + 1];
    size_t kidlen;
    EVP_PKEY *pkey;
} idt_key;

struct idt_ctx {
    char *project;
    size_t project_len;
    char *issuer;
    size_t issuer_len;
    char *keys_url;
    int emulator;

    idt_clock_fn clock;
    void *clock_arg;

    /* Shared by the threads of a process, under lock: the key set (swapped whole by the one
     * thread fetching, never read without the lock: a verifier takes a reference to its key) and
     * the verified tokens. No lock is held across the network. */
    pthread_mutex_t lock;
    pthread_cond_t fetched;
    int fetching;
    idt_key keys[IDT_KEYS_MAX];
    size_t nkeys;
    long long expires_at;
    unsigned long keys_gen; /* bumped by every new key set: cached verdicts of older ones lapse */

    int attempted; /* a fetch was tried at last_attempt */
    long long last_attempt;
    char last_err[IDT_MSG_MAX];
    unsigned long fetches, failures;

    /* Verified tokens by the SHA-256 of the token, direct-mapped: a hit skips the RS256 check. */
    struct verified {
        unsigned char hash[32];
        unsigned long keys_gen; /* 0: empty */
        idt_claims claims;
    } verified[IDT_VERIFIED_MAX];
    unsigned long verified_hits;

    EVP_MD *sha256; /* fetched once: no name lookup per verification */
};

/* ---- small helpers ------------------------------------------------------------------------ */

static long long default_clock(void *arg)
{
    (void)arg;
    return (long long)time(NULL);
}

static long long now_of(const idt_ctx *ctx)
{
    return ctx->clock(ctx->clock_arg);
}

static const json_limits token_json = {"token", IDT_KEYSET_MAX, IDT_JSON_DEPTH};

/* Parses exactly p[n] as one JSON object (the strict reader); NULL otherwise. */
static json_object *parse_object(const char *p, size_t n)
{
    json_object *o = NULL;
    char why[160];
    if (json_read_object(p, n, &token_json, &o, why, sizeof why) != CLIP_OK)
        return NULL;
    return o;
}

/* A numeric date claim: a whole number of seconds since the epoch within 1..IDT_TIME_MAX (a
 * fraction, a negative, zero, a number past the range, 2^63 included, are not dates Google's
 * token server writes). 0 with *out set; -1 when absent or not a number; -2 when out of range. */
static int get_time(json_object *o, const char *name, long long *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, name, &v))
        return -1;
    if (json_object_is_type(v, json_type_int)) {
        /* json-c keeps 2^63..2^64-1 as an unsigned int whose int64 reading saturates: compare
         * as uint64 first so a huge value never looks like INT64_MAX or wraps */
        int64_t i = json_object_get_int64(v);
        uint64_t u = json_object_get_uint64(v);
        if (i < 1 || u > (uint64_t)IDT_TIME_MAX || i > IDT_TIME_MAX)
            return -2;
        *out = (long long)i;
        return 0;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!isfinite(d) || d < 1 || d > (double)IDT_TIME_MAX || d != floor(d))
            return -2;
        *out = (long long)d;
        return 0;
    }
    return -1;
}

static int str_eq(const char *a, size_t an, const char *b, size_t bn)
{
    return a && an == bn && memcmp(a, b, an) == 0;
}

/* ---- key cache ---------------------------------------------------------------------------- */

static void keys_clear(idt_key *keys, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        EVP_PKEY_free(keys[i].pkey);
        keys[i].pkey = NULL;
    }
    *n = 0;
}

static const idt_key *keys_find(const idt_ctx *ctx, const char *kid, size_t len)
{
    for (size_t i = 0; i < ctx->nkeys; i++)
        if (str_eq(ctx->keys[i].kid, ctx->keys[i].kidlen, kid, len))
            return &ctx->keys[i];
    return NULL;
}

static int usable_rsa(EVP_PKEY *pk)
{
    return pk && EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) >= IDT_RSA_MIN_BITS;
}

static EVP_PKEY *key_from_pem_cert(const char *pem, size_t len)
{
    if (len == 0 || len > IDT_PEM_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return NULL;
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!x)
        return NULL;
    EVP_PKEY *pk = X509_get_pubkey(x);
    X509_free(x);
    return pk;
}

static BIGNUM *bn_from_b64url(const char *s, size_t len, size_t maxbytes)
{
    unsigned char raw[IDT_MODULUS_MAX];
    if (!s || maxbytes > sizeof raw)
        return NULL;
    long n = codec_base64_decode(CODEC_B64URL_NOPAD, s, len, raw, maxbytes);
    if (n <= 0)
        return NULL;
    return BN_bin2bn(raw, (int)n, NULL);
}

static EVP_PKEY *key_from_jwk(json_object *jwk)
{
    size_t len = 0, nlen = 0, elen = 0;
    const char *kty = json_member_str(jwk, "kty", &len);
    if (!str_eq(kty, len, "RSA", 3))
        return NULL;
    const char *alg = json_member_str(jwk, "alg", &len);
    if (alg && !str_eq(alg, len, "RS256", 5))
        return NULL;
    const char *use = json_member_str(jwk, "use", &len);
    if (use && !str_eq(use, len, "sig", 3))
        return NULL;
    const char *n64 = json_member_str(jwk, "n", &nlen);
    const char *e64 = json_member_str(jwk, "e", &elen);
    BIGNUM *n = bn_from_b64url(n64, nlen, IDT_MODULUS_MAX);
    BIGNUM *e = bn_from_b64url(e64, elen, IDT_EXPONENT_MAX);
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pc = NULL;
    if (n && e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) &&
        (pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) && EVP_PKEY_fromdata_init(pc) == 1) {
        if (EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
            pk = NULL;
    }
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pk;
}

static int key_add(idt_key *keys, size_t *n, const char *kid, size_t kidlen, EVP_PKEY *pk)
{
    if (!usable_rsa(pk) || kidlen == 0 || kidlen > IDT_KID_MAX || memchr(kid, '\0', kidlen) ||
        *n >= IDT_KEYS_MAX) {
        EVP_PKEY_free(pk);
        return -1;
    }
    for (size_t i = 0; i < *n; i++)
        if (str_eq(keys[i].kid, keys[i].kidlen, kid, kidlen)) {
            EVP_PKEY_free(pk);
            return -1;
        }
    memcpy(keys[*n].kid, kid, kidlen);
    keys[*n].kid[kidlen] = '\0';
    keys[*n].kidlen = kidlen;
    keys[*n].pkey = pk;
    (*n)++;
    return 0;
}

clip_err idt_load_keyset(idt_ctx *ctx, const char *doc, size_t len, long long expires_at, char *err,
                         size_t errlen)
{
    json_object *root = doc ? parse_object(doc, len) : NULL;
    if (!root)
        return clip_fail(CLIP_EBACKEND, err, errlen,
                         "key set: not a JSON object of at most %u bytes", IDT_KEYSET_MAX);
    idt_key fresh[IDT_KEYS_MAX];
    size_t nfresh = 0, skipped = 0;
    json_object *arr;
    if (json_object_object_get_ex(root, "keys", &arr) &&
        json_object_is_type(arr, json_type_array)) {
        size_t na = json_object_array_length(arr);
        for (size_t i = 0; i < na; i++) {
            json_object *jwk = json_object_array_get_idx(arr, i);
            size_t kidlen = 0;
            const char *kid = json_object_is_type(jwk, json_type_object)
                                  ? json_member_str(jwk, "kid", &kidlen)
                                  : NULL;
            if (!kid || key_add(fresh, &nfresh, kid, kidlen, key_from_jwk(jwk)) != 0)
                skipped++;
        }
    } else {
        json_object_object_foreach(root, kid, val)
        {
            if (!json_object_is_type(val, json_type_string) ||
                key_add(fresh, &nfresh, kid, strlen(kid),
                        key_from_pem_cert(json_object_get_string(val),
                                          (size_t)json_object_get_string_len(val))) != 0)
                skipped++;
        }
    }
    json_object_put(root);
    ERR_clear_error();
    if (nfresh == 0)
        return clip_fail(CLIP_EBACKEND, err, errlen,
                         "key set: no usable RSA key (of at least %d bits, with a kid)",
                         IDT_RSA_MIN_BITS);
    if (skipped)
        log_warn("auth_keys",
                 "key set: %zu entries skipped (not an RSA key of at least %d bits "
                 "with a unique kid, or over %d keys)",
                 skipped, IDT_RSA_MIN_BITS, IDT_KEYS_MAX);
    idt_key old[IDT_KEYS_MAX];
    size_t nold;
    pthread_mutex_lock(&ctx->lock);
    memcpy(old, ctx->keys, ctx->nkeys * sizeof old[0]);
    nold = ctx->nkeys;
    memcpy(ctx->keys, fresh, nfresh * sizeof fresh[0]);
    ctx->nkeys = nfresh;
    ctx->expires_at = expires_at;
    ctx->keys_gen++;
    pthread_mutex_unlock(&ctx->lock);
    keys_clear(old, &nold); /* a verifier still using one of them holds its own reference */
    return CLIP_OK;
}

long idt_cache_ttl(const char *value, size_t len)
{
    size_t i = 0;
    while (value && i < len) {
        /* one directive: [i, end) */
        size_t end = i;
        while (end < len && value[end] != ',')
            end++;
        size_t a = i;
        while (a < end && (value[a] == ' ' || value[a] == '\t'))
            a++;
        if (end - a > 8 && strncasecmp(value + a, "max-age=", 8) == 0) {
            size_t d = a + 8;
            long v = 0;
            int digits = 0;
            while (d < end && isdigit((unsigned char)value[d]) && digits < 10) {
                v = v * 10 + (value[d] - '0');
                d++, digits++;
            }
            while (d < end && (value[d] == ' ' || value[d] == '\t'))
                d++;
            if (digits > 0 && d == end) {
                if (v < IDT_KEYS_TTL_MIN)
                    return IDT_KEYS_TTL_MIN;
                return v > IDT_KEYS_TTL_MAX ? IDT_KEYS_TTL_MAX : v;
            }
        }
        i = end + 1;
    }
    return IDT_KEYS_TTL_DEFAULT;
}

/* One fetch of the key set; on success the cache is replaced. Called without the lock by the
 * one thread that set ctx->fetching (rate limiting is the caller's). */
static clip_err fetch_keys(idt_ctx *ctx, long long now)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->attempted = 1;
    ctx->last_attempt = now;
    ctx->fetches++;
    pthread_mutex_unlock(&ctx->lock);
    const char *hdrs[] = {"Accept: application/json"};
    http_req req = {.method = "GET",
                    .url = ctx->keys_url,
                    .headers = hdrs,
                    .nheaders = 1,
                    .deadline_ms = IDT_FETCH_DEADLINE_MS,
                    .max_response = IDT_KEYSET_MAX,
                    .retry = HTTP_RETRY_IDEMPOTENT,
                    .backend = "keys"};
    http_resp resp;
    char herr[IDT_MSG_MAX] = "", why[IDT_MSG_MAX] = "";
    long ttl = 0;
    clip_err e = http_do(&req, &resp, herr, sizeof herr);
    if (e != CLIP_OK) {
        clip_fail(e, why, sizeof why, "fetching %s: %s", ctx->keys_url, herr);
    } else if (resp.status != 200) {
        e = CLIP_EBACKEND;
        clip_fail(e, why, sizeof why, "fetching %s: HTTP %ld", ctx->keys_url, resp.status);
    } else {
        size_t cclen = 0;
        const char *cc = http_resp_header(&resp, "Cache-Control", &cclen);
        ttl = idt_cache_ttl(cc, cc ? cclen : 0);
        e = idt_load_keyset(ctx, resp.body.p ? resp.body.p : "", resp.body.len, now + ttl, herr,
                            sizeof herr);
        if (e != CLIP_OK)
            clip_fail(e, why, sizeof why, "fetching %s: %s", ctx->keys_url, herr);
    }
    http_resp_free(&resp);
    pthread_mutex_lock(&ctx->lock);
    size_t nkeys = ctx->nkeys;
    if (e != CLIP_OK) {
        ctx->failures++;
        memcpy(ctx->last_err, why, sizeof why);
    }
    pthread_mutex_unlock(&ctx->lock);
    if (e == CLIP_OK)
        log_info("auth_keys", "%zu signing keys from %s, fresh for %ld s", nkeys, ctx->keys_url,
                 ttl);
    else if (nkeys > 0)
        log_warn("auth_keys", "%s; keeping the %zu cached keys", why, nkeys);
    else
        log_error("auth_keys", "%s; no signing keys to verify ID tokens with", why);
    return e;
}

static int may_fetch(const idt_ctx *ctx, long long now)
{
    return !ctx->attempted || now - ctx->last_attempt >= IDT_REFETCH_MIN_INTERVAL ||
           now < ctx->last_attempt;
}

/* With the lock held: fetches the key set (dropping the lock meanwhile) when no other thread is
 * fetching and the rate limit allows; otherwise, when wait is set and there are no keys yet, waits
 * for the other thread's fetch (bounded by its deadline). Returns with the lock held, and the error
 * of its own fetch. */
static clip_err refresh_locked(idt_ctx *ctx, long long now, int wait)
{
    if (!ctx->fetching && may_fetch(ctx, now)) {
        ctx->fetching = 1;
        pthread_mutex_unlock(&ctx->lock);
        clip_err e = fetch_keys(ctx, now);
        pthread_mutex_lock(&ctx->lock);
        ctx->fetching = 0;
        pthread_cond_broadcast(&ctx->fetched);
        return e;
    }
    if (!wait)
        return CLIP_OK;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += IDT_FETCH_DEADLINE_MS / 1000 + 1;
    while (ctx->fetching && ctx->nkeys == 0)
        if (pthread_cond_timedwait(&ctx->fetched, &ctx->lock, &until) != 0)
            break;
    return CLIP_OK;
}

/* ---- public ------------------------------------------------------------------------------- */

clip_err idt_new(const cfg_t *cfg, idt_ctx **out, char *err, size_t errlen)
{
    *out = NULL;
    clip_err e = cfg_require(cfg, "auth_project", err, errlen);
    if (e != CLIP_OK)
        return e;
    if ((e = cfg_require(cfg, "auth_keys_url", err, errlen)) != CLIP_OK)
        return e;
    size_t plen = strlen(cfg->auth_project);
    if (plen == 0 || plen > IDT_PROJECT_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "auth_project: must be 1-%d bytes",
                         IDT_PROJECT_MAX);
    idt_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return clip_fail(CLIP_ENOMEM, err, errlen, "idtoken: out of memory");
    c->clock = default_clock;
    c->project = strdup(cfg->auth_project);
    c->project_len = plen;
    c->issuer_len = strlen(IDT_ISSUER_PREFIX) + plen;
    c->issuer = malloc(c->issuer_len + 1);
    c->keys_url = strdup(cfg->auth_keys_url);
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->fetched, &ca);
    pthread_condattr_destroy(&ca);
    if (!c->project || !c->issuer || !c->keys_url || !c->sha256) {
        idt_free(c);
        return clip_fail(CLIP_ENOMEM, err, errlen, "idtoken: out of memory");
    }
    memcpy(c->issuer, IDT_ISSUER_PREFIX, strlen(IDT_ISSUER_PREFIX));
    memcpy(c->issuer + strlen(IDT_ISSUER_PREFIX), c->project, plen + 1);
    if (cfg->auth_emulator_host && cfg->auth_emulator_host[0]) {
        c->emulator = 1;
        log_warn("auth_emulator",
                 "auth_emulator_host (FIREBASE_AUTH_EMULATOR_HOST) is set to %s: unsigned ID "
                 "tokens of the Firebase Auth emulator are accepted; never set it in production",
                 cfg->auth_emulator_host);
    }
    *out = c;
    return CLIP_OK;
}

void idt_free(idt_ctx *ctx)
{
    if (!ctx)
        return;
    keys_clear(ctx->keys, &ctx->nkeys);
    pthread_mutex_destroy(&ctx->lock);
    pthread_cond_destroy(&ctx->fetched);
    EVP_MD_free(ctx->sha256);
    free(ctx->project);
    free(ctx->issuer);
    free(ctx->keys_url);
    free(ctx);
}

void idt_set_clock(idt_ctx *ctx, idt_clock_fn fn, void *arg)
{
    ctx->clock = fn ? fn : default_clock;
    ctx->clock_arg = fn ? arg : NULL;
}

void idt_get_stats(const idt_ctx *ctx, idt_stats *out)
{
    pthread_mutex_t *lock = (pthread_mutex_t *)&ctx->lock; /* a read under the cache's lock */
    pthread_mutex_lock(lock);
    out->fetches = ctx->fetches;
    out->fetch_failures = ctx->failures;
    out->nkeys = ctx->nkeys;
    out->expires_at = ctx->expires_at;
    out->verified_hits = ctx->verified_hits;
    pthread_mutex_unlock(lock);
}

clip_err idt_maintain(idt_ctx *ctx, char *err, size_t errlen)
{
    long long now = now_of(ctx);
    clip_err e = CLIP_OK;
    pthread_mutex_lock(&ctx->lock);
    if (ctx->nkeys == 0 || now >= ctx->expires_at - IDT_REFRESH_AHEAD)
        e = refresh_locked(ctx, now, 0);
    if (ctx->nkeys == 0)
        e = e != CLIP_OK ? clip_fail(e, err, errlen, "%s", ctx->last_err)
                         : clip_fail(CLIP_EUNAVAILABLE, err, errlen, "no signing keys: %s",
                                     ctx->last_err[0] ? ctx->last_err : "not fetched yet");
    else
        e = CLIP_OK;
    pthread_mutex_unlock(&ctx->lock);
    return e;
}

/* The claims firebase-admin checks, in its order: aud, iss, sub, then the times. */
static clip_err check_claims(const idt_ctx *ctx, json_object *pl, long long now, idt_claims *out,
                             char *err, size_t errlen)
{
    size_t len = 0;
    const char *aud = json_member_str(pl, "aud", &len);
    if (!str_eq(aud, len, ctx->project, ctx->project_len))
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token aud is not the project '%s'",
                         ctx->project);
    const char *iss = json_member_str(pl, "iss", &len);
    if (!str_eq(iss, len, ctx->issuer, ctx->issuer_len))
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token iss is not %s", ctx->issuer);
    const char *sub = json_member_str(pl, "sub", &len);
    if (!sub || len == 0)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token has no sub (uid)");
    if (!ids_valid_id(sub, len))
        return clip_fail(CLIP_EAUTH, err, errlen,
                         "ID token sub is not a valid uid (1-%d bytes of A-Z a-z 0-9 _ -)",
                         IDS_MAX);
    long long t[3];
    static const char *const tnames[3] = {"exp", "iat", "auth_time"};
    for (int i = 0; i < 3; i++) {
        int r = get_time(pl, tnames[i], &t[i]);
        if (r == -1)
            return clip_fail(CLIP_EAUTH, err, errlen, "ID token has no numeric %s", tnames[i]);
        if (r != 0)
            return clip_fail(CLIP_EAUTH, err, errlen,
                             "ID token %s is not a whole number of seconds in 1..%lld", tnames[i],
                             (long long)IDT_TIME_MAX);
    }
    long long exp = t[0], iat = t[1], auth_time = t[2];
    if (exp <= now)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token has expired");
    if (iat > now + IDT_SKEW_SECONDS)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token is issued in the future (iat)");
    if (auth_time > now + IDT_SKEW_SECONDS)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token auth_time is in the future");
    memcpy(out->uid, sub, len);
    out->uid[len] = '\0';
    out->exp = exp;
    out->iat = iat;
    out->auth_time = auth_time;
    return CLIP_OK;
}

/* Names alg in a message only when it is short and alphanumeric (it is attacker-chosen). */
static const char *printable_alg(const char *alg, size_t len)
{
    if (!alg || len == 0 || len > 16)
        return "?";
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)alg[i]))
            return "?";
    return alg;
}

/* The key for kid (a reference the caller frees), fetching the key set when it is missing or
 * stale, or once for an unknown kid (each rate-limited); *gen gets the key set's generation. NULL
 * with the error in err when none. */
static EVP_PKEY *key_for(idt_ctx *ctx, const char *kid, size_t kidlen, long long now,
                         unsigned long *gen, clip_err *e, char *err, size_t errlen)
{
    if (kidlen > IDT_KID_MAX) { /* no key set holds it: not worth a fetch */
        *e = clip_fail(CLIP_EAUTH, err, errlen, "ID token kid matches no current signing key");
        return NULL;
    }
    pthread_mutex_lock(&ctx->lock);
    if (ctx->nkeys == 0 || now >= ctx->expires_at)
        refresh_locked(ctx, now, ctx->nkeys == 0);
    const idt_key *k = keys_find(ctx, kid, kidlen);
    if (!k && ctx->nkeys > 0) {
        refresh_locked(ctx, now, 0);
        k = keys_find(ctx, kid, kidlen);
    }
    EVP_PKEY *pk = k && EVP_PKEY_up_ref(k->pkey) == 1 ? k->pkey : NULL;
    *gen = ctx->keys_gen;
    if (!pk && ctx->nkeys == 0)
        *e = clip_fail(CLIP_EUNAVAILABLE, err, errlen, "no signing keys to verify the ID token: %s",
                       ctx->last_err);
    else if (!pk)
        *e = clip_fail(CLIP_EAUTH, err, errlen, "ID token kid matches no current signing key");
    pthread_mutex_unlock(&ctx->lock);
    return pk;
}

/* The verified-token cache: the slot of a token's hash. */
static struct verified *verified_slot(idt_ctx *ctx, const unsigned char hash[32])
{
    size_t i;
    memcpy(&i, hash, sizeof i);
    return &ctx->verified[i % IDT_VERIFIED_MAX];
}

/* A verdict for this token (same hash, same key set and that set still fresh, the token not
 * expired): 1 with *out filled. A stale key set is checked again first, as key_for does. */
static int verified_get(idt_ctx *ctx, const unsigned char hash[32], long long now, idt_claims *out)
{
    struct verified *v = verified_slot(ctx, hash);
    pthread_mutex_lock(&ctx->lock);
    int hit = v->keys_gen != 0 && v->keys_gen == ctx->keys_gen && now < ctx->expires_at &&
              now < v->claims.exp && memcmp(v->hash, hash, 32) == 0;
    if (hit) {
        *out = v->claims;
        ctx->verified_hits++;
    }
    pthread_mutex_unlock(&ctx->lock);
    return hit;
}

static void verified_put(idt_ctx *ctx, const unsigned char hash[32], unsigned long gen,
                         const idt_claims *c)
{
    struct verified *v = verified_slot(ctx, hash);
    pthread_mutex_lock(&ctx->lock);
    if (gen == ctx->keys_gen) { /* not a verdict of a key set replaced meanwhile */
        memcpy(v->hash, hash, 32);
        v->keys_gen = gen;
        v->claims = *c;
    }
    pthread_mutex_unlock(&ctx->lock);
}

clip_err idt_verify(idt_ctx *ctx, const char *token, size_t len, idt_claims *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!token || len == 0)
        return clip_fail(CLIP_EAUTH, err, errlen, "no ID token");
    if (len > IDT_TOKEN_MAX)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token is longer than %d bytes",
                         IDT_TOKEN_MAX);
    /* a token verified before, under the same key set and not expired, needs no RSA check */
    unsigned char th[32];
    int hashed = EVP_Digest(token, len, th, NULL, ctx->sha256, NULL) == 1;
    if (hashed && verified_get(ctx, th, now_of(ctx), out))
        return CLIP_OK;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return clip_fail(CLIP_EAUTH, err, errlen,
                         "ID token is not a JWT (three dot-separated parts)");
    size_t hlen = (size_t)(d1 - token), plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - token);

    /* one stack block for the decoded parts: no allocation on the hot path besides json-c's */
    unsigned char hdr[IDT_PART_MAX], pay[IDT_PART_MAX], sig[IDT_SIG_MAX];
    long hn = codec_base64_decode(CODEC_B64URL_NOPAD, token, hlen, hdr, sizeof hdr);
    if (hn <= 0)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token header is not base64url");
    long pn = codec_base64_decode(CODEC_B64URL_NOPAD, d1 + 1, plen, pay, sizeof pay);
    if (pn <= 0)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token payload is not base64url");
    long sn = codec_base64_decode(CODEC_B64URL_NOPAD, d2 + 1, slen, sig, sizeof sig);
    if (sn < 0)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token signature is not base64url");

    json_object *h = parse_object((const char *)hdr, (size_t)hn);
    if (!h)
        return clip_fail(CLIP_EAUTH, err, errlen, "ID token header is not a JSON object");
    json_object *pl = NULL;
    clip_err e = CLIP_OK;
    size_t alglen = 0, kidlen = 0;
    const char *alg = json_member_str(h, "alg", &alglen);
    int unsigned_token = 0;
    if (!alg) {
        e = clip_fail(CLIP_EAUTH, err, errlen, "ID token header has no alg");
        goto done;
    }
    if (str_eq(alg, alglen, "none", 4) && ctx->emulator) {
        unsigned_token = 1;
        if (sn != 0) {
            e = clip_fail(CLIP_EAUTH, err, errlen,
                          "ID token with alg none (Auth emulator) must have an empty signature");
            goto done;
        }
    } else if (!str_eq(alg, alglen, "RS256", 5)) {
        e = clip_fail(CLIP_EAUTH, err, errlen, "ID token alg '%s' is not RS256",
                      printable_alg(alg, alglen));
        goto done;
    }
    const char *kid = json_member_str(h, "kid", &kidlen);
    if (!unsigned_token && (!kid || kidlen == 0)) {
        e = clip_fail(CLIP_EAUTH, err, errlen, "ID token header has no kid");
        goto done;
    }
    if (!(pl = parse_object((const char *)pay, (size_t)pn))) {
        e = clip_fail(CLIP_EAUTH, err, errlen, "ID token payload is not a JSON object");
        goto done;
    }
    long long now = now_of(ctx);
    if ((e = check_claims(ctx, pl, now, out, err, errlen)) != CLIP_OK)
        goto done;
    if (unsigned_token) {
        out->unsigned_token = 1;
        goto done;
    }
    if (sn == 0) {
        e = clip_fail(CLIP_EAUTH, err, errlen, "ID token signature is invalid");
        goto done;
    }
    unsigned long gen = 0;
    EVP_PKEY *pk = key_for(ctx, kid, kidlen, now, &gen, &e, err, errlen);
    if (!pk)
        goto done;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && sn == EVP_PKEY_get_size(pk) &&
             EVP_DigestVerifyInit(md, NULL, ctx->sha256, NULL, pk) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)sn, (const unsigned char *)token,
                              (size_t)(d2 - token)) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    if (!ok)
        e = clip_fail(CLIP_EAUTH, err, errlen, "ID token signature is invalid");
    else if (hashed)
        verified_put(ctx, th, gen, out);

done:
    json_object_put(h);
    json_object_put(pl);
    if (e != CLIP_OK)
        memset(out, 0, sizeof *out);
    return e;
}
