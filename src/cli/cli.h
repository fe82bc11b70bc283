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
int sm_cmd_similar_files(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_serve(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_user(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_apikey(struct sm_cli *cli, int argc, char **argv);

struct sm_srv_config;
struct sm_auth;
/* Server configuration: defaults < INI < environment < global flags < argv flags.
 * Flags that are not options go to \p rest (indexes, -1 ended) or are an error
 * when \p rest is NULL. \return an exit status (0 ok). */
int sm_cli_server_config(struct sm_cli *cli, struct sm_srv_config *cfg, int argc, char **argv,
                         int *rest);
/* Open DATA_DIR/auth.db; NULL with *rc set (and a message printed) on failure. */
struct sm_auth *sm_cli_open_auth(struct sm_cli *cli, int *rc);


/* Catalog commands (cmd_scan.c, cmd_search.c, cmd_similar.c, cmd_duplicates.c,
 * cmd_library.c). The shared helpers live in cmd_library.c. */
struct sm_catalog;
struct sm_sample;
struct sm_sample_list;
struct sm_query;
struct sm_error;
/* Open the catalog of --db / SAMPLEMIND_DB, else DATA_DIR/catalog.db (created, with
 * its folder, when create is true). NULL (and a message printed) on failure. */
struct sm_catalog *sm_cli_open_catalog(struct sm_cli *cli, bool create);
/* Find a sample by id ("42") or by path (made absolute). Returns 0, or prints why not
 * and returns -1. */
int sm_cli_find_sample(struct sm_cli *cli, struct sm_catalog *cat, const char *arg,
                       struct sm_sample *out);
/* argv[0..argc) joined by spaces (free with free()), or NULL when out of memory. */
char *sm_cli_join(int argc, char **argv);
/* Print a query error with a caret line under the bad token. */
void sm_cli_query_error(struct sm_cli *cli, const char *text, const struct sm_query *q,
                        const struct sm_error *err);
/* Print rows as a table, JSON lines, or bare paths (one per line). */
enum sm_cli_rows { SM_ROWS_TABLE = 0, SM_ROWS_JSON, SM_ROWS_PATHS };
void sm_cli_print_rows(const struct sm_sample_list *rows, enum sm_cli_rows how,
                       const char *score_name);
int sm_cmd_scan(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_search(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_similar(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_duplicates(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_tag(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_show(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_stats(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_export(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_errors(struct sm_cli *cli, int argc, char **argv);

/* AI commands (cmd_ai.c, cmd_models.c, cmd_cache.c). The shared helpers live in
 * cmd_ai.c. */
struct sm_cache;
struct sm_ai;
/* The data folder (created with its parents when create is true); 0 or -1 (printed). */
int sm_cli_data_dir(struct sm_cli *cli, char *out, size_t size, bool create);
/* Open the cache of --cache / SAMPLEMIND_CACHE, else DATA_DIR/cache.db. NULL (printed). */
struct sm_cache *sm_cli_open_cache(struct sm_cli *cli);
/* A router with --config / SAMPLEMIND_CONFIG and the environment; cache may be NULL. */
struct sm_ai *sm_cli_open_ai(struct sm_cli *cli, struct sm_cache *cache);
int sm_cmd_ai(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_models(struct sm_cli *cli, int argc, char **argv);
int sm_cmd_cache(struct sm_cli *cli, int argc, char **argv);

#endif
