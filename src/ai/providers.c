/* Provider wire formats: OpenAI chat completions (and compatible servers),
 * Anthropic messages, Gemini generateContent, Ollama /api/chat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "ai/ai_int.h"

void sm__ai_wire_release(struct sm__ai_wire *w)
{
    for (int i = 0; i < 6; i++) {
        if (w->headers[i]) {
            /* Headers may hold a key: wipe before freeing. */
            memset(w->headers[i], 0, strlen(w->headers[i]));
            sm_free(w->headers[i]);
        }
        w->headers[i] = NULL;
    }
    sm_free(w->body);
    w->body = NULL;
}

static int add_header(struct sm__ai_wire *w, const char *name, const char *value)
{
    int i = 0;
    while (i < 5 && w->headers[i])
        i++;
    if (i >= 5)
        return -1;
    size_t n = strlen(name) + strlen(value) + 3;
    char *h = sm_malloc(n);
    if (!h)
        return -1;
    snprintf(h, n, "%s: %s", name, value);
    w->headers[i] = h;
    return 0;
}

/* The base URL without a trailing slash. */
static void base(char *out, size_t size, const char *url)
{
    snprintf(out, size, "%s", url);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/')
        out[--n] = '\0';
}

static json_t *with_system(json_t *messages)
{
    json_t *all = json_array();
    json_array_append_new(all, json_pack("{s:s, s:s}", "role", "system", "content",
                                         sm__ai_system_prompt));
    json_array_extend(all, messages);
    return all;
}

sm_status sm__ai_wire_build(int provider, const struct sm__ai_provider_cfg *cfg,
                            const char *model, const struct sm__ai_config *c, json_t *messages,
                            struct sm__ai_wire *out, sm_error *err)
{
    memset(out, 0, sizeof(*out));
    char b[256];
    base(b, sizeof(b), cfg->base_url);
    json_t *body = NULL;
    int bad = 0;
    switch (provider) {
    case SM_AI_P_OPENAI:
    case SM_AI_P_OPENAI_COMPAT:
        snprintf(out->url, sizeof(out->url), "%s/chat/completions", b);
        body = json_pack("{s:s, s:o, s:f, s:i, s:{s:s}}", "model", model, "messages",
                         with_system(messages), "temperature", c->temperature, "max_tokens",
                         c->max_tokens, "response_format", "type", "json_object");
        if (cfg->api_key[0]) {
            char v[300];
            snprintf(v, sizeof(v), "Bearer %s", cfg->api_key);
            bad |= add_header(out, "Authorization", v);
            memset(v, 0, sizeof(v));
        }
        break;
    case SM_AI_P_ANTHROPIC:
        snprintf(out->url, sizeof(out->url), "%s/v1/messages", b);
        body = json_pack("{s:s, s:i, s:s, s:O, s:f}", "model", model, "max_tokens",
                         c->max_tokens, "system", sm__ai_system_prompt, "messages", messages,
                         "temperature", c->temperature);
        bad |= add_header(out, "x-api-key", cfg->api_key);
        bad |= add_header(out, "anthropic-version", "2023-06-01");
        break;
    case SM_AI_P_GEMINI: {
        snprintf(out->url, sizeof(out->url), "%s/v1beta/models/%s:generateContent", b, model);
        json_t *contents = json_array();
        size_t i;
        json_t *m;
        json_array_foreach(messages, i, m)
        {
            const char *role = json_string_value(json_object_get(m, "role"));
            json_array_append_new(
                contents, json_pack("{s:s, s:[{s:O}]}", "role",
                                    role && !strcmp(role, "assistant") ? "model" : "user",
                                    "parts", "text", json_object_get(m, "content")));
        }
        body = json_pack("{s:{s:[{s:s}]}, s:o, s:{s:f, s:i, s:s}}", "systemInstruction",
                         "parts", "text", sm__ai_system_prompt, "contents", contents,
                         "generationConfig", "temperature", c->temperature, "maxOutputTokens",
                         c->max_tokens, "responseMimeType", "application/json");
        bad |= add_header(out, "x-goog-api-key", cfg->api_key);
        break;
    }
    case SM_AI_P_OLLAMA:
        snprintf(out->url, sizeof(out->url), "%s/api/chat", b);
        body = json_pack("{s:s, s:o, s:b, s:s, s:{s:f, s:i}}", "model", model, "messages",
                         with_system(messages), "stream", 0, "format", "json", "options",
                         "temperature", c->temperature, "num_predict", c->max_tokens);
        break;
    default:
        return sm_error_set(err, SM_EINVAL, "ai: %s has no wire format",
                            sm_ai_provider_name(provider));
    }
    bad |= add_header(out, "Content-Type", "application/json");
    char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    out->body = txt ? sm_strdup(txt) : NULL;
    free(txt);
    if (bad || !out->body) {
        sm__ai_wire_release(out);
        return sm_error_set(err, SM_ENOMEM, "out of memory");
    }
    return SM_OK;
}

static long int_or(json_t *v)
{
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

int sm__ai_wire_parse(int provider, const char *body, char **text, long *tokens_in,
                      long *tokens_out, char *why, size_t whylen)
{
    *text = NULL;
    *tokens_in = -1;
    *tokens_out = -1;
    json_error_t je;
    json_t *o = body ? json_loads(body, 0, &je) : NULL;
    if (!o) {
        snprintf(why, whylen, "malformed reply from %s: %s", sm_ai_provider_name(provider),
                 body ? je.text : "empty body");
        return -1;
    }
    const char *t = NULL;
    switch (provider) {
    case SM_AI_P_OPENAI:
    case SM_AI_P_OPENAI_COMPAT: {
        json_t *ch = json_array_get(json_object_get(o, "choices"), 0);
        t = json_string_value(json_object_get(json_object_get(ch, "message"), "content"));
        json_t *u = json_object_get(o, "usage");
        *tokens_in = int_or(json_object_get(u, "prompt_tokens"));
        *tokens_out = int_or(json_object_get(u, "completion_tokens"));
        break;
    }
    case SM_AI_P_ANTHROPIC: {
        json_t *content = json_object_get(o, "content");
        size_t i;
        json_t *part;
        json_array_foreach(content, i, part)
        {
            const char *type = json_string_value(json_object_get(part, "type"));
            if (type && !strcmp(type, "text")) {
                t = json_string_value(json_object_get(part, "text"));
                break;
            }
        }
        json_t *u = json_object_get(o, "usage");
        *tokens_in = int_or(json_object_get(u, "input_tokens"));
        *tokens_out = int_or(json_object_get(u, "output_tokens"));
        break;
    }
    case SM_AI_P_GEMINI: {
        json_t *cand = json_array_get(json_object_get(o, "candidates"), 0);
        json_t *part = json_array_get(json_object_get(json_object_get(cand, "content"), "parts"), 0);
        t = json_string_value(json_object_get(part, "text"));
        json_t *u = json_object_get(o, "usageMetadata");
        *tokens_in = int_or(json_object_get(u, "promptTokenCount"));
        *tokens_out = int_or(json_object_get(u, "candidatesTokenCount"));
        break;
    }
    case SM_AI_P_OLLAMA:
        t = json_string_value(json_object_get(json_object_get(o, "message"), "content"));
        *tokens_in = int_or(json_object_get(o, "prompt_eval_count"));
        *tokens_out = int_or(json_object_get(o, "eval_count"));
        break;
    default:
        break;
    }
    if (!t) {
        json_decref(o);
        snprintf(why, whylen, "reply from %s has no answer text", sm_ai_provider_name(provider));
        return -1;
    }
    *text = sm_strdup(t);
    json_decref(o);
    if (!*text) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}
