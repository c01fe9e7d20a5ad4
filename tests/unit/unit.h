/* unit.h - the main() every unit test file shares: one suite, one case. */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>
#include <stdlib.h>

#define UNIT_MAIN(suite_name, ...)                                    \
    int main(void)                                                    \
    {                                                                 \
        Suite *s = suite_create(suite_name);                          \
        TCase *tc = tcase_create("core");                             \
        const TTest *tests[] = {__VA_ARGS__};                         \
        SRunner *sr;                                                  \
        int failed;                                                   \
        tcase_set_timeout(tc, 60);                                    \
        for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) \
            _tcase_add_test(tc, tests[i], 0, 0, 0, 1);                \
        suite_add_tcase(s, tc);                                       \
        sr = srunner_create(s);                                       \
        srunner_run_all(sr, CK_NORMAL);                               \
        failed = srunner_ntests_failed(sr);                           \
        srunner_free(sr);                                             \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;             \
    }

#endif
