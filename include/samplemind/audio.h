/** \file
 * Audio decoding: any file libsndfile reads (WAV, AIFF, FLAC, OGG/Vorbis, Opus,
 * MP3, ...) as interleaved float frames, block by block in constant memory.
 *
 *     sm_audio_info info;
 *     sm_decoder *d = sm_decoder_open("loop.flac", &info, &err);
 *     float buf[4096 * 8];
 *     int64_t n;
 *     while ((n = sm_decoder_read(d, buf, 4096, &err)) > 0)
 *         consume(buf, n, info.channels);
 *     sm_decoder_close(d);
 *
 * Non-finite float samples (NaN, Inf) are replaced by 0 and counted, so nothing
 * downstream ever sees them. A decoder is not thread-safe; use one per thread.
 */
#ifndef SAMPLEMIND_AUDIO_H
#define SAMPLEMIND_AUDIO_H

#include <stdint.h>
#include <stddef.h>

#include <samplemind/common.h>
#include <samplemind/error.h>

/** The most channels a file may have (libsndfile's own limit is 1024). */
#define SM_MAX_CHANNELS 64

typedef struct sm_audio_info {
    int sample_rate;
    int channels;
    int64_t frames;     /**< as declared by the file; reads may end earlier */
    int64_t size;       /**< file size in bytes */
    char format[16];    /**< "wav", "aiff", "flac", "ogg", "mp3", "caf", ... */
    char codec[16];     /**< "pcm_s16", "pcm_f32", "vorbis", "opus", "mp3", ... */
} sm_audio_info;

typedef struct sm_decoder sm_decoder;

/**
 * Open \p path. \p info [out] gets the stream facts.
 * \return new decoder (close with sm_decoder_close) or NULL with \p err set:
 * SM_ENOENT, SM_EISDIR, SM_EACCES, SM_EEMPTY (0 bytes or 0 frames), SM_EFORMAT
 * (not audio), SM_ECORRUPT (an audio header that cannot be read), SM_EIO.
 */
SM_API sm_decoder *sm_decoder_open(const char *path, sm_audio_info *info, sm_error *err);

/**
 * Read up to \p frames interleaved frames into \p buf (frames * channels floats).
 * \return frames read, 0 at the end, or -1 with \p err set.
 */
SM_API int64_t sm_decoder_read(sm_decoder *d, float *buf, size_t frames, sm_error *err);

/** \return how many non-finite samples were replaced by 0 so far. */
SM_API int64_t sm_decoder_nonfinite(const sm_decoder *d);

SM_API void sm_decoder_close(sm_decoder *d);

#endif
