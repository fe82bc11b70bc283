/* The query language, parsed in one place for the CLI, the HTTP API and every
 * catalog backend. docs/catalog.md is the reference; in short:
 *
 *   words and "quoted phrases"   full-text match on path words, tags, descriptions
 *   bpm:120..130  bpm:>100  bpm:120   ranges (a bare number is +-half its last digit)
 *   key:Am  key:8A  key:Am,Em  key:compatible:Am
 *   category:kick,snare  loop:yes|no  note:F#1  note:C1..C2  tag:dark
 *   lufs:-14..-8  peak:<-1  duration:..2  bright:>70 (warm, hard, deep, rough, boomy)
 *   missing:yes|no|any  sort:bpm  sort:-duration  limit:50  offset:100
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>

#include "analysis/key.h"
#include "catalog/catalog_int.h"
#include "util/text.h"
#include "util/utf8.h"

static const char *const field_names[SM_QF_COUNT] = {
#define SM__QF_NAME(id, name) name,
    SM_QUERY_FIELD_MAP(SM__QF_NAME)
#undef SM__QF_NAME
};

const char *sm_query_field_name(int f)
{
    if (f < 0 || f >= SM_QF_COUNT)
        return "?";
    return field_names[f];
}

void sm_query_init(sm_query *q)
{
    if (!q)
        return;
    memset(q, 0, sizeof(*q));
    q->loop = -1;
    q->missing = 0;
    q->sort = SM_SORT_DEFAULT;
    q->sort_field = -1;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sm_free(v[i]);
    sm_free(v);
}

void sm_query_release(sm_query *q)
{
    if (!q)
        return;
    free_list(q->words, q->n_words);
    free_list(q->tags, q->n_tags);
    sm_query_init(q);
}

bool sm_query_has_filters(const sm_query *q)
{
    if (!q)
        return false;
    for (int f = 0; f < SM_QF_COUNT; f++)
        if (q->range[f].set)
            return true;
    return q->n_keys > 0 || q->categories != 0 || q->loop >= 0 || q->n_tags > 0 ||
           q->missing != 0;
}

/* ------------------------------------------------------------------ names --- */

struct alias {
    const char *name;
    int kind;
    int field;
};

enum kind { K_RANGE, K_KEY, K_CATEGORY, K_LOOP, K_TAG, K_MISSING, K_SORT, K_LIMIT, K_OFFSET };

static const struct alias filters[] = {
    {"bpm", K_RANGE, SM_QF_BPM},
    {"tempo", K_RANGE, SM_QF_BPM},
    {"lufs", K_RANGE, SM_QF_LUFS},
    {"loudness", K_RANGE, SM_QF_LUFS},
    {"duration", K_RANGE, SM_QF_DURATION},
    {"dur", K_RANGE, SM_QF_DURATION},
    {"length", K_RANGE, SM_QF_DURATION},
    {"peak", K_RANGE, SM_QF_PEAK},
    {"note", K_RANGE, SM_QF_NOTE},
    {"bright", K_RANGE, SM_QF_BRIGHTNESS},
    {"brightness", K_RANGE, SM_QF_BRIGHTNESS},
    {"warm", K_RANGE, SM_QF_WARMTH},
    {"warmth", K_RANGE, SM_QF_WARMTH},
    {"hard", K_RANGE, SM_QF_HARDNESS},
    {"hardness", K_RANGE, SM_QF_HARDNESS},
    {"deep", K_RANGE, SM_QF_DEPTH},
    {"depth", K_RANGE, SM_QF_DEPTH},
    {"rough", K_RANGE, SM_QF_ROUGHNESS},
    {"roughness", K_RANGE, SM_QF_ROUGHNESS},
    {"boomy", K_RANGE, SM_QF_BOOMINESS},
    {"boominess", K_RANGE, SM_QF_BOOMINESS},
    {"key", K_KEY, 0},
    {"category", K_CATEGORY, 0},
    {"cat", K_CATEGORY, 0},
    {"loop", K_LOOP, 0},
    {"tag", K_TAG, 0},
    {"missing", K_MISSING, 0},
    {"sort", K_SORT, 0},
    {"limit", K_LIMIT, 0},
    {"offset", K_OFFSET, 0},
};
#define N_FILTERS (sizeof(filters) / sizeof(filters[0]))

static const struct {
    const char *name;
    int sort;
} sorts[] = {
    {"relevance", SM_SORT_RELEVANCE}, {"path", SM_SORT_PATH},         {"name", SM_SORT_NAME},
    {"id", SM_SORT_ID},               {"key", SM_SORT_KEY},           {"category", SM_SORT_CATEGORY},
};

/* ----------------------------------------------------------------- parser --- */

struct parser {
    const char *text;
    sm_query *q;
    sm_error *err;
    /* The current token: [tok, tok + tok_len) in text. */
    size_t tok;
    size_t tok_len;
    bool seen_key, seen_cat, seen_loop, seen_sort, seen_limit, seen_offset, seen_missing;
};

static sm_status bad(struct parser *p, size_t pos, size_t len, const char *fmt, ...)
    SM_PRINTF(4, 5);

/* Fail at text[pos..pos+len): "query: <why> at character N: 'token'". */
static sm_status bad(struct parser *p, size_t pos, size_t len, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    p->q->err_pos = pos;
    p->q->err_len = len;
    int shown = len > 60 ? 60 : (int)len;
    return sm_error_set(p->err, SM_EINVAL, "query: %s at character %zu: '%.*s'", why, pos + 1,
                        shown, p->text + pos);
}

static int push(char ***v, size_t *n, const char *s, size_t len)
{
    char **nv = sm_realloc(*v, (*n + 1) * sizeof(char *));
    if (!nv)
        return -1;
    *v = nv;
    char *c = sm_malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    nv[(*n)++] = c;
    return 0;
}

/* Copy [s, s + len) without double quotes into buf. */
static size_t unquote(const char *s, size_t len, char *buf, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < size; i++)
        if (s[i] != '"')
            buf[n++] = s[i];
    buf[n] = '\0';
    return n;
}

/* A number with nothing after it; no inf/nan. Writes the count of decimals. */
static int parse_number(const char *s, double *out, int *decimals)
{
    if (!*s)
        return -1;
    const char *c = s;
    if (*c == '-' || *c == '+')
        c++;
    if (!isdigit((unsigned char)*c) && !(*c == '.' && isdigit((unsigned char)c[1])))
        return -1;
    char *end = NULL;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    const char *dot = strchr(s, '.');
    *decimals = dot ? (int)strlen(dot + 1) : 0;
    *out = v;
    return 0;
}

/* A note name ("F#1", "Bb-1", "c4") or a MIDI number ("29"). */
static int parse_note(const char *s, double *out)
{
    double v;
    int dec;
    if (parse_number(s, &v, &dec) == 0) {
        if (dec > 0 || v < 0.0 || v > 127.0)
            return -1;
        *out = v;
        return 0;
    }
    static const int base[7] = {9, 11, 0, 2, 4, 5, 7}; /* A B C D E F G */
    char l = (char)toupper((unsigned char)s[0]);
    if (l < 'A' || l > 'G')
        return -1;
    int pc = base[l - 'A'];
    size_t i = 1;
    if (s[i] == '#') {
        pc++;
        i++;
    } else if (s[i] == 'b') {
        pc--;
        i++;
    }
    char *end = NULL;
    long oct = strtol(s + i, &end, 10);
    if (end == s + i || *end || oct < -1 || oct > 9)
        return -1;
    long midi = (oct + 1) * 12 + pc;
    if (midi < 0 || midi > 127)
        return -1;
    *out = (double)midi;
    return 0;
}

static int parse_bound(int field, const char *s, double *out, int *decimals)
{
    *decimals = 0;
    if (field == SM_QF_NOTE)
        return parse_note(s, out);
    return parse_number(s, out, decimals);
}

static sm_status parse_range(struct parser *p, int field, const char *val, size_t vpos,
                             size_t vlen)
{
    sm_query_range r = {true, -INFINITY, INFINITY, true, true};
    char a[64];
    char b[64];
    int da = 0;
    int db = 0;
    const char *dots = strstr(val, "..");
    const char *name = field_names[field];
    if (strlen(val) >= sizeof(a))
        return bad(p, vpos, vlen, "%s: value too long", name);
    if (dots) {
        size_t la = (size_t)(dots - val);
        memcpy(a, val, la);
        a[la] = '\0';
        strcpy(b, dots + 2);
        if (!*a && !*b)
            return bad(p, vpos, vlen, "%s: a range needs at least one bound", name);
        if (*a && parse_bound(field, a, &r.lo, &da) != 0)
            return bad(p, vpos, la, "%s: '%s' is not a %s", name, a,
                       field == SM_QF_NOTE ? "note (F#1 or a MIDI number)" : "number");
        if (*b && parse_bound(field, b, &r.hi, &db) != 0)
            return bad(p, vpos + la + 2, strlen(b), "%s: '%s' is not a %s", name, b,
                       field == SM_QF_NOTE ? "note (F#1 or a MIDI number)" : "number");
        if (r.lo > r.hi)
            return bad(p, vpos, vlen, "%s: empty range (%s is above %s)", name, a, b);
    } else if (val[0] == '>' || val[0] == '<') {
        bool eq = val[1] == '=';
        const char *num = val + (eq ? 2 : 1);
        double v;
        if (parse_bound(field, num, &v, &da) != 0)
            return bad(p, vpos, vlen, "%s: '%s' is not a %s", name, num,
                       field == SM_QF_NOTE ? "note" : "number");
        if (val[0] == '>') {
            r.lo = v;
            r.lo_incl = eq;
        } else {
            r.hi = v;
            r.hi_incl = eq;
        }
    } else {
        double v;
        if (parse_bound(field, val, &v, &da) != 0)
            return bad(p, vpos, vlen,
                       "%s: '%s' is not a %s (use 120, 120..130, ..2, >100 or <=-8)", name,
                       val, field == SM_QF_NOTE ? "note (F#1 or a MIDI number)" : "number");
        if (field == SM_QF_NOTE) {
            r.lo = v;
            r.hi = v;
        } else {
            /* A bare number means what it would round to: bpm:120 is 119.5 up to 120.5. */
            double half = 0.5 * pow(10.0, -da);
            r.lo = v - half;
            r.hi = v + half;
            r.hi_incl = false;
        }
    }
    sm_query_range *cur = &p->q->range[field];
    if (cur->set) {
        /* A repeated range narrows: both must hold. */
        if (r.lo > cur->lo || (!(r.lo < cur->lo) && !r.lo_incl)) {
            cur->lo = r.lo;
            cur->lo_incl = r.lo_incl;
        }
        if (r.hi < cur->hi || (!(r.hi > cur->hi) && !r.hi_incl)) {
            cur->hi = r.hi;
            cur->hi_incl = r.hi_incl;
        }
    } else {
        *cur = r;
    }
    return SM_OK;
}

static sm_status add_key(struct parser *p, int tonic, int mode, size_t pos, size_t len)
{
    sm_query *q = p->q;
    for (int i = 0; i < q->n_keys; i++)
        if (q->key_tonic[i] == tonic && q->key_mode[i] == mode)
            return SM_OK;
    if (q->n_keys >= SM_QUERY_MAX_KEYS)
        return bad(p, pos, len, "key: more than %d keys", SM_QUERY_MAX_KEYS);
    q->key_tonic[q->n_keys] = tonic;
    q->key_mode[q->n_keys] = mode;
    q->n_keys++;
    return SM_OK;
}

static sm_status parse_keys(struct parser *p, const char *val, size_t vpos)
{
    const char *s = val;
    for (;;) {
        size_t len = strcspn(s, ",");
        size_t pos = vpos + (size_t)(s - val);
        char item[48];
        if (len == 0 || len >= sizeof(item))
            return bad(p, pos, len ? len : 1, "key: empty or overlong key");
        memcpy(item, s, len);
        item[len] = '\0';
        bool compat = false;
        const char *k = item;
        if (!strncmp(item, "compatible:", 11)) {
            compat = true;
            k = item + 11;
        } else if (!strncmp(item, "compat:", 7)) {
            compat = true;
            k = item + 7;
        }
        int tonic;
        int mode;
        if (sm__key_parse(k, &tonic, &mode) != 0)
            return bad(p, pos, len, "key: '%s' is not a key (Am, F#, Bbm, C major, 8A)", k);
        if (compat) {
            int t[4];
            int m[4];
            sm__key_compatible(tonic, mode, t, m);
            for (int i = 0; i < 4; i++)
                if (add_key(p, t[i], m[i], pos, len) != SM_OK)
                    return SM_EINVAL;
        } else if (add_key(p, tonic, mode, pos, len) != SM_OK) {
            return SM_EINVAL;
        }
        s += len;
        if (*s != ',')
            break;
        s++;
    }
    return SM_OK;
}

static sm_status parse_categories(struct parser *p, const char *val, size_t vpos)
{
    const char *s = val;
    for (;;) {
        size_t len = strcspn(s, ",");
        size_t pos = vpos + (size_t)(s - val);
        char item[48];
        if (len == 0 || len >= sizeof(item))
            return bad(p, pos, len ? len : 1, "category: empty or overlong name");
        memcpy(item, s, len);
        item[len] = '\0';
        for (char *c = item; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        int c = sm_category_from_name(item);
        if (c < 0 || c >= 32) {
            const char *best = NULL;
            size_t bestd = 3;
            for (int i = 0; i < SM_CAT_COUNT; i++) {
                const char *name = sm_category_name(i);
                size_t dd = sm__edit_distance(item, len, name, strlen(name));
                if (dd < bestd) {
                    bestd = dd;
                    best = sm_category_name(i);
                }
            }
            if (best)
                return bad(p, pos, len, "category: unknown category '%s' (did you mean '%s'?)",
                           item, best);
            return bad(p, pos, len, "category: unknown category '%s' (kick, snare, clap, "
                                    "hihat, cymbal, tom, percussion, bass, synth, pad, keys, "
                                    "...)", item);
        }
        p->q->categories |= 1u << c;
        s += len;
        if (*s != ',')
            break;
        s++;
    }
    return SM_OK;
}

static int yes_no(const char *v)
{
    static const char *const yes[] = {"yes", "y", "true", "1", "on"};
    static const char *const no[] = {"no", "n", "false", "0", "off"};
    for (size_t i = 0; i < 5; i++) {
        if (!strcmp(v, yes[i]))
            return 1;
        if (!strcmp(v, no[i]))
            return 0;
    }
    return -1;
}

static sm_status parse_sort(struct parser *p, const char *val, size_t vpos, size_t vlen)
{
    sm_query *q = p->q;
    const char *name = val;
    q->sort_desc = false;
    if (*name == '-' || *name == '+') {
        q->sort_desc = *name == '-';
        name++;
    }
    for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
        if (!strcmp(name, sorts[i].name)) {
            q->sort = sorts[i].sort;
            return SM_OK;
        }
    }
    for (size_t i = 0; i < N_FILTERS; i++) {
        if (filters[i].kind == K_RANGE && !strcmp(name, filters[i].name)) {
            q->sort = SM_SORT_FIELD;
            q->sort_field = filters[i].field;
            return SM_OK;
        }
    }
    return bad(p, vpos, vlen,
               "sort: unknown order '%s' (relevance, path, name, id, key, category, bpm, "
               "duration, lufs, peak, note, brightness...; '-' for descending)",
               name);
}

static sm_status parse_count(struct parser *p, const char *what, const char *val, size_t vpos,
                             size_t vlen, long long lo, long long hi, size_t *out)
{
    char *end = NULL;
    long long v = strtoll(val, &end, 10);
    if (!isdigit((unsigned char)val[0]) || *end || v < lo || v > hi)
        return bad(p, vpos, vlen, "%s: '%s' is not a whole number from %lld to %lld", what, val,
                   lo, hi);
    *out = (size_t)v;
    return SM_OK;
}

static sm_status once(struct parser *p, bool *seen, const char *name, size_t pos, size_t len)
{
    if (*seen)
        return bad(p, pos, len, "%s: given twice (list several values with commas)", name);
    *seen = true;
    return SM_OK;
}

static sm_status filter(struct parser *p, const struct alias *f, const char *val, size_t vpos,
                        size_t vlen)
{
    sm_query *q = p->q;
    size_t tpos = p->tok;
    size_t tlen = p->tok_len;
    if (!*val)
        return bad(p, tpos, tlen, "%s: needs a value (%s:VALUE)", f->name, f->name);
    switch (f->kind) {
        case K_RANGE:
            return parse_range(p, f->field, val, vpos, vlen);
        case K_KEY:
            if (once(p, &p->seen_key, "key", tpos, tlen) != SM_OK)
                return SM_EINVAL;
            return parse_keys(p, val, vpos);
        case K_CATEGORY:
            if (once(p, &p->seen_cat, "category", tpos, tlen) != SM_OK)
                return SM_EINVAL;
            return parse_categories(p, val, vpos);
        case K_LOOP: {
            if (once(p, &p->seen_loop, "loop", tpos, tlen) != SM_OK)
                return SM_EINVAL;
            int v = yes_no(val);
            if (v < 0)
                return bad(p, vpos, vlen, "loop: '%s' is not yes or no", val);
            q->loop = v;
            return SM_OK;
        }
        case K_MISSING: {
            if (once(p, &p->seen_missing, "missing", tpos, tlen) != SM_OK)
                return SM_EINVAL;
            int v = yes_no(val);
            if (!strcmp(val, "any") || !strcmp(val, "all"))
                v = -1;
            else if (v < 0)
                return bad(p, vpos, vlen, "missing: '%s' is not yes, no or any", val);
            q->missing = v;
            return SM_OK;
        }
        case K_TAG: {
            char tag[256];
            if (strlen(val) >= sizeof(tag))
                return bad(p, vpos, vlen, "tag: longer than 64 bytes");
            strcpy(tag, val);
            sm_error terr = SM_ERROR_INIT;
            if (sm__catalog_tag_normalize(tag, &terr) != 0)
                return bad(p, vpos, vlen, "%s", terr.msg);
            if (push(&q->tags, &q->n_tags, tag, strlen(tag)) != 0)
                return sm_error_set(p->err, SM_ENOMEM, "query: out of memory");
            return SM_OK;
        }
        case K_SORT:
            if (once(p, &p->seen_sort, "sort", tpos, tlen) != SM_OK)
                return SM_EINVAL;
            return parse_sort(p, val, vpos, vlen);
        case K_LIMIT:
            if (once(p, &p->seen_limit, "limit", tpos, tlen) != SM_OK)
                return SM_EINVAL;
            return parse_count(p, "limit", val, vpos, vlen, 1, 1000000, &q->limit);
        case K_OFFSET:
            if (once(p, &p->seen_offset, "offset", tpos, tlen) != SM_OK)
                return SM_EINVAL;
            return parse_count(p, "offset", val, vpos, vlen, 0, 1000000000, &q->offset);
        default:
            return bad(p, tpos, tlen, "internal: unknown filter kind");
    }
}

/* A free word or phrase: kept when it has a letter or digit (FTS ignores the rest). */
static sm_status word(struct parser *p, const char *s, size_t len)
{
    bool any = false;
    for (size_t i = 0; i < len; i++)
        if (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
            any = true;
    if (!any)
        return SM_OK;
    char buf[256];
    if (len >= sizeof(buf))
        return bad(p, p->tok, p->tok_len, "word longer than 255 bytes");
    size_t n = unquote(s, len, buf, sizeof(buf));
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
    if (push(&p->q->words, &p->q->n_words, buf, n) != 0)
        return sm_error_set(p->err, SM_ENOMEM, "query: out of memory");
    return SM_OK;
}

static sm_status token(struct parser *p)
{
    const char *t = p->text + p->tok;
    size_t len = p->tok_len;
    if (t[0] == '"')
        return word(p, t, len);
    /* name:value where name is letters only; anything else is a word. */
    size_t nl = 0;
    while (nl < len && isalpha((unsigned char)t[nl]))
        nl++;
    if (nl == 0 || nl >= len || t[nl] != ':')
        return word(p, t, len);
    for (size_t i = 0; i < N_FILTERS; i++) {
        if (strlen(filters[i].name) == nl && !strncasecmp(filters[i].name, t, nl)) {
            char val[256];
            if (len - nl - 1 >= sizeof(val))
                return bad(p, p->tok, len, "%s: value longer than 255 bytes", filters[i].name);
            size_t vpos = p->tok + nl + 1;
            size_t vlen = len - nl - 1;
            unquote(t + nl + 1, vlen, val, sizeof(val));
            return filter(p, &filters[i], val, vpos, vlen);
        }
    }
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < N_FILTERS; i++) {
        size_t d = sm__edit_distance(t, nl, filters[i].name, strlen(filters[i].name));
        if (d < bestd) {
            bestd = d;
            best = filters[i].name;
        }
    }
    if (best)
        return bad(p, p->tok, nl, "unknown filter '%.*s' (did you mean '%s'?)", (int)nl, t, best);
    return bad(p, p->tok, nl,
               "unknown filter '%.*s' (bpm, key, category, loop, note, lufs, peak, duration, "
               "bright, warm, hard, deep, rough, boomy, tag, missing, sort, limit)",
               (int)nl, t);
}

sm_status sm_query_parse(sm_query *q, const char *text, sm_error *err)
{
    if (!q)
        return sm_error_set(err, SM_EINVAL, "query: NULL query");
    sm_query_release(q);
    if (!text)
        return SM_OK;
    size_t n = strlen(text);
    if (!sm__utf8_valid(text, n))
        return sm_error_set(err, SM_EINVAL, "query: not valid UTF-8");
    struct parser p;
    memset(&p, 0, sizeof(p));
    p.text = text;
    p.q = q;
    p.err = err;
    size_t i = 0;
    while (i < n) {
        while (i < n && isspace((unsigned char)text[i]))
            i++;
        if (i >= n)
            break;
        size_t start = i;
        bool quoted = false;
        size_t quote_at = 0;
        while (i < n && (quoted || !isspace((unsigned char)text[i]))) {
            if (text[i] == '"') {
                quoted = !quoted;
                quote_at = i;
            }
            i++;
        }
        if (quoted) {
            sm_status rc = bad(&p, quote_at, n - quote_at, "unclosed quote");
            sm_query_release(q);
            q->err_pos = quote_at;
            q->err_len = n - quote_at;
            return rc;
        }
        p.tok = start;
        p.tok_len = i - start;
        if (token(&p) != SM_OK) {
            size_t pos = q->err_pos;
            size_t len = q->err_len;
            sm_status code = err ? err->code : SM_EINVAL;
            sm_query_release(q);
            q->err_pos = pos;
            q->err_len = len;
            return code;
        }
    }
    return SM_OK;
}
