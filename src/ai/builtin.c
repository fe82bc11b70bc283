/* The builtin provider: offline, rule-based answers from the descriptors alone.
 * The rules are documented in docs/ai.md; every answer says it is rule-based. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ai/ai_int.h"

struct facts {
    const char *category;
    bool loop;
    bool has_bpm;
    double bpm;
    bool has_key;
    bool minor;
    char key_name[32];
    char key_short[8]; /* "Am", "C#" */
    double brightness, warmth, hardness, depth, roughness, boominess;
    double lufs, true_peak, sample_peak, duration;
    bool has_note;
    char note[8];
};

static double num(json_t *o, const char *k, double dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static double clamp01(double x)
{
    return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
}

static void read_facts(json_t *d, struct facts *f)
{
    memset(f, 0, sizeof(*f));
    json_t *cat = json_object_get(d, "category");
    f->category = json_string_value(json_object_get(cat, "label"));
    if (!f->category)
        f->category = "other";
    f->loop = json_is_true(json_object_get(d, "loop"));
    json_t *tempo = json_object_get(d, "tempo");
    f->bpm = num(tempo, "bpm", NAN);
    f->has_bpm = isfinite(f->bpm) && f->bpm > 0.0;
    json_t *key = json_object_get(d, "key");
    const char *mode = json_string_value(json_object_get(key, "mode"));
    const char *tonic = json_string_value(json_object_get(key, "tonic"));
    const char *name = json_string_value(json_object_get(key, "name"));
    if (mode && tonic) {
        f->has_key = true;
        f->minor = !strcmp(mode, "minor");
        snprintf(f->key_name, sizeof(f->key_name), "%s", name ? name : tonic);
        snprintf(f->key_short, sizeof(f->key_short), "%s%s", tonic, f->minor ? "m" : "");
    }
    json_t *t = json_object_get(d, "timbre");
    f->brightness = num(t, "brightness", 50.0);
    f->warmth = num(t, "warmth", 50.0);
    f->hardness = num(t, "hardness", 50.0);
    f->depth = num(t, "depth", 50.0);
    f->roughness = num(t, "roughness", 50.0);
    f->boominess = num(t, "boominess", 50.0);
    json_t *l = json_object_get(d, "loudness");
    f->lufs = num(l, "integrated_lufs", num(l, "momentary_max_lufs", NAN));
    f->true_peak = num(l, "true_peak_dbtp", NAN);
    f->sample_peak = num(l, "sample_peak_dbfs", NAN);
    f->duration = num(d, "duration", NAN);
    const char *nn = json_string_value(json_object_get(json_object_get(d, "note"), "name"));
    if (nn) {
        f->has_note = true;
        snprintf(f->note, sizeof(f->note), "%s", nn);
    }
}

static bool is(const struct facts *f, const char *c)
{
    return !strcmp(f->category, c);
}

static bool is_drum(const struct facts *f)
{
    return is(f, "kick") || is(f, "snare") || is(f, "clap") || is(f, "hihat_closed") ||
           is(f, "hihat_open") || is(f, "cymbal") || is(f, "tom") || is(f, "percussion");
}

/* ------------------------------------------------------------------- genre */

struct score {
    const char *name;
    double s;
};

static void add(struct score *sc, int *n, const char *name, double s)
{
    for (int i = 0; i < *n; i++) {
        if (!strcmp(sc[i].name, name)) {
            sc[i].s += s;
            return;
        }
    }
    if (*n < 16) {
        sc[*n].name = name;
        sc[*n].s = s;
        (*n)++;
    }
}

static json_t *genre(const struct facts *f)
{
    struct score sc[16];
    int n = 0;
    char why[256];
    if (f->has_bpm) {
        double b = f->bpm;
        if (b < 90.0) {
            add(sc, &n, "hip hop", 2.0);
            add(sc, &n, "lo-fi", 1.5);
        } else if (b < 110.0) {
            add(sc, &n, "hip hop", 1.5);
            add(sc, &n, "pop", 1.0);
        } else if (b < 118.0) {
            add(sc, &n, "pop", 1.5);
            add(sc, &n, "disco", 1.0);
        } else if (b < 131.0) {
            add(sc, &n, "house", 2.0);
            add(sc, &n, "techno", 1.5);
        } else if (b < 150.0) {
            add(sc, &n, "techno", 2.0);
            add(sc, &n, "trap", 1.2);
            add(sc, &n, "trance", 1.0);
        } else if (b < 165.0) {
            add(sc, &n, "dubstep", 1.0);
            add(sc, &n, "trap", 1.0);
        } else {
            add(sc, &n, "drum and bass", 2.0);
        }
        if (f->hardness > 60.0 || f->roughness > 60.0)
            add(sc, &n, "techno", 0.8);
        if (f->warmth > 60.0)
            add(sc, &n, "house", 0.6);
        snprintf(why, sizeof(why),
                 "Rule-based (no model): %.0f BPM and a %s %s point to these genres.", f->bpm,
                 f->category, f->loop ? "loop" : "sound");
    } else {
        if (is(f, "kick") && f->depth > 60.0) {
            add(sc, &n, "trap", 1.5);
            add(sc, &n, "hip hop", 1.2);
        } else if (is(f, "kick")) {
            add(sc, &n, "techno", 1.3);
            add(sc, &n, "house", 1.2);
        }
        if (is(f, "snare") || is(f, "clap")) {
            add(sc, &n, "hip hop", 1.2);
            add(sc, &n, "pop", 1.0);
        }
        if (is(f, "hihat_closed") || is(f, "hihat_open") || is(f, "cymbal")) {
            add(sc, &n, "trap", 1.0);
            add(sc, &n, "house", 1.0);
        }
        if (is(f, "pad") || is(f, "keys")) {
            add(sc, &n, "ambient", 1.3);
            add(sc, &n, "lo-fi", 1.1);
        }
        if (is(f, "synth") || is(f, "bass")) {
            add(sc, &n, "electronic", 1.3);
            add(sc, &n, "synthwave", 0.8);
        }
        if (is(f, "guitar")) {
            add(sc, &n, "rock", 1.2);
            add(sc, &n, "indie", 1.0);
        }
        if (is(f, "strings") || is(f, "brass")) {
            add(sc, &n, "cinematic", 1.4);
            add(sc, &n, "orchestral", 1.2);
        }
        if (is(f, "vocal")) {
            add(sc, &n, "pop", 1.3);
            add(sc, &n, "r&b", 1.0);
        }
        if (!n)
            add(sc, &n, "electronic", 1.0);
        snprintf(why, sizeof(why),
                 "Rule-based (no model): no tempo, so the %s category and its timbre decide.",
                 f->category);
    }
    /* Sort by score, keep three; confidences stay modest: these are rules. */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (sc[j].s > sc[i].s) {
                struct score t = sc[i];
                sc[i] = sc[j];
                sc[j] = t;
            }
    double total = 0.0;
    for (int i = 0; i < n; i++)
        total += sc[i].s;
    json_t *g = json_array();
    for (int i = 0; i < n && i < 3; i++)
        json_array_append_new(g, json_pack("{s:s, s:f}", "name", sc[i].name, "confidence",
                                           round(60.0 * sc[i].s / total) / 100.0));
    return json_pack("{s:o, s:s}", "genres", g, "reasoning", why);
}

/* -------------------------------------------------------------------- mood */

static double energy_of(const struct facts *f)
{
    double loud = isfinite(f->lufs) ? clamp01((f->lufs + 30.0) / 24.0) : 0.5;
    double tempo = f->has_bpm ? clamp01((f->bpm - 60.0) / 120.0) : 0.5;
    return clamp01(0.4 * f->hardness / 100.0 + 0.3 * loud + 0.3 * tempo);
}

static double valence_of(const struct facts *f)
{
    double v = f->has_key ? (f->minor ? 0.35 : 0.65) : 0.5;
    v += 0.15 * (f->brightness - 50.0) / 50.0;
    v -= 0.1 * (f->roughness - 50.0) / 50.0;
    return clamp01(v);
}

static json_t *mood(const struct facts *f)
{
    double e = energy_of(f);
    double v = valence_of(f);
    const char *a;
    const char *b;
    if (e >= 0.5 && v < 0.5) {
        a = "dark";
        b = "aggressive";
    } else if (e >= 0.5) {
        a = "energetic";
        b = "uplifting";
    } else if (v < 0.5) {
        a = "melancholic";
        b = "moody";
    } else {
        a = "calm";
        b = "warm";
    }
    double c1 = 0.3 + 0.3 * fabs(v - 0.5) * 2.0;
    double c2 = 0.2 + 0.3 * fabs(e - 0.5) * 2.0;
    return json_pack("{s:[{s:s, s:f}, {s:s, s:f}], s:f, s:f, s:s}", "moods", "name", a,
                     "confidence", round(c1 * 100.0) / 100.0, "name", b, "confidence",
                     round(c2 * 100.0) / 100.0, "energy", round(e * 100.0) / 100.0, "valence",
                     round(v * 100.0) / 100.0, "method",
                     "rule-based: energy from hardness, loudness and tempo; valence from "
                     "mode and brightness");
}

/* -------------------------------------------------------------------- tags */

static json_t *tags(const struct facts *f)
{
    json_t *t = json_array();
    char buf[48];
    snprintf(buf, sizeof(buf), "%s", f->category);
    for (char *c = buf; *c; c++)
        if (*c == '_')
            *c = ' ';
    json_array_append_new(t, json_string(buf));
    json_array_append_new(t, json_string(f->loop ? "loop" : "one-shot"));
    if (f->has_bpm && f->loop) {
        snprintf(buf, sizeof(buf), "%.0f bpm", f->bpm);
        json_array_append_new(t, json_string(buf));
    }
    if (f->has_key) {
        snprintf(buf, sizeof(buf), "%s", f->key_name);
        for (char *c = buf; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        json_array_append_new(t, json_string(buf));
    }
    if (f->brightness > 65.0)
        json_array_append_new(t, json_string("bright"));
    else if (f->brightness < 35.0)
        json_array_append_new(t, json_string("dark"));
    if (f->warmth > 65.0)
        json_array_append_new(t, json_string("warm"));
    if (f->hardness > 65.0)
        json_array_append_new(t, json_string("punchy"));
    else if (f->hardness < 30.0)
        json_array_append_new(t, json_string("soft"));
    if (f->depth > 65.0)
        json_array_append_new(t, json_string("deep"));
    if (f->roughness > 60.0)
        json_array_append_new(t, json_string("gritty"));
    if (f->boominess > 65.0)
        json_array_append_new(t, json_string("boomy"));
    return json_pack("{s:o}", "tags", t);
}

/* ------------------------------------------------------------- description */

static const char *adjective(const struct facts *f)
{
    if (f->hardness > 65.0)
        return "punchy";
    if (f->brightness > 65.0)
        return "bright";
    if (f->brightness < 35.0)
        return "dark";
    if (f->warmth > 65.0)
        return "warm";
    if (f->hardness < 30.0)
        return "soft";
    return "balanced";
}

static json_t *description(const struct facts *f)
{
    char label[32];
    snprintf(label, sizeof(label), "%s", f->category);
    for (char *c = label; *c; c++)
        if (*c == '_')
            *c = ' ';
    char d[400];
    int n = snprintf(d, sizeof(d), "A %s %s %s", adjective(f), label,
                     f->loop ? "loop" : "one-shot");
    if (f->loop && f->has_bpm)
        n += snprintf(d + n, sizeof(d) - (size_t)n, " at %.0f BPM", f->bpm);
    if (f->has_key)
        n += snprintf(d + n, sizeof(d) - (size_t)n, " in %s", f->key_name);
    else if (f->has_note)
        n += snprintf(d + n, sizeof(d) - (size_t)n, " pitched at %s", f->note);
    if (isfinite(f->duration))
        n += snprintf(d + n, sizeof(d) - (size_t)n, ", %.2f s long", f->duration);
    snprintf(d + n, sizeof(d) - (size_t)n, " (rule-based description).");
    return json_pack("{s:s}", "description", d);
}

/* -------------------------------------------------------------- production */

static json_t *production(const struct facts *f)
{
    json_t *t = json_array();
    char buf[256];
    if (f->loop && f->has_bpm) {
        snprintf(buf, sizeof(buf),
                 "Set the project to %.0f BPM (or warp the loop) so it stays on the grid.",
                 f->bpm);
        json_array_append_new(t, json_string(buf));
    }
    if (f->has_key) {
        snprintf(buf, sizeof(buf),
                 "Write the bass line and chords in %s, or a relative/neighbouring key on the "
                 "Camelot wheel.",
                 f->key_name);
        json_array_append_new(t, json_string(buf));
    } else if (f->has_note) {
        snprintf(buf, sizeof(buf), "It sounds at %s: retune it to the root of your track.",
                 f->note);
        json_array_append_new(t, json_string(buf));
    }
    if (is(f, "kick"))
        json_array_append_new(
            t, json_string(f->hardness < 45.0
                               ? "Layer a short click or top kick for more attack."
                               : "Sidechain the bass to this kick so the low end stays clear."));
    else if (is_drum(f))
        json_array_append_new(
            t, json_string("Vary velocity and timing slightly across repeats for groove."));
    else if (is(f, "pad") || is(f, "strings"))
        json_array_append_new(
            t, json_string("Automate a low-pass filter to make it move under the arrangement."));
    else
        json_array_append_new(
            t, json_string("Resample and chop it to make variations for other sections."));
    if (f->depth > 65.0 && !is(f, "kick") && !is(f, "bass"))
        json_array_append_new(
            t, json_string("It carries a lot of low end: leave room for the kick and bass."));
    if (json_array_size(t) < 3)
        json_array_append_new(
            t, json_string("Add a short reverb send to place it in the same room as the mix."));
    return json_pack("{s:o}", "tips", t);
}

/* ------------------------------------------------------------------ mixing */

static json_t *mixing(const struct facts *f)
{
    json_t *tips = json_array();
    json_t *issues = json_array();
    char buf[256];
    if (isfinite(f->true_peak) && f->true_peak > -1.0) {
        snprintf(buf, sizeof(buf),
                 "True peak %.2f dBTP is above -1 dBTP: lower it by %.2f dB or limit it to "
                 "avoid clipping after encoding.",
                 f->true_peak, f->true_peak + 1.0);
        json_array_append_new(issues, json_string(buf));
    }
    if (isfinite(f->sample_peak) && f->sample_peak >= -0.05) {
        json_array_append_new(issues,
                              json_string("Sample peaks reach 0 dBFS: it may already be clipped."));
    }
    if (isfinite(f->lufs) && f->lufs > -8.0) {
        snprintf(buf, sizeof(buf),
                 "Very loud (%.1f LUFS): turn it down before processing to keep headroom.",
                 f->lufs);
        json_array_append_new(issues, json_string(buf));
    } else if (isfinite(f->lufs) && f->lufs < -30.0) {
        snprintf(buf, sizeof(buf), "Very quiet (%.1f LUFS): gain it up before any compressor.",
                 f->lufs);
        json_array_append_new(issues, json_string(buf));
    }
    if (f->depth > 70.0 && !is(f, "kick") && !is(f, "bass") && !is(f, "tom"))
        json_array_append_new(issues,
                              json_string("Strong low end for its category: high-pass it around "
                                          "100-150 Hz in a full mix."));
    if (f->brightness > 80.0)
        json_array_append_new(issues,
                              json_string("Very bright: watch for harshness around 6-10 kHz."));
    if (is(f, "kick") || is(f, "bass"))
        json_array_append_new(tips, json_string("Keep it mono below about 120 Hz."));
    else
        json_array_append_new(tips, json_string("High-pass below the range it needs so the kick "
                                                "and bass keep the low end."));
    if (f->hardness > 65.0)
        json_array_append_new(tips, json_string("Its transient is strong: a slow-attack "
                                                "compressor keeps the punch."));
    else
        json_array_append_new(tips, json_string("A fast-attack compressor or transient shaper "
                                                "can add definition."));
    if (f->boominess > 65.0)
        json_array_append_new(tips, json_string("Cut a little around 200-400 Hz to reduce boom."));
    return json_pack("{s:o, s:o}", "tips", tips, "issues", issues);
}

/* ----------------------------------------------------------------- pairing */

static json_t *suggestion(const struct facts *f, const char *cat, const char *why)
{
    char q[160];
    int n = snprintf(q, sizeof(q), "category:%s", cat);
    if (f->has_bpm && f->loop)
        n += snprintf(q + n, sizeof(q) - (size_t)n, " bpm:%.0f..%.0f", f->bpm - 3.0,
                      f->bpm + 3.0);
    if (f->has_key && strcmp(cat, "kick") && strcmp(cat, "snare") && strcmp(cat, "clap") &&
        strcmp(cat, "hihat_closed") && strcmp(cat, "hihat_open"))
        snprintf(q + n, sizeof(q) - (size_t)n, " key:%s", f->key_short);
    return json_pack("{s:s, s:s, s:s}", "category", cat, "query", q, "why", why);
}

static json_t *pairing(const struct facts *f)
{
    json_t *s = json_array();
    if (is(f, "kick")) {
        json_array_append_new(s, suggestion(f, "hihat_closed", "Off-beat hats complete the groove."));
        json_array_append_new(s, suggestion(f, "clap", "A clap on 2 and 4 answers the kick."));
        json_array_append_new(s, suggestion(f, "bass", "A bass that leaves room for the kick."));
    } else if (is(f, "bass")) {
        json_array_append_new(s, suggestion(f, "kick", "The kick and bass carry the low end together."));
        json_array_append_new(s, suggestion(f, "pad", "A pad in the same key fills the mids."));
    } else if (is_drum(f)) {
        json_array_append_new(s, suggestion(f, "kick", "Build the rest of the kit around it."));
        json_array_append_new(s, suggestion(f, "percussion", "Percussion adds movement between hits."));
    } else if (is(f, "pad") || is(f, "strings") || is(f, "keys")) {
        json_array_append_new(s, suggestion(f, "bass", "A bass line under the harmony."));
        json_array_append_new(s, suggestion(f, "vocal", "A vocal on top of the chords."));
        json_array_append_new(s, suggestion(f, "percussion", "Light percussion for motion."));
    } else {
        json_array_append_new(s, suggestion(f, "kick", "A kick to anchor it rhythmically."));
        json_array_append_new(s, suggestion(f, "pad", "A pad in a compatible key for space."));
    }
    return json_pack("{s:o}", "suggestions", s);
}

json_t *sm__ai_builtin_answer(int task, json_t *descriptors)
{
    struct facts f;
    read_facts(descriptors, &f);
    switch (task) {
    case SM_AI_GENRE:
        return genre(&f);
    case SM_AI_MOOD:
        return mood(&f);
    case SM_AI_TAGS:
        return tags(&f);
    case SM_AI_DESCRIPTION:
        return description(&f);
    case SM_AI_PRODUCTION:
        return production(&f);
    case SM_AI_MIXING:
        return mixing(&f);
    case SM_AI_PAIRING:
        return pairing(&f);
    default:
        return NULL;
    }
}
