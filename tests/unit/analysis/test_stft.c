#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <samplemind/alloc.h>
#include "analysis/stft.h"
#include "testutil.h"

/* Everything the callback saw, frame by frame. */
struct capture {
    size_t frames;
    size_t cap;
    float *mag;       /* cap * SM_AN_NBINS */
    double *rms;
    double *energy;
    int order_ok;     /* indices arrived as 0, 1, 2, ... */
    int mel_null;
    float first_samples[SM_AN_NFFT];
};

static void capture_init(struct capture *c, size_t cap)
{
    memset(c, 0, sizeof(*c));
    c->cap = cap;
    c->mag = calloc(cap * SM_AN_NBINS, sizeof(float));
    c->rms = calloc(cap, sizeof(double));
    c->energy = calloc(cap, sizeof(double));
    c->order_ok = 1;
    c->mel_null = 1;
}

static void capture_free(struct capture *c)
{
    free(c->mag);
    free(c->rms);
    free(c->energy);
}

static void on_frame(const struct sm__frame *f, void *userdata)
{
    struct capture *c = userdata;
    if (f->index != c->frames)
        c->order_ok = 0;
    if (f->mel)
        c->mel_null = 0;
    if (c->frames == 0)
        memcpy(c->first_samples, f->samples, sizeof(c->first_samples));
    if (c->frames < c->cap) {
        memcpy(c->mag + c->frames * SM_AN_NBINS, f->mag, sizeof(float) * SM_AN_NBINS);
        c->rms[c->frames] = f->rms;
        c->energy[c->frames] = f->energy;
    }
    c->frames++;
}

/* Run x[n] through s in blocks of `block` samples, then finish. */
static void run(struct sm__stft *s, const float *x, size_t n, size_t block, struct capture *c)
{
    for (size_t i = 0; i < n; i += block)
        sm__stft_process(s, x + i, n - i < block ? n - i : block, on_frame, c);
    sm__stft_finish(s, on_frame, c);
}

static void test_stft__frame_count_is_one_plus_n_over_hop(void **state)
{
    (void)state;
    static const size_t lengths[] = {0, 1, 511, 512, 513, 1023, 1024, 1025, 2047, 2048,
                                     2049, 5000, 22050, 70001};
    static const size_t blocks[] = {1, 7, 512, 4096, 65536};
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    float *x = malloc(sizeof(float) * 70001);
    tu_noise(x, 70001, 0.5, 3);
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
            if (blocks[b] == 1 && lengths[i] > 5000)
                continue;
            struct capture c;
            capture_init(&c, 0);
            run(s, x, lengths[i], blocks[b], &c);
            assert_int_equal(c.frames, 1 + lengths[i] / SM_AN_HOP);
            assert_true(c.order_ok);
            assert_true(c.mel_null);
            capture_free(&c);
        }
    }
    free(x);
    sm__stft_free(s);
}

static void test_stft__results_do_not_depend_on_block_size(void **state)
{
    (void)state;
    const size_t n = 30000;
    float *x = malloc(sizeof(float) * n);
    tu_noise(x, n, 0.3, 11);
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    struct capture ref;
    capture_init(&ref, 1 + n / SM_AN_HOP);
    run(s, x, n, n, &ref);
    static const size_t blocks[] = {1, 3, 511, 512, 513, 10000};
    for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
        struct capture c;
        capture_init(&c, 1 + n / SM_AN_HOP);
        run(s, x, n, blocks[b], &c);
        assert_int_equal(c.frames, ref.frames);
        assert_memory_equal(c.mag, ref.mag, sizeof(float) * SM_AN_NBINS * c.frames);
        assert_memory_equal(c.rms, ref.rms, sizeof(double) * c.frames);
        assert_memory_equal(c.energy, ref.energy, sizeof(double) * c.frames);
        capture_free(&c);
    }
    capture_free(&ref);
    free(x);
    sm__stft_free(s);
}

static size_t argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        if (v[i] > v[best])
            best = i;
    }
    return best;
}

static void test_stft__sine_peaks_at_its_bin(void **state)
{
    (void)state;
    const size_t n = SM_AN_RATE;
    float *x = malloc(sizeof(float) * n);
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    static const double freqs[] = {1000.0, 110.0, 5512.5, 10000.0};
    for (size_t i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
        tu_sine(x, n, freqs[i], SM_AN_RATE, 0.5);
        struct capture c;
        capture_init(&c, 1 + n / SM_AN_HOP);
        run(s, x, n, 4096, &c);
        size_t want = (size_t)lround(freqs[i] * SM_AN_NFFT / SM_AN_RATE);
        /* Every frame away from the zero-padded ends. */
        for (size_t fr = 2; fr + 2 < c.frames; fr++)
            assert_int_equal(argmax(c.mag + fr * SM_AN_NBINS, SM_AN_NBINS), want);
        /* Hann: a full-scale-amplitude A sine peaks near A N / 4 in magnitude
         * (within the 1.42 dB scalloping loss). */
        double peak = (double)c.mag[10 * SM_AN_NBINS + want];
        assert_true(peak < 0.5 * SM_AN_NFFT / 4 * 1.01);
        assert_true(peak > 0.5 * SM_AN_NFFT / 4 * 0.84);
        /* RMS of a sine is A / sqrt(2) (the hop is not a whole number of periods). */
        assert_true(fabs(c.rms[10] - 0.5 / sqrt(2.0)) < 0.02 * 0.5);
        capture_free(&c);
    }
    free(x);
    sm__stft_free(s);
}

/* Checks Parseval on every frame: the one-sided power with the interior bins
 * doubled equals N times the energy of the windowed samples. */
struct parseval {
    double worst;
    double energy_err;
    size_t frames;
};

static void on_frame_parseval(const struct sm__frame *f, void *userdata)
{
    struct parseval *p = userdata;
    double time = 0.0;
    for (size_t i = 0; i < SM_AN_NFFT; i++) {
        double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / SM_AN_NFFT);
        double v = (double)f->samples[i] * w;
        time += v * v;
    }
    double freq = (double)f->power[0] + (double)f->power[SM_AN_NBINS - 1];
    double sum = 0.0;
    for (size_t k = 0; k < SM_AN_NBINS; k++) {
        double m = (double)f->mag[k];
        double want = (double)f->power[k];
        assert_true(fabs(m * m - want) <= 1e-5 * want + 1e-12);
        sum += want;
        if (k > 0 && k < SM_AN_NBINS - 1)
            freq += 2.0 * want;
    }
    double err = fabs(freq - SM_AN_NFFT * time) / (SM_AN_NFFT * time + 1e-30);
    if (err > p->worst)
        p->worst = err;
    double eerr = fabs(f->energy - sum) / (sum + 1e-30);
    if (eerr > p->energy_err)
        p->energy_err = eerr;
    p->frames++;
}

static void test_stft__power_obeys_parseval(void **state)
{
    (void)state;
    const size_t n = 20000;
    float *x = malloc(sizeof(float) * n);
    tu_noise(x, n, 0.8, 5);
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    struct parseval p = {0.0, 0.0, 0};
    sm__stft_process(s, x, n, on_frame_parseval, &p);
    sm__stft_finish(s, on_frame_parseval, &p);
    assert_int_equal(p.frames, 1 + n / SM_AN_HOP);
    assert_true(p.worst < 1e-4);
    assert_true(p.energy_err < 1e-4);
    free(x);
    sm__stft_free(s);
}

static void test_stft__frames_are_centred(void **state)
{
    (void)state;
    float x[600];
    for (size_t i = 0; i < 600; i++)
        x[i] = (float)(i + 1);
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    struct capture c;
    capture_init(&c, 4);
    run(s, x, 600, 600, &c);
    assert_int_equal(c.frames, 2);
    /* Frame 0 is centred on sample 0: half a frame of zeros, then the signal. */
    for (size_t i = 0; i < SM_AN_NFFT / 2; i++)
        assert_true(fabsf(c.first_samples[i]) < 1e-30f);
    for (size_t i = 0; i < 600; i++)
        assert_true(fabsf(c.first_samples[SM_AN_NFFT / 2 + i] - x[i]) < 1e-6f);
    for (size_t i = SM_AN_NFFT / 2 + 600; i < SM_AN_NFFT; i++)
        assert_true(fabsf(c.first_samples[i]) < 1e-30f);
    /* rms covers samples -256..255 of frame 0: 256 zeros, then 1..256. */
    double ms = 0.0;
    for (size_t i = 1; i <= 256; i++)
        ms += (double)i * (double)i;
    assert_true(fabs(c.rms[0] - sqrt(ms / SM_AN_HOP)) < 1e-4 * c.rms[0]);
    capture_free(&c);
    sm__stft_free(s);
}

static void test_stft__reset_and_finish_start_over(void **state)
{
    (void)state;
    const size_t n = 9000;
    float *x = malloc(sizeof(float) * n);
    float *junk = malloc(sizeof(float) * 3000);
    tu_sine(x, n, 440.0, SM_AN_RATE, 0.7);
    tu_noise(junk, 3000, 1.0, 9);
    struct sm__stft *fresh = sm__stft_new();
    struct sm__stft *used = sm__stft_new();
    assert_non_null(fresh);
    assert_non_null(used);
    struct capture ref;
    capture_init(&ref, 1 + n / SM_AN_HOP);
    run(fresh, x, n, 1000, &ref);

    /* Junk fed, then reset. */
    sm__stft_process(used, junk, 3000, NULL, NULL);
    sm__stft_reset(used);
    struct capture c;
    capture_init(&c, 1 + n / SM_AN_HOP);
    run(used, x, n, 1000, &c);
    assert_int_equal(c.frames, ref.frames);
    assert_memory_equal(c.mag, ref.mag, sizeof(float) * SM_AN_NBINS * c.frames);
    capture_free(&c);

    /* A second file after finish, with no reset. */
    capture_init(&c, 1 + n / SM_AN_HOP);
    run(used, x, n, 333, &c);
    assert_int_equal(c.frames, ref.frames);
    assert_memory_equal(c.mag, ref.mag, sizeof(float) * SM_AN_NBINS * c.frames);
    capture_free(&c);

    capture_free(&ref);
    free(x);
    free(junk);
    sm__stft_free(fresh);
    sm__stft_free(used);
}

static void test_stft__silence_gives_zero_frames(void **state)
{
    (void)state;
    float *x = calloc(5000, sizeof(float));
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    struct capture c;
    capture_init(&c, 1 + 5000 / SM_AN_HOP);
    run(s, x, 5000, 5000, &c);
    for (size_t i = 0; i < c.frames; i++) {
        assert_true(c.energy[i] < 1e-30);
        assert_true(c.rms[i] < 1e-30);
    }
    capture_free(&c);
    free(x);
    sm__stft_free(s);
}

static void test_stft__bad_arguments_are_harmless(void **state)
{
    (void)state;
    sm__stft_free(NULL);
    sm__stft_reset(NULL);
    sm__stft_process(NULL, NULL, 10, on_frame, NULL);
    sm__stft_finish(NULL, on_frame, NULL);
    struct sm__stft *s = sm__stft_new();
    assert_non_null(s);
    struct capture c;
    capture_init(&c, 0);
    /* NULL samples with n > 0 are ignored; n == 0 is a no-op. */
    sm__stft_process(s, NULL, 100, on_frame, &c);
    sm__stft_process(s, NULL, 0, on_frame, &c);
    sm__stft_finish(s, on_frame, &c);
    assert_int_equal(c.frames, 1);
    /* No callback is fine too. */
    float x[3000] = {0};
    sm__stft_process(s, x, 3000, NULL, NULL);
    sm__stft_finish(s, NULL, NULL);
    capture_free(&c);
    sm__stft_free(s);
}

static void *failing_malloc(size_t n)
{
    (void)n;
    return NULL;
}
static void *failing_realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    return NULL;
}
static void *failing_calloc(size_t c, size_t n)
{
    (void)c;
    (void)n;
    return NULL;
}

static void test_stft__new_fails_cleanly_without_memory(void **state)
{
    (void)state;
    sm_set_allocator(failing_malloc, failing_realloc, failing_calloc, free);
    struct sm__stft *s = sm__stft_new();
    sm_set_allocator(NULL, NULL, NULL, NULL);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stft__frame_count_is_one_plus_n_over_hop),
        cmocka_unit_test(test_stft__results_do_not_depend_on_block_size),
        cmocka_unit_test(test_stft__sine_peaks_at_its_bin),
        cmocka_unit_test(test_stft__power_obeys_parseval),
        cmocka_unit_test(test_stft__frames_are_centred),
        cmocka_unit_test(test_stft__reset_and_finish_start_over),
        cmocka_unit_test(test_stft__silence_gives_zero_frames),
        cmocka_unit_test(test_stft__bad_arguments_are_harmless),
        cmocka_unit_test(test_stft__new_fails_cleanly_without_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
