/* request: FastCGI params -> request_t; header and query look-ups. */
#include "request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "codec.h"

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

int req_printable(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
            return 0;
    return 1;
}

/* The refusal of a value: "limit: must be a whole number from 1 to 100", "style: <rule>". */
static clip_err refuse(const req_arg_rule *r, char *err, size_t errlen)
{
    if (r->is_int)
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: must be a whole number from %ld to %ld",
                         r->name, r->min, r->max);
    return clip_fail(CLIP_EINVAL, err, errlen, "%s: %s", r->name, r->rule);
}

/* Checks one decoded value against its rule into out. */
static clip_err arg_value(const req_arg_rule *r, const char *v, size_t vn, req_arg *out,
                          char *err, size_t errlen)
{
    if (r->is_int) {
        char *end = NULL;
        /* digits only (a '-' first): strtol alone would take " 1", "+1" and "\t1" too */
        int digits = vn > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'));
        long n = digits && vn <= REQ_ARG_INT_DIGITS ? strtol(v, &end, 10) : 0;
        if (!end || *end != '\0' || n < r->min || n > r->max)
            return refuse(r, err, errlen);
        out->num = n;
    } else if (vn == 0 || vn > r->max_len || !(r->valid ? r->valid : req_printable)(v, vn)) {
        return refuse(r, err, errlen);
    }
    out->present = 1;
    out->text = v;
    return CLIP_OK;
}

clip_err req_parse_args(request_t *rq, const req_arg_rule *rules, char *err, size_t errlen)
{
    rq->arg_rules = rules;
    size_t nrules = 0;
    for (; rules && rules[nrules].name; nrules++) {
        if (nrules == REQ_ARGS_MAX)
            return clip_fail(CLIP_EINTERNAL, err, errlen, "a route with over %d parameters",
                             REQ_ARGS_MAX);
        rq->args[nrules].present = 0;
        rq->args[nrules].text = NULL;
        rq->args[nrules].num = rules[nrules].def;
    }
    const char *p = rq->query.p, *end = rq->query.p + rq->query.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        size_t kraw = (size_t)(kend - p);
        if (stop == p) { /* "a=1&&b=2", a trailing '&': nothing there */
            p = stop + 1;
            continue;
        }
        if (kraw == 0) /* "=1": a value under no name */
            return clip_fail(CLIP_EINVAL, err, errlen, "query: a parameter without a name");
        char key[REQ_ARG_NAME_MAX + 1];
        long kn = kraw <= REQ_ARG_NAME_MAX ? req_pct_decode(p, kraw, key, 1) : -1;
        size_t i = 0;
        if (kn >= 0) {
            key[kn] = '\0';
            while (i < nrules && !(strlen(rules[i].name) == (size_t)kn &&
                                   memcmp(rules[i].name, key, (size_t)kn) == 0))
                i++;
        }
        if (kn < 0 || i == nrules)
            return clip_fail(CLIP_EINVAL, err, errlen, "%.*s: unknown query parameter",
                             (int)(kraw > 64 ? 64 : kraw), p);
        const req_arg_rule *r = &rules[i];
        if (rq->args[i].present)
            return clip_fail(CLIP_EINVAL, err, errlen, "%s: given more than once", r->name);
        const char *v = eq ? eq + 1 : stop;
        size_t vn = (size_t)(stop - v);
        char *d = arena_alloc(rq->arena, vn + 1);
        if (!d)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        long dn = req_pct_decode(v, vn, d, 1);
        if (dn < 0 || memchr(d, '\0', (size_t)dn) || !codec_utf8_valid(d, (size_t)dn))
            return refuse(r, err, errlen);
        d[dn] = '\0';
        clip_err e = arg_value(r, d, (size_t)dn, &rq->args[i], err, errlen);
        if (e != CLIP_OK)
            return e;
        p = stop + 1;
    }
    return CLIP_OK;
}

static const req_arg *arg_of(const request_t *rq, const char *name)
{
    for (size_t i = 0; rq->arg_rules && rq->arg_rules[i].name; i++)
        if (strcmp(rq->arg_rules[i].name, name) == 0)
            return &rq->args[i];
    return NULL;
}

const char *req_arg_text(const request_t *rq, const char *name)
{
    const req_arg *a = arg_of(rq, name);
    return a ? a->text : NULL;
}

long req_arg_num(const request_t *rq, const char *name)
{
    const req_arg *a = arg_of(rq, name);
    return a ? a->num : 0;
}
