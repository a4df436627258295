/* Tests of core/fs_qdecode: the fast runQuery answer decoder gives exactly what the json-c decoder
 * gives whenever it takes an answer, and hands every unusual answer back to it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "firestore.h"
#include "fs_qdecode.h"
#include "unit.h"

#ifndef QD_TEST_MUTATED_ROUNDS
#define QD_TEST_MUTATED_ROUNDS 2000 /* x 10 mutations */
#endif

static const char clip_answer[] =
    "[{\"document\":{\"name\":\"projects/demo/databases/(default)/documents/users/u1/videos/v1/"
    "clips/"
    "clip_3_vertical\",\"fields\":{\"clip_id\":{\"stringValue\":\"clip_3_vertical\"},"
    "\"scene_id\":{\"integerValue\":\"3\"},\"scene_title\":{\"stringValue\":\"Caf\\u00e9 "
    "\\\"talk\\\" "
    "\\ud83d\\ude00\"},\"scene_description\":{\"nullValue\":null},\"duration_seconds\":"
    "{\"doubleValue\":28.5},\"whole\":{\"doubleValue\":30},\"nan\":{\"doubleValue\":\"NaN\"},"
    "\"has_thumbnail\":{\"booleanValue\":true},\"created_at\":{\"timestampValue\":"
    "\"2026-11-24T10:00:00.123456Z\"},\"tags\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"}"
    ","
    "{\"integerValue\":\"-7\"}]}},\"empty\":{\"arrayValue\":{}},\"stats\":{\"mapValue\":{"
    "\"fields\":"
    "{\"n\":{\"integerValue\":\"9223372036854775807\"}}}},\"ref\":{\"referenceValue\":"
    "\"projects/demo/databases/(default)/documents/a/b\"}},\"createTime\":"
    "\"2026-11-24T10:00:00.123456Z\",\"updateTime\":\"2026-11-24T10:00:01Z\"},"
    "\"readTime\":\"2026-11-24T10:00:02Z\"},\n"
    "  {\"document\": {\"name\": \"projects/demo/databases/(default)/documents/users/u1/videos/v1/"
    "clips/c2\", \"fields\": {}},\n   \"readTime\": \"2026-11-24T10:00:02Z\"}\n]\n";

static int docs_equal(const fs_doc *a, size_t na, const fs_doc *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i].name, b[i].name) != 0 || strcmp(a[i].id, b[i].id) != 0 ||
            a[i].create_time.seconds != b[i].create_time.seconds ||
            a[i].create_time.nanos != b[i].create_time.nanos ||
            a[i].update_time.seconds != b[i].update_time.seconds ||
            a[i].update_time.nanos != b[i].update_time.nanos ||
            !fs_value_equal(&a[i].fields, &b[i].fields))
            return 0;
        /* same order of fields too (json-c keeps insertion order) */
        for (size_t k = 0; k < a[i].fields.u.map.n; k++)
            if (strcmp(a[i].fields.u.map.fields[k].key, b[i].fields.u.map.fields[k].key) != 0)
                return 0;
    }
    return 1;
}

/* 1 taken and equal to json-c's, 0 handed back, -1 taken but different (a bug). */
static int compare(const char *text, size_t n)
{
    arena_t a;
    arena_init(&a, 0);
    fs_doc *fd, *jd;
    size_t fn, jn;
    char err[256];
    int r = 0;
    if (fs_qdecode(&a, text, n, &fd, &fn) == 0) {
        clip_err e = fs_decode_query_response_jsonc(&a, text, n, &jd, &jn, err, sizeof err);
        r = e == CLIP_OK && docs_equal(fd, fn, jd, jn) ? 1 : -1;
        if (r < 0)
            fprintf(stderr, "differs (json-c: %s) on: %.*s\n", e == CLIP_OK ? "ok" : err,
                    (int)(n > 400 ? 400 : n), text);
    }
    arena_free(&a);
    return r;
}

/* The documents of text, which the fast decoder takes as json-c does (NULL when it does not). */
static fs_doc *taken(arena_t *a, const char *text, size_t *n)
{
    fs_doc *d = NULL;
    CU_ASSERT_EQUAL(compare(text, strlen(text)), 1);
    arena_init(a, 0);
    if (fs_qdecode(a, text, strlen(text), &d, n) != 0)
        return NULL;
    return d;
}

static void test_clip_answer(void)
{
    arena_t a;
    size_t n;
    fs_doc *d = taken(&a, clip_answer, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    UNIT_ASSERT_STR(d[0].id, "clip_3_vertical");
    const char *s;
    int64_t i;
    double x;
    int b;
    CU_ASSERT_EQUAL(fs_get_str(&d[0].fields, "scene_title", &s), 0);
    UNIT_ASSERT_STR(s, "Caf\xc3\xa9 \"talk\" \xf0\x9f\x98\x80");
    CU_ASSERT_EQUAL(fs_get_str(&d[0].fields, "scene_description", &s), 0);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(fs_get_int(&d[0].fields, "scene_id", &i), 0);
    CU_ASSERT_EQUAL(i, 3);
    CU_ASSERT_EQUAL(fs_get_double(&d[0].fields, "duration_seconds", &x), 0);
    CU_ASSERT_EQUAL(x, 28.5);
    CU_ASSERT_EQUAL(fs_get_double(&d[0].fields, "whole", &x), 0);
    CU_ASSERT_EQUAL(x, 30.0);
    CU_ASSERT_TRUE(isnan(fs_map_get(&d[0].fields, "nan")->u.d));
    CU_ASSERT_EQUAL(fs_get_bool(&d[0].fields, "has_thumbnail", &b), 0);
    CU_ASSERT_EQUAL(b, 1);
    CU_ASSERT_EQUAL(d[0].create_time.nanos, 123456000);
    CU_ASSERT_EQUAL(d[0].update_time.nanos, 0);
    const fs_value *tags = fs_map_get(&d[0].fields, "tags");
    CU_ASSERT_EQUAL_FATAL(tags->type, FS_ARRAY);
    CU_ASSERT_EQUAL(tags->u.arr.n, 2);
    CU_ASSERT_EQUAL(tags->u.arr.items[1].u.i, -7);
    CU_ASSERT_EQUAL(fs_map_get(&d[0].fields, "empty")->u.arr.n, 0);
    CU_ASSERT_EQUAL(fs_map_get(fs_map_get(&d[0].fields, "stats"), "n")->u.i, INT64_MAX);
    CU_ASSERT_EQUAL(fs_map_get(&d[0].fields, "ref")->type, FS_REF);
    UNIT_ASSERT_STR(d[1].id, "c2");
    CU_ASSERT_EQUAL(d[1].fields.u.map.n, 0);
    arena_free(&a);
}

/* Answers the fast decoder hands back, with what the full path (fs_decode_query_response) then
 * says: the same as before there was a fast path. */
/* The documents of an answer share their field names' copies with the document before, and
 * skip the duplicate check while every name is the one before's at its position: a duplicate is
 * still refused, also when an earlier document had more fields (the second "y" of the third
 * document stands where the first document had a "y"). */
static void test_shared_keys(void)
{
#define QD_DOC(name, fields) "{\"document\":{\"name\":\"p/" name "\",\"fields\":{" fields "}}}"
#define QD_F(k) "\"" k "\":{\"integerValue\":\"1\"}"
    static const char ok[] = "[" QD_DOC("a", QD_F("x") "," QD_F("y")) "," QD_DOC(
        "b", QD_F("x") "," QD_F(
                 "y")) "," QD_DOC("c", QD_F("y")) "," QD_DOC("d", QD_F("y") "," QD_F("x")) "]";
    static const char dup_after_shorter[] = "[" QD_DOC("a", QD_F("x") "," QD_F("y")) "," QD_DOC(
        "b", QD_F("y")) "," QD_DOC("c", QD_F("y") "," QD_F("y")) "]";
    static const char dup_after_same[] =
        "[" QD_DOC("a", QD_F("x") "," QD_F("y")) "," QD_DOC("b", QD_F("x") "," QD_F("x")) "]";
#undef QD_F
#undef QD_DOC
    arena_t a;
    size_t n;
    fs_doc *d = taken(&a, ok, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_PTR_EQUAL(d[0].fields.u.map.fields[1].key, d[1].fields.u.map.fields[1].key);
    UNIT_ASSERT_STR(d[2].fields.u.map.fields[0].key, "y");
    UNIT_ASSERT_STR(d[3].fields.u.map.fields[1].key, "x");
    CU_ASSERT_EQUAL(fs_qdecode(&a, dup_after_shorter, strlen(dup_after_shorter), &d, &n), -1);
    CU_ASSERT_EQUAL(fs_qdecode(&a, dup_after_same, strlen(dup_after_same), &d, &n), -1);
    arena_free(&a);
}

static void test_handed_back(void)
{
    static const struct {
        const char *text;
        clip_err want;
    } cases[] = {
        {"[{\"error\":{\"code\":503,\"message\":\"down\",\"status\":\"UNAVAILABLE\"}}]",
         CLIP_EUNAVAILABLE},
        {"[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":{\"stringValue\":\"1\"},"
         "\"a\":{\"stringValue\":\"2\"}}}}]",
         CLIP_EBACKEND}, /* duplicate key: the strict reader refuses it */
        {"[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":{\"integerValue\":5}}}}]", CLIP_OK},
        {"[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":{\"bytesValue\":\"Zm9v\"}}}}]",
         CLIP_OK},
        {"[{\"document\":{\"name\":\"p/"
         "d\",\"fields\":{\"a\":{\"geoPointValue\":{\"latitude\":1}}}}}]",
         CLIP_OK},
        {"[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":{\"stringValue\":\"x\\u0000y\"}}}}]",
         CLIP_OK}, /* NUL inside */
        {"[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":{\"stringValue\":\"\xff\"}}}}]",
         CLIP_EBACKEND}, /* not UTF-8 */
        {"[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":{\"doubleValue\":1e999}}}}]", CLIP_OK},
        {"[{\"document\":{\"name\":\"p/"
         "d\",\"fields\":{\"a\":{\"stringValue\":\"x\",\"nullValue\":null}}}}]",
         CLIP_EBACKEND}, /* two kinds */
        {"[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":{\"fooValue\":1}}}}]", CLIP_EBACKEND},
        {"[{\"document\":{\"fields\":{}}}]", CLIP_EBACKEND},      /* no name */
        {"[{\"document\":{\"name\":\"p/d\"}}] x", CLIP_EBACKEND}, /* trailing bytes */
        {"[{\"document\":{\"name\":\"p/d\",}}]", CLIP_EBACKEND},  /* a trailing comma */
        {"[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":{\"stringValue\":\"\\ud800\"}}}}]",
         CLIP_EBACKEND}, /* a lone surrogate escape */
        {"{}", CLIP_EBACKEND},
        {"", CLIP_EBACKEND},
        /* a duplicate key inside a member neither decoder keeps: refused by both */
        {"[{\"document\":{\"name\":\"p/d\",\"fiel\":{\"a\":1,\"b\":[],\"a\":2}}}]",
         CLIP_EBACKEND},
        {"[{\"document\":{\"name\":\"p/d\",\"fiel\":{\"a\":1,\"\\u0061\":2}}}]",
         CLIP_EBACKEND}, /* the same key, once escaped */
        {"[{\"readTime\":\"t\",\"x\":{\"k\":{\"k\":1,\"j\":{\"k\":1,\"k\":1}}}}]",
         CLIP_EBACKEND}, /* deeper, the same key at other levels is no duplicate */
        {"[{\"document\":{\"name\":\"p/d\",\"x\":1,\"x\":[]}}]", CLIP_EBACKEND},
        {"[{\"readTime\":\"t\",\"skippedResults\":1,\"readTime\":\"t\"}]", CLIP_EBACKEND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena_t a;
        arena_init(&a, 0);
        fs_doc *d;
        size_t n;
        char err[256] = "";
        size_t len = strlen(cases[i].text);
        CU_ASSERT_EQUAL(fs_qdecode(&a, cases[i].text, len, &d, &n), -1);
        clip_err e = fs_decode_query_response(&a, cases[i].text, len, &d, &n, err, sizeof err);
        if (e != cases[i].want)
            fprintf(stderr, "case %zu: %s (%s)\n", i, clip_err_code(e), err);
        CU_ASSERT_EQUAL(e, cases[i].want);
        arena_free(&a);
    }
    /* nested 21 deep: over FS_VALUE_DEPTH_MAX for both */
    buf_t b = BUF_INIT;
    buf_puts(&b, "[{\"document\":{\"name\":\"p/d\",\"fields\":{\"a\":");
    for (int i = 0; i < 21; i++)
        buf_puts(&b, "{\"mapValue\":{\"fields\":{\"a\":");
    buf_puts(&b, "{\"nullValue\":null}");
    for (int i = 0; i < 21; i++)
        buf_puts(&b, "}}}");
    buf_puts(&b, "}}}]");
    CU_ASSERT_EQUAL(compare(b.p, b.len), 0);
    buf_free(&b);
    /* distinct keys in skipped members, the same names at other levels: taken, as json-c does */
    static const char skipped[] =
        "[{\"document\":{\"name\":\"p/d\",\"fiel\":{\"a\":{\"a\":1},\"\\u0062\":2,\"b2\":3}},"
        "\"x\":{\"k\":{\"k\":[{\"k\":1,\"j\":2}]}}}]";
    CU_ASSERT_EQUAL(compare(skipped, strlen(skipped)), 1);
}

/* ---- generated answers ------------------------------------------------------------------------
 */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *rnd_text(arena_t *a)
{
    static const char *const bits[] = {"a",
                                       "Z",
                                       "0",
                                       " ",
                                       "\"",
                                       "\\",
                                       "/",
                                       "\n",
                                       "\t",
                                       "\x01",
                                       "\x1f",
                                       "\xc3\xa9",
                                       "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80",
                                       "clip_",
                                       "vertical",
                                       ".mp4",
                                       "'",
                                       "{",
                                       "]"};
    buf_t b = BUF_INIT;
    int n = (int)rnd(24);
    for (int i = 0; i < n; i++)
        buf_puts(&b, bits[rnd(sizeof bits / sizeof bits[0])]);
    const char *s = arena_strndup(a, b.p ? b.p : "", b.len);
    buf_free(&b);
    return s;
}

static fs_value rnd_value(arena_t *a, int depth)
{
    switch (rnd(depth < 3 ? 11 : 9)) {
    case 0:
        return fs_null();
    case 1:
        return fs_bool((int)rnd(2));
    case 2:
        return fs_int((int64_t)(rng >> rnd(64)) * (rnd(2) ? 1 : -1));
    case 3:
        return fs_double((double)(int64_t)(rng >> 20) / (double)(1 + rnd(1000)));
    case 4:
        return fs_double(rnd(2) ? 28.5 : (double)rnd(100000));
    case 5:
        return fs_timestamp((fs_time){(int64_t)rnd(2000000000), (int32_t)rnd(1000000000)});
    case 6:
    case 7:
        return fs_str(rnd_text(a));
    case 8: {
        fs_value v = fs_str(rnd_text(a));
        v.type = FS_REF;
        return v;
    }
    case 9: {
        fs_value v = fs_array();
        int n = (int)rnd(4);
        for (int i = 0; i < n; i++) {
            fs_value x = rnd_value(a, depth + 1);
            if (x.type != FS_ARRAY)
                fs_array_push(a, &v, x);
        }
        return v;
    }
    default: {
        fs_value v = fs_map();
        int n = (int)rnd(4);
        for (int i = 0; i < n; i++)
            fs_map_put(a, &v, rnd_text(a), rnd_value(a, depth + 1));
        return v;
    }
    }
}

/* A runQuery answer of n random documents, compact or pretty. */
static void rnd_answer(arena_t *a, buf_t *b, int n)
{
    int pretty = (int)rnd(2);
    buf_puts(b, pretty ? "[\n  " : "[");
    for (int i = 0; i < n; i++) {
        if (i)
            buf_puts(b, pretty ? ",\n  " : ",");
        buf_printf(b,
                   "{\"document\":%s{\"name\":\"projects/p/databases/(default)/documents/c/d%d\","
                   "%s\"fields\":",
                   pretty ? " " : "", i, pretty ? "\n    " : "");
        fs_value m = fs_map();
        int nf = (int)rnd(8);
        for (int k = 0; k < nf; k++)
            fs_map_put(a, &m, rnd_text(a), rnd_value(a, 0));
        fs_fields_encode(b, &m);
        buf_puts(
            b,
            ",\"createTime\":\"2026-11-24T10:00:00.5Z\",\"updateTime\":\"2026-11-24T10:00:00Z\"}");
        buf_puts(b, pretty ? ",\n    \"readTime\": \"2026-11-24T10:00:00Z\"}"
                           : ",\"readTime\":\"2026-11-24T10:00:00Z\"}");
    }
    if (n == 0)
        buf_puts(b, "{\"readTime\":\"2026-11-24T10:00:00Z\"}");
    buf_puts(b, pretty ? "\n]\n" : "]");
}

static void test_generated(void)
{
    int taken = 0;
    for (int round = 0; round < 300; round++) {
        arena_t a;
        arena_init(&a, 0);
        buf_t b = BUF_INIT;
        rnd_answer(&a, &b, (int)rnd(5));
        int r = compare(b.p, b.len);
        CU_ASSERT_EQUAL(r, 1);
        taken += r == 1;
        buf_free(&b);
        arena_free(&a);
    }
    CU_ASSERT_EQUAL(taken, 300);
}

/* Broken variants of generated answers: whatever the fast decoder takes, json-c reads the same. */
static void test_mutated(void)
{
    static const char subst[] = "\"\\{}[],:0-.e \x01\xff\xc3nu";
    int taken = 0, total = 0;
    for (int round = 0; round < QD_TEST_MUTATED_ROUNDS; round++) {
        arena_t a;
        arena_init(&a, 0);
        buf_t b = BUF_INIT;
        rnd_answer(&a, &b, 1 + (int)rnd(3));
        for (int m = 0; m < 10; m++) {
            buf_t c = BUF_INIT;
            buf_append(&c, b.p, b.len);
            size_t at = rnd((uint32_t)c.len);
            switch (rnd(3)) {
            case 0:
                c.p[at] = subst[rnd(sizeof subst - 1)];
                break;
            case 1:
                memmove(c.p + at, c.p + at + 1, c.len - at - 1);
                c.len--;
                break;
            default:
                c.len = at;
                break;
            }
            int r = compare(c.p, c.len);
            CU_ASSERT_NOT_EQUAL(r, -1);
            taken += r == 1;
            total++;
            buf_free(&c);
        }
        buf_free(&b);
        arena_free(&a);
    }
    fprintf(stderr, "mutated answers: %d of %d taken by the fast decoder\n", taken, total);
    CU_ASSERT_TRUE(taken > 0);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_clip_answer), UNIT_TEST(test_shared_keys),
                           UNIT_TEST(test_handed_back), UNIT_TEST(test_generated),
                           UNIT_TEST(test_mutated),     CU_TEST_INFO_NULL};
    return unit_run("fs_qdecode", tests, NULL, NULL);
}
