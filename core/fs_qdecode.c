/* fs_qdecode: runQuery answer text -> arena fs_docs in one pass, no JSON tree.
 *
 * Why: a page of 1,000 clips is ~1.2 MB of JSON; json-c builds ~400,000 heap objects for it (one
 * hash table per JSON object) and frees them again, which was most of a worker's CPU time for a
 * big video. This decoder writes fs_values straight into the request arena. It takes only what
 * it can decode exactly like the json-c path (fs_value.c's value_decode); everything else is
 * handed back (-1) so that path keeps deciding, and wording, every unusual case. */
#include "fs_qdecode.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

#define QD_INT_DIGITS_MAX 18    /* json-c reads longer integers its own way: leave them to it */
#define QD_DOUBLE_INT_DIGITS 15 /* an integer token this short is the same double either way */
#define QD_EXP_DIGITS_MAX 2     /* 1e999 and 1e-999: out of range, json-c decides */
#define QD_STACK_MIN 64
#define FS_QDECODE_KEYS_SHARED 32 /* field positions whose keys are shared across documents */

typedef struct {
    const char *p, *end;
    arena_t *a;
    fs_field *fs; /* fields of the maps being decoded, innermost last */
    size_t fn, fcap;
    fs_value *vs; /* items of the arrays being decoded, innermost last */
    size_t vn, vcap;
    /* the keys of the last document's fields by position: the next document's same key (they
     * come in the same order, document after document) shares the copy instead of making one */
    fs_field *keys;
    size_t nkeys;
} qd;

typedef struct {
    const char *p; /* raw text between the quotes */
    size_t n;
    int esc; /* holds a backslash escape */
    int hi;  /* holds a byte >= 0x80 (else it is ASCII: no UTF-8 check needed) */
} qd_str;

#define QD_ONES 0x0101010101010101ULL
#define QD_HIGH 0x8080808080808080ULL

/* The high bit of every byte of w that is a control byte (< 0x20), '"' or a backslash; a flag may
 * also appear above a real one (borrows), which only sends that word down the byte-wise path. */
static uint64_t special(uint64_t w)
{
    uint64_t q = w ^ (QD_ONES * '"'), b = w ^ (QD_ONES * '\\');
    return (((q - QD_ONES) & ~q) | ((b - QD_ONES) & ~b) | ((w - QD_ONES * 0x20) & ~w)) & QD_HIGH;
}

static inline void ws(qd *q)
{
    /* compact JSON (what Firestore and our emulator send) has none: one test */
    if (q->p < q->end && (unsigned char)*q->p > ' ')
        return;
    while (q->p < q->end && (*q->p == ' ' || *q->p == '\n' || *q->p == '\r' || *q->p == '\t'))
        q->p++;
}

static inline int eat(qd *q, char c)
{
    ws(q);
    if (q->p < q->end && *q->p == c) {
        q->p++;
        return 1;
    }
    return 0;
}

/* A string token: the raw text between the quotes; -1 on control bytes, a missing quote, or text
 * that is not UTF-8 (which the strict reader refuses wherever it stands, skipped members too). */
static int str_tok(qd *q, qd_str *s)
{
    ws(q);
    if (q->p >= q->end || *q->p != '"')
        return -1;
    const char *b = ++q->p;
    s->esc = 0;
    s->hi = 0;
    for (;;) {
        /* eight bytes at a time up to the first special one (the lowest flag is always a real
         * one: borrows only flag bytes above it) */
        while (q->end - q->p >= 8) {
            uint64_t w;
            memcpy(&w, q->p, 8);
            uint64_t m = special(w);
            if (m) {
                unsigned k = (unsigned)__builtin_ctzll(m) >> 3;
                if (k)
                    s->hi |= (w & ((1ULL << (8 * k)) - 1) & QD_HIGH) != 0;
                q->p += k;
                break;
            }
            s->hi |= (w & QD_HIGH) != 0;
            q->p += 8;
        }
        if (q->p >= q->end)
            return -1;
        unsigned char c = (unsigned char)*q->p;
        if (c == '"') {
            s->p = b;
            s->n = (size_t)(q->p - b);
            q->p++;
            return s->hi && !codec_utf8_valid(s->p, s->n) ? -1 : 0;
        }
        if (c < 0x20)
            return -1;
        if (c >= 0x80)
            s->hi = 1;
        if (c == '\\') {
            /* only escapes json-c reads the same way: no \u0000, no surrogates unless a pair */
            s->esc = 1;
            if (++q->p >= q->end || !strchr("\"\\/bfnrtu", *q->p) || *q->p == '\0')
                return -1;
            if (*q->p == 'u') {
                unsigned cp;
                int used = codec_json_u_escape(q->p - 1, (size_t)(q->end - q->p) + 1, &cp);
                if (used <= 0 || cp == 0)
                    return -1;
                q->p += used - 2;
            }
        }
        q->p++;
    }
}

/* The string's text, unescaped and UTF-8 checked, NUL-terminated in the arena; -1 for anything
 * json-c might read otherwise (\u0000, lone surrogates, unknown escapes) or text not UTF-8. */
static int str_dup(qd *q, const qd_str *s, const char **out, size_t *outn)
{
    char *d = arena_alloc(q->a, s->n + 1);
    if (!d)
        return -1;
    size_t o = 0;
    if (!s->esc) {
        memcpy(d, s->p, s->n);
        o = s->n;
    } else {
        for (size_t i = 0; i < s->n; i++) {
            char c = s->p[i];
            if (c != '\\') {
                d[o++] = c;
                continue;
            }
            c = s->p[++i]; /* str_tok saw a byte after every backslash */
            switch (c) {
            case '"':
            case '\\':
            case '/':
                d[o++] = c;
                break;
            case 'b':
                d[o++] = '\b';
                break;
            case 'f':
                d[o++] = '\f';
                break;
            case 'n':
                d[o++] = '\n';
                break;
            case 'r':
                d[o++] = '\r';
                break;
            case 't':
                d[o++] = '\t';
                break;
            case 'u': {
                unsigned cp;
                int used = codec_json_u_escape(s->p + i - 1, s->n - i + 1, &cp);
                if (used <= 0 || cp == 0)
                    return -1;
                i += (size_t)used - 2;
                /* the UTF-8 form is never longer than the \u escape(s) it comes from */
                o += codec_utf8_put(d + o, cp);
                break;
            }
            default:
                return -1;
            }
        }
    }
    d[o] = '\0';
    if ((s->hi || s->esc) && !codec_utf8_valid(d, o))
        return -1;
    *out = d;
    *outn = o;
    return 0;
}

static int is_key(const qd_str *s, const char *k, size_t kn)
{
    return !s->esc && s->n == kn && memcmp(s->p, k, kn) == 0;
}
#define KEY(s, lit) is_key((s), lit, sizeof lit - 1)

/* A strict JSON number token; *is_int when it has no fraction or exponent. -1 otherwise. */
static int num_tok(qd *q, const char **b, size_t *n, int *is_int)
{
    ws(q);
    const char *s = q->p, *p = q->p, *e = q->end;
    *is_int = 1;
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return -1;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        *is_int = 0;
        if (++p >= e || *p < '0' || *p > '9')
            return -1;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        *is_int = 0;
        if (++p < e && (*p == '+' || *p == '-'))
            p++;
        const char *digits = p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == digits || p - digits > QD_EXP_DIGITS_MAX)
            return -1; /* json-c's range errors stay its own */
    }
    *b = s;
    *n = (size_t)(p - s);
    q->p = p;
    if (*is_int && *n - (*s == '-') > QD_INT_DIGITS_MAX)
        return -1;
    return 0;
}

static int lit(qd *q, const char *w, size_t n)
{
    ws(q);
    if ((size_t)(q->end - q->p) < n || memcmp(q->p, w, n) != 0)
        return -1;
    q->p += n;
    return 0;
}

/* Room for one more item on a stack of the decoder (items of n in *cap, each of size bytes). */
static int stack_room(void **items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : QD_STACK_MIN;
    void *p = realloc(*items, c * size);
    if (!p)
        return -1;
    *items = p;
    *cap = c;
    return 0;
}

/* f onto the stack of the fields of the maps being read. */
static int push_field(qd *q, const fs_field *f)
{
    void *items = q->fs;
    int r = stack_room(&items, q->fn, &q->fcap, sizeof *q->fs);
    q->fs = items;
    if (r != 0)
        return -1;
    q->fs[q->fn++] = *f;
    return 0;
}

/* v onto the stack of the items of the arrays being read. */
static int push_value(qd *q, const fs_value *v)
{
    void *items = q->vs;
    int r = stack_room(&items, q->vn, &q->vcap, sizeof *q->vs);
    q->vs = items;
    if (r != 0)
        return -1;
    q->vs[q->vn++] = *v;
    return 0;
}

/* A key of an object whose members are not kept, once: -1 when the object (its keys on the
 * fields stack from base) had it already, as the tree decoder refuses a duplicate key anywhere;
 * else it joins them. key is the key's text as it reads (escapes undone). */
static int key_once(qd *q, size_t base, const char *key, size_t len)
{
    for (size_t i = base; i < q->fn; i++)
        if (q->fs[i].key_len == len && memcmp(q->fs[i].key, key, len) == 0)
            return -1;
    fs_field f = {.key = key, .key_len = len};
    return push_field(q, &f);
}

/* Any JSON value, not kept. */
static int skip(qd *q, int depth)
{
    if (depth > FS_QDECODE_DEPTH_MAX)
        return -1;
    ws(q);
    if (q->p >= q->end)
        return -1;
    qd_str s;
    const char *b;
    size_t n;
    int is_int;
    switch (*q->p) {
    case '"':
        return str_tok(q, &s);
    case '{': {
        q->p++;
        if (eat(q, '}'))
            return 0;
        /* its keys on the fields stack for the duplicate check the tree decoder makes
         * everywhere, skipped members too (the text as it reads, escapes undone) */
        size_t base = q->fn;
        int r = 0;
        do {
            if (str_tok(q, &s) != 0 || !eat(q, ':')) {
                r = -1;
                break;
            }
            const char *key = s.p;
            size_t len = s.n;
            if ((s.esc && str_dup(q, &s, &key, &len) != 0) || key_once(q, base, key, len) != 0 ||
                skip(q, depth + 1) != 0) {
                r = -1;
                break;
            }
        } while (eat(q, ','));
        q->fn = base;
        return r == 0 && eat(q, '}') ? 0 : -1;
    }
    case '[':
        q->p++;
        if (eat(q, ']'))
            return 0;
        do {
            if (skip(q, depth + 1) != 0)
                return -1;
        } while (eat(q, ','));
        return eat(q, ']') ? 0 : -1;
    case 't':
        return lit(q, "true", 4);
    case 'f':
        return lit(q, "false", 5);
    case 'n':
        return lit(q, "null", 4);
    default:
        return num_tok(q, &b, &n, &is_int);
    }
}

static int value(qd *q, fs_value *out, int depth);

/* A "fields" object ({"k": Value, ...}) into a map; "null" gives the empty map. */
static int fields(qd *q, fs_value *out, int depth)
{
    *out = fs_map();
    ws(q);
    if (q->p < q->end && *q->p == 'n')
        return lit(q, "null", 4);
    if (!eat(q, '{'))
        return -1;
    size_t base = q->fn;
    int same = depth == 0; /* every key so far the last document's at its position */
    if (!eat(q, '}')) {
        do {
            qd_str ks;
            fs_field f;
            size_t at = q->fn - base;
            if (str_tok(q, &ks) != 0)
                return -1;
            if (depth == 0 && at < q->nkeys && !ks.esc && q->keys[at].key_len == ks.n &&
                memcmp(q->keys[at].key, ks.p, ks.n) == 0) {
                f.key = q->keys[at].key;
                f.key_len = ks.n;
            } else {
                if (str_dup(q, &ks, &f.key, &f.key_len) != 0)
                    return -1;
                same = 0;
                if (depth == 0 && at < FS_QDECODE_KEYS_SHARED) {
                    if (!q->keys && !(q->keys = calloc(FS_QDECODE_KEYS_SHARED, sizeof *q->keys)))
                        return -1;
                    q->keys[at] = f;
                }
            }
            if (!eat(q, ':'))
                return -1;
            /* a duplicate key: the tree decoder refuses it. Keys that are so far the last
             * document's, position by position, are distinct as its were. */
            for (size_t i = base; !same && i < q->fn; i++)
                if (q->fs[i].key_len == f.key_len && memcmp(q->fs[i].key, f.key, f.key_len) == 0)
                    return -1;
            if (value(q, &f.value, depth + 1) != 0)
                return -1;
            if (push_field(q, &f) != 0)
                return -1;
        } while (eat(q, ','));
        if (!eat(q, '}'))
            return -1;
    }
    size_t n = q->fn - base;
    if (depth == 0) /* the keys of this document are the ones shared with the next */
        q->nkeys = !q->keys ? 0 : n < FS_QDECODE_KEYS_SHARED ? n : FS_QDECODE_KEYS_SHARED;
    if (n) {
        out->u.map.fields = arena_alloc(q->a, n * sizeof(fs_field));
        if (!out->u.map.fields)
            return -1;
        memcpy(out->u.map.fields, q->fs + base, n * sizeof(fs_field));
        out->u.map.n = out->u.map.cap = n;
    }
    q->fn = base;
    return 0;
}

static int array_values(qd *q, fs_value *out, int depth)
{
    *out = fs_array();
    ws(q);
    if (q->p < q->end && *q->p == 'n')
        return lit(q, "null", 4);
    if (!eat(q, '['))
        return -1;
    size_t base = q->vn;
    if (!eat(q, ']')) {
        do {
            fs_value v;
            if (value(q, &v, depth + 1) != 0)
                return -1;
            if (push_value(q, &v) != 0)
                return -1;
        } while (eat(q, ','));
        if (!eat(q, ']'))
            return -1;
    }
    size_t n = q->vn - base;
    if (n) {
        out->u.arr.items = arena_alloc(q->a, n * sizeof(fs_value));
        if (!out->u.arr.items)
            return -1;
        memcpy(out->u.arr.items, q->vs + base, n * sizeof(fs_value));
        out->u.arr.n = out->u.arr.cap = n;
    }
    q->vn = base;
    return 0;
}

/* The one member of an arrayValue / mapValue object that matters ("values" / "fields"), the
 * others skipped; absent gives the empty array / map. */
static int wrapper(qd *q, fs_value *out, int depth, int is_map)
{
    *out = is_map ? fs_map() : fs_array();
    if (!eat(q, '{'))
        return -1;
    if (eat(q, '}'))
        return 0;
    int seen = 0;
    do {
        qd_str k;
        if (str_tok(q, &k) != 0 || !eat(q, ':'))
            return -1;
        if (is_map ? KEY(&k, "fields") : KEY(&k, "values")) {
            if (seen++ || (is_map ? fields(q, out, depth) : array_values(q, out, depth)) != 0)
                return -1;
        } else if (k.esc || skip(q, depth + 1) != 0) {
            return -1;
        }
    } while (eat(q, ','));
    return eat(q, '}') ? 0 : -1;
}

static int int_value(qd *q, fs_value *out)
{
    qd_str s;
    if (str_tok(q, &s) != 0 || s.esc || s.n == 0 || s.n > 20 ||
        !(s.p[0] == '-' || (s.p[0] >= '0' && s.p[0] <= '9')))
        return -1;
    char t[24];
    memcpy(t, s.p, s.n);
    t[s.n] = '\0';
    char *e;
    errno = 0;
    long long i = strtoll(t, &e, 10);
    if (errno || e != t + s.n)
        return -1;
    *out = fs_int(i);
    return 0;
}

static int double_value(qd *q, fs_value *out)
{
    ws(q);
    if (q->p < q->end && *q->p == '"') {
        qd_str s;
        if (str_tok(q, &s) != 0)
            return -1;
        if (KEY(&s, "NaN"))
            *out = fs_double(NAN);
        else if (KEY(&s, "Infinity"))
            *out = fs_double(INFINITY);
        else if (KEY(&s, "-Infinity"))
            *out = fs_double(-INFINITY);
        else
            return -1;
        return 0;
    }
    const char *b;
    size_t n;
    int is_int;
    char t[64];
    if (num_tok(q, &b, &n, &is_int) != 0 || n >= sizeof t)
        return -1;
    memcpy(t, b, n);
    t[n] = '\0';
    if (is_int) {
        /* json-c keeps an integer token as int64 and converts: the same for short ones */
        if (n - (b[0] == '-') > QD_DOUBLE_INT_DIGITS)
            return -1;
        *out = fs_double((double)strtoll(t, NULL, 10));
    } else {
        *out = fs_double(strtod(t, NULL));
    }
    return 0;
}

/* A Value object: exactly one member. */
static int value(qd *q, fs_value *out, int depth)
{
    *out = fs_null();
    if (depth > FS_VALUE_DEPTH_MAX || !eat(q, '{'))
        return -1;
    qd_str k, s;
    if (str_tok(q, &k) != 0 || k.esc || !eat(q, ':'))
        return -1;
    int r = -1;
    size_t n;
    const char *p;
    switch (k.n ? k.p[0] : 0) {
    case 'n':
        if (KEY(&k, "nullValue"))
            r = skip(q, depth + 1);
        break;
    case 'b':
        if (KEY(&k, "booleanValue")) {
            if (lit(q, "true", 4) == 0) {
                *out = fs_bool(1);
                r = 0;
            } else if (lit(q, "false", 5) == 0) {
                *out = fs_bool(0);
                r = 0;
            }
        }
        break;
    case 'i':
        if (KEY(&k, "integerValue"))
            r = int_value(q, out);
        break;
    case 'd':
        if (KEY(&k, "doubleValue"))
            r = double_value(q, out);
        break;
    case 't':
        if (KEY(&k, "timestampValue") && str_tok(q, &s) == 0 && !s.esc) {
            *out = fs_timestamp((fs_time){0, 0});
            r = fs_time_parse(s.p, s.n, &out->u.ts) == 0 ? 0 : -1;
        }
        break;
    case 's':
        if (KEY(&k, "stringValue") && str_tok(q, &s) == 0 && str_dup(q, &s, &p, &n) == 0) {
            *out = fs_strn(p, n);
            r = 0;
        }
        break;
    case 'r':
        if (KEY(&k, "referenceValue") && str_tok(q, &s) == 0 && str_dup(q, &s, &p, &n) == 0) {
            *out = fs_strn(p, n);
            out->type = FS_REF;
            r = 0;
        }
        break;
    case 'a':
        if (KEY(&k, "arrayValue"))
            r = wrapper(q, out, depth, 0);
        break;
    case 'm':
        if (KEY(&k, "mapValue"))
            r = wrapper(q, out, depth, 1);
        break;
    default:
        break;
    }
    return r == 0 && eat(q, '}') ? 0 : -1;
}

static int doc_time(qd *q, fs_time *out)
{
    qd_str s;
    if (str_tok(q, &s) != 0 || s.esc)
        return -1;
    return fs_time_parse(s.p, s.n, out);
}

/* A Document object. */
static int document(qd *q, fs_doc *d)
{
    memset(d, 0, sizeof *d);
    d->fields = fs_map();
    if (!eat(q, '{') || eat(q, '}'))
        return -1;
    unsigned seen = 0;
    size_t base = q->fn; /* the unknown members' keys */
    do {
        qd_str k, s;
        size_t n;
        unsigned bit;
        int r;
        if (str_tok(q, &k) != 0 || k.esc || !eat(q, ':')) {
            q->fn = base;
            return -1;
        }
        if (KEY(&k, "name")) {
            bit = 1;
            r = str_tok(q, &s) == 0 && str_dup(q, &s, &d->name, &n) == 0 ? 0 : -1;
        } else if (KEY(&k, "fields")) {
            bit = 2;
            r = fields(q, &d->fields, 0);
        } else if (KEY(&k, "createTime")) {
            bit = 4;
            r = doc_time(q, &d->create_time);
        } else if (KEY(&k, "updateTime")) {
            bit = 8;
            r = doc_time(q, &d->update_time);
        } else {
            bit = 0;
            r = key_once(q, base, k.p, k.n) == 0 ? skip(q, 2) : -1;
        }
        if (r != 0 || (seen & bit)) {
            q->fn = base;
            return -1;
        }
        seen |= bit;
    } while (eat(q, ','));
    q->fn = base;
    if (!eat(q, '}') || !(seen & 1))
        return -1;
    const char *slash = strrchr(d->name, '/');
    d->id = slash ? slash + 1 : d->name;
    return 0;
}

int fs_qdecode(arena_t *a, const char *p, size_t n, fs_doc **docs, size_t *ndocs)
{
    *docs = NULL;
    *ndocs = 0;
    if (!p)
        return -1;
    qd q = {.p = p, .end = p + n, .a = a};
    fs_doc *out = NULL;
    size_t got = 0, cap = 0;
    int r = -1;
    if (!eat(&q, '['))
        goto done;
    if (!eat(&q, ']')) {
        do {
            /* one RunQueryResponse: {"document": {...}, "readTime": ..., ...} */
            if (!eat(&q, '{'))
                goto done;
            int has_doc = 0;
            fs_doc d;
            if (!eat(&q, '}')) {
                /* the keys of the members other than "document" (readTime, ...), once each */
                q.fn = 0;
                do {
                    qd_str k;
                    if (str_tok(&q, &k) != 0 || k.esc || !eat(&q, ':') || KEY(&k, "error"))
                        goto done;
                    if (KEY(&k, "document")) {
                        if (has_doc++ || document(&q, &d) != 0)
                            goto done;
                    } else if (key_once(&q, 0, k.p, k.n) != 0 || skip(&q, 1) != 0) {
                        goto done;
                    }
                } while (eat(&q, ','));
                q.fn = 0;
                if (!eat(&q, '}'))
                    goto done;
            }
            if (!has_doc)
                continue;
            if (got == cap) {
                size_t nc = cap ? cap * 2 : QD_STACK_MIN;
                fs_doc *nd = realloc(out, nc * sizeof *nd);
                if (!nd)
                    goto done;
                out = nd;
                cap = nc;
            }
            out[got++] = d;
        } while (eat(&q, ','));
        if (!eat(&q, ']'))
            goto done;
    }
    ws(&q);
    if (q.p != q.end)
        goto done;
    if (got) {
        *docs = arena_alloc(a, got * sizeof **docs);
        if (!*docs)
            goto done;
        memcpy(*docs, out, got * sizeof **docs);
    }
    *ndocs = got;
    r = 0;
done:
    if (r != 0) {
        *docs = NULL;
        *ndocs = 0;
    }
    free(out);
    free(q.fs);
    free(q.vs);
    free(q.keys);
    return r;
}
