/* The result record: sm_analysis life cycle and category names. */
#include <math.h>
#include <string.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include <samplemind/version.h>

const char *sm_category_name(int c)
{
    switch (c) {
#define SM__CAT_NAME(id, num, name)                                                 \
    case num:                                                                       \
        return name;
        SM_CATEGORY_MAP(SM__CAT_NAME)
#undef SM__CAT_NAME
        default:
            return "other";
    }
}

int sm_category_from_name(const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, "hihat") || !strcmp(name, "hat"))
        return SM_CAT_HIHAT_CLOSED;
    for (int c = 0; c < SM_CAT_COUNT; c++)
        if (!strcmp(name, sm_category_name(c)))
            return c;
    return -1;
}

void sm_analysis_init(sm_analysis *a)
{
    memset(a, 0, sizeof(*a));
    a->analyzer_version = SM_ANALYZER_VERSION;
    a->duration = NAN;
    a->integrated_lufs = NAN;
    a->range_lu = NAN;
    a->momentary_max_lufs = NAN;
    a->short_term_max_lufs = NAN;
    a->sample_peak_dbfs = NAN;
    a->true_peak_dbtp = NAN;
    for (int i = 0; i < SM_SPEC_COUNT; i++)
        a->spectral[i].mean = a->spectral[i].std = NAN;
    for (int i = 0; i < SM_CONTRAST_BANDS; i++)
        a->contrast[i].mean = a->contrast[i].std = NAN;
    for (int i = 0; i < SM_MFCC_COUNT; i++)
        a->mfcc_mean[i] = a->mfcc_std[i] = NAN;
    a->tuning_cents = NAN;
    a->attack_ms = NAN;
    a->decay_ms = NAN;
    a->bpm = NAN;
    a->bpm_confidence = NAN;
    a->key_tonic = -1;
    a->key_confidence = NAN;
    a->note_hz = NAN;
    a->note_midi = -1;
    a->note_cents = NAN;
    a->note_confidence = NAN;
    a->loop_confidence = NAN;
    a->category = SM_CAT_OTHER;
    a->category_confidence = NAN;
    a->category_runner_up = SM_CAT_OTHER;
    a->category_runner_up_confidence = NAN;
    a->brightness = a->warmth = a->hardness = NAN;
    a->depth = a->roughness = a->boominess = NAN;
}

void sm_analysis_release(sm_analysis *a)
{
    if (!a)
        return;
    sm_free(a->path);
    sm_free(a->onsets);
    sm_free(a->rms_env);
    sm_free(a->peaks);
    sm_free(a->beats);
    sm_free(a->embedding);
    sm_analysis_init(a);
}

