/* firestore: the Firestore REST v1 client; the only code that knows Firestore's request and
 * response JSON. */
#include "firestore.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "codec.h"
#include "fs_qdecode.h"
#include "http.h"
#include "json.h"
#include "keyring.h"
#include "log.h"

/* Nesting of an answer: 20-deep maps inside a response take three levels each. */
#define FS_JSON_DEPTH 128
#define FS_CURSOR_MAC_LEN 16
#define FS_CURSOR_KEY "clipapi-cursor-v1"
#define FS_PAGE_TOKEN_MAX 4096

struct fs_client {
    char *base;     /* "https://firestore.googleapis.com/v1/" or "http://HOST/v1/" */
    char *root;     /* "projects/P/databases/D/documents" */
    char *database; /* "projects/P/databases/D" */
    long timeout_ms;
    gauth *auth;
};

/* The keys of the page cursors: a process setting made before the threads serve (fs_cursor_keys),
 * read-only afterwards. The built-in key serves only programs that never set one (tests). */
static keyring cursor_keys = {.key = {FS_CURSOR_KEY}, .len = {sizeof FS_CURSOR_KEY - 1}, .n = 1};
/* A random key made by fs_cursor_seed before fork, for a pool that has no secret to derive from. */
static keyring cursor_random;

clip_err fs_client_new(const cfg_t *cfg, fs_client **out, char *err, size_t errlen)
{
    *out = NULL;
    clip_err e = cfg_require(cfg, "firestore_project", err, errlen);
    if (e != CLIP_OK)
        return e;
    fs_client *c = calloc(1, sizeof *c);
    if (!c)
        return clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    const char *db = cfg->firestore_database && cfg->firestore_database[0] ? cfg->firestore_database
                                                                           : "(default)";
    buf_t b = BUF_INIT;
    buf_printf(&b, "projects/%s/databases/%s", cfg->firestore_project, db);
    c->database = buf_take(&b);
    buf_printf(&b, "%s/documents", c->database);
    c->root = buf_take(&b);
    const char *emu = cfg->firestore_emulator_host;
    if (emu && emu[0]) {
        if (strncmp(emu, "http://", 7) == 0)
            emu += 7;
        buf_printf(&b, "http://%s/v1/", emu);
    } else {
        buf_puts(&b, FS_PROD_BASE);
    }
    c->base = buf_take(&b);
    c->timeout_ms = cfg->firestore_timeout_ms > 0 ? cfg->firestore_timeout_ms : 5000;
    if (!c->database || !c->root || !c->base) {
        fs_client_free(c);
        return clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    }
    e = gauth_new(cfg, &c->auth, err, errlen);
    if (e != CLIP_OK) {
        fs_client_free(c);
        return e;
    }
    *out = c;
    return CLIP_OK;
}

void fs_client_free(fs_client *c)
{
    if (!c)
        return;
    gauth_free(c->auth);
    free(c->base);
    free(c->root);
    free(c->database);
    free(c);
}

const char *fs_client_root(const fs_client *c)
{
    return c->root;
}

const char *fs_ref_child_id(const fs_client *c, const fs_value *v, const char *parent,
                            const char *collection, size_t *idlen)
{
    *idlen = 0;
    if (!c || !v || v->type != FS_REF || !v->u.s.p)
        return NULL;
    const char *p = v->u.s.p, *end = p + v->u.s.n;
    const char *parts[] = {c->root, "/", parent, "/", collection, "/"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t n = strlen(parts[i]);
        if ((size_t)(end - p) < n || memcmp(p, parts[i], n) != 0)
            return NULL;
        p += n;
    }
    if (p == end || memchr(p, '/', (size_t)(end - p)))
        return NULL;
    *idlen = (size_t)(end - p);
    return p;
}

void fs_client_set_timeout(fs_client *c, long timeout_ms)
{
    if (timeout_ms > 0)
        c->timeout_ms = timeout_ms;
}

/* ---- errors --------------------------------------------------------------------------------- */

clip_err fs_error_from_status(const char *status, const char *message)
{
    if (!status)
        return CLIP_EBACKEND;
    if (strcmp(status, "NOT_FOUND") == 0)
        return CLIP_ENOTFOUND;
    if (strcmp(status, "ALREADY_EXISTS") == 0 || strcmp(status, "ABORTED") == 0)
        return CLIP_ECONFLICT;
    if (strcmp(status, "FAILED_PRECONDITION") == 0) {
        /* "The query requires an index": our deployment is missing an index, not a conflict. */
        if (message && strstr(message, "index"))
            return CLIP_EBACKEND;
        return CLIP_ECONFLICT;
    }
    if (strcmp(status, "UNAVAILABLE") == 0 || strcmp(status, "CANCELLED") == 0)
        return CLIP_EUNAVAILABLE;
    if (strcmp(status, "DEADLINE_EXCEEDED") == 0)
        return CLIP_ETIMEOUT;
    if (strcmp(status, "RESOURCE_EXHAUSTED") == 0)
        return CLIP_ERATELIMIT;
    /* Requests are built from validated input, so Firestore refusing one is our bug (500);
     * refused credentials are our deployment's problem, never the caller's 401/403 (502). */
    if (strcmp(status, "INVALID_ARGUMENT") == 0 || strcmp(status, "OUT_OF_RANGE") == 0 ||
        strcmp(status, "UNIMPLEMENTED") == 0)
        return CLIP_EINTERNAL;
    return CLIP_EBACKEND; /* UNAUTHENTICATED, PERMISSION_DENIED, INTERNAL, UNKNOWN, DATA_LOSS */
}

static clip_err error_by_http(long status)
{
    switch (status) {
    case 404:
        return CLIP_ENOTFOUND;
    case 409:
    case 412:
        return CLIP_ECONFLICT;
    case 429:
        return CLIP_ERATELIMIT;
    case 503:
        return CLIP_EUNAVAILABLE;
    case 504:
        return CLIP_ETIMEOUT;
    case 400:
        return CLIP_EINTERNAL;
    default:
        return CLIP_EBACKEND;
    }
}

static const json_limits fs_json = {"firestore", 0, FS_JSON_DEPTH};

/* An answer (or a cursor's payload) as JSON, by the strict reader; NULL when it is not. */
static json_object *parse_json(const char *p, size_t n)
{
    json_object *j = NULL;
    char why[160];
    if (!p || n == 0 || json_read(p, n, &fs_json, &j, why, sizeof why) != CLIP_OK)
        return NULL;
    return j;
}

/* The google.rpc.Status in {"error":{...}} (or [{"error":{...}}]), or NULL. */
static json_object *status_of(json_object *j)
{
    if (j && json_object_is_type(j, json_type_array) && json_object_array_length(j) > 0)
        j = json_object_array_get_idx(j, 0);
    json_object *e = NULL;
    if (j && json_object_is_type(j, json_type_object) &&
        json_object_object_get_ex(j, "error", &e) && json_object_is_type(e, json_type_object))
        return e;
    return NULL;
}

static clip_err error_from_status_obj(json_object *st, long http_status, char *err, size_t errlen)
{
    json_object *s = NULL, *m = NULL;
    const char *status = NULL, *msg = "";
    if (json_object_object_get_ex(st, "status", &s) && json_object_is_type(s, json_type_string))
        status = json_object_get_string(s);
    if (json_object_object_get_ex(st, "message", &m) && json_object_is_type(m, json_type_string))
        msg = json_object_get_string(m);
    clip_err e = status ? fs_error_from_status(status, msg) : error_by_http(http_status);
    return clip_fail(e, err, errlen, "firestore: %s (HTTP %ld): %.300s", status ? status : "error",
                     http_status, msg);
}

clip_err fs_error_from_response(long http_status, const char *body, size_t len, char *err,
                                size_t errlen)
{
    json_object *j = parse_json(body, len);
    json_object *st = status_of(j);
    clip_err e;
    if (st)
        e = error_from_status_obj(st, http_status, err, errlen);
    else
        e = clip_fail(error_by_http(http_status), err, errlen,
                      "firestore: HTTP %ld without a status", http_status);
    json_object_put(j);
    return e;
}

/* ---- transport ------------------------------------------------------------------------------ */

/* Appends a path with everything outside [A-Za-z0-9-_.~/()] percent-encoded. */
static void put_path(buf_t *b, const char *p)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            strchr("-_.~/()", ch)) {
            buf_putc(b, (char)ch);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[ch >> 4]);
            buf_putc(b, hex[ch & 15]);
        }
    }
}

static void put_query_value(buf_t *b, const char *p)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            strchr("-_.~", ch)) {
            buf_putc(b, (char)ch);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[ch >> 4]);
            buf_putc(b, hex[ch & 15]);
        }
    }
}

static int path_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    return p && n < FS_PATH_MAX && p[0] != '/' && (n == 0 || p[n - 1] != '/') && !strstr(p, "//");
}

/* URL of a document, collection or parent: base + root [+ "/" + path] [+ suffix]. */
static void doc_url(const fs_client *c, buf_t *b, const char *path, const char *suffix)
{
    buf_puts(b, c->base);
    put_path(b, c->root);
    if (path && path[0]) {
        buf_putc(b, '/');
        put_path(b, path);
    }
    if (suffix)
        buf_puts(b, suffix);
}

static void put_name(const fs_client *c, buf_t *b, const char *path)
{
    buf_t n = BUF_INIT;
    buf_printf(&n, "%s/%s", c->root, path);
    buf_json_str(b, n.p ? n.p : "", n.len);
    buf_free(&n);
}

typedef struct {
    int reads; /* 1: a read, where ABORTED (a contended transaction) is worth another try */
} classify_ctx;

static int classify(long status, const buf_t *body, void *ctx)
{
    classify_ctx *cc = ctx;
    if (status == 409 && cc->reads && body->p && strstr(body->p, "\"ABORTED\""))
        return HTTP_CLASS_RETRY;
    return HTTP_CLASS_DEFAULT;
}

/* One request of a batch of Firestore calls. */
typedef struct {
    const char *method;
    const char *url;
    const buf_t *body; /* may be NULL */
    http_retry retry;
    int is_read;
} fs_call;

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

#define FS_CALLS_MAX 4

/* Firestore calls sent together (one round trip), one deadline for all of them and the token fetch.
 * On rcs[i] CLIP_OK resps[i] holds a 200 answer; other statuses become errors, worded in
 * errs[i]. */
static void call_many(fs_client *c, size_t n, const fs_call *calls, http_resp *resps, clip_err *rcs,
                      char *const *errs, size_t errlen)
{
    char auth[GAUTH_HEADER_MAX];
    double end = mono_ms() + (double)c->timeout_ms;
    int pending[FS_CALLS_MAX];
    for (size_t i = 0; i < n; i++) {
        memset(&resps[i], 0, sizeof resps[i]);
        rcs[i] = CLIP_OK;
        pending[i] = i < FS_CALLS_MAX;
        if (!pending[i])
            rcs[i] = clip_fail(CLIP_EINTERNAL, errs[i], errlen, "firestore: too many calls at once");
    }
    for (int round = 0; round < 2; round++) {
        size_t idx[FS_CALLS_MAX], k = 0;
        for (size_t i = 0; i < n; i++)
            if (pending[i])
                idx[k++] = i;
        if (k == 0)
            return;
        long left = (long)(end - mono_ms());
        clip_err e = left < 1 ? clip_fail(CLIP_ETIMEOUT, errs[idx[0]], errlen,
                                          "firestore: deadline of %ld ms passed", c->timeout_ms)
                              : gauth_header(c->auth, auth, sizeof auth, left, errs[idx[0]], errlen);
        left = (long)(end - mono_ms());
        if (e == CLIP_OK && left < 1)
            e = clip_fail(CLIP_ETIMEOUT, errs[idx[0]], errlen,
                          "firestore: deadline of %ld ms passed", c->timeout_ms);
        if (e != CLIP_OK) {
            for (size_t j = 0; j < k; j++) {
                if (j && errs[idx[0]])
                    clip_fail(e, errs[idx[j]], errlen, "%s", errs[idx[0]]);
                rcs[idx[j]] = e;
            }
            return;
        }
        const char *hdrs[] = {auth, "Content-Type: application/json", "Accept: application/json"};
        classify_ctx cc[FS_CALLS_MAX];
        http_req reqs[FS_CALLS_MAX];
        http_resp hr[FS_CALLS_MAX];
        clip_err hrc[FS_CALLS_MAX];
        char *herrs[FS_CALLS_MAX];
        for (size_t j = 0; j < k; j++) {
            const fs_call *f = &calls[idx[j]];
            cc[j].reads = f->is_read;
            reqs[j] = (http_req){
                .method = f->method,
                .url = f->url,
                .headers = hdrs,
                .nheaders = 3,
                .body = f->body ? f->body->p : NULL,
                .body_len = f->body ? f->body->len : 0,
                .deadline_ms = left,
                .max_response = FS_RESPONSE_MAX,
                .retry = f->retry,
                .backend = "firestore",
                .classify = classify,
                .classify_ctx = &cc[j],
            };
            herrs[j] = errs[idx[j]];
        }
        http_do_many(k, reqs, hr, hrc, herrs, errlen);
        int again = 0;
        for (size_t j = 0; j < k; j++) {
            size_t i = idx[j];
            resps[i] = hr[j];
            pending[i] = 0;
            if (hrc[j] != CLIP_OK) {
                rcs[i] = hrc[j];
                http_resp_free(&resps[i]);
            } else if (resps[i].status == 200) {
                rcs[i] = CLIP_OK;
            } else if (resps[i].status == 401 && round == 0 &&
                       gauth_source(c->auth) != GAUTH_EMULATOR) {
                /* A token revoked or expired early: fetch a new one once. */
                http_resp_free(&resps[i]);
                pending[i] = again = 1;
            } else {
                rcs[i] = fs_error_from_response(resps[i].status, resps[i].body.p,
                                                resps[i].body.len, errs[i], errlen);
                http_resp_free(&resps[i]);
            }
        }
        if (!again)
            return;
        gauth_invalidate(c->auth);
    }
}

/* One Firestore call. On CLIP_OK resp holds a 200 answer; other statuses become errors. */
static clip_err call(fs_client *c, const char *method, const char *url, const buf_t *body,
                     http_retry retry, int is_read, http_resp *resp, char *err, size_t errlen)
{
    fs_call f = {method, url, body, retry, is_read};
    clip_err e;
    call_many(c, 1, &f, resp, &e, &err, errlen);
    return e;
}

static clip_err parse_body(const http_resp *resp, json_object **out, char *err, size_t errlen)
{
    *out = parse_json(resp->body.p, resp->body.len);
    if (!*out)
        return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: answer is not JSON (%zu bytes)",
                         resp->body.len);
    return CLIP_OK;
}

/* ---- reads ---------------------------------------------------------------------------------- */

/* The URL of a document's GET. */
static clip_err get_url(const fs_client *c, const char *path, buf_t *url, char *err, size_t errlen)
{
    if (!path_ok(path) || !path[0])
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: bad document path");
    doc_url(c, url, path, NULL);
    return url->oom ? clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory") : CLIP_OK;
}

/* The document of a GET's 200 answer (resp is freed). */
static clip_err get_decode(arena_t *a, http_resp *resp, fs_doc *out, char *err, size_t errlen)
{
    json_object *j = NULL;
    clip_err e = parse_body(resp, &j, err, errlen);
    if (e == CLIP_OK)
        e = fs_doc_decode(a, j, out, err, errlen);
    json_object_put(j);
    http_resp_free(resp);
    return e;
}

clip_err fs_get(fs_client *c, arena_t *a, const char *path, fs_doc *out, char *err, size_t errlen)
{
    if (!c)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
    buf_t url = BUF_INIT;
    clip_err e = get_url(c, path, &url, err, errlen);
    http_resp resp;
    if (e == CLIP_OK)
        e = call(c, "GET", url.p, NULL, HTTP_RETRY_IDEMPOTENT, 1, &resp, err, errlen);
    buf_free(&url);
    if (e != CLIP_OK)
        return e;
    return get_decode(a, &resp, out, err, errlen);
}

clip_err fs_prepare_get(fs_client *c, const char *path, long deadline_ms, fs_prepared *p,
                        http_req *req, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->url, 0);
    if (!c)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
    double end = mono_ms() + (double)deadline_ms;
    clip_err e = get_url(c, path, &p->url, err, errlen);
    if (e == CLIP_OK)
        e = gauth_header(c->auth, p->auth, sizeof p->auth, deadline_ms, err, errlen);
    long left = (long)(end - mono_ms());
    if (e == CLIP_OK && left < 1)
        e = clip_fail(CLIP_ETIMEOUT, err, errlen, "firestore: deadline of %ld ms passed",
                      deadline_ms);
    if (e != CLIP_OK) {
        buf_free(&p->url);
        return e;
    }
    p->headers[0] = p->auth;
    p->headers[1] = "Accept: application/json";
    *req = (http_req){
        .method = "GET",
        .url = p->url.p,
        .headers = p->headers,
        .nheaders = 2,
        .deadline_ms = left,
        .max_response = FS_RESPONSE_MAX,
        .retry = HTTP_RETRY_IDEMPOTENT,
        .backend = "firestore",
    };
    return CLIP_OK;
}

clip_err fs_prepared_result(fs_prepared *p, clip_err rc, http_resp *resp, char *err,
                            size_t errlen)
{
    if (rc == CLIP_OK && resp->status != 200)
        rc = fs_error_from_response(resp->status, resp->body.p, resp->body.len, err, errlen);
    http_resp_free(resp);
    buf_free(&p->url);
    return rc;
}

/* batchGet, at read_time when it is not NULL (an RFC 3339 time). */
static clip_err batch_get(fs_client *c, arena_t *a, const char *const *paths, size_t n,
                          const char *read_time, fs_doc *docs, int *found, char *err,
                          size_t errlen)
{
    if (!c)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
    if (n == 0)
        return CLIP_OK;
    if (n > FS_BATCH_GET_MAX)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: batchGet of %zu documents", n);
    buf_t body = BUF_INIT, url = BUF_INIT;
    buf_puts(&body, "{\"documents\":[");
    for (size_t i = 0; i < n; i++) {
        if (!path_ok(paths[i]) || !paths[i][0]) {
            buf_free(&body);
            return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: bad document path");
        }
        if (i)
            buf_putc(&body, ',');
        put_name(c, &body, paths[i]);
        memset(&docs[i], 0, sizeof docs[i]);
        docs[i].fields = fs_map();
        found[i] = 0;
    }
    buf_putc(&body, ']');
    if (read_time)
        buf_printf(&body, ",\"readTime\":\"%s\"", read_time);
    buf_putc(&body, '}');
    doc_url(c, &url, NULL, ":batchGet");
    clip_err e;
    http_resp resp;
    if (body.oom || url.oom)
        e = clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    else
        e = call(c, "POST", url.p, &body, HTTP_RETRY_IDEMPOTENT, 1, &resp, err, errlen);
    buf_free(&url);
    buf_free(&body);
    if (e != CLIP_OK)
        return e;
    json_object *j = NULL;
    e = parse_body(&resp, &j, err, errlen);
    if (e == CLIP_OK && !json_object_is_type(j, json_type_array))
        e = clip_fail(CLIP_EBACKEND, err, errlen, "firestore: batchGet answer is not an array");
    size_t rootlen = strlen(c->root);
    for (size_t k = 0; e == CLIP_OK && k < json_object_array_length(j); k++) {
        json_object *el = json_object_array_get_idx(j, k), *doc = NULL;
        json_object *st = status_of(el);
        if (st) {
            e = error_from_status_obj(st, 200, err, errlen);
            break;
        }
        if (!json_object_object_get_ex(el, "found", &doc))
            continue; /* "missing" (found stays 0) or a bare readTime */
        fs_doc d;
        e = fs_doc_decode(a, doc, &d, err, errlen);
        if (e != CLIP_OK)
            break;
        /* Answers may come in any order: match them to the request by name. */
        for (size_t i = 0; i < n; i++) {
            if (strncmp(d.name, c->root, rootlen) == 0 && d.name[rootlen] == '/' &&
                strcmp(d.name + rootlen + 1, paths[i]) == 0) {
                docs[i] = d;
                found[i] = 1;
                break;
            }
        }
    }
    json_object_put(j);
    http_resp_free(&resp);
    return e;
}

clip_err fs_batch_get(fs_client *c, arena_t *a, const char *const *paths, size_t n, fs_doc *docs,
                      int *found, char *err, size_t errlen)
{
    return batch_get(c, a, paths, n, NULL, docs, found, err, errlen);
}

clip_err fs_get_at(fs_client *c, arena_t *a, const char *path, fs_time at, fs_doc *out, char *err,
                   size_t errlen)
{
    char t[FS_TIME_TEXT_MAX];
    if (fs_time_format(at, t) != 0)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: bad read time");
    int found = 0;
    clip_err e = batch_get(c, a, &path, 1, t, out, &found, err, errlen);
    if (e == CLIP_OK && !found)
        e = clip_fail(CLIP_ENOTFOUND, err, errlen, "firestore: %s did not exist at %s", path, t);
    return e;
}

/* ---- commit --------------------------------------------------------------------------------- */

static const char *transform_key(fs_transform_kind k)
{
    switch (k) {
    case FS_TRANSFORM_INCREMENT:
        return "increment";
    case FS_TRANSFORM_MAXIMUM:
        return "maximum";
    case FS_TRANSFORM_MINIMUM:
        return "minimum";
    case FS_TRANSFORM_APPEND_MISSING:
        return "appendMissingElements";
    case FS_TRANSFORM_REMOVE_ALL:
        return "removeAllFromArray";
    case FS_TRANSFORM_REQUEST_TIME:
        break;
    }
    return NULL;
}

static int encode_write(const fs_client *c, buf_t *b, const fs_write *w)
{
    char tb[FS_TIME_TEXT_MAX];
    if (!path_ok(w->path) || !w->path[0])
        return -1;
    buf_putc(b, '{');
    if (w->is_delete) {
        buf_puts(b, "\"delete\":");
        put_name(c, b, w->path);
    } else {
        buf_puts(b, "\"update\":{\"name\":");
        put_name(c, b, w->path);
        if (w->fields) {
            buf_puts(b, ",\"fields\":");
            if (fs_fields_encode(b, w->fields) != 0)
                return -1;
        }
        buf_putc(b, '}');
        if (w->use_mask || !w->fields) {
            buf_puts(b, ",\"updateMask\":{\"fieldPaths\":[");
            for (size_t i = 0; w->use_mask && i < w->nmask; i++) {
                if (i)
                    buf_putc(b, ',');
                buf_json_str(b, w->mask[i], strlen(w->mask[i]));
            }
            buf_puts(b, "]}");
        }
        if (w->ntransforms) {
            buf_puts(b, ",\"updateTransforms\":[");
            for (size_t i = 0; i < w->ntransforms; i++) {
                const fs_transform *t = &w->transforms[i];
                if (i)
                    buf_putc(b, ',');
                buf_puts(b, "{\"fieldPath\":");
                buf_json_str(b, t->field_path, strlen(t->field_path));
                if (t->kind == FS_TRANSFORM_REQUEST_TIME) {
                    buf_puts(b, ",\"setToServerValue\":\"REQUEST_TIME\"}");
                    continue;
                }
                const char *k = transform_key(t->kind);
                if (!k)
                    return -1;
                buf_printf(b, ",\"%s\":", k);
                if (t->kind == FS_TRANSFORM_APPEND_MISSING || t->kind == FS_TRANSFORM_REMOVE_ALL) {
                    /* an ArrayValue: {"values":[...]} */
                    if (t->value.type != FS_ARRAY)
                        return -1;
                    buf_puts(b, "{\"values\":[");
                    for (size_t k2 = 0; k2 < t->value.u.arr.n; k2++) {
                        if (k2)
                            buf_putc(b, ',');
                        if (fs_value_encode(b, &t->value.u.arr.items[k2]) != 0)
                            return -1;
                    }
                    buf_puts(b, "]}}");
                } else {
                    if (fs_value_encode(b, &t->value) != 0)
                        return -1;
                    buf_putc(b, '}');
                }
            }
            buf_putc(b, ']');
        }
    }
    switch (w->precond) {
    case FS_PRECOND_NONE:
        break;
    case FS_PRECOND_EXISTS:
        buf_puts(b, ",\"currentDocument\":{\"exists\":true}");
        break;
    case FS_PRECOND_MISSING:
        buf_puts(b, ",\"currentDocument\":{\"exists\":false}");
        break;
    case FS_PRECOND_UPDATE_TIME:
        if (fs_time_format(w->update_time, tb) != 0)
            return -1;
        buf_printf(b, ",\"currentDocument\":{\"updateTime\":\"%s\"}", tb);
        break;
    }
    buf_putc(b, '}');
    return b->oom ? -1 : 0;
}

/* Whether sending the commit twice could change the outcome. */
static int commit_idempotent(const fs_write *writes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (writes[i].precond == FS_PRECOND_MISSING || writes[i].precond == FS_PRECOND_UPDATE_TIME)
            return 0; /* a replay would fail the precondition the first send satisfied */
        for (size_t k = 0; k < writes[i].ntransforms; k++)
            if (writes[i].transforms[k].kind == FS_TRANSFORM_INCREMENT)
                return 0;
    }
    return 1;
}

clip_err fs_commit(fs_client *c, arena_t *a, const fs_write *writes, size_t n,
                   fs_commit_result *res, char *err, size_t errlen)
{
    if (!c)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
    if (res)
        memset(res, 0, sizeof *res);
    if (n == 0 || n > FS_COMMIT_WRITES_MAX)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: commit of %zu writes", n);
    buf_t body = BUF_INIT, url = BUF_INIT;
    buf_puts(&body, "{\"writes\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&body, ',');
        if (encode_write(c, &body, &writes[i]) != 0) {
            int oom = body.oom;
            buf_free(&body);
            return clip_fail(oom ? CLIP_ENOMEM : CLIP_EINTERNAL, err, errlen,
                             "firestore: cannot encode write %zu", i);
        }
    }
    buf_puts(&body, "]}");
    doc_url(c, &url, NULL, ":commit");
    http_retry retry = commit_idempotent(writes, n) ? HTTP_RETRY_IDEMPOTENT : HTTP_RETRY_UNAPPLIED;
    http_resp resp;
    memset(&resp, 0, sizeof resp);
    clip_err e;
    if (body.oom || url.oom)
        e = clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    else
        e = call(c, "POST", url.p, &body, retry, 0, &resp, err, errlen);
    buf_free(&body);
    buf_free(&url);
    if (e != CLIP_OK || !res)
        goto done;
    json_object *j = NULL;
    e = parse_body(&resp, &j, err, errlen);
    if (e == CLIP_OK) {
        json_object *wr = NULL;
        if (fs_time_member(j, "commitTime", &res->commit_time) != 0)
            e = clip_fail(CLIP_EBACKEND, err, errlen, "firestore: bad commitTime");
        json_object_object_get_ex(j, "writeResults", &wr);
        size_t nr =
            wr && json_object_is_type(wr, json_type_array) ? json_object_array_length(wr) : 0;
        if (e == CLIP_OK && nr) {
            res->update_times = arena_calloc(a, nr, sizeof(fs_time));
            res->transform_results = arena_calloc(a, nr, sizeof(fs_value));
            if (!res->update_times || !res->transform_results)
                e = clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
        }
        for (size_t i = 0; e == CLIP_OK && i < nr; i++) {
            json_object *r = json_object_array_get_idx(wr, i), *tr = NULL;
            res->transform_results[i] = fs_array();
            if (fs_time_member(r, "updateTime", &res->update_times[i]) != 0) {
                e = clip_fail(CLIP_EBACKEND, err, errlen, "firestore: bad updateTime");
                break;
            }
            if (json_object_object_get_ex(r, "transformResults", &tr) &&
                json_object_is_type(tr, json_type_array)) {
                for (size_t k = 0; e == CLIP_OK && k < json_object_array_length(tr); k++) {
                    fs_value v;
                    e = fs_value_decode(a, json_object_array_get_idx(tr, k), &v, err, errlen);
                    if (e == CLIP_OK && fs_array_push(a, &res->transform_results[i], v) != 0)
                        e = clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
                }
            }
            res->nresults = i + 1;
        }
    }
    json_object_put(j);
done:
    http_resp_free(&resp);
    return e;
}

/* ---- queries -------------------------------------------------------------------------------- */

static const char *const op_names[] = {
    [FS_OP_EQUAL] = "EQUAL",
    [FS_OP_NOT_EQUAL] = "NOT_EQUAL",
    [FS_OP_LESS_THAN] = "LESS_THAN",
    [FS_OP_LESS_THAN_OR_EQUAL] = "LESS_THAN_OR_EQUAL",
    [FS_OP_GREATER_THAN] = "GREATER_THAN",
    [FS_OP_GREATER_THAN_OR_EQUAL] = "GREATER_THAN_OR_EQUAL",
    [FS_OP_ARRAY_CONTAINS] = "ARRAY_CONTAINS",
    [FS_OP_IN] = "IN",
    [FS_OP_ARRAY_CONTAINS_ANY] = "ARRAY_CONTAINS_ANY",
    [FS_OP_NOT_IN] = "NOT_IN",
};

static int encode_filter(buf_t *b, const fs_filter *f)
{
    if ((unsigned)f->op >= sizeof op_names / sizeof op_names[0] || !f->field)
        return -1;
    buf_puts(b, "{\"fieldFilter\":{\"field\":{\"fieldPath\":");
    buf_json_str(b, f->field, strlen(f->field));
    buf_printf(b, "},\"op\":\"%s\",\"value\":", op_names[f->op]);
    if (fs_value_encode(b, &f->value) != 0)
        return -1;
    return buf_puts(b, "}}");
}

/* The StructuredQuery object. */
static int encode_query(buf_t *b, const fs_query *q)
{
    if (!q->collection || (q->nfilters && !q->filters) || (q->norder && !q->order) ||
        q->limit < 0 || q->limit > FS_QUERY_LIMIT_MAX || q->offset < 0)
        return -1;
    buf_puts(b, "{\"from\":[{\"collectionId\":");
    buf_json_str(b, q->collection, strlen(q->collection));
    buf_printf(b, ",\"allDescendants\":%s}]", q->all_descendants ? "true" : "false");
    if (q->nselect) {
        buf_puts(b, ",\"select\":{\"fields\":[");
        for (size_t i = 0; i < q->nselect; i++) {
            if (i)
                buf_putc(b, ',');
            buf_puts(b, "{\"fieldPath\":");
            buf_json_str(b, q->select[i], strlen(q->select[i]));
            buf_putc(b, '}');
        }
        buf_puts(b, "]}");
    }
    if (q->nfilters == 1) {
        buf_puts(b, ",\"where\":");
        if (encode_filter(b, &q->filters[0]) != 0)
            return -1;
    } else if (q->nfilters > 1) {
        buf_puts(b, ",\"where\":{\"compositeFilter\":{\"op\":\"AND\",\"filters\":[");
        for (size_t i = 0; i < q->nfilters; i++) {
            if (i)
                buf_putc(b, ',');
            if (encode_filter(b, &q->filters[i]) != 0)
                return -1;
        }
        buf_puts(b, "]}}");
    }
    if (q->norder) {
        buf_puts(b, ",\"orderBy\":[");
        for (size_t i = 0; i < q->norder; i++) {
            if (i)
                buf_putc(b, ',');
            buf_puts(b, "{\"field\":{\"fieldPath\":");
            buf_json_str(b, q->order[i].field, strlen(q->order[i].field));
            buf_printf(b, "},\"direction\":\"%s\"}",
                       q->order[i].descending ? "DESCENDING" : "ASCENDING");
        }
        buf_putc(b, ']');
    }
    if (q->nstart) {
        buf_puts(b, ",\"startAt\":{\"values\":[");
        for (size_t i = 0; i < q->nstart; i++) {
            if (i)
                buf_putc(b, ',');
            if (fs_value_encode(b, &q->start_values[i]) != 0)
                return -1;
        }
        buf_printf(b, "],\"before\":%s}", q->start_before ? "true" : "false");
    }
    if (q->offset)
        buf_printf(b, ",\"offset\":%ld", q->offset);
    if (q->limit)
        buf_printf(b, ",\"limit\":%ld", q->limit);
    buf_putc(b, '}');
    return b->oom ? -1 : 0;
}

/* POST of a stream method (runQuery, runAggregationQuery): the 200 answer's text in resp. */
static clip_err post_raw(fs_client *c, const char *parent, const char *op, const buf_t *body,
                         http_resp *resp, char *err, size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    if (!path_ok(parent))
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: bad parent path");
    buf_t url = BUF_INIT;
    doc_url(c, &url, parent, op);
    clip_err e;
    if (url.oom || body->oom)
        e = clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    else
        e = call(c, "POST", url.p, body, HTTP_RETRY_IDEMPOTENT, 1, resp, err, errlen);
    buf_free(&url);
    return e;
}

/* A stream method's answer as JSON: an array, or an error. */
static clip_err stream_json(const http_resp *resp, const char *op, json_object **out, char *err,
                            size_t errlen)
{
    clip_err e = parse_body(resp, out, err, errlen);
    if (e == CLIP_OK && !json_object_is_type(*out, json_type_array)) {
        json_object_put(*out);
        *out = NULL;
        return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: %s answer is not an array",
                         op + 1);
    }
    return e;
}

static clip_err post_stream(fs_client *c, const char *parent, const char *op, const buf_t *body,
                            json_object **out, char *err, size_t errlen)
{
    *out = NULL;
    http_resp resp;
    clip_err e = post_raw(c, parent, op, body, &resp, err, errlen);
    if (e != CLIP_OK)
        return e;
    e = stream_json(&resp, op, out, err, errlen);
    http_resp_free(&resp);
    return e;
}

/* The documents of a runQuery answer (a JSON array of RunQueryResponse). */
static clip_err decode_query_stream(arena_t *a, json_object *j, fs_doc **docs, size_t *n, char *err,
                                    size_t errlen)
{
    *docs = NULL;
    *n = 0;
    size_t len = json_object_array_length(j);
    fs_doc *out = len ? arena_calloc(a, len, sizeof *out) : NULL;
    if (len && !out)
        return clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    size_t got = 0;
    clip_err e = CLIP_OK;
    for (size_t i = 0; e == CLIP_OK && i < len; i++) {
        json_object *el = json_object_array_get_idx(j, i), *doc = NULL;
        json_object *st = status_of(el);
        if (st) {
            e = error_from_status_obj(st, 200, err, errlen);
            break;
        }
        if (!json_object_is_type(el, json_type_object) ||
            !json_object_object_get_ex(el, "document", &doc))
            continue; /* readTime-only or skippedResults element */
        e = fs_doc_decode(a, doc, &out[got], err, errlen);
        if (e == CLIP_OK)
            got++;
    }
    if (e == CLIP_OK) {
        *docs = out;
        *n = got;
    }
    return e;
}

clip_err fs_decode_query_response(arena_t *a, const char *body, size_t len, fs_doc **docs,
                                  size_t *n, char *err, size_t errlen)
{
    if (fs_qdecode(a, body, len, docs, n) == 0)
        return CLIP_OK;
    return fs_decode_query_response_jsonc(a, body, len, docs, n, err, errlen);
}

clip_err fs_decode_query_response_jsonc(arena_t *a, const char *body, size_t len, fs_doc **docs,
                                        size_t *n, char *err, size_t errlen)
{
    *docs = NULL;
    *n = 0;
    json_object *j = parse_json(body, len);
    if (!j || !json_object_is_type(j, json_type_array)) {
        json_object_put(j);
        return clip_fail(CLIP_EBACKEND, err, errlen,
                         "firestore: runQuery answer is not a JSON array");
    }
    clip_err e = decode_query_stream(a, j, docs, n, err, errlen);
    json_object_put(j);
    return e;
}

/* The URL and body of a runQuery under parent. */
static clip_err query_request(const fs_client *c, const char *parent, const fs_query *q, buf_t *url,
                              buf_t *body, char *err, size_t errlen)
{
    if (!path_ok(parent))
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: bad parent path");
    buf_puts(body, "{\"structuredQuery\":");
    if (encode_query(body, q) != 0)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: cannot encode the query");
    buf_putc(body, '}');
    doc_url(c, url, parent, ":runQuery");
    return url->oom || body->oom ? clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory")
                                 : CLIP_OK;
}

/* The documents of a runQuery's 200 answer (resp is freed): the usual answer goes the fast way;
 * json-c judges and words everything else. */
static clip_err query_decode(arena_t *a, http_resp *resp, fs_doc **docs, size_t *n, char *err,
                             size_t errlen)
{
    if (fs_qdecode(a, resp->body.p, resp->body.len, docs, n) == 0) {
        http_resp_free(resp);
        return CLIP_OK;
    }
    json_object *j = NULL;
    clip_err e = stream_json(resp, ":runQuery", &j, err, errlen);
    http_resp_free(resp);
    if (e != CLIP_OK)
        return e;
    e = decode_query_stream(a, j, docs, n, err, errlen);
    json_object_put(j);
    return e;
}

clip_err fs_run_query(fs_client *c, arena_t *a, const char *parent, const fs_query *q,
                      fs_doc **docs, size_t *n, char *err, size_t errlen)
{
    if (!c)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
    *docs = NULL;
    *n = 0;
    buf_t url = BUF_INIT, body = BUF_INIT;
    clip_err e = query_request(c, parent, q, &url, &body, err, errlen);
    http_resp resp;
    if (e == CLIP_OK)
        e = call(c, "POST", url.p, &body, HTTP_RETRY_IDEMPOTENT, 1, &resp, err, errlen);
    buf_free(&url);
    buf_free(&body);
    if (e != CLIP_OK)
        return e;
    return query_decode(a, &resp, docs, n, err, errlen);
}

clip_err fs_get_and_run_query(fs_client *c, arena_t *a, const char *path, fs_doc *doc, int *found,
                              const char *parent, const fs_query *q, arena_t *qa, fs_doc **docs,
                              size_t *n, char *err, size_t errlen)
{
    if (!c)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
    *found = 0;
    *docs = NULL;
    *n = 0;
    buf_t gurl = BUF_INIT, qurl = BUF_INIT, body = BUF_INIT;
    char qerr[512] = "";
    clip_err e = get_url(c, path, &gurl, err, errlen);
    if (e == CLIP_OK)
        e = query_request(c, parent, q, &qurl, &body, err, errlen);
    if (e != CLIP_OK) {
        buf_free(&gurl);
        buf_free(&qurl);
        buf_free(&body);
        return e;
    }
    fs_call calls[2] = {{"GET", gurl.p, NULL, HTTP_RETRY_IDEMPOTENT, 1},
                        {"POST", qurl.p, &body, HTTP_RETRY_IDEMPOTENT, 1}};
    http_resp resps[2];
    clip_err rcs[2];
    char *errs[2] = {err, qerr};
    call_many(c, 2, calls, resps, rcs, errs,
              err && errlen < sizeof qerr ? errlen : sizeof qerr);
    buf_free(&gurl);
    buf_free(&qurl);
    buf_free(&body);
    clip_err ge = rcs[0] == CLIP_OK ? get_decode(a, &resps[0], doc, err, errlen) : rcs[0];
    clip_err qe = rcs[1] == CLIP_OK ? query_decode(qa, &resps[1], docs, n, qerr, sizeof qerr)
                                    : rcs[1];
    if (ge == CLIP_ENOTFOUND) { /* whatever the query answered: there is nothing to query */
        *docs = NULL;
        *n = 0;
        return CLIP_OK;
    }
    if (ge != CLIP_OK)
        return ge;
    *found = 1;
    if (qe != CLIP_OK)
        return clip_fail(qe, err, errlen, "%s", qerr);
    return CLIP_OK;
}

clip_err fs_run_aggregation(fs_client *c, arena_t *a, const char *parent, const fs_query *q,
                            fs_aggregation *aggs, size_t naggs, char *err, size_t errlen)
{
    if (!c)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
    if (naggs == 0 || naggs > 5)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: %zu aggregations", naggs);
    buf_t body = BUF_INIT;
    buf_puts(&body, "{\"structuredAggregationQuery\":{\"structuredQuery\":");
    if (encode_query(&body, q) != 0) {
        buf_free(&body);
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: cannot encode the query");
    }
    buf_puts(&body, ",\"aggregations\":[");
    for (size_t i = 0; i < naggs; i++) {
        if (i)
            buf_putc(&body, ',');
        buf_printf(&body, "{\"alias\":\"a%zu\",", i);
        aggs[i].result = fs_null();
        if (aggs[i].kind == FS_AGG_COUNT) {
            buf_puts(&body, "\"count\":{}}");
            continue;
        }
        if (!aggs[i].field) {
            buf_free(&body);
            return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: aggregation without a field");
        }
        buf_puts(&body, aggs[i].kind == FS_AGG_SUM ? "\"sum\":" : "\"avg\":");
        buf_puts(&body, "{\"field\":{\"fieldPath\":");
        buf_json_str(&body, aggs[i].field, strlen(aggs[i].field));
        buf_puts(&body, "}}}");
    }
    buf_puts(&body, "]}}");
    json_object *j = NULL;
    clip_err e = post_stream(c, parent, ":runAggregationQuery", &body, &j, err, errlen);
    buf_free(&body);
    if (e != CLIP_OK)
        return e;
    int seen = 0;
    for (size_t i = 0; e == CLIP_OK && i < json_object_array_length(j); i++) {
        json_object *el = json_object_array_get_idx(j, i), *r = NULL, *f = NULL;
        json_object *st = status_of(el);
        if (st) {
            e = error_from_status_obj(st, 200, err, errlen);
            break;
        }
        if (!json_object_object_get_ex(el, "result", &r) ||
            !json_object_object_get_ex(r, "aggregateFields", &f))
            continue;
        seen = 1;
        for (size_t k = 0; e == CLIP_OK && k < naggs; k++) {
            char alias[32];
            json_object *v = NULL;
            snprintf(alias, sizeof alias, "a%zu", k);
            if (json_object_object_get_ex(f, alias, &v))
                e = fs_value_decode(a, v, &aggs[k].result, err, errlen);
        }
    }
    json_object_put(j);
    if (e == CLIP_OK && !seen)
        e = clip_fail(CLIP_EBACKEND, err, errlen, "firestore: aggregation answer without a result");
    return e;
}

clip_err fs_list(fs_client *c, arena_t *a, const char *collection_path, long page_size,
                 const char *order_by, const char *page_token, fs_doc **docs, size_t *n,
                 const char **next_token, char *err, size_t errlen)
{
    if (!c)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "firestore: not configured");
    *docs = NULL;
    *n = 0;
    *next_token = NULL;
    if (!path_ok(collection_path) || !collection_path[0] || page_size <= 0 ||
        page_size > FS_QUERY_LIMIT_MAX)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "firestore: bad list arguments");
    if (page_token && strlen(page_token) > FS_PAGE_TOKEN_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "firestore: page token too long");
    buf_t url = BUF_INIT;
    doc_url(c, &url, collection_path, NULL);
    buf_printf(&url, "?pageSize=%ld", page_size);
    if (order_by && order_by[0]) {
        buf_puts(&url, "&orderBy=");
        put_query_value(&url, order_by);
    }
    if (page_token && page_token[0]) {
        buf_puts(&url, "&pageToken=");
        put_query_value(&url, page_token);
    }
    http_resp resp;
    clip_err e;
    if (url.oom)
        e = clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    else
        e = call(c, "GET", url.p, NULL, HTTP_RETRY_IDEMPOTENT, 1, &resp, err, errlen);
    buf_free(&url);
    if (e != CLIP_OK)
        return e;
    json_object *j = NULL, *arr = NULL, *tok = NULL;
    e = parse_body(&resp, &j, err, errlen);
    http_resp_free(&resp);
    if (e != CLIP_OK)
        return e;
    json_object_object_get_ex(j, "documents", &arr);
    size_t len =
        arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    fs_doc *out = len ? arena_calloc(a, len, sizeof *out) : NULL;
    if (len && !out)
        e = clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    for (size_t i = 0; e == CLIP_OK && i < len; i++)
        e = fs_doc_decode(a, json_object_array_get_idx(arr, i), &out[i], err, errlen);
    if (e == CLIP_OK && json_object_object_get_ex(j, "nextPageToken", &tok) &&
        json_object_is_type(tok, json_type_string) && json_object_get_string_len(tok) > 0) {
        *next_token =
            arena_strndup(a, json_object_get_string(tok), (size_t)json_object_get_string_len(tok));
        if (!*next_token)
            e = clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
    }
    json_object_put(j);
    if (e == CLIP_OK) {
        *docs = out;
        *n = len;
    }
    return e;
}

/* ---- cursors -------------------------------------------------------------------------------- */

void fs_cursor_set_key(const void *key, size_t len)
{
    if (!key || len == 0)
        return;
    if (len > KEYRING_KEY_MAX)
        len = KEYRING_KEY_MAX;
    keyring_clear(&cursor_keys);
    memcpy(cursor_keys.key[0], key, len);
    cursor_keys.len[0] = len;
    cursor_keys.n = 1;
}

int fs_cursor_seed(void)
{
    if (cursor_random.n)
        return 0;
    if (getrandom(cursor_random.key[0], 32, 0) != 32)
        return -1;
    cursor_random.len[0] = 32;
    cursor_random.n = 1;
    return 0;
}

clip_err fs_cursor_keys(const cfg_t *cfg, const char **source, char *err, size_t errlen)
{
    keyring k;
    if (cfg->cursor_key_file) {
        clip_err e = keyring_load(cfg->cursor_key_file, "cursor_key_file", FS_CURSOR_KEYS_MAX,
                                  FS_CURSOR_KEY_MIN, &k, err, errlen);
        if (e != CLIP_OK)
            return e;
        *source = "cursor_key_file";
    } else if (cfg->r2_secret_access_key && cfg->r2_secret_access_key[0]) {
        /* the same secret on every VM: cursors work across the whole deployment */
        keyring_derive(&k, cfg->r2_secret_access_key, strlen(cfg->r2_secret_access_key),
                       FS_CURSOR_DERIVE_LABEL);
        *source = "derived from r2_secret_access_key";
    } else if (cursor_random.n) {
        k = cursor_random;
        *source = "random for this pool";
    } else {
        return clip_fail(CLIP_EINVAL, err, errlen,
                         "cursor_key_file: not set, and no secret to derive a cursor key from");
    }
    cursor_keys = k;
    keyring_clear(&k);
    return CLIP_OK;
}

/* The MAC of scope + payload under one key. */
static int cursor_mac_with(const unsigned char *key, size_t klen, const char *scope,
                           const char *payload, size_t n, unsigned char mac[EVP_MAX_MD_SIZE])
{
    /* scope and payload joined by a NUL: no scope can end where another's payload begins. */
    buf_t m = BUF_INIT;
    buf_puts(&m, scope ? scope : "");
    buf_append(&m, "\0", 1);
    buf_append(&m, payload, n);
    unsigned int len = 0;
    int ok = !m.oom &&
             HMAC(EVP_sha256(), key, (int)klen, (unsigned char *)m.p, m.len, mac, &len) != NULL;
    buf_free(&m);
    return ok && len >= FS_CURSOR_MAC_LEN ? 0 : -1;
}

static int cursor_mac(const char *scope, const char *payload, size_t n,
                      unsigned char mac[EVP_MAX_MD_SIZE])
{
    return cursor_mac_with(cursor_keys.key[0], cursor_keys.len[0], scope, payload, n, mac);
}

/* Whether mac is the MAC of scope + payload under one of the keys (the old one of a rotation
 * too). */
static int cursor_mac_ok(const char *scope, const char *payload, size_t n, const void *mac)
{
    int ok = 0;
    for (size_t i = 0; i < cursor_keys.n; i++) {
        unsigned char want[EVP_MAX_MD_SIZE];
        if (cursor_mac_with(cursor_keys.key[i], cursor_keys.len[i], scope, payload, n, want) == 0)
            ok |= CRYPTO_memcmp(want, mac, FS_CURSOR_MAC_LEN) == 0;
    }
    return ok;
}

int fs_cursor_encode(buf_t *out, const char *scope, const fs_value *values, size_t n)
{
    buf_t payload = BUF_INIT;
    buf_putc(&payload, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&payload, ',');
        if (fs_value_encode(&payload, &values[i]) != 0) {
            buf_free(&payload);
            return -1;
        }
    }
    buf_putc(&payload, ']');
    unsigned char mac[EVP_MAX_MD_SIZE];
    int r = -1;
    if (!payload.oom && cursor_mac(scope, payload.p, payload.len, mac) == 0) {
        size_t start = out->len;
        codec_base64url_encode(out, payload.p, payload.len);
        buf_putc(out, '.');
        codec_base64url_encode(out, mac, FS_CURSOR_MAC_LEN);
        r = out->oom || out->len - start > FS_CURSOR_MAX ? -1 : 0;
    }
    buf_free(&payload);
    return r;
}

clip_err fs_cursor_decode(arena_t *a, const char *scope, const char *cursor, size_t len,
                          fs_value **values, size_t *n, char *err, size_t errlen)
{
    *values = NULL;
    *n = 0;
    if (!cursor || len == 0 || len > FS_CURSOR_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "bad cursor");
    const char *dot = memchr(cursor, '.', len);
    if (!dot)
        return clip_fail(CLIP_EINVAL, err, errlen, "bad cursor");
    buf_t payload = BUF_INIT, mac = BUF_INIT;
    clip_err e = CLIP_OK;
    if (codec_base64_decode_buf(CODEC_B64URL, cursor, (size_t)(dot - cursor), &payload) != 0 ||
        codec_base64_decode_buf(CODEC_B64URL, dot + 1, len - (size_t)(dot - cursor) - 1, &mac) != 0 ||
        mac.len != FS_CURSOR_MAC_LEN || payload.len == 0 ||
        !cursor_mac_ok(scope, payload.p, payload.len, mac.p))
        e = clip_fail(CLIP_EINVAL, err, errlen, "bad cursor");
    json_object *j = e == CLIP_OK ? parse_json(payload.p, payload.len) : NULL;
    if (e == CLIP_OK && (!j || !json_object_is_type(j, json_type_array)))
        e = clip_fail(CLIP_EINVAL, err, errlen, "bad cursor");
    if (e == CLIP_OK) {
        size_t cnt = json_object_array_length(j);
        fs_value *v = cnt ? arena_calloc(a, cnt, sizeof *v) : NULL;
        if (cnt && !v)
            e = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        for (size_t i = 0; e == CLIP_OK && i < cnt; i++)
            if (fs_value_decode(a, json_object_array_get_idx(j, i), &v[i], NULL, 0) != CLIP_OK)
                e = clip_fail(CLIP_EINVAL, err, errlen, "bad cursor");
        if (e == CLIP_OK) {
            *values = v;
            *n = cnt;
        }
    }
    json_object_put(j);
    buf_free(&payload);
    buf_free(&mac);
    return e;
}
