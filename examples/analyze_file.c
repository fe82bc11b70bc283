/* The smallest use of libsamplemind: analyze the files given on the command line
 * and print a line each. Built by CMake (example-analyze_file) so it cannot rot.
 *
 *   cc analyze_file.c $(pkg-config --cflags --libs samplemind) -o analyze_file
 */
#include <math.h>
#include <stdio.h>

#include <samplemind/analysis.h>

int main(int argc, char **argv)
{
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    if (!an) {
        fprintf(stderr, "analyzer: %s\n", err.msg);
        return 1;
    }
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        sm_analysis a;
        sm_analysis_init(&a);
        if (sm_analyzer_run(an, argv[i], &a, &err) != SM_OK) {
            fprintf(stderr, "%s: %s: %s\n", argv[i], sm_status_name(err.code), err.msg);
            failed = 1;
            continue;
        }
        char key[32] = "-";
        if (a.has_key)
            sm_key_name(a.key_tonic, a.key_mode, key, sizeof(key));
        printf("%s: %.2f s, %.1f LUFS, %s, %s, %s\n", argv[i], a.duration,
               isfinite(a.integrated_lufs) ? a.integrated_lufs : a.momentary_max_lufs,
               sm_category_name(a.category), a.loop ? "loop" : "one-shot", key);
        sm_analysis_release(&a);
    }
    sm_analyzer_free(an);
    return failed;
}
