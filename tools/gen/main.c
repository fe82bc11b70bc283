/* sm-gen: the SampleMind test-audio generator. See docs/generator.md. */
#include "gen.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"demo", sm__gen_cmd_demo},     {"labelled", sm__gen_cmd_labelled},
    {"library", sm__gen_cmd_library}, {"long", sm__gen_cmd_long},
    {"tone", sm__gen_cmd_tone},     {"clicks", sm__gen_cmd_clicks},
};

int main(int argc, char **argv)
{
    size_t k;
    sm__gen_flush_denormals();
    if (argc < 2) {
        sm__gen_usage(stderr);
        return GEN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        sm__gen_usage(stdout);
        return GEN_EXIT_OK;
    }
    for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (strcmp(argv[1], commands[k].name) == 0) {
            return commands[k].run(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "sm-gen: unknown command '%s'\n", argv[1]);
    sm__gen_usage(stderr);
    return GEN_EXIT_USAGE;
}
