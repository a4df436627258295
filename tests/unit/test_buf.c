/* Tests of core/buf and core/arena: bounded growth and JSON escaping. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "unit.h"

static void test_append_and_printf(void)
{
    buf_t b = BUF_INIT;
    CU_ASSERT_EQUAL(buf_puts(&b, "abc"), 0);
    CU_ASSERT_EQUAL(buf_printf(&b, "-%d-%s", 42, "x"), 0);
    UNIT_ASSERT_STR(b.p, "abc-42-x");
    CU_ASSERT_EQUAL(b.len, 8);
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(buf_printf(&b, "%s", big), 0);
    CU_ASSERT_EQUAL(b.len, 8 + 999);
    CU_ASSERT_EQUAL(b.p[b.len], '\0');
    buf_free(&b);
}

static void test_cap_sets_oom(void)
{
    buf_t b;
    buf_init(&b, 4);
    CU_ASSERT_EQUAL(buf_puts(&b, "abcd"), 0);
    CU_ASSERT_EQUAL(buf_puts(&b, "e"), -1);
    CU_ASSERT_TRUE(b.oom);
    CU_ASSERT_EQUAL(buf_puts(&b, ""), -1); /* sticky */
    UNIT_ASSERT_STR(b.p, "abcd");
    buf_free(&b);
}

static void test_json_escape(void)
{
    buf_t b = BUF_INIT;
    const char in[] = "a\"b\\c\n\t\x01\x7f"
                      "\xc3\xa9"
                      "\xff"
                      "z";
    buf_json_str(&b, in, sizeof in - 1);
    UNIT_ASSERT_STR(b.p, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\xef\xbf\xbdz\"");
    buf_reset(&b);
    buf_json_str(&b, "nul\0byte", 8);
    UNIT_ASSERT_STR(b.p, "\"nul\\u0000byte\"");
    buf_reset(&b);
    /* overlong encoding and a lone surrogate are invalid UTF-8 */
    buf_json_str(&b, "\xc0\xaf\xed\xa0\x80", 5);
    UNIT_ASSERT_STR(b.p, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    buf_free(&b);
}

/* The escape of one byte that is not part of a valid UTF-8 sequence, as JSON text. */
static const char *one_byte_json(unsigned char c, char tmp[8])
{
    if (c >= 0x80)
        return "\xef\xbf\xbd";
    if (c == '"')
        return "\\\"";
    if (c == '\\')
        return "\\\\";
    if (c == '\n')
        return "\\n";
    if (c == '\r')
        return "\\r";
    if (c == '\t')
        return "\\t";
    if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, 8, "\\u%04x", c);
        return tmp;
    }
    tmp[0] = (char)c;
    tmp[1] = '\0';
    return tmp;
}

/* The block scan (eight bytes a step) finds every byte that needs care wherever it stands in a
 * run of plain text, before, inside and after a block, and a UTF-8 sequence across a block's
 * edge is kept whole. */
static void test_json_escape_blocks(void)
{
    size_t checked = 0;
    for (unsigned c = 0; c < 256; c++)
        for (size_t at = 0; at < 19; at++) {
            char in[19], want[64], tmp[8];
            memset(in, 'a', sizeof in);
            in[at] = (char)c;
            snprintf(want, sizeof want, "\"%.*s%s%.*s\"", (int)at, in,
                     one_byte_json((unsigned char)c, tmp), (int)(sizeof in - at - 1), in + at + 1);
            buf_t b = BUF_INIT;
            buf_json_str(&b, in, sizeof in);
            if (strcmp(b.p, want) == 0)
                checked++;
            else
                UNIT_ASSERT_STR(b.p, want);
            buf_free(&b);
        }
    CU_ASSERT_EQUAL(checked, 256 * 19);
    for (size_t at = 0; at + 4 <= 19; at++) {
        char in[19], want[64];
        memset(in, 'b', sizeof in);
        memcpy(in + at, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
        snprintf(want, sizeof want, "\"%.19s\"", in);
        buf_t b = BUF_INIT;
        buf_json_str(&b, in, sizeof in);
        UNIT_ASSERT_STR(b.p, want);
        buf_free(&b);
    }
}

static void test_take(void)
{
    buf_t b = BUF_INIT;
    char *s = buf_take(&b);
    UNIT_ASSERT_STR(s, "");
    free(s);
    buf_puts(&b, "x");
    s = buf_take(&b);
    UNIT_ASSERT_STR(s, "x");
    CU_ASSERT_PTR_NULL(b.p);
    free(s);
}

static void test_arena(void)
{
    arena_t a;
    arena_init(&a, 100000);
    char *s = arena_strndup(&a, "hello world", 5);
    UNIT_ASSERT_STR(s, "hello");
    void *big = arena_alloc(&a, 50000);
    CU_ASSERT_PTR_NOT_NULL(big);
    CU_ASSERT_EQUAL((uintptr_t)big % 16, 0);
    CU_ASSERT_PTR_NULL(arena_alloc(&a, 60000)); /* over the limit */
    char *t = arena_strdup(&a, "still works");
    UNIT_ASSERT_STR(t, "still works");
    arena_reset(&a);
    CU_ASSERT_EQUAL(a.used, 0);
    CU_ASSERT_PTR_NOT_NULL(arena_alloc(&a, 10));
    arena_free(&a);
}

/* What buf_json_double wrote before its fast path: the first of 15, 16, 17 significant digits
 * that reads back as the same double. The fast path must write exactly this. */
static void reference_double(double d, char *s, size_t n)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, n, "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            return;
    }
}

static void test_double_fast_path_is_exact(void)
{
    unsigned long long x = 0x9E3779B97F4A7C15ull;
    int mismatches = 0;
    long long checked = 0;
    for (int i = 0; i < 400000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        switch (i % 8) {
        case 0:
            d = (double)(long long)(x % 2000000);
            break; /* whole */
        case 1:
            d = (double)(long long)(x % 2000000) / 10;
            break; /* 12.3 */
        case 2:
            d = (double)(long long)(x % 20000000) / 100;
            break; /* 0.25, 99.99 */
        case 3:
            d = (double)(long long)(x % 200000000) / 1000;
            break; /* 12.345 */
        case 4:
            d = (double)(long long)(x % 1000000000000000ull) / 1e6;
            break;
        case 5:
            d = (double)(x >> 11) / 9007199254740992.0 * 1e6;
            break; /* any double */
        case 6:
            d = (double)(long long)(x % 100000) / 7.0;
            break; /* no short form */
        default:
            d = -(double)(long long)(x % 999999999999999ull) / 1e3;
            break;
        }
        char want[64];
        reference_double(d, want, sizeof want);
        buf_t b = BUF_INIT;
        buf_json_double(&b, d);
        checked++;
        if (!b.p || strcmp(b.p, want) != 0) {
            if (mismatches++ < 5)
                fprintf(stderr, "buf_json_double(%.17g) = %s, want %s\n", d, b.p ? b.p : "", want);
        }
        buf_free(&b);
    }
    const double edge[] = {0.0, -0.0, 1e-4,   9.9999e-5,     1e15, 999999999999999.0,
                           0.1, 1e-7, 5e-324, 123456.789012, 0.3,  2.5e-3};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        char want[64];
        reference_double(edge[i], want, sizeof want);
        buf_t b = BUF_INIT;
        buf_json_double(&b, edge[i]);
        if (!b.p || strcmp(b.p, want) != 0)
            mismatches++, fprintf(stderr, "edge %.17g: %s, want %s\n", edge[i], b.p, want);
        buf_free(&b);
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(checked, 400000);
}

static void test_put_i64(void)
{
    const long long in[] = {
        0, 7, -7, 1234567890123LL, -9223372036854775807LL - 1, 9223372036854775807LL};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "%lld", in[i]);
        buf_t b = BUF_INIT;
        buf_put_i64(&b, in[i]);
        UNIT_ASSERT_STR(b.p, want);
        buf_free(&b);
    }
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_append_and_printf),
                           UNIT_TEST(test_cap_sets_oom),
                           UNIT_TEST(test_json_escape),
                           UNIT_TEST(test_json_escape_blocks),
                           UNIT_TEST(test_take),
                           UNIT_TEST(test_arena),
                           UNIT_TEST(test_double_fast_path_is_exact),
                           UNIT_TEST(test_put_i64),
                           CU_TEST_INFO_NULL};
    return unit_run("buf", tests, NULL, NULL);
}
