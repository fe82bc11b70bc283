/* The analysis as JSON: the stable names of ../shared/DESIGN.md. NaN is null. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>

#include "util/utf8.h"

/* A JSON string for bytes that may not be UTF-8 (file names). */
static json_t *text(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *clean = sm__utf8_sanitize(s);
    j = clean ? json_string(clean) : NULL;
    sm_free(clean);
    return j ? j : json_null();
}

static json_t *num(double v, int decimals)
{
    if (!isfinite(v))
        return json_null();
    double scale = pow(10.0, decimals);
    double r = round(v * scale) / scale;
    if (r > -0.5 / scale && r < 0.5 / scale)
        r = 0.0; /* no "-0.0" */
    return json_real(r);
}

static json_t *stat(sm_stat s, int decimals)
{
    return json_pack("{s:o, s:o}", "mean", num(s.mean, decimals), "std", num(s.std, decimals));
}

static json_t *float_array(const float *v, size_t n, int decimals)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n && arr; i++)
        json_array_append_new(arr, num((double)v[i], decimals));
    return arr;
}

static json_t *double_array(const double *v, size_t n, int decimals)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n && arr; i++)
        json_array_append_new(arr, num(v[i], decimals));
    return arr;
}

static json_t *loudness(const sm_analysis *a)
{
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
                          "integrated_lufs", num(a->integrated_lufs, 2),
                          "range_lu", num(a->range_lu, 2),
                          "momentary_max_lufs", num(a->momentary_max_lufs, 2),
                          "short_term_max_lufs", num(a->short_term_max_lufs, 2),
                          "sample_peak_dbfs", num(a->sample_peak_dbfs, 2),
                          "true_peak_dbtp", num(a->true_peak_dbtp, 2));
    if (o && a->integrated_reason)
        json_object_set_new(o, "reason", json_string(a->integrated_reason));
    return o;
}

static json_t *tempo(const sm_analysis *a)
{
    if (!a->has_tempo)
        return json_null();
    return json_pack("{s:o, s:o, s:o, s:o}", "bpm", num(a->bpm, 1),
                     "confidence", num(a->bpm_confidence, 2),
                     "alternatives",
                     double_array(a->bpm_alternatives, (size_t)a->n_bpm_alternatives, 1),
                     "beats", float_array(a->beats, a->n_beats, 3));
}

static json_t *key(const sm_analysis *a)
{
    if (!a->has_key)
        return json_null();
    static const char *const tonic[12] = {"C", "C#", "D", "D#", "E", "F",
                                          "F#", "G", "G#", "A", "A#", "B"};
    char name[32];
    char camelot[8];
    int t = a->key_tonic >= 0 && a->key_tonic < 12 ? a->key_tonic : 0;
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "tonic", tonic[t],
                     "mode", a->key_mode == SM_MODE_MINOR ? "minor" : "major",
                     "name", sm_key_name(t, a->key_mode, name, sizeof(name)),
                     "camelot", sm_key_camelot(t, a->key_mode, camelot, sizeof(camelot)),
                     "confidence", num(a->key_confidence, 2));
}

static json_t *note(const sm_analysis *a)
{
    if (!a->has_note)
        return json_null();
    char name[16];
    return json_pack("{s:o, s:i, s:s, s:o, s:o}", "hz", num(a->note_hz, 2),
                     "midi", a->note_midi, "name", sm_note_name(a->note_midi, name, sizeof(name)),
                     "cents", num(a->note_cents, 1), "confidence", num(a->note_confidence, 2));
}

static json_t *spectral(const sm_analysis *a)
{
    json_t *o = json_object();
    for (int i = 0; i < SM_SPEC_COUNT && o; i++)
        json_object_set_new(o, sm_spectral_name((enum sm_spectral_id)i), stat(a->spectral[i], 4));
    json_t *c = json_array();
    for (int i = 0; i < SM_CONTRAST_BANDS && c; i++)
        json_array_append_new(c, stat(a->contrast[i], 3));
    if (o)
        json_object_set_new(o, "contrast", c);
    return o;
}

static json_t *build(const sm_analysis *a, unsigned flags)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "path", text(a->path ? a->path : ""));
    json_object_set_new(o, "analyzer_version", json_integer(a->analyzer_version));
    json_object_set_new(o, "hash", a->hash[0] ? json_string(a->hash) : json_null());
    json_object_set_new(o, "size", json_integer(a->size));
    json_object_set_new(o, "format", json_string(a->format));
    json_object_set_new(o, "codec", json_string(a->codec));
    json_object_set_new(o, "sample_rate", json_integer(a->sample_rate));
    json_object_set_new(o, "channels", json_integer(a->channels));
    json_object_set_new(o, "frames", json_integer(a->frames));
    json_object_set_new(o, "duration", num(a->duration, 6));
    json_object_set_new(o, "loudness", loudness(a));
    json_object_set_new(o, "tempo", tempo(a));
    json_object_set_new(o, "key", key(a));
    json_object_set_new(o, "note", note(a));
    json_object_set_new(o, "loop", json_boolean(a->loop));
    json_object_set_new(o, "loop_detail",
                        json_pack("{s:o, s:s}", "confidence", num(a->loop_confidence, 2),
                                  "evidence", a->loop_evidence));
    json_object_set_new(o, "category",
                        json_pack("{s:s, s:o, s:s, s:o, s:s}", "label",
                                  sm_category_name(a->category), "confidence",
                                  num(a->category_confidence, 2), "runner_up",
                                  sm_category_name(a->category_runner_up),
                                  "runner_up_confidence",
                                  num(a->category_runner_up_confidence, 2), "evidence",
                                  a->category_evidence));
    json_object_set_new(o, "timbre",
                        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "brightness",
                                  num(a->brightness, 1), "warmth", num(a->warmth, 1),
                                  "hardness", num(a->hardness, 1), "depth", num(a->depth, 1),
                                  "roughness", num(a->roughness, 1), "boominess",
                                  num(a->boominess, 1)));
    json_object_set_new(o, "spectral", spectral(a));
    json_object_set_new(o, "mfcc",
                        json_pack("{s:o, s:o}", "mean", double_array(a->mfcc_mean, SM_MFCC_COUNT, 3),
                                  "std", double_array(a->mfcc_std, SM_MFCC_COUNT, 3)));
    json_object_set_new(o, "chroma", double_array(a->chroma, SM_CHROMA_COUNT, 3));
    json_object_set_new(o, "tuning_cents", num(a->tuning_cents, 1));
    json_object_set_new(o, "envelope",
                        json_pack("{s:o, s:o}", "attack_ms", num(a->attack_ms, 1), "decay_ms",
                                  num(a->decay_ms, 1)));
    json_object_set_new(o, "onsets", float_array(a->onsets, a->n_onsets, 3));
    if (flags & SM_JSON_EMBEDDING) {
        json_object_set_new(o, "embedding", float_array(a->embedding, a->embedding_dim, 5));
        json_object_set_new(o, "embedding_version", json_integer(a->embedding_version));
    }
    if (flags & SM_JSON_WAVEFORM) {
        json_object_set_new(o, "waveform",
                            json_pack("{s:I, s:o, s:f, s:o}", "points", (json_int_t)a->n_peaks,
                                      "peaks", float_array(a->peaks, 2 * a->n_peaks, 4),
                                      "rms_hop_s", 512.0 / 22050.0, "rms",
                                      float_array(a->rms_env, a->n_rms_env, 5)));
    }
    if (a->nonfinite_samples > 0) {
        char w[128];
        snprintf(w, sizeof(w), "%lld non-finite samples (NaN/Inf) were replaced by 0",
                 (long long)a->nonfinite_samples);
        json_object_set_new(o, "warnings", json_pack("[s]", w));
    }
    return o;
}

static char *dump(json_t *o, unsigned flags)
{
    if (!o)
        return NULL;
    size_t jflags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);
    jflags |= (flags & SM_JSON_PRETTY) ? JSON_INDENT(2) : JSON_COMPACT;
    char *text = json_dumps(o, jflags);
    json_decref(o);
    if (!text)
        return NULL;
    char *copy = sm_strdup(text);
    free(text);
    return copy;
}

char *sm_analysis_to_json(const sm_analysis *a, unsigned flags)
{
    if (!a)
        return NULL;
    return dump(build(a, flags), flags);
}

char *sm_analysis_error_json(const char *path, const sm_error *err)
{
    json_t *o = json_pack("{s:o, s:{s:s, s:o}}", "path", text(path ? path : ""), "error",
                          "code", sm_status_name(err ? err->code : SM_EINTERNAL), "message",
                          text(err && err->msg[0] ? err->msg : "unknown error"));
    return dump(o, 0);
}
