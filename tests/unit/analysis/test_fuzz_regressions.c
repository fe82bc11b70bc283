/* Every input a fuzzer ever crashed on, replayed through the whole analysis:
 * each must end in SM_OK or a clean error, with valid JSON either way. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include "testutil.h"

static void test_fuzz_regressions__every_fixture_ends_cleanly(void **state)
{
    (void)state;
    const char *src = getenv("SM_SOURCE");
    assert_non_null(src);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/fixtures/fuzz", src);
    DIR *d = opendir(dir);
    assert_non_null(d);
    sm_analyzer *an = sm_analyzer_new(NULL, NULL);
    assert_non_null(an);
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        sm_analysis a;
        sm_analysis_init(&a);
        sm_error err = SM_ERROR_INIT;
        sm_status rc = sm_analyzer_run(an, path, &a, &err);
        char *json = rc == SM_OK ? sm_analysis_to_json(&a, SM_JSON_EMBEDDING | SM_JSON_WAVEFORM)
                                 : sm_analysis_error_json(path, &err);
        assert_non_null(json);
        assert_null(strstr(json, "nan"));
        assert_null(strstr(json, "inf"));
        if (rc != SM_OK)
            assert_true(err.msg[0] != '\0');
        sm_free(json);
        sm_analysis_release(&a);
        seen++;
    }
    closedir(d);
    sm_analyzer_free(an);
    assert_true(seen >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_regressions__every_fixture_ends_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
