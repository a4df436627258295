/* Tests of the service-key check: fcgi/auth.c's constant-time comparison and fcgi/app.c's key
 * file loader (comments, blanks, white space, the length and count limits, all or nothing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "testproc.h"
#include "unit.h"

#define K1 "first-key-0123456789"
#define K2 "second-key-abcdefghij"

static void test_key_matches(void)
{
    char *keys[] = {K1, K2};
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, K1, strlen(K1)), 1);
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, K2, strlen(K2)), 1); /* any valid key: rotation */
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, "nope", 4), 0);
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, "", 0), 0);
    /* a prefix, a longer text, one changed byte: refused */
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, K1, strlen(K1) - 1), 0);
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, K1 "x", strlen(K1) + 1), 0);
    char changed[] = K1;
    changed[5] ^= 1;
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, changed, strlen(changed)), 0);
    changed[5] ^= 1;
    changed[strlen(changed) - 1] ^= 1;
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, changed, strlen(changed)), 0);
    /* the length decides, not a NUL: K1 followed by more bytes given with K1's length matches */
    CU_ASSERT_EQUAL(auth_key_matches(keys, 2, K1 "trailing", strlen(K1)), 1);
    /* no keys: nothing matches */
    CU_ASSERT_EQUAL(auth_key_matches(keys, 0, K1, strlen(K1)), 0);
}

static char dir[400];

static clip_err load(const char *content, char **keys, size_t *n, char *err, size_t errlen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/keys", dir);
    CU_ASSERT_EQUAL_FATAL(tp_write_file(path, content), 0);
    return app_load_keys(path, keys, n, err, errlen);
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
}

static void test_load_keys(void)
{
    CU_ASSERT_EQUAL_FATAL(tp_tempdir("auth-keys", dir, sizeof dir), 0);
    char *keys[APP_KEYS_MAX];
    size_t n = 99;
    char err[512] = "";
    CU_ASSERT_EQUAL(load("# service keys\n" K1 "\n\n   \n  " K2 "  \r\n# old\n", keys, &n, err,
                         sizeof err),
                    CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    UNIT_ASSERT_STR(keys[0], K1);
    UNIT_ASSERT_STR(keys[1], K2); /* white space around a key is not part of it */
    free_keys(keys, n);
    /* the last line needs no newline */
    CU_ASSERT_EQUAL(load(K1, keys, &n, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(n, 1);
    free_keys(keys, n);
    /* an empty file is no keys (auth_service then answers 503) */
    CU_ASSERT_EQUAL(load("", keys, &n, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(n, 0);
}

static void test_load_keys_refusals(void)
{
    char *keys[APP_KEYS_MAX];
    size_t n = 0;
    char err[512] = "", want[700];
    char path[512];
    snprintf(path, sizeof path, "%s/keys", dir);
    /* a short key anywhere refuses the whole file, and nothing is kept */
    CU_ASSERT_EQUAL(load(K1 "\nshort\n", keys, &n, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_EQUAL(n, 0);
    snprintf(want, sizeof want, "internal_keys_file: %s:2: key shorter than %d bytes", path,
             APP_KEY_MIN_LEN);
    UNIT_ASSERT_STR(err, want);
    /* a key over APP_KEY_MAX_LEN */
    char *big = malloc(APP_KEY_MAX_LEN + 64);
    memset(big, 'k', APP_KEY_MAX_LEN + 10);
    big[APP_KEY_MAX_LEN + 10] = '\n';
    big[APP_KEY_MAX_LEN + 11] = '\0';
    CU_ASSERT_EQUAL(load(big, keys, &n, err, sizeof err), CLIP_EINVAL);
    snprintf(want, sizeof want, "internal_keys_file: %s:1: key longer than %d", path,
             APP_KEY_MAX_LEN);
    UNIT_ASSERT_STR(err, want);
    /* exactly APP_KEY_MAX_LEN is fine */
    big[APP_KEY_MAX_LEN] = '\n';
    big[APP_KEY_MAX_LEN + 1] = '\0';
    CU_ASSERT_EQUAL(load(big, keys, &n, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(strlen(keys[0]), APP_KEY_MAX_LEN);
    free_keys(keys, n);
    free(big);
    /* more keys than APP_KEYS_MAX */
    buf_t many = BUF_INIT;
    for (int i = 0; i <= APP_KEYS_MAX; i++)
        buf_printf(&many, "key-number-%08d\n", i);
    CU_ASSERT_EQUAL(load(many.p, keys, &n, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_EQUAL(n, 0);
    snprintf(want, sizeof want, "internal_keys_file: more than %d keys", APP_KEYS_MAX);
    UNIT_ASSERT_STR(err, want);
    buf_free(&many);
    /* no such file */
    snprintf(path, sizeof path, "%s/missing", dir);
    CU_ASSERT_EQUAL(app_load_keys(path, keys, &n, err, sizeof err), CLIP_EINVAL);
    snprintf(want, sizeof want, "internal_keys_file: cannot read %s: No such file or directory",
             path);
    UNIT_ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(n, 0);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_key_matches), UNIT_TEST(test_load_keys),
                           UNIT_TEST(test_load_keys_refusals), CU_TEST_INFO_NULL};
    return unit_run("auth", tests, NULL, NULL);
}
