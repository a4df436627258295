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
    const char in[] = "a\"b\\c\n\t\x01\x7f" "\xc3\xa9" "\xff" "z";
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

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_append_and_printf), UNIT_TEST(test_cap_sets_oom),
                           UNIT_TEST(test_json_escape), UNIT_TEST(test_take), UNIT_TEST(test_arena),
                           CU_TEST_INFO_NULL};
    return unit_run("buf", tests, NULL, NULL);
}
