/* samplemind duplicates: groups of files with the same content (BLAKE2b hash)
 * and groups of near-duplicates (embedding distance under a threshold). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <samplemind/alloc.h>
#include <samplemind/catalog.h>
#include <samplemind/similarity.h>

#include "cli.h"

static void dup_usage(FILE *out)
{
    fputs("Usage: samplemind duplicates [--exact|--near] [--threshold T] [--json|--paths]\n"
          "\n"
          "Exact duplicates: files with the same content hash. Near duplicates: files\n"
          "whose embeddings are within T (cosine distance, default 0.02; 0 = identical\n"
          "sound) of another file of the group, when their contents differ.\n"
          "\n"
          "  --exact          only exact duplicates\n"
          "  --near           only near duplicates\n"
          "  --threshold T    near-duplicate distance, 0..2 (default 0.02)\n"
          "  --json           one JSON object per group\n"
          "  --paths          groups of bare paths separated by blank lines\n",
          out);
}

struct dctx {
    struct sm_cli *cli;
    sm_catalog *cat;
    int how; /* 0 table, 1 json, 2 paths */
    const char *kind;
    double threshold;
    size_t groups;
    size_t files;
};

static void print_group(struct dctx *c, const char *hash, const int64_t *ids, size_t n)
{
    sm_sample s;
    sm_sample_init(&s);
    sm_error err = SM_ERROR_INIT;
    json_t *files = c->how == 1 ? json_array() : NULL;
    if (c->how == 0) {
        if (hash)
            printf("%s  %zu files  %s\n", c->kind, n, hash);
        else
            printf("%s  %zu files  (distance <= %g)\n", c->kind, n, c->threshold);
    }
    for (size_t i = 0; i < n; i++) {
        if (sm_catalog_get(c->cat, ids[i], &s, &err) != SM_OK)
            continue;
        if (c->how == 0)
            printf("  %7lld  %s\n", (long long)s.id, s.path);
        else if (c->how == 2)
            puts(s.path);
        else
            json_array_append_new(files, json_pack("{s:I, s:s%}", "id", (json_int_t)s.id,
                                                   "path", s.path, strlen(s.path)));
    }
    if (c->how == 1) {
        json_t *o = json_pack("{s:s, s:o}", "kind", c->kind, "files", files);
        if (hash)
            json_object_set_new(o, "hash", json_string(hash));
        else
            json_object_set_new(o, "threshold", json_real(c->threshold));
        char *j = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (j)
            puts(j);
        free(j);
        json_decref(o);
    } else {
        putchar('\n');
    }
    sm_sample_release(&s);
    c->groups++;
    c->files += n;
}

static int on_exact(const char *hash, const int64_t *ids, size_t n, void *ud)
{
    print_group(ud, hash, ids, n);
    return 0;
}

static int on_near(const int64_t *ids, size_t n, void *ud)
{
    struct dctx *c = ud;
    /* A group whose files all have one content is an exact group, already shown. */
    sm_sample a;
    sm_sample b;
    sm_sample_init(&a);
    sm_sample_init(&b);
    sm_error err = SM_ERROR_INIT;
    bool differ = false;
    if (sm_catalog_get(c->cat, ids[0], &a, &err) == SM_OK) {
        for (size_t i = 1; i < n && !differ; i++)
            if (sm_catalog_get(c->cat, ids[i], &b, &err) == SM_OK && strcmp(a.hash, b.hash))
                differ = true;
    }
    sm_sample_release(&a);
    sm_sample_release(&b);
    if (differ)
        print_group(c, NULL, ids, n);
    return 0;
}

int sm_cmd_duplicates(struct sm_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"exact", no_argument, NULL, 'e'},       {"near", no_argument, NULL, 'n'},
        {"threshold", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"paths", no_argument, NULL, 'p'},       {"table", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    bool exact = true;
    bool near = true;
    bool paths = false;
    double threshold = 0.02;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
            case 'e':
                near = false;
                exact = true;
                break;
            case 'n':
                exact = false;
                near = true;
                break;
            case 't':
                threshold = strtod(optarg, &end);
                if (!*optarg || *end || !(threshold >= 0.0 && threshold <= 2.0)) {
                    sm_cli_error(cli, "duplicates: --threshold '%s' is not a number from 0 to 2",
                                 optarg);
                    return SM_EXIT_USAGE;
                }
                break;
            case 'j':
                cli->output = SM_OUT_JSON;
                break;
            case 'T':
                cli->output = SM_OUT_TABLE;
                break;
            case 'p':
                paths = true;
                break;
            case 'h':
                dup_usage(stdout);
                return SM_EXIT_OK;
            default:
                sm_cli_error(cli, "duplicates: unknown flag or missing value '%s'",
                             argv[optind - 1]);
                return SM_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        sm_cli_error(cli, "duplicates: unexpected argument '%s'", argv[optind]);
        return SM_EXIT_USAGE;
    }
    sm_catalog *cat = sm_cli_open_catalog(cli, false);
    if (!cat)
        return SM_EXIT_FAILED;
    struct dctx c = {cli, cat, paths ? 2 : sm_cli_want_json(cli) ? 1 : 0, "exact", threshold, 0,
                     0};
    sm_error err = SM_ERROR_INIT;
    int rc = SM_EXIT_OK;
    if (exact && sm_catalog_each_duplicate(cat, on_exact, &c, &err) != SM_OK) {
        sm_cli_error(cli, "%s", err.msg);
        rc = SM_EXIT_FAILED;
    }
    size_t exact_groups = c.groups;
    if (near && rc == SM_EXIT_OK) {
        /* The embedding length of this library's analyzer. */
        sm_vindex *vx = NULL;
        int64_t first_id = 0;
        size_t dim = 0;
        sm_sample_list one = SM_SAMPLE_LIST_INIT;
        sm_query q;
        sm_query_init(&q);
        q.limit = 1;
        q.sort = SM_SORT_ID;
        float probe[4096];
        if (sm_catalog_search(cat, &q, &one, &err) == SM_OK && one.n > 0) {
            first_id = one.v[0].id;
            if (sm_catalog_get_embedding(cat, first_id, probe, 4096, &dim, &err) != SM_OK)
                dim = 0;
        }
        sm_sample_list_release(&one);
        c.kind = "near";
        if (dim > 0) {
            vx = sm_vindex_new(dim, &err);
            if (!vx || sm_vindex_load(vx, cat, &err) != SM_OK ||
                sm_vindex_groups(vx, (float)threshold, on_near, &c, &err) != SM_OK) {
                sm_cli_error(cli, "%s", err.msg);
                rc = SM_EXIT_FAILED;
            }
        }
        sm_vindex_free(vx);
    }
    if (c.how == 0 && !cli->quiet)
        fprintf(stderr, "%zu exact and %zu near-duplicate groups\n", exact_groups,
                c.groups - exact_groups);
    sm_catalog_close(cat);
    return rc;
}
