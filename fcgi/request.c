/* request: FastCGI params -> request_t; header and query look-ups. */
#include "request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

const char *req_env(const request_t *rq, const char *name)
{
    size_t nl = strlen(name);
    for (char *const *e = rq->envp; e && *e; e++)
        if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=')
            return *e + nl + 1;
    return NULL;
}

const char *req_header(const request_t *rq, const char *name)
{
    char key[128] = "HTTP_";
    size_t j = 5;
    for (const char *c = name; *c && j + 1 < sizeof key; c++)
        key[j++] = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
    key[j] = '\0';
    if (strcmp(key, "HTTP_CONTENT_TYPE") == 0)
        return req_env(rq, "CONTENT_TYPE");
    return req_env(rq, key);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long req_pct_decode(const char *src, size_t n, char *dst, int plus_space)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            dst[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            dst[j++] = ' ';
        } else {
            dst[j++] = c;
        }
    }
    return (long)j;
}

static int valid_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > REQ_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static const char *new_request_id(arena_t *a)
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)rand();
    }
    char *s = arena_alloc(a, 33);
    if (!s)
        return "-";
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(s + 2 * i, 3, "%02x", r[i]);
    return s;
}

clip_err req_parse(request_t *rq, arena_t *arena, char *const *envp, char *err, size_t errlen)
{
    memset(rq, 0, sizeof *rq);
    rq->arena = arena;
    rq->envp = envp;
    rq->content_length = -1;

    const char *rid = req_env(rq, "REQUEST_ID");
    if (!rid || !valid_request_id(rid))
        rid = req_header(rq, "X-Request-Id");
    rq->request_id = (rid && valid_request_id(rid)) ? rid : new_request_id(arena);
    rq->remote_addr = req_env(rq, "REMOTE_ADDR");

    const char *m = req_env(rq, "REQUEST_METHOD");
    if (!m || !*m)
        return clip_fail(CLIP_EINVAL, err, errlen, "no REQUEST_METHOD");
    rq->method.p = m;
    rq->method.n = strlen(m);

    /* REQUEST_URI is what the client sent: route on it, never on PATH_INFO arithmetic. */
    const char *uri = req_env(rq, "REQUEST_URI");
    if (!uri)
        uri = req_env(rq, "DOCUMENT_URI");
    if (!uri || uri[0] != '/')
        return clip_fail(CLIP_EINVAL, err, errlen, "request URI must start with '/'");
    size_t un = strlen(uri);
    if (un > REQ_URI_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "request URI longer than %d bytes", REQ_URI_MAX);
    /* A fragment never reaches a server: whatever follows '#' is ignored. */
    const char *h = memchr(uri, '#', un);
    if (h)
        un = (size_t)(h - uri);
    const char *q = memchr(uri, '?', un);
    rq->path.p = uri;
    rq->path.n = q ? (size_t)(q - uri) : un;
    if (q) {
        rq->query.p = q + 1;
        rq->query.n = un - rq->path.n - 1;
    } else {
        rq->query.p = "";
    }

    const char *cl = req_env(rq, "CONTENT_LENGTH");
    if (cl && *cl) {
        char *end;
        long v = strtol(cl, &end, 10);
        if (*end != '\0' || v < 0 || end - cl > 12)
            return clip_fail(CLIP_EINVAL, err, errlen, "bad Content-Length");
        rq->content_length = v;
    }
    rq->body = "";
    return CLIP_OK;
}

strv req_path_param(const request_t *rq, const char *name)
{
    for (int i = 0; i < rq->nparams; i++)
        if (strcmp(rq->param_name[i], name) == 0)
            return rq->param[i];
    return (strv){"", 0};
}

int req_query(const request_t *rq, const char *name, strv *out)
{
    size_t nl = strlen(name);
    const char *p = rq->query.p, *end = rq->query.p + rq->query.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        char kbuf[64];
        long kn = (size_t)(kend - p) < sizeof kbuf ? req_pct_decode(p, (size_t)(kend - p), kbuf, 1) : -1;
        if (kn == (long)nl && memcmp(kbuf, name, nl) == 0) {
            const char *v = eq ? eq + 1 : stop;
            size_t vn = (size_t)(stop - v);
            char *d = arena_alloc(rq->arena, vn + 1);
            if (!d)
                return -1;
            long dn = req_pct_decode(v, vn, d, 1);
            if (dn < 0)
                return -1;
            d[dn] = '\0';
            out->p = d;
            out->n = (size_t)dn;
            return 1;
        }
        p = stop + 1;
    }
    return 0;
}
