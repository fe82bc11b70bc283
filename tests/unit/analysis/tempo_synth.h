/* Shared by the tempo tests (test_tempo.c, test_tempo_tonal.c): hand-made
 * spectra for the onset module, and the tempo module run on what it built.
 * Include after <cmocka.h>, <samplemind/analysis.h>, "analysis/frame.h",
 * "analysis/onset.h" and "analysis/tempo.h". */
#ifndef SM_TEST_TEMPO_SYNTH_H
#define SM_TEST_TEMPO_SYNTH_H

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* Adds a partial of frequency hz and magnitude m to mag (a Hann main lobe). */
static inline void add_partial(float *mag, double hz, double m)
{
    double k = hz * SM_AN_NFFT / SM_AN_RATE;
    long c = lround(k);
    for (long j = c - 2; j <= c + 2; j++) {
        if (j < 0 || j >= SM_AN_NBINS)
            continue;
        double d = fabs((double)j - k);
        double w = d < 2.0 ? 0.5 + 0.5 * cos(M_PI * d / 2.0) : 0.0;
        mag[j] += (float)(m * w);
    }
}

/* Runs sm__tempo_analyze_ex on the onset state o of a sound of seconds s
 * with the RMS envelope rms[n] and has_key as key, as the analyzer does;
 * then frees rms and releases o. */
static inline void tempo_run(struct sm__onset *o, float *rms, size_t n, double seconds, bool key,
                             sm_analysis *a)
{
    sm_analysis_init(a);
    a->duration = seconds;
    a->has_key = key;
    a->rms_env = rms;
    a->n_rms_env = n;
    assert_int_equal(sm__tempo_analyze_ex(o, a), 0);
    a->rms_env = NULL;
    a->n_rms_env = 0;
    free(rms);
    sm__onset_release(o);
}

/* Fails unless a has a tempo within tol BPM of want (says what it got). */
static inline void expect_tempo(const sm_analysis *a, double want, double tol)
{
    if (!a->has_tempo || !(fabs(a->bpm - want) <= tol))
        fail_msg("%.1f BPM, want %.1f: %s", a->bpm, want, a->loop_evidence);
}

#endif
