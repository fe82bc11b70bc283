/* sm-accuracy: how well the analysis recovers the labels of a labelled set.
 *
 *     sm-accuracy [--threads N] [--dump FILE] [--labels TSV] DIR...
 *
 * DIR/labels.tsv (from `sm-gen labelled DIR --seed S`, or written by hand for
 * one's own library; --labels names another file) gives each file's true bpm,
 * key, category and note (tools/accuracy/labels.h: the accepted spellings; a
 * label that is not understood stops the tool with the line that has it).
 * Several DIRs are scored as one set (e.g. several generated seeds; --labels
 * then applies to each).  Every file is analysed with sm_analyzer_run on
 * N threads (default 2), then the tool prints:
 *   tempo     Accuracy1 (within 4 %) and Accuracy2 (also x2, x1/2, x3, x1/3)
 *   key       exact match and the MIREX weighted score (exact 1, the fifth
 *             above in the same mode 0.5, relative 0.3, parallel 0.2, as
 *             mir_eval.key.weighted_score)
 *   note      exact MIDI match
 *   category  accuracy from the audio alone (the path hidden) and as the
 *             analyzer reports it (path words allowed), with the confusion
 *             matrix of the audio-only decision
 * with the number of labelled files behind each measure. A file without an
 * estimate counts as wrong. --dump writes one line per file (TSV) with the
 * labels and the estimates. Exit status: 0, 1 when DIR cannot be read, 2 on
 * bad usage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/analysis.h>

#include "analysis/classify.h"
#include "labels.h"

static int tempo_ok(double est, double ref, int allow_multiples)
{
    if (!(est > 0.0) || !(ref > 0.0))
        return 0;
    static const double mult[5] = {1.0, 2.0, 0.5, 3.0, 1.0 / 3.0};
    int n = allow_multiples ? 5 : 1;
    for (int i = 0; i < n; i++) {
        double r = ref * mult[i];
        if (fabs(est - r) <= 0.04 * r)
            return 1;
    }
    return 0;
}

/* MIREX key score of an estimate against the reference. */
static double key_score(int et, int em, int rt, int rm)
{
    if (et == rt && em == rm)
        return 1.0;
    if (em == rm && et == (rt + 7) % 12)
        return 0.5;
    if (rm == SM_MODE_MAJOR && em == SM_MODE_MINOR && et == (rt + 9) % 12)
        return 0.3;
    if (rm == SM_MODE_MINOR && em == SM_MODE_MAJOR && et == (rt + 3) % 12)
        return 0.3;
    if (et == rt && em != rm)
        return 0.2;
    return 0.0;
}

static double pct(double num, size_t den)
{
    return den ? 100.0 * num / (double)den : (double)NAN;
}

static void usage(void)
{
    fprintf(stderr, "usage: sm-accuracy [--threads N] [--dump FILE] [--labels TSV] DIR...\n");
}

int main(int argc, char **argv)
{
    int threads = 2;
    const char *dirs[256];
    int ndirs = 0;
    const char *dump = NULL;
    const char *labels = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--dump") && i + 1 < argc) {
            dump = argv[++i];
        } else if (!strcmp(argv[i], "--labels") && i + 1 < argc) {
            labels = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' || ndirs == 256) {
            usage();
            return 2;
        } else {
            dirs[ndirs++] = argv[i];
        }
    }
    if (ndirs == 0 || threads < 1) {
        usage();
        return 2;
    }

    struct lab_set set = {NULL, 0};
    for (int d = 0; d < ndirs; d++) {
        if (labels ? lab_load_tsv(labels, dirs[d], &set) : lab_load(dirs[d], &set)) {
            lab_free(&set);
            return 1;
        }
    }
    if (set.n == 0) {
        fprintf(stderr, "sm-accuracy: %s: no labelled files\n", labels ? labels : dirs[0]);
        return 1;
    }
    size_t failed = lab_analyze(&set, threads, 0);
    for (size_t i = 0; i < set.n; i++) {
        if (!set.items[i].ok)
            fprintf(stderr, "sm-accuracy: %s: %s\n", set.items[i].path, set.items[i].err);
    }

    size_t n_tempo = 0;
    size_t n_acc1 = 0;
    size_t n_acc2 = 0;
    size_t n_key = 0;
    size_t n_key_exact = 0;
    double key_mirex = 0.0;
    size_t n_note = 0;
    size_t n_note_ok = 0;
    size_t n_cat = 0;
    size_t n_cat_audio = 0;
    size_t n_cat_path = 0;
    size_t conf[SM_CAT_COUNT][SM_CAT_COUNT];
    memset(conf, 0, sizeof(conf));

    FILE *df = NULL;
    if (dump) {
        df = fopen(dump, "w");
        if (!df) {
            fprintf(stderr, "cannot write %s\n", dump);
            lab_free(&set);
            return 1;
        }
        fprintf(df, "path\tref_bpm\tbpm\tref_key\tkey\tref_note\tnote\tref_category"
                    "\tcategory_audio\tcategory\tconfidence\tevidence\terror\n");
    }

    for (size_t i = 0; i < set.n; i++) {
        struct lab_item *it = &set.items[i];
        sm_analysis *a = &it->a;
        int cat_audio = -1;
        if (it->ok) {
            /* The audio-only decision: the same analysis with the path hidden. */
            sm_analysis tmp = *a;
            tmp.path = NULL;
            sm__category_analyze(&tmp);
            cat_audio = tmp.category;
        }
        if (!isnan(it->bpm)) {
            n_tempo++;
            double est = it->ok && a->has_tempo ? a->bpm : (double)NAN;
            n_acc1 += (size_t)tempo_ok(est, it->bpm, 0);
            n_acc2 += (size_t)tempo_ok(est, it->bpm, 1);
        }
        if (it->key_tonic >= 0) {
            n_key++;
            if (it->ok && a->has_key) {
                double s = key_score(a->key_tonic, a->key_mode, it->key_tonic, it->key_mode);
                key_mirex += s;
                n_key_exact += s > 0.99;
            }
        }
        if (it->note_midi >= 0) {
            n_note++;
            n_note_ok += it->ok && a->has_note && a->note_midi == it->note_midi;
        }
        if (it->category >= 0) {
            n_cat++;
            if (it->ok) {
                n_cat_audio += cat_audio == it->category;
                n_cat_path += a->category == it->category;
                conf[it->category][cat_audio]++;
            }
        }
        if (df) {
            char rk[16] = "-";
            char ek[16] = "-";
            if (it->key_tonic >= 0)
                sm_key_name(it->key_tonic, it->key_mode, rk, sizeof(rk));
            if (it->ok && a->has_key)
                sm_key_name(a->key_tonic, a->key_mode, ek, sizeof(ek));
            fprintf(df, "%s\t%.2f\t%.2f\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%.2f\t%s\t%s\n",
                    it->path, it->bpm, it->ok && a->has_tempo ? a->bpm : (double)NAN, rk, ek,
                    it->note_midi, it->ok && a->has_note ? a->note_midi : -1,
                    it->category >= 0 ? sm_category_name(it->category) : "-",
                    cat_audio >= 0 ? sm_category_name(cat_audio) : "-",
                    it->ok ? sm_category_name(a->category) : "-",
                    it->ok ? a->category_confidence : (double)NAN,
                    it->ok ? a->category_evidence : "-", it->ok ? "" : it->err);
        }
    }
    if (df)
        fclose(df);

    if (ndirs == 1)
        printf("sm-accuracy: %s: ", dirs[0]);
    else
        printf("sm-accuracy: %d folders: ", ndirs);
    printf("%zu files, %zu failed to analyze\n", set.n, failed);
    printf("tempo     files %4zu  Accuracy1 %5.1f %%  Accuracy2 %5.1f %%\n", n_tempo,
           pct((double)n_acc1, n_tempo), pct((double)n_acc2, n_tempo));
    printf("key       files %4zu  exact     %5.1f %%  MIREX     %5.1f %%\n", n_key,
           pct((double)n_key_exact, n_key), pct(key_mirex, n_key));
    printf("note      files %4zu  exact     %5.1f %%\n", n_note,
           pct((double)n_note_ok, n_note));
    printf("category  files %4zu  audio     %5.1f %%  with path %5.1f %%\n", n_cat,
           pct((double)n_cat_audio, n_cat), pct((double)n_cat_path, n_cat));

    /* Confusion matrix of the audio-only category: rows truth, columns
     * estimate, only the classes that occur. */
    int used[SM_CAT_COUNT];
    for (int c = 0; c < SM_CAT_COUNT; c++) {
        used[c] = 0;
        for (int d = 0; d < SM_CAT_COUNT; d++)
            used[c] |= conf[c][d] || conf[d][c];
    }
    if (n_cat) {
        printf("\ncategory confusion (audio only; rows = truth, columns = estimate)\n");
        printf("%-13s", "");
        for (int d = 0; d < SM_CAT_COUNT; d++) {
            if (used[d])
                printf(" %5.5s", sm_category_name(d));
        }
        printf("   recall\n");
        for (int c = 0; c < SM_CAT_COUNT; c++) {
            if (!used[c])
                continue;
            size_t row = 0;
            printf("%-13s", sm_category_name(c));
            for (int d = 0; d < SM_CAT_COUNT; d++) {
                row += conf[c][d];
                if (used[d])
                    printf(" %5zu", conf[c][d]);
            }
            printf("   %5.1f %%\n", pct((double)conf[c][c], row));
        }
    }
    lab_free(&set);
    return 0;
}
