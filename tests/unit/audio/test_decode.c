#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sndfile.h>
#include <samplemind/audio.h>
#include "testutil.h"

static sm_status open_fails(const char *path)
{
    sm_audio_info info;
    sm_error err = SM_ERROR_INIT;
    sm_decoder *d = sm_decoder_open(path, &info, &err);
    assert_null(d);
    assert_true(err.msg[0] != '\0');
    return err.code;
}

static int64_t count_frames(const char *path, sm_audio_info *info)
{
    sm_error err = SM_ERROR_INIT;
    sm_decoder *d = sm_decoder_open(path, info, &err);
    assert_non_null(d);
    float *buf = malloc(1000 * (size_t)info->channels * sizeof(float));
    int64_t total = 0;
    int64_t n;
    while ((n = sm_decoder_read(d, buf, 1000, &err)) > 0)
        total += n;
    assert_int_equal(n, 0);
    free(buf);
    sm_decoder_close(d);
    return total;
}

static void test_decode__frames_exact_for_every_format(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int format;
        const char *fmt;
        const char *codec;
    } cases[] = {
        {"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, "wav", "pcm_s16"},
        {"b.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, "wav", "pcm_s24"},
        {"c.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, "wav", "pcm_f32"},
        {"d.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, "wav", "pcm_u8"},
        {"e.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "flac", "flac"},
        {"f.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, "aiff", "pcm_s24"},
        {"g.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, "ogg", "vorbis"},
    };
    const size_t frames = 44100 + 17;
    float *x = malloc(frames * 2 * sizeof(float));
    float *mono = malloc(frames * sizeof(float));
    tu_sine(mono, frames, 440.0, 44100.0, 0.5);
    tu_interleave(mono, frames, 2, x);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = tu_path(cases[i].name);
        assert_int_equal(tu_write(path, x, frames, 2, 44100, cases[i].format), 0);
        sm_audio_info info;
        int64_t got = count_frames(path, &info);
        assert_int_equal(got, (int64_t)frames);
        assert_int_equal(info.frames, (int64_t)frames);
        assert_int_equal(info.channels, 2);
        assert_int_equal(info.sample_rate, 44100);
        assert_string_equal(info.format, cases[i].fmt);
        assert_string_equal(info.codec, cases[i].codec);
        assert_true(info.size > 0);
        remove(path);
    }
    free(x);
    free(mono);
}

static void test_decode__channels_and_rates(void **state)
{
    (void)state;
    static const int rates[] = {8000, 22050, 96000, 192000, 384000};
    for (int ch = 1; ch <= 10; ch += 3) {
        for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
            size_t frames = (size_t)rates[r] / 10;
            float *x = calloc(frames * (size_t)ch, sizeof(float));
            const char *path = tu_path("rc.wav");
            assert_int_equal(tu_write(path, x, frames, ch, rates[r],
                                      SF_FORMAT_WAV | SF_FORMAT_PCM_16), 0);
            sm_audio_info info;
            assert_int_equal(count_frames(path, &info), (int64_t)frames);
            assert_int_equal(info.channels, ch);
            assert_int_equal(info.sample_rate, rates[r]);
            remove(path);
            free(x);
        }
    }
}

static void test_decode__nonfinite_samples_become_zero(void **state)
{
    (void)state;
    float x[8] = {0.5f, NAN, -0.25f, INFINITY, -INFINITY, 0.125f, 0.0f, 1.0f};
    const char *path = tu_path("nan.wav");
    assert_int_equal(tu_write(path, x, 8, 1, 44100, SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
    sm_audio_info info;
    sm_error err = SM_ERROR_INIT;
    sm_decoder *d = sm_decoder_open(path, &info, &err);
    assert_non_null(d);
    float y[8];
    assert_int_equal(sm_decoder_read(d, y, 8, &err), 8);
    assert_int_equal(sm_decoder_nonfinite(d), 3);
    for (int i = 0; i < 8; i++)
        assert_true(isfinite(y[i]));
    assert_true(y[0] > 0.49f && y[0] < 0.51f);
    assert_true(fabsf(y[1]) < 1e-9f);
    sm_decoder_close(d);
    remove(path);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_decode__bad_inputs_name_the_problem(void **state)
{
    (void)state;
    assert_int_equal(open_fails(tu_path("does-not-exist.wav")), SM_ENOENT);

    const char *dir = tu_path("adir.wav");
    mkdir(dir, 0700);
    assert_int_equal(open_fails(dir), SM_EISDIR);
    rmdir(dir);

    const char *empty = tu_path("empty.wav");
    write_bytes(empty, "", 0);
    assert_int_equal(open_fails(empty), SM_EEMPTY);
    remove(empty);

    const char *text = tu_path("notes.wav");
    write_bytes(text, "hello, this is not audio at all\n", 32);
    assert_int_equal(open_fails(text), SM_EFORMAT);
    remove(text);

    const char *trunc = tu_path("trunc.wav");
    write_bytes(trunc, "RIFF\x24\x00\x00\x00WAVEfmt ", 16);
    assert_int_equal(open_fails(trunc), SM_ECORRUPT);
    remove(trunc);

    /* A valid header that declares no frames. */
    const char *zero = tu_path("zero.wav");
    assert_int_equal(tu_write(zero, NULL, 0, 1, 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_16), 0);
    assert_int_equal(open_fails(zero), SM_EEMPTY);
    remove(zero);

    sm_audio_info info;
    sm_error err = SM_ERROR_INIT;
    assert_null(sm_decoder_open(NULL, &info, &err));
    assert_int_equal(err.code, SM_EINVAL);
}

static void test_decode__truncated_data_reads_what_is_there(void **state)
{
    (void)state;
    const size_t frames = 10000;
    float *x = calloc(frames, sizeof(float));
    tu_sine(x, frames, 100.0, 44100.0, 0.5);
    const char *path = tu_path("cut.wav");
    assert_int_equal(tu_write(path, x, frames, 1, 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_16), 0);
    /* Chop the last 1000 bytes (500 frames) off the data chunk. */
    struct stat st;
    stat(path, &st);
    assert_int_equal(truncate(path, st.st_size - 1000), 0);
    sm_audio_info info;
    int64_t got = count_frames(path, &info);
    assert_int_equal(got, (int64_t)frames - 500);
    remove(path);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode__frames_exact_for_every_format),
        cmocka_unit_test(test_decode__channels_and_rates),
        cmocka_unit_test(test_decode__nonfinite_samples_become_zero),
        cmocka_unit_test(test_decode__bad_inputs_name_the_problem),
        cmocka_unit_test(test_decode__truncated_data_reads_what_is_there),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
