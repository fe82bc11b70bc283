/* The analysis pipeline: one streaming pass over the file.
 *
 *   decode (native rate, all channels) -> loudness, true/sample peak, waveform
 *     -> mono downmix -> resample to 22,050 Hz -> fine RMS envelope, pitch buffer
 *       -> one STFT -> mel -> spectral, MFCC, chroma, onset strength (per frame)
 *   at the end: onsets, attack/decay, tempo and loop, note, key, category,
 *   timbre, embedding.
 *
 * Memory is constant in the file's length except for the per-frame envelopes.
 */
#include <math.h>
#include <string.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include <samplemind/audio.h>
#include <samplemind/version.h>

#include "analysis/chroma.h"
#include "analysis/classify.h"
#include "analysis/envelope.h"
#include "analysis/frame.h"
#include "analysis/key.h"
#include "analysis/loudness.h"
#include "analysis/mel.h"
#include "analysis/onset.h"
#include "analysis/pitch.h"
#include "analysis/spectral.h"
#include "analysis/stft.h"
#include "analysis/tempo.h"
#include "audio/resample.h"
#include "util/hash.h"
#include "util/vec.h"

#define BLOCK_FRAMES 4096

struct sm_analyzer {
    sm_analyzer_opts opts;
    struct sm__stft *stft;
    const struct sm__mel *mel;
    float *block;       /* BLOCK_FRAMES * SM_MAX_CHANNELS interleaved */
    float *planar;      /* per channel: SM__TP_HISTORY spare floats, BLOCK_FRAMES samples */
    float *chan[SM_MAX_CHANNELS];
    float *mono;        /* BLOCK_FRAMES */
    struct sm__resampler *rs;
    int rs_rate;        /* input rate rs was made for */

    /* Per-file state. */
    struct sm__spectral spectral;
    struct sm__mfcc mfcc;
    struct sm__chroma chroma;
    struct sm__onset onset;
    struct sm__fvec rms_env;
    struct sm__fvec fine;
    struct sm__fvec pitch;
    double fine_sum;    /* sum of squares for the fine bin being filled */
    size_t fine_n;
    size_t pitch_max;
    int oom;
    float melbuf[SM_AN_NMEL];
};

sm_analyzer *sm_analyzer_new(const sm_analyzer_opts *opts, sm_error *err)
{
    sm_analyzer *an = sm_calloc(1, sizeof(*an));
    if (!an)
        goto oom;
    if (opts)
        an->opts = *opts;
    if (!an->opts.waveform_points)
        an->opts.waveform_points = SM_WAVEFORM_DEFAULT_POINTS;
    if (an->opts.waveform_points > 1u << 20) {
        sm_error_set(err, SM_EINVAL, "analyzer: waveform_points %zu exceeds %u",
                     an->opts.waveform_points, 1u << 20);
        sm_analyzer_free(an);
        return NULL;
    }
    an->stft = sm__stft_new();
    an->mel = sm__mel_get();
    an->block = sm_malloc((size_t)BLOCK_FRAMES * SM_MAX_CHANNELS * sizeof(float));
    an->mono = sm_malloc((size_t)BLOCK_FRAMES * sizeof(float));
    an->planar = sm_malloc((size_t)(SM__TP_HISTORY + BLOCK_FRAMES) * SM_MAX_CHANNELS *
                           sizeof(float));
    if (!an->stft || !an->mel || !an->block || !an->mono || !an->planar)
        goto oom;
    for (int c = 0; c < SM_MAX_CHANNELS; c++)
        an->chan[c] = an->planar + (size_t)c * (SM__TP_HISTORY + BLOCK_FRAMES) + SM__TP_HISTORY;
    an->pitch_max = (size_t)(SM_AN_PITCH_SECONDS * SM_AN_RATE);
    if (sm__crypto_init() != 0) {
        sm_error_set(err, SM_EINTERNAL, "analyzer: libsodium failed to initialise");
        sm_analyzer_free(an);
        return NULL;
    }
    return an;
oom:
    sm_error_set(err, SM_ENOMEM, "analyzer: out of memory");
    sm_analyzer_free(an);
    return NULL;
}

void sm_analyzer_free(sm_analyzer *an)
{
    if (!an)
        return;
    sm__stft_free(an->stft);
    sm__resampler_free(an->rs);
    sm_free(an->block);
    sm_free(an->planar);
    sm_free(an->mono);
    sm__onset_release(&an->onset);
    sm__fvec_release(&an->rms_env);
    sm__fvec_release(&an->fine);
    sm__fvec_release(&an->pitch);
    sm_free(an);
}

static void on_frame(const struct sm__frame *frame, void *userdata)
{
    sm_analyzer *an = userdata;
    struct sm__frame f = *frame;
    sm__mel_apply(an->mel, f.power, an->melbuf);
    f.mel = an->melbuf;
    sm__spectral_process(&an->spectral, &f);
    sm__mfcc_process(&an->mfcc, &f);
    sm__chroma_process(&an->chroma, &f);
    if (sm__onset_process(&an->onset, &f) || sm__fvec_push(&an->rms_env, (float)f.rms))
        an->oom = 1;
}

/* Mono samples at the analysis rate: fine envelope, pitch buffer, STFT. */
static void on_resampled(const float *y, size_t n, void *userdata)
{
    sm_analyzer *an = userdata;
    size_t i = 0;
    while (i < n) {
        size_t take = SM_AN_FINE_HOP - an->fine_n;
        if (take > n - i)
            take = n - i;
        float s = 0.0f;
        for (size_t k = 0; k < take; k++)
            s += y[i + k] * y[i + k];
        an->fine_sum += (double)s;
        an->fine_n += take;
        i += take;
        if (an->fine_n == SM_AN_FINE_HOP) {
            if (sm__fvec_push(&an->fine, (float)sqrt(an->fine_sum / SM_AN_FINE_HOP)))
                an->oom = 1;
            an->fine_sum = 0.0;
            an->fine_n = 0;
        }
    }
    if (an->pitch.n < an->pitch_max) {
        size_t take = an->pitch_max - an->pitch.n;
        if (take > n)
            take = n;
        if (sm__fvec_reserve(&an->pitch, an->pitch.n + take) == 0) {
            memcpy(an->pitch.v + an->pitch.n, y, take * sizeof(float));
            an->pitch.n += take;
        } else {
            an->oom = 1;
        }
    }
    sm__stft_process(an->stft, y, n, on_frame, an);
}

static void reset_file_state(sm_analyzer *an)
{
    sm__stft_reset(an->stft);
    sm__spectral_init(&an->spectral);
    sm__mfcc_init(&an->mfcc);
    sm__chroma_init(&an->chroma);
    sm__onset_release(&an->onset);
    sm__onset_init(&an->onset);
    sm__fvec_clear(&an->rms_env);
    sm__fvec_clear(&an->fine);
    sm__fvec_clear(&an->pitch);
    an->fine_sum = 0.0;
    an->fine_n = 0;
    an->oom = 0;
}

/* One resampler per input rate, reset between files of the same rate. */
static sm_status prepare_resampler(sm_analyzer *an, int rate, sm_error *err)
{
    if (an->rs && an->rs_rate == rate) {
        if (sm__resampler_reset(an->rs) == 0)
            return SM_OK;
        return sm_error_set(err, SM_EINTERNAL, "resampler reset failed");
    }
    sm__resampler_free(an->rs);
    const char *why = NULL;
    an->rs = sm__resampler_new((double)rate, (double)SM_AN_RATE, &why);
    an->rs_rate = rate;
    if (an->rs)
        return SM_OK;
    if (!why)
        return sm_error_set(err, SM_ENOMEM, "out of memory (resampler)");
    return sm_error_set(err, SM_EINTERNAL, "resampler cannot convert %d Hz: %s", rate, why);
}

static float *detach(struct sm__fvec *v, size_t *n)
{
    *n = v->n;
    float *p = sm_malloc((v->n ? v->n : 1) * sizeof(float));
    if (p && v->n)
        memcpy(p, v->v, v->n * sizeof(float));
    return p;
}

/* Interleaved block -> one array per channel. */
static void deinterleave(sm_analyzer *an, size_t ch, size_t n)
{
    const float *x = an->block;
    if (ch == 1) {
        memcpy(an->chan[0], x, n * sizeof(float));
    } else if (ch == 2) {
        float *l = an->chan[0];
        float *r = an->chan[1];
        for (size_t i = 0; i < n; i++) {
            l[i] = x[2 * i];
            r[i] = x[2 * i + 1];
        }
    } else {
        for (size_t c = 0; c < ch; c++) {
            float *d = an->chan[c];
            for (size_t i = 0; i < n; i++)
                d[i] = x[i * ch + c];
        }
    }
}

static void downmix(sm_analyzer *an, size_t ch, size_t n, float inv)
{
    float *m = an->mono;
    if (ch == 1) {
        memcpy(m, an->chan[0], n * sizeof(float));
        return;
    }
    const float *a = an->chan[0];
    for (size_t i = 0; i < n; i++)
        m[i] = a[i];
    for (size_t c = 1; c < ch; c++) {
        const float *b = an->chan[c];
        for (size_t i = 0; i < n; i++)
            m[i] += b[i];
    }
    for (size_t i = 0; i < n; i++)
        m[i] *= inv;
}

/* Stream the whole file through every per-sample and per-frame stage. */
static sm_status stream(sm_analyzer *an, sm_decoder *d, const sm_audio_info *info,
                        struct sm__loudness *lo, struct sm__waveform *wf, int64_t *frames,
                        sm_error *err)
{
    const size_t ch = (size_t)info->channels;
    const float inv = 1.0f / (float)info->channels;
    *frames = 0;
    for (;;) {
        int64_t got = sm_decoder_read(d, an->block, BLOCK_FRAMES, err);
        if (got < 0)
            return err ? err->code : SM_ECORRUPT;
        if (got == 0)
            break;
        size_t n = (size_t)got;
        *frames += got;
        deinterleave(an, ch, n);
        if (sm__loudness_process(lo, an->chan, n))
            return sm_error_set(err, SM_ENOMEM, "out of memory (loudness)");
        if (sm__waveform_process(wf, an->chan, info->channels, n))
            return sm_error_set(err, SM_ENOMEM, "out of memory (waveform)");
        downmix(an, ch, n, inv);
        if (sm__resampler_process(an->rs, an->mono, n, on_resampled, an))
            return sm_error_set(err, SM_EINTERNAL, "resampler failed");
        if (an->oom)
            return sm_error_set(err, SM_ENOMEM, "out of memory (envelopes)");
    }
    if (sm__resampler_finish(an->rs, on_resampled, an))
        return sm_error_set(err, SM_EINTERNAL, "resampler failed");
    sm__stft_finish(an->stft, on_frame, an);
    if (an->fine_n) {
        if (sm__fvec_push(&an->fine, (float)sqrt(an->fine_sum / (double)an->fine_n)))
            an->oom = 1;
        an->fine_n = 0;
    }
    if (an->oom)
        return sm_error_set(err, SM_ENOMEM, "out of memory (envelopes)");
    return SM_OK;
}

/* Everything computed from the finished envelopes and statistics. */
static sm_status finish(sm_analyzer *an, sm_analysis *a, sm_error *err)
{
    sm__spectral_finish(&an->spectral, a);
    sm__mfcc_finish(&an->mfcc, a);
    sm__chroma_finish(&an->chroma, a);

    struct sm__fvec onsets = SM__FVEC_INIT;
    if (sm__onset_pick(&an->onset, an->fine.v, an->fine.n, &onsets)) {
        sm__fvec_release(&onsets);
        return sm_error_set(err, SM_ENOMEM, "out of memory (onsets)");
    }
    a->onsets = detach(&onsets, &a->n_onsets);
    sm__fvec_release(&onsets);
    a->rms_env = detach(&an->rms_env, &a->n_rms_env);
    if (!a->onsets || !a->rms_env)
        return sm_error_set(err, SM_ENOMEM, "out of memory (envelopes)");
    sm__envelope_times(an->fine.v, an->fine.n, a);

    /* Key with the opening chord: between a key and its relative, the first
     * chord decides (src/analysis/key.h). Before tempo, which reads has_key. */
    double start[SM_CHROMA_COUNT];
    sm__chroma_start(&an->chroma, a, start);
    sm__key_analyze_start(a, start);
    if (sm__tempo_analyze_ex(&an->onset, a))
        return sm_error_set(err, SM_ENOMEM, "out of memory (tempo)");
    if (sm__pitch_analyze(an->pitch.v, an->pitch.n, a))
        return sm_error_set(err, SM_ENOMEM, "out of memory (pitch)");
    sm__category_analyze(a);
    sm__timbre_analyze(a);
    if (sm__embedding_compute(a))
        return sm_error_set(err, SM_ENOMEM, "out of memory (embedding)");
    return SM_OK;
}

sm_status sm_analyzer_run(sm_analyzer *an, const char *path, sm_analysis *a, sm_error *err)
{
    if (!an || !path || !a)
        return sm_error_set(err, SM_EINVAL, "analyze: analyzer, path and result are required");
    sm_analysis_release(a);
    a->path = sm_strdup(path);
    if (!a->path)
        return sm_error_set(err, SM_ENOMEM, "out of memory");

    sm_audio_info info;
    sm_decoder *d = sm_decoder_open(path, &info, err);
    a->size = info.size;
    if (!d)
        return err ? err->code : SM_EFORMAT;
    memcpy(a->format, info.format, sizeof(a->format));
    memcpy(a->codec, info.codec, sizeof(a->codec));
    a->sample_rate = info.sample_rate;
    a->channels = info.channels;

    sm_status rc = SM_OK;
    if (!(an->opts.flags & SM_ANALYZE_NO_HASH)) {
        rc = sm__hash_file(path, a->hash, err);
        if (rc != SM_OK) {
            sm_decoder_close(d);
            return rc;
        }
    }

    struct sm__loudness lo;
    struct sm__waveform wf;
    int have_lo = 0;
    reset_file_state(an);
    sm__waveform_init(&wf, an->opts.waveform_points, info.frames);
    /* The decoder has checked rate and channels: the meter can only lack memory. */
    if (sm__loudness_init(&lo, info.sample_rate, info.channels) != 0) {
        rc = sm_error_set(err, SM_ENOMEM, "out of memory (loudness meter)");
        goto done;
    }
    have_lo = 1;
    rc = prepare_resampler(an, info.sample_rate, err);
    if (rc != SM_OK)
        goto done;

    int64_t frames = 0;
    rc = stream(an, d, &info, &lo, &wf, &frames, err);
    if (rc != SM_OK)
        goto done;
    if (frames == 0) {
        rc = sm_error_set(err, SM_EEMPTY, "no audio frames could be decoded (header declares %lld)",
                          (long long)info.frames);
        goto done;
    }
    a->frames = frames;
    a->duration = (double)frames / info.sample_rate;
    sm__loudness_finish(&lo, a);
    if (sm__waveform_finish(&wf, a)) {
        rc = sm_error_set(err, SM_ENOMEM, "out of memory (waveform)");
        goto done;
    }
    a->nonfinite_samples = sm_decoder_nonfinite(d);
    rc = finish(an, a, err);

done:
    if (have_lo)
        sm__loudness_release(&lo);
    sm__waveform_release(&wf);
    sm_decoder_close(d);
    return rc;
}
