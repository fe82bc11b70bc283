/* libFuzzer target: arbitrary bytes through decode + the whole analysis + JSON.
 * libsndfile reads from a path, so each input is written to a tmpfs file first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sm_analyzer *an;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!an) {
        an = sm_analyzer_new(NULL, NULL);
        snprintf(path, sizeof(path), "/dev/shm/sm-fuzz-%d", (int)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    sm_analysis a;
    sm_analysis_init(&a);
    sm_error err = SM_ERROR_INIT;
    if (sm_analyzer_run(an, path, &a, &err) == SM_OK) {
        char *json = sm_analysis_to_json(&a, SM_JSON_EMBEDDING | SM_JSON_WAVEFORM);
        if (!json)
            abort();
        sm_free(json);
    } else {
        char *json = sm_analysis_error_json(path, &err);
        sm_free(json);
    }
    sm_analysis_release(&a);
    return 0;
}
