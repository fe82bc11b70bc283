/* Task names, prompt templates, canonical descriptors and answer validation. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "ai/ai_int.h"

static const char *const task_names[] = {
#define SM__AI_TASK_NAME(id, name) name,
    SM_AI_TASK_MAP(SM__AI_TASK_NAME)
#undef SM__AI_TASK_NAME
};

static const char *const provider_names[] = {
#define SM__AI_PROV_NAME(id, name) name,
    SM_AI_PROVIDER_MAP(SM__AI_PROV_NAME)
#undef SM__AI_PROV_NAME
};

const char *sm_ai_task_name(int task)
{
    return task >= 0 && task < SM_AI_TASK_COUNT ? task_names[task] : "unknown";
}

int sm_ai_task_from_name(const char *name)
{
    for (int i = 0; name && i < SM_AI_TASK_COUNT; i++)
        if (!strcmp(task_names[i], name))
            return i;
    return -1;
}

const char *sm_ai_provider_name(int provider)
{
    return provider >= 0 && provider < SM_AI_PROVIDER_COUNT ? provider_names[provider]
                                                            : "unknown";
}

int sm_ai_provider_from_name(const char *name)
{
    for (int i = 0; name && i < SM_AI_PROVIDER_COUNT; i++)
        if (!strcmp(provider_names[i], name))
            return i;
    if (name && !strcmp(name, "openai_compatible"))
        return SM_AI_P_OPENAI_COMPAT;
    return -1;
}

long sm__ai_estimate_tokens(size_t bytes)
{
    return (long)((bytes + 3) / 4);
}

char *sm__ai_descriptors_canonical(const char *descriptors, sm_error *err)
{
    if (!descriptors) {
        sm_error_set(err, SM_EINVAL, "ai: no descriptors");
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loads(descriptors, 0, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        sm_error_set(err, SM_EINVAL, "ai: descriptors are not a JSON object (%s)",
                     o ? "not an object" : je.text);
        return NULL;
    }
    /* Per-frame arrays and file identity cost tokens and add nothing a model uses. */
    static const char *const drop[] = {"onsets", "embedding", "embedding_version", "waveform",
                                       "mfcc", "chroma", "hash", "size", "warnings", "frames",
                                       "analyzer_version"};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        json_object_del(o, drop[i]);
    json_t *tempo = json_object_get(o, "tempo");
    if (json_is_object(tempo))
        json_object_del(tempo, "beats");
    json_t *path = json_object_get(o, "path");
    if (json_is_string(path)) {
        const char *p = json_string_value(path);
        const char *base = strrchr(p, '/');
        json_object_set_new(o, "name", json_string(base ? base + 1 : p));
        json_object_del(o, "path");
    }
    char *txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!txt) {
        sm_error_set(err, SM_ENOMEM, "out of memory");
        return NULL;
    }
    char *out = sm_strdup(txt);
    free(txt);
    if (!out)
        sm_error_set(err, SM_ENOMEM, "out of memory");
    return out;
}

const char sm__ai_system_prompt[] =
    "You are SampleMind, an assistant for music producers. You receive the measured "
    "audio descriptors of one sample as JSON (loudness in LUFS/dBTP, tempo in BPM, key, "
    "instrument category, timbre scalars 0-100, spectral statistics in Hz) and answer "
    "with exactly one JSON object that follows the schema you are given. No text "
    "outside the JSON object.";

struct task_text {
    const char *schema;
    const char *guidance;
};

static const struct task_text texts[SM_AI_TASK_COUNT] = {
    {"{\"genres\":[{\"name\":string,\"confidence\":number 0..1}],\"reasoning\":string}",
     "Name up to 3 genres this sample fits, most likely first, and say why in one "
     "sentence."},
    {"{\"moods\":[{\"name\":string,\"confidence\":number 0..1}],\"energy\":number 0..1,"
     "\"valence\":number 0..1}",
     "Name up to 3 moods; energy is arousal, valence is positivity."},
    {"{\"tags\":[string]}",
     "Give 3 to 10 short lowercase search tags a producer would type (sound, character, "
     "use)."},
    {"{\"description\":string}",
     "Describe the sample in one or two sentences for a sample library listing."},
    {"{\"tips\":[string]}",
     "Give 3 to 5 concrete production tips for using this sample in a track."},
    {"{\"tips\":[string],\"issues\":[string]}",
     "Give mixing tips, and list technical issues (clipping, true peak above -1 dBTP, "
     "excess low end, very loud or quiet) if the descriptors show any."},
    {"{\"suggestions\":[{\"category\":string,\"query\":string,\"why\":string}]}",
     "Suggest 2 to 4 kinds of samples to combine with this one; query is a SampleMind "
     "search such as \"category:hihat bpm:120..130 key:Am\"."},
};

char *sm__ai_user_prompt(int task, const char *canonical)
{
    const struct task_text *t = &texts[task];
    size_t n = strlen(canonical) + strlen(t->schema) + strlen(t->guidance) + 128;
    char *p = sm_malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n, "Task: %s.\nAnswer schema: %s\n%s\nDescriptors: %s", task_names[task],
             t->schema, t->guidance, canonical);
    return p;
}

char *sm__ai_repair_prompt(int task, const char *why)
{
    size_t n = strlen(why) + strlen(texts[task].schema) + 200;
    char *p = sm_malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n,
             "Your answer was not valid (%s). Reply again with only one JSON object "
             "matching this schema: %s",
             why, texts[task].schema);
    return p;
}

/* ---------------------------------------------------------------- validation */

static bool fail(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
    return false;
}

static json_t *clean_string(json_t *v, size_t max)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (!n)
        return NULL;
    if (n > max)
        n = max;
    return json_stringn(s, n);
}

static json_t *unit_number(json_t *v)
{
    if (!json_is_number(v))
        return NULL;
    double x = json_number_value(v);
    if (!(x >= 0.0))
        x = 0.0;
    /* Some models answer in percent. */
    if (x > 1.0 && x <= 100.0)
        x /= 100.0;
    if (x > 1.0)
        x = 1.0;
    return json_real(x);
}

/* [{"name", "confidence"}] -> normalised copy, or NULL. */
static json_t *named_list(json_t *arr, const char *key, char *why, size_t whylen)
{
    if (!json_is_array(arr) || !json_array_size(arr)) {
        fail(why, whylen, "expected a non-empty list");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        if (i >= 10)
            break;
        json_t *name = clean_string(json_object_get(it, "name"), 64);
        json_t *conf = unit_number(json_object_get(it, key));
        if (!name || !conf) {
            json_decref(name);
            json_decref(conf);
            json_decref(out);
            fail(why, whylen, "each entry needs a name and a numeric confidence");
            return NULL;
        }
        json_array_append_new(out, json_pack("{s:o, s:o}", "name", name, key, conf));
    }
    return out;
}

static json_t *string_list(json_t *arr, bool allow_empty, size_t max_items, bool lower,
                           char *why, size_t whylen)
{
    if (!json_is_array(arr) || (!allow_empty && !json_array_size(arr))) {
        fail(why, whylen, "expected a list of strings");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        json_t *s = clean_string(it, lower ? 40 : 400);
        if (!s) {
            json_decref(out);
            fail(why, whylen, "expected a list of non-empty strings");
            return NULL;
        }
        if (lower) {
            char buf[64];
            snprintf(buf, sizeof(buf), "%s", json_string_value(s));
            for (char *c = buf; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            json_decref(s);
            bool dup = false;
            size_t j;
            json_t *o;
            json_array_foreach(out, j, o)
            {
                if (!strcmp(json_string_value(o), buf))
                    dup = true;
            }
            if (dup)
                continue;
            s = json_string(buf);
        }
        if (json_array_size(out) < max_items)
            json_array_append_new(out, s);
        else
            json_decref(s);
    }
    if (!allow_empty && !json_array_size(out)) {
        json_decref(out);
        fail(why, whylen, "expected a non-empty list");
        return NULL;
    }
    return out;
}

static json_t *validate_obj(int task, json_t *a, char *why, size_t whylen)
{
    json_t *out = NULL;
    switch (task) {
    case SM_AI_GENRE: {
        json_t *g = named_list(json_object_get(a, "genres"), "confidence", why, whylen);
        if (!g)
            return NULL;
        json_t *r = clean_string(json_object_get(a, "reasoning"), 1000);
        out = json_pack("{s:o, s:o}", "genres", g, "reasoning", r ? r : json_string(""));
        break;
    }
    case SM_AI_MOOD: {
        json_t *m = named_list(json_object_get(a, "moods"), "confidence", why, whylen);
        if (!m)
            return NULL;
        json_t *e = unit_number(json_object_get(a, "energy"));
        json_t *v = unit_number(json_object_get(a, "valence"));
        if (!e || !v) {
            json_decref(m);
            json_decref(e);
            json_decref(v);
            fail(why, whylen, "energy and valence must be numbers 0..1");
            return NULL;
        }
        out = json_pack("{s:o, s:o, s:o}", "moods", m, "energy", e, "valence", v);
        break;
    }
    case SM_AI_TAGS: {
        json_t *t = string_list(json_object_get(a, "tags"), false, 20, true, why, whylen);
        if (!t)
            return NULL;
        out = json_pack("{s:o}", "tags", t);
        break;
    }
    case SM_AI_DESCRIPTION: {
        json_t *d = clean_string(json_object_get(a, "description"), 2000);
        if (!d) {
            fail(why, whylen, "description must be a non-empty string");
            return NULL;
        }
        out = json_pack("{s:o}", "description", d);
        break;
    }
    case SM_AI_PRODUCTION: {
        json_t *t = string_list(json_object_get(a, "tips"), false, 10, false, why, whylen);
        if (!t)
            return NULL;
        out = json_pack("{s:o}", "tips", t);
        break;
    }
    case SM_AI_MIXING: {
        json_t *t = string_list(json_object_get(a, "tips"), false, 10, false, why, whylen);
        if (!t)
            return NULL;
        json_t *iss = json_object_get(a, "issues");
        json_t *i = iss ? string_list(iss, true, 10, false, why, whylen) : json_array();
        if (!i) {
            json_decref(t);
            return NULL;
        }
        out = json_pack("{s:o, s:o}", "tips", t, "issues", i);
        break;
    }
    case SM_AI_PAIRING: {
        json_t *arr = json_object_get(a, "suggestions");
        if (!json_is_array(arr) || !json_array_size(arr)) {
            fail(why, whylen, "suggestions must be a non-empty list");
            return NULL;
        }
        json_t *list = json_array();
        size_t i;
        json_t *it;
        json_array_foreach(arr, i, it)
        {
            json_t *c = clean_string(json_object_get(it, "category"), 40);
            json_t *q = clean_string(json_object_get(it, "query"), 200);
            json_t *w = clean_string(json_object_get(it, "why"), 400);
            if (!c || !q || !w) {
                json_decref(c);
                json_decref(q);
                json_decref(w);
                json_decref(list);
                fail(why, whylen, "each suggestion needs category, query and why strings");
                return NULL;
            }
            if (i < 8)
                json_array_append_new(list,
                                      json_pack("{s:o, s:o, s:o}", "category", c, "query", q,
                                                "why", w));
            else {
                json_decref(c);
                json_decref(q);
                json_decref(w);
            }
        }
        out = json_pack("{s:o}", "suggestions", list);
        break;
    }
    default:
        fail(why, whylen, "unknown task");
        return NULL;
    }
    if (!out)
        fail(why, whylen, "out of memory");
    return out;
}

json_t *sm__ai_validate(int task, const char *text, char *why, size_t whylen)
{
    if (!text) {
        fail(why, whylen, "empty answer");
        return NULL;
    }
    /* Models wrap JSON in prose or code fences: take the outermost object. */
    const char *a = strchr(text, '{');
    const char *b = strrchr(text, '}');
    if (!a || !b || b < a) {
        fail(why, whylen, "the answer holds no JSON object");
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb(a, (size_t)(b - a + 1), 0, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        snprintf(why, whylen, "the answer is not valid JSON: %s", je.text);
        return NULL;
    }
    json_t *v = validate_obj(task, o, why, whylen);
    json_decref(o);
    return v;
}
