/* fs_value: the Firestore Value codec (REST JSON <-> C), timestamps, field paths. */
#include "fs_value.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

fs_value fs_null(void)
{
    fs_value v;
    memset(&v, 0, sizeof v);
    v.type = FS_NULL;
    return v;
}

fs_value fs_bool(int b)
{
    fs_value v = fs_null();
    v.type = FS_BOOL;
    v.u.b = b ? 1 : 0;
    return v;
}

fs_value fs_int(int64_t i)
{
    fs_value v = fs_null();
    v.type = FS_INT;
    v.u.i = i;
    return v;
}

fs_value fs_double(double d)
{
    fs_value v = fs_null();
    v.type = FS_DOUBLE;
    v.u.d = d;
    return v;
}

fs_value fs_timestamp(fs_time t)
{
    fs_value v = fs_null();
    v.type = FS_TIMESTAMP;
    v.u.ts = t;
    return v;
}

fs_value fs_strn(const char *s, size_t n)
{
    fs_value v = fs_null();
    if (!s)
        return v;
    v.type = FS_STRING;
    v.u.s.p = s;
    v.u.s.n = n;
    return v;
}

fs_value fs_str(const char *s)
{
    return s ? fs_strn(s, strlen(s)) : fs_null();
}

fs_value fs_bytes(const void *p, size_t n)
{
    fs_value v = fs_null();
    v.type = FS_BYTES;
    v.u.s.p = p ? p : "";
    v.u.s.n = p ? n : 0;
    return v;
}

fs_value fs_ref(const char *name)
{
    fs_value v = fs_str(name);
    if (name)
        v.type = FS_REF;
    return v;
}

fs_value fs_geo(double lat, double lng)
{
    fs_value v = fs_null();
    v.type = FS_GEO;
    v.u.geo.lat = lat;
    v.u.geo.lng = lng;
    return v;
}

fs_value fs_array(void)
{
    fs_value v = fs_null();
    v.type = FS_ARRAY;
    return v;
}

fs_value fs_map(void)
{
    fs_value v = fs_null();
    v.type = FS_MAP;
    return v;
}

/* Grows an arena array of elem-sized items to hold one more. */
static void *grow(arena_t *a, void *items, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = arena_calloc(a, ncap, elem);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, items, n * elem);
    *cap = ncap;
    return p;
}

int fs_array_push(arena_t *a, fs_value *arr, fs_value v)
{
    if (arr->type != FS_ARRAY)
        return -1;
    fs_value *items = grow(a, arr->u.arr.items, arr->u.arr.n, &arr->u.arr.cap, sizeof *items);
    if (!items)
        return -1;
    arr->u.arr.items = items;
    items[arr->u.arr.n++] = v;
    return 0;
}

int fs_map_putn(arena_t *a, fs_value *map, const char *key, size_t key_len, fs_value v)
{
    if (map->type != FS_MAP || !key)
        return -1;
    for (size_t i = 0; i < map->u.map.n; i++) {
        fs_field *f = &map->u.map.fields[i];
        if (f->key_len == key_len && memcmp(f->key, key, key_len) == 0) {
            f->value = v;
            return 0;
        }
    }
    fs_field *fields = grow(a, map->u.map.fields, map->u.map.n, &map->u.map.cap, sizeof *fields);
    if (!fields)
        return -1;
    map->u.map.fields = fields;
    fs_field *f = &fields[map->u.map.n++];
    f->key = key;
    f->key_len = key_len;
    f->value = v;
    return 0;
}

int fs_map_put(arena_t *a, fs_value *map, const char *key, fs_value v)
{
    return key ? fs_map_putn(a, map, key, strlen(key), v) : -1;
}

const fs_value *fs_map_get(const fs_value *map, const char *key)
{
    if (!map || map->type != FS_MAP || !key)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < map->u.map.n; i++) {
        const fs_field *f = &map->u.map.fields[i];
        if (f->key_len == kl && memcmp(f->key, key, kl) == 0)
            return &f->value;
    }
    return NULL;
}

const char *fs_get_str_or(const fs_value *map, const char *key, const char *dflt)
{
    const char *s = NULL;
    return fs_get_str(map, key, &s) == 0 && s ? s : dflt;
}

int fs_get_str(const fs_value *map, const char *key, const char **out)
{
    const fs_value *v = fs_map_get(map, key);
    if (v && v->type == FS_NULL) {
        *out = NULL;
        return 0;
    }
    if (!v || v->type != FS_STRING)
        return -1;
    *out = v->u.s.p;
    return 0;
}

int fs_get_int(const fs_value *map, const char *key, int64_t *out)
{
    const fs_value *v = fs_map_get(map, key);
    if (!v || v->type != FS_INT)
        return -1;
    *out = v->u.i;
    return 0;
}

int fs_get_double(const fs_value *map, const char *key, double *out)
{
    const fs_value *v = fs_map_get(map, key);
    if (v && v->type == FS_DOUBLE) {
        *out = v->u.d;
        return 0;
    }
    if (v && v->type == FS_INT) {
        *out = (double)v->u.i;
        return 0;
    }
    return -1;
}

int fs_get_bool(const fs_value *map, const char *key, int *out)
{
    const fs_value *v = fs_map_get(map, key);
    if (!v || v->type != FS_BOOL)
        return -1;
    *out = v->u.b;
    return 0;
}

int fs_get_time(const fs_value *map, const char *key, fs_time *out)
{
    const fs_value *v = fs_map_get(map, key);
    if (!v || v->type != FS_TIMESTAMP)
        return -1;
    *out = v->u.ts;
    return 0;
}

int fs_value_equal(const fs_value *a, const fs_value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case FS_NULL:
        return 1;
    case FS_BOOL:
        return a->u.b == b->u.b;
    case FS_INT:
        return a->u.i == b->u.i;
    case FS_DOUBLE:
        return (isnan(a->u.d) && isnan(b->u.d)) || a->u.d == b->u.d;
    case FS_TIMESTAMP:
        return a->u.ts.seconds == b->u.ts.seconds && a->u.ts.nanos == b->u.ts.nanos;
    case FS_STRING:
    case FS_BYTES:
    case FS_REF:
        return a->u.s.n == b->u.s.n && (a->u.s.n == 0 || memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0);
    case FS_GEO:
        return a->u.geo.lat == b->u.geo.lat && a->u.geo.lng == b->u.geo.lng;
    case FS_ARRAY:
        if (a->u.arr.n != b->u.arr.n)
            return 0;
        for (size_t i = 0; i < a->u.arr.n; i++)
            if (!fs_value_equal(&a->u.arr.items[i], &b->u.arr.items[i]))
                return 0;
        return 1;
    case FS_MAP:
        if (a->u.map.n != b->u.map.n)
            return 0;
        for (size_t i = 0; i < a->u.map.n; i++) {
            const fs_field *f = &a->u.map.fields[i];
            const fs_value *o = NULL;
            for (size_t j = 0; j < b->u.map.n; j++) {
                const fs_field *g = &b->u.map.fields[j];
                if (g->key_len == f->key_len && memcmp(g->key, f->key, f->key_len) == 0) {
                    o = &g->value;
                    break;
                }
            }
            if (!o || !fs_value_equal(&f->value, o))
                return 0;
        }
        return 1;
    }
    return 0;
}

/* ---- time ------------------------------------------------------------------------------------ */

/* Firestore's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
#define FS_TIME_MIN_SECONDS (-62135596800LL)
#define FS_TIME_MAX_SECONDS 253402300799LL

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    if (at + count > n)
        return -1;
    int v = 0;
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

int fs_time_parse(const char *s, size_t n, fs_time *out)
{
    int Y, M, D, h, mi, sec;
    if (!s || n < 20 || digits(s, n, 0, 4, &Y) || s[4] != '-' || digits(s, n, 5, 2, &M) ||
        s[7] != '-' || digits(s, n, 8, 2, &D) || (s[10] != 'T' && s[10] != 't') ||
        digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' ||
        digits(s, n, 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (D > mdays[M - 1])
        return -1;
    size_t i = 19;
    int32_t nanos = 0;
    if (i < n && s[i] == '.') {
        i++;
        size_t nd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd >= 9)
                return -1;
            nanos = nanos * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0)
            return -1;
        for (; nd < 9; nd++)
            nanos *= 10;
    }
    int64_t offset = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
            digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return -1;
    }
    if (i != n)
        return -1;
    if (sec == 60)
        sec = 59; /* a leap second is smeared into the one before, as Google does */
    int64_t secs =
        days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec - offset;
    if (secs < FS_TIME_MIN_SECONDS || secs > FS_TIME_MAX_SECONDS)
        return -1;
    out->seconds = secs;
    out->nanos = nanos;
    return 0;
}

static int time_format(fs_time t, char out[FS_TIME_TEXT_MAX], int with_fraction)
{
    if (t.nanos < 0 || t.nanos > 999999999)
        return -1;
    int64_t days = t.seconds / 86400;
    int64_t rem = t.seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return -1;
    int len = snprintf(out, FS_TIME_TEXT_MAX, "%04d-%02u-%02uT%02d:%02d:%02d", (int)y, m, d,
                       (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (with_fraction && t.nanos) {
        if (t.nanos % 1000000 == 0)
            len +=
                snprintf(out + len, (size_t)(FS_TIME_TEXT_MAX - len), ".%03d", t.nanos / 1000000);
        else if (t.nanos % 1000 == 0)
            len += snprintf(out + len, (size_t)(FS_TIME_TEXT_MAX - len), ".%06d", t.nanos / 1000);
        else
            len += snprintf(out + len, (size_t)(FS_TIME_TEXT_MAX - len), ".%09d", t.nanos);
    }
    snprintf(out + len, (size_t)(FS_TIME_TEXT_MAX - len), "Z");
    return 0;
}

int fs_time_format(fs_time t, char out[FS_TIME_TEXT_MAX])
{
    return time_format(t, out, 1);
}

int fs_time_format_seconds(fs_time t, char out[FS_TIME_TEXT_MAX])
{
    return time_format(t, out, 0);
}

/* ---- decode ---------------------------------------------------------------------------------- */

/* Text is valid UTF-8 on the wire; anything else is a broken answer, refused (NULL, *n = 0)
 * rather than passed on to JSON output. */
static const char *dup_str(arena_t *a, json_object *j, size_t *n)
{
    *n = (size_t)json_object_get_string_len(j);
    const char *s = json_object_get_string(j);
    if (!codec_utf8_valid(s, *n)) {
        *n = 0;
        return NULL;
    }
    return arena_strndup(a, s, *n);
}

static clip_err value_decode(arena_t *a, json_object *v, fs_value *out, int depth, char *err,
                             size_t errlen);

static clip_err fields_decode(arena_t *a, json_object *fields, fs_value *out, int depth, char *err,
                              size_t errlen)
{
    *out = fs_map();
    if (!fields || json_object_is_type(fields, json_type_null))
        return CLIP_OK;
    if (!json_object_is_type(fields, json_type_object))
        return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: fields is not an object");
    int n = json_object_object_length(fields);
    if (n > 0) {
        out->u.map.fields = arena_calloc(a, (size_t)n, sizeof(fs_field));
        if (!out->u.map.fields)
            return clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
        out->u.map.cap = (size_t)n;
    }
    json_object_object_foreach(fields, key, val)
    {
        if (out->u.map.n >= out->u.map.cap)
            break;
        fs_field *f = &out->u.map.fields[out->u.map.n];
        /* json-c keys are NUL-terminated; a key with an embedded NUL is cut there (Firestore
         * field names cannot hold one in practice). */
        f->key_len = strlen(key);
        if (!codec_utf8_valid(key, f->key_len))
            return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: field name is not UTF-8");
        f->key = arena_strndup(a, key, f->key_len);
        if (!f->key)
            return clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
        clip_err e = value_decode(a, val, &f->value, depth + 1, err, errlen);
        if (e != CLIP_OK)
            return e;
        out->u.map.n++;
    }
    return CLIP_OK;
}

static clip_err bad(char *err, size_t errlen, const char *what)
{
    return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: bad %s in a Value", what);
}

static clip_err value_decode(arena_t *a, json_object *v, fs_value *out, int depth, char *err,
                             size_t errlen)
{
    *out = fs_null();
    if (depth > FS_VALUE_DEPTH_MAX)
        return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: Value nested over %d deep",
                         FS_VALUE_DEPTH_MAX);
    if (!v || !json_object_is_type(v, json_type_object) || json_object_object_length(v) != 1)
        return bad(err, errlen, "shape");
    struct json_object_iterator it = json_object_iter_begin(v);
    const char *k = json_object_iter_peek_name(&it);
    json_object *x = json_object_iter_peek_value(&it);
    json_type t = json_object_get_type(x);
    size_t n;
    switch (k[0]) {
    case 'n':
        if (strcmp(k, "nullValue") != 0)
            break;
        return CLIP_OK; /* null or "NULL_VALUE" or 0: all mean null */
    case 'b':
        if (strcmp(k, "booleanValue") == 0) {
            if (t != json_type_boolean)
                return bad(err, errlen, "booleanValue");
            *out = fs_bool(json_object_get_boolean(x));
            return CLIP_OK;
        }
        if (strcmp(k, "bytesValue") == 0) {
            if (t != json_type_string)
                return bad(err, errlen, "bytesValue");
            buf_t b = BUF_INIT;
            const char *s = json_object_get_string(x);
            size_t sl = (size_t)json_object_get_string_len(x);
            /* Google sends standard base64; accept the url alphabet too. */
            if (codec_base64_decode_buf(CODEC_B64, s, sl, &b) != 0) {
                buf_reset(&b);
                if (codec_base64_decode_buf(CODEC_B64URL, s, sl, &b) != 0) {
                    buf_free(&b);
                    return bad(err, errlen, "bytesValue");
                }
            }
            char *p = arena_strndup(a, b.p ? b.p : "", b.len);
            size_t bl = b.len;
            buf_free(&b);
            if (!p)
                return clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
            *out = fs_bytes(p, bl);
            return CLIP_OK;
        }
        break;
    case 'i':
        if (strcmp(k, "integerValue") != 0)
            break;
        if (t == json_type_int) {
            errno = 0;
            int64_t i = json_object_get_int64(x);
            if (errno)
                return bad(err, errlen, "integerValue");
            *out = fs_int(i);
            return CLIP_OK;
        }
        if (t == json_type_string) {
            const char *s = json_object_get_string(x);
            size_t sl = (size_t)json_object_get_string_len(x);
            char *end = NULL;
            if (sl == 0 || sl > 20 || strlen(s) != sl)
                return bad(err, errlen, "integerValue");
            errno = 0;
            long long i = strtoll(s, &end, 10);
            if (errno || end != s + sl || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
                return bad(err, errlen, "integerValue");
            *out = fs_int(i);
            return CLIP_OK;
        }
        return bad(err, errlen, "integerValue");
    case 'd':
        if (strcmp(k, "doubleValue") != 0)
            break;
        if (t == json_type_double || t == json_type_int) {
            *out = fs_double(json_object_get_double(x));
            return CLIP_OK;
        }
        if (t == json_type_string) {
            const char *s = json_object_get_string(x);
            if (strcmp(s, "NaN") == 0)
                *out = fs_double(NAN);
            else if (strcmp(s, "Infinity") == 0)
                *out = fs_double(INFINITY);
            else if (strcmp(s, "-Infinity") == 0)
                *out = fs_double(-INFINITY);
            else
                return bad(err, errlen, "doubleValue");
            return CLIP_OK;
        }
        return bad(err, errlen, "doubleValue");
    case 't':
        if (strcmp(k, "timestampValue") != 0)
            break;
        if (t != json_type_string)
            return bad(err, errlen, "timestampValue");
        *out = fs_timestamp((fs_time){0, 0});
        if (fs_time_parse(json_object_get_string(x), (size_t)json_object_get_string_len(x),
                          &out->u.ts) != 0)
            return bad(err, errlen, "timestampValue");
        return CLIP_OK;
    case 's':
        if (strcmp(k, "stringValue") != 0)
            break;
        if (t != json_type_string)
            return bad(err, errlen, "stringValue");
        {
            const char *p = dup_str(a, x, &n);
            if (!p)
                return bad(err, errlen, "stringValue (not UTF-8, or out of memory)");
            *out = fs_strn(p, n);
        }
        return CLIP_OK;
    case 'r':
        if (strcmp(k, "referenceValue") != 0)
            break;
        if (t != json_type_string)
            return bad(err, errlen, "referenceValue");
        {
            const char *p = dup_str(a, x, &n);
            if (!p)
                return bad(err, errlen, "referenceValue");
            *out = fs_strn(p, n);
            out->type = FS_REF;
        }
        return CLIP_OK;
    case 'g':
        if (strcmp(k, "geoPointValue") != 0)
            break;
        if (t != json_type_object)
            return bad(err, errlen, "geoPointValue");
        {
            json_object *lat = NULL, *lng = NULL;
            json_object_object_get_ex(x, "latitude", &lat);
            json_object_object_get_ex(x, "longitude", &lng);
            /* proto3 JSON leaves zero values out */
            double la = lat ? json_object_get_double(lat) : 0.0;
            double lo = lng ? json_object_get_double(lng) : 0.0;
            if ((lat && !json_object_is_type(lat, json_type_double) &&
                 !json_object_is_type(lat, json_type_int)) ||
                (lng && !json_object_is_type(lng, json_type_double) &&
                 !json_object_is_type(lng, json_type_int)) ||
                !(la >= -90 && la <= 90) || !(lo >= -180 && lo <= 180))
                return bad(err, errlen, "geoPointValue");
            *out = fs_geo(la, lo);
        }
        return CLIP_OK;
    case 'a':
        if (strcmp(k, "arrayValue") != 0)
            break;
        if (t != json_type_object)
            return bad(err, errlen, "arrayValue");
        {
            *out = fs_array();
            json_object *vals = NULL;
            if (!json_object_object_get_ex(x, "values", &vals) ||
                json_object_is_type(vals, json_type_null))
                return CLIP_OK;
            if (!json_object_is_type(vals, json_type_array))
                return bad(err, errlen, "arrayValue");
            size_t len = json_object_array_length(vals);
            if (len) {
                out->u.arr.items = arena_calloc(a, len, sizeof(fs_value));
                if (!out->u.arr.items)
                    return clip_fail(CLIP_ENOMEM, err, errlen, "firestore: out of memory");
                out->u.arr.cap = len;
            }
            for (size_t i = 0; i < len; i++) {
                clip_err e = value_decode(a, json_object_array_get_idx(vals, i),
                                          &out->u.arr.items[i], depth + 1, err, errlen);
                if (e != CLIP_OK)
                    return e;
                out->u.arr.n++;
            }
        }
        return CLIP_OK;
    case 'm':
        if (strcmp(k, "mapValue") != 0)
            break;
        if (t != json_type_object)
            return bad(err, errlen, "mapValue");
        {
            json_object *fields = NULL;
            json_object_object_get_ex(x, "fields", &fields);
            return fields_decode(a, fields, out, depth, err, errlen);
        }
    default:
        break;
    }
    return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: unknown Value kind");
}

clip_err fs_value_decode(arena_t *a, json_object *v, fs_value *out, char *err, size_t errlen)
{
    return value_decode(a, v, out, 0, err, errlen);
}

clip_err fs_fields_decode(arena_t *a, json_object *fields, fs_value *out, char *err, size_t errlen)
{
    return fields_decode(a, fields, out, 0, err, errlen);
}

int fs_time_member(json_object *doc, const char *key, fs_time *out)
{
    json_object *t = NULL;
    out->seconds = 0;
    out->nanos = 0;
    if (!json_object_object_get_ex(doc, key, &t))
        return 0;
    if (!json_object_is_type(t, json_type_string))
        return -1;
    return fs_time_parse(json_object_get_string(t), (size_t)json_object_get_string_len(t), out);
}

clip_err fs_doc_decode(arena_t *a, json_object *doc, fs_doc *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->fields = fs_map();
    json_object *name = NULL, *fields = NULL;
    if (!json_object_is_type(doc, json_type_object) ||
        !json_object_object_get_ex(doc, "name", &name) ||
        !json_object_is_type(name, json_type_string))
        return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: document without a name");
    size_t n;
    out->name = dup_str(a, name, &n);
    if (!out->name)
        return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: bad document name");
    const char *slash = strrchr(out->name, '/');
    out->id = slash ? slash + 1 : out->name;
    if (fs_time_member(doc, "createTime", &out->create_time) != 0 ||
        fs_time_member(doc, "updateTime", &out->update_time) != 0)
        return clip_fail(CLIP_EBACKEND, err, errlen, "firestore: bad document time");
    json_object_object_get_ex(doc, "fields", &fields);
    return fields_decode(a, fields, &out->fields, 0, err, errlen);
}

/* ---- encode ---------------------------------------------------------------------------------- */

/* Shortest "%.Ng" that reads back to the same double. */
static int put_double(buf_t *b, double d)
{
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return buf_puts(b, tmp);
}

static int value_encode(buf_t *b, const fs_value *v, int depth)
{
    char tb[FS_TIME_TEXT_MAX];
    if (depth > FS_VALUE_DEPTH_MAX)
        return -1;
    switch (v->type) {
    case FS_NULL:
        return buf_puts(b, "{\"nullValue\":null}");
    case FS_BOOL:
        return buf_puts(b, v->u.b ? "{\"booleanValue\":true}" : "{\"booleanValue\":false}");
    case FS_INT:
        return buf_printf(b, "{\"integerValue\":\"%" PRId64 "\"}", v->u.i);
    case FS_DOUBLE:
        if (isnan(v->u.d))
            return buf_puts(b, "{\"doubleValue\":\"NaN\"}");
        if (isinf(v->u.d))
            return buf_puts(b, v->u.d > 0 ? "{\"doubleValue\":\"Infinity\"}"
                                          : "{\"doubleValue\":\"-Infinity\"}");
        buf_puts(b, "{\"doubleValue\":");
        put_double(b, v->u.d);
        return buf_putc(b, '}');
    case FS_TIMESTAMP:
        if (fs_time_format(v->u.ts, tb) != 0)
            return -1;
        return buf_printf(b, "{\"timestampValue\":\"%s\"}", tb);
    case FS_STRING:
        buf_puts(b, "{\"stringValue\":");
        buf_json_str(b, v->u.s.p, v->u.s.n);
        return buf_putc(b, '}');
    case FS_REF:
        buf_puts(b, "{\"referenceValue\":");
        buf_json_str(b, v->u.s.p, v->u.s.n);
        return buf_putc(b, '}');
    case FS_BYTES:
        buf_puts(b, "{\"bytesValue\":\"");
        codec_base64_encode(b, v->u.s.p, v->u.s.n);
        return buf_puts(b, "\"}");
    case FS_GEO:
        if (!isfinite(v->u.geo.lat) || !isfinite(v->u.geo.lng))
            return -1;
        buf_puts(b, "{\"geoPointValue\":{\"latitude\":");
        put_double(b, v->u.geo.lat);
        buf_puts(b, ",\"longitude\":");
        put_double(b, v->u.geo.lng);
        return buf_puts(b, "}}");
    case FS_ARRAY:
        buf_puts(b, "{\"arrayValue\":{\"values\":[");
        for (size_t i = 0; i < v->u.arr.n; i++) {
            if (i)
                buf_putc(b, ',');
            if (value_encode(b, &v->u.arr.items[i], depth + 1) != 0)
                return -1;
        }
        return buf_puts(b, "]}}");
    case FS_MAP:
        buf_puts(b, "{\"mapValue\":{\"fields\":{");
        for (size_t i = 0; i < v->u.map.n; i++) {
            const fs_field *f = &v->u.map.fields[i];
            if (i)
                buf_putc(b, ',');
            buf_json_str(b, f->key, f->key_len);
            buf_putc(b, ':');
            if (value_encode(b, &f->value, depth + 1) != 0)
                return -1;
        }
        return buf_puts(b, "}}}");
    }
    return -1;
}

int fs_value_encode(buf_t *b, const fs_value *v)
{
    int r = value_encode(b, v, 0);
    return (r != 0 || b->oom) ? -1 : 0;
}

int fs_fields_encode(buf_t *b, const fs_value *map)
{
    if (map->type != FS_MAP)
        return -1;
    buf_putc(b, '{');
    for (size_t i = 0; i < map->u.map.n; i++) {
        const fs_field *f = &map->u.map.fields[i];
        if (i)
            buf_putc(b, ',');
        buf_json_str(b, f->key, f->key_len);
        buf_putc(b, ':');
        if (value_encode(b, &f->value, 1) != 0)
            return -1;
    }
    buf_putc(b, '}');
    return b->oom ? -1 : 0;
}

int fs_field_path_segment(buf_t *b, const char *seg, size_t n)
{
    int simple = n > 0;
    for (size_t i = 0; i < n && simple; i++) {
        char c = seg[i];
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        simple = alpha || (i > 0 && c >= '0' && c <= '9');
    }
    if (simple)
        return buf_append(b, seg, n);
    buf_putc(b, '`');
    for (size_t i = 0; i < n; i++) {
        if (seg[i] == '`' || seg[i] == '\\')
            buf_putc(b, '\\');
        buf_putc(b, seg[i]);
    }
    return buf_putc(b, '`');
}
