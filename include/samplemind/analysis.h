/** \file
 * Audio analysis: one file in, every descriptor out, in a single streaming pass.
 *
 *     sm_error err = SM_ERROR_INIT;
 *     sm_analyzer *an = sm_analyzer_new(NULL, &err);      // one per thread
 *     sm_analysis a;
 *     sm_analysis_init(&a);
 *     if (sm_analyzer_run(an, "kick.wav", &a, &err) == SM_OK)
 *         printf("%.1f LUFS\n", a.integrated_lufs);
 *     sm_analysis_release(&a);
 *     sm_analyzer_free(an);
 *
 * Invariants: a value that is undefined for a file (loudness of silence, the tempo
 * of a one-shot) is NaN in the struct and null in JSON, never -inf or made up. An
 * sm_analyzer is not thread-safe; make one per thread (it owns FFT plans and
 * buffers, reused across files). Memory does not grow with file length beyond the
 * per-frame envelopes (about 4 bytes per 23 ms of audio per envelope).
 */
#ifndef SAMPLEMIND_ANALYSIS_H
#define SAMPLEMIND_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <samplemind/common.h>
#include <samplemind/error.h>

#define SM_MFCC_COUNT 13
#define SM_CHROMA_COUNT 12
#define SM_CONTRAST_BANDS 7
#define SM_WAVEFORM_DEFAULT_POINTS 512

/** Spectral descriptors reported as mean and standard deviation over frames. */
#define SM_SPECTRAL_MAP(XX)                                                         \
    XX(CENTROID, "centroid")                                                        \
    XX(BANDWIDTH, "bandwidth")                                                      \
    XX(ROLLOFF, "rolloff")                                                          \
    XX(FLATNESS, "flatness")                                                        \
    XX(FLUX, "flux")                                                                \
    XX(ZCR, "zcr")                                                                  \
    XX(RMS, "rms")

enum sm_spectral_id {
#define SM__SPEC_ENUM(id, name) SM_SPEC_##id,
    SM_SPECTRAL_MAP(SM__SPEC_ENUM)
#undef SM__SPEC_ENUM
        SM_SPEC_COUNT
};

/** \return the JSON name of a spectral descriptor ("centroid"); never NULL. */
SM_API const char *sm_spectral_name(enum sm_spectral_id id);

/** Instrument categories, in a fixed order (the numbers are stored in catalogs). */
#define SM_CATEGORY_MAP(XX)                                                         \
    XX(OTHER, 0, "other")                                                           \
    XX(KICK, 1, "kick")                                                             \
    XX(SNARE, 2, "snare")                                                           \
    XX(CLAP, 3, "clap")                                                             \
    XX(HIHAT_CLOSED, 4, "hihat_closed")                                             \
    XX(HIHAT_OPEN, 5, "hihat_open")                                                 \
    XX(CYMBAL, 6, "cymbal")                                                         \
    XX(TOM, 7, "tom")                                                               \
    XX(PERCUSSION, 8, "percussion")                                                 \
    XX(BASS, 9, "bass")                                                             \
    XX(SYNTH, 10, "synth")                                                          \
    XX(PAD, 11, "pad")                                                              \
    XX(KEYS, 12, "keys")                                                            \
    XX(GUITAR, 13, "guitar")                                                        \
    XX(STRINGS, 14, "strings")                                                      \
    XX(BRASS, 15, "brass")                                                          \
    XX(VOCAL, 16, "vocal")                                                          \
    XX(FX, 17, "fx")

enum sm_category {
#define SM__CAT_ENUM(id, num, name) SM_CAT_##id = num,
    SM_CATEGORY_MAP(SM__CAT_ENUM)
#undef SM__CAT_ENUM
        SM_CAT_COUNT
};

/** \return the label of \p c ("kick"), or "other" for an unknown value. */
SM_API const char *sm_category_name(int c);
/** \return the category named \p name, or -1. Accepts "hihat" for hihat_closed. */
SM_API int sm_category_from_name(const char *name);

typedef struct sm_stat {
    double mean;
    double std;
} sm_stat;

enum sm_key_mode { SM_MODE_MAJOR = 0, SM_MODE_MINOR = 1 };

/** Everything known about one file. Initialise with sm_analysis_init. */
typedef struct sm_analysis {
    /* File. */
    char *path;          /**< new copy of the path given; freed by release */
    char hash[80];       /**< "blake2b:<64 hex>" of the file bytes */
    int64_t size;        /**< bytes */
    char format[16];     /**< container: "wav", "aiff", "flac", "ogg", "mp3", ... */
    char codec[16];      /**< "pcm_s16", "pcm_s24", "pcm_f32", "vorbis", "opus", ... */
    int sample_rate;
    int channels;
    int64_t frames;
    double duration;     /**< seconds */
    int analyzer_version;
    int64_t nonfinite_samples; /**< NaN/Inf samples found and replaced by 0 */

    /* Loudness (libebur128 at the native rate, all channels). NaN = null. */
    double integrated_lufs;
    const char *integrated_reason; /**< static text when integrated_lufs is NaN */
    double range_lu;
    double momentary_max_lufs;
    double short_term_max_lufs;
    double sample_peak_dbfs;
    double true_peak_dbtp;

    /* Spectral shape at 22,050 Hz mono, one STFT (2048 / 512, Hann). */
    sm_stat spectral[SM_SPEC_COUNT];
    sm_stat contrast[SM_CONTRAST_BANDS];
    double mfcc_mean[SM_MFCC_COUNT];
    double mfcc_std[SM_MFCC_COUNT];
    double chroma[SM_CHROMA_COUNT]; /**< energy-weighted, max-normalised to 1 */
    double tuning_cents;            /**< deviation of the tuning from A440 */

    /* Envelope. */
    double attack_ms;   /**< onset to peak of the RMS envelope; NaN for silence */
    double decay_ms;    /**< peak to -20 dB below peak; NaN if it never decays */
    float *onsets;      /**< onset times in seconds */
    size_t n_onsets;
    float *rms_env;     /**< RMS per analysis frame (hop 512 at 22,050 Hz), linear */
    size_t n_rms_env;

    /* Waveform peaks: n_peaks (min, max) pairs over the whole file, -1..1. */
    float *peaks;
    size_t n_peaks;

    /* Musical descriptors (NaN / has_* false when undefined). */
    bool has_tempo;
    double bpm;
    double bpm_confidence;       /**< 0..1 */
    double bpm_alternatives[4];  /**< e.g. half and double */
    int n_bpm_alternatives;
    float *beats;                /**< beat times in seconds */
    size_t n_beats;

    bool has_key;
    int key_tonic;               /**< 0 = C ... 11 = B */
    int key_mode;                /**< enum sm_key_mode */
    double key_confidence;       /**< 0..1; also set when has_key is false */

    bool has_note;
    double note_hz;
    int note_midi;
    double note_cents;           /**< -50..50 from the named note */
    double note_confidence;      /**< 0..1 (periodicity) */

    bool loop;
    double loop_confidence;      /**< 0..1 */
    char loop_evidence[128];

    int category;                /**< enum sm_category */
    double category_confidence;
    int category_runner_up;
    double category_runner_up_confidence;
    char category_evidence[128];

    /* Timbre scalars 0..100 (docs/descriptors.md gives the formulas). */
    double brightness, warmth, hardness, depth, roughness, boominess;

    /* Similarity embedding (L2-normalised), versioned. */
    float *embedding;
    size_t embedding_dim;
    int embedding_version;
} sm_analysis;

/** Set every field to its empty value (NaN for numbers). Cannot fail. */
SM_API void sm_analysis_init(sm_analysis *a);
/** Free the contents; \p a is empty afterwards (as after init). NULL is fine. */
SM_API void sm_analysis_release(sm_analysis *a);

enum sm_analyzer_flags {
    SM_ANALYZE_NO_HASH = 1 << 0, /**< skip the content hash (hash is "") */
};

typedef struct sm_analyzer_opts {
    unsigned flags;          /**< enum sm_analyzer_flags */
    size_t waveform_points;  /**< min/max pairs; 0 means SM_WAVEFORM_DEFAULT_POINTS */
} sm_analyzer_opts;

typedef struct sm_analyzer sm_analyzer;

/**
 * Make an analyzer (FFT plans, buffers). \p opts may be NULL for defaults.
 * \return new analyzer (free with sm_analyzer_free), or NULL with \p err filled.
 * Thread-safe (plans are made under a lock); the analyzer itself is not.
 */
SM_API sm_analyzer *sm_analyzer_new(const sm_analyzer_opts *opts, sm_error *err);
SM_API void sm_analyzer_free(sm_analyzer *an);

/**
 * Analyze the file at \p path into \p out (released first, so it may be reused).
 * \return SM_OK, or a code with \p err naming what was wrong with the file; on
 * failure \p out holds only path and whatever file facts were read.
 */
SM_API sm_status sm_analyzer_run(sm_analyzer *an, const char *path, sm_analysis *out,
                                 sm_error *err);

enum sm_json_flags {
    SM_JSON_EMBEDDING = 1 << 0, /**< include the embedding vector */
    SM_JSON_WAVEFORM = 1 << 1,  /**< include waveform peaks and the RMS envelope */
    SM_JSON_PRETTY = 1 << 2,    /**< indent */
};

/** \return new JSON text of \p a (sm_free it), or NULL when out of memory. */
SM_API char *sm_analysis_to_json(const sm_analysis *a, unsigned flags);
/** \return new JSON text `{"path":..,"error":{"code":..,"message":..}}` (sm_free it). */
SM_API char *sm_analysis_error_json(const char *path, const sm_error *err);

/** Write "A minor" / "C# major" into \p buf (>= 16 bytes). \return buf. */
SM_API char *sm_key_name(int tonic, int mode, char *buf, size_t size);
/** Write the Camelot code ("8A") into \p buf (>= 4 bytes). \return buf. */
SM_API char *sm_key_camelot(int tonic, int mode, char *buf, size_t size);
/** Write the note name ("F#1", MIDI 69 = "A4") into \p buf (>= 8 bytes). \return buf. */
SM_API char *sm_note_name(int midi, char *buf, size_t size);

#endif
