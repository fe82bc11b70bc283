/* Streaming STFT (see stft.h). */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <fftw3.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <samplemind/alloc.h>

#include "analysis/stft.h"
#include "util/simd.h"

/* The sliding buffer holds one frame plus room for this many hops, so the
 * samples left over are moved to the front only once every SM__STFT_SLACK hops. */
#define SM__STFT_SLACK 16
#define SM__STFT_CAP (SM_AN_NFFT + SM__STFT_SLACK * SM_AN_HOP)

struct sm__stft {
    /* Padded time: buf[0] is sample -SM_AN_NFFT / 2 right after a reset. */
    float buf[SM__STFT_CAP];
    size_t start;  /* buf index of the next frame's first sample */
    size_t fill;   /* valid samples in buf */
    size_t total;  /* real samples fed since the reset */
    size_t index;  /* next frame number */
    float win[SM_AN_NFFT];
    float mag[SM_AN_NBINS];
    float power[SM_AN_NBINS];
    float *in;           /* fftwf_malloc'd, SM_AN_NFFT */
    fftwf_complex *out;  /* fftwf_malloc'd, SM_AN_NBINS */
    fftwf_plan plan;
};

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

void sm__stft_plan_lock(void)
{
    pthread_mutex_lock(&plan_lock);
}

void sm__stft_plan_unlock(void)
{
    pthread_mutex_unlock(&plan_lock);
}

struct sm__stft *sm__stft_new(void)
{
    struct sm__stft *s = sm_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->in = fftwf_malloc(sizeof(float) * SM_AN_NFFT);
    s->out = fftwf_malloc(sizeof(fftwf_complex) * SM_AN_NBINS);
    if (!s->in || !s->out)
        goto fail;
    sm__stft_plan_lock();
    s->plan = fftwf_plan_dft_r2c_1d(SM_AN_NFFT, s->in, s->out, FFTW_ESTIMATE);
    sm__stft_plan_unlock();
    if (!s->plan)
        goto fail;
    for (size_t i = 0; i < SM_AN_NFFT; i++)
        s->win[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / SM_AN_NFFT));
    sm__stft_reset(s);
    return s;
fail:
    sm__stft_free(s);
    return NULL;
}

void sm__stft_free(struct sm__stft *s)
{
    if (!s)
        return;
    if (s->plan) {
        sm__stft_plan_lock();
        fftwf_destroy_plan(s->plan);
        sm__stft_plan_unlock();
    }
    if (s->in)
        fftwf_free(s->in);
    if (s->out)
        fftwf_free(s->out);
    sm_free(s);
}

void sm__stft_reset(struct sm__stft *s)
{
    if (!s)
        return;
    memset(s->buf, 0, sizeof(float) * (SM_AN_NFFT / 2));
    s->start = 0;
    s->fill = SM_AN_NFFT / 2;
    s->total = 0;
    s->index = 0;
}

/* Move the samples still needed to the front of the buffer. */
static void compact(struct sm__stft *s)
{
    size_t keep = s->fill - s->start;
    memmove(s->buf, s->buf + s->start, sizeof(float) * keep);
    s->fill = keep;
    s->start = 0;
}

/* The sum of x[0..n) for n a multiple of 8, in eight lanes so it vectorises
 * without reassociation flags. */
static float sum8(const float *x, size_t n)
{
    float acc[8] = {0};
    for (size_t i = 0; i < n; i += 8)
        for (size_t j = 0; j < 8; j++)
            acc[j] += x[i + j];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static float sumsq8(const float *x, size_t n)
{
    float acc[8] = {0};
    for (size_t i = 0; i < n; i += 8)
        for (size_t j = 0; j < 8; j++)
            acc[j] += x[i + j] * x[i + j];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* mag = sqrt(power). Without -fno-math-errno gcc keeps sqrtf scalar (it must
 * be able to set errno for a negative input, which power never is), and that
 * loop alone cost about 2 us a frame; SSE computes four at a time. */
static void magnitudes(const float *pw, float *mag)
{
    size_t k = 0;
#if defined(__SSE__)
    for (; k + 4 <= SM_AN_NBINS; k += 4)
        _mm_storeu_ps(mag + k, _mm_sqrt_ps(_mm_loadu_ps(pw + k)));
#endif
    for (; k < SM_AN_NBINS; k++)
        mag[k] = sqrtf(pw[k]);
}

/* Transform the frame at buf + start and hand it to fn. */
SM__HOT static void emit(struct sm__stft *s, sm__frame_fn fn, void *userdata)
{
    const float *x = s->buf + s->start;
    float *in = s->in;
    const float *w = s->win;
    for (size_t i = 0; i < SM_AN_NFFT; i++)
        in[i] = x[i] * w[i];
    fftwf_execute(s->plan);

    const float *c = (const float *)s->out;
    float *pw = s->power;
    for (size_t k = 0; k < SM_AN_NBINS; k++)
        pw[k] = c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1];
    magnitudes(pw, s->mag);

    float ms = sumsq8(x + (SM_AN_NFFT - SM_AN_HOP) / 2, SM_AN_HOP) / (float)SM_AN_HOP;
    struct sm__frame f = {
        .index = s->index,
        .samples = x,
        .mag = s->mag,
        .power = s->power,
        .mel = NULL,
        .rms = sqrt((double)ms),
        .energy = (double)sum8(pw, SM_AN_NBINS - 1) + (double)pw[SM_AN_NBINS - 1],
    };
    if (fn)
        fn(&f, userdata);
    s->start += SM_AN_HOP;
    s->index++;
}

void sm__stft_process(struct sm__stft *s, const float *x, size_t n, sm__frame_fn fn,
                      void *userdata)
{
    if (!s || (!x && n))
        return;
    while (n > 0) {
        if (s->fill == SM__STFT_CAP)
            compact(s);
        size_t m = SM__STFT_CAP - s->fill;
        if (m > n)
            m = n;
        memcpy(s->buf + s->fill, x, sizeof(float) * m);
        s->fill += m;
        s->total += m;
        x += m;
        n -= m;
        while (s->fill - s->start >= SM_AN_NFFT)
            emit(s, fn, userdata);
    }
}

void sm__stft_finish(struct sm__stft *s, sm__frame_fn fn, void *userdata)
{
    if (!s)
        return;
    size_t frames = 1 + s->total / SM_AN_HOP;
    while (s->index < frames) {
        if (s->start + SM_AN_NFFT > SM__STFT_CAP)
            compact(s);
        size_t end = s->start + SM_AN_NFFT;
        if (s->fill < end) {
            memset(s->buf + s->fill, 0, sizeof(float) * (end - s->fill));
            s->fill = end;
        }
        emit(s, fn, userdata);
    }
    sm__stft_reset(s);
}
