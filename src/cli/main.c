/* samplemind: entry point, global flags and command dispatch. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <samplemind/log.h>
#include <samplemind/version.h>

#include "cli.h"
#include "util/text.h"

static int cmd_version(struct sm_cli *cli, int argc, char **argv);
static int cmd_help(struct sm_cli *cli, int argc, char **argv);

static const struct sm_cli_command commands[] = {
    {"analyze", sm_cmd_analyze, "analyze audio files and print their descriptors"},
    {"similar-files", sm_cmd_similar_files, "embedding distance between two audio files"},
    {"serve", sm_cmd_serve, "serve the HTTP API (--host, --port)"},
    {"user", sm_cmd_user, "manage API users: add, del, list, passwd"},
    {"apikey", sm_cmd_apikey, "manage API keys: create, revoke, list"},
    {"scan", sm_cmd_scan, "scan folders into the catalog (incremental)"},
    {"search", sm_cmd_search, "search the catalog: words and filters (bpm:120..130 key:Am)"},
    {"similar", sm_cmd_similar, "sounds most like a file or catalog id"},
    {"duplicates", sm_cmd_duplicates, "exact and near-duplicate files in the catalog"},
    {"show", sm_cmd_show, "everything the catalog knows about a sample"},
    {"tag", sm_cmd_tag, "add (+tag) or remove (-tag) tags of a sample"},
    {"stats", sm_cmd_stats, "catalog statistics: categories, keys, tempos, duration"},
    {"export", sm_cmd_export, "export the catalog as CSV or JSON"},
    {"errors", sm_cmd_errors, "files that failed to analyze in scans"},
    {"ai", sm_cmd_ai, "ask AI models about a sample (ai ask), fill the answer cache (ai warm)"},
    {"models", sm_cmd_models, "AI providers, their models, health and circuit state"},
    {"cache", sm_cmd_cache, "AI answer cache: stats, clear [--provider P]"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "show this help, or a command's help"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

bool sm_cli_want_json(const struct sm_cli *cli)
{
    if (cli->output == SM_OUT_JSON)
        return true;
    if (cli->output == SM_OUT_TABLE)
        return false;
    return !cli->stdout_tty;
}

void sm_cli_error(const struct sm_cli *cli, const char *fmt, ...)
{
    (void)cli;
    va_list ap;
    va_start(ap, fmt);
    fputs("samplemind: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int sm_cli_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "samplemind %s - audio-sample intelligence\n"
            "\n"
            "Usage: samplemind [GLOBAL FLAGS] COMMAND [ARGS]\n"
            "\n"
            "Commands:\n",
            SM_VERSION_STRING);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Global flags (before or after the command):\n"
            "  --data-dir DIR   data directory (SAMPLEMIND_DATA_DIR; default\n"
            "                   $XDG_DATA_HOME/samplemind or ~/.local/share/samplemind)\n"
            "  --db URL         catalog (SAMPLEMIND_DB), e.g. sqlite:///path/catalog.db\n"
            "  --cache URL      AI answer cache (SAMPLEMIND_CACHE)\n"
            "  --config FILE    INI configuration file\n"
            "  --json           JSON lines output (the default when stdout is not a terminal)\n"
            "  --quiet          only errors on stderr\n"
            "  --verbose        more detail on stderr\n"
            "  -h, --help       help;  --version  the version\n"
            "\n"
            "Exit status: 0 ok, 1 some inputs failed, 2 usage error.\n"
            "Run 'samplemind help COMMAND' for a command's flags.\n");
}

static int cmd_version(struct sm_cli *cli, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (sm_cli_want_json(cli) && cli->output == SM_OUT_JSON)
        printf("{\"version\":\"%s\",\"analyzer_version\":%d}\n", SM_VERSION_STRING,
               SM_ANALYZER_VERSION);
    else
        printf("samplemind %s (analyzer %d)\n", SM_VERSION_STRING, SM_ANALYZER_VERSION);
    return SM_EXIT_OK;
}

static const struct sm_cli_command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static int cmd_help(struct sm_cli *cli, int argc, char **argv)
{
    if (argc > 1) {
        const struct sm_cli_command *c = find(argv[1]);
        if (!c) {
            sm_cli_error(cli, "no command '%s' (see 'samplemind help')", argv[1]);
            return SM_EXIT_USAGE;
        }
        char *args[] = {argv[1], (char *)"--help", NULL};
        return c->fn(cli, 2, args);
    }
    usage(stdout);
    return SM_EXIT_OK;
}

static void log_to_stderr(sm_log_level level, const char *msg, void *userdata)
{
    (void)userdata;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "samplemind: %s: %s\n", names[level], msg);
}

/* Takes the value of a flag given as "--flag value" or "--flag=value". */
static int take_value(int argc, char **argv, int *i, const char *flag, const char **out)
{
    size_t n = strlen(flag);
    if (!strncmp(argv[*i], flag, n) && argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (strcmp(argv[*i], flag))
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "samplemind: %s needs a value\n", flag);
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

int main(int argc, char **argv)
{
    struct sm_cli cli = {0};
    cli.prog = argv[0];
    cli.stdout_tty = isatty(STDOUT_FILENO);
    cli.data_dir = getenv("SAMPLEMIND_DATA_DIR");
    cli.db = getenv("SAMPLEMIND_DB");
    cli.cache = getenv("SAMPLEMIND_CACHE");

    /* Pull the global flags out wherever they are; keep the rest in order. */
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    if (!rest)
        return SM_EXIT_FAILED;
    int nrest = 0;
    bool want_help = false;
    bool want_version = false;
    bool after_dashdash = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = 0;
        if (after_dashdash || a[0] != '-') {
            rest[nrest++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            after_dashdash = true;
            rest[nrest++] = argv[i];
            continue;
        }
        if ((r = take_value(argc, argv, &i, "--data-dir", &cli.data_dir)) ||
            (r = take_value(argc, argv, &i, "--db", &cli.db)) ||
            (r = take_value(argc, argv, &i, "--cache", &cli.cache)) ||
            (r = take_value(argc, argv, &i, "--config", &cli.config))) {
            if (r < 0) {
                free(rest);
                return SM_EXIT_USAGE;
            }
            continue;
        }
        if (!strcmp(a, "--json"))
            cli.output = SM_OUT_JSON;
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
            cli.quiet = true;
        else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
            cli.verbose = true;
        else if (!strcmp(a, "--version") && nrest == 0)
            want_version = true;
        else if ((!strcmp(a, "--help") || !strcmp(a, "-h")) && nrest == 0)
            want_help = true;
        else
            rest[nrest++] = argv[i];
    }

    sm_log_set_handler(log_to_stderr, NULL);
    sm_log_set_level(cli.quiet ? SM_LOG_ERROR : cli.verbose ? SM_LOG_DEBUG : SM_LOG_WARN);

    int rc;
    if (want_version) {
        rc = cmd_version(&cli, 0, NULL);
    } else if (want_help || nrest == 0) {
        usage(nrest == 0 && !want_help ? stderr : stdout);
        rc = want_help ? SM_EXIT_OK : SM_EXIT_USAGE;
    } else {
        const struct sm_cli_command *c = find(rest[0]);
        if (c) {
            rc = c->fn(&cli, nrest, rest);
        } else {
            const char *best = NULL;
            size_t bestd = 3;
            for (size_t i = 0; i < N_COMMANDS; i++) {
                const char *name = commands[i].name;
                size_t d = sm__edit_distance(rest[0], strlen(rest[0]), name, strlen(name));
                if (d < bestd) {
                    bestd = d;
                    best = commands[i].name;
                }
            }
            if (best)
                sm_cli_error(&cli, "unknown command '%s'; did you mean '%s'?", rest[0], best);
            else
                sm_cli_error(&cli, "unknown command '%s' (see 'samplemind --help')", rest[0]);
            rc = SM_EXIT_USAGE;
        }
    }
    free(rest);
    return rc;
}
