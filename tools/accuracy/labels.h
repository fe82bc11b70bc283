/* Shared by sm-accuracy and sm-train: reading a labelled set (DIR/labels.tsv
 * from `sm-gen labelled`) and analysing its files on several threads.
 *
 * labels.tsv: a header line naming the columns (path, bpm, key, category,
 * note, in any order; others are ignored; without a header they are in that
 * order), then one file per line. Paths are
 * relative to DIR unless absolute. An empty field or "-" means "no label". */
#ifndef SM_TOOLS_LABELS_H
#define SM_TOOLS_LABELS_H

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>

struct lab_item {
    char *path;      /* full path */
    double bpm;      /* NaN: none */
    int key_tonic;   /* -1: none */
    int key_mode;
    int category;    /* -1: none */
    int note_midi;   /* -1: none */
    sm_analysis a;   /* filled by lab_analyze */
    int ok;          /* analysis succeeded */
    char err[256];
};

struct lab_set {
    struct lab_item *items;
    size_t n;
};

static inline int lab_pitch_class(const char **s)
{
    static const int base[7] = {9, 11, 0, 2, 4, 5, 7}; /* A..G */
    int c = toupper((unsigned char)**s);
    if (c < 'A' || c > 'G')
        return -1;
    int pc = base[c - 'A'];
    (*s)++;
    while (**s == '#' || **s == 'b') {
        pc += **s == '#' ? 1 : -1;
        (*s)++;
    }
    return (pc % 12 + 12) % 12;
}

/* "A minor", "Am", "A:min", "C# major", "Db maj", "F#m", "C" -> tonic and mode.
 * Returns 0, or -1 when s is not a key (also on anything after the mode). */
static inline int lab_parse_key(const char *s, int *tonic, int *mode)
{
    while (isspace((unsigned char)*s))
        s++;
    int pc = lab_pitch_class(&s);
    if (pc < 0)
        return -1;
    while (*s == ' ' || *s == ':' || *s == '_')
        s++;
    static const char *const major[] = {"", "major", "maj", "M", "Major", "Maj"};
    static const char *const minor[] = {"minor", "min", "m", "Minor", "Min"};
    *tonic = pc;
    for (size_t i = 0; i < sizeof(major) / sizeof(major[0]); i++) {
        if (!strcmp(s, major[i])) {
            *mode = SM_MODE_MAJOR;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof(minor) / sizeof(minor[0]); i++) {
        if (!strcmp(s, minor[i])) {
            *mode = SM_MODE_MINOR;
            return 0;
        }
    }
    return -1;
}

/* "A4" / "F#1" / "Bb2" / "C-1" (MIDI 69 = A4), a MIDI number "midi:69", or a
 * frequency in Hz ("55.0", "55Hz") -> MIDI note, or -1 when s is none of them. */
static inline int lab_parse_note(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end;
    if (!strncmp(s, "midi:", 5)) {
        long m = strtol(s + 5, &end, 10);
        return end > s + 5 && !*end && m >= 0 && m <= 127 ? (int)m : -1;
    }
    if (isalpha((unsigned char)*s)) {
        const char *p = s;
        int pc = lab_pitch_class(&p);
        if (pc < 0)
            return -1;
        long oct = strtol(p, &end, 10);
        if (end == p || *end || oct < -1 || oct > 9)
            return -1;
        return (int)((oct + 1) * 12 + pc);
    }
    double hz = strtod(s, &end);
    if (end == s || !(hz >= 8.0 && hz <= 13000.0) ||
        (*end && strcmp(end, "Hz") && strcmp(end, "hz")))
        return -1;
    return (int)lround(69.0 + 12.0 * log2(hz / 440.0));
}

static inline int lab_category(const char *s)
{
    if (!*s || !strcmp(s, "-"))
        return -1;
    int c = sm_category_from_name(s);
    if (c >= 0)
        return c;
    /* A few spellings a generator might use. */
    if (!strcmp(s, "hat_closed") || !strcmp(s, "closed_hat") || !strcmp(s, "hihat"))
        return SM_CAT_HIHAT_CLOSED;
    if (!strcmp(s, "hat_open") || !strcmp(s, "open_hat"))
        return SM_CAT_HIHAT_OPEN;
    if (!strcmp(s, "perc"))
        return SM_CAT_PERCUSSION;
    return -1;
}

static inline void lab_free(struct lab_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].path);
        sm_analysis_release(&set->items[i].a);
    }
    free(set->items);
    set->items = NULL;
    set->n = 0;
}

/* Split line at tabs in place into at most max fields. */
static inline size_t lab_split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t)
            break;
        *t = '\0';
        p = t + 1;
    }
    return n;
}

/* A label field: "" or "-" is no label (0); otherwise 1 with *v set. */
static inline int lab_field(char **fld, size_t nf, int col, const char **v)
{
    *v = col >= 0 && (size_t)col < nf ? fld[col] : "";
    return **v && strcmp(*v, "-") != 0;
}

static const char *const lab_columns[5] = {"path", "bpm", "key", "category", "note"};

/* Parse one line's labels into it. Returns 0, or the column (1-4, as
 * lab_columns) whose value is not understood. */
static inline int lab_parse_item(char **fld, size_t nf, const int col[5], struct lab_item *it)
{
    const char *v;
    it->bpm = NAN;
    it->key_tonic = -1;
    it->category = -1;
    it->note_midi = -1;
    if (lab_field(fld, nf, col[1], &v)) {
        char *end;
        it->bpm = strtod(v, &end);
        if (end == v || *end || !(it->bpm > 0.0) || it->bpm > 1000.0)
            return 1;
    }
    if (lab_field(fld, nf, col[2], &v) && lab_parse_key(v, &it->key_tonic, &it->key_mode))
        return 2;
    if (lab_field(fld, nf, col[3], &v) && (it->category = lab_category(v)) < 0)
        return 3;
    if (lab_field(fld, nf, col[4], &v) &&
        ((it->note_midi = lab_parse_note(v)) < 0 || it->note_midi > 127))
        return 4;
    return 0;
}

/* Read the labels TSV fn, appending to set; relative paths are taken from dir.
 * Returns 0, or -1 with a message naming the file, line and column on stderr
 * (a label that is not understood is an error, not a missing label: it would
 * quietly change what is measured). */
static inline int lab_load_tsv(const char *fn, const char *dir, struct lab_set *set)
{
    FILE *f = fopen(fn, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s: %s\n", fn, strerror(errno));
        return -1;
    }
    char line[8192];
    int col[5] = {0, 1, 2, 3, 4}; /* path, bpm, key, category, note */
    int first = 1;
    int rc = 0;
    for (size_t lineno = 1; fgets(line, sizeof(line), f); lineno++) {
        size_t len = strcspn(line, "\r\n");
        if (!line[len] && !feof(f)) {
            fprintf(stderr, "%s:%zu: line longer than %zu bytes\n", fn, lineno,
                    sizeof(line) - 2);
            rc = -1;
            break;
        }
        line[len] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *fld[32];
        size_t nf = lab_split(line, fld, 32);
        if (first) {
            /* A header names at least one column; without one, the columns
             * are path, bpm, key, category, note in that order. */
            first = 0;
            int header = 0;
            for (int c = 0; c < 5; c++) {
                for (size_t j = 0; j < nf; j++)
                    header |= !strcmp(fld[j], lab_columns[c]);
            }
            if (header) {
                for (int c = 0; c < 5; c++) {
                    col[c] = -1;
                    for (size_t j = 0; j < nf; j++) {
                        if (!strcmp(fld[j], lab_columns[c]))
                            col[c] = (int)j;
                    }
                }
                if (col[0] < 0) {
                    fprintf(stderr, "%s:%zu: the header has no \"path\" column\n", fn,
                            lineno);
                    rc = -1;
                    break;
                }
                continue;
            }
        }
        if ((size_t)col[0] >= nf || !fld[col[0]][0]) {
            fprintf(stderr, "%s:%zu: no path\n", fn, lineno);
            rc = -1;
            break;
        }
        struct lab_item *it = realloc(set->items, (set->n + 1) * sizeof(*it));
        if (!it) {
            fprintf(stderr, "%s: out of memory\n", fn);
            rc = -1;
            break;
        }
        set->items = it;
        it = &set->items[set->n];
        memset(it, 0, sizeof(*it));
        sm_analysis_init(&it->a);
        int bad = lab_parse_item(fld, nf, col, it);
        if (bad) {
            fprintf(stderr, "%s:%zu: %s \"%s\" not understood\n", fn, lineno,
                    lab_columns[bad], fld[col[bad]]);
            rc = -1;
            break;
        }
        const char *p = fld[col[0]];
        size_t plen = strlen(dir) + strlen(p) + 2;
        it->path = malloc(plen);
        if (!it->path) {
            fprintf(stderr, "%s: out of memory\n", fn);
            rc = -1;
            break;
        }
        if (p[0] == '/')
            snprintf(it->path, plen, "%s", p);
        else
            snprintf(it->path, plen, "%s/%s", dir, p);
        set->n++;
    }
    fclose(f);
    return rc;
}

/* Read DIR/labels.tsv, appending to set (lab_load_tsv). */
static inline int lab_load(const char *dir, struct lab_set *set)
{
    char fn[4096];
    snprintf(fn, sizeof(fn), "%s/labels.tsv", dir);
    return lab_load_tsv(fn, dir, set);
}

struct lab_job {
    struct lab_set *set;
    size_t next;
    pthread_mutex_t lock;
    int progress;
};

static inline void *lab_worker(void *arg)
{
    struct lab_job *job = arg;
    sm_error err = SM_ERROR_INIT;
    sm_analyzer_opts opts = {SM_ANALYZE_NO_HASH, 0};
    sm_analyzer *an = sm_analyzer_new(&opts, &err);
    if (!an)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t i = job->next++;
        pthread_mutex_unlock(&job->lock);
        if (i >= job->set->n)
            break;
        struct lab_item *it = &job->set->items[i];
        sm_error e = SM_ERROR_INIT;
        it->ok = sm_analyzer_run(an, it->path, &it->a, &e) == SM_OK;
        if (!it->ok)
            snprintf(it->err, sizeof(it->err), "%s", e.msg);
        if (job->progress && i % 200 == 199)
            fprintf(stderr, "  %zu / %zu\n", i + 1, job->set->n);
    }
    sm_analyzer_free(an);
    return NULL;
}

/* Analyze every item on nthreads threads. Returns the number that failed. */
static inline size_t lab_analyze(struct lab_set *set, int nthreads, int progress)
{
    struct lab_job job;
    job.set = set;
    job.next = 0;
    job.progress = progress;
    pthread_mutex_init(&job.lock, NULL);
    pthread_t th[16];
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > 16)
        nthreads = 16;
    int started = 0;
    for (int t = 0; t < nthreads; t++) {
        if (pthread_create(&th[t], NULL, lab_worker, &job) == 0)
            started++;
    }
    if (!started)
        lab_worker(&job);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&job.lock);
    size_t failed = 0;
    for (size_t i = 0; i < set->n; i++)
        failed += !set->items[i].ok;
    return failed;
}

#endif
