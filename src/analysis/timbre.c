/* Timbre scalars in 0..100 from the finished descriptors (formulas in
 * docs/descriptors.md, "Timbre").
 *
 * The band shares (warmth, depth, boominess) come from the spectral envelope
 * that the mean MFCCs describe: MFCCs are the orthonormal DCT-II of the frames'
 * mel band levels in dB, so the inverse DCT of the 13 mean coefficients gives a
 * smoothed mean level per mel band. Each band's energy is that level times its
 * width in Hz (the filterbank is Slaney-normalised, a density), and a share is
 * the energy of the bands whose centres fall in a range over the total. */
#include "analysis/classify.h"

#include <math.h>
#include <pthread.h>

#include "analysis/frame.h"

/* Calibration constants (see docs/descriptors.md). */
#define BRIGHT_C_LO 250.0    /* Hz: centroid that scores 0 */
#define BRIGHT_C_HI 8000.0   /* Hz: centroid that scores 100 */
#define BRIGHT_R_LO 500.0    /* Hz: roll-off that scores 0 */
#define BRIGHT_R_HI 10000.0  /* Hz: roll-off that scores 100 */
#define WARM_SHARE_FULL 0.6  /* 200-800 Hz share that scores 100 */
#define DEPTH_SHARE_FULL 0.6 /* < 120 Hz share that scores 100 */
#define BOOM_SHARE_FULL 0.6  /* 60-250 Hz share that scores 100 */
#define HARD_ATTACK_FAST 2.0   /* ms: attack that scores 100 */
#define HARD_ATTACK_SLOW 300.0 /* ms: attack that scores 0 */
#define HARD_FLUX_LO 0.005   /* flux mean that scores 0 */
#define HARD_FLUX_HI 0.15    /* flux mean that scores 100 */
#define ROUGH_FLAT_LO 0.001  /* flatness mean that scores 0 (a clean tone) */
#define ROUGH_FLAT_HI 0.1    /* flatness mean that scores 100 (a hi-hat) */

/* Slaney mel scale, as the filterbank in mel.c. */
static double mel_to_hz(double mel)
{
    const double logstep = log(6.4) / 27.0;
    if (mel < 15.0)
        return mel * 200.0 / 3.0;
    return 1000.0 * exp(logstep * (mel - 15.0));
}

static double hz_to_mel(double hz)
{
    const double logstep = log(6.4) / 27.0;
    if (hz < 1000.0)
        return hz * 3.0 / 200.0;
    return 15.0 + log(hz / 1000.0) / logstep;
}

static float idct[SM_AN_NMEL][SM_MFCC_COUNT]; /* inverse orthonormal DCT-II */
static double band_hz[SM_AN_NMEL];            /* centre of each mel band */
static double band_width[SM_AN_NMEL];         /* half the triangle's base, Hz */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    double mel_max = hz_to_mel(SM_AN_RATE / 2.0);
    double edges[SM_AN_NMEL + 2];
    for (size_t i = 0; i < SM_AN_NMEL + 2; i++)
        edges[i] = mel_to_hz(mel_max * (double)i / (SM_AN_NMEL + 1));
    for (size_t m = 0; m < SM_AN_NMEL; m++) {
        band_hz[m] = edges[m + 1];
        band_width[m] = 0.5 * (edges[m + 2] - edges[m]);
        for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
            double s = k == 0 ? sqrt(1.0 / SM_AN_NMEL) : sqrt(2.0 / SM_AN_NMEL);
            idct[m][k] = (float)(s * cos(M_PI * (double)k * (2.0 * (double)m + 1.0)
                                         / (2.0 * SM_AN_NMEL)));
        }
    }
}

static double clamp01(double x)
{
    if (isnan(x))
        return 0.0;
    return fmin(fmax(x, 0.0), 1.0);
}

/* x on a log scale between lo (0) and hi (1), clamped. */
static double log_unit(double x, double lo, double hi)
{
    if (!(x > 0.0))
        return 0.0;
    return clamp01(log(x / lo) / log(hi / lo));
}

static double score(double unit)
{
    return 100.0 * clamp01(unit);
}

/* Shares of energy per range from the MFCC envelope; -1 when undefined. */
static int band_shares(const sm_analysis *a, double *s_warm, double *s_depth,
                       double *s_boom)
{
    for (size_t k = 0; k < SM_MFCC_COUNT; k++) {
        if (!isfinite(a->mfcc_mean[k]))
            return -1;
    }
    pthread_once(&tables_once, build_tables);
    double level[SM_AN_NMEL];
    double top = -INFINITY;
    for (size_t m = 0; m < SM_AN_NMEL; m++) {
        double db = 0.0;
        for (size_t k = 0; k < SM_MFCC_COUNT; k++)
            db += (double)idct[m][k] * a->mfcc_mean[k];
        level[m] = db;
        top = fmax(top, db);
    }
    double total = 0.0;
    double warm = 0.0;
    double depth = 0.0;
    double boom = 0.0;
    for (size_t m = 0; m < SM_AN_NMEL; m++) {
        /* Relative to the loudest band, so the sum cannot overflow. */
        double e = pow(10.0, (level[m] - top) / 10.0) * band_width[m];
        double f = band_hz[m];
        total += e;
        if (f >= 200.0 && f <= 800.0)
            warm += e;
        if (f < 120.0)
            depth += e;
        if (f >= 60.0 && f <= 250.0)
            boom += e;
    }
    if (!(total > 0.0))
        return -1;
    *s_warm = warm / total;
    *s_depth = depth / total;
    *s_boom = boom / total;
    return 0;
}

void sm__timbre_analyze(sm_analysis *a)
{
    const sm_stat *s = a->spectral;
    double centroid = s[SM_SPEC_CENTROID].mean;
    if (isnan(centroid)) {
        /* No frame carried signal: silence scores 0 on every scale. */
        a->brightness = 0.0;
        a->warmth = 0.0;
        a->hardness = 0.0;
        a->depth = 0.0;
        a->roughness = 0.0;
        a->boominess = 0.0;
        return;
    }

    double b_c = log_unit(centroid, BRIGHT_C_LO, BRIGHT_C_HI);
    double rolloff = s[SM_SPEC_ROLLOFF].mean;
    double b_r = isnan(rolloff) ? b_c : log_unit(rolloff, BRIGHT_R_LO, BRIGHT_R_HI);
    a->brightness = score(0.6 * b_c + 0.4 * b_r);

    double s_warm = 0.0;
    double s_depth = 0.0;
    double s_boom = 0.0;
    if (band_shares(a, &s_warm, &s_depth, &s_boom) == 0) {
        a->warmth = score(s_warm / WARM_SHARE_FULL);
        a->depth = score(s_depth / DEPTH_SHARE_FULL);
        a->boominess = score(s_boom / BOOM_SHARE_FULL);
    } else {
        /* Without MFCCs, fall back on the centroid alone. */
        double lc = log(fmax(centroid, 1.0) / 500.0) / log(2.0);
        a->warmth = score(1.0 - fabs(lc) / 3.0);
        a->depth = score(1.0 - log_unit(centroid, 60.0, 2000.0));
        a->boominess = score(1.0 - fabs(log(fmax(centroid, 1.0) / 150.0) / log(2.0)) / 3.0);
    }

    /* Hardness: a fast attack and a large spectral change. */
    double h_f = log_unit(s[SM_SPEC_FLUX].mean, HARD_FLUX_LO, HARD_FLUX_HI);
    double h_a;
    if (isnan(a->attack_ms))
        h_a = h_f;
    else
        h_a = 1.0 - log_unit(fmax(a->attack_ms, HARD_ATTACK_FAST), HARD_ATTACK_FAST,
                             HARD_ATTACK_SLOW);
    a->hardness = score(0.7 * h_a + 0.3 * h_f);

    /* Roughness: noise-like spectra, and spectra that keep changing. */
    double r_f = log_unit(s[SM_SPEC_FLATNESS].mean, ROUGH_FLAT_LO, ROUGH_FLAT_HI);
    a->roughness = score(0.8 * r_f + 0.2 * h_f);
}
