/* Fundamental frequency of tonal one-shots: YIN (de Cheveigne and Kawahara 2002)
 * with an FFT difference function. See pitch.h for the method. */
#include "analysis/pitch.h"
#include "analysis/stft.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <fftw3.h>

#include <samplemind/alloc.h>

#include "analysis/frame.h"

/* YIN's absolute threshold: the first lag whose normalised difference dips below
 * it wins (this is what avoids octave-down errors). */
#define YIN_THRESHOLD 0.15
/* A best dip above this is no period at all. */
#define YIN_APERIODIC 0.5
/* Share of the window's energy near harmonics 1..3 of f0 below which a period is a
 * chord's common period rather than a note. On the generated set sustained chords
 * (pads) score 0.0003-0.002, while notes go down to 0.05-0.13 (low piano and
 * organ notes whose fundamental is weak next to their upper partials). */
#define MIN_HARMONIC_SHARE 0.05
/* Octave-up check (see yin_run): from this lag on (f0 <= 551 Hz) a half-sample
 * misalignment of the integer lag cannot fake the margin below. */
#define DOUBLE_MIN_LAG 40
/* ... the dip at twice the lag must be this much deeper than the chosen one ... */
#define DOUBLE_RATIO 0.2
/* ... and the chosen dip at least this deep a difference (a clean period at the
 * chosen lag is left alone). */
#define DOUBLE_MIN_ND 0.01
/* Octave-down check (see octave_and_share): odd harmonics of f0 holding less than
 * this share of the harmonic energy mean f0 is half the note. */
#define ODD_MIN_SHARE 0.01
/* ... when harmonics 1..ODD_HARMONICS hold at least this share of the window's
 * energy (a cymbal's odd bands can be empty by chance, but its energy is
 * nowhere near harmonics). */
#define ODD_MIN_TONAL 0.8
/* Harmonics the octave-down check looks at. */
#define ODD_HARMONICS 10
/* Largest FFT: 2^20 points (the generic entry point uses at most that many samples). */
#define MAX_LOG2 20
#define ALIGN 64
/* Periods shorter than half this many samples are re-measured over several periods. */
#define REFINE_LAG 64.0

/* FFTW plans, one pair per power-of-two size, made on first use and kept for the
 * life of the process. The FFTW planner is not thread-safe, so planning happens
 * under the one process-wide FFTW lock that stft.c owns; executing a plan on other
 * arrays is thread-safe. */
static fftwf_plan plan_fwd[MAX_LOG2 + 1];
static fftwf_plan plan_inv[MAX_LOG2 + 1];

/* Work memory for one size: nfft-point buffers aligned to ALIGN bytes, so they
 * share the alignment of the arrays the plans were made with. */
struct yin {
    size_t nfft;
    int log2n;
    size_t tau_cap;     /* largest lag the arrays hold */
    float *a;           /* nfft: the segment, zero-padded */
    float *b;           /* nfft: the integration window, zero-padded; then r(tau) */
    fftwf_complex *fa;  /* nfft / 2 + 1 */
    fftwf_complex *fb;  /* nfft / 2 + 1 */
    double *cm;         /* tau_cap + 2: cumulative mean normalised difference */
    double *nd;         /* tau_cap + 2: difference over the energy of both parts */
    fftwf_plan fwd;
    fftwf_plan inv;
    void *mem;
};

static size_t align_up(size_t n)
{
    return (n + ALIGN - 1) / ALIGN * ALIGN;
}

static void yin_release(struct yin *y)
{
    sm_free(y->mem);
    memset(y, 0, sizeof(*y));
}

/* Work memory for segments of up to seg_len samples and lags up to tau_cap.
 * Returns 0, or -1 when out of memory or the size is beyond MAX_LOG2. */
static int yin_init(struct yin *y, size_t seg_len, size_t tau_cap)
{
    memset(y, 0, sizeof(*y));
    int log2n = 1;
    while (((size_t)1 << log2n) < seg_len && log2n < MAX_LOG2)
        log2n++;
    size_t nfft = (size_t)1 << log2n;
    if (nfft < seg_len)
        return -1;
    size_t nc = nfft / 2 + 1;
    size_t fl = align_up(nfft * sizeof(float));
    size_t cl = align_up(nc * sizeof(fftwf_complex));
    size_t dl = align_up((tau_cap + 2) * sizeof(double));
    unsigned char *mem = sm_malloc(ALIGN + 2 * fl + 2 * cl + 2 * dl);
    if (!mem)
        return -1;
    unsigned char *p = mem + (ALIGN - (uintptr_t)mem % ALIGN) % ALIGN;
    y->mem = mem;
    y->a = (float *)(void *)p;
    p += fl;
    y->b = (float *)(void *)p;
    p += fl;
    y->fa = (fftwf_complex *)(void *)p;
    p += cl;
    y->fb = (fftwf_complex *)(void *)p;
    p += cl;
    y->cm = (double *)(void *)p;
    p += dl;
    y->nd = (double *)(void *)p;
    y->nfft = nfft;
    y->log2n = log2n;
    y->tau_cap = tau_cap;

    sm__stft_plan_lock();
    if (!plan_fwd[log2n]) {
        /* FFTW_ESTIMATE does not touch the arrays while planning. */
        plan_fwd[log2n] = fftwf_plan_dft_r2c_1d((int)nfft, y->a, y->fa, FFTW_ESTIMATE);
        plan_inv[log2n] = fftwf_plan_dft_c2r_1d((int)nfft, y->fa, y->b, FFTW_ESTIMATE);
    }
    y->fwd = plan_fwd[log2n];
    y->inv = plan_inv[log2n];
    sm__stft_plan_unlock();
    if (!y->fwd || !y->inv) {
        yin_release(y);
        return -1;
    }
    return 0;
}

/* Mean square of x[0 .. n), with eight independent partial sums so that the loop
 * vectorises (a single running sum is one long dependency chain). */
static double mean_square(const float *x, size_t n)
{
    float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += x[i + (size_t)l] * x[i + (size_t)l];
    double e = 0.0;
    for (int l = 0; l < 8; l++)
        e += (double)acc[l];
    for (; i < n; i++)
        e += (double)x[i] * (double)x[i];
    return n ? e / (double)n : 0.0;
}

/* Offset (-1..1) of the vertex of the parabola through v[i - 1], v[i], v[i + 1];
 * *depth (may be NULL) gets the parabola's value there, within 0 .. v[i]: the
 * depth of a dip that lies between two integer lags. */
static double vertex(const double *v, size_t i, double *depth)
{
    double l = v[i - 1];
    double c = v[i];
    double r = v[i + 1];
    double den = l - 2.0 * c + r;
    double shift = 0.0;
    if (den > 0.0) {
        shift = 0.5 * (l - r) / den;
        if (shift > 1.0)
            shift = 1.0;
        if (shift < -1.0)
            shift = -1.0;
    }
    if (depth) {
        double m = c + 0.5 * shift * (r - l) + 0.5 * shift * shift * den;
        *depth = m > 0.0 ? (m < c ? m : c) : 0.0;
    }
    return shift;
}

/* YIN on x[0 .. wlen + taumax): the window x[0 .. wlen) against itself shifted by
 * taumin .. taumax. Needs wlen + taumax <= nfft and taumax <= tau_cap. Returns f0 or
 * 0, and *per the periodicity of the chosen lag. */
static double yin_run(struct yin *y, const float *x, size_t wlen, size_t taumin,
                      size_t taumax, double rate, double *per)
{
    size_t len = wlen + taumax;
    size_t nfft = y->nfft;
    size_t nc = nfft / 2 + 1;
    *per = 0.0;
    memcpy(y->a, x, len * sizeof(float));
    memset(y->a + len, 0, (nfft - len) * sizeof(float));
    memcpy(y->b, x, wlen * sizeof(float));
    memset(y->b + wlen, 0, (nfft - wlen) * sizeof(float));
    fftwf_execute_dft_r2c(y->fwd, y->a, y->fa);
    fftwf_execute_dft_r2c(y->fwd, y->b, y->fb);
    /* A times conj(B): its inverse is r(tau) = sum_j x[j] x[j + tau], j < wlen. */
    float scale = 1.0f / (float)nfft;
    for (size_t k = 0; k < nc; k++) {
        float ar = y->fa[k][0];
        float ai = y->fa[k][1];
        float br = y->fb[k][0];
        float bi = y->fb[k][1];
        y->fa[k][0] = (ar * br + ai * bi) * scale;
        y->fa[k][1] = (ai * br - ar * bi) * scale;
    }
    fftwf_execute_dft_c2r(y->inv, y->fa, y->b);

    double e0 = mean_square(x, wlen) * (double)wlen;
    if (!(e0 > 0.0) || !isfinite(e0))
        return 0.0;
    /* et: the energy of x[tau .. tau + wlen), slid one sample at a time. */
    double et = e0;
    double sum = 0.0;
    y->cm[0] = 1.0;
    y->nd[0] = 0.0;
    for (size_t tau = 1; tau <= taumax; tau++) {
        double out = x[tau - 1];
        double in = x[tau - 1 + wlen];
        et += in * in - out * out;
        double d = e0 + et - 2.0 * (double)y->b[tau];
        if (d < 0.0)
            d = 0.0;
        sum += d;
        y->cm[tau] = sum > 0.0 ? d * (double)tau / sum : 1.0;
        double both = e0 + et;
        y->nd[tau] = both > 0.0 ? d / both : 1.0;
    }

    size_t best = 0;
    for (size_t tau = taumin; tau < taumax; tau++) {
        if (y->cm[tau] < YIN_THRESHOLD) {
            while (tau + 1 < taumax && y->cm[tau + 1] < y->cm[tau])
                tau++;
            best = tau;
            break;
        }
    }
    if (!best) {
        best = taumin;
        for (size_t tau = taumin + 1; tau < taumax; tau++)
            if (y->cm[tau] < y->cm[best])
                best = tau;
    }
    /* Octave up: when harmonic 2 dominates (a formant on it, a pluck position
     * near the string's middle), half the period already dips below the
     * threshold, but the true period dips much deeper (the odd harmonics no
     * longer cancel). Take twice the lag when its raw difference is under
     * DOUBLE_RATIO of the interpolated floor of the chosen dip. The floor is
     * used because an integer lag next to a fractional period reads too high. */
    if (best >= DOUBLE_MIN_LAG && 2 * best + 3 < taumax) {
        double here = 0.0;
        vertex(y->nd, best, &here);
        size_t two = 2 * best - 2;
        for (size_t tau = two + 1; tau <= 2 * best + 2; tau++)
            if (y->nd[tau] < y->nd[two])
                two = tau;
        if (here >= DOUBLE_MIN_ND && y->nd[two] < DOUBLE_RATIO * here && y->cm[two] < YIN_APERIODIC)
            best = two;
    }
    double p = 1.0 - y->cm[best];
    *per = p > 0.0 ? (p < 1.0 ? p : 1.0) : 0.0;
    if (!(y->cm[best] < YIN_APERIODIC))
        return 0.0;
    /* Parabolic interpolation on the energy-normalised difference, which, unlike the
     * cumulative mean one, is not tilted by the normalisation (or by a decay). */
    double period = (double)best + vertex(y->nd, best, NULL);
    /* Short periods (high notes): the parabola is a few hundredths of a sample off,
     * which is cents at 4 kHz. The dip at m periods has the same shape and so the
     * same absolute error, m times smaller relative to the period: measure there. */
    if (period < REFINE_LAG / 2.0) {
        double m = floor(REFINE_LAG / period);
        size_t c = (size_t)lround(m * period);
        /* On short or odd input m periods may lie past the lags we computed. */
        if (c < 1 || c + 2 >= taumax)
            c = 0;
        for (int step = 0; c && step < 2; step++) {
            if (c > 1 && y->nd[c - 1] < y->nd[c])
                c--;
            else if (c + 1 < taumax && y->nd[c + 1] < y->nd[c])
                c++;
        }
        if (c && c + 1 < taumax) {
            double refined = ((double)c + vertex(y->nd, c, NULL)) / m;
            if (fabs(refined - period) < 0.02 * period)
                period = refined;
        }
    }
    double f0 = rate / period;
    return isfinite(f0) ? f0 : 0.0;
}

/* Lag range for fmin..fmax on n samples; returns 0 when n is too short. */
static int lag_range(size_t n, double rate, double fmin, double fmax, size_t *taumin,
                     size_t *taumax)
{
    double lo = floor(rate / fmax);
    double hi = ceil(rate / fmin) + 1.0;
    size_t tmin = lo < 2.0 ? 2 : (size_t)lo;
    size_t tmax = hi > (double)(n / 3) ? n / 3 : (size_t)hi;
    if (tmax < tmin + 3)
        return 0;
    *taumin = tmin;
    *taumax = tmax;
    return 1;
}

double sm__pitch_yin(const float *x, size_t n, double rate, double fmin, double fmax,
                     double *periodicity)
{
    double per = 0.0;
    double f0 = 0.0;
    size_t taumin = 0;
    size_t taumax = 0;
    if (n > ((size_t)1 << MAX_LOG2))
        n = (size_t)1 << MAX_LOG2;
    if (x && rate > 0.0 && fmin > 0.0 && fmax > fmin && isfinite(fmax) &&
        lag_range(n, rate, fmin, fmax, &taumin, &taumax)) {
        struct yin y;
        if (yin_init(&y, n, taumax) < 0) {
            f0 = -1.0;
        } else {
            f0 = yin_run(&y, x, n - taumax, taumin, taumax, rate, &per);
            yin_release(&y);
        }
    }
    if (periodicity)
        *periodicity = per;
    return f0;
}

/* The Hann-windowed spectrum of x[0 .. len) into y->fa (len <= y->nfft), after
 * taking out the mean and the straight-line drift: a DC offset (a plucked-string
 * model, a cheap recorder) or a slow swell is energy at no harmonic and would
 * make a clean note look like a chord. Returns the windowed energy (0 when
 * silent). */
static double spectrum(struct yin *y, const float *x, size_t len)
{
    if (len < 2 || len > y->nfft)
        return 0.0;
    double c = 0.5 * (double)(len - 1);
    double sx = 0.0;
    double sxt = 0.0;
    double stt = 0.0;
    for (size_t j = 0; j < len; j++) {
        double t = (double)j - c;
        sx += (double)x[j];
        sxt += t * (double)x[j];
        stt += t * t;
    }
    double mean = sx / (double)len;
    double slope = stt > 0.0 ? sxt / stt : 0.0;
    /* The Hann window by rotating a phasor instead of a cos per sample. */
    double step = 2.0 * M_PI / (double)len;
    double rc = cos(step);
    double rs = sin(step);
    double pc = 1.0;
    double ps = 0.0;
    double energy = 0.0;
    for (size_t j = 0; j < len; j++) {
        double w = 0.5 - 0.5 * pc;
        double npc = pc * rc - ps * rs;
        ps = pc * rs + ps * rc;
        pc = npc;
        double v = w * ((double)x[j] - mean - slope * ((double)j - c));
        y->a[j] = (float)v;
        energy += v * v;
    }
    if (!(energy > 0.0))
        return 0.0;
    memset(y->a + len, 0, (y->nfft - len) * sizeof(float));
    fftwf_execute_dft_r2c(y->fwd, y->a, y->fa);
    return energy;
}

/* Power of the spectrum in y->fa (of a len-sample window) in the band f +- half,
 * half = max(2.5 bins of the window, 2 % of f) but at most cap. */
static double band_power(const struct yin *y, double f, double cap, size_t len, double rate)
{
    if (!(f > 0.0) || f >= 0.5 * rate)
        return 0.0;
    double half = 2.5 * rate / (double)len;
    if (0.02 * f > half)
        half = 0.02 * f;
    if (half > cap)
        half = cap;
    double bin_hz = rate / (double)y->nfft;
    size_t nc = y->nfft / 2 + 1;
    double lo = ceil((f - half) / bin_hz);
    double hi = floor((f + half) / bin_hz);
    size_t k0 = lo < 1.0 ? 1 : (size_t)lo;
    size_t k1 = hi > (double)(nc - 2) ? nc - 2 : (size_t)hi;
    double p = 0.0;
    for (size_t k = k0; k <= k1; k++) {
        double re = y->fa[k][0];
        double im = y->fa[k][1];
        p += re * re + im * im;
    }
    return p;
}

/* The spectral checks of one window x[0 .. len) whose YIN f0 is f0 (uses y's
 * buffers and forward plan). Returns f0, or 2 f0 when f0 is half the note, and
 * *share, the share of the window's energy near harmonics 1..3 of the returned f0.
 *
 * Octave down: at short periods YIN's integer lags can miss the true period by
 * half a sample while twice the period lands on a whole one, so YIN settles on
 * twice the period (keys and synths at C7 read C6). The waveform of the note
 * then repeats twice per YIN period, and its spectrum has no energy at the odd
 * harmonics of f0. With under ODD_MIN_SHARE of the energy of harmonics
 * 1..ODD_HARMONICS in the odd ones, the note is 2 f0 (bands at most f0 / 4 wide,
 * so they do not reach the neighbouring harmonic).
 *
 * Share (the chord check): each band is +-max(2.5 bins of the window, 2 % of the
 * harmonic) wide, but never wider than half of f0 (so bands do not overlap): the
 * main lobe of a steady partial is +-2 bins, and detuned unison voices
 * (supersaws, string ensembles, chorus) spread a partial over +-30 cents, which
 * one exact frequency would miss. A chord's common period scores near 0: its
 * notes sit at harmonics 4, 5, 6 ... of that period, far outside the three
 * bands. Parseval: the band powers over the zero-padded spectrum, times 2, over
 * nfft x the energy. */
static double octave_and_share(struct yin *y, const float *x, size_t len, double f0,
                               double rate, double *share)
{
    *share = 0.0;
    double energy = spectrum(y, x, len);
    if (!(energy > 0.0) || !(f0 > 0.0))
        return f0;
    double all = 0.0;
    double odd = 0.0;
    for (int h = 1; h <= ODD_HARMONICS; h++) {
        double p = band_power(y, f0 * h, 0.25 * f0, len, rate);
        all += p;
        if (h % 2)
            odd += p;
    }
    double norm = 2.0 / ((double)y->nfft * energy);
    if (all * norm >= ODD_MIN_TONAL && odd < ODD_MIN_SHARE * all && 2.0 * f0 <= SM__PITCH_FMAX)
        f0 *= 2.0;
    double band = 0.0;
    for (int h = 1; h <= 3; h++)
        band += band_power(y, f0 * h, 0.5 * f0, len, rate);
    *share = 2.0 * band / ((double)y->nfft * energy);
    return f0;
}

static double hz_to_midi(double hz)
{
    return 69.0 + 12.0 * log2(hz / 440.0);
}

static void set_no_note(sm_analysis *a, double confidence)
{
    a->has_note = false;
    a->note_hz = NAN;
    a->note_midi = -1;
    a->note_cents = NAN;
    a->note_confidence = confidence;
}

#define BLOCK 256
/* Room for SM_AN_PITCH_SECONDS (2 s is 173 blocks); longer input is cut there. */
#define MAX_BLOCKS 256
#define MAX_SAMPLES                                                                 \
    (SM_AN_PITCH_SECONDS * SM_AN_RATE < (double)(MAX_BLOCKS * BLOCK)                \
         ? (size_t)(SM_AN_PITCH_SECONDS * SM_AN_RATE)                               \
         : (size_t)(MAX_BLOCKS * BLOCK))

/* The loudness of the sound over time: mean square per BLOCK samples. */
struct level {
    double ms[MAX_BLOCKS];
    size_t n;
    double loudest;
};

static void level_measure(struct level *lv, const float *x, size_t n)
{
    lv->n = 0;
    lv->loudest = 0.0;
    for (size_t i = 0; i < n; i += BLOCK) {
        size_t m = n - i < BLOCK ? n - i : BLOCK;
        double e = mean_square(x + i, m);
        lv->ms[lv->n++] = e;
        if (e > lv->loudest)
            lv->loudest = e;
    }
}

/* Where the sound starts (in samples): the first onset, else the first sample
 * reaching 5 % of the amplitude of the loudest block. */
static size_t attack_start(const float *x, size_t n, const sm_analysis *a,
                           const struct level *lv)
{
    if (a->onsets && a->n_onsets > 0 && isfinite(a->onsets[0]) && a->onsets[0] >= 0.0f) {
        double s = (double)a->onsets[0] * SM_AN_RATE;
        return s < (double)n ? (size_t)s : n;
    }
    double level = 0.05 * sqrt(2.0 * lv->loudest);
    for (size_t b = 0; b < lv->n; b++) {
        /* A block holding one sample at the level has at least level^2 / BLOCK
         * as its mean square; quieter blocks cannot hold one. */
        if (!(lv->ms[b] >= level * level / BLOCK))
            continue;
        size_t end = (b + 1) * BLOCK < n ? (b + 1) * BLOCK : n;
        for (size_t i = b * BLOCK; i < end; i++)
            if (fabsf(x[i]) >= (float)level)
                return i;
    }
    return 0;
}

/* End of the sound after start: the end of the last block within 30 dB of the
 * loudest block from start on. */
static size_t sound_end(const struct level *lv, size_t n, size_t start)
{
    double loudest = 0.0;
    for (size_t b = start / BLOCK; b < lv->n; b++)
        if (lv->ms[b] > loudest)
            loudest = lv->ms[b];
    size_t end = n;
    for (size_t b = start / BLOCK; b < lv->n; b++)
        if (lv->ms[b] >= loudest * 1e-3)
            end = (b + 1) * BLOCK < n ? (b + 1) * BLOCK : n;
    return end;
}

struct pick {
    double midi;
    double weight;
    double share;
};

static void sort_picks(struct pick *p, int n)
{
    for (int i = 1; i < n; i++) {
        struct pick v = p[i];
        int j = i - 1;
        while (j >= 0 && p[j].midi > v.midi) {
            p[j + 1] = p[j];
            j--;
        }
        p[j + 1] = v;
    }
}

/* Median of v[0 .. n) (the upper one of an even count; 0 when n is 0). Sorts v. */
static double median_share(double *v, int n)
{
    for (int i = 1; i < n; i++) {
        double t = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > t) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
    return n > 0 ? v[n / 2] : 0.0;
}

int sm__pitch_analyze(const float *x, size_t n, sm_analysis *a)
{
    if (!a)
        return 0;
    set_no_note(a, 0.0);
    if (!x || !n || a->loop)
        return 0;
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    struct level lv;
    level_measure(&lv, x, n);
    /* Below -100 dBFS there is nothing to hear. */
    if (!(lv.loudest >= 1e-10) || !isfinite(lv.loudest))
        return 0;

    const double rate = SM_AN_RATE;
    size_t taumin = 0;
    size_t taumax = 0;
    size_t wlen = SM__PITCH_WLEN;
    size_t starts[SM__PITCH_WINDOWS];
    int nwin = 0;
    if (lag_range((size_t)-1, rate, SM__PITCH_FMIN, SM__PITCH_FMAX, &taumin, &taumax) &&
        n >= wlen + taumax) {
        size_t seg = wlen + taumax;
        size_t s0 = attack_start(x, n, a, &lv);
        size_t s = s0 + (size_t)(SM__PITCH_SKIP_MS * 1e-3 * rate);
        size_t e = sound_end(&lv, n, s0 < n ? s0 : 0);
        if (s + seg > e) {
            /* Short: one window, after the attack if there is room. */
            starts[nwin++] = s + seg <= n ? s : n - seg;
        } else {
            size_t span = e - seg - s;
            for (int i = 0; i < SM__PITCH_WINDOWS; i++)
                starts[nwin++] = s + span * (size_t)i / (SM__PITCH_WINDOWS - 1);
        }
    } else if (lag_range(n, rate, SM__PITCH_FMIN, SM__PITCH_FMAX, &taumin, &taumax)) {
        /* Shorter than one window: all of it, with the lowest f0 raised to fit. */
        wlen = n - taumax;
        starts[nwin++] = 0;
    } else {
        return 0;
    }

    /* Windows much quieter than the loudest one are the tail, not the note. */
    double energy[SM__PITCH_WINDOWS];
    double loudest = 0.0;
    for (int w = 0; w < nwin; w++) {
        energy[w] = mean_square(x + starts[w], wlen);
        if (energy[w] > loudest)
            loudest = energy[w];
    }
    struct yin y;
    if (yin_init(&y, wlen + taumax, taumax) < 0)
        return -1;
    struct pick picks[SM__PITCH_WINDOWS];
    int npick = 0;
    int sounding = 0;
    for (int w = 0; w < nwin; w++) {
        if (!(energy[w] >= loudest * 1e-3) || !(energy[w] > 0.0))
            continue;
        sounding++;
        double per = 0.0;
        double f0 = yin_run(&y, x + starts[w], wlen, taumin, taumax, rate, &per);
        if (!(f0 > 0.0))
            continue;
        f0 = octave_and_share(&y, x + starts[w], wlen, f0, rate, &picks[npick].share);
        picks[npick].midi = hz_to_midi(f0);
        picks[npick].weight = per;
        npick++;
    }
    if (!npick || !sounding) {
        yin_release(&y);
        return 0;
    }

    sort_picks(picks, npick);
    double total = 0.0;
    for (int i = 0; i < npick; i++)
        total += picks[i].weight;
    double acc = 0.0;
    int med = npick - 1;
    for (int i = 0; i < npick; i++) {
        acc += picks[i].weight;
        if (acc >= 0.5 * total) {
            med = i;
            break;
        }
    }
    double agree = 0.0;
    double sum = 0.0;
    double shares[SM__PITCH_WINDOWS];
    int nshare = 0;
    for (int i = 0; i < npick; i++) {
        if (fabs(picks[i].midi - picks[med].midi) <= 0.5) {
            agree += picks[i].weight;
            sum += picks[i].weight * picks[i].midi;
            shares[nshare++] = picks[i].share;
        }
    }
    double share = median_share(shares, nshare);
    yin_release(&y);
    double conf = agree / (double)sounding;
    double midi = sum / agree;
    long note = lround(midi);
    if (conf < SM__PITCH_MIN_CONFIDENCE || note < 0 || note > 127) {
        set_no_note(a, conf);
        return 0;
    }
    /* A chord's common period is periodic too, but has no energy of its own. The
     * median over the agreeing windows counts: an FM tone's early windows can hold
     * their energy in high sidebands while its later ones show the fundamental. */
    if (share < MIN_HARMONIC_SHARE) {
        set_no_note(a, conf * share);
        return 0;
    }
    a->has_note = true;
    a->note_midi = (int)note;
    a->note_hz = 440.0 * exp2((midi - 69.0) / 12.0);
    a->note_cents = (midi - (double)note) * 100.0;
    a->note_confidence = conf;
    return 0;
}

char *sm_note_name(int midi, char *buf, size_t size)
{
    static const char *const names[12] = {"C", "C#", "D", "D#", "E", "F",
                                          "F#", "G", "G#", "A", "A#", "B"};
    if (!buf || !size)
        return buf;
    if (midi < 0 || midi > 127) {
        snprintf(buf, size, "?");
        return buf;
    }
    snprintf(buf, size, "%s%d", names[midi % 12], midi / 12 - 1);
    return buf;
}
