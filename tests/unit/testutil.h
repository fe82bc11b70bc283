/* Shared helpers for the unit tests: temp files and generated signals.
 * Include after <stdarg.h>, <stddef.h>, <setjmp.h> and <cmocka.h>. */
#ifndef SM_TESTUTIL_H
#define SM_TESTUTIL_H

#include <stddef.h>

/* A fresh path in the test temp dir ($SM_TEST_TMP or /tmp), ending in name.
 * Returns a static buffer valid until the next call. */
const char *tu_path(const char *name);

/* Write interleaved float frames to path in the format of libsndfile's
 * SF_FORMAT_* major|minor `format`. Returns 0 or -1. */
int tu_write(const char *path, const float *x, size_t frames, int channels, int rate,
             int format);

/* A sine of freq Hz, amplitude amp (linear peak), into x[n] (mono). */
void tu_sine(float *x, size_t n, double freq, double rate, double amp);
/* Add a click (one-sample impulse of amplitude amp followed by a 5 ms decaying
 * noise burst) at time t seconds. */
void tu_click(float *x, size_t n, double rate, double t, double amp);
/* Deterministic white noise in -amp..amp (xorshift, seeded). */
void tu_noise(float *x, size_t n, double amp, unsigned seed);
/* Duplicate mono x[n] into interleaved out[n * channels]. */
void tu_interleave(const float *x, size_t n, int channels, float *out);
/* dBFS amplitude to linear. */
double tu_db(double db);

#endif
