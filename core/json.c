/* json: a recursive-descent reader that builds json-c trees itself, so that it alone decides what
 * is JSON: json-c's tokener takes things RFC 8259 does not (1., lone surrogate escapes, overlong
 * UTF-8, which it stores as U+FFFD) and keeps the last of two equal keys. */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "codec.h"

/* One array or object being read: what the message of a failure inside it calls its member. */
typedef struct frame {
    const struct frame *up;
    int is_array;
    size_t index;   /* array: the item being read */
    int has_key;    /* object: a member's key has been read */
    size_t key_off; /* object: where that key is in reader.keys */
} frame;

typedef struct {
    const char *start, *p, *end;
    const json_limits *lim;
    buf_t scratch; /* the decoded text of a string with escapes */
    buf_t keys;    /* the keys of the members being read, outermost first, NUL-terminated */
    char *err;
    size_t errlen;
} reader;

static const char *doc_name(const reader *r)
{
    return r->lim->name ? r->lim->name : "json";
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The bytes JSON never has where they stand, found before the grammar is read (so a stray byte is
 * named as such wherever it is): outside strings anything but white space, structure, number
 * characters and the words true, false and null; inside strings control bytes. An unterminated
 * string is its last byte. Returns the offset of the first, or n. */
static size_t lex_check(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        if (c == '"') {
            for (i++; i < n && p[i] != '"'; i++) {
                if ((unsigned char)p[i] < 0x20)
                    return i;
                if (p[i] == '\\')
                    i++;
            }
            if (i >= n)
                return n > 0 ? n - 1 : 0;
            i++;
            continue;
        }
        if (is_alpha(c)) {
            size_t s = i;
            while (i < n && is_alpha(p[i]))
                i++;
            size_t len = i - s;
            int exponent = len == 1 && (c == 'e' || c == 'E') && s > 0 &&
                           (is_digit(p[s - 1]) || p[s - 1] == '.');
            if (!exponent && !(len == 4 && memcmp(p + s, "true", 4) == 0) &&
                !(len == 5 && memcmp(p + s, "false", 5) == 0) &&
                !(len == 4 && memcmp(p + s, "null", 4) == 0))
                return s;
            continue;
        }
        if (!(blank(c) || is_digit(c) || strchr("{}[],:-+.", c)) || c == '\0')
            return i;
        i++;
    }
    return n;
}

/* ---- messages -------------------------------------------------------------------------------- */

static clip_err oom(reader *r)
{
    return clip_fail(CLIP_ENOMEM, r->err, r->errlen, "out of memory");
}

/* A grammar failure at at (the end of the text: it ends too early). */
static clip_err syntax(reader *r, const char *what, const char *at)
{
    if (at >= r->end)
        return clip_fail(CLIP_EINVAL, r->err, r->errlen, "%s: not valid JSON (it ends too early)",
                         doc_name(r));
    return clip_fail(CLIP_EINVAL, r->err, r->errlen, "%s: not valid JSON (%s at offset %zu)",
                     doc_name(r), what, (size_t)(at - r->start));
}

#define JSON_PATH_SHOWN 120

static void put_path(const reader *r, buf_t *b, const frame *f)
{
    if (!f)
        return;
    put_path(r, b, f->up);
    if (f->is_array) {
        buf_printf(b, "[%zu]", f->index);
    } else if (f->has_key) {
        char name[JSON_NAME_SHOWN + 1];
        json_field_name(name, sizeof name, NULL, r->keys.p + f->key_off);
        if (b->len)
            buf_putc(b, '.');
        buf_puts(b, name);
    }
}

/* "PATH: what" for the member f is reading (the document's name where none can be told). */
static clip_err at_member(reader *r, const frame *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static clip_err at_member(reader *r, const frame *f, const char *fmt, ...)
{
    buf_t path = BUF_INIT;
    put_path(r, &path, f);
    if (path.len == 0 || path.p[0] == '[') {
        buf_t named = BUF_INIT;
        buf_puts(&named, doc_name(r));
        buf_append(&named, path.p, path.len);
        buf_free(&path);
        path = named;
    }
    /* a deep path of long names is cut (never inside a UTF-8 sequence), so that the message
     * keeps its ": what" within any error buffer */
    if (!path.oom && path.len > JSON_PATH_SHOWN) {
        size_t cut = JSON_PATH_SHOWN - 3;
        while (cut > 0 && ((unsigned char)path.p[cut] & 0xC0) == 0x80)
            cut--;
        path.len = cut;
        buf_puts(&path, "...");
    }
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    clip_err e =
        path.oom ? oom(r) : clip_fail(CLIP_EINVAL, r->err, r->errlen, "%s: %s", path.p, what);
    buf_free(&path);
    return e;
}

/* ---- the grammar ----------------------------------------------------------------------------- */

static void skip_blank(reader *r)
{
    while (r->p < r->end && blank(*r->p))
        r->p++;
}

/* The string at r->p (on its quote): *s and *n its decoded text (the input itself when it has no
 * escape, else r->scratch). A failure is named after the member f is reading. */
static clip_err read_string(reader *r, const frame *f, const char **s, size_t *n)
{
    const char *raw = ++r->p, *q = raw;
    int esc = 0;
    while (q < r->end && *q != '"') {
        if (*q == '\\') {
            esc = 1;
            q++;
        }
        q++;
    }
    if (q >= r->end)
        return syntax(r, "unexpected character", r->end);
    size_t rawlen = (size_t)(q - raw);
    /* escapes are ASCII: the raw text is UTF-8 exactly when the decoded one is, escapes apart */
    size_t good = codec_utf8_prefix(raw, rawlen);
    if (good < rawlen)
        return at_member(r, f, "not valid UTF-8 (at offset %zu)", (size_t)(raw + good - r->start));
    r->p = q + 1;
    if (!esc) {
        *s = raw;
        *n = rawlen;
        return CLIP_OK;
    }
    buf_t *b = &r->scratch;
    buf_reset(b);
    for (const char *c = raw; c < q;) {
        const char *run = c;
        while (c < q && *c != '\\')
            c++;
        buf_append(b, run, (size_t)(c - run));
        if (c >= q)
            break;
        const char *bs = c++;
        unsigned cp;
        switch (*c++) {
        case '"':
            buf_putc(b, '"');
            break;
        case '\\':
            buf_putc(b, '\\');
            break;
        case '/':
            buf_putc(b, '/');
            break;
        case 'b':
            buf_putc(b, '\b');
            break;
        case 'f':
            buf_putc(b, '\f');
            break;
        case 'n':
            buf_putc(b, '\n');
            break;
        case 'r':
            buf_putc(b, '\r');
            break;
        case 't':
            buf_putc(b, '\t');
            break;
        case 'u': {
            int used = codec_json_u_escape(bs, (size_t)(q - bs), &cp);
            if (used == 0)
                return syntax(r, "invalid string sequence", bs);
            if (used < 0)
                return at_member(r, f, "not valid UTF-8 (unpaired surrogate escape at offset %zu)",
                                 (size_t)(bs - r->start));
            c = bs + used;
            char u[4];
            buf_append(b, u, codec_utf8_put(u, cp));
            break;
        }
        default:
            return syntax(r, "invalid string sequence", bs);
        }
    }
    if (b->oom)
        return oom(r);
    *s = b->p ? b->p : "";
    *n = b->len;
    return CLIP_OK;
}

/* A number, as json-c's tokener makes it: integers int64 (saturated below INT64_MIN), uint64
 * above INT64_MAX (saturated past UINT64_MAX), anything with a fraction or an exponent a double
 * that serializes as written. */
static clip_err read_number(reader *r, json_object **out)
{
    const char *s = r->p, *q = s;
    int is_double = 0;
    if (q < r->end && *q == '-')
        q++;
    if (q >= r->end || !is_digit(*q))
        return syntax(r, "number expected", q);
    if (*q == '0') {
        q++;
        if (q < r->end && is_digit(*q))
            return syntax(r, "number expected", q);
    } else {
        while (q < r->end && is_digit(*q))
            q++;
    }
    if (q < r->end && *q == '.') {
        is_double = 1;
        if (++q >= r->end || !is_digit(*q))
            return syntax(r, "number expected", q);
        while (q < r->end && is_digit(*q))
            q++;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        is_double = 1;
        q++;
        if (q < r->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= r->end || !is_digit(*q))
            return syntax(r, "number expected", q);
        while (q < r->end && is_digit(*q))
            q++;
    }
    r->p = q;
    buf_t *b = &r->scratch;
    buf_reset(b);
    if (buf_append(b, s, (size_t)(q - s)) != 0)
        return oom(r);
    if (is_double) {
        double d = 0;
        if (json_parse_double(b->p, &d) != 0)
            return syntax(r, "number expected", s);
        *out = json_object_new_double_s(d, b->p);
    } else if (*s == '-') {
        int64_t i = 0;
        json_parse_int64(b->p, &i);
        *out = json_object_new_int64(i);
    } else {
        uint64_t u = 0;
        json_parse_uint64(b->p, &u);
        *out = u <= INT64_MAX ? json_object_new_int64((int64_t)u) : json_object_new_uint64(u);
    }
    return *out ? CLIP_OK : oom(r);
}

static clip_err read_value(reader *r, const frame *up, int depth, json_object **out);

static clip_err read_object(reader *r, const frame *up, int depth, json_object **out)
{
    r->p++;
    json_object *o = json_object_new_object();
    if (!o)
        return oom(r);
    frame f = {up, 0, 0, 0, 0};
    size_t base = r->keys.len;
    clip_err e = CLIP_OK;
    skip_blank(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        *out = o;
        return CLIP_OK;
    }
    for (;;) {
        skip_blank(r);
        if (r->p >= r->end || *r->p != '"') {
            e = syntax(r, "unexpected character", r->p);
            break;
        }
        const char *k;
        size_t kn;
        f.has_key = 0;
        if ((e = read_string(r, &f, &k, &kn)) != CLIP_OK)
            break;
        f.key_off = r->keys.len;
        if (buf_append(&r->keys, k, kn) != 0 || buf_putc(&r->keys, '\0') != 0) {
            e = oom(r);
            break;
        }
        f.has_key = 1;
        /* json-c keys are C strings: a key with a NUL in it is its text up to the NUL */
        if (json_object_object_get_ex(o, r->keys.p + f.key_off, NULL)) {
            e = at_member(r, &f, "given twice");
            break;
        }
        skip_blank(r);
        if (r->p >= r->end || *r->p != ':') {
            e = syntax(r, "unexpected character", r->p);
            break;
        }
        r->p++;
        json_object *v = NULL;
        if ((e = read_value(r, &f, depth + 1, &v)) != CLIP_OK)
            break;
        if (json_object_object_add_ex(o, r->keys.p + f.key_off, v, JSON_C_OBJECT_ADD_KEY_IS_NEW) !=
            0) {
            json_object_put(v);
            e = oom(r);
            break;
        }
        r->keys.len = f.key_off;
        skip_blank(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            break;
        }
        e = syntax(r, "unexpected character", r->p);
        break;
    }
    r->keys.len = base;
    if (e != CLIP_OK) {
        json_object_put(o);
        return e;
    }
    *out = o;
    return CLIP_OK;
}

static clip_err read_array(reader *r, const frame *up, int depth, json_object **out)
{
    r->p++;
    json_object *a = json_object_new_array();
    if (!a)
        return oom(r);
    frame f = {up, 1, 0, 0, 0};
    clip_err e = CLIP_OK;
    skip_blank(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        *out = a;
        return CLIP_OK;
    }
    for (;; f.index++) {
        json_object *v = NULL;
        if ((e = read_value(r, &f, depth + 1, &v)) != CLIP_OK)
            break;
        if (json_object_array_add(a, v) != 0) {
            json_object_put(v);
            e = oom(r);
            break;
        }
        skip_blank(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            break;
        }
        e = syntax(r, "unexpected character", r->p);
        break;
    }
    if (e != CLIP_OK) {
        json_object_put(a);
        return e;
    }
    *out = a;
    return CLIP_OK;
}

static int word(reader *r, const char *w, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return 0;
    r->p += n;
    return 1;
}

/* depth: the arrays and objects around this value (json-c's count: the top-level value is 0). */
static clip_err read_value(reader *r, const frame *up, int depth, json_object **out)
{
    *out = NULL;
    if (depth >= r->lim->max_depth)
        return clip_fail(CLIP_EINVAL, r->err, r->errlen, "%s: nested deeper than %d levels",
                         doc_name(r), r->lim->max_depth);
    skip_blank(r);
    if (r->p >= r->end)
        return syntax(r, "unexpected character", r->p);
    switch (*r->p) {
    case '{':
        return read_object(r, up, depth, out);
    case '[':
        return read_array(r, up, depth, out);
    case '"': {
        const char *s;
        size_t n;
        clip_err e = read_string(r, up, &s, &n);
        if (e != CLIP_OK)
            return e;
        if (n > INT32_MAX)
            return clip_fail(CLIP_ETOOBIG, r->err, r->errlen, "%s: a string over 2 GiB",
                             doc_name(r));
        *out = json_object_new_string_len(s, (int)n);
        return *out ? CLIP_OK : oom(r);
    }
    case 't':
        if (!word(r, "true", 4))
            break;
        *out = json_object_new_boolean(1);
        return *out ? CLIP_OK : oom(r);
    case 'f':
        if (!word(r, "false", 5))
            break;
        *out = json_object_new_boolean(0);
        return *out ? CLIP_OK : oom(r);
    case 'n':
        if (!word(r, "null", 4))
            break;
        return CLIP_OK;
    default:
        if (*r->p == '-' || is_digit(*r->p))
            return read_number(r, out);
        break;
    }
    return syntax(r, "unexpected character", r->p);
}

clip_err json_read(const char *p, size_t n, const json_limits *lim, json_object **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    reader r = {p, p, p + n, lim, BUF_INIT, BUF_INIT, err, errlen};
    if (lim->max_bytes && n > lim->max_bytes)
        return clip_fail(CLIP_ETOOBIG, err, errlen, "%s: larger than %zu bytes", doc_name(&r),
                         lim->max_bytes);
    if (!p)
        return syntax(&r, "unexpected character", r.end);
    size_t bad = lex_check(p, n);
    if (bad < n)
        return syntax(&r, "unexpected byte", p + bad);
    json_object *v = NULL;
    clip_err e = read_value(&r, NULL, 0, &v);
    if (e == CLIP_OK) {
        skip_blank(&r);
        if (r.p < r.end) {
            e = syntax(&r, "unexpected character", r.p);
            json_object_put(v);
            v = NULL;
        }
    }
    buf_free(&r.scratch);
    buf_free(&r.keys);
    *out = v;
    return e;
}

clip_err json_read_object(const char *p, size_t n, const json_limits *lim, json_object **out,
                          char *err, size_t errlen)
{
    clip_err e = json_read(p, n, lim, out, err, errlen);
    if (e == CLIP_OK && !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: must be a JSON object",
                         lim->name ? lim->name : "json");
    }
    return e;
}

/* ---- members ------------------------------------------------------------------------------- */

json_object *json_member(json_object *o, const char *name, int *present)
{
    json_object *v = NULL;
    int has = json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, name, &v);
    if (present)
        *present = has;
    return has ? v : NULL;
}

const char *json_member_str(json_object *o, const char *name, size_t *len)
{
    json_object *v = json_member(o, name, NULL);
    if (!json_object_is_type(v, json_type_string))
        return NULL;
    *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

void json_field_name(char *out, size_t outlen, const char *prefix, const char *key)
{
    if (!outlen)
        return;
    size_t k = 0;
    int r = snprintf(out, outlen, "%s", prefix ? prefix : "");
    if (r > 0)
        k = (size_t)r < outlen ? (size_t)r : outlen - 1;
    if (prefix && prefix[0] && k + 1 < outlen)
        out[k++] = '.';
    for (size_t i = 0; key[i] && i < JSON_NAME_SHOWN && k + 1 < outlen; i++) {
        unsigned char c = (unsigned char)key[i];
        out[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[k] = '\0';
}

clip_err json_refuse(const json_ctx *c, const char *name, const char *what)
{
    return clip_fail(CLIP_EINVAL, c->err, c->errlen, "%s: %s", name, what);
}

clip_err json_get_str(const json_ctx *c, const char *name, json_object *v, size_t max, int flags,
                      const char **out)
{
    int nullable = flags & JSON_NULLABLE;
    if (!v && nullable) {
        *out = NULL;
        return CLIP_OK;
    }
    if (!json_object_is_type(v, json_type_string))
        return json_refuse(c, name, nullable ? "must be a string or null" : "must be a string");
    int len = json_object_get_string_len(v);
    const char *s = json_object_get_string(v);
    if (len < 0 || !s)
        return json_refuse(c, name, "must be a string");
    if ((size_t)len > max)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen, "%s: longer than %zu bytes", name, max);
    if (memchr(s, '\0', (size_t)len))
        return json_refuse(c, name, "must not contain a NUL character");
    *out = arena_strndup(c->a, s, (size_t)len);
    return *out ? CLIP_OK : clip_fail(CLIP_ENOMEM, c->err, c->errlen, "out of memory");
}

clip_err json_get_int(const json_ctx *c, const char *name, json_object *v, int64_t min, int64_t max,
                      int64_t *out)
{
    int64_t x = 0;
    if (json_object_is_type(v, json_type_int))
        x = json_object_get_int64(v);
    if (!json_object_is_type(v, json_type_int) || x < min || x > max)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen,
                         "%s: must be a whole number from %lld to %lld", name, (long long)min,
                         (long long)max);
    *out = x;
    return CLIP_OK;
}

clip_err json_get_num(const json_ctx *c, const char *name, json_object *v, double min, double max,
                      double *out)
{
    double x = 0;
    int ok = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
    if (ok) {
        x = json_object_get_double(v);
        ok = isfinite(x) && x >= min && x <= max;
    }
    if (!ok)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen, "%s: must be a number from %g to %g", name,
                         min, max);
    *out = x;
    return CLIP_OK;
}

clip_err json_get_bool(const json_ctx *c, const char *name, json_object *v, int *out)
{
    if (!json_object_is_type(v, json_type_boolean))
        return json_refuse(c, name, "must be true or false");
    *out = json_object_get_boolean(v) ? 1 : 0;
    return CLIP_OK;
}

clip_err json_get_str_list(const json_ctx *c, const char *name, json_object *v, size_t max_items,
                           size_t max, int (*valid)(const char *s, size_t n), const char *what,
                           const char *const **out, size_t *n)
{
    if (!json_object_is_type(v, json_type_array))
        return json_refuse(c, name, "must be an array of strings");
    size_t len = json_object_array_length(v);
    if (len > max_items)
        return clip_fail(CLIP_EINVAL, c->err, c->errlen, "%s: more than %zu items", name,
                         max_items);
    const char **list = len ? arena_calloc(c->a, len, sizeof *list) : NULL;
    if (len && !list)
        return clip_fail(CLIP_ENOMEM, c->err, c->errlen, "out of memory");
    for (size_t i = 0; i < len; i++) {
        char item[JSON_NAME_SHOWN + 32];
        snprintf(item, sizeof item, "%s[%zu]", name, i);
        clip_err e = json_get_str(c, item, json_object_array_get_idx(v, i), max, 0, &list[i]);
        if (e != CLIP_OK)
            return e;
        if (valid && !valid(list[i], strlen(list[i])))
            return json_refuse(c, item, what);
    }
    *out = list;
    *n = len;
    return CLIP_OK;
}
