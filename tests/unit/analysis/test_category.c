#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>

#include <sndfile.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include "analysis/classify.h"
#include "testutil.h"

/* ---- Hand-built descriptor sets. ----
 * The values are what the pipeline measured on a synthesized kick (a 150 -> 50
 * Hz sine sweep, 150 ms decay) and a synthesized closed hat (differentiated
 * white noise, 30 ms decay), both 0.5 s. */

static void set_env(sm_analysis *a, size_t n, double decay_frames)
{
    a->rms_env = sm_malloc(n * sizeof(float));
    assert_non_null(a->rms_env);
    a->n_rms_env = n;
    for (size_t i = 0; i < n; i++)
        a->rms_env[i] = (float)(0.3 * exp(-(double)i / decay_frames));
}

static void set_stats(sm_analysis *a, const double *mean_std)
{
    for (int i = 0; i < SM_SPEC_COUNT; i++) {
        a->spectral[i].mean = mean_std[2 * i];
        a->spectral[i].std = mean_std[2 * i + 1];
    }
}

static void kick_like(sm_analysis *a)
{
    static const double spec[2 * SM_SPEC_COUNT] = {
        67.1, 39.4, 75.7, 134.9, 63.1, 22.3, 2.5e-7, 9.1e-7, 0.0516, 0.0787,
        0.0049, 0.0011, 0.186, 0.158};
    static const double con[SM_CONTRAST_BANDS] = {33.4, 11.1, 9.4, 9.0, 10.4, 14.2, 15.6};
    static const double mm[SM_MFCC_COUNT] = {-663.7, 115.5, 79.5, 64.9, 48.4, 39.4, 32.5,
                                             29.3, 25.1, 22.8, 19.6, 18.4, 16.4};
    static const double ms[SM_MFCC_COUNT] = {144.0, 29.6, 25.8, 13.7, 13.0, 8.4, 8.8,
                                             6.2, 7.3, 4.8, 5.9, 4.3, 5.4};
    sm_analysis_init(a);
    set_stats(a, spec);
    for (int i = 0; i < SM_CONTRAST_BANDS; i++) {
        a->contrast[i].mean = con[i];
        a->contrast[i].std = 3.0;
    }
    for (int i = 0; i < SM_MFCC_COUNT; i++) {
        a->mfcc_mean[i] = mm[i];
        a->mfcc_std[i] = ms[i];
    }
    for (int i = 0; i < SM_CHROMA_COUNT; i++)
        a->chroma[i] = i == 1 ? 1.0 : 0.2;
    a->duration = 0.5;
    a->attack_ms = 0.5;
    a->decay_ms = 177.0;
    a->has_note = true;
    a->note_hz = 50.1;
    a->note_midi = 31;
    a->note_confidence = 0.79;
    a->loop = false;
    set_env(a, 22, 3.0);
}

/* The descriptors the pipeline gives the generated demo hi-hat (`sm-gen demo`,
 * hihat.wav), so the test is a real hat as the current modules see it. */
static void hat_like(sm_analysis *a)
{
    static const double spec[2 * SM_SPEC_COUNT] = {
        7191.7, 309.5, 1901.4, 298.9, 8927.9, 70.1, 0.062, 0.0542, 0.018, 0.0023,
        0.6658, 0.1188, 0.0499, 0.0571};
    static const double con[SM_CONTRAST_BANDS] = {13.666, 9.037, 11.681, 13.436,
                                                  14.853, 16.966, 45.968};
    static const double mm[SM_MFCC_COUNT] = {-278.166, -93.673, 15.369, -1.972, -4.403,
                                             7.645,    -5.833,  9.268,  -6.056, 10.146,
                                             -5.14,    9.319,   -5.027};
    static const double ms[SM_MFCC_COUNT] = {167.512, 44.409, 9.844, 3.892, 4.207,
                                             2.579,   2.289,  2.926, 2.739, 1.491,
                                             2.078,   1.242,  3.717};
    static const double chroma[SM_CHROMA_COUNT] = {0.603, 0.869, 1.0,   0.729, 0.345, 0.381,
                                                   0.473, 0.47,  0.446, 0.474, 0.604, 0.498};
    sm_analysis_init(a);
    set_stats(a, spec);
    for (int i = 0; i < SM_CONTRAST_BANDS; i++) {
        a->contrast[i].mean = con[i];
        a->contrast[i].std = 2.0;
    }
    for (int i = 0; i < SM_MFCC_COUNT; i++) {
        a->mfcc_mean[i] = mm[i];
        a->mfcc_std[i] = ms[i];
    }
    for (int i = 0; i < SM_CHROMA_COUNT; i++)
        a->chroma[i] = chroma[i];
    a->duration = 0.3;
    a->attack_ms = 0.0;
    a->decay_ms = 87.1;
    a->has_note = false;
    a->loop = false;
    set_env(a, 22, 1.2);
}

static void assert_prob(double p)
{
    assert_false(isnan(p));
    assert_true(p >= 0.0 && p <= 1.0);
}

/* ---- Path words. ---- */

static void test_category__path_words_whole_words(void **state)
{
    (void)state;
    assert_int_equal(sm__category_from_path("/lib/Drums/Kick_01.wav"), SM_CAT_KICK);
    assert_int_equal(sm__category_from_path("/x/Snares/one.wav"), SM_CAT_SNARE);
    assert_int_equal(sm__category_from_path("/x/CLAPS/a.wav"), SM_CAT_CLAP);
    assert_int_equal(sm__category_from_path("808_C1.wav"), SM_CAT_BASS);
    assert_int_equal(sm__category_from_path("/a/OH_02.wav"), SM_CAT_HIHAT_OPEN);
    assert_int_equal(sm__category_from_path("Open Hat 3.wav"), SM_CAT_HIHAT_OPEN);
    assert_int_equal(sm__category_from_path("HH closed.wav"), SM_CAT_HIHAT_CLOSED);
    assert_int_equal(sm__category_from_path("/s/Bass Drum 1.aif"), SM_CAT_KICK);
    assert_int_equal(sm__category_from_path("KickDrum01.wav"), SM_CAT_KICK);
    assert_int_equal(sm__category_from_path("/Pads/warm.flac"), SM_CAT_PAD);
    assert_int_equal(sm__category_from_path("/Vocals/adlib.wav"), SM_CAT_VOCAL);
    assert_int_equal(sm__category_from_path("/x/Gtr/riff.wav"), SM_CAT_GUITAR);
    assert_int_equal(sm__category_from_path("/x/Rhodes_C.wav"), SM_CAT_KEYS);
    assert_int_equal(sm__category_from_path("/x/Horns/stab.wav"), SM_CAT_BRASS);
    assert_int_equal(sm__category_from_path("/x/Riser_8bar.wav"), SM_CAT_FX);
    /* The file name is nearer than its folder. */
    assert_int_equal(sm__category_from_path("/Kicks/snare_01.wav"), SM_CAT_SNARE);
    /* Three folders up count; the disk above them does not. */
    assert_int_equal(sm__category_from_path("/Kicks/a/b/c.wav"), SM_CAT_KICK);
    assert_int_equal(sm__category_from_path("/Kicks/a/b/c/d.wav"), -1);
    assert_int_equal(sm__category_from_path("/home/lead/x/y/z/take1.wav"), -1);
    assert_int_equal(sm__category_from_path("/Kicks/take_01.wav"), SM_CAT_KICK);
}

static void test_category__path_words_reject_parts_of_words(void **state)
{
    (void)state;
    assert_int_equal(sm__category_from_path("kickstart.wav"), -1);
    assert_int_equal(sm__category_from_path("/Users/bob/Desktop/take1.wav"), -1);
    assert_int_equal(sm__category_from_path("Subway.wav"), -1);
    assert_int_equal(sm__category_from_path("/tmp/x.kick"), -1);
    assert_int_equal(sm__category_from_path("Padded.wav"), -1);
    assert_int_equal(sm__category_from_path(""), -1);
    assert_int_equal(sm__category_from_path(NULL), -1);
}

/* ---- The decision. ---- */

static void spread(double *p, int top, double ptop, int second, double psecond)
{
    double rest = (1.0 - ptop - psecond) / (SM_CAT_COUNT - 2);
    for (int c = 0; c < SM_CAT_COUNT; c++)
        p[c] = rest;
    p[top] = ptop;
    p[second] = psecond;
}

static void test_category__strong_audio_stands_against_path(void **state)
{
    (void)state;
    double p[SM_CAT_COUNT];
    spread(p, SM_CAT_KICK, 0.9, SM_CAT_TOM, 0.05);
    sm_analysis a;
    sm_analysis_init(&a);

    sm__category_decide(&a, p, 0, -1);
    assert_int_equal(a.category, SM_CAT_KICK);
    assert_int_equal(a.category_runner_up, SM_CAT_TOM);
    assert_true(fabs(a.category_confidence - 0.9) < 1e-9);
    assert_string_equal(a.category_evidence, "audio");

    sm__category_decide(&a, p, 0, SM_CAT_SNARE);
    assert_int_equal(a.category, SM_CAT_KICK);
    assert_true(fabs(a.category_confidence - 0.9) < 1e-9);
    assert_string_equal(a.category_evidence, "audio (path says snare)");

    sm__category_decide(&a, p, 0, SM_CAT_KICK);
    assert_int_equal(a.category, SM_CAT_KICK);
    assert_true(a.category_confidence > 0.9 && a.category_confidence <= 1.0);
    assert_string_equal(a.category_evidence, "audio+path");
    sm_analysis_release(&a);
}

static void test_category__path_decides_only_weak_audio(void **state)
{
    (void)state;
    double p[SM_CAT_COUNT];
    sm_analysis a;
    sm_analysis_init(&a);

    /* Weak audio, and the path names the close second: the path decides. */
    spread(p, SM_CAT_KICK, 0.40, SM_CAT_TOM, 0.30);
    sm__category_decide(&a, p, 0, SM_CAT_TOM);
    assert_int_equal(a.category, SM_CAT_TOM);
    assert_int_equal(a.category_runner_up, SM_CAT_KICK);
    assert_string_equal(a.category_evidence, "path overrode weak audio");
    assert_prob(a.category_confidence);
    assert_true(a.category_confidence > a.category_runner_up_confidence);

    /* Weak audio, but it all but rules out what the path names: the audio is
     * still respected. */
    p[SM_CAT_PAD] = 0.001;
    p[SM_CAT_OTHER] += (1.0 - 0.40 - 0.30) / (SM_CAT_COUNT - 2) - 0.001;
    sm__category_decide(&a, p, 0, SM_CAT_PAD);
    assert_int_equal(a.category, SM_CAT_KICK);
    assert_string_equal(a.category_evidence, "audio (path says pad)");

    /* Out-of-range path category is ignored. */
    sm__category_decide(&a, p, 0, 99);
    assert_int_equal(a.category, SM_CAT_KICK);
    assert_string_equal(a.category_evidence, "audio");
    sm_analysis_release(&a);
}

static void test_category__silence_is_other_unless_named(void **state)
{
    (void)state;
    sm_analysis a;
    sm_analysis_init(&a); /* every descriptor NaN, as for silence */
    sm__category_analyze(&a);
    assert_int_equal(a.category, SM_CAT_OTHER);
    assert_true(a.category_confidence >= 0.0 && a.category_confidence <= 0.0);
    assert_string_equal(a.category_evidence, "audio (no signal)");

    a.path = sm_strdup("/lib/Snares/silent.wav");
    sm__category_analyze(&a);
    assert_int_equal(a.category, SM_CAT_SNARE);
    assert_string_equal(a.category_evidence, "path overrode weak audio");
    assert_prob(a.category_confidence);
    sm_analysis_release(&a);
}

/* ---- Features and audio probabilities. ---- */

static void test_category__kick_and_hat_descriptors(void **state)
{
    (void)state;
    sm_analysis k;
    sm_analysis h;
    kick_like(&k);
    hat_like(&h);
    sm__category_analyze(&k);
    sm__category_analyze(&h);
    assert_int_equal(k.category, SM_CAT_KICK);
    assert_string_equal(k.category_evidence, "audio");
    assert_true(h.category == SM_CAT_HIHAT_CLOSED || h.category == SM_CAT_HIHAT_OPEN);
    assert_prob(k.category_confidence);
    assert_prob(h.category_runner_up_confidence);
    assert_int_not_equal(k.category, k.category_runner_up);

    /* A path word for the same class only adds evidence. */
    k.path = sm_strdup("/Drums/Kicks/k1.wav");
    double before = k.category_confidence;
    sm__category_analyze(&k);
    assert_int_equal(k.category, SM_CAT_KICK);
    assert_string_equal(k.category_evidence, "audio+path");
    assert_true(k.category_confidence >= before);
    sm_analysis_release(&k);
    sm_analysis_release(&h);
}

static void test_category__nan_descriptors_give_finite_output(void **state)
{
    (void)state;
    sm_analysis a;
    kick_like(&a);
    /* Knock out descriptors one group at a time. */
    a.attack_ms = NAN;
    a.decay_ms = NAN;
    a.note_hz = NAN;
    a.note_confidence = NAN;
    for (int i = 0; i < SM_CHROMA_COUNT; i++)
        a.chroma[i] = NAN;
    for (int i = 1; i < SM_MFCC_COUNT; i++)
        a.mfcc_mean[i] = NAN;
    a.spectral[SM_SPEC_FLUX].mean = NAN;
    a.spectral[SM_SPEC_ZCR].std = INFINITY;
    a.duration = 0.0;

    float f[SM__CAT_NFEAT];
    sm__category_features(&a, f);
    for (size_t i = 0; i < SM__CAT_NFEAT; i++)
        assert_false(isinf(f[i]) && f[i] < 0.0f);
    double p[SM_CAT_COUNT];
    assert_int_equal(sm__category_audio_probs(&a, p), 0);
    double sum = 0.0;
    for (int c = 0; c < SM_CAT_COUNT; c++) {
        assert_prob(p[c]);
        sum += p[c];
    }
    assert_true(fabs(sum - 1.0) < 1e-6);
    sm__category_analyze(&a);
    assert_true(a.category >= 0 && a.category < SM_CAT_COUNT);
    assert_prob(a.category_confidence);
    assert_prob(a.category_runner_up_confidence);
    assert_string_equal(sm__category_feature_name(0), "log_centroid");
    assert_string_equal(sm__category_feature_name(SM__CAT_NFEAT), "?");
    sm_analysis_release(&a);
}

/* ---- End to end. ---- */

static int analyze_file(const char *path, sm_analysis *a)
{
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    assert_non_null(an);
    sm_analysis_init(a);
    sm_status st = sm_analyzer_run(an, path, a, &err);
    sm_analyzer_free(an);
    return st == SM_OK ? 0 : -1;
}

static void test_category__rendered_kick_and_hat(void **state)
{
    (void)state;
    const int rate = 44100;
    size_t n = (size_t)rate / 2;
    float *x = calloc(n, sizeof(float));
    assert_non_null(x);
    char kick_path[4096];
    char hat_path[4096];

    /* Kick: a sine falling from 150 to 50 Hz, decaying in 150 ms. */
    double ph = 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        ph += 2.0 * M_PI * (50.0 + 100.0 * exp(-t / 0.03)) / rate;
        x[i] = (float)(0.9 * sin(ph) * exp(-t / 0.15));
    }
    /* Three neutral folders, so the checkout's own folder names are no evidence. */
    char dir[2048];
    snprintf(dir, sizeof(dir) - 8, "%s", tu_path("rendered"));
    mkdir(dir, 0700);
    strcat(dir, "/a");
    mkdir(dir, 0700);
    strcat(dir, "/b");
    mkdir(dir, 0700);
    snprintf(kick_path, sizeof(kick_path), "%s/take1.wav", dir);
    assert_int_equal(tu_write(kick_path, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_16), 0);

    /* Hat: differentiated white noise, decaying in 30 ms. */
    tu_noise(x, n, 1.0, 11);
    float prev = 0.0f;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        float d = x[i] - prev;
        prev = x[i];
        x[i] = (float)(0.5 * (double)d * exp(-t / 0.03));
    }
    snprintf(hat_path, sizeof(hat_path), "%s/take2.wav", dir);
    assert_int_equal(tu_write(hat_path, x, n, 1, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_16), 0);
    free(x);

    sm_analysis k;
    sm_analysis h;
    assert_int_equal(analyze_file(kick_path, &k), 0);
    assert_int_equal(analyze_file(hat_path, &h), 0);
    assert_int_equal(k.category, SM_CAT_KICK);
    assert_string_equal(k.category_evidence, "audio");
    assert_true(h.category == SM_CAT_HIHAT_CLOSED || h.category == SM_CAT_HIHAT_OPEN);
    assert_true(k.category_confidence > 0.5);
    sm_analysis_release(&k);
    sm_analysis_release(&h);
    remove(kick_path);
    remove(hat_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_category__path_words_whole_words),
        cmocka_unit_test(test_category__path_words_reject_parts_of_words),
        cmocka_unit_test(test_category__strong_audio_stands_against_path),
        cmocka_unit_test(test_category__path_decides_only_weak_audio),
        cmocka_unit_test(test_category__silence_is_other_unless_named),
        cmocka_unit_test(test_category__kick_and_hat_descriptors),
        cmocka_unit_test(test_category__nan_descriptors_give_finite_output),
        cmocka_unit_test(test_category__rendered_kick_and_hat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
