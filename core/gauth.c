/* gauth: Google access tokens from the emulator, a service-account key (RS256 JWT exchange) or the
 * GCE metadata server. */
#include "gauth.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "http.h"
#include "json.h"
#include "log.h"

#define GAUTH_DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define GAUTH_FIELD_MAX 2048

struct gauth {
    gauth_kind kind;
    /* service account */
    char *client_email;
    char *key_id;
    char *token_uri;
    EVP_PKEY *key;
    char *key_file;
    /* metadata server */
    char *metadata_url;
    char *metadata_host;
    /* the cache, shared by the threads of a process: read under lock, fetched by one thread at
     * a time without it (the others keep the old token while it is valid, or wait for the new) */
    pthread_mutex_t lock;
    pthread_cond_t fetched;
    int fetching;
    char token[GAUTH_TOKEN_MAX];
    double expires; /* mono_s() */
    int have_token;
};

/* What a token endpoint gave. */
typedef struct {
    char token[GAUTH_TOKEN_MAX];
    double expires;
} fresh_token;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define GAUTH_JSON_DEPTH 16 /* nesting accepted in a key file or a token answer */

/* A JSON object text (a key file, a token endpoint's answer), or NULL when it is not one. */
static json_object *parse_object(const char *name, const char *p, size_t n, size_t max)
{
    json_limits lim = {name, max, GAUTH_JSON_DEPTH};
    json_object *j = NULL;
    char why[160];
    if (!p || json_read_object(p, n, &lim, &j, why, sizeof why) != CLIP_OK)
        return NULL;
    return j;
}

static char *dup_member(json_object *j, const char *key)
{
    size_t n = 0;
    const char *s = json_member_str(j, key, &n);
    if (!s || n == 0 || n > GAUTH_KEYFILE_MAX)
        return NULL;
    return strndup(s, n);
}

static clip_err read_file(const char *path, buf_t *out, size_t max, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return clip_fail(CLIP_EIO, err, errlen, "%s: %s", path, strerror(errno));
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > max) {
            fclose(f);
            return clip_fail(CLIP_EINVAL, err, errlen, "%s: larger than %zu bytes", path, max);
        }
        buf_append(out, chunk, n);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || out->oom)
        return clip_fail(CLIP_EIO, err, errlen, "%s: read failed", path);
    return CLIP_OK;
}

static clip_err load_service_account(gauth *g, const char *path, char *err, size_t errlen)
{
    buf_t b = BUF_INIT;
    clip_err e = read_file(path, &b, GAUTH_KEYFILE_MAX, err, errlen);
    if (e != CLIP_OK) {
        buf_free(&b);
        return e;
    }
    json_object *j = parse_object("google_credentials_file", b.p, b.len, GAUTH_KEYFILE_MAX);
    buf_free(&b);
    if (!j)
        return clip_fail(CLIP_EINVAL, err, errlen, "google_credentials_file %s: not a JSON object",
                         path);
    char *type = dup_member(j, "type");
    char *pem = dup_member(j, "private_key");
    g->client_email = dup_member(j, "client_email");
    g->key_id = dup_member(j, "private_key_id");
    g->token_uri = dup_member(j, "token_uri");
    json_object_put(j);
    if (!type || strcmp(type, "service_account") != 0) {
        e = clip_fail(
            CLIP_EINVAL, err, errlen,
            "google_credentials_file %s: type is \"%s\", only service_account keys are supported",
            path, type ? type : "(missing)");
    } else if (!g->client_email || !pem) {
        e = clip_fail(CLIP_EINVAL, err, errlen,
                      "google_credentials_file %s: client_email or private_key missing", path);
    } else if (g->token_uri && strncmp(g->token_uri, "https://", 8) != 0 &&
               strncmp(g->token_uri, "http://127.0.0.1", 16) != 0 &&
               strncmp(g->token_uri, "http://localhost", 16) != 0) {
        /* An assertion sent in clear text to another host would leak a reusable credential. */
        e = clip_fail(CLIP_EINVAL, err, errlen,
                      "google_credentials_file %s: token_uri must be https", path);
    } else {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        g->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!g->key || EVP_PKEY_get_base_id(g->key) != EVP_PKEY_RSA)
            e = clip_fail(CLIP_EINVAL, err, errlen,
                          "google_credentials_file %s: private_key is not an RSA PEM key", path);
    }
    if (e == CLIP_OK && !g->token_uri && !(g->token_uri = strdup(GAUTH_DEFAULT_TOKEN_URI)))
        e = clip_fail(CLIP_ENOMEM, err, errlen, "gauth: out of memory");
    if (pem) {
        OPENSSL_cleanse(pem, strlen(pem));
        free(pem);
    }
    free(type);
    return e;
}

clip_err gauth_new(const cfg_t *cfg, gauth **out, char *err, size_t errlen)
{
    *out = NULL;
    gauth *g = calloc(1, sizeof *g);
    if (!g)
        return clip_fail(CLIP_ENOMEM, err, errlen, "gauth: out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->fetched, &ca);
    pthread_condattr_destroy(&ca);
    clip_err e = CLIP_OK;
    if (cfg->firestore_emulator_host && cfg->firestore_emulator_host[0]) {
        g->kind = GAUTH_EMULATOR;
    } else if (cfg->google_credentials_file && cfg->google_credentials_file[0]) {
        g->kind = GAUTH_SERVICE_ACCOUNT;
        g->key_file = strdup(cfg->google_credentials_file);
        e = g->key_file ? load_service_account(g, cfg->google_credentials_file, err, errlen)
                        : clip_fail(CLIP_ENOMEM, err, errlen, "gauth: out of memory");
    } else {
        g->kind = GAUTH_METADATA;
        const char *host = getenv("GCE_METADATA_HOST");
        if (!host || !host[0] || strlen(host) > 255)
            host = GAUTH_METADATA_HOST_DEFAULT;
        buf_t b = BUF_INIT;
        buf_printf(&b, "http://%s%s?scopes=", host, GAUTH_METADATA_TOKEN_PATH);
        /* the scope URL, query-encoded */
        for (const char *p = GAUTH_SCOPE; *p; p++) {
            if (*p == ':' || *p == '/')
                buf_printf(&b, "%%%02X", (unsigned char)*p);
            else
                buf_putc(&b, *p);
        }
        g->metadata_url = buf_take(&b);
        g->metadata_host = strdup(host);
        if (!g->metadata_url || !g->metadata_host)
            e = clip_fail(CLIP_ENOMEM, err, errlen, "gauth: out of memory");
    }
    if (e != CLIP_OK) {
        gauth_free(g);
        return e;
    }
    *out = g;
    return CLIP_OK;
}

void gauth_free(gauth *g)
{
    if (!g)
        return;
    free(g->client_email);
    free(g->key_id);
    free(g->token_uri);
    free(g->key_file);
    free(g->metadata_url);
    free(g->metadata_host);
    EVP_PKEY_free(g->key);
    OPENSSL_cleanse(g->token, sizeof g->token);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->fetched);
    free(g);
}

gauth_kind gauth_source(const gauth *g)
{
    return g->kind;
}

void gauth_invalidate(gauth *g)
{
    pthread_mutex_lock(&g->lock);
    g->have_token = 0;
    pthread_mutex_unlock(&g->lock);
}

clip_err gauth_jwt(const gauth *g, time_t now, buf_t *out, char *err, size_t errlen)
{
    if (g->kind != GAUTH_SERVICE_ACCOUNT || !g->key)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "gauth: no service-account key");
    buf_t header = BUF_INIT, claims = BUF_INIT;
    buf_puts(&header, "{\"alg\":\"RS256\",\"typ\":\"JWT\"");
    if (g->key_id) {
        buf_puts(&header, ",\"kid\":");
        buf_json_str(&header, g->key_id, strlen(g->key_id));
    }
    buf_putc(&header, '}');
    buf_puts(&claims, "{\"iss\":");
    buf_json_str(&claims, g->client_email, strlen(g->client_email));
    buf_puts(&claims, ",\"scope\":\"" GAUTH_SCOPE "\",\"aud\":");
    buf_json_str(&claims, g->token_uri, strlen(g->token_uri));
    buf_printf(&claims, ",\"iat\":%lld,\"exp\":%lld}", (long long)now,
               (long long)now + GAUTH_JWT_LIFETIME_S);
    size_t start = out->len;
    codec_base64url_encode(out, header.p, header.len);
    buf_putc(out, '.');
    codec_base64url_encode(out, claims.p, claims.len);
    int oom = header.oom || claims.oom || out->oom;
    buf_free(&header);
    buf_free(&claims);
    if (oom)
        return clip_fail(CLIP_ENOMEM, err, errlen, "gauth: out of memory");

    unsigned char sig[1024];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, g->key) == 1 &&
             EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->p + start,
                            out->len - start) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "gauth: RS256 signing failed");
    buf_putc(out, '.');
    codec_base64url_encode(out, sig, siglen);
    return out->oom ? clip_fail(CLIP_ENOMEM, err, errlen, "gauth: out of memory") : CLIP_OK;
}

/* Takes access_token and expires_in from a token endpoint's JSON answer. */
static clip_err take_token(fresh_token *g, const http_resp *resp, const char *what, char *err,
                           size_t errlen)
{
    json_object *j = parse_object(what, resp->body.p, resp->body.len, 0);
    size_t n = 0;
    const char *s = json_member_str(j, "access_token", &n);
    clip_err e = CLIP_OK;
    if (!s) {
        e = clip_fail(CLIP_EBACKEND, err, errlen, "%s answered without an access_token", what);
    } else {
        int printable = n > 0;
        for (size_t i = 0; i < n && printable; i++)
            printable = s[i] > 0x20 && s[i] < 0x7f;
        if (!printable || n >= sizeof g->token) {
            e = clip_fail(CLIP_EBACKEND, err, errlen, "%s answered an unusable access_token", what);
        } else {
            long long life = 3600;
            int given = 0;
            json_object *exp = json_member(j, "expires_in", &given);
            if (given)
                life = json_object_get_int64(exp);
            if (life < 0)
                life = 0;
            memcpy(g->token, s, n);
            g->token[n] = '\0';
            g->expires = mono_s() + (double)life;
        }
    }
    json_object_put(j);
    return e;
}

/* The error of a token endpoint that answered non-200, e.g. {"error":"invalid_grant",...}. */
static clip_err token_refused(const http_resp *resp, const char *what, char *err, size_t errlen)
{
    json_object *j = parse_object(what, resp->body.p, resp->body.len, 0);
    size_t n = 0;
    const char *code = json_member_str(j, "error", &n);
    const char *desc = json_member_str(j, "error_description", &n);
    code = code ? code : "";
    desc = desc ? desc : "";
    clip_err e = resp->status >= 500 || resp->status == 429 ? CLIP_EUNAVAILABLE : CLIP_EAUTH;
    e = clip_fail(e, err, errlen, "%s refused the credentials: HTTP %ld %.100s %.200s", what,
                  resp->status, code, desc);
    json_object_put(j);
    return e;
}

/* A call to where access tokens come from (the service account's token endpoint, the GCE
 * metadata server): one header, the token answer's cap, retried, counted as backend "token". */
static http_req token_request(const char *method, const char *url, const char *const *header,
                              long deadline_ms)
{
    http_req req = {.method = method,
                    .url = url,
                    .headers = header,
                    .nheaders = 1,
                    .deadline_ms = deadline_ms,
                    .max_response = GAUTH_TOKEN_RESPONSE_MAX,
                    .retry = HTTP_RETRY_IDEMPOTENT,
                    .backend = "token"};
    return req;
}

static clip_err fetch_service_account(const gauth *g, fresh_token *t, long deadline_ms, char *err,
                                      size_t errlen)
{
    buf_t jwt = BUF_INIT, body = BUF_INIT;
    clip_err e = gauth_jwt(g, time(NULL), &jwt, err, errlen);
    if (e != CLIP_OK) {
        buf_free(&jwt);
        return e;
    }
    buf_puts(&body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=");
    buf_append(&body, jwt.p, jwt.len); /* base64url and dots need no form encoding */
    buf_free(&jwt);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded"};
    http_req req = token_request("POST", g->token_uri, hdrs, deadline_ms);
    req.body = body.p;
    req.body_len = body.len;
    http_resp resp;
    char herr[256] = "";
    char what[GAUTH_FIELD_MAX];
    snprintf(what, sizeof what, "token endpoint %.200s (service account %.200s from %.300s)",
             g->token_uri, g->client_email, g->key_file);
    e = body.oom ? CLIP_ENOMEM : http_do(&req, &resp, herr, sizeof herr);
    OPENSSL_cleanse(body.p, body.len);
    buf_free(&body);
    if (e != CLIP_OK) {
        if (e != CLIP_ENOMEM)
            http_resp_free(&resp);
        return clip_fail(e, err, errlen, "%s: %s", what, herr);
    }
    e = resp.status == 200 ? take_token(t, &resp, what, err, errlen)
                           : token_refused(&resp, what, err, errlen);
    http_resp_free(&resp);
    return e;
}

static clip_err fetch_metadata(const gauth *g, fresh_token *t, long deadline_ms, char *err,
                               size_t errlen)
{
    const char *hdrs[] = {"Metadata-Flavor: Google"};
    http_req req = token_request("GET", g->metadata_url, hdrs, deadline_ms);
    http_resp resp;
    char herr[256] = "";
    char what[GAUTH_FIELD_MAX];
    snprintf(what, sizeof what, "GCE metadata server %.255s", g->metadata_host);
    clip_err e = http_do(&req, &resp, herr, sizeof herr);
    if (e != CLIP_OK) {
        http_resp_free(&resp);
        return clip_fail(e, err, errlen,
                         "no Google credentials: FIRESTORE_EMULATOR_HOST and "
                         "google_credentials_file / GOOGLE_APPLICATION_CREDENTIALS are unset, "
                         "and the %s did not answer (%s)",
                         what, herr);
    }
    e = resp.status == 200 ? take_token(t, &resp, what, err, errlen)
                           : token_refused(&resp, what, err, errlen);
    http_resp_free(&resp);
    return e;
}

/* The header of the cached token when it has more than margin seconds left; 1 when written. */
static int cached_header(const gauth *g, double margin, char *out, size_t outlen)
{
    return g->have_token && g->expires - mono_s() > margin &&
           (size_t)snprintf(out, outlen, "Authorization: Bearer %s", g->token) < outlen;
}

clip_err gauth_header(gauth *g, char *out, size_t outlen, long deadline_ms, char *err,
                      size_t errlen)
{
    if (g->kind == GAUTH_EMULATOR) {
        if ((size_t)snprintf(out, outlen, "Authorization: Bearer owner") >= outlen)
            return clip_fail(CLIP_EINTERNAL, err, errlen, "gauth: header buffer too small");
        return CLIP_OK;
    }
    pthread_mutex_lock(&g->lock);
    if (cached_header(g, GAUTH_REFRESH_MARGIN_S, out, outlen)) {
        pthread_mutex_unlock(&g->lock);
        return CLIP_OK;
    }
    /* Another thread is fetching: keep the old token while it lasts, else wait for the new. */
    double give_up = mono_s() + (double)deadline_ms / 1000.0;
    while (g->fetching) {
        if (cached_header(g, 0, out, outlen)) {
            pthread_mutex_unlock(&g->lock);
            return CLIP_OK;
        }
        double left = give_up - mono_s();
        if (left <= 0) {
            pthread_mutex_unlock(&g->lock);
            return clip_fail(CLIP_ETIMEOUT, err, errlen, "token: another fetch is still running");
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double at = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + (left < 0.1 ? left : 0.1);
        ts.tv_sec = (time_t)at;
        ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&g->fetched, &g->lock, &ts);
    }
    if (cached_header(g, GAUTH_REFRESH_MARGIN_S, out, outlen)) {
        pthread_mutex_unlock(&g->lock);
        return CLIP_OK;
    }
    g->fetching = 1;
    pthread_mutex_unlock(&g->lock);

    fresh_token t;
    clip_err e = g->kind == GAUTH_SERVICE_ACCOUNT
                     ? fetch_service_account(g, &t, deadline_ms, err, errlen)
                     : fetch_metadata(g, &t, deadline_ms, err, errlen);
    pthread_mutex_lock(&g->lock);
    g->fetching = 0;
    if (e == CLIP_OK) {
        memcpy(g->token, t.token, sizeof g->token);
        g->expires = t.expires;
        g->have_token = 1;
    }
    OPENSSL_cleanse(&t, sizeof t);
    pthread_cond_broadcast(&g->fetched);
    /* a failed refresh of a token that is still valid does not fail the call */
    int ok = cached_header(g, 0, out, outlen);
    pthread_mutex_unlock(&g->lock);
    if (ok)
        return CLIP_OK;
    return e != CLIP_OK ? e : clip_fail(CLIP_EINTERNAL, err, errlen, "gauth: header buffer too small");
}
