/* Tests of core/fs_value: the Firestore Value codec, timestamps and field paths. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fs_value.h"
#include "tjson.h"
#include "unit.h"

/* Decodes a Value from JSON text, re-encodes it and returns the text (arena copy). */
static const char *round_trip(arena_t *a, const char *json, fs_value *out)
{
    json_object *j = tj_parse(json);
    char err[256] = "";
    fs_value v;
    clip_err e = fs_value_decode(a, j, &v, err, sizeof err);
    json_object_put(j);
    if (e != CLIP_OK) {
        fprintf(stderr, "decode %s: %s\n", json, err);
        return NULL;
    }
    if (out)
        *out = v;
    buf_t b = BUF_INIT;
    if (fs_value_encode(&b, &v) != 0) {
        buf_free(&b);
        return NULL;
    }
    const char *s = arena_strndup(a, b.p, b.len);
    buf_free(&b);
    return s;
}

/* json-c's own parser here, not the strict reader: the invalid UTF-8 cases must reach
 * fs_value_decode, which checks it itself (the strict reader would refuse them first). */
static clip_err decode_only(arena_t *a, const char *json)
{
    json_object *j = json_tokener_parse(json);
    fs_value v;
    char err[256];
    clip_err e = j ? fs_value_decode(a, j, &v, err, sizeof err) : CLIP_EINVAL;
    json_object_put(j);
    return e;
}

static void test_integers(void)
{
    arena_t a;
    arena_init(&a, 0);
    fs_value v;
    UNIT_ASSERT_STR(round_trip(&a, "{\"integerValue\":\"9223372036854775807\"}", &v),
                    "{\"integerValue\":\"9223372036854775807\"}");
    CU_ASSERT_EQUAL(v.type, FS_INT);
    CU_ASSERT_TRUE(v.u.i == INT64_MAX);
    UNIT_ASSERT_STR(round_trip(&a, "{\"integerValue\":\"-9223372036854775808\"}", &v),
                    "{\"integerValue\":\"-9223372036854775808\"}");
    CU_ASSERT_TRUE(v.u.i == INT64_MIN);
    /* a bare JSON number is accepted too, and written back as a string */
    UNIT_ASSERT_STR(round_trip(&a, "{\"integerValue\":42}", &v), "{\"integerValue\":\"42\"}");
    CU_ASSERT_EQUAL(decode_only(&a, "{\"integerValue\":\"9223372036854775808\"}"), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"integerValue\":\"12a\"}"), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"integerValue\":\" 12\"}"), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"integerValue\":\"\"}"), CLIP_EBACKEND);
    arena_free(&a);
}

static void test_doubles(void)
{
    arena_t a;
    arena_init(&a, 0);
    fs_value v;
    UNIT_ASSERT_STR(round_trip(&a, "{\"doubleValue\":\"NaN\"}", &v), "{\"doubleValue\":\"NaN\"}");
    CU_ASSERT_TRUE(isnan(v.u.d));
    UNIT_ASSERT_STR(round_trip(&a, "{\"doubleValue\":\"-Infinity\"}", &v),
                    "{\"doubleValue\":\"-Infinity\"}");
    CU_ASSERT_TRUE(isinf(v.u.d) && v.u.d < 0);
    UNIT_ASSERT_STR(round_trip(&a, "{\"doubleValue\":\"Infinity\"}", NULL),
                    "{\"doubleValue\":\"Infinity\"}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"doubleValue\":0.1}", &v), "{\"doubleValue\":0.1}");
    CU_ASSERT_TRUE(v.u.d == 0.1);
    UNIT_ASSERT_STR(round_trip(&a, "{\"doubleValue\":28.5}", NULL), "{\"doubleValue\":28.5}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"doubleValue\":12.299999999999999}", NULL),
                    "{\"doubleValue\":12.299999999999999}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"doubleValue\":1e300}", NULL), "{\"doubleValue\":1e+300}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"doubleValue\":3}", &v), "{\"doubleValue\":3}");
    CU_ASSERT_EQUAL(v.type, FS_DOUBLE);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"doubleValue\":\"nan\"}"), CLIP_EBACKEND);
    arena_free(&a);
}

static void test_timestamps(void)
{
    arena_t a;
    arena_init(&a, 0);
    fs_value v;
    UNIT_ASSERT_STR(round_trip(&a, "{\"timestampValue\":\"2026-11-24T10:00:00.123456789Z\"}", &v),
                    "{\"timestampValue\":\"2026-11-24T10:00:00.123456789Z\"}");
    CU_ASSERT_TRUE(v.u.ts.seconds == 1795514400);
    CU_ASSERT_EQUAL(v.u.ts.nanos, 123456789);
    UNIT_ASSERT_STR(round_trip(&a, "{\"timestampValue\":\"2024-05-01T10:00:00.123000000Z\"}", NULL),
                    "{\"timestampValue\":\"2024-05-01T10:00:00.123Z\"}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"timestampValue\":\"2024-05-01T10:00:00.000001Z\"}", NULL),
                    "{\"timestampValue\":\"2024-05-01T10:00:00.000001Z\"}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"timestampValue\":\"2024-05-01T12:30:00+02:30\"}", NULL),
                    "{\"timestampValue\":\"2024-05-01T10:00:00Z\"}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"timestampValue\":\"1969-12-31T23:59:59.5Z\"}", &v),
                    "{\"timestampValue\":\"1969-12-31T23:59:59.500Z\"}");
    CU_ASSERT_TRUE(v.u.ts.seconds == -1);
    CU_ASSERT_EQUAL(v.u.ts.nanos, 500000000);
    UNIT_ASSERT_STR(round_trip(&a, "{\"timestampValue\":\"2024-02-29T00:00:00Z\"}", NULL),
                    "{\"timestampValue\":\"2024-02-29T00:00:00Z\"}");
    fs_time t;
    CU_ASSERT_EQUAL(fs_time_parse("2024-02-30T00:00:00Z", 20, &t), -1);
    CU_ASSERT_EQUAL(fs_time_parse("2024-01-01T00:00:00.1234567891Z", 31, &t), -1);
    CU_ASSERT_EQUAL(fs_time_parse("2024-01-01T00:00:00", 19, &t), -1);
    CU_ASSERT_EQUAL(fs_time_parse("2024-01-01T00:00:00.Z", 21, &t), -1);
    CU_ASSERT_EQUAL(fs_time_parse("2024-01-01T00:00:00Zx", 21, &t), -1);
    char out[FS_TIME_TEXT_MAX];
    CU_ASSERT_EQUAL(fs_time_format_seconds((fs_time){1795514400, 999}, out), 0);
    UNIT_ASSERT_STR(out, "2026-11-24T10:00:00Z");
    arena_free(&a);
}

static void test_scalars(void)
{
    arena_t a;
    arena_init(&a, 0);
    fs_value v;
    UNIT_ASSERT_STR(round_trip(&a, "{\"nullValue\":null}", &v), "{\"nullValue\":null}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"nullValue\":\"NULL_VALUE\"}", &v), "{\"nullValue\":null}");
    CU_ASSERT_EQUAL(v.type, FS_NULL);
    UNIT_ASSERT_STR(round_trip(&a, "{\"booleanValue\":true}", NULL), "{\"booleanValue\":true}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"bytesValue\":\"aGk=\"}", &v), "{\"bytesValue\":\"aGk=\"}");
    CU_ASSERT_EQUAL(v.u.s.n, 2);
    CU_ASSERT_EQUAL(memcmp(v.u.s.p, "hi", 2), 0);
    UNIT_ASSERT_STR(round_trip(&a, "{\"bytesValue\":\"AP8A\"}", &v), "{\"bytesValue\":\"AP8A\"}");
    CU_ASSERT_EQUAL(v.u.s.n, 3);
    CU_ASSERT_EQUAL(memcmp(v.u.s.p, "\0\xff\0", 3), 0);
    UNIT_ASSERT_STR(round_trip(&a, "{\"stringValue\":\"a\\u0000b \\u00e9\\\"\"}", &v),
                    "{\"stringValue\":\"a\\u0000b \xc3\xa9\\\"\"}");
    CU_ASSERT_EQUAL(v.u.s.n, 7);
    UNIT_ASSERT_STR(
        round_trip(&a, "{\"referenceValue\":\"projects/p/databases/(default)/documents/a/b\"}", &v),
        "{\"referenceValue\":\"projects/p/databases/(default)/documents/a/b\"}");
    CU_ASSERT_EQUAL(v.type, FS_REF);
    UNIT_ASSERT_STR(
        round_trip(&a, "{\"geoPointValue\":{\"latitude\":48.85,\"longitude\":-2.5}}", NULL),
        "{\"geoPointValue\":{\"latitude\":48.85,\"longitude\":-2.5}}");
    UNIT_ASSERT_STR(round_trip(&a, "{\"geoPointValue\":{}}", NULL),
                    "{\"geoPointValue\":{\"latitude\":0,\"longitude\":0}}");
    CU_ASSERT_EQUAL(decode_only(&a, "{\"bytesValue\":\"a!k=\"}"), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"stringValue\":1}"), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"weirdValue\":1}"), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"stringValue\":\"bad \xff utf-8\"}"), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"stringValue\":\"\xed\xa0\x80\"}"),
                    CLIP_EBACKEND); /* a surrogate */
    CU_ASSERT_EQUAL(
        decode_only(&a, "{\"mapValue\":{\"fields\":{\"k\xc0\xaf\":{\"nullValue\":null}}}}"),
        CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"geoPointValue\":{\"latitude\":91,\"longitude\":0}}"),
                    CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"geoPointValue\":{\"latitude\":\"1\"}}"), CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"timestampValue\":\"0000-12-31T23:59:59Z\"}"),
                    CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"timestampValue\":\"0001-01-01T00:30:00+01:00\"}"),
                    CLIP_EBACKEND);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"timestampValue\":\"0001-01-01T00:00:00Z\"}"), CLIP_OK);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"timestampValue\":\"9999-12-31T23:59:59.999999999Z\"}"),
                    CLIP_OK);
    CU_ASSERT_EQUAL(decode_only(&a, "{\"stringValue\":\"a\",\"integerValue\":\"1\"}"),
                    CLIP_EBACKEND);
    arena_free(&a);
}

static void test_nested(void)
{
    arena_t a;
    arena_init(&a, 0);
    const char *in =
        "{\"mapValue\":{\"fields\":{\"clip_stats\":{\"mapValue\":{\"fields\":{"
        "\"by_style\":{\"mapValue\":{\"fields\":{\"vertical\":{\"integerValue\":\"3\"},"
        "\"clé \xe2\x9c\x93\":{\"integerValue\":\"1\"}}}},"
        "\"list\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},"
        "{\"arrayValue\":{}},{\"mapValue\":{}},{\"nullValue\":null}]}}}}}}}}";
    const char *want =
        "{\"mapValue\":{\"fields\":{\"clip_stats\":{\"mapValue\":{\"fields\":{"
        "\"by_style\":{\"mapValue\":{\"fields\":{\"vertical\":{\"integerValue\":\"3\"},"
        "\"clé \xe2\x9c\x93\":{\"integerValue\":\"1\"}}}},"
        "\"list\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},"
        "{\"arrayValue\":{\"values\":[]}},{\"mapValue\":{\"fields\":{}}},{\"nullValue\":null}]}}}}}"
        "}}}";
    fs_value v;
    UNIT_ASSERT_STR(round_trip(&a, in, &v), want);
    const fs_value *stats = fs_map_get(&v, "clip_stats");
    CU_ASSERT_PTR_NOT_NULL_FATAL(stats);
    const fs_value *by = fs_map_get(stats, "by_style");
    int64_t n = 0;
    CU_ASSERT_EQUAL(fs_get_int(by, "clé \xe2\x9c\x93", &n), 0);
    CU_ASSERT_TRUE(n == 1);
    const fs_value *list = fs_map_get(stats, "list");
    CU_ASSERT_EQUAL(list->type, FS_ARRAY);
    CU_ASSERT_EQUAL(list->u.arr.n, 4);
    /* re-decoding the output gives an equal value */
    fs_value w;
    CU_ASSERT_PTR_NOT_NULL(round_trip(&a, want, &w));
    CU_ASSERT_TRUE(fs_value_equal(&v, &w));
    fs_map_put(&a, &w, "x", fs_int(1));
    CU_ASSERT_FALSE(fs_value_equal(&v, &w));

    /* 20 levels of maps are allowed, 21 are not */
    buf_t b = BUF_INIT;
    for (int i = 0; i < 21; i++)
        buf_puts(&b, "{\"mapValue\":{\"fields\":{\"k\":");
    buf_puts(&b, "{\"nullValue\":null}");
    for (int i = 0; i < 21; i++)
        buf_puts(&b, "}}}");
    json_object *j = tj_parse(b.p);
    fs_value deep;
    char err[128];
    CU_ASSERT_EQUAL(fs_value_decode(&a, j, &deep, err, sizeof err), CLIP_EBACKEND);
    UNIT_ASSERT_STR(err, "firestore: Value nested over 20 deep");
    json_object_put(j);
    buf_free(&b);
    arena_free(&a);
}

static void test_builders_and_document(void)
{
    arena_t a;
    arena_init(&a, 0);
    fs_value m = fs_map();
    fs_value arr = fs_array();
    CU_ASSERT_EQUAL(fs_array_push(&a, &arr, fs_str("vertical")), 0);
    CU_ASSERT_EQUAL(fs_array_push(&a, &arr, fs_str("square")), 0);
    CU_ASSERT_EQUAL(fs_map_put(&a, &m, "styles", arr), 0);
    CU_ASSERT_EQUAL(fs_map_put(&a, &m, "n", fs_int(1)), 0);
    CU_ASSERT_EQUAL(fs_map_put(&a, &m, "n", fs_int(2)), 0); /* replaces */
    CU_ASSERT_EQUAL(fs_map_put(&a, &m, "t", fs_str(NULL)), 0);
    for (int i = 0; i < 20; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        CU_ASSERT_EQUAL(fs_map_put(&a, &m, arena_strdup(&a, k), fs_bool(i & 1)), 0);
    }
    CU_ASSERT_EQUAL(m.u.map.n, 23);
    buf_t b = BUF_INIT;
    fs_value small = fs_map();
    fs_map_put(&a, &small, "styles", arr);
    fs_map_put(&a, &small, "n", fs_int(2));
    fs_map_put(&a, &small, "t", fs_str(NULL));
    CU_ASSERT_EQUAL(fs_fields_encode(&b, &small), 0);
    UNIT_ASSERT_STR(b.p, "{\"styles\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"vertical\"},"
                         "{\"stringValue\":\"square\"}]}},\"n\":{\"integerValue\":\"2\"},"
                         "\"t\":{\"nullValue\":null}}");
    const char *s;
    CU_ASSERT_EQUAL(fs_get_str(&m, "t", &s), 0);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(fs_get_str(&m, "n", &s), -1);
    buf_free(&b);

    const char *doc =
        "{\"name\":\"projects/p/databases/(default)/documents/users/u1/videos/v1\","
        "\"fields\":{\"title\":{\"stringValue\":\"T\"},\"n\":{\"integerValue\":\"7\"}},"
        "\"createTime\":\"2026-11-24T10:00:00.000001Z\",\"updateTime\":\"2026-11-24T10:00:01Z\"}";
    json_object *j = tj_parse(doc);
    fs_doc d;
    char err[128];
    CU_ASSERT_EQUAL(fs_doc_decode(&a, j, &d, err, sizeof err), CLIP_OK);
    json_object_put(j);
    UNIT_ASSERT_STR(d.id, "v1");
    UNIT_ASSERT_STR(d.name, "projects/p/databases/(default)/documents/users/u1/videos/v1");
    CU_ASSERT_EQUAL(d.create_time.nanos, 1000);
    CU_ASSERT_TRUE(d.update_time.seconds == 1795514401);
    double dv;
    CU_ASSERT_EQUAL(fs_get_double(&d.fields, "n", &dv), 0);
    CU_ASSERT_TRUE(dv == 7.0);
    j = tj_parse("{\"fields\":{}}");
    CU_ASSERT_EQUAL(fs_doc_decode(&a, j, &d, err, sizeof err), CLIP_EBACKEND);
    json_object_put(j);
    arena_free(&a);
}

static void test_field_paths(void)
{
    struct {
        const char *in, *want;
    } cases[] = {
        {"status", "status"},
        {"_ok1", "_ok1"},
        {"1abc", "`1abc`"},
        {"a.b", "`a.b`"},
        {"clé", "`clé`"},
        {"日本", "`日本`"},
        {"x`y", "`x\\`y`"},
        {"back\\slash", "`back\\\\slash`"},
        {"with space", "`with space`"},
        {"", "``"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t b = BUF_INIT;
        CU_ASSERT_EQUAL(fs_field_path_segment(&b, cases[i].in, strlen(cases[i].in)), 0);
        UNIT_ASSERT_STR(b.p, cases[i].want);
        buf_free(&b);
    }
    /* a nested path: clip_stats.by_style.`9:16` */
    buf_t b = BUF_INIT;
    fs_field_path_segment(&b, "clip_stats", 10);
    buf_putc(&b, '.');
    fs_field_path_segment(&b, "by_style", 8);
    buf_putc(&b, '.');
    fs_field_path_segment(&b, "9:16", 4);
    UNIT_ASSERT_STR(b.p, "clip_stats.by_style.`9:16`");
    buf_free(&b);
}

int main(void)
{
    CU_TestInfo tests[] = {
        UNIT_TEST(test_integers),    UNIT_TEST(test_doubles), UNIT_TEST(test_timestamps),
        UNIT_TEST(test_scalars),     UNIT_TEST(test_nested),  UNIT_TEST(test_builders_and_document),
        UNIT_TEST(test_field_paths), CU_TEST_INFO_NULL};
    return unit_run("fs_value", tests, NULL, NULL);
}
