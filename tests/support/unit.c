/* unit: runs one CUnit suite and turns its result into an exit code. */
#include "unit.h"

#include <stdio.h>

int unit_run(const char *suite, CU_TestInfo *tests, CU_InitializeFunc init, CU_CleanupFunc clean)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_SuiteInfo suites[] = {{suite, init, clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        fprintf(stderr, "cannot register suite %s: %s\n", suite, CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    int suite_failed = CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    if (suite_failed || run == 0)
        return 1;
    return failed ? 1 : 0;
}
