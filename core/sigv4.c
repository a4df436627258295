/* sigv4: AWS Signature Version 4 (HMAC-SHA256) for S3/R2: presigned URLs and signed headers. */

/* The HMAC of the hot path resumes from SHA-256 states precomputed once per signing key (the
 * inner and outer pads). That needs a context that can be copied by assignment: OpenSSL 3's EVP
 * contexts allocate on every copy, so the plain SHA256_* functions (deprecated, still built by
 * every distribution, and using the same SHA-NI/AVX code) are used on purpose. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sigv4.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef OPENSSL_NO_DEPRECATED_3_0
#error "sigv4 needs OpenSSL's SHA256_Init/Update/Final (built without no-deprecated)"
#endif

#define ALGO "AWS4-HMAC-SHA256"
#define HOST_MAX 300u
#define STS_MAX                                                                                    \
    (sizeof ALGO + SIG_AMZ_DATE_LEN + 9 + SIG_REGION_MAX + SIG_SERVICE_MAX + 32 + SIG_HEX_LEN)

/* The derived key of one day, with the HMAC pads already run through SHA-256. */
typedef struct {
    char date8[9]; /* "" = empty */
    unsigned char key[32];
    SHA256_CTX inner, outer;
} key_cache;

struct sig_signer {
    char *access_key;
    size_t access_key_len;
    char *secret;
    size_t secret_len;
    char *token;     /* NULL = none */
    char *token_enc; /* "&X-Amz-Security-Token=<encoded>" */
    size_t token_enc_len;
    char region[SIG_REGION_MAX + 1];
    char service[SIG_SERVICE_MAX + 1];
    char *cred_prefix; /* "<encoded access key>%2F" */
    size_t cred_prefix_len;
    char *cred_suffix; /* "%2F<region>%2F<service>%2Faws4_request" */
    size_t cred_suffix_len;
    char *scope_suffix; /* "/<region>/<service>/aws4_request\n" */
    size_t scope_suffix_len;

    /* S3 (endpoint and bucket given) */
    int s3;
    char *url_prefix; /* "https://host/base/bucket/" or "https://bucket.host/base/" */
    size_t url_prefix_len;
    size_t path_off; /* where the path starts in url_prefix */
    char *host_line; /* "host:<canonical host>\n\n" */
    size_t host_line_len;
    char host[HOST_MAX + 1]; /* canonical host */
    int path_style;

    unsigned long id; /* unique per signer made: the key of the threads' caches */
};

/* Each thread keeps the day key of the signer it last signed with and the last date it formatted:
 * no lock on the presigning path, and a signer is shared by every thread of a process. */
static _Thread_local struct {
    unsigned long signer_id; /* 0: empty */
    key_cache kc;
    time_t amz_t; /* amz_date is the formatting of this instant */
    char amz_date[SIG_AMZ_DATE_LEN + 1];
    /* the HMAC inner state run through the string to sign up to its hash, for sts_signer at
     * sts_amz (a presign then hashes only the 64 hex digits in the inner pass) */
    unsigned long sts_signer; /* 0: empty */
    char sts_amz[SIG_AMZ_DATE_LEN];
    SHA256_CTX sts_inner;
} tcache;
static atomic_ulong signer_ids;

/* ---- small helpers -------------------------------------------------------------------------- */

static const unsigned char unreserved[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['-'] = 1,
    ['.'] = 1,         ['_'] = 1,         ['~'] = 1,
};
static const char hexu[] = "0123456789ABCDEF";
static const char hexl[] = "0123456789abcdef";

/* Writes the encoding of s[0..n) at d (room for 3n bytes); returns the new end. */
static char *enc(char *d, const char *s, size_t n, int keep_slash)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (unreserved[c] || (c == '/' && keep_slash)) {
            *d++ = (char)c;
        } else {
            d[0] = '%';
            d[1] = hexu[c >> 4];
            d[2] = hexu[c & 15];
            d += 3;
        }
    }
    return d;
}

static char *put(char *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    return d + n;
}
#define PUTLIT(d, lit) put((d), (lit), sizeof(lit) - 1)

static void hex32(const unsigned char in[32], char out[SIG_HEX_LEN + 1])
{
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hexl[in[i] >> 4];
        out[2 * i + 1] = hexl[in[i] & 15];
    }
    out[SIG_HEX_LEN] = '\0';
}

static char *put_ulong(char *d, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *d++ = tmp[--n];
    return d;
}

static void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                        unsigned char out[32])
{
    unsigned char k0[64] = {0}, pad[64], inner[32];
    if (klen > 64)
        SHA256(key, klen, k0);
    else
        memcpy(k0, key, klen);
    SHA256_CTX c;
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x36;
    SHA256_Init(&c);
    SHA256_Update(&c, pad, 64);
    SHA256_Update(&c, msg, mlen);
    SHA256_Final(inner, &c);
    for (int i = 0; i < 64; i++)
        pad[i] = k0[i] ^ 0x5c;
    SHA256_Init(&c);
    SHA256_Update(&c, pad, 64);
    SHA256_Update(&c, inner, 32);
    SHA256_Final(out, &c);
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(&c, sizeof c);
}

clip_err sig_derive_key(const char *secret, size_t secret_len, const char *date8,
                        const char *region, const char *service, unsigned char key[32])
{
    if (!secret || secret_len > SIG_SECRET_MAX || !date8 || strlen(date8) != 8 || !region ||
        !service)
        return CLIP_EINVAL;
    unsigned char k[4 + SIG_SECRET_MAX];
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, secret_len);
    unsigned char a[32], b[32];
    hmac_sha256(k, 4 + secret_len, date8, 8, a);
    hmac_sha256(a, 32, region, strlen(region), b);
    hmac_sha256(b, 32, service, strlen(service), a);
    hmac_sha256(a, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return CLIP_OK;
}

/* The signing key of the day date8 starts with, for s (derived once per day and thread). */
static const key_cache *use_key(const sig_signer *s, const char *date8)
{
    key_cache *kc = &tcache.kc;
    if (tcache.signer_id == s->id && memcmp(kc->date8, date8, 8) == 0)
        return kc;
    tcache.signer_id = s->id;
    char day[9];
    memcpy(day, date8, 8);
    day[8] = '\0';
    sig_derive_key(s->secret, s->secret_len, day, s->region, s->service, kc->key);
    unsigned char pad[64];
    memset(pad, 0x36, sizeof pad);
    for (int i = 0; i < 32; i++)
        pad[i] ^= kc->key[i];
    SHA256_Init(&kc->inner);
    SHA256_Update(&kc->inner, pad, 64);
    memset(pad, 0x5c, sizeof pad);
    for (int i = 0; i < 32; i++)
        pad[i] ^= kc->key[i];
    SHA256_Init(&kc->outer);
    SHA256_Update(&kc->outer, pad, 64);
    OPENSSL_cleanse(pad, sizeof pad);
    memcpy(kc->date8, date8, 8);
    kc->date8[8] = '\0';
    return kc;
}

/* HMAC-SHA256 with the cached key, its inner pass continued from inner (kc->inner, or a state
 * that has already taken a prefix of the message): two state copies, no allocation. */
static void sign_hex_from(const key_cache *kc, const SHA256_CTX *inner, const char *msg, size_t n,
                          char hex[SIG_HEX_LEN + 1])
{
    SHA256_CTX c = *inner;
    unsigned char h[32];
    SHA256_Update(&c, msg, n);
    SHA256_Final(h, &c);
    c = kc->outer;
    SHA256_Update(&c, h, 32);
    SHA256_Final(h, &c);
    hex32(h, hex);
}

static void sign_hex(const key_cache *kc, const char *sts, size_t n, char hex[SIG_HEX_LEN + 1])
{
    sign_hex_from(kc, &kc->inner, sts, n, hex);
}

/* Writes the string to sign up to its hash, "ALGO\n<amz>\n<date8><scope>\n", at t; the end. */
static char *sts_prefix(char *t, const sig_signer *s, const char *amz)
{
    t = PUTLIT(t, ALGO "\n");
    t = put(t, amz, SIG_AMZ_DATE_LEN);
    *t++ = '\n';
    t = put(t, amz, 8);
    return put(t, s->scope_suffix, s->scope_suffix_len);
}

/* The inner HMAC state of kc (the key of s at amz) after "ALGO\n<amz>\n<scope>\n": one per
 * second and thread; the prefix is a whole SHA-256 block for a region like "auto". */
static const SHA256_CTX *sts_state(const sig_signer *s, const key_cache *kc, const char *amz)
{
    if (tcache.sts_signer == s->id && memcmp(tcache.sts_amz, amz, SIG_AMZ_DATE_LEN) == 0)
        return &tcache.sts_inner;
    char pre[STS_MAX];
    char *t = sts_prefix(pre, s, amz);
    tcache.sts_inner = kc->inner;
    SHA256_Update(&tcache.sts_inner, pre, (size_t)(t - pre));
    memcpy(tcache.sts_amz, amz, SIG_AMZ_DATE_LEN);
    tcache.sts_signer = s->id;
    return &tcache.sts_inner;
}

static char *put2(char *d, int v)
{
    d[0] = (char)('0' + v / 10);
    d[1] = (char)('0' + v % 10);
    return d + 2;
}

void sig_format_amz_date(time_t t, char out[SIG_AMZ_DATE_LEN + 1])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) {
        memcpy(out, "19700101T000000Z", SIG_AMZ_DATE_LEN + 1);
        return;
    }
    char *d = out;
    int y = tm.tm_year + 1900;
    d = put2(d, y / 100);
    d = put2(d, y % 100);
    d = put2(d, tm.tm_mon + 1);
    d = put2(d, tm.tm_mday);
    *d++ = 'T';
    d = put2(d, tm.tm_hour);
    d = put2(d, tm.tm_min);
    d = put2(d, tm.tm_sec);
    *d++ = 'Z';
    *d = '\0';
}

clip_err sig_parse_amz_date(const char *s, time_t *out, char *err, size_t errlen)
{
    int v[6];
    static const int off[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
    if (!s || strlen(s) != SIG_AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
        goto bad;
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int j = 0; j < len[i]; j++) {
            char c = s[off[i] + j];
            if (c < '0' || c > '9')
                goto bad;
            v[i] = v[i] * 10 + (c - '0');
        }
    }
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1] ||
        (v[1] == 2 && v[2] == 29 && !leap) || v[3] > 23 || v[4] > 59 || v[5] > 59)
        goto bad;
    struct tm tm = {0};
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    *out = timegm(&tm);
    return CLIP_OK;
bad:
    return clip_fail(CLIP_EINVAL, err, errlen, "'%.40s' is not a time of the form YYYYMMDDTHHMMSSZ",
                     s ? s : "");
}

/* The x-amz-date of when (0 = now), formatted once per second. */
static const char *amz_for(time_t when)
{
    if (when == 0)
        when = time(NULL);
    if (when != tcache.amz_t || tcache.amz_date[0] == '\0') {
        sig_format_amz_date(when, tcache.amz_date);
        tcache.amz_t = when;
    }
    return tcache.amz_date;
}

/* ---- signer --------------------------------------------------------------------------------- */

static int printable_token(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
            return 0;
    return 1;
}

static char *dup_n(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* A bucket botocore would put into the host name: a DNS label of 3..63 lower-case characters. */
static int virtual_hostable(const char *b, size_t n)
{
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-'))
            return 0;
    return 1;
}

static int is_ipv4(const char *h, size_t n)
{
    int parts = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i] >= '0' && h[i] <= '9') {
            if (++digits > 3)
                return 0;
        } else if (h[i] == '.' && digits) {
            parts++;
            digits = 0;
        } else {
            return 0;
        }
    }
    return digits && parts == 3;
}

/* Splits scheme://authority/path and builds the URL prefix and the canonical host. */
static clip_err setup_s3(sig_signer *s, const sig_config *c, char *err, size_t errlen)
{
    const char *ep = c->endpoint;
    size_t epn = strlen(ep), scheme_len;
    int https;
    if (epn > SIG_ENDPOINT_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "r2_endpoint: longer than %u bytes",
                         SIG_ENDPOINT_MAX);
    if (strncmp(ep, "https://", 8) == 0) {
        https = 1;
        scheme_len = 8;
    } else if (strncmp(ep, "http://", 7) == 0) {
        https = 0;
        scheme_len = 7;
    } else {
        return clip_fail(CLIP_EINVAL, err, errlen, "r2_endpoint: '%s' must start with https://",
                         ep);
    }
    const char *auth = ep + scheme_len;
    size_t an = strcspn(auth, "/");
    const char *path = auth + an;
    for (const char *p = ep; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("@?#%\\", *p))
            return clip_fail(CLIP_EINVAL, err, errlen,
                             "r2_endpoint: '%s' may hold only scheme://host[:port][/path]", ep);
    for (const char *p = path; *p; p++)
        if (!unreserved[(unsigned char)*p] && *p != '/')
            return clip_fail(CLIP_EINVAL, err, errlen,
                             "r2_endpoint: the path of '%s' may hold only A-Za-z0-9-._~/", ep);
    /* host and port */
    const char *host = auth, *port = NULL;
    size_t hn;
    if (an && auth[0] == '[') {
        const char *rb = memchr(auth, ']', an);
        if (!rb)
            return clip_fail(CLIP_EINVAL, err, errlen, "r2_endpoint: unclosed '[' in '%s'", ep);
        hn = (size_t)(rb - auth) + 1;
        if (hn < an && auth[hn] != ':')
            return clip_fail(CLIP_EINVAL, err, errlen, "r2_endpoint: bad port in '%s'", ep);
    } else {
        const char *colon = memchr(auth, ':', an);
        hn = colon ? (size_t)(colon - auth) : an;
    }
    if (hn < an)
        port = auth + hn + 1;
    if (hn == 0 || hn > HOST_MAX - 80)
        return clip_fail(CLIP_EINVAL, err, errlen, "r2_endpoint: no usable host in '%s'", ep);
    long portnum = https ? 443 : 80;
    if (port) {
        size_t pn = (size_t)(auth + an - port);
        portnum = 0;
        if (pn == 0 || pn > 5)
            return clip_fail(CLIP_EINVAL, err, errlen, "r2_endpoint: bad port in '%s'", ep);
        for (size_t i = 0; i < pn; i++) {
            if (port[i] < '0' || port[i] > '9')
                return clip_fail(CLIP_EINVAL, err, errlen, "r2_endpoint: bad port in '%s'", ep);
            portnum = portnum * 10 + (port[i] - '0');
        }
        if (portnum < 1 || portnum > 65535)
            return clip_fail(CLIP_EINVAL, err, errlen, "r2_endpoint: bad port in '%s'", ep);
    }
    const char *bucket = c->bucket;
    size_t bn = strlen(bucket);
    int ip = host[0] == '[' || is_ipv4(host, hn);
    s->path_style = !(c->virtual_host && !ip && virtual_hostable(bucket, bn));

    /* canonical host: lower case, default port dropped (as botocore's _host_from_url) */
    char h[HOST_MAX + 1];
    size_t k = 0;
    if (!s->path_style) {
        memcpy(h, bucket, bn);
        h[bn] = '.';
        k = bn + 1;
    }
    for (size_t i = 0; i < hn; i++)
        h[k++] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
    if (portnum != (https ? 443 : 80))
        k += (size_t)snprintf(h + k, sizeof h - k, ":%ld", portnum);
    h[k] = '\0';
    memcpy(s->host, h, k + 1);

    buf_t b = BUF_INIT;
    buf_printf(&b, "host:%s\n\n", h);
    s->host_line_len = b.len;
    s->host_line = buf_take(&b);

    /* URL prefix: the authority as written, then base path and bucket */
    buf_append(&b, ep, scheme_len);
    if (!s->path_style) {
        buf_append(&b, bucket, bn);
        buf_putc(&b, '.');
    }
    buf_append(&b, auth, an);
    s->path_off = b.len;
    buf_puts(&b, *path ? path : "/");
    if (b.p[b.len - 1] != '/')
        buf_putc(&b, '/');
    if (s->path_style) {
        buf_append(&b, bucket, bn);
        buf_putc(&b, '/');
    }
    s->url_prefix_len = b.len;
    s->url_prefix = buf_take(&b);
    if (!s->host_line || !s->url_prefix)
        return clip_fail(CLIP_ENOMEM, err, errlen, "sigv4: out of memory");
    s->s3 = 1;
    return CLIP_OK;
}

clip_err sig_signer_new(const sig_config *c, sig_signer **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *region = c->region && *c->region ? c->region : "auto";
    const char *service = c->service && *c->service ? c->service : "s3";
    size_t akn = c->access_key_id ? strlen(c->access_key_id) : 0;
    size_t skn = c->secret_access_key ? strlen(c->secret_access_key) : 0;
    size_t tkn = c->session_token ? strlen(c->session_token) : 0;
    if (akn == 0 || akn > SIG_ACCESS_KEY_MAX || !printable_token(c->access_key_id, akn))
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "r2_access_key_id: must be 1..%u printable characters without spaces",
                         SIG_ACCESS_KEY_MAX);
    if (skn == 0 || skn > SIG_SECRET_MAX || !printable_token(c->secret_access_key, skn))
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "r2_secret_access_key: must be 1..%u printable characters without spaces",
                         SIG_SECRET_MAX);
    if (tkn > SIG_TOKEN_MAX || !printable_token(c->session_token ? c->session_token : "", tkn))
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "r2_session_token: must be at most %u printable characters",
                         SIG_TOKEN_MAX);
    size_t rn = strlen(region), sn = strlen(service);
    if (rn > SIG_REGION_MAX || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != rn)
        return clip_fail(CLIP_EINVAL, err, errlen, "r2_region: '%.80s' is not a region name",
                         region);
    if (sn > SIG_SERVICE_MAX || strspn(service, "abcdefghijklmnopqrstuvwxyz0123456789-") != sn)
        return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: '%.80s' is not a service name", service);
    if ((c->endpoint == NULL) != (c->bucket == NULL))
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: not set",
                         c->endpoint ? "r2_bucket" : "r2_endpoint");
    if (c->bucket) {
        size_t bn = strlen(c->bucket);
        if (bn == 0 || bn > SIG_BUCKET_MAX ||
            strspn(c->bucket,
                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != bn)
            return clip_fail(CLIP_EINVAL, err, errlen,
                             "r2_bucket: '%.80s' must be 1..%u characters of A-Za-z0-9._-",
                             c->bucket, SIG_BUCKET_MAX);
    }

    sig_signer *s = calloc(1, sizeof *s);
    if (!s)
        return clip_fail(CLIP_ENOMEM, err, errlen, "sigv4: out of memory");
    memcpy(s->region, region, rn + 1);
    memcpy(s->service, service, sn + 1);
    s->access_key = dup_n(c->access_key_id, akn);
    s->access_key_len = akn;
    s->secret = dup_n(c->secret_access_key, skn);
    s->secret_len = skn;
    buf_t b = BUF_INIT;
    if (tkn) {
        s->token = dup_n(c->session_token, tkn);
        buf_puts(&b, "&X-Amz-Security-Token=");
        sig_uri_encode(&b, c->session_token, tkn, 0);
        s->token_enc_len = b.len;
        s->token_enc = buf_take(&b);
    }
    sig_uri_encode(&b, c->access_key_id, akn, 0);
    buf_puts(&b, "%2F");
    s->cred_prefix_len = b.len;
    s->cred_prefix = buf_take(&b);
    buf_printf(&b, "%%2F%s%%2F%s%%2Faws4_request", region, service);
    s->cred_suffix_len = b.len;
    s->cred_suffix = buf_take(&b);
    buf_printf(&b, "/%s/%s/aws4_request\n", region, service);
    s->scope_suffix_len = b.len;
    s->scope_suffix = buf_take(&b);
    if (!s->access_key || !s->secret || (tkn && (!s->token || !s->token_enc)) || !s->cred_prefix ||
        !s->cred_suffix || !s->scope_suffix) {
        sig_signer_free(s);
        return clip_fail(CLIP_ENOMEM, err, errlen, "sigv4: out of memory");
    }
    if (c->endpoint) {
        clip_err rc = setup_s3(s, c, err, errlen);
        if (rc != CLIP_OK) {
            sig_signer_free(s);
            return rc;
        }
    }
    s->id = atomic_fetch_add(&signer_ids, 1) + 1;
    *out = s;
    return CLIP_OK;
}

void sig_signer_free(sig_signer *s)
{
    if (!s)
        return;
    if (s->secret)
        OPENSSL_cleanse(s->secret, s->secret_len);
    if (s->token)
        OPENSSL_cleanse(s->token, strlen(s->token));
    free(s->access_key);
    free(s->secret);
    free(s->token);
    free(s->token_enc);
    free(s->cred_prefix);
    free(s->cred_suffix);
    free(s->scope_suffix);
    free(s->url_prefix);
    free(s->host_line);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

const char *sig_signer_token(const sig_signer *s)
{
    return s->token;
}

/* ---- presigning (the hot path) -------------------------------------------------------------- */

static const char *const method_names[] = {"GET", "PUT", "HEAD"};

/* Trims and collapses runs of blanks as the canonical header value; 0 when a byte is not allowed.
 */
static int canon_header_value(const char *p, size_t n, char *out, size_t *outn)
{
    size_t k = 0;
    int blank = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ' ' || c == '\t') {
            blank = 1;
            continue;
        }
        if (c < 0x20 || c >= 0x7f)
            return 0;
        if (blank && k)
            out[k++] = ' ';
        blank = 0;
        out[k++] = (char)c;
    }
    *outn = k;
    return 1;
}

clip_err sig_presign(sig_signer *s, const sig_presign_req *r, buf_t *out, char *err, size_t errlen)
{
    if (!s->s3)
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "presign: the signer has no endpoint and bucket");
    if ((unsigned)r->method > SIG_HEAD)
        return clip_fail(CLIP_EINVAL, err, errlen, "presign: method must be GET, PUT or HEAD");
    if (!r->key || r->key_len == 0 || r->key_len > SIG_KEY_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "presign: the key must be 1..%u bytes",
                         SIG_KEY_MAX);
    if (r->expires < SIG_EXPIRES_MIN || r->expires > SIG_EXPIRES_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "presign: expires %ld is out of range %ld..%ld",
                         r->expires, SIG_EXPIRES_MIN, SIG_EXPIRES_MAX);
    const char *rcd = r->response_content_disposition, *rct = r->response_content_type;
    size_t rcdn = rcd ? r->response_content_disposition_len : 0;
    size_t rctn = rct ? r->response_content_type_len : 0;
    if ((rcd || rct) && r->method != SIG_GET)
        return clip_fail(CLIP_EINVAL, err, errlen, "presign: response overrides need GET");
    if (rcdn > SIG_VALUE_MAX || rctn > SIG_VALUE_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "presign: a response override is longer than %u bytes", SIG_VALUE_MAX);
    char ct[SIG_VALUE_MAX];
    size_t ctn = 0;
    if (r->content_type) {
        if (r->method != SIG_PUT)
            return clip_fail(CLIP_EINVAL, err, errlen, "presign: a content type needs PUT");
        if (r->content_type_len > SIG_VALUE_MAX ||
            !canon_header_value(r->content_type, r->content_type_len, ct, &ctn) || ctn == 0)
            return clip_fail(CLIP_EINVAL, err, errlen,
                             "presign: the content type must be 1..%u printable ASCII characters",
                             SIG_VALUE_MAX);
    }

    const char *amz = amz_for(r->when);
    const key_cache *kc = use_key(s, amz);

    size_t need = s->url_prefix_len + 3 * r->key_len + 1 + (3 * rcdn + 32) + (3 * rctn + 32) +
                  s->cred_prefix_len + s->cred_suffix_len + s->token_enc_len + 256;
    if (buf_reserve(out, need) != 0)
        return clip_fail(out->max ? CLIP_ETOOBIG : CLIP_ENOMEM, err, errlen,
                         "presign: no room for the URL");
    char *base = out->p + out->len, *d = base;
    d = put(d, s->url_prefix, s->url_prefix_len);
    d = enc(d, r->key, r->key_len, 1);
    const char *path = base + s->path_off;
    size_t path_len = (size_t)(d - path);
    *d++ = '?';
    /* botocore puts the operation parameters first, in the order given (we give them sorted) */
    const char *qd = NULL, *qt = NULL;
    size_t qdn = 0, qtn = 0;
    if (rcd) {
        qd = d;
        d = PUTLIT(d, "response-content-disposition=");
        d = enc(d, rcd, rcdn, 0);
        qdn = (size_t)(d - qd);
        *d++ = '&';
    }
    if (rct) {
        qt = d;
        d = PUTLIT(d, "response-content-type=");
        d = enc(d, rct, rctn, 0);
        qtn = (size_t)(d - qt);
        *d++ = '&';
    }
    const char *qa = d;
    d = PUTLIT(d, "X-Amz-Algorithm=" ALGO "&X-Amz-Credential=");
    d = put(d, s->cred_prefix, s->cred_prefix_len);
    d = put(d, amz, 8);
    d = put(d, s->cred_suffix, s->cred_suffix_len);
    d = PUTLIT(d, "&X-Amz-Date=");
    d = put(d, amz, SIG_AMZ_DATE_LEN);
    d = PUTLIT(d, "&X-Amz-Expires=");
    d = put_ulong(d, (unsigned long)r->expires);
    size_t qan = (size_t)(d - qa);
    const char *qs = d;
    if (r->content_type)
        d = PUTLIT(d, "&X-Amz-SignedHeaders=content-type%3Bhost");
    else
        d = PUTLIT(d, "&X-Amz-SignedHeaders=host");
    size_t qsn = (size_t)(d - qs);
    if (s->token_enc)
        d = put(d, s->token_enc, s->token_enc_len);

    /* canonical request, hashed in place from the pieces of the URL */
    SHA256_CTX c;
    unsigned char h[32];
    const char *m = method_names[r->method];
    SHA256_Init(&c);
    SHA256_Update(&c, m, strlen(m));
    SHA256_Update(&c, "\n", 1);
    SHA256_Update(&c, path, path_len);
    SHA256_Update(&c, "\n", 1);
    SHA256_Update(&c, qa, qan);
    if (s->token_enc)
        SHA256_Update(&c, s->token_enc, s->token_enc_len);
    SHA256_Update(&c, qs, qsn);
    if (qd) {
        SHA256_Update(&c, "&", 1);
        SHA256_Update(&c, qd, qdn);
    }
    if (qt) {
        SHA256_Update(&c, "&", 1);
        SHA256_Update(&c, qt, qtn);
    }
    SHA256_Update(&c, "\n", 1);
    if (r->content_type) {
        SHA256_Update(&c, "content-type:", 13);
        SHA256_Update(&c, ct, ctn);
        SHA256_Update(&c, "\n", 1);
    }
    SHA256_Update(&c, s->host_line, s->host_line_len);
    if (r->content_type)
        SHA256_Update(&c, "content-type;host\n" SIG_UNSIGNED_PAYLOAD, 34);
    else
        SHA256_Update(&c, "host\n" SIG_UNSIGNED_PAYLOAD, 21);
    SHA256_Final(h, &c);

    /* string to sign: its prefix is in the cached inner state, only the hash varies */
    char hh[SIG_HEX_LEN + 1];
    hex32(h, hh);
    d = PUTLIT(d, "&X-Amz-Signature=");
    sign_hex_from(kc, sts_state(s, kc, amz), hh, SIG_HEX_LEN, d);
    d += SIG_HEX_LEN;
    *d = '\0';
    out->len += (size_t)(d - base);
    return CLIP_OK;
}

/* ---- header signing (ordinary requests) ----------------------------------------------------- */

int sig_uri_encode(buf_t *b, const char *p, size_t n, int keep_slash)
{
    if (n > (SIZE_MAX - 1) / 3 || buf_reserve(b, 3 * n + 1) != 0)
        return -1;
    char *d = enc(b->p + b->len, p, n, keep_slash);
    b->len = (size_t)(d - b->p);
    b->p[b->len] = '\0';
    return 0;
}

typedef struct {
    const char *name, *value; /* encoded, inside one buffer */
    size_t name_len, value_len;
} enc_pair;

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    return r ? r : (an < bn ? -1 : an > bn);
}

static int cmp_enc_pair(const void *x, const void *y)
{
    const enc_pair *a = x, *b = y;
    int r = cmp_bytes(a->name, a->name_len, b->name, b->name_len);
    return r ? r : cmp_bytes(a->value, a->value_len, b->value, b->value_len);
}

clip_err sig_canonical_query(const sig_pair *q, size_t n, buf_t *out, char *err, size_t errlen)
{
    if (n > SIG_QUERY_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: more than %u query parameters",
                         SIG_QUERY_MAX);
    enc_pair e[SIG_QUERY_MAX];
    size_t off[SIG_QUERY_MAX][2];
    buf_t tmp = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (q[i].name_len > SIG_VALUE_MAX || q[i].value_len > SIG_VALUE_MAX) {
            buf_free(&tmp);
            return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: a query parameter is over %u bytes",
                             SIG_VALUE_MAX);
        }
        off[i][0] = tmp.len;
        sig_uri_encode(&tmp, q[i].name, q[i].name_len, 0);
        off[i][1] = tmp.len;
        sig_uri_encode(&tmp, q[i].value, q[i].value_len, 0);
    }
    if (tmp.oom) {
        buf_free(&tmp);
        return clip_fail(CLIP_ENOMEM, err, errlen, "sigv4: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        size_t end = i + 1 < n ? off[i + 1][0] : tmp.len;
        e[i].name = tmp.p + off[i][0];
        e[i].name_len = off[i][1] - off[i][0];
        e[i].value = tmp.p + off[i][1];
        e[i].value_len = end - off[i][1];
    }
    if (n > 1)
        qsort(e, n, sizeof e[0], cmp_enc_pair);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(out, '&');
        buf_append(out, e[i].name, e[i].name_len);
        buf_putc(out, '=');
        buf_append(out, e[i].value, e[i].value_len);
    }
    buf_free(&tmp);
    if (out->oom)
        return clip_fail(CLIP_ENOMEM, err, errlen, "sigv4: out of memory");
    return CLIP_OK;
}

typedef struct {
    char name[64];
    size_t name_len;
    const char *value;
    size_t value_len;
    size_t order;
} hdr;

static int cmp_hdr(const void *x, const void *y)
{
    const hdr *a = x, *b = y;
    int r = cmp_bytes(a->name, a->name_len, b->name, b->name_len);
    return r ? r : (a->order < b->order ? -1 : a->order > b->order);
}

/* Appends a header value trimmed, with every run of whitespace (including folded lines) one space.
 */
static void put_header_value(buf_t *b, const char *p, size_t n)
{
    int blank = 0, any = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            blank = 1;
            continue;
        }
        if (blank && any)
            buf_putc(b, ' ');
        blank = 0;
        any = 1;
        buf_putc(b, c);
    }
}

clip_err sig_sign_string(sig_signer *s, const char *date8, const char *sts, size_t sts_len,
                         char hex[SIG_HEX_LEN + 1])
{
    if (!date8 || strlen(date8) != 8)
        return CLIP_EINVAL;
    sign_hex(use_key(s, date8), sts, sts_len, hex);
    return CLIP_OK;
}

clip_err sig_sign_request(sig_signer *s, const sig_request *r, sig_auth *auth, buf_t *query,
                          buf_t *canonical, char *err, size_t errlen)
{
    int presign = r->presign_expires != 0;
    if (!r->method || !*r->method || strlen(r->method) > 16 || !r->host || !*r->host ||
        strlen(r->host) > HOST_MAX || !r->canonical_uri || r->canonical_uri_len == 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: a request needs method, host and path");
    if (r->nheaders > SIG_HEADERS_MAX || r->nquery + 6 > SIG_QUERY_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: too many headers or parameters");
    if (presign && (r->presign_expires < SIG_EXPIRES_MIN || r->presign_expires > SIG_EXPIRES_MAX))
        return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: expires %ld is out of range %ld..%ld",
                         r->presign_expires, SIG_EXPIRES_MIN, SIG_EXPIRES_MAX);
    const char *ph = r->payload_hash ? r->payload_hash : SIG_EMPTY_SHA256;
    size_t phn = strlen(ph);
    if (phn > SIG_HEX_LEN)
        return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: bad payload hash");
    memcpy(auth->payload_hash, ph, phn + 1);
    memcpy(auth->amz_date, amz_for(r->when), SIG_AMZ_DATE_LEN + 1);

    /* every header to sign, lower-cased, in a stable sort by name */
    hdr h[SIG_HEADERS_MAX + 4];
    size_t nh = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        const sig_pair *p = &r->headers[i];
        if (p->name_len == 0 || p->name_len >= sizeof h[0].name || p->value_len > SIG_VALUE_MAX)
            return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: a header to sign is too long");
        for (size_t k = 0; k < p->name_len; k++) {
            char ch = p->name[k];
            if (ch <= 0x20 || ch >= 0x7f || ch == ':')
                return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: bad header name");
            h[nh].name[k] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        }
        h[nh].name_len = p->name_len;
        h[nh].value = p->value;
        h[nh].value_len = p->value_len;
        h[nh].order = nh;
        nh++;
    }
#define ADD_HDR(n, v, vn)                                                                          \
    do {                                                                                           \
        memcpy(h[nh].name, n, sizeof(n));                                                          \
        h[nh].name_len = sizeof(n) - 1;                                                            \
        h[nh].value = (v);                                                                         \
        h[nh].value_len = (vn);                                                                    \
        h[nh].order = nh;                                                                          \
        nh++;                                                                                      \
    } while (0)
    ADD_HDR("host", r->host, strlen(r->host));
    if (!presign) {
        ADD_HDR("x-amz-date", auth->amz_date, SIG_AMZ_DATE_LEN);
        if (r->content_sha256_header)
            ADD_HDR("x-amz-content-sha256", auth->payload_hash, phn);
        if (s->token)
            ADD_HDR("x-amz-security-token", s->token, strlen(s->token));
    }
#undef ADD_HDR
    qsort(h, nh, sizeof h[0], cmp_hdr);

    buf_t cr = BUF_INIT, sh = BUF_INIT, ch = BUF_INIT;
    for (size_t i = 0; i < nh; i++) {
        int same = i && cmp_bytes(h[i].name, h[i].name_len, h[i - 1].name, h[i - 1].name_len) == 0;
        if (same) {
            buf_putc(&ch, ',');
        } else {
            if (i) {
                buf_putc(&ch, '\n');
                buf_putc(&sh, ';');
            }
            buf_append(&ch, h[i].name, h[i].name_len);
            buf_putc(&ch, ':');
            buf_append(&sh, h[i].name, h[i].name_len);
        }
        put_header_value(&ch, h[i].value, h[i].value_len);
    }
    clip_err rc = CLIP_OK;
    if (ch.oom || sh.oom || sh.len > SIG_SIGNED_HEADERS_MAX) {
        rc = clip_fail(ch.oom || sh.oom ? CLIP_ENOMEM : CLIP_EINVAL, err, errlen,
                       "sigv4: the signed headers do not fit");
        goto done;
    }

    /* the query: the caller's parameters, plus the X-Amz-* ones when presigning */
    sig_pair q[SIG_QUERY_MAX];
    size_t nq = r->nquery;
    char cred[SIG_ACCESS_KEY_MAX + SIG_REGION_MAX + SIG_SERVICE_MAX + 32], exp[24];
    if (nq)
        memcpy(q, r->query, nq * sizeof q[0]);
    if (presign) {
        int cn = snprintf(cred, sizeof cred, "%s/%.8s%.*s", s->access_key, auth->amz_date,
                          (int)s->scope_suffix_len - 1, s->scope_suffix);
        int en = snprintf(exp, sizeof exp, "%ld", r->presign_expires);
        if (cn < 0 || (size_t)cn >= sizeof cred || en < 0 || (size_t)en >= sizeof exp) {
            rc = clip_fail(CLIP_EINTERNAL, err, errlen, "sigv4: the credential does not fit");
            goto done;
        }
        q[nq++] = (sig_pair){"X-Amz-Algorithm", 15, ALGO, sizeof ALGO - 1};
        q[nq++] = (sig_pair){"X-Amz-Credential", 16, cred, (size_t)cn};
        q[nq++] = (sig_pair){"X-Amz-Date", 10, auth->amz_date, SIG_AMZ_DATE_LEN};
        q[nq++] = (sig_pair){"X-Amz-Expires", 13, exp, (size_t)en};
        if (s->token)
            q[nq++] = (sig_pair){"X-Amz-Security-Token", 20, s->token, strlen(s->token)};
        q[nq++] = (sig_pair){"X-Amz-SignedHeaders", 19, sh.p, sh.len};
    }
    buf_puts(&cr, r->method);
    buf_putc(&cr, '\n');
    buf_append(&cr, r->canonical_uri, r->canonical_uri_len);
    buf_putc(&cr, '\n');
    size_t qstart = cr.len;
    rc = sig_canonical_query(q, nq, &cr, err, errlen);
    if (rc != CLIP_OK)
        goto done;
    size_t qend = cr.len;
    buf_putc(&cr, '\n');
    buf_append(&cr, ch.p, ch.len);
    buf_puts(&cr, "\n\n");
    buf_append(&cr, sh.p, sh.len);
    buf_putc(&cr, '\n');
    buf_append(&cr, ph, phn);
    if (cr.oom) {
        rc = clip_fail(CLIP_ENOMEM, err, errlen, "sigv4: out of memory");
        goto done;
    }
    unsigned char hash[32];
    SHA256((const unsigned char *)cr.p, cr.len, hash);
    char sts[STS_MAX];
    char *t = sts_prefix(sts, s, auth->amz_date);
    hex32(hash, t);
    t += SIG_HEX_LEN;
    sign_hex(use_key(s, auth->amz_date), sts, (size_t)(t - sts), auth->signature);
    int n;
    if (presign)
        n = snprintf(auth->authorization, sizeof auth->authorization, "%s", "");
    else
        n = snprintf(auth->authorization, sizeof auth->authorization,
                     ALGO " Credential=%s/%.8s%.*s, SignedHeaders=%s, Signature=%s", s->access_key,
                     auth->amz_date, (int)s->scope_suffix_len - 1, s->scope_suffix, sh.p,
                     auth->signature);
    if (n < 0 || (size_t)n >= sizeof auth->authorization) {
        rc = clip_fail(CLIP_EINVAL, err, errlen, "sigv4: the Authorization header does not fit");
        goto done;
    }
    if (canonical)
        buf_append(canonical, cr.p, cr.len);
    if (query) {
        buf_append(query, cr.p + qstart, qend - qstart);
        if (presign) {
            buf_puts(query, "&X-Amz-Signature=");
            buf_puts(query, auth->signature);
        }
        if (query->oom)
            rc = clip_fail(CLIP_ENOMEM, err, errlen, "sigv4: out of memory");
    }
done:
    buf_free(&cr);
    buf_free(&sh);
    buf_free(&ch);
    return rc;
}

clip_err sig_s3_request(sig_signer *s, const char *method, const char *key, size_t key_len,
                        const sig_pair *query, size_t nquery, const char *payload_hash, time_t when,
                        buf_t *url, sig_auth *auth, char *err, size_t errlen)
{
    if (!s->s3)
        return clip_fail(CLIP_EINVAL, err, errlen, "sigv4: the signer has no endpoint and bucket");
    if (key_len > SIG_KEY_MAX || (key_len && !key))
        return clip_fail(CLIP_EINVAL, err, errlen, "r2: the key must be at most %u bytes",
                         SIG_KEY_MAX);
    size_t start = url->len;
    size_t prefix = s->url_prefix_len;
    if (key_len == 0 && s->path_style)
        prefix--; /* the bucket itself: "/bucket", as botocore writes it */
    buf_append(url, s->url_prefix, prefix);
    sig_uri_encode(url, key, key_len, 1);
    size_t path_end = url->len;
    if (nquery) {
        buf_putc(url, '?');
        clip_err rc = sig_canonical_query(query, nquery, url, err, errlen);
        if (rc != CLIP_OK)
            return rc;
    }
    if (url->oom)
        return clip_fail(CLIP_ENOMEM, err, errlen, "r2: out of memory");
    sig_request r = {
        .method = method,
        .host = s->host,
        .canonical_uri = url->p + start + s->path_off,
        .canonical_uri_len = path_end - start - s->path_off,
        .query = query,
        .nquery = nquery,
        .payload_hash = payload_hash,
        .content_sha256_header = 1,
        .when = when,
    };
    return sig_sign_request(s, &r, auth, NULL, NULL, err, errlen);
}
