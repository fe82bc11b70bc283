/* samplemind similar FILE|ID [-k N] [QUERY...]: nearest sounds by embedding, from
 * the in-memory vector index, optionally filtered by a query ("similar kicks"). */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <samplemind/alloc.h>
#include <samplemind/analysis.h>
#include <samplemind/catalog.h>

#include "cli.h"

#define MAX_DIM 4096

static void similar_usage(FILE *out)
{
    fputs("Usage: samplemind similar [-k N] [--json|--paths|--table] FILE|ID [QUERY...]\n"
          "\n"
          "The N sounds (default 10) in the catalog nearest to FILE or to catalog ID by\n"
          "their embedding (cosine distance, 0 = same). A file that is not in the catalog\n"
          "is analyzed on the fly. QUERY filters the candidates with the search language,\n"
          "e.g. 'samplemind similar kick.wav category:kick bpm:..130'.\n"
          "\n"
          "  -k N        how many (1..1000)\n"
          "  --json      JSON lines with a \"distance\" field\n"
          "  --paths     bare paths\n"
          "  --repeat N  time the index search N times (p50/p95 on stderr)\n",
          out);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The query vector: a catalog row's embedding (by id, or by path when the file is
 * unchanged since it was scanned), else a fresh analysis of the file. */
static int target_vector(struct sm_cli *cli, sm_catalog *cat, const char *arg, float *v,
                         size_t *dim, int64_t *self_id)
{
    sm_error err = SM_ERROR_INIT;
    sm_sample s;
    sm_sample_init(&s);
    *self_id = 0;
    struct stat sb;
    bool is_file = stat(arg, &sb) == 0 && S_ISREG(sb.st_mode);
    bool stored = false;
    if (all_digits(arg) && !is_file) {
        if (sm_catalog_get(cat, strtoll(arg, NULL, 10), &s, &err) != SM_OK) {
            sm_cli_error(cli, "%s", err.msg);
            return -1;
        }
        stored = true;
    } else if (is_file) {
        char real[PATH_MAX];
        if (realpath(arg, real) && sm_catalog_get_by_path(cat, real, &s, &err) == SM_OK) {
            int64_t mtime = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
            stored = s.size == (int64_t)sb.st_size && s.mtime_ns == mtime;
            *self_id = s.id;
        }
    } else {
        sm_cli_error(cli, "similar: %s: no such file or catalog id", arg);
        return -1;
    }
    if (stored) {
        *self_id = s.id;
        sm_status st = sm_catalog_get_embedding(cat, s.id, v, MAX_DIM, dim, &err);
        sm_sample_release(&s);
        if (st == SM_OK)
            return 0;
        if (!is_file) {
            sm_cli_error(cli, "%s", err.msg);
            return -1;
        }
    }
    sm_sample_release(&s);
    sm_analyzer *an = sm_analyzer_new(NULL, &err);
    sm_analysis a;
    sm_analysis_init(&a);
    int rc = -1;
    if (!an) {
        sm_cli_error(cli, "%s", err.msg);
    } else if (sm_analyzer_run(an, arg, &a, &err) != SM_OK) {
        sm_cli_error(cli, "similar: %s: %s", arg, err.msg);
    } else if (!a.embedding || a.embedding_dim == 0 || a.embedding_dim > MAX_DIM) {
        sm_cli_error(cli, "similar: %s: no embedding could be computed", arg);
    } else {
        memcpy(v, a.embedding, a.embedding_dim * sizeof(float));
        *dim = a.embedding_dim;
        rc = 0;
    }
    sm_analysis_release(&a);
    sm_analyzer_free(an);
    return rc;
}

int sm_cmd_similar(struct sm_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},         {"paths", no_argument, NULL, 'p'},
        {"table", no_argument, NULL, 't'},        {"repeat", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    long k = 10;
    long repeat = 0;
    bool paths = false;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "hk:", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
            case 'j':
                cli->output = SM_OUT_JSON;
                break;
            case 't':
                cli->output = SM_OUT_TABLE;
                break;
            case 'p':
                paths = true;
                break;
            case 'k':
            case 'r': {
                long v = strtol(optarg, &end, 10);
                long hi = opt == 'k' ? 1000 : 1000000;
                if (!*optarg || *end || v < 1 || v > hi) {
                    sm_cli_error(cli, "similar: -%s '%s' is not a number from 1 to %ld",
                                 opt == 'k' ? "k" : "-repeat", optarg, hi);
                    return SM_EXIT_USAGE;
                }
                if (opt == 'k')
                    k = v;
                else
                    repeat = v;
                break;
            }
            case 'h':
                similar_usage(stdout);
                return SM_EXIT_OK;
            default:
                sm_cli_error(cli, "similar: unknown flag or missing value '%s' (see 'samplemind "
                                  "similar --help')",
                             argv[optind - 1]);
                return SM_EXIT_USAGE;
        }
    }
    int first = optind;
    if (first < argc && !strcmp(argv[first], "--"))
        first++;
    if (first >= argc) {
        sm_cli_error(cli, "similar: give a file or a catalog id");
        similar_usage(stderr);
        return SM_EXIT_USAGE;
    }
    const char *target = argv[first];
    char *text = sm_cli_join(argc - first - 1, argv + first + 1);
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    if (!text || sm_query_parse(&q, text, &err) != SM_OK) {
        if (text)
            sm_cli_query_error(cli, text, &q, &err);
        free(text);
        return SM_EXIT_USAGE;
    }
    if (q.limit > 0 && q.limit < (size_t)k)
        k = (long)q.limit;
    sm_catalog *cat = sm_cli_open_catalog(cli, false);
    float *v = malloc(MAX_DIM * sizeof(float));
    int rc = SM_EXIT_FAILED;
    int64_t self = 0;
    size_t dim = 0;
    sm_vindex *vx = NULL;
    int64_t *allow = NULL;
    size_t n_allow = 0;
    int64_t *ids = calloc((size_t)k, sizeof(int64_t));
    float *dist = calloc((size_t)k, sizeof(float));
    sm_sample_list rows = SM_SAMPLE_LIST_INIT;
    if (!cat || !v || !ids || !dist)
        goto out;
    if (target_vector(cli, cat, target, v, &dim, &self) != 0)
        goto out;
    vx = sm_vindex_new(dim, &err);
    if (!vx || sm_vindex_load(vx, cat, &err) != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        goto out;
    }
    bool filtered = sm_query_has_filters(&q) || q.n_words > 0;
    if (filtered && sm_catalog_search_ids(cat, &q, &allow, &n_allow, &err) != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        goto out;
    }
    size_t n = 0;
    if (repeat > 0) {
        /* What a server does per request: with filters, the allowed ids from the
         * in-memory filter index, then the vector search; both are timed. */
        sm_findex *fx = filtered ? sm_findex_load(cat, &err) : NULL;
        if (filtered && !fx) {
            sm_cli_error(cli, "%s", err.msg);
            goto out;
        }
        double *ms = calloc((size_t)repeat, sizeof(double));
        double *cpu = calloc((size_t)repeat, sizeof(double));
        for (long i = 0; ms && cpu && i < repeat; i++) {
            struct timespec c0;
            struct timespec c1;
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
            double t0 = now_ms();
            if (fx) {
                sm_free(allow);
                allow = NULL;
                if (sm_findex_search_ids(fx, cat, &q, &allow, &n_allow, &err) != SM_OK) {
                    sm_cli_error(cli, "%s", err.msg);
                    sm_findex_free(fx);
                    free(ms);
                    free(cpu);
                    goto out;
                }
            }
            n = sm_vindex_search(vx, v, (size_t)k, self, filtered ? allow : NULL, n_allow, ids,
                                 dist);
            ms[i] = now_ms() - t0;
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
            cpu[i] = (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-6;
        }
        sm_findex_free(fx);
        if (ms && cpu) {
            qsort(ms, (size_t)repeat, sizeof(double), cmp_double);
            qsort(cpu, (size_t)repeat, sizeof(double), cmp_double);
            fprintf(stderr,
                    "similar: %ld runs over %zu vectors (%zu dims)%s, p50 %.3f ms, p95 %.3f ms, "
                    "max %.3f ms; CPU p50 %.3f ms\n",
                    repeat, sm_vindex_size(vx), dim,
                    filtered ? " filtered (filter index + vectors timed)" : "", ms[repeat / 2],
                    ms[(size_t)((double)repeat * 0.95)], ms[repeat - 1], cpu[repeat / 2]);
        }
        free(ms);
        free(cpu);
    } else {
        n = sm_vindex_search(vx, v, (size_t)k, self, filtered ? allow : NULL, n_allow, ids, dist);
    }
    for (size_t i = 0; i < n; i++) {
        sm_sample s;
        sm_sample_init(&s);
        if (sm_catalog_get(cat, ids[i], &s, &err) != SM_OK)
            continue;
        s.score = (double)dist[i];
        /* Move the row into the list. */
        sm_sample_list tmp = rows;
        if (tmp.n == tmp.cap) {
            size_t cap = tmp.cap ? tmp.cap * 2 : 16;
            sm_sample *nv = sm_realloc(tmp.v, cap * sizeof(sm_sample));
            if (!nv) {
                sm_sample_release(&s);
                break;
            }
            tmp.v = nv;
            tmp.cap = cap;
        }
        tmp.v[tmp.n++] = s;
        rows = tmp;
    }
    enum sm_cli_rows how = paths ? SM_ROWS_PATHS
                           : sm_cli_want_json(cli) ? SM_ROWS_JSON
                                                   : SM_ROWS_TABLE;
    sm_cli_print_rows(&rows, how, "distance");
    rc = SM_EXIT_OK;
out:
    sm_sample_list_release(&rows);
    sm_vindex_free(vx);
    sm_free(allow);
    free(ids);
    free(dist);
    free(v);
    sm_catalog_close(cat);
    sm_query_release(&q);
    free(text);
    return rc;
}
