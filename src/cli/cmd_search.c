/* samplemind search QUERY: the catalog's rows matching words and filters, as a
 * table, JSON lines or bare paths. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <samplemind/catalog.h>

#include "cli.h"

static void search_usage(FILE *out)
{
    fputs("Usage: samplemind search [--json|--paths|--table] [--limit N] QUERY...\n"
          "\n"
          "Words match path words, tags and descriptions (prefixes: 'kic' finds kick);\n"
          "\"quoted words\" match as a phrase. Filters (all must hold):\n"
          "  bpm:120..130  bpm:>100  bpm:<=90  bpm:128   (a bare number: +-0.5)\n"
          "  key:Am  key:8A  key:Am,Em  key:compatible:Am (same, relative, +-1 on the wheel)\n"
          "  category:kick,snare  loop:yes|no  note:F#1  note:C1..C2  tag:dark\n"
          "  lufs:-14..-8  peak:<-1  duration:..2\n"
          "  bright: warm: hard: deep: rough: boomy: (timbre 0..100, e.g. bright:>70)\n"
          "  missing:yes|no|any  sort:bpm|-bpm|duration|name|path|key|lufs|...  limit:N\n"
          "\n"
          "  --json     one JSON object per line (default when stdout is not a terminal)\n"
          "  --paths    bare paths, one per line (for xargs and other tools)\n"
          "  --table    a table (default on a terminal)\n"
          "  --limit N  at most N rows (default: 100 on a table, all otherwise)\n"
          "  --index    load the in-memory filter index first and search with it (what\n"
          "             a long-running server does; same rows, same order)\n"
          "  --repeat N run the query N times and print p50/p95 latency on stderr\n"
          "\n"
          "Exit status: 0 (also with no match), 1 catalog error, 2 bad query.\n",
          out);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int sm_cmd_search(struct sm_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},         {"paths", no_argument, NULL, 'p'},
        {"table", no_argument, NULL, 't'},        {"limit", required_argument, NULL, 'l'},
        {"repeat", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
        {"index", no_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    bool paths = false;
    bool use_index = false;
    long limit = 0;
    long repeat = 0;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
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
            case 'x':
                use_index = true;
                break;
            case 'l':
            case 'r': {
                long v = strtol(optarg, &end, 10);
                if (!*optarg || *end || v < 1 || v > 1000000) {
                    sm_cli_error(cli, "search: --%s '%s' is not a number from 1 to 1000000",
                                 opt == 'l' ? "limit" : "repeat", optarg);
                    return SM_EXIT_USAGE;
                }
                if (opt == 'l')
                    limit = v;
                else
                    repeat = v;
                break;
            }
            case 'h':
                search_usage(stdout);
                return SM_EXIT_OK;
            default:
                sm_cli_error(cli, "search: unknown flag or missing value '%s' (see 'samplemind "
                                  "search --help')",
                             argv[optind - 1]);
                return SM_EXIT_USAGE;
        }
    }
    int first = optind;
    if (first < argc && !strcmp(argv[first], "--"))
        first++;
    char *text = sm_cli_join(argc - first, argv + first);
    if (!text) {
        sm_cli_error(cli, "out of memory");
        return SM_EXIT_FAILED;
    }
    sm_query q;
    sm_query_init(&q);
    sm_error err = SM_ERROR_INIT;
    if (sm_query_parse(&q, text, &err) != SM_OK) {
        sm_cli_query_error(cli, text, &q, &err);
        free(text);
        return SM_EXIT_USAGE;
    }
    enum sm_cli_rows how = paths ? SM_ROWS_PATHS
                           : sm_cli_want_json(cli) ? SM_ROWS_JSON
                                                   : SM_ROWS_TABLE;
    if (limit > 0)
        q.limit = (size_t)limit;
    else if (q.limit == 0 && how == SM_ROWS_TABLE)
        q.limit = 100;
    sm_catalog *cat = sm_cli_open_catalog(cli, false);
    if (!cat) {
        sm_query_release(&q);
        free(text);
        return SM_EXIT_FAILED;
    }
    int rc = SM_EXIT_OK;
    sm_sample_list rows = SM_SAMPLE_LIST_INIT;
    sm_findex *fx = NULL;
    if (use_index) {
        double t0 = now_ms();
        fx = sm_findex_load(cat, &err);
        if (!fx)
            rc = SM_EXIT_FAILED;
        else if (repeat > 0)
            fprintf(stderr, "search: filter index of %zu rows loaded in %.1f ms\n",
                    sm_findex_size(fx), now_ms() - t0);
    }
    if (rc != SM_EXIT_OK) {
        /* The index could not be loaded: err says why. */
    } else if (repeat > 0) {
        double *ms = calloc((size_t)repeat, sizeof(double));
        double *cpu = calloc((size_t)repeat, sizeof(double));
        for (long i = 0; ms && cpu && i < repeat && rc == SM_EXIT_OK; i++) {
            sm_sample_list_release(&rows);
            double c0 = cpu_ms();
            double t0 = now_ms();
            sm_status st = fx ? sm_findex_search(fx, cat, &q, &rows, &err)
                              : sm_catalog_search(cat, &q, &rows, &err);
            if (st != SM_OK)
                rc = SM_EXIT_FAILED;
            ms[i] = now_ms() - t0;
            cpu[i] = cpu_ms() - c0;
        }
        if (ms && cpu && rc == SM_EXIT_OK) {
            qsort(ms, (size_t)repeat, sizeof(double), cmp_double);
            qsort(cpu, (size_t)repeat, sizeof(double), cmp_double);
            fprintf(stderr, "search%s: %ld runs, %zu rows, p50 %.3f ms, p95 %.3f ms, max %.3f ms; "
                    "CPU p50 %.3f ms\n",
                    fx ? " (index)" : "", repeat, rows.n, ms[repeat / 2], ms[(size_t)((double)repeat * 0.95)],
                    ms[repeat - 1], cpu[repeat / 2]);
        }
        free(ms);
        free(cpu);
    } else if ((fx ? sm_findex_search(fx, cat, &q, &rows, &err)
                   : sm_catalog_search(cat, &q, &rows, &err)) != SM_OK) {
        rc = SM_EXIT_FAILED;
    }
    if (rc != SM_EXIT_OK)
        sm_cli_error(cli, "%s", err.msg);
    else
        sm_cli_print_rows(&rows, how, how == SM_ROWS_JSON && q.n_words ? "rank" : NULL);
    if (rc == SM_EXIT_OK && how == SM_ROWS_TABLE && !cli->quiet)
        fprintf(stderr, "%zu match%s%s\n", rows.n, rows.n == 1 ? "" : "es",
                q.limit && rows.n == q.limit ? " (limit reached; use limit:N)" : "");
    sm_sample_list_release(&rows);
    sm_findex_free(fx);
    sm_catalog_close(cat);
    sm_query_release(&q);
    free(text);
    return rc;
}
