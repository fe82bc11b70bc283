/* Chroma with tuning (see chroma.h). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "analysis/chroma.h"
#include "analysis/stft.h"
#include "util/simd.h"

#define SM__CHROMA_FMIN 55.0
#define SM__CHROMA_FMAX 5000.0
/* Fine bins per semitone. */
#define SM__CHROMA_SUB (SM_CHROMA_FINE / 12)

/* C0 at A440: 440 * 2^(-57 / 12) Hz. */
#define SM__C0_HZ 16.351597831287414

/* pos[k]: bin k's pitch in fine bins above C0 (120 per octave). */
static float pos[SM_AN_NBINS];
/* inv[k] = 1 / k. */
static float inv[SM_AN_NBINS];
static size_t kmin;
static size_t kmax;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (size_t k = 1; k < SM_AN_NBINS; k++) {
        pos[k] = (float)(SM_CHROMA_FINE * log2(sm__bin_hz(k) / SM__C0_HZ));
        inv[k] = (float)(1.0 / (double)k);
    }
    kmin = (size_t)ceil(SM__CHROMA_FMIN / sm__bin_hz(1));
    kmax = (size_t)floor(SM__CHROMA_FMAX / sm__bin_hz(1));
    if (kmin < 2)
        kmin = 2;
    if (kmax > SM_AN_NBINS - 2)
        kmax = SM_AN_NBINS - 2;
}

void sm__chroma_init(struct sm__chroma *c)
{
    memset(c, 0, sizeof(*c));
}

SM__HOT void sm__chroma_process(struct sm__chroma *c, const struct sm__frame *f)
{
    if (sm__stft_is_silent(f))
        return;
    pthread_once(&tables_once, build_tables);
    const float *p = f->power;
    const float *m = f->mag;
    /* 120 / ln 2: log2(1 + x) in fine bins is this times ln(1 + x). */
    const float fine_per_ln = 173.123405f;
    /* Peak bins first, branch-free (on noise a third of the bins are peaks,
     * at random, so a branch per bin would mispredict often). */
    uint16_t peaks[SM_AN_NBINS];
    size_t np = 0;
    for (size_t k = kmin; k <= kmax; k++) {
        peaks[np] = (uint16_t)k;
        np += (p[k] > p[k - 1]) & (p[k] >= p[k + 1]);
    }
    double total = 0.0;
    int start = c->frames < SM__CHROMA_START_FRAMES;
    for (size_t i = 0; i < np; i++) {
        size_t k = peaks[i];
        float a = m[k - 1];
        float b = m[k];
        float cc = m[k + 1];
        /* For a Hann window the neighbour ratios give the offset exactly:
         * c / b = (1 + d) / (2 - d) and a / b = (1 - d) / (2 + d). */
        float d = cc >= a ? (2.0f * cc - b) / (b + cc) : (b - 2.0f * a) / (a + b);
        d = d > 0.5f ? 0.5f : (d < -0.5f ? -0.5f : d);
        float x = d * inv[k];
        float ln1p = x * (1.0f - x * (0.5f - x * (1.0f / 3.0f - x * 0.25f)));
        float fp = pos[k] + fine_per_ln * ln1p;
        float e = m[k - 1] + m[k] + m[k + 1];
        int j0 = (int)fp;
        float w = fp - (float)j0;
        int ja = j0 % SM_CHROMA_FINE;
        int jb = (j0 + 1) % SM_CHROMA_FINE;
        c->fine[ja] += (double)((1.0f - w) * e);
        c->fine[jb] += (double)(w * e);
        if (start) {
            c->start[ja] += (double)((1.0f - w) * e);
            c->start[jb] += (double)(w * e);
        }
        total += (double)e;
    }
    c->total += total;
    c->frames++;
}

/* Fold the fine histogram into 12 classes around the tuned notes, divided by the
 * largest (all zeros when it is empty). */
static void fold12(const double *fine, double cents, double out[SM_CHROMA_COUNT])
{
    /* Fine bin j spans [j - 0.5, j + 0.5); shifted so the class boundaries are
     * multiples of SM__CHROMA_SUB, the part of it below the boundary goes to
     * class cl. */
    double shift = SM__CHROMA_SUB / 2.0 - cents / (100.0 / SM__CHROMA_SUB);
    double chroma[SM_CHROMA_COUNT] = {0};
    for (size_t j = 0; j < SM_CHROMA_FINE; j++) {
        double start = (double)j - 0.5 + shift;
        double cl = floor(start / SM__CHROMA_SUB);
        double below = (cl + 1.0) * SM__CHROMA_SUB - start;
        below = below > 1.0 ? 1.0 : below;
        int ci = ((int)cl % SM_CHROMA_COUNT + SM_CHROMA_COUNT) % SM_CHROMA_COUNT;
        chroma[ci] += below * fine[j];
        chroma[(ci + 1) % SM_CHROMA_COUNT] += (1.0 - below) * fine[j];
    }
    double mx = 0.0;
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++) {
        out[i] = 0.0;
        if (chroma[i] > mx)
            mx = chroma[i];
    }
    if (!(mx > 0.0))
        return;
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++)
        out[i] = chroma[i] / mx;
}

void sm__chroma_finish(const struct sm__chroma *c, sm_analysis *a)
{
    for (size_t i = 0; i < SM_CHROMA_COUNT; i++)
        a->chroma[i] = 0.0;
    a->tuning_cents = 0.0;
    if (!(c->total > 0.0))
        return;

    /* Fold onto one semitone and find the peak. */
    double fold[SM__CHROMA_SUB] = {0};
    for (size_t j = 0; j < SM_CHROMA_FINE; j++)
        fold[j % SM__CHROMA_SUB] += c->fine[j];
    size_t r = 0;
    double lo = fold[0];
    for (size_t i = 1; i < SM__CHROMA_SUB; i++) {
        if (fold[i] > fold[r])
            r = i;
        if (fold[i] < lo)
            lo = fold[i];
    }
    double fm = fold[(r + SM__CHROMA_SUB - 1) % SM__CHROMA_SUB] - lo;
    double f0 = fold[r] - lo;
    double fp = fold[(r + 1) % SM__CHROMA_SUB] - lo;
    double off = (double)r;
    if (fm + f0 + fp > 0.0)
        off += (fp - fm) / (fm + f0 + fp);
    double cents = off * (100.0 / SM__CHROMA_SUB);
    if (cents >= 50.0)
        cents -= 100.0;
    a->tuning_cents = cents;

    fold12(c->fine, cents, a->chroma);
}

void sm__chroma_start(const struct sm__chroma *c, const sm_analysis *a,
                      double out[SM_CHROMA_COUNT])
{
    double cents = isfinite(a->tuning_cents) ? a->tuning_cents : 0.0;
    fold12(c->start, cents, out);
}
