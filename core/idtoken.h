/* idtoken: verifies Firebase Auth ID tokens (RS256 against Google's cached key set) and yields the
 * uid. */
#ifndef CLIP_IDTOKEN_H
#define CLIP_IDTOKEN_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "ids.h"

/* Longest token accepted, in bytes. Firebase ID tokens are about 1 KB, plus at most 1000 bytes of
 * custom claims; 8 KiB is also nginx's default header line limit. */
#define IDT_TOKEN_MAX 8192
/* Longest decoded header / payload accepted (both fit in a token of IDT_TOKEN_MAX). */
#define IDT_PART_MAX 6144
/* Deepest JSON nesting accepted in a header or payload. */
#define IDT_JSON_DEPTH 16

/* Clock skew tolerated for `iat` and `auth_time` (time stamps of Google's token server), seconds.
 * `exp` gets none: a token is never accepted at or after its stated expiry. */
#define IDT_SKEW_SECONDS 60
/* Latest date a time claim may carry (exp, iat, auth_time): 9999-12-31T23:59:59Z, far past any
 * real token yet well inside what a time_t, a double and every consumer of the claims hold. */
#define IDT_TIME_MAX 253402300799LL

/* Key set: a key id's longest length, the most keys kept, the largest document accepted. */
#define IDT_KID_MAX 128
#define IDT_KEYS_MAX 16
#define IDT_KEYSET_MAX (64u * 1024)
#define IDT_RSA_MIN_BITS 2048
/* Deadline of one key set fetch, retries included. */
#define IDT_FETCH_DEADLINE_MS 5000
/* Lifetime of a fetched key set: the response's Cache-Control max-age clamped to [MIN, MAX], or
 * DEFAULT when it has none (Google sends about 6 hours). */
#define IDT_KEYS_TTL_MIN 60
#define IDT_KEYS_TTL_MAX 86400
#define IDT_KEYS_TTL_DEFAULT 300
/* Fetch attempts are at least this far apart, whatever triggers them (stale keys, an unknown kid,
 * failures), so a flood of tokens with random kids costs one fetch per period per process. */
#define IDT_REFETCH_MIN_INTERVAL 60
/* idt_maintain() refreshes keys this long before they go stale, so requests never wait for it. */
#define IDT_REFRESH_AHEAD 300
/* Verified tokens remembered per process (a hit costs a SHA-256 instead of an RSA check; an entry
 * lasts until the token's exp or the next key set, whichever comes first). */
#define IDT_VERIFIED_MAX 2048

/* Seconds since the epoch; the default is time(NULL). */
typedef long long (*idt_clock_fn)(void *arg);

typedef struct {
    char uid[IDS_MAX + 1]; /* `sub`, a valid id (ids_valid_id) */
    long long iat, exp, auth_time;
    int unsigned_token; /* 1 when this was an Auth emulator token (alg none, emulator mode only) */
} idt_claims;

/* One verifier serves every thread of a process: its key set and verified-token cache are
 * process caches behind their own lock, never held across the network. */
typedef struct idt_ctx idt_ctx;

/* A verifier for cfg's auth_project and auth_keys_url; copies what it needs from cfg. No network
 * here: keys are fetched on first need (or by idt_maintain). With auth_emulator_host set, logs a
 * warning that unsigned emulator tokens are accepted. Not thread-safe: one per worker process. */
clip_err idt_new(const cfg_t *cfg, idt_ctx **out, char *err, size_t errlen);
void idt_free(idt_ctx *ctx);

/* Replaces the clock (tests). */
void idt_set_clock(idt_ctx *ctx, idt_clock_fn fn, void *arg);

/* Verifies token[len] (the bearer value). CLIP_OK: *out holds the claims. CLIP_EAUTH: the token
 * is missing or bad, err says why in one line (never echoing token bytes). CLIP_EUNAVAILABLE /
 * CLIP_ETIMEOUT / CLIP_EBACKEND: no key set could be had to check a signature. Uses cached keys
 * (microseconds); touches the network only when there are none yet, when they are stale, or for
 * an unknown kid, each at most once per IDT_REFETCH_MIN_INTERVAL. A token verified before under
 * the same key set is answered from the verified-token cache until its exp. */
clip_err idt_verify(idt_ctx *ctx, const char *token, size_t len, idt_claims *out, char *err,
                    size_t errlen);

/* For the worker between requests: fetches the key set when it is missing or within
 * IDT_REFRESH_AHEAD of going stale (rate-limited like idt_verify), so that requests find fresh
 * keys. CLIP_OK when usable keys are cached afterwards (a failed refresh with old keys still
 * cached logs a warning and returns CLIP_OK). */
clip_err idt_maintain(idt_ctx *ctx, char *err, size_t errlen);

/* Key set observability (tests, /metrics): fetches attempted, keys cached, when they go stale. */
typedef struct {
    unsigned long fetches;
    unsigned long fetch_failures;
    size_t nkeys;
    long long expires_at;
    unsigned long verified_hits; /* verifications answered from the verified-token cache */
} idt_stats;
void idt_get_stats(const idt_ctx *ctx, idt_stats *out);

/* Parses a key set document: Google's x509 form ({"kid": "-----BEGIN CERTIFICATE-----..."}) or a
 * JWKS ({"keys": [{"kty":"RSA","kid":..,"n":..,"e":..}]}) into ctx's cache, replacing it, valid
 * until expires_at. Only RSA keys of at least IDT_RSA_MIN_BITS are kept. For tests and tools. */
clip_err idt_load_keyset(idt_ctx *ctx, const char *doc, size_t len, long long expires_at, char *err,
                         size_t errlen);

/* The max-age of a Cache-Control value (clamped to [IDT_KEYS_TTL_MIN, IDT_KEYS_TTL_MAX]), or
 * IDT_KEYS_TTL_DEFAULT when absent or unparsable. */
long idt_cache_ttl(const char *value, size_t len);


#endif
