/* Mel filterbank and MFCC (see mel.h). */
#include <math.h>
#include <pthread.h>

#include "analysis/mel.h"
#include "analysis/stft.h"
#include "util/simd.h"

/* Adjacent triangles overlap by at most one band, so each bin has at most two
 * non-zero weights. */
#define SM__MEL_MAXW (2 * SM_AN_NBINS)
#define SM__MEL_FMAX (SM_AN_RATE / 2.0)

struct sm__mel {
    size_t first[SM_AN_NMEL];
    size_t count[SM_AN_NMEL];
    size_t offset[SM_AN_NMEL];
    float w[SM__MEL_MAXW];
};

static struct sm__mel mel_bank;
/* dct[k][m]: orthonormal DCT-II, row k for coefficient k. */
static float dct[SM_MFCC_COUNT][SM_AN_NMEL];
static pthread_once_t mel_once = PTHREAD_ONCE_INIT;

/* Slaney's mel scale (librosa htk=False). */
static double hz_to_mel(double hz)
{
    const double f_sp = 200.0 / 3.0;
    const double logstep = log(6.4) / 27.0;
    if (hz < 1000.0)
        return hz / f_sp;
    return 15.0 + log(hz / 1000.0) / logstep;
}

static double mel_to_hz(double mel)
{
    const double f_sp = 200.0 / 3.0;
    const double logstep = log(6.4) / 27.0;
    if (mel < 15.0)
        return mel * f_sp;
    return 1000.0 * exp(logstep * (mel - 15.0));
}

static void build(void)
{
    double edges[SM_AN_NMEL + 2];
    double mel_max = hz_to_mel(SM__MEL_FMAX);
    for (size_t i = 0; i < SM_AN_NMEL + 2; i++)
        edges[i] = mel_to_hz(mel_max * (double)i / (SM_AN_NMEL + 1));

    size_t used = 0;
    for (size_t b = 0; b < SM_AN_NMEL; b++) {
        double lo = edges[b];
        double mid = edges[b + 1];
        double hi = edges[b + 2];
        double enorm = 2.0 / (hi - lo);
        mel_bank.first[b] = 0;
        mel_bank.count[b] = 0;
        mel_bank.offset[b] = used;
        for (size_t k = 0; k < SM_AN_NBINS; k++) {
            double f = sm__bin_hz(k);
            double lower = (f - lo) / (mid - lo);
            double upper = (hi - f) / (hi - mid);
            double w = lower < upper ? lower : upper;
            if (!(w > 0.0) || used >= SM__MEL_MAXW)
                continue;
            if (mel_bank.count[b] == 0)
                mel_bank.first[b] = k;
            /* The support of a triangle is contiguous, so the bins between the
             * first and this one are all in it. */
            mel_bank.w[used] = (float)(w * enorm);
            used++;
            mel_bank.count[b]++;
        }
    }

    for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
        double scale = k == 0 ? sqrt(1.0 / SM_AN_NMEL) : sqrt(2.0 / SM_AN_NMEL);
        for (size_t m = 0; m < SM_AN_NMEL; m++)
            dct[k][m] = (float)(scale * cos(M_PI * (double)k * (2.0 * (double)m + 1.0) /
                                            (2.0 * SM_AN_NMEL)));
    }
}

const struct sm__mel *sm__mel_get(void)
{
    pthread_once(&mel_once, build);
    return &mel_bank;
}

SM__HOT void sm__mel_apply(const struct sm__mel *m, const float *power, float *mel)
{
    for (size_t b = 0; b < SM_AN_NMEL; b++) {
        const float *w = m->w + m->offset[b];
        const float *p = power + m->first[b];
        size_t n = m->count[b];
        float acc = 0.0f;
        for (size_t i = 0; i < n; i++)
            acc += w[i] * p[i];
        mel[b] = acc;
    }
}

size_t sm__mel_band(const struct sm__mel *m, size_t band, size_t *first,
                    const float **weights)
{
    if (band >= SM_AN_NMEL) {
        *first = 0;
        *weights = NULL;
        return 0;
    }
    *first = m->first[band];
    *weights = m->w + m->offset[band];
    return m->count[band];
}

void sm__mfcc_init(struct sm__mfcc *m)
{
    for (size_t k = 0; k < SM_MFCC_COUNT; k++)
        m->c[k] = (struct sm__running){0.0, 0.0, 0.0};
}

SM__HOT void sm__mfcc_compute(const float *mel, float *c)
{
    /* 10 log10(x) = (10 / ln 10) ln(x). */
    const float db = 4.34294482f;
    float lm[SM_AN_NMEL];
    /* The DCT table is built with the filterbank. */
    pthread_once(&mel_once, build);
    for (size_t m = 0; m < SM_AN_NMEL; m++) {
        float x = mel[m] > 1e-10f ? mel[m] : 1e-10f;
        lm[m] = db * logf(x);
    }
    for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
        const float *d = dct[k];
        float acc[8] = {0};
        for (size_t m = 0; m < SM_AN_NMEL; m += 8)
            for (size_t j = 0; j < 8; j++)
                acc[j] += d[m + j] * lm[m + j];
        c[k] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
}

void sm__mfcc_process(struct sm__mfcc *m, const struct sm__frame *f)
{
    if (sm__stft_is_silent(f))
        return;
    const float *mel = f->mel;
    float local[SM_AN_NMEL];
    if (!mel) {
        if (!f->power)
            return;
        sm__mel_apply(sm__mel_get(), f->power, local);
        mel = local;
    }
    float c[SM_MFCC_COUNT];
    sm__mfcc_compute(mel, c);
    for (size_t k = 0; k < SM_MFCC_COUNT; k++)
        sm__running_add(&m->c[k], (double)c[k]);
}

void sm__mfcc_finish(const struct sm__mfcc *m, sm_analysis *a)
{
    for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
        const struct sm__running *r = &m->c[k];
        if (r->n > 0.0) {
            a->mfcc_mean[k] = r->mean;
            a->mfcc_std[k] = sqrt(r->m2 / r->n);
        } else {
            a->mfcc_mean[k] = NAN;
            a->mfcc_std[k] = NAN;
        }
    }
}
