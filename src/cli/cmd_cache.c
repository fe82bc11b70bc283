/* samplemind cache stats | clear [--provider P]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/ai.h>
#include <samplemind/alloc.h>
#include <samplemind/cache.h>

#include "cli.h"

static int usage(FILE *out)
{
    fprintf(out, "Usage: samplemind cache stats\n"
                 "       samplemind cache clear [--provider P]\n"
                 "The AI answer cache: --cache sqlite:///path/cache.db (default DATA_DIR/cache.db)\n"
                 "or --cache redis://host:6379/0.\n");
    return out == stdout ? SM_EXIT_OK : SM_EXIT_USAGE;
}

int sm_cmd_cache(struct sm_cli *cli, int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout);
    const char *provider = NULL;
    bool stats = !strcmp(argv[1], "stats");
    bool clear = !strcmp(argv[1], "clear");
    if (!stats && !clear) {
        sm_cli_error(cli, "cache: unknown sub-command '%s' (stats, clear)", argv[1]);
        return SM_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (clear && !strcmp(argv[i], "--provider") && i + 1 < argc) {
            provider = argv[++i];
        } else if (clear && !strncmp(argv[i], "--provider=", 11)) {
            provider = argv[i] + 11;
        } else {
            sm_cli_error(cli, "cache %s: unexpected '%s'", argv[1], argv[i]);
            return usage(stderr);
        }
    }
    if (provider && sm_ai_provider_from_name(provider) < 0) {
        sm_cli_error(cli, "cache clear: unknown provider '%s'", provider);
        return SM_EXIT_USAGE;
    }
    struct sm_cache *c = sm_cli_open_cache(cli);
    if (!c)
        return SM_EXIT_FAILED;
    int rc = SM_EXIT_OK;
    if (stats) {
        sm_cache_stats s;
        sm_cache_stats_get(c, &s);
        if (sm_cli_want_json(cli)) {
            char *j = sm_cache_stats_json(&s);
            if (j)
                puts(j);
            sm_free(j);
        } else {
            unsigned long long total = s.hits + s.misses;
            printf("backend   %s (%s)%s\n", s.backend, s.location, s.up ? "" : "  DOWN");
            printf("entries   %llu\n", (unsigned long long)s.entries);
            printf("hits      %llu\nmisses    %llu\nerrors    %llu\n",
                   (unsigned long long)s.hits, (unsigned long long)s.misses,
                   (unsigned long long)s.errors);
            printf("hit rate  %.1f%%\n", total ? 100.0 * (double)s.hits / (double)total : 0.0);
        }
        if (!s.up)
            rc = SM_EXIT_FAILED;
    } else {
        uint64_t removed = 0;
        sm_error err = SM_ERROR_INIT;
        if (sm_cache_clear(c, provider, &removed, &err) != SM_OK) {
            sm_cli_error(cli, "%s", err.msg);
            rc = SM_EXIT_FAILED;
        } else if (sm_cli_want_json(cli)) {
            printf("{\"removed\":%llu,\"provider\":%s%s%s}\n", (unsigned long long)removed,
                   provider ? "\"" : "", provider ? provider : "null", provider ? "\"" : "");
        } else {
            printf("removed %llu entr%s%s%s\n", (unsigned long long)removed,
                   removed == 1 ? "y" : "ies", provider ? " of " : "", provider ? provider : "");
        }
    }
    sm_cache_close(c);
    return rc;
}
