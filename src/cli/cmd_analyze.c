/* samplemind analyze FILE...: descriptors of each file, as JSON lines or a table.
 *
 * Files are analyzed on a pool of threads (one analyzer each) and printed in the
 * order given, each as soon as it and every file before it are done. */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include <samplemind/similarity.h>

#include "cli.h"

struct result {
    sm_analysis a;
    sm_error err;
    sm_status rc;
    char *json;
    bool done;
};

struct job {
    char **files;
    size_t n;
    size_t next;          /* next file to take */
    struct result *res;
    unsigned json_flags;
    bool want_json;
    sm_analyzer_opts opts;
    pthread_mutex_t lock;
    pthread_cond_t ready;
};

static void *worker(void *arg)
{
    struct job *job = arg;
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(&job->opts, &err);
    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t i = job->next++;
        pthread_mutex_unlock(&job->lock);
        if (i >= job->n)
            break;
        struct result *r = &job->res[i];
        sm_analysis_init(&r->a);
        r->err = (sm_error)SM_ERROR_INIT;
        if (an)
            r->rc = sm_analyzer_run(an, job->files[i], &r->a, &r->err);
        else
            r->rc = sm_error_set(&r->err, err.code, "%s", err.msg);
        if (job->want_json)
            r->json = r->rc == SM_OK ? sm_analysis_to_json(&r->a, job->json_flags)
                                     : sm_analysis_error_json(job->files[i], &r->err);
        pthread_mutex_lock(&job->lock);
        r->done = true;
        pthread_cond_broadcast(&job->ready);
        pthread_mutex_unlock(&job->lock);
    }
    sm_analyzer_free(an);
    return NULL;
}

/* v with `decimals` digits, or "-" when undefined. */
static void fmt_num(char *buf, size_t size, double v, int decimals)
{
    if (isfinite(v))
        snprintf(buf, size, "%.*f", decimals, v);
    else
        snprintf(buf, size, "-");
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void table_header(void)
{
    printf("%-28s %7s %7s %7s %6s %-9s %-5s %-13s %-4s\n", "FILE", "SECONDS", "LUFS", "PEAK",
           "BPM", "KEY", "NOTE", "CATEGORY", "LOOP");
}

static void table_row(const struct result *r, const char *path)
{
    if (r->rc != SM_OK) {
        printf("%-28.28s error: %s: %s\n", base_name(path), sm_status_name(r->err.code),
               r->err.msg);
        return;
    }
    const sm_analysis *a = &r->a;
    char dur[16], lufs[16], peak[16], bpm[16], key[16] = "-", note[8] = "-";
    fmt_num(dur, sizeof(dur), a->duration, 2);
    fmt_num(lufs, sizeof(lufs), isfinite(a->integrated_lufs) ? a->integrated_lufs
                                                             : a->momentary_max_lufs,
            1);
    fmt_num(peak, sizeof(peak), a->true_peak_dbtp, 1);
    fmt_num(bpm, sizeof(bpm), a->has_tempo ? a->bpm : (double)NAN, 1);
    if (a->has_key) {
        char name[16];
        char cam[8];
        snprintf(key, sizeof(key), "%s %s",
                 sm_key_camelot(a->key_tonic, a->key_mode, cam, sizeof(cam)),
                 sm_key_name(a->key_tonic, a->key_mode, name, sizeof(name)));
        /* Short form: "8A Am". */
        char *sp = strchr(key, ' ');
        if (sp && sp[1]) {
            char *mode = strchr(sp + 1, ' ');
            if (mode) {
                bool minor = !strcmp(mode + 1, "minor");
                mode[0] = minor ? 'm' : '\0';
                mode[1] = '\0';
            }
        }
    }
    if (a->has_note)
        sm_note_name(a->note_midi, note, sizeof(note));
    printf("%-28.28s %7s %7s %7s %6s %-9s %-5s %-13s %-4s\n", base_name(path), dur, lufs, peak,
           bpm, key, note, sm_category_name(a->category), a->loop ? "yes" : "no");
}

static void analyze_usage(FILE *out)
{
    fprintf(out,
            "Usage: samplemind analyze [FLAGS] FILE...\n"
            "\n"
            "Analyze audio files (WAV, AIFF, FLAC, OGG/Vorbis, Opus, MP3) and print loudness,\n"
            "peaks, tempo, key, note, loop, category, timbre and spectral descriptors.\n"
            "\n"
            "  --json            one JSON object per line (default when stdout is not a terminal)\n"
            "  --pretty          a table (default on a terminal)\n"
            "  --embedding       include the similarity embedding in JSON\n"
            "  --waveform        include waveform peaks and the RMS envelope in JSON\n"
            "  --points N        waveform min/max pairs (default %d)\n"
            "  --jobs N          threads (default: one per core)\n"
            "  --no-hash         skip the BLAKE2b content hash\n"
            "\n"
            "A file that fails prints {\"path\":...,\"error\":{\"code\":...,\"message\":...}}\n"
            "and the exit status is 1; the other files are still analyzed.\n",
            SM_WAVEFORM_DEFAULT_POINTS);
}

static int parse_count(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int sm_cmd_analyze(struct sm_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},       {"pretty", no_argument, NULL, 'p'},
        {"embedding", no_argument, NULL, 'e'},  {"waveform", no_argument, NULL, 'w'},
        {"points", required_argument, NULL, 'n'}, {"jobs", required_argument, NULL, 'J'},
        {"no-hash", no_argument, NULL, 'H'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct job job;
    memset(&job, 0, sizeof(job));
    long jobs = sm_cli_cores();
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        long v;
        switch (opt) {
            case 'j':
                cli->output = SM_OUT_JSON;
                break;
            case 'p':
                cli->output = SM_OUT_TABLE;
                break;
            case 'e':
                job.json_flags |= SM_JSON_EMBEDDING;
                break;
            case 'w':
                job.json_flags |= SM_JSON_WAVEFORM;
                break;
            case 'n':
                if (parse_count(optarg, 1, 1 << 20, &v)) {
                    sm_cli_error(cli, "--points: '%s' is not a number from 1 to %d", optarg,
                                 1 << 20);
                    return SM_EXIT_USAGE;
                }
                job.opts.waveform_points = (size_t)v;
                break;
            case 'J':
                if (parse_count(optarg, 1, 256, &v)) {
                    sm_cli_error(cli, "--jobs: '%s' is not a number from 1 to 256", optarg);
                    return SM_EXIT_USAGE;
                }
                jobs = v;
                break;
            case 'H':
                job.opts.flags |= SM_ANALYZE_NO_HASH;
                break;
            case 'h':
                analyze_usage(stdout);
                return SM_EXIT_OK;
            default:
                sm_cli_error(cli, "analyze: unknown flag '%s' (see 'samplemind analyze --help')",
                             argv[optind - 1]);
                return SM_EXIT_USAGE;
        }
    }
    job.files = argv + optind;
    job.n = (size_t)(argc - optind);
    if (job.n > 0 && !strcmp(job.files[0], "--")) {
        job.files++;
        job.n--;
    }
    if (job.n == 0) {
        sm_cli_error(cli, "analyze: no files given");
        analyze_usage(stderr);
        return SM_EXIT_USAGE;
    }
    job.want_json = sm_cli_want_json(cli);
    job.res = calloc(job.n, sizeof(*job.res));
    if (!job.res) {
        sm_cli_error(cli, "out of memory");
        return SM_EXIT_FAILED;
    }
    pthread_mutex_init(&job.lock, NULL);
    pthread_cond_init(&job.ready, NULL);
    if ((size_t)jobs > job.n)
        jobs = (long)job.n;
    pthread_t threads[256];
    long started = 0;
    for (long t = 0; t < jobs; t++) {
        if (pthread_create(&threads[t], NULL, worker, &job) != 0)
            break;
        started++;
    }
    if (started == 0)
        worker(&job);

    if (!job.want_json)
        table_header();
    size_t failed = 0;
    for (size_t i = 0; i < job.n; i++) {
        pthread_mutex_lock(&job.lock);
        while (!job.res[i].done)
            pthread_cond_wait(&job.ready, &job.lock);
        pthread_mutex_unlock(&job.lock);
        struct result *r = &job.res[i];
        if (r->rc != SM_OK)
            failed++;
        if (job.want_json) {
            if (r->json)
                puts(r->json);
            else
                printf("{\"path\":null,\"error\":{\"code\":\"out_of_memory\",\"message\":\"JSON\"}}\n");
        } else {
            table_row(r, job.files[i]);
        }
        fflush(stdout);
        sm_free(r->json);
        sm_analysis_release(&r->a);
    }
    for (long t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    if (failed && !cli->quiet && !job.want_json)
        fprintf(stderr, "samplemind: %zu of %zu files failed\n", failed, job.n);
    pthread_mutex_destroy(&job.lock);
    pthread_cond_destroy(&job.ready);
    free(job.res);
    return failed ? SM_EXIT_FAILED : SM_EXIT_OK;
}

/* samplemind similar-files A B: the embedding distance between two files. */
int sm_cmd_similar_files(struct sm_cli *cli, int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("Usage: samplemind similar-files FILE_A FILE_B\n"
               "\n"
               "Analyze both files and print the cosine distance between their\n"
               "similarity embeddings: 0 for the same sound, about 1 for unrelated ones, 2 at\n"
               "most. With --json (or when stdout is not a terminal) one JSON object.\n");
        return SM_EXIT_OK;
    }
    if (argc != 3) {
        sm_cli_error(cli, "similar-files: give exactly two files (see 'samplemind similar-files "
                          "--help')");
        return SM_EXIT_USAGE;
    }
    sm_error err = SM_ERROR_INIT;
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    if (!an) {
        sm_cli_error(cli, "%s", err.msg);
        return SM_EXIT_FAILED;
    }
    sm_analysis a[2];
    int rc = SM_EXIT_OK;
    for (int i = 0; i < 2; i++)
        sm_analysis_init(&a[i]);
    for (int i = 0; i < 2 && rc == SM_EXIT_OK; i++) {
        if (sm_analyzer_run(an, argv[1 + i], &a[i], &err) != SM_OK) {
            sm_cli_error(cli, "%s: %s: %s", argv[1 + i], sm_status_name(err.code), err.msg);
            rc = SM_EXIT_FAILED;
        }
    }
    if (rc == SM_EXIT_OK) {
        float d = sm_embedding_distance(a[0].embedding, a[1].embedding, a[0].embedding_dim);
        if (sm_cli_want_json(cli)) {
            printf("{\"distance\":%.6f,\"embedding_version\":%d}\n", (double)d,
                   a[0].embedding_version);
        } else {
            printf("%.6f\n", (double)d);
        }
    }
    for (int i = 0; i < 2; i++)
        sm_analysis_release(&a[i]);
    sm_analyzer_free(an);
    return rc;
}
