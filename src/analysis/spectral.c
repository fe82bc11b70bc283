/* Spectral shape descriptors (see spectral.h). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "analysis/spectral.h"
#include "analysis/stft.h"
#include "util/simd.h"

/* The main loops run over the first SM__SPEC_BODY bins in eight lanes (so gcc
 * can vectorise the sums without reassociating), then the last bin alone. */
#define SM__SPEC_BODY (SM_AN_NBINS - 1)
#define SM__CONTRAST_FMIN 200.0
#define SM__CONTRAST_QUANTILE 0.02
/* The largest number of values averaged for a peak or valley (rint(2 % of 431)). */
#define SM__CONTRAST_QMAX 16
#define SM__POWER_FLOOR 1e-10f

static const char *const spectral_names[] = {
#define SM__SPEC_NAME(id, name) name,
    SM_SPECTRAL_MAP(SM__SPEC_NAME)
#undef SM__SPEC_NAME
};

const char *sm_spectral_name(enum sm_spectral_id id)
{
    if ((int)id < 0 || id >= SM_SPEC_COUNT)
        return "unknown";
    return spectral_names[id];
}

struct contrast_band {
    size_t lo; /* first bin */
    size_t n;  /* number of bins */
    size_t q;  /* values averaged for the peak and for the valley */
};

static float freq[SM_AN_NBINS];
static struct contrast_band bands[SM_CONTRAST_BANDS];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* librosa.feature.spectral_contrast's band layout, bin by bin. */
static void build_tables(void)
{
    for (size_t k = 0; k < SM_AN_NBINS; k++)
        freq[k] = (float)sm__bin_hz(k);
    for (size_t b = 0; b < SM_CONTRAST_BANDS; b++) {
        double f_lo = b == 0 ? 0.0 : SM__CONTRAST_FMIN * ldexp(1.0, (int)b - 1);
        double f_hi = SM__CONTRAST_FMIN * ldexp(1.0, (int)b);
        size_t first = 0;
        while (first < SM_AN_NBINS && sm__bin_hz(first) < f_lo)
            first++;
        size_t last = first;
        while (last + 1 < SM_AN_NBINS && sm__bin_hz(last + 1) <= f_hi)
            last++;
        if (b > 0 && first > 0)
            first--;
        if (b == SM_CONTRAST_BANDS - 1)
            last = SM_AN_NBINS - 1;
        size_t count = last - first + 1;
        double q = rint(SM__CONTRAST_QUANTILE * (double)count);
        bands[b].q = q < 1.0 ? 1 : (size_t)q;
        if (bands[b].q > SM__CONTRAST_QMAX)
            bands[b].q = SM__CONTRAST_QMAX;
        bands[b].lo = first;
        /* Every band but the last drops its top bin (librosa's sub_band[:-1]). */
        bands[b].n = b == SM_CONTRAST_BANDS - 1 ? count : count - 1;
    }
}

/* log2(x) for a positive normal float, to about 1e-7: the bits are offset so
 * that the exponent field gives e and the mantissa m lies in [sqrt(1/2),
 * sqrt(2)) with x = 2^e m, then log2(m) is a series in t = (m - 1) / (m + 1).
 * Integer and arithmetic only, so the loops using it vectorise. */
static inline float log2_fast(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof(u));
    /* 0x3f3504f3 is sqrt(1/2); adding 1.0f - sqrt(1/2) in bits moves the
     * exponent boundary there. */
    uint32_t v = u + (0x3f800000u - 0x3f3504f3u);
    float e = (float)((int32_t)(v >> 23) - 127);
    uint32_t mu = (v & 0x007fffffu) + 0x3f3504f3u;
    float m;
    memcpy(&m, &mu, sizeof(m));
    float t = (m - 1.0f) / (m + 1.0f);
    float t2 = t * t;
    /* 2 / ln 2 times (t + t^3 / 3 + t^5 / 5 + t^7 / 7). */
    const float c1 = 2.88539008f;
    return e + t * (c1 + t2 * (c1 / 3.0f + t2 * (c1 / 5.0f + t2 * (c1 / 7.0f))));
}

static inline float lanes(const float *acc)
{
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* The q largest values offered so far, ascending (v[0] is the smallest kept). */
struct topq {
    float v[SM__CONTRAST_QMAX];
    size_t n;
    size_t q;
};

static inline void topq_offer(struct topq *t, float x)
{
    size_t j;
    if (t->n < t->q) {
        j = t->n;
        t->n++;
        while (j > 0 && t->v[j - 1] > x) {
            t->v[j] = t->v[j - 1];
            j--;
        }
        t->v[j] = x;
        return;
    }
    if (!(x > t->v[0]))
        return;
    j = 0;
    while (j + 1 < t->q && t->v[j + 1] < x) {
        t->v[j] = t->v[j + 1];
        j++;
    }
    t->v[j] = x;
}

/* Chunks are this long; the tree in top_mean is written for it. */
#define SM__CHUNK 8
#define SM__MAXCHUNKS (SM_AN_NBINS / SM__CHUNK + 1)

static inline float max2(float a, float b)
{
    return a > b ? a : b;
}

/* The mean of the q largest of sign * x[0..n) (sign is 1 or -1), exactly:
 * 1. the maximum of each chunk of SM__CHUNK values (independent trees, so they
 *    pipeline);
 * 2. the chunks are dealt into q groups and T is the smallest of the q group
 *    maxima: q different chunks hold a value >= T, so all of the q largest
 *    values are >= T, and they lie in chunks whose maximum is >= T (or in the
 *    tail after the last whole chunk);
 * 3. those few chunks are filtered branch-free for values >= T and only the
 *    survivors (a few times q) are ranked, instead of all n values. */
SM__HOT static float top_mean(const float *x, size_t n, size_t q, float sign)
{
    if (q == 0 || q > SM__CONTRAST_QMAX || n == 0)
        return 0.0f;
    size_t nch = n / SM__CHUNK;
    float cm[SM__MAXCHUNKS];
    for (size_t c = 0; c < nch; c++) {
        const float *y = x + c * SM__CHUNK;
        float m01 = max2(sign * y[0], sign * y[1]);
        float m23 = max2(sign * y[2], sign * y[3]);
        float m45 = max2(sign * y[4], sign * y[5]);
        float m67 = max2(sign * y[6], sign * y[7]);
        cm[c] = max2(max2(m01, m23), max2(m45, m67));
    }
    float thr = -INFINITY;
    if (nch >= q) {
        float g[SM__CONTRAST_QMAX] = {0};
        for (size_t i = 0; i < q; i++)
            g[i] = cm[i];
        for (size_t base = q; base < nch; base += q) {
            for (size_t i = 0; i < q && base + i < nch; i++)
                g[i] = max2(g[i], cm[base + i]);
        }
        thr = g[0];
        for (size_t i = 1; i < q; i++)
            thr = g[i] < thr ? g[i] : thr;
    }
    float cand[SM_AN_NBINS];
    size_t cnt = 0;
    for (size_t c = 0; c < nch; c++) {
        if (cm[c] < thr)
            continue;
        const float *y = x + c * SM__CHUNK;
        for (size_t j = 0; j < SM__CHUNK; j++) {
            float v = sign * y[j];
            cand[cnt] = v;
            cnt += v >= thr;
        }
    }
    for (size_t i = nch * SM__CHUNK; i < n; i++) {
        float v = sign * x[i];
        cand[cnt] = v;
        cnt += v >= thr;
    }
    struct topq vals = {.n = 0, .q = q};
    for (size_t i = 0; i < cnt; i++)
        topq_offer(&vals, cand[i]);
    if (!vals.n)
        return 0.0f;
    float sum = 0.0f;
    for (size_t i = 0; i < vals.n; i++)
        sum += vals.v[i];
    return sign * sum / (float)vals.n;
}

/* The first bin where the cumulative power reaches thr (the last bin if
 * rounding keeps it short). Sums blocks of SM__ROLL_BLOCK bins first (their
 * additions are independent, so they overlap), then walks one block. */
#define SM__ROLL_BLOCK 16
static size_t rolloff_bin(const float *pw, float thr)
{
    float cum = 0.0f;
    size_t k = 0;
    float bs[SM__SPEC_BODY / SM__ROLL_BLOCK];
    for (size_t b = 0; b < SM__SPEC_BODY / SM__ROLL_BLOCK; b++) {
        const float *q = pw + b * SM__ROLL_BLOCK;
        float s0 = (q[0] + q[1]) + (q[2] + q[3]);
        float s1 = (q[4] + q[5]) + (q[6] + q[7]);
        float s2 = (q[8] + q[9]) + (q[10] + q[11]);
        float s3 = (q[12] + q[13]) + (q[14] + q[15]);
        bs[b] = (s0 + s1) + (s2 + s3);
    }
    for (size_t b = 0; b < SM__SPEC_BODY / SM__ROLL_BLOCK; b++) {
        if (cum + bs[b] >= thr)
            break;
        cum += bs[b];
        k += SM__ROLL_BLOCK;
    }
    for (; k < SM_AN_NBINS - 1; k++) {
        cum += pw[k];
        if (cum >= thr)
            break;
    }
    return k;
}

SM__HOT void sm__spectral_frame(const struct sm__frame *f, const float *prev, float *next_prev,
                        double *d, double *contrast)
{
    pthread_once(&tables_once, build_tables);
    const float *mag = f->mag;
    const float *pw = f->power;

    /* Pass 1: the floored power and its log2 (elementwise loops vectorise),
     * then sums of magnitude, frequency-weighted magnitude, power, floored
     * power and log2 in eight lanes. */
    float pt[SM_AN_NBINS];
    float lg[SM_AN_NBINS];
    for (size_t k = 0; k < SM_AN_NBINS; k++)
        pt[k] = pw[k] < SM__POWER_FLOOR ? SM__POWER_FLOOR : pw[k];
    for (size_t k = 0; k < SM_AN_NBINS; k++)
        lg[k] = log2_fast(pt[k]);
    float a_m[8] = {0};
    float a_fm[8] = {0};
    float a_p[8] = {0};
    float a_pt[8] = {0};
    float a_lg[8] = {0};
    for (size_t k = 0; k < SM__SPEC_BODY; k += 8) {
        for (size_t j = 0; j < 8; j++) {
            float m = mag[k + j];
            a_m[j] += m;
            a_fm[j] += m * freq[k + j];
            a_p[j] += pw[k + j];
            a_pt[j] += pt[k + j];
            a_lg[j] += lg[k + j];
        }
    }
    const size_t kl = SM__SPEC_BODY;
    double smag = (double)lanes(a_m) + (double)mag[kl];
    double sfm = (double)lanes(a_fm) + (double)(mag[kl] * freq[kl]);
    double spow = (double)lanes(a_p) + (double)pw[kl];
    double sthr = (double)lanes(a_pt) + (double)pt[kl];
    double slog = (double)lanes(a_lg) + (double)lg[kl];

    double centroid = smag > 0.0 ? sfm / smag : (double)NAN;
    d[SM_SPEC_CENTROID] = centroid;
    d[SM_SPEC_FLATNESS] = exp2(slog / SM_AN_NBINS) / (sthr / SM_AN_NBINS);
    d[SM_SPEC_RMS] = f->rms;

    /* Pass 2: spread around the centroid and flux of the normalised spectrum. */
    float c = smag > 0.0 ? (float)centroid : 0.0f;
    float inv = smag > 0.0 ? (float)(1.0 / smag) : 0.0f;
    float a_bw[8] = {0};
    float a_fx[8] = {0};
    float cur[SM_AN_NBINS];
    for (size_t k = 0; k < SM__SPEC_BODY; k += 8) {
        for (size_t j = 0; j < 8; j++) {
            float m = mag[k + j];
            float df = freq[k + j] - c;
            a_bw[j] += m * df * df;
            cur[k + j] = m * inv;
        }
    }
    cur[kl] = mag[kl] * inv;
    float dfl = freq[kl] - c;
    double sbw = (double)lanes(a_bw) + (double)(mag[kl] * dfl * dfl);
    d[SM_SPEC_BANDWIDTH] = smag > 0.0 ? sqrt(sbw / smag) : (double)NAN;
    if (prev) {
        /* The rectified difference goes through lg[] (no longer needed) so
         * that both loops vectorise. */
        for (size_t k = 0; k < SM_AN_NBINS; k++) {
            float x = cur[k] - prev[k];
            lg[k] = x < 0.0f ? 0.0f : x;
        }
        for (size_t k = 0; k < SM__SPEC_BODY; k += 8)
            for (size_t j = 0; j < 8; j++)
                a_fx[j] += lg[k + j] * lg[k + j];
        d[SM_SPEC_FLUX] = sqrt((double)lanes(a_fx) + (double)(lg[kl] * lg[kl]));
    } else {
        d[SM_SPEC_FLUX] = NAN;
    }
    if (next_prev)
        memcpy(next_prev, cur, sizeof(cur));

    d[SM_SPEC_ROLLOFF] = spow > 0.0 ? (double)freq[rolloff_bin(pw, (float)(0.85 * spow))]
                                     : (double)NAN;

    /* Zero crossings over the centre hop (including the step into it): sign
     * bits that differ, so -0 counts as negative as numpy's signbit does. */
    const float *x = f->samples + (SM_AN_NFFT - SM_AN_HOP) / 2;
    uint32_t zc = 0;
    for (size_t i = 0; i < SM_AN_HOP; i++) {
        uint32_t u0;
        uint32_t u1;
        memcpy(&u0, x + i - 1, sizeof(u0));
        memcpy(&u1, x + i, sizeof(u1));
        zc += (u0 ^ u1) >> 31;
    }
    d[SM_SPEC_ZCR] = (double)zc / SM_AN_HOP;

    for (size_t b = 0; b < SM_CONTRAST_BANDS; b++) {
        float peak = top_mean(mag + bands[b].lo, bands[b].n, bands[b].q, 1.0f);
        float valley = top_mean(mag + bands[b].lo, bands[b].n, bands[b].q, -1.0f);
        peak = peak > SM__POWER_FLOOR ? peak : SM__POWER_FLOOR;
        valley = valley > SM__POWER_FLOOR ? valley : SM__POWER_FLOOR;
        contrast[b] = 10.0 * log10((double)peak / (double)valley);
    }
}

/* out = mag / sum(mag), or zeros when the sum is 0. */
static void normalise(const float *mag, float *out)
{
    float acc[8] = {0};
    for (size_t k = 0; k < SM__SPEC_BODY; k += 8)
        for (size_t j = 0; j < 8; j++)
            acc[j] += mag[k + j];
    double sum = (double)lanes(acc) + (double)mag[SM__SPEC_BODY];
    float inv = sum > 0.0 ? (float)(1.0 / sum) : 0.0f;
    for (size_t k = 0; k < SM_AN_NBINS; k++)
        out[k] = mag[k] * inv;
}

void sm__spectral_init(struct sm__spectral *s)
{
    memset(s, 0, sizeof(*s));
}

void sm__spectral_process(struct sm__spectral *s, const struct sm__frame *f)
{
    double d[SM_SPEC_COUNT];
    double contrast[SM_CONTRAST_BANDS];
    if (sm__stft_is_silent(f)) {
        /* Not counted, but the next frame's flux compares with this one. */
        normalise(f->mag, s->prev_mag);
        s->have_prev = 1;
        return;
    }
    sm__spectral_frame(f, s->have_prev ? s->prev_mag : NULL, s->prev_mag, d, contrast);
    s->have_prev = 1;
    for (size_t i = 0; i < SM_SPEC_COUNT; i++) {
        if (!isnan(d[i]))
            sm__running_add(&s->d[i], d[i]);
    }
    for (size_t b = 0; b < SM_CONTRAST_BANDS; b++)
        sm__running_add(&s->contrast[b], contrast[b]);
}

static void stat_of(const struct sm__running *r, sm_stat *out)
{
    if (r->n > 0.0) {
        out->mean = r->mean;
        out->std = sqrt(r->m2 / r->n);
    } else {
        out->mean = NAN;
        out->std = NAN;
    }
}

void sm__spectral_finish(const struct sm__spectral *s, sm_analysis *a)
{
    for (size_t i = 0; i < SM_SPEC_COUNT; i++)
        stat_of(&s->d[i], &a->spectral[i]);
    for (size_t b = 0; b < SM_CONTRAST_BANDS; b++)
        stat_of(&s->contrast[b], &a->contrast[b]);
}
