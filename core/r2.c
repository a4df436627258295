/* r2: ListObjectsV2, GetObject and HeadObject on the configured bucket, signed, over core/http. */
#include "r2.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct r2_client {
    sig_signer *signer;
    long deadline_ms;
};

clip_err r2_sig_config(const cfg_t *c, sig_config *out, char *err, size_t errlen)
{
    static const char *const needed[] = {"r2_endpoint", "r2_bucket", "r2_access_key_id",
                                         "r2_secret_access_key"};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
        clip_err rc = cfg_require(c, needed[i], err, errlen);
        if (rc != CLIP_OK)
            return rc;
    }
    memset(out, 0, sizeof *out);
    out->access_key_id = c->r2_access_key_id;
    out->secret_access_key = c->r2_secret_access_key;
    out->session_token = c->r2_session_token;
    out->region = c->r2_region;
    out->service = "s3";
    out->endpoint = c->r2_endpoint;
    out->bucket = c->r2_bucket;
    out->virtual_host = c->r2_addressing && strcmp(c->r2_addressing, "virtual") == 0;
    return CLIP_OK;
}

clip_err r2_signer_from_cfg(const cfg_t *c, sig_signer **out, char *err, size_t errlen)
{
    sig_config sc;
    *out = NULL;
    clip_err rc = r2_sig_config(c, &sc, err, errlen);
    return rc != CLIP_OK ? rc : sig_signer_new(&sc, out, err, errlen);
}

clip_err r2_client_new(const cfg_t *c, r2_client **out, char *err, size_t errlen)
{
    *out = NULL;
    r2_client *r = calloc(1, sizeof *r);
    if (!r)
        return clip_fail(CLIP_ENOMEM, err, errlen, "r2: out of memory");
    clip_err rc = r2_signer_from_cfg(c, &r->signer, err, errlen);
    if (rc != CLIP_OK) {
        free(r);
        return rc;
    }
    r->deadline_ms = R2_TIMEOUT_MS;
    *out = r;
    return CLIP_OK;
}

void r2_client_free(r2_client *r)
{
    if (!r)
        return;
    sig_signer_free(r->signer);
    free(r);
}

sig_signer *r2_client_signer(r2_client *r)
{
    return r->signer;
}

void r2_client_set_timeout(r2_client *r, long deadline_ms)
{
    if (deadline_ms > 0)
        r->deadline_ms = deadline_ms;
}

/* ---- XML ------------------------------------------------------------------------------------ */

enum {
    F_NONE = 0,
    F_KEY,
    F_SIZE,
    F_ETAG,
    F_MODIFIED,
    F_PREFIX,
    F_TRUNCATED,
    F_TOKEN,
    F_CODE,
    F_MESSAGE
};

typedef struct {
    XML_Parser p;
    r2_list *out;
    int depth;
    int in_contents, in_prefixes;
    int field;
    buf_t text;
    r2_object cur;
    size_t cap_objects, cap_prefixes;
    clip_err rc;
    char *errmsg;
    size_t errlen;
    /* for <Error> answers */
    char code[128];
    char message[256];
} list_parse;

static void lp_fail(list_parse *lp, clip_err rc, const char *what)
{
    if (lp->rc == CLIP_OK) {
        lp->rc = clip_fail(rc, lp->errmsg, lp->errlen, "r2: list answer: %s", what);
        XML_StopParser(lp->p, XML_FALSE);
    }
}

static int name_is(const XML_Char *name, const char *want)
{
    /* element names come without a namespace prefix unless the answer uses one */
    const char *colon = strrchr(name, ':');
    return strcmp(colon ? colon + 1 : name, want) == 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    list_parse *lp = ud;
    lp->depth++;
    lp->field = F_NONE;
    buf_reset(&lp->text);
    if (lp->depth > 8) {
        lp_fail(lp, CLIP_EBACKEND, "nested too deep");
        return;
    }
    if (lp->depth == 2) {
        if (name_is(name, "Contents")) {
            lp->in_contents = 1;
            memset(&lp->cur, 0, sizeof lp->cur);
        } else if (name_is(name, "CommonPrefixes")) {
            lp->in_prefixes = 1;
        } else if (name_is(name, "IsTruncated")) {
            lp->field = F_TRUNCATED;
        } else if (name_is(name, "NextContinuationToken")) {
            lp->field = F_TOKEN;
        } else if (name_is(name, "Code")) {
            lp->field = F_CODE;
        } else if (name_is(name, "Message")) {
            lp->field = F_MESSAGE;
        }
    } else if (lp->depth == 3 && lp->in_contents) {
        if (name_is(name, "Key"))
            lp->field = F_KEY;
        else if (name_is(name, "Size"))
            lp->field = F_SIZE;
        else if (name_is(name, "ETag"))
            lp->field = F_ETAG;
        else if (name_is(name, "LastModified"))
            lp->field = F_MODIFIED;
    } else if (lp->depth == 3 && lp->in_prefixes && name_is(name, "Prefix")) {
        lp->field = F_PREFIX;
    }
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    list_parse *lp = ud;
    if (lp->field == F_NONE || len <= 0)
        return;
    if (buf_append(&lp->text, s, (size_t)len) != 0)
        lp_fail(lp, CLIP_EBACKEND, "a text field is over its size limit");
}

static char *text_dup(list_parse *lp)
{
    char *d = malloc(lp->text.len + 1);
    if (!d) {
        lp_fail(lp, CLIP_ENOMEM, "out of memory");
        return NULL;
    }
    if (lp->text.len)
        memcpy(d, lp->text.p, lp->text.len);
    d[lp->text.len] = '\0';
    return d;
}

static void free_object(r2_object *o)
{
    free(o->key);
    free(o->etag);
    free(o->last_modified);
    memset(o, 0, sizeof *o);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    list_parse *lp = ud;
    r2_list *l = lp->out;
    const char *t = lp->text.p ? lp->text.p : "";
    switch (lp->field) {
    case F_KEY:
        free(lp->cur.key);
        lp->cur.key = text_dup(lp);
        lp->cur.key_len = lp->text.len;
        break;
    case F_SIZE: {
        char *end;
        long long v = strtoll(t, &end, 10);
        if (lp->text.len == 0 || *end != '\0' || v < 0)
            lp_fail(lp, CLIP_EBACKEND, "a <Size> is not a number");
        lp->cur.size = v;
        break;
    }
    case F_ETAG:
        free(lp->cur.etag);
        lp->cur.etag = text_dup(lp);
        break;
    case F_MODIFIED:
        free(lp->cur.last_modified);
        lp->cur.last_modified = text_dup(lp);
        break;
    case F_TRUNCATED:
        l->truncated = strcmp(t, "true") == 0;
        break;
    case F_TOKEN:
        free(l->next_token);
        l->next_token = lp->text.len ? text_dup(lp) : NULL;
        break;
    case F_CODE:
        snprintf(lp->code, sizeof lp->code, "%s", t);
        break;
    case F_MESSAGE:
        snprintf(lp->message, sizeof lp->message, "%s", t);
        break;
    case F_PREFIX:
        if (l->nprefixes >= R2_LIST_MAX_KEYS) {
            lp_fail(lp, CLIP_EBACKEND, "more common prefixes than one page holds");
            break;
        }
        if (l->nprefixes == lp->cap_prefixes) {
            size_t nc = lp->cap_prefixes ? 2 * lp->cap_prefixes : 16;
            char **np = realloc(l->prefixes, nc * sizeof *np);
            if (!np) {
                lp_fail(lp, CLIP_ENOMEM, "out of memory");
                break;
            }
            l->prefixes = np;
            lp->cap_prefixes = nc;
        }
        if ((l->prefixes[l->nprefixes] = text_dup(lp)) != NULL)
            l->nprefixes++;
        break;
    default:
        break;
    }
    lp->field = F_NONE;
    buf_reset(&lp->text);
    if (lp->depth == 2 && lp->in_contents && name_is(name, "Contents")) {
        lp->in_contents = 0;
        if (!lp->cur.key) {
            lp_fail(lp, CLIP_EBACKEND, "a <Contents> without <Key>");
        } else if (l->nobjects >= R2_LIST_MAX_KEYS) {
            lp_fail(lp, CLIP_EBACKEND, "more objects than one page holds");
        } else {
            if (l->nobjects == lp->cap_objects) {
                size_t nc = lp->cap_objects ? 2 * lp->cap_objects : 16;
                r2_object *no = realloc(l->objects, nc * sizeof *no);
                if (!no) {
                    lp_fail(lp, CLIP_ENOMEM, "out of memory");
                    free_object(&lp->cur);
                    lp->depth--;
                    return;
                }
                l->objects = no;
                lp->cap_objects = nc;
            }
            l->objects[l->nobjects++] = lp->cur;
            memset(&lp->cur, 0, sizeof lp->cur);
        }
        free_object(&lp->cur);
    } else if (lp->depth == 2 && lp->in_prefixes && name_is(name, "CommonPrefixes")) {
        lp->in_prefixes = 0;
    }
    lp->depth--;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    lp_fail(ud, CLIP_EBACKEND, "a DOCTYPE is not allowed");
}

/* Parses xml into out (objects, prefixes) or, for an <Error> document, fills code/message. */
static clip_err parse_xml(list_parse *lp, const char *xml, size_t n)
{
    if (n > R2_LIST_XML_MAX)
        return clip_fail(CLIP_ETOOBIG, lp->errmsg, lp->errlen, "r2: list answer over %u bytes",
                         R2_LIST_XML_MAX);
    lp->p = XML_ParserCreate("UTF-8");
    if (!lp->p)
        return clip_fail(CLIP_ENOMEM, lp->errmsg, lp->errlen, "r2: out of memory");
    buf_init(&lp->text, R2_TEXT_MAX);
    XML_SetUserData(lp->p, lp);
    XML_SetElementHandler(lp->p, on_start, on_end);
    XML_SetCharacterDataHandler(lp->p, on_text);
    /* DOCTYPE/entities are never legitimate in an S3 answer: refuse them (billion laughs). */
    XML_SetStartDoctypeDeclHandler(lp->p, on_doctype);
    XML_SetParamEntityParsing(lp->p, XML_PARAM_ENTITY_PARSING_NEVER);
    if (XML_Parse(lp->p, xml, (int)n, XML_TRUE) == XML_STATUS_ERROR && lp->rc == CLIP_OK)
        lp->rc = clip_fail(CLIP_EBACKEND, lp->errmsg, lp->errlen, "r2: bad XML at line %lu: %s",
                           (unsigned long)XML_GetCurrentLineNumber(lp->p),
                           XML_ErrorString(XML_GetErrorCode(lp->p)));
    XML_ParserFree(lp->p);
    lp->p = NULL;
    free_object(&lp->cur);
    buf_free(&lp->text);
    return lp->rc;
}

clip_err r2_parse_list(const char *xml, size_t n, r2_list *out, char *err, size_t errlen)
{
    list_parse lp;
    memset(&lp, 0, sizeof lp);
    memset(out, 0, sizeof *out);
    lp.out = out;
    lp.errmsg = err;
    lp.errlen = errlen;
    return parse_xml(&lp, xml, n);
}

void r2_list_free(r2_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nobjects; i++)
        free_object(&l->objects[i]);
    for (size_t i = 0; i < l->nprefixes; i++)
        free(l->prefixes[i]);
    free(l->objects);
    free(l->prefixes);
    free(l->next_token);
    memset(l, 0, sizeof *l);
}

/* ---- calls ---------------------------------------------------------------------------------- */

/* Maps a non-2xx answer to an error, naming S3's <Code> when the body has one. */
static clip_err status_error(const char *op, const http_resp *resp, char *err, size_t errlen)
{
    char code[128] = "", message[256] = "";
    if (resp->body.len && resp->body.len <= R2_ERROR_BODY_MAX) {
        r2_list dummy;
        list_parse lp;
        memset(&lp, 0, sizeof lp);
        memset(&dummy, 0, sizeof dummy);
        lp.out = &dummy;
        parse_xml(&lp, resp->body.p, resp->body.len);
        r2_list_free(&dummy);
        memcpy(code, lp.code, sizeof code);
        memcpy(message, lp.message, sizeof message);
    }
    clip_err e;
    switch (resp->status) {
    case 404:
        e = CLIP_ENOTFOUND;
        break;
    case 429:
        e = CLIP_ERATELIMIT;
        break;
    case 500:
    case 502:
    case 503:
        e = CLIP_EUNAVAILABLE;
        break;
    case 504:
        e = CLIP_ETIMEOUT;
        break;
    default:
        e = CLIP_EBACKEND; /* 400/403 and the rest: our request or credentials are wrong */
        break;
    }
    return clip_fail(e, err, errlen, "r2: %s: HTTP %ld%s%s%s%s", op, resp->status,
                     code[0] ? " " : "", code, message[0] ? ": " : "", message);
}

/* Signs one bodiless S3 request into p and fills *req (which borrows from p). */
static clip_err prepare(r2_client *r, const char *method, const char *key, size_t key_len,
                        const sig_pair *q, size_t nq, size_t max_response, long deadline_ms,
                        r2_prepared *p, http_req *req, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->url, 0);
    buf_init(&p->token, 0);
    sig_auth auth;
    clip_err rc =
        sig_s3_request(r->signer, method, key, key_len, q, nq, NULL, 0, &p->url, &auth, err, errlen);
    if (rc != CLIP_OK) {
        r2_prepared_free(p);
        return rc;
    }
    snprintf(p->h_auth, sizeof p->h_auth, "Authorization: %s", auth.authorization);
    snprintf(p->h_date, sizeof p->h_date, "x-amz-date: %s", auth.amz_date);
    snprintf(p->h_sha, sizeof p->h_sha, "x-amz-content-sha256: %s", auth.payload_hash);
    p->headers[0] = p->h_auth;
    p->headers[1] = p->h_date;
    p->headers[2] = p->h_sha;
    size_t nh = 3;
    if (sig_signer_token(r->signer)) {
        buf_printf(&p->token, "x-amz-security-token: %s", sig_signer_token(r->signer));
        p->headers[nh++] = p->token.p;
    }
    if (p->token.oom) {
        r2_prepared_free(p);
        return clip_fail(CLIP_ENOMEM, err, errlen, "r2: out of memory");
    }
    *req = (http_req){
        .method = method,
        .url = p->url.p,
        .headers = p->headers,
        .nheaders = nh,
        .deadline_ms = deadline_ms,
        .max_response = max_response,
        .retry = HTTP_RETRY_IDEMPOTENT,
        .backend = "r2",
    };
    return CLIP_OK;
}

void r2_prepared_free(r2_prepared *p)
{
    buf_free(&p->url);
    buf_free(&p->token);
}

/* Signs and sends one bodiless S3 request; resp must be freed by the caller. */
static clip_err call(r2_client *r, const char *op, const char *method, const char *key,
                     size_t key_len, const sig_pair *q, size_t nq, size_t max_response,
                     http_resp *resp, char *err, size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    r2_prepared p;
    http_req req;
    clip_err rc = prepare(r, method, key, key_len, q, nq, max_response, r->deadline_ms, &p, &req,
                          err, errlen);
    if (rc != CLIP_OK)
        return rc;
    rc = http_do(&req, resp, err, errlen);
    r2_prepared_free(&p);
    if (rc == CLIP_OK && (resp->status < 200 || resp->status > 299))
        rc = status_error(op, resp, err, errlen);
    return rc;
}

clip_err r2_prepare_head(r2_client *r, const char *key, size_t key_len, long deadline_ms,
                         r2_prepared *p, http_req *req, char *err, size_t errlen)
{
    if (!r)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "r2: not configured");
    if (!key || key_len == 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "r2: HeadObject needs a key");
    return prepare(r, "HEAD", key, key_len, NULL, 0, 0, deadline_ms, p, req, err, errlen);
}

clip_err r2_prepared_result(r2_prepared *p, clip_err rc, http_resp *resp, char *err,
                            size_t errlen)
{
    if (rc == CLIP_OK && (resp->status < 200 || resp->status > 299))
        rc = status_error("HeadObject", resp, err, errlen);
    if (rc == CLIP_ENOTFOUND)
        rc = clip_fail(CLIP_ENOTFOUND, err, errlen, "r2: HeadObject: no such key");
    http_resp_free(resp);
    r2_prepared_free(p);
    return rc;
}

static sig_pair pair(const char *name, const char *value)
{
    sig_pair p = {name, strlen(name), value, strlen(value)};
    return p;
}

clip_err r2_list_objects(r2_client *r, const char *prefix, const char *delimiter,
                         const char *continuation_token, int max_keys, r2_list *out, char *err,
                         size_t errlen)
{
    if (!r)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "r2: not configured");
    memset(out, 0, sizeof *out);
    if (max_keys == 0)
        max_keys = R2_LIST_MAX_KEYS;
    if (max_keys < 1 || max_keys > R2_LIST_MAX_KEYS)
        return clip_fail(CLIP_EINVAL, err, errlen, "r2: max_keys must be 1..%d", R2_LIST_MAX_KEYS);
    if ((prefix && strlen(prefix) > SIG_KEY_MAX) || (delimiter && strlen(delimiter) > 16) ||
        (continuation_token && strlen(continuation_token) > SIG_VALUE_MAX))
        return clip_fail(CLIP_EINVAL, err, errlen, "r2: list parameter too long");
    char mk[16];
    snprintf(mk, sizeof mk, "%d", max_keys);
    sig_pair q[5];
    size_t nq = 0;
    q[nq++] = pair("list-type", "2");
    q[nq++] = pair("max-keys", mk);
    if (prefix && *prefix)
        q[nq++] = pair("prefix", prefix);
    if (delimiter && *delimiter)
        q[nq++] = pair("delimiter", delimiter);
    if (continuation_token && *continuation_token)
        q[nq++] = pair("continuation-token", continuation_token);
    http_resp resp;
    clip_err rc =
        call(r, "ListObjectsV2", "GET", "", 0, q, nq, R2_LIST_XML_MAX, &resp, err, errlen);
    if (rc == CLIP_OK)
        rc = r2_parse_list(resp.body.p ? resp.body.p : "", resp.body.len, out, err, errlen);
    if (rc == CLIP_OK && out->truncated && !out->next_token)
        rc = clip_fail(CLIP_EBACKEND, err, errlen,
                       "r2: ListObjectsV2: truncated page without NextContinuationToken");
    http_resp_free(&resp);
    return rc;
}

static void copy_header(const http_resp *resp, const char *name, char *dst, size_t dstlen)
{
    size_t n = 0;
    const char *v = http_resp_header(resp, name, &n);
    dst[0] = '\0';
    if (v) {
        if (n >= dstlen)
            n = dstlen - 1;
        memcpy(dst, v, n);
        dst[n] = '\0';
    }
}

clip_err r2_head_object(r2_client *r, const char *key, size_t key_len, r2_head *out, char *err,
                        size_t errlen)
{
    if (!r)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "r2: not configured");
    memset(out, 0, sizeof *out);
    if (!key || key_len == 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "r2: HeadObject needs a key");
    http_resp resp;
    clip_err rc = call(r, "HeadObject", "HEAD", key, key_len, NULL, 0, 0, &resp, err, errlen);
    if (rc == CLIP_OK) {
        char len[32];
        copy_header(&resp, "Content-Length", len, sizeof len);
        char *end;
        out->size = strtoll(len, &end, 10);
        if (!len[0] || *end != '\0' || out->size < 0)
            rc = clip_fail(CLIP_EBACKEND, err, errlen, "r2: HeadObject: no usable Content-Length");
        copy_header(&resp, "Content-Type", out->content_type, sizeof out->content_type);
        copy_header(&resp, "ETag", out->etag, sizeof out->etag);
        copy_header(&resp, "Last-Modified", out->last_modified, sizeof out->last_modified);
    } else if (rc == CLIP_ENOTFOUND || resp.status == 404) {
        rc = clip_fail(CLIP_ENOTFOUND, err, errlen, "r2: HeadObject: no such key");
    }
    http_resp_free(&resp);
    return rc;
}

clip_err r2_get_object(r2_client *r, const char *key, size_t key_len, size_t max, buf_t *out,
                       char *err, size_t errlen)
{
    if (!r)
        return clip_fail(CLIP_EUNAVAILABLE, err, errlen, "r2: not configured");
    if (!key || key_len == 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "r2: GetObject needs a key");
    if (max == 0)
        max = R2_GET_MAX_DEFAULT;
    http_resp resp;
    clip_err rc = call(r, "GetObject", "GET", key, key_len, NULL, 0, max, &resp, err, errlen);
    if (rc == CLIP_OK && buf_append(out, resp.body.p ? resp.body.p : "", resp.body.len) != 0)
        rc = clip_fail(CLIP_ENOMEM, err, errlen, "r2: GetObject: out of memory");
    http_resp_free(&resp);
    return rc;
}
