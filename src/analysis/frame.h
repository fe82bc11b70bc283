/* The analysis frame: what the one STFT hands to every spectral module (internal).
 *
 * Audio is mono at SM_AN_RATE. Frame i is centred on sample i * SM_AN_HOP (the
 * signal is zero-padded by SM_AN_NFFT / 2 at both ends, as librosa's center=True),
 * so its time is i * SM_AN_HOP / SM_AN_RATE seconds and a file of n samples gives
 * 1 + n / SM_AN_HOP frames. All pointers are borrowed for the duration of the call.
 */
#ifndef SM_ANALYSIS_FRAME_H
#define SM_ANALYSIS_FRAME_H

#include <stddef.h>

#define SM_AN_RATE 22050
#define SM_AN_NFFT 2048
#define SM_AN_HOP 512
#define SM_AN_NBINS (SM_AN_NFFT / 2 + 1)
#define SM_AN_NMEL 64
#define SM_AN_FPS ((double)SM_AN_RATE / SM_AN_HOP)
/* The fine RMS envelope: one value per SM_AN_FINE_HOP samples (2.9 ms), for onset
 * refinement and attack/decay times. */
#define SM_AN_FINE_HOP 64
#define SM_AN_FINE_RATE ((double)SM_AN_RATE / SM_AN_FINE_HOP)
/* The pipeline keeps the first SM_AN_PITCH_SECONDS of mono audio for pitch. */
#define SM_AN_PITCH_SECONDS 2.0

struct sm__frame {
    size_t index;          /* frame number */
    const float *samples;  /* SM_AN_NFFT mono samples, not windowed */
    const float *mag;      /* SM_AN_NBINS magnitudes of the Hann-windowed FFT */
    const float *power;    /* SM_AN_NBINS squared magnitudes */
    const float *mel;      /* SM_AN_NMEL mel band powers (set by the pipeline) */
    double rms;            /* RMS of the SM_AN_HOP samples centred on the frame */
    double energy;         /* sum of power, the weight of energy-weighted means */
};

typedef void (*sm__frame_fn)(const struct sm__frame *f, void *userdata);

/* Bin k's centre frequency in Hz. */
static inline double sm__bin_hz(size_t k)
{
    return (double)k * SM_AN_RATE / SM_AN_NFFT;
}

/* Welford running mean and variance; n == 0 means no value (report NaN). */
struct sm__running {
    double n;
    double mean;
    double m2;
};

static inline void sm__running_add(struct sm__running *r, double x)
{
    r->n += 1.0;
    double d = x - r->mean;
    r->mean += d / r->n;
    r->m2 += d * (x - r->mean);
}

#endif
