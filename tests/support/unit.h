/* unit: the tiny harness every CUnit test binary uses: one suite per file, run in basic mode. */
#ifndef CLIP_TEST_UNIT_H
#define CLIP_TEST_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

/* Registers the tests (a CU_TestInfo array ending in CU_TEST_INFO_NULL) as one suite, runs them,
 * prints CUnit's summary and returns the process exit code (0 only when every test passed). */
int unit_run(const char *suite, CU_TestInfo *tests, CU_InitializeFunc init, CU_CleanupFunc clean);

#define UNIT_TEST(fn) {#fn, fn}

/* Asserts two NUL-terminated strings are equal and prints both when they are not. */
#define UNIT_ASSERT_STR(actual, expected)                                                          \
    do {                                                                                           \
        const char *ua_ = (actual), *ue_ = (expected);                                             \
        int ok_ = ua_ && ue_ && strcmp(ua_, ue_) == 0;                                             \
        if (!ok_)                                                                                  \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__,            \
                    ue_ ? ue_ : "(null)", ua_ ? ua_ : "(null)");                                   \
        CU_ASSERT_TRUE(ok_);                                                                       \
    } while (0)

#endif
