#include "analysis/loudness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>

#define ABS_GATE_LUFS -70.0

/* The K-weighting filters of BS.1770 at any rate, as libebur128 derives them. */
static void k_weighting(struct sm__loudness *l, double rate)
{
    double f0 = 1681.974450955533;
    double g = 3.999843853973347;
    double q = 0.7071752369554196;
    double k = tan(M_PI * f0 / rate);
    double vh = pow(10.0, g / 20.0);
    double vb = pow(vh, 0.4996667741545416);
    double a0 = 1.0 + k / q + k * k;
    l->pre.b0 = (vh + vb * k / q + k * k) / a0;
    l->pre.b1 = 2.0 * (k * k - vh) / a0;
    l->pre.b2 = (vh - vb * k / q + k * k) / a0;
    l->pre.a1 = 2.0 * (k * k - 1.0) / a0;
    l->pre.a2 = (1.0 - k / q + k * k) / a0;

    f0 = 38.13547087602444;
    q = 0.5003270373238773;
    k = tan(M_PI * f0 / rate);
    a0 = 1.0 + k / q + k * k;
    l->rlb.b0 = 1.0;
    l->rlb.b1 = -2.0;
    l->rlb.b2 = 1.0;
    l->rlb.a1 = 2.0 * (k * k - 1.0) / a0;
    l->rlb.a2 = (1.0 - k / q + k * k) / a0;
}

/* libebur128's default channel map: L R C (LFE) Ls Rs; 4 channels are L R Ls Rs,
 * 5 are L R C Ls Rs; surrounds weigh 1.41, LFE and channels past 6 are unused. */
static void channel_weights(struct sm__loudness *l)
{
    for (int c = 0; c < l->channels; c++)
        l->weight[c] = 0.0;
    if (l->channels == 4) {
        l->weight[0] = l->weight[1] = 1.0;
        l->weight[2] = l->weight[3] = 1.41;
        return;
    }
    if (l->channels == 5) {
        l->weight[0] = l->weight[1] = l->weight[2] = 1.0;
        l->weight[3] = l->weight[4] = 1.41;
        return;
    }
    static const double map[6] = {1.0, 1.0, 1.0, 0.0, 1.41, 1.41};
    for (int c = 0; c < l->channels && c < 6; c++)
        l->weight[c] = map[c];
}

int sm__loudness_init(struct sm__loudness *l, int rate, int channels)
{
    memset(l, 0, sizeof(*l));
    if (channels < 1 || channels > SM_MAX_CHANNELS || rate < 1000)
        return -1;
    l->channels = channels;
    l->rate = rate;
    l->step = ((size_t)rate + 5) / 10;
    k_weighting(l, (double)rate);
    channel_weights(l);
    return sm__truepeak_init(&l->tp, rate, channels);
}

void sm__loudness_release(struct sm__loudness *l)
{
    sm__truepeak_release(&l->tp);
    sm_free(l->sub);
    l->sub = NULL;
}

static void push_sub(struct sm__loudness *l)
{
    if (l->n_sub == l->cap_sub) {
        size_t cap = l->cap_sub ? 2 * l->cap_sub : 256;
        double *p = sm_realloc(l->sub, cap * sizeof(double));
        if (!p) {
            l->oom = 1;
            return;
        }
        l->sub = p;
        l->cap_sub = cap;
    }
    l->sub[l->n_sub++] = l->acc;
    l->acc = 0.0;
    l->pending = 0;
}

/* One filter stage step (transposed direct form II). */
#define STAGE(q, in, out, za, zb)                                                   \
    do {                                                                            \
        out = (q).b0 * (in) + za;                                                   \
        za = (q).b1 * (in) - (q).a1 * out + zb;                                     \
        zb = (q).b2 * (in) - (q).a2 * out;                                          \
    } while (0)

static double flush_denormal(double v)
{
    return fabs(v) < 1e-30 ? 0.0 : v;
}

/* K-weight one channel over n samples; returns the sum of squares. */
static double filter_one(struct sm__loudness *l, int c, const float *x, size_t n)
{
    const struct sm__biquad p = l->pre;
    const struct sm__biquad r = l->rlb;
    double *z = l->z[c];
    double z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3];
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double y;
        double w;
        STAGE(p, (double)x[i], y, z0, z1);
        STAGE(r, y, w, z2, z3);
        sum += w * w;
    }
    z[0] = flush_denormal(z0);
    z[1] = flush_denormal(z1);
    z[2] = flush_denormal(z2);
    z[3] = flush_denormal(z3);
    return sum;
}

/* Two channels in one loop: the filters are recursive, so one channel is bound
 * by the latency of its chain; two independent chains run side by side. */
static void filter_two(struct sm__loudness *l, int c, int d, const float *x, const float *y,
                       size_t n, double *sx, double *sy)
{
    const struct sm__biquad p = l->pre;
    const struct sm__biquad r = l->rlb;
    double *zc = l->z[c];
    double *zd = l->z[d];
    double a0 = zc[0], a1 = zc[1], a2 = zc[2], a3 = zc[3];
    double b0 = zd[0], b1 = zd[1], b2 = zd[2], b3 = zd[3];
    double s1 = 0.0;
    double s2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double u, v, w, t;
        STAGE(p, (double)x[i], u, a0, a1);
        STAGE(p, (double)y[i], v, b0, b1);
        STAGE(r, u, w, a2, a3);
        STAGE(r, v, t, b2, b3);
        s1 += w * w;
        s2 += t * t;
    }
    zc[0] = flush_denormal(a0);
    zc[1] = flush_denormal(a1);
    zc[2] = flush_denormal(a2);
    zc[3] = flush_denormal(a3);
    zd[0] = flush_denormal(b0);
    zd[1] = flush_denormal(b1);
    zd[2] = flush_denormal(b2);
    zd[3] = flush_denormal(b3);
    *sx = s1;
    *sy = s2;
}

int sm__loudness_process(struct sm__loudness *l, float *const *ch, size_t n)
{
    sm__truepeak_process(&l->tp, ch, n);
    /* The weighted channels, in pairs. */
    int active[SM_MAX_CHANNELS];
    int na = 0;
    for (int c = 0; c < l->channels; c++)
        if (l->weight[c] > 0.0)
            active[na++] = c;
    size_t off = 0;
    while (off < n) {
        size_t take = l->step - l->pending;
        if (take > n - off)
            take = n - off;
        int k = 0;
        for (; k + 1 < na; k += 2) {
            int c = active[k];
            int d = active[k + 1];
            double sc;
            double sd;
            filter_two(l, c, d, ch[c] + off, ch[d] + off, take, &sc, &sd);
            l->acc += l->weight[c] * sc + l->weight[d] * sd;
        }
        if (k < na) {
            int c = active[k];
            l->acc += l->weight[c] * filter_one(l, c, ch[c] + off, take);
        }
        l->pending += take;
        off += take;
        if (l->pending == l->step)
            push_sub(l);
    }
    return l->oom ? -1 : 0;
}

static double to_lufs(double energy)
{
    return -0.691 + 10.0 * log10(energy);
}

static double from_lufs(double lufs)
{
    return pow(10.0, (lufs + 0.691) / 10.0);
}

/* Mean energy of the window of w sub-blocks ending at sub-block j (inclusive). */
static double window(const struct sm__loudness *l, size_t j, size_t w)
{
    double s = 0.0;
    for (size_t i = j + 1 - w; i <= j; i++)
        s += l->sub[i];
    return s / (double)(w * l->step);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double db_or_nan(double linear)
{
    return linear > 0.0 ? 20.0 * log10(linear) : (double)NAN;
}

static double lufs_or_nan(double energy)
{
    return energy > 0.0 ? to_lufs(energy) : (double)NAN;
}

static void integrated(const struct sm__loudness *l, sm_analysis *a)
{
    const double abs_gate = from_lufs(ABS_GATE_LUFS);
    double sum = 0.0;
    size_t n = 0;
    for (size_t j = 3; j < l->n_sub; j++) {
        double e = window(l, j, 4);
        if (e >= abs_gate) {
            sum += e;
            n++;
        }
    }
    a->integrated_lufs = NAN;
    if (l->n_sub < 4) {
        a->integrated_reason = "shorter than the 400 ms gating block; see momentary_max_lufs";
        return;
    }
    if (!n) {
        a->integrated_reason = "silent: every block is below the -70 LUFS absolute gate";
        return;
    }
    double rel_gate = sum / (double)n * 0.1; /* -10 LU */
    if (rel_gate < abs_gate)
        rel_gate = abs_gate;
    sum = 0.0;
    n = 0;
    for (size_t j = 3; j < l->n_sub; j++) {
        double e = window(l, j, 4);
        if (e >= rel_gate) {
            sum += e;
            n++;
        }
    }
    a->integrated_lufs = n ? to_lufs(sum / (double)n) : (double)NAN;
}

/* EBU Tech 3342: short-term blocks every second, gated at -70 LUFS and then at
 * -20 LU below their mean; the range is from the 10th to the 95th percentile. */
static double loudness_range(const struct sm__loudness *l)
{
    if (l->n_sub < 30)
        return NAN;
    size_t cap = (l->n_sub - 29) / 10 + 1;
    double *st = sm_malloc(cap * sizeof(double));
    if (!st)
        return NAN;
    const double abs_gate = from_lufs(ABS_GATE_LUFS);
    size_t n = 0;
    double sum = 0.0;
    for (size_t j = 29; j < l->n_sub; j += 10) {
        double e = window(l, j, 30);
        if (e >= abs_gate) {
            st[n++] = e;
            sum += e;
        }
    }
    double lra = 0.0;
    if (n) {
        qsort(st, n, sizeof(double), cmp_double);
        double rel = sum / (double)n * 0.01; /* -20 LU */
        size_t first = 0;
        while (first < n && st[first] < rel)
            first++;
        size_t m = n - first;
        if (m) {
            double hi = st[first + (size_t)((double)(m - 1) * 0.95 + 0.5)];
            double lo = st[first + (size_t)((double)(m - 1) * 0.1 + 0.5)];
            lra = to_lufs(hi) - to_lufs(lo);
        }
    }
    sm_free(st);
    return lra;
}

void sm__loudness_finish(struct sm__loudness *l, sm_analysis *a)
{
    sm__truepeak_finish(&l->tp);
    a->sample_peak_dbfs = db_or_nan((double)l->tp.sample_peak);
    a->true_peak_dbtp = db_or_nan((double)l->tp.peak);

    /* A trailing partial sub-block counts for the maxima (zero-padded, as the
     * meter's 400 ms window would be) but not for gating. */
    size_t gated = l->n_sub;
    if (l->pending && !l->oom)
        push_sub(l);
    double m_max = 0.0;
    for (size_t j = 0; j < l->n_sub; j++) {
        size_t w = j + 1 < 4 ? j + 1 : 4;
        double e = window(l, j, w) * (double)w / 4.0;
        m_max = e > m_max ? e : m_max;
    }
    double s_max = 0.0;
    for (size_t j = 29; j < l->n_sub; j++) {
        double e = window(l, j, 30);
        s_max = e > s_max ? e : s_max;
    }
    a->momentary_max_lufs = lufs_or_nan(m_max);
    a->short_term_max_lufs = lufs_or_nan(s_max);

    size_t all = l->n_sub;
    l->n_sub = gated;
    integrated(l, a);
    a->range_lu = loudness_range(l);
    l->n_sub = all;
}
