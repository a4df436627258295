/* Tests of core/json: the strict reader (what it takes, what it refuses and how it says so, the
 * same numbers as json-c) and the typed getters. */
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "unit.h"

static const json_limits doc = {"doc", 0, 8};

/* The refusal message of text (n bytes), or "ok" when it is read. */
static const char *refusal_n(const char *text, size_t n)
{
    static char err[256];
    json_object *j = NULL;
    clip_err e = json_read(text, n, &doc, &j, err, sizeof err);
    json_object_put(j);
    if (e == CLIP_OK)
        return "ok";
    if (j)
        return "a tree with a refusal";
    return err;
}

static const char *refusal(const char *text)
{
    return refusal_n(text, strlen(text));
}

/* The compact JSON the reader's tree of text writes (or the refusal). */
static const char *reread(const char *text)
{
    static char out[512], err[256];
    json_object *j = NULL;
    if (json_read(text, strlen(text), &doc, &j, err, sizeof err) != CLIP_OK)
        return err;
    snprintf(
        out, sizeof out, "%s",
        json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(j);
    return out;
}

static void test_reads_json(void)
{
    UNIT_ASSERT_STR(reread("{\"a\":[1,-2,3.5,true,false,null],\"b\":{},\"c\":[]}"),
                    "{\"a\":[1,-2,3.5,true,false,null],\"b\":{},\"c\":[]}");
    UNIT_ASSERT_STR(reread(" \t\r\n{ \"a\" : 1 }\n"), "{\"a\":1}");
    UNIT_ASSERT_STR(reread("\"top\""), "\"top\"");
    UNIT_ASSERT_STR(reread("7"), "7");
    UNIT_ASSERT_STR(reread("null"), "null");
    /* escapes, and a surrogate pair */
    UNIT_ASSERT_STR(reread("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"), "[\"\\\"\\\\/\\b\\f\\n\\r\\t\"]");
    UNIT_ASSERT_STR(reread("[\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"]"),
                    "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]");
    UNIT_ASSERT_STR(reread("[\"caf\xc3\xa9\"]"), "[\"caf\xc3\xa9\"]");
    /* a NUL escape is kept inside a string; a key is a C string (json-c's), cut at the NUL */
    json_object *j = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(json_read("[\"a\\u0000b\"]", 12, &doc, &j, err, sizeof err), CLIP_OK);
    json_object *s = json_object_array_get_idx(j, 0);
    CU_ASSERT_EQUAL(json_object_get_string_len(s), 3);
    CU_ASSERT_EQUAL(memcmp(json_object_get_string(s), "a\0b", 3), 0);
    json_object_put(j);
    UNIT_ASSERT_STR(reread("{\"k\\u0000x\":1}"), "{\"k\":1}");
    /* not NUL-terminated: the length decides */
    CU_ASSERT_EQUAL(json_read("[1]]]", 3, &doc, &j, err, sizeof err), CLIP_OK);
    json_object_put(j);
}

/* Numbers as json-c's own tokener makes them: the same type, value and text. */
static void test_numbers_as_json_c(void)
{
    static const char *const cases[] = {
        "0",
        "-0",
        "7",
        "-7",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        "1.5",
        "-1.50",
        "1e5",
        "1E+5",
        "2.5e-3",
        "1e999",
        "-1e999",
        "0.1e-400",
        "123456789012345678901234567890.5",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object *mine = NULL, *ref = json_tokener_parse(cases[i]);
        char err[256];
        CU_ASSERT_EQUAL_FATAL(json_read(cases[i], strlen(cases[i]), &doc, &mine, err, sizeof err),
                              CLIP_OK);
        CU_ASSERT_EQUAL(json_object_get_type(mine), json_object_get_type(ref));
        CU_ASSERT_EQUAL(json_object_get_int64(mine), json_object_get_int64(ref));
        CU_ASSERT_EQUAL(json_object_get_uint64(mine), json_object_get_uint64(ref));
        double a = json_object_get_double(mine), b = json_object_get_double(ref);
        CU_ASSERT_TRUE(a == b || (a != a && b != b));
        UNIT_ASSERT_STR(json_object_to_json_string(mine), json_object_to_json_string(ref));
        json_object_put(mine);
        json_object_put(ref);
    }
    json_object *j = NULL;
    char err[256];
    CU_ASSERT_EQUAL(json_read("18446744073709551615", 20, &doc, &j, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(json_object_get_uint64(j), UINT64_MAX);
    CU_ASSERT_EQUAL(json_object_get_int64(j), INT64_MAX);
    json_object_put(j);
}

static void test_refusals(void)
{
    static const char *const cases[][2] = {
        {"", "doc: not valid JSON (it ends too early)"},
        {"   ", "doc: not valid JSON (it ends too early)"},
        {"{", "doc: not valid JSON (it ends too early)"},
        {"{\"a\":", "doc: not valid JSON (it ends too early)"},
        {"[1,", "doc: not valid JSON (it ends too early)"},
        {"{\"a\":1} {", "doc: not valid JSON (unexpected character at offset 8)"},
        {"{\"a\":1,}", "doc: not valid JSON (unexpected character at offset 7)"},
        {"[1,]", "doc: not valid JSON (unexpected character at offset 3)"},
        {"[1 2]", "doc: not valid JSON (unexpected character at offset 3)"},
        {"{\"a\" 1}", "doc: not valid JSON (unexpected character at offset 5)"},
        {"{1:2}", "doc: not valid JSON (unexpected character at offset 1)"},
        {"1true", "doc: not valid JSON (unexpected character at offset 1)"},
        {"{\"a\":1}  x", "doc: not valid JSON (unexpected byte at offset 9)"},
        {"{'a':1}", "doc: not valid JSON (unexpected byte at offset 1)"},
        {"[NaN]", "doc: not valid JSON (unexpected byte at offset 1)"},
        {"[-Infinity]", "doc: not valid JSON (unexpected byte at offset 2)"},
        {"[tru]", "doc: not valid JSON (unexpected byte at offset 1)"},
        {"[\"a\tb\"]", "doc: not valid JSON (unexpected byte at offset 3)"},
        {"[\"abc", "doc: not valid JSON (unexpected byte at offset 4)"},
        {"[01]", "doc: not valid JSON (number expected at offset 2)"},
        {"[1.]", "doc: not valid JSON (number expected at offset 3)"},
        {"[.5]", "doc: not valid JSON (unexpected character at offset 1)"},
        {"[-]", "doc: not valid JSON (number expected at offset 2)"},
        {"[1e]", "doc: not valid JSON (number expected at offset 3)"},
        {"[+1]", "doc: not valid JSON (unexpected character at offset 1)"},
        {"[\"\\x\"]", "doc: not valid JSON (invalid string sequence at offset 2)"},
        {"[\"\\u12\"]", "doc: not valid JSON (invalid string sequence at offset 2)"},
        {"[\"\\u12g4\"]", "doc: not valid JSON (invalid string sequence at offset 2)"},
        {"[[[[[[[[1]]]]]]]]", "doc: nested deeper than 8 levels"},
        {"{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}",
         "doc: nested deeper than 8 levels"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        UNIT_ASSERT_STR(refusal(cases[i][0]), cases[i][1]);
    /* json-c's count of depth: seven arrays around a value, or eight empty objects, are fine */
    UNIT_ASSERT_STR(refusal("[[[[[[[1]]]]]]]"), "ok");
    UNIT_ASSERT_STR(refusal("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{}}}}}}}}"), "ok");
    /* a NUL byte outside a string, or raw inside one */
    UNIT_ASSERT_STR(refusal_n("{}\0", 3), "doc: not valid JSON (unexpected byte at offset 2)");
    UNIT_ASSERT_STR(refusal_n("[\"a\0\"]", 6), "doc: not valid JSON (unexpected byte at offset 3)");
    /* the size limit */
    json_limits small = {"small", 4, 8};
    json_object *j = NULL;
    char err[128];
    CU_ASSERT_EQUAL(json_read("[1,2]", 5, &small, &j, err, sizeof err), CLIP_ETOOBIG);
    UNIT_ASSERT_STR(err, "small: larger than 4 bytes");
    CU_ASSERT_EQUAL(json_read("[12]", 4, &small, &j, err, sizeof err), CLIP_OK);
    json_object_put(j);
    /* must be an object */
    CU_ASSERT_EQUAL(json_read_object("[1]", 3, &doc, &j, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_PTR_NULL(j);
    UNIT_ASSERT_STR(err, "doc: must be a JSON object");
    CU_ASSERT_EQUAL(json_read_object("null", 4, &doc, &j, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "doc: must be a JSON object");
}

/* Text that is not UTF-8, raw or escaped, is refused naming the member it is in. */
static void test_utf8_named(void)
{
    static const char *const cases[][2] = {
        {"{\"video_title\":\"\xc0\xaf\"}", "video_title: not valid UTF-8 (at offset 16)"},
        {"{\"video_title\":\"\xff\"}", "video_title: not valid UTF-8 (at offset 16)"},
        {"{\"t\":\"ok \xed\xa0\x80\"}", "t: not valid UTF-8 (at offset 9)"},  /* U+D800 */
        {"{\"t\":\"\xf4\x90\x80\x80\"}", "t: not valid UTF-8 (at offset 6)"}, /* >U+10FFFF */
        {"{\"t\":\"\xe0\x80\xaf\"}", "t: not valid UTF-8 (at offset 6)"},     /* overlong */
        {"{\"t\":\"ab\xe2\x82\"}", "t: not valid UTF-8 (at offset 8)"},       /* cut short */
        {"{\"t\":\"\\ud800\"}", "t: not valid UTF-8 (unpaired surrogate escape at offset 6)"},
        {"{\"t\":\"x\\udc00\\ud800\"}",
         "t: not valid UTF-8 (unpaired surrogate escape at offset 7)"},
        {"{\"t\":\"\\ud800\\u0041\"}",
         "t: not valid UTF-8 (unpaired surrogate escape at offset 6)"},
        {"{\"t\":\"\\ud800x\"}", "t: not valid UTF-8 (unpaired surrogate escape at offset 6)"},
        {"{\"t\":\"\\ud800\\ud800\"}",
         "t: not valid UTF-8 (unpaired surrogate escape at offset 6)"},
        /* nested members by their path; a top-level array by the document's name */
        {"{\"highlights\":[{\"duration\":1},{\"title\":\"\xc0\xaf\"}]}",
         "highlights[1].title: not valid UTF-8 (at offset 40)"},
        {"{\"a\":{\"b\":[[\"x\",\"\\udfff\"]]}}",
         "a.b[0][1]: not valid UTF-8 (unpaired surrogate escape at offset 17)"},
        {"[1,\"\xc0\"]", "doc[1]: not valid UTF-8 (at offset 4)"},
        {"\"\xc0\"", "doc: not valid UTF-8 (at offset 1)"},
        /* a key: the member cannot be told, its object is named */
        {"{\"\xc0\xaf\":1}", "doc: not valid UTF-8 (at offset 2)"},
        {"{\"a\":{\"ok\":1,\"\\ud800\":2}}",
         "a: not valid UTF-8 (unpaired surrogate escape at offset 14)"},
        /* an unprintable key is shown with '?' */
        {"{\"k\\u00e9y\":\"\xc0\"}", "k??y: not valid UTF-8 (at offset 13)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        UNIT_ASSERT_STR(refusal(cases[i][0]), cases[i][1]);
}

static void test_duplicate_keys(void)
{
    UNIT_ASSERT_STR(refusal("{\"video_title\":\"a\",\"video_title\":\"b\"}"),
                    "video_title: given twice");
    UNIT_ASSERT_STR(refusal("{\"a\":1,\"\\u0061\":2}"), "a: given twice"); /* the same key */
    UNIT_ASSERT_STR(refusal("{\"x\":[{\"k\":null,\"k\":null}]}"), "x[0].k: given twice");
    UNIT_ASSERT_STR(refusal("{\"a\":{\"k\":1},\"b\":{\"k\":1}}"), "ok"); /* other objects */
    UNIT_ASSERT_STR(refusal("[{\"k\":1},{\"k\":1}]"), "ok");
}

static void test_members(void)
{
    json_object *j = NULL;
    char err[256];
    const char *t = "{\"s\":\"text\",\"n\":null,\"i\":5}";
    CU_ASSERT_EQUAL_FATAL(json_read(t, strlen(t), &doc, &j, err, sizeof err), CLIP_OK);
    int present = -1;
    CU_ASSERT_PTR_NULL(json_member(j, "n", &present));
    CU_ASSERT_EQUAL(present, 1);
    CU_ASSERT_PTR_NULL(json_member(j, "absent", &present));
    CU_ASSERT_EQUAL(present, 0);
    CU_ASSERT_PTR_NOT_NULL(json_member(j, "i", NULL));
    CU_ASSERT_PTR_NULL(json_member(json_member(j, "i", NULL), "x", &present)); /* not an object */
    CU_ASSERT_EQUAL(present, 0);
    size_t len = 0;
    UNIT_ASSERT_STR(json_member_str(j, "s", &len), "text");
    CU_ASSERT_EQUAL(len, 4);
    CU_ASSERT_PTR_NULL(json_member_str(j, "i", &len));
    CU_ASSERT_PTR_NULL(json_member_str(j, "n", &len));
    CU_ASSERT_PTR_NULL(json_member_str(NULL, "s", &len));
    json_object_put(j);
    char name[128];
    json_field_name(name, sizeof name, "highlights[0]", "title");
    UNIT_ASSERT_STR(name, "highlights[0].title");
    json_field_name(name, sizeof name, NULL, "a\tb\xc3\xa9");
    UNIT_ASSERT_STR(name, "a?b??");
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    json_field_name(name, sizeof name, "", longkey);
    CU_ASSERT_EQUAL(strlen(name), JSON_NAME_SHOWN);
}

static int all_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return 0;
    return 1;
}

/* A deep path of long names is cut, so that the message still says what was wrong (a fuzz_json
 * find: four 60-byte names made the path fill the 256-byte buffer before its ": "). */
static void test_long_path_cut(void)
{
    char text[600], name[61];
    memset(name, 'k', 60);
    name[60] = '\0';
    snprintf(text, sizeof text, "{\"%s\":{\"%s\":{\"%s\":{\"%s\":1,\"%s\":2}}}}", name, name, name,
             name, name);
    const char *m = refusal(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(m, "...: "));
    CU_ASSERT_TRUE(strlen(m) < 256 && strstr(m, "given twice") != NULL);
}

static void test_getters(void)
{
    arena_t a;
    arena_init(&a, 0);
    char err[256];
    json_ctx c = {&a, err, sizeof err};
    json_object *j = NULL;
    const char *t =
        "{\"s\":\"abc\",\"z\":\"a\\u0000b\",\"i\":42,\"big\":99999999999999999999,"
        "\"d\":2.5,\"inf\":1e999,\"b\":true,\"n\":null,\"l\":[\"x\",\"Y\"],\"bad\":[1]}";
    CU_ASSERT_EQUAL_FATAL(json_read(t, strlen(t), &doc, &j, err, sizeof err), CLIP_OK);
    const char *s = NULL;
    CU_ASSERT_EQUAL(json_get_str(&c, "s", json_member(j, "s", NULL), 3, 0, &s), CLIP_OK);
    UNIT_ASSERT_STR(s, "abc");
    CU_ASSERT_EQUAL(json_get_str(&c, "s", json_member(j, "s", NULL), 2, 0, &s), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "s: longer than 2 bytes");
    CU_ASSERT_EQUAL(json_get_str(&c, "z", json_member(j, "z", NULL), 9, 0, &s), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "z: must not contain a NUL character");
    CU_ASSERT_EQUAL(json_get_str(&c, "i", json_member(j, "i", NULL), 9, 0, &s), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "i: must be a string");
    CU_ASSERT_EQUAL(json_get_str(&c, "i", json_member(j, "i", NULL), 9, JSON_NULLABLE, &s),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "i: must be a string or null");
    CU_ASSERT_EQUAL(json_get_str(&c, "n", json_member(j, "n", NULL), 9, JSON_NULLABLE, &s),
                    CLIP_OK);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(json_get_str(&c, "n", json_member(j, "n", NULL), 9, 0, &s), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "n: must be a string");
    int64_t i = 0;
    CU_ASSERT_EQUAL(json_get_int(&c, "i", json_member(j, "i", NULL), 0, 100, &i), CLIP_OK);
    CU_ASSERT_EQUAL(i, 42);
    CU_ASSERT_EQUAL(json_get_int(&c, "i", json_member(j, "i", NULL), 0, 10, &i), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "i: must be a whole number from 0 to 10");
    CU_ASSERT_EQUAL(json_get_int(&c, "big", json_member(j, "big", NULL), 0, INT64_MAX - 1, &i),
                    CLIP_EINVAL);
    CU_ASSERT_EQUAL(json_get_int(&c, "d", json_member(j, "d", NULL), 0, 10, &i), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "d: must be a whole number from 0 to 10");
    double d = 0;
    CU_ASSERT_EQUAL(json_get_num(&c, "d", json_member(j, "d", NULL), 0, 10, &d), CLIP_OK);
    CU_ASSERT_EQUAL(d, 2.5);
    CU_ASSERT_EQUAL(json_get_num(&c, "i", json_member(j, "i", NULL), 0, 100, &d), CLIP_OK);
    CU_ASSERT_EQUAL(d, 42.0);
    CU_ASSERT_EQUAL(json_get_num(&c, "inf", json_member(j, "inf", NULL), 0, 1e308, &d),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "inf: must be a number from 0 to 1e+308");
    CU_ASSERT_EQUAL(json_get_num(&c, "s", json_member(j, "s", NULL), 0, 1, &d), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "s: must be a number from 0 to 1");
    int b = -1;
    CU_ASSERT_EQUAL(json_get_bool(&c, "b", json_member(j, "b", NULL), &b), CLIP_OK);
    CU_ASSERT_EQUAL(b, 1);
    CU_ASSERT_EQUAL(json_get_bool(&c, "i", json_member(j, "i", NULL), &b), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "i: must be true or false");
    const char *const *list = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(
        json_get_str_list(&c, "l", json_member(j, "l", NULL), 2, 8, NULL, NULL, &list, &n),
        CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    UNIT_ASSERT_STR(list[1], "Y");
    CU_ASSERT_EQUAL(
        json_get_str_list(&c, "l", json_member(j, "l", NULL), 1, 8, NULL, NULL, &list, &n),
        CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "l: more than 1 items");
    CU_ASSERT_EQUAL(
        json_get_str_list(&c, "bad", json_member(j, "bad", NULL), 2, 8, NULL, NULL, &list, &n),
        CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "bad[0]: must be a string");
    CU_ASSERT_EQUAL(
        json_get_str_list(&c, "s", json_member(j, "s", NULL), 2, 8, NULL, NULL, &list, &n),
        CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "s: must be an array of strings");
    CU_ASSERT_EQUAL(json_get_str_list(&c, "l", json_member(j, "l", NULL), 2, 8, all_lower,
                                      "must be lower case", &list, &n),
                    CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "l[1]: must be lower case");
    json_object_put(j);
    arena_free(&a);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_reads_json),     UNIT_TEST(test_numbers_as_json_c),
                           UNIT_TEST(test_refusals),       UNIT_TEST(test_utf8_named),
                           UNIT_TEST(test_duplicate_keys), UNIT_TEST(test_members),
                           UNIT_TEST(test_getters),        UNIT_TEST(test_long_path_cut),
                           CU_TEST_INFO_NULL};
    return unit_run("json", tests, NULL, NULL);
}
