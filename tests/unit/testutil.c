#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

const char *tu_path(const char *name)
{
    static char buf[4096];
    static unsigned counter;
    const char *dir = getenv("SM_TEST_TMP");
    if (!dir || !*dir)
        dir = "/tmp";
    mkdir(dir, 0700);
    snprintf(buf, sizeof(buf), "%s/%d-%u-%s", dir, (int)getpid(), counter++, name);
    return buf;
}

int tu_write(const char *path, const float *x, size_t frames, int channels, int rate,
             int format)
{
    SF_INFO info;
    memset(&info, 0, sizeof(info));
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f)
        return -1;
    /* Keep float data as it is: no clipping or normalisation on the way out. */
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_FALSE);
    sf_count_t n = sf_writef_float(f, x, (sf_count_t)frames);
    sf_close(f);
    return n == (sf_count_t)frames ? 0 : -1;
}

void tu_sine(float *x, size_t n, double freq, double rate, double amp)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2.0 * M_PI * freq * (double)i / rate));
}

static unsigned xorshift(unsigned *s)
{
    unsigned v = *s;
    v ^= v << 13;
    v ^= v >> 17;
    v ^= v << 5;
    *s = v;
    return v;
}

void tu_click(float *x, size_t n, double rate, double t, double amp)
{
    size_t at = (size_t)llround(t * rate);
    size_t len = (size_t)(0.005 * rate);
    unsigned seed = 12345u + (unsigned)at;
    for (size_t i = 0; i < len && at + i < n; i++) {
        double r = (double)xorshift(&seed) / 4294967295.0 * 2.0 - 1.0;
        double env = exp(-(double)i / (0.001 * rate));
        x[at + i] += (float)(amp * (i == 0 ? 1.0 : r * env));
    }
}

void tu_noise(float *x, size_t n, double amp, unsigned seed)
{
    unsigned s = seed ? seed : 1u;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(amp * ((double)xorshift(&s) / 4294967295.0 * 2.0 - 1.0));
}

void tu_interleave(const float *x, size_t n, int channels, float *out)
{
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < channels; c++)
            out[i * (size_t)channels + (size_t)c] = x[i];
}

double tu_db(double db)
{
    return pow(10.0, db / 20.0);
}
