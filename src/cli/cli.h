/* The samplemind command line: shared state and the command table (internal). */
#ifndef SM_CLI_H
#define SM_CLI_H

#include <stdbool.h>

#include <samplemind/common.h>

/* Exit statuses (DESIGN.md): 0 ok, 1 some inputs failed, 2 usage error. */
enum { SM_EXIT_OK = 0, SM_EXIT_FAILED = 1, SM_EXIT_USAGE = 2 };

enum sm_cli_output { SM_OUT_AUTO = 0, SM_OUT_TABLE, SM_OUT_JSON };

/* Global flags, accepted before or after the command. */
struct sm_cli {
    const char *prog;
    const char *data_dir; /* --data-dir, SAMPLEMIND_DATA_DIR */
    const char *db;       /* --db, SAMPLEMIND_DB */
    const char *cache;    /* --cache, SAMPLEMIND_CACHE */
    const char *config;   /* --config */
    enum sm_cli_output output;
    bool quiet;
    bool verbose;
    bool stdout_tty;
};

/* A command: argv[0] is the command name; global flags are already removed. */
typedef int (*sm_cli_fn)(struct sm_cli *cli, int argc, char **argv);

struct sm_cli_command {
    const char *name;
    sm_cli_fn fn;
    const char *summary;
};

/* True when output should be JSON lines (--json, or stdout is not a terminal). */
bool sm_cli_want_json(const struct sm_cli *cli);
/* Print "samplemind: <message>" on stderr. */
void sm_cli_error(const struct sm_cli *cli, const char *fmt, ...) SM_PRINTF(2, 3);
/* Number of worker threads to use by default (online cores, at least 1). */
int sm_cli_cores(void);

int sm_cmd_analyze(struct sm_cli *cli, int argc, char **argv);

#endif
